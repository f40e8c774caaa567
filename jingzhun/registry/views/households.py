"""Household pages (户有档): the list and one household's file.

Every read goes through ``visible_to`` / ``get_visible_or_404``: other villages' households do not exist for
the user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jingzhun.core.access import Capability, requires
from jingzhun.core.codes import Level
from jingzhun.core.privacy import Disclosure
from jingzhun.core.scope import get_visible_or_404
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS, StrOrPromise
from jingzhun.regions.models import Region
from jingzhun.registry.filters import HouseholdFilterForm, HouseholdQuery, year_range
from jingzhun.registry.forms import HOUSEHOLD_SECTIONS, HouseholdYearForm
from jingzhun.registry.idcard import age_on
from jingzhun.registry.models import (
    CODE_FIELDS,
    HEAD_RELATIONSHIP,
    Household,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberStatus,
)
from jingzhun.registry.templatetags.household_tags import area, flag, money
from jingzhun.registry.views.common import (
    HOUSEHOLD_PERSONAL_DATA,
    MEMBER_PERSONAL_DATA,
    NAV,
    disclosure_context,
    page_disclosure,
    personal_data_page,
    today,
    verbose_name,
    with_other_visibility,
)

PAGE_SIZE = 50


@requires(Capability.VIEW)
def household_list(request: AuthenticatedRequest) -> HttpResponse:
    """建档立卡户 list: scope-limited, filtered on the chosen year's record, 50 a page, no N+1."""
    user = request.user
    form = HouseholdFilterForm(request.GET, user=user)
    query = HouseholdQuery.from_form(form)
    qs = (
        query.apply(Household.objects.visible_to(user), user.scope_prefix or "")
        .select_related("village", "group")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Member.objects.unscoped()
                .filter(status=MemberStatus.ACTIVE)
                .order_by("relationship", "birth_date"),
                to_attr="active_list",
            ),
            Prefetch("years", queryset=HouseholdYear.objects.unscoped().filter(year=query.year), to_attr="year_list"),
        )
        # Village first: the (village, household_number) index then yields the page without a sort.
        .order_by("village_id", "household_number")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for h in rows:
        h.head_member = next((m for m in h.active_list if m.relationship == HEAD_RELATIONSHIP), None)
        h.record = h.year_list[0] if h.year_list else None
    return render(
        request,
        "registry/household_list.html",
        {"form": form, "query": query, "page": page, "rows": rows, "active_nav": NAV, "can_write": user.can_write},
    )


@require_GET
@requires(Capability.VIEW)
def group_options(request: AuthenticatedRequest) -> HttpResponse:
    """HTMX fragment: the 村民小组 of a village, for the household form's group select."""
    village = request.GET.get("village", "")
    groups = Region.objects.visible_to(request.user).filter(level=Level.GROUP, parent_id=village).order_by("code")
    return render(request, "registry/_group_options.html", {"groups": groups})


# ----------------------------------------------------------------------------------------- file (户有档)


@dataclass
class YearRow:
    label: StrOrPromise
    cells: list[str]
    kind: str = ""  # "money", "total", "flag"


def _year_rows(years: list[HouseholdYear]) -> list[YearRow]:
    """The yearly table transposed: one row per item, one column per year (reads like the paper ledger)."""
    rows = [
        YearRow(_("脱贫状态"), [y.label("exit_status") for y in years]),
        YearRow(_("贫困户属性"), [y.label("attribute") for y in years]),
        YearRow(_("主要致贫原因"), [y.label("main_cause") or "—" for y in years]),
        YearRow(
            _("其他致贫原因"),
            ["、".join(x for x in (y.label("other_cause_1"), y.label("other_cause_2")) if x) or "—" for y in years],
        ),
        YearRow(_("家庭人口数"), [str(y.member_count) for y in years], "money"),
    ]
    rows += [YearRow(label, [money(getattr(y, key)) for y in years], "money") for key, label in INCOME_ITEMS]
    rows += [YearRow(label, [money(getattr(y, key)) for y in years], "money") for key, label in DEDUCTION_ITEMS]
    rows += [
        YearRow(_("家庭纯收入"), [money(y.net_income) for y in years], "total"),
        YearRow(_("家庭年人均纯收入"), [money(y.per_capita_net_income) for y in years], "total"),
    ]
    for key in HouseholdYearForm.guarantee_fields:
        rows.append(YearRow(verbose_name(HouseholdYear, key), [flag(getattr(y, key)) for y in years], "flag"))
    return rows


