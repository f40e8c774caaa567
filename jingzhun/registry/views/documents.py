"""Archive documents: 明白卡 and 人有卡 (HTML for printing, and PDF), 村有簿 and 乡有册 (XLSX).

Every object is looked up through the user's scope, so a card or register outside it is a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import get_visible_or_404
from jingzhun.core.tabular import xlsx_response
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.regions.models import Region, RegionLevel
from jingzhun.registry import documents
from jingzhun.registry.filters import default_year, requested_year, year_range


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    disposition = content_disposition_header(False, filename)
    assert disposition is not None  # None only for an empty file name
    response["Content-Disposition"] = disposition
    return response


@requires(Capability.VIEW)
def household_card(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = get_visible_or_404(documents.card_queryset(), request.user, pk=pk)
    card = documents.build_household_card(household)
    return render(
        request,
        "registry/card_household.html",
        {
            "card": card,
            "household_url": reverse("registry:household_detail", args=[household.pk]),
            "active_nav": "households",
        },
    )


@requires(Capability.VIEW)
def household_card_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = get_visible_or_404(documents.card_queryset(), request.user, pk=pk)
    card = documents.build_household_card(household)
    return _pdf_response(documents.household_card_pdf(card), f"明白卡-{card.household_number}.pdf")


@requires(Capability.VIEW)
def member_card(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(documents.member_card_queryset(), request.user, pk=pk)
    card = documents.build_member_card(member)
    return render(
        request,
        "registry/card_member.html",
        {
            "card": card,
            "household_card_url": reverse("registry:household_card", args=[card.household_id]),
            "active_nav": "households",
        },
    )


@requires(Capability.VIEW)
def member_card_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(documents.member_card_queryset(), request.user, pk=pk)
    card = documents.build_member_card(member)
    return _pdf_response(documents.member_card_pdf(card), f"人有卡-{card.household_number}-{card.name}.pdf")


def _register_year(request: AuthenticatedRequest, region: Region) -> int:
    return requested_year(request) or default_year(region.prefix)


@requires(Capability.VIEW)
def village_register(request: AuthenticatedRequest, code: str) -> FileResponse:
    """村有簿 of one village for a year (?year=)."""
    village = get_visible_or_404(Region.objects.filter(level=RegionLevel.VILLAGE), request.user, code=code)
    year = _register_year(request, village)
    return xlsx_response(
        lambda out: documents.write_village_register(village, year, out),
        f"{village.name}村有簿-{year}.xlsx",
    )


@requires(Capability.VIEW)
def township_register(request: AuthenticatedRequest, code: str) -> FileResponse:
    """乡有册 of one township for a year (?year=)."""
    township = get_visible_or_404(Region.objects.filter(level=RegionLevel.TOWNSHIP), request.user, code=code)
    year = _register_year(request, township)
    return xlsx_response(
        lambda out: documents.write_township_register(township, year, out),
        f"{township.name}乡有册-{year}.xlsx",
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
