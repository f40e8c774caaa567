"""Household list filters and search (户查询).

Everything is a plain indexed lookup or a range on a code column, so a county of 100k households lists in
tens of milliseconds; the one exception is the last-digits ID search (``LIKE '%1234'``), a scan of the
member table limited by the scope's village-code range (measured acceptable at 100k households).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jingzhun.core import codes
from jingzhun.core.formfields import choice_field
from jingzhun.core.scope import code_prefix_q
from jingzhun.policy import services as policy
from jingzhun.regions.models import Region
from jingzhun.registry.idcard import DISABILITY_CATEGORIES, normalize_identifier
from jingzhun.registry.models import HouseholdStatus, HouseholdYear, Member, MemberStatus

if TYPE_CHECKING:
    from django.http import HttpRequest

FIRST_YEAR = 2013  # 建档立卡 began in 2014; 2013 figures were collected as the baseline
MATERIALIZE_LIMIT = 2000
ID_SUFFIX = re.compile(r"^\d{3,5}[\dX]$")  # last 4–6 characters of an ID (the check character may be X)
FULL_ID = re.compile(r"^(\d{17}[\dX]|\d{17}[\dX]\d{2})$")


def year_range() -> list[int]:
    return list(range(dt.date.today().year, FIRST_YEAR - 1, -1))


def requested_year(request_or_raw: HttpRequest | str | int) -> int | None:
    """A year asked for (a request's ?year=, or the raw value) when the records can cover it: FIRST_YEAR to
    next year (filled in ahead). Anything else, missing or not a number, is None."""
    raw = str(request_or_raw) if isinstance(request_or_raw, str | int) else request_or_raw.GET.get("year", "")
    if raw.isascii() and raw.isdigit() and FIRST_YEAR <= int(raw) <= dt.date.today().year + 1:
        return int(raw)
    return None


def default_year(prefix: str = "") -> int:
    """The latest year with yearly records under the region ``prefix`` ('' = anywhere), else last year.

    Scoped, so a village without records of a year some other village has started is not shown an empty
    list. Usually one index lookup for the latest year overall plus one to see the region has it."""
    # The latest year anywhere: a year number, nothing of any region's records.
    latest = HouseholdYear.objects.unscoped().order_by("-year").values_list("year", flat=True).first()
    if latest is None:
        return dt.date.today().year - 1
    records = HouseholdYear.objects.in_region(prefix)
    if not prefix or records.filter(year=latest).exists():
        return latest
    return records.order_by("-year").values_list("year", flat=True).first() or dt.date.today().year - 1


def region_options(user: Any) -> list[tuple[str, Any]]:
    """Choices for the region filter, limited to the user's subtree: the two levels below their scope.

    For a county user: townships as groups, each with "全镇" and its villages. A village user gets none.
    """
    prefix = user.scope_prefix
    if prefix is None:
        return []
    scope_level = codes.level_of(user.scope_region_id) if user.scope_region_id else 0
    if scope_level >= codes.Level.VILLAGE:
        return []
    upper, lower = scope_level + 1, min(scope_level + 2, codes.Level.VILLAGE)
    rows = list(
        Region.objects.in_region(prefix)
        .current()
        .filter(level__in={upper, lower})
        .order_by("code")
        .values_list("code", "name", "level", "parent_id")
    )
    if upper == lower:
        return [("", _("全部")), *[(code, name) for code, name, _lvl, _p in rows]]
    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for code, name, level, parent in rows:
        if level == upper:
            groups[code] = (name, [(code, _("全%(name)s") % {"name": name})])
        elif parent in groups:
            groups[parent][1].append((code, name))
    return [("", _("全部")), *[(name, options) for name, options in groups.values()]]


class HouseholdFilterForm(forms.Form):
    region = forms.CharField(label=_("区域"), required=False)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False)
    exit_status = forms.ChoiceField(label=_("脱贫状态"), required=False)
    attribute = forms.ChoiceField(label=_("贫困户属性"), required=False)
    cause = forms.ChoiceField(label=_("致贫原因"), required=False)
    monitored = forms.ChoiceField(
        label=_("监测对象"), required=False, choices=[("", _("全部")), ("1", _("是")), ("0", _("否"))]
    )
    status = forms.ChoiceField(
        label=_("户状态"),
        required=False,
        choices=[("active", _("在册")), ("cancelled", _("已注销")), ("all", _("全部"))],
    )
    q = forms.CharField(
        label=_("查询"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("姓名 / 证件号码或后4–6位 / 户编号"), "type": "search"}),
    )

    data: MutableMapping[str, Any]  # a copy of the query: from_form() sets the year actually listed

    def __init__(self, data: Any, *, user: Any) -> None:
        data = data.copy() if data is not None else {}
        if not data.get("region") and data.get("village"):
            data["region"] = data["village"]  # other pages link with ?village=<code>
        super().__init__(data)
        self.user = user
        # Rendered by the template as a plain <select> (hundreds of villages: Django's per-option widget
        # templates would cost more than the whole database work of the page).
        self.region_options = region_options(user)
        self.fields["region"].widget = forms.HiddenInput()
        choice_field(self, "year").choices = [(y, str(y)) for y in year_range()]
        choice_field(self, "exit_status").choices = [("", _("全部")), *policy.choices("exit_status", blank=False)]
        choice_field(self, "attribute").choices = [
            ("", _("全部")),
            *policy.choices("household_attribute", blank=False),
        ]
        choice_field(self, "cause").choices = [("", _("全部")), *policy.choices("poverty_cause", blank=False)]

    def region_groups(self) -> list[dict[str, Any]]:
        """The region choices as [{label, options: [(code, name, selected)]}] (label None = no optgroup)."""
        # The filter value is a code prefix (431102101 for a township): compare prefixes, not raw codes.
        current = (getattr(self, "cleaned_data", None) or {}).get("region", "")

        def option(code: str, name: str) -> tuple[str, str, bool]:
            return code, name, bool(code) and codes.prefix_of(code) == current

        groups: list[dict[str, Any]] = []
        for value, label in self.region_options:
            if isinstance(label, list):
                groups.append({"label": value, "options": [option(code, name) for code, name in label]})
            else:
                groups.append({"label": None, "options": [option(value, label)]})
        return groups

    def clean_region(self) -> str:
        raw = (self.cleaned_data.get("region") or "").strip()
        if not raw:
            return ""
        if not raw.isdigit() or len(raw) > codes.GROUP_CODE_LENGTH:
            raise forms.ValidationError(_("区域代码无效"))
        if len(raw) in (codes.CODE_LENGTH, codes.GROUP_CODE_LENGTH):
            try:
                raw = raw if len(raw) == codes.GROUP_CODE_LENGTH else codes.prefix_of(raw)
            except codes.CodeError as exc:
                raise forms.ValidationError(str(exc)) from exc
        scope = self.user.scope_prefix or ""
        if scope.startswith(raw):
            return ""  # wider than (or equal to) the user's scope: the scope itself applies
        if not raw.startswith(scope):
            raise forms.ValidationError(_("所选区域不在您的管辖范围内"))
        return raw


@dataclass
class HouseholdQuery:
    """The cleaned filter values; ``apply`` narrows a visible-households queryset."""

    year: int
    region: str = ""
    exit_status: str = ""
    attribute: str = ""
    cause: str = ""
    monitored: str = ""
    status: str = "active"
    q: str = ""

    @classmethod
    def from_form(cls, form: HouseholdFilterForm) -> HouseholdQuery:
        data = form.cleaned_data if form.is_valid() else {}
        year = data.get("year") or default_year(form.user.scope_prefix or "")
        form.data["year"] = str(year)  # the select shows the year actually listed
        return cls(
            year=year,
            region=data.get("region") or "",
            exit_status=data.get("exit_status") or "",
            attribute=data.get("attribute") or "",
            cause=data.get("cause") or "",
            monitored=data.get("monitored") or "",
            status=data.get("status") or "active",
            q=(data.get("q") or "").strip(),
        )

    def apply(self, qs: QuerySet, scope_prefix: str) -> QuerySet:
        if self.status != "all":
            qs = qs.filter(status=self.status or HouseholdStatus.ACTIVE)
        member_prefix = scope_prefix
        if len(self.region) == codes.GROUP_CODE_LENGTH:
            qs = qs.filter(group_id=self.region)
            member_prefix = self.region[: codes.CODE_LENGTH]
        elif self.region:
            qs = qs.filter(code_prefix_q("village_id", self.region))
            member_prefix = self.region
        if self.monitored in ("0", "1"):
            qs = qs.filter(is_monitored=self.monitored == "1")
        # One filter() call so every condition applies to the same joined year row (one row per year).
        year_q = Q()
        if self.exit_status:
            year_q &= Q(years__exit_status=self.exit_status)
        if self.attribute:
            year_q &= Q(years__attribute=self.attribute)
        if self.cause:
            year_q &= (
                Q(years__main_cause=self.cause)
                | Q(years__other_cause_1=self.cause)
                | Q(years__other_cause_2=self.cause)
            )
        if year_q:
            qs = qs.filter(Q(years__year=self.year) & year_q)
        if self.q:
            qs = qs.filter(search_q(self.q, member_prefix))
        return qs


def id_variants(number: str) -> list[str]:
    """The stored forms of one person's number: the 18-digit ID and each 20-digit 残疾人证号 built on it.

    An exact ``IN`` list keeps the lookup on the index (a prefix LIKE would not be, and 'X' rules out a range).
    """
    base = number[:18]
    return [base] + [base + c + g for c in DISABILITY_CATEGORIES for g in "1234"]


def _households_of(members: QuerySet) -> Q:
    """Households of the matching members. Resolved once here (few rows) so the COUNT and the page query
    do not both repeat the member scan; a very common name falls back to a subquery."""
    ids = list(members.order_by().values_list("household_id", flat=True).distinct()[: MATERIALIZE_LIMIT + 1])
    if len(ids) > MATERIALIZE_LIMIT:
        return Q(pk__in=members.values("household_id"))
    return Q(pk__in=ids)


def search_q(text: str, member_prefix: str = "") -> Q:
    """Name (any active member, contains), full ID, last 4–6 characters of an ID, or 户编号 (leading digits)."""
    text = normalize_identifier(text)
    if not text:
        return Q()
    members = Member.objects.in_region(member_prefix).filter(status=MemberStatus.ACTIVE)
    if ID_SUFFIX.match(text) and 4 <= len(text) <= 6:
        return _households_of(members.filter(id_number__endswith=text))
    if FULL_ID.match(text):
        return _households_of(members.filter(id_number__in=id_variants(text))) | Q(household_number=text)
    if text.isdigit():
        # 户编号 are digit strings: a range on the unique index, never LIKE.
        return code_prefix_q("household_number", text)
    return _households_of(members.filter(name__contains=text))