# The file page shows the form's sections; number, village and group are in its heading already.
IDENTITY_FIELDS = tuple(n for n in HOUSEHOLD_SECTIONS[0][1] if n not in ("household_number", "village", "group"))
PRODUCTION_FIELDS = HOUSEHOLD_SECTIONS[1][1]
LIVING_FIELDS = HOUSEHOLD_SECTIONS[2][1]
PROTECTION_FIELDS = HOUSEHOLD_SECTIONS[3][1]


def _display(obj: Any, name: str, disclosure: Disclosure) -> str:
    """A field's value as shown on the file page: code labels, 是/否, trimmed numbers, — for empty;
    personal data as ``disclosure`` shows it."""
    value = getattr(obj, name)
    if name in CODE_FIELDS:
        return obj.label(name) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, Decimal):
        return area(value)
    return str(disclosure.field(name, value))


def _facts(obj: Household, names: Iterable[str], disclosure: Disclosure) -> list[tuple[str, str]]:
    return [(verbose_name(Household, n), _display(obj, n, disclosure)) for n in names]


@personal_data_page
def household_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """户有档: everything about one household on one page, in a fixed number of queries (a POST shows
    its personal data in full, logged)."""
    user = request.user
    # The members are prefetched: Household.head then picks from them instead of asking again.
    files = Household.objects.select_related("village__parent", "group").prefetch_related(
        Prefetch("members", queryset=Member.objects.unscoped().order_by("relationship", "birth_date", "pk"))
    )
    household: Household = get_visible_or_404(files, user, pk=pk)
    members = list(household.members.all())
    active = [m for m in members if m.status == MemberStatus.ACTIVE]
    removed = sorted(
        (m for m in members if m.status != MemberStatus.ACTIVE),
        key=lambda m: (m.removal_date or dt.date.min, m.pk),
        reverse=True,
    )
    years = list(household.years.order_by("year"))
    changes = with_other_visibility(
        list(household.changes.select_related("member", "other_household").order_by("-date", "-id")), user
    )
    issues = list(household.quality_issues.select_related("member").order_by("level", "rule_code"))
    on = today()
    for m in members:
        m.age = None if m.birth_date is None else age_on(m.birth_date, on)  # type: ignore[attr-defined]
    disclosure = page_disclosure(
        request, "户有档", [(household, HOUSEHOLD_PERSONAL_DATA), *((m, MEMBER_PERSONAL_DATA) for m in members)]
    )
    have = {r.year for r in years}
    missing_years = [y for y in year_range() if y not in have]
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "head": household.head,
            "identity": _facts(household, IDENTITY_FIELDS, disclosure),
            "production": _facts(household, PRODUCTION_FIELDS, disclosure),
            "living": _facts(household, LIVING_FIELDS, disclosure),
            "protection": _facts(household, PROTECTION_FIELDS, disclosure),
            "active_members": active,
            "removed_members": removed,
            "years": years,
            "year_rows": _year_rows(years[::-1]),  # newest first: the current year is what cadres work on
            "latest": years[-1] if years else None,
            "changes": changes,
            "issues": issues,
            "can_edit": user.can_write and household.status == HouseholdStatus.ACTIVE,
            "new_year_choices": missing_years,
            "active_nav": NAV,
            **disclosure_context(request, disclosure),
        },
    )
