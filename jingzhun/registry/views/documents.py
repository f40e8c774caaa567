"""Archive documents: 明白卡 and 人有卡 (HTML for printing, and PDF), 村有簿 and 乡有册 (XLSX).

Every object is looked up through the user's scope, so a card or register outside it is a 404. Personal data
is masked on the card pages until revealed (logged), and in downloads for roles that may not see it in full;
every download is logged (audit.access).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from jingzhun.audit.access import record_access
from jingzhun.audit.models import Action
from jingzhun.core import privacy
from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import get_visible_or_404
from jingzhun.core.tabular import xlsx_response
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.regions.models import Region, RegionLevel
from jingzhun.registry import documents
from jingzhun.registry.filters import default_year, requested_year, year_range
from jingzhun.registry.models import Household, Member
from jingzhun.registry.views.common import (
    HOUSEHOLD_PERSONAL_DATA,
    MEMBER_PERSONAL_DATA,
    disclosure_context,
    page_disclosure,
    personal_data_page,
)


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    disposition = content_disposition_header(False, filename)
    assert disposition is not None  # None only for an empty file name
    response["Content-Disposition"] = disposition
    return response


def _card_members(household: Household) -> list[Member]:
    return list(getattr(household, "card_members", []))  # prefetched by card_queryset()


@personal_data_page
def household_card(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = get_visible_or_404(documents.card_queryset(), request.user, pk=pk)
    disclosure = page_disclosure(
        request,
        "明白卡",
        [(household, HOUSEHOLD_PERSONAL_DATA), *((m, MEMBER_PERSONAL_DATA) for m in _card_members(household))],
    )
    card = documents.build_household_card(household, disclosure=disclosure)
    return render(
        request,
        "registry/card_household.html",
        {
            "card": card,
            "household_url": reverse("registry:household_detail", args=[household.pk]),
            "active_nav": "households",
            **disclosure_context(request, disclosure),
        },
    )


@requires(Capability.VIEW)
def household_card_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = get_visible_or_404(documents.card_queryset(), request.user, pk=pk)
    disclosure = privacy.for_download(request.user)
    card = documents.build_household_card(household, disclosure=disclosure)
    record_access(
        Action.EXPORT, household, what="明白卡 PDF", rows=len(card.members), personal_data=disclosure.description
    )
    return _pdf_response(documents.household_card_pdf(card), f"明白卡-{card.household_number}.pdf")


@personal_data_page
def member_card(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(documents.member_card_queryset(), request.user, pk=pk)
    disclosure = page_disclosure(request, "人有卡", [(member, MEMBER_PERSONAL_DATA)])
    card = documents.build_member_card(member, disclosure=disclosure)
    return render(
        request,
        "registry/card_member.html",
        {
            "card": card,
            "household_card_url": reverse("registry:household_card", args=[card.household_id]),
            "active_nav": "households",
            **disclosure_context(request, disclosure),
        },
    )


@requires(Capability.VIEW)
def member_card_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(documents.member_card_queryset(), request.user, pk=pk)
    disclosure = privacy.for_download(request.user)
    card = documents.build_member_card(member, disclosure=disclosure)
    record_access(Action.EXPORT, member, what="人有卡 PDF", rows=1, personal_data=disclosure.description)
    return _pdf_response(documents.member_card_pdf(card), f"人有卡-{card.household_number}-{card.name}.pdf")


def _register_year(request: AuthenticatedRequest, region: Region) -> int:
    return requested_year(request) or default_year(region.prefix)


RegisterWriter = Callable[[IO[bytes], privacy.Disclosure], documents.RegisterCounts]


def _register_download(
    request: AuthenticatedRequest, region: Region, title: str, write: RegisterWriter
) -> FileResponse:
    """The register ``write`` makes, with personal data as the user may download it, and its audit entry."""
    disclosure = privacy.for_download(request.user)
    written: list[documents.RegisterCounts] = []
    response = xlsx_response(lambda out: written.append(write(out, disclosure)), f"{region.name}{title}.xlsx")
    households, members = written[0]
    what = f"{title}：{households} 户" + (f"、{members} 人" if members else "")
    record_access(Action.EXPORT, region, what=what, rows=households + members, personal_data=disclosure.description)
    return response


@requires(Capability.VIEW)
def village_register(request: AuthenticatedRequest, code: str) -> FileResponse:
    """村有簿 of one village for a year (?year=)."""
    village = get_visible_or_404(Region.objects.filter(level=RegionLevel.VILLAGE), request.user, code=code)
    year = _register_year(request, village)
    return _register_download(
        request,
        village,
        f"村有簿-{year}",
        lambda out, disclosure: documents.write_village_register(village, year, out, disclosure=disclosure),
    )


@requires(Capability.VIEW)
def township_register(request: AuthenticatedRequest, code: str) -> FileResponse:
    """乡有册 of one township for a year (?year=)."""
    township = get_visible_or_404(Region.objects.filter(level=RegionLevel.TOWNSHIP), request.user, code=code)
    year = _register_year(request, township)
    return _register_download(
        request,
        township,
        f"乡有册-{year}",
        lambda out, disclosure: documents.write_township_register(township, year, out, disclosure=disclosure),
    )


@requires(Capability.VIEW)
def registers(request: AuthenticatedRequest) -> HttpResponse:
    """The registers the user may download: each township and village in their scope."""
    regions = list(
        Region.objects.current()
        .visible_to(request.user)
        .filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
        .order_by("code")
    )
    townships: dict[str, dict[str, Any]] = {}
    for r in regions:
        if r.level == RegionLevel.TOWNSHIP:
            townships[r.code] = {"region": r, "villages": []}
    orphans: list[Region] = []  # a village user sees their village without its township
    for r in regions:
        if r.level == RegionLevel.VILLAGE:
            entry = townships.get(r.parent_id or "")
            (entry["villages"] if entry else orphans).append(r)
    return render(
        request,
        "registry/village_registers.html",
        {
            "townships": list(townships.values()),
            "orphans": orphans,
            "year": requested_year(request),
            "years": year_range(),
            "title": _("档案名册"),
            "active_nav": "registers",
        },
    )
