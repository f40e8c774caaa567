"""村情: a village's yearly record (domain §2.5) beside the figures derived from its household files.

Counts that the households can give are derived here, never trusted from the typed record; the page shows
both and highlights a mismatch. Village figures cover every household of the village while the registry
holds registered ones, so most typed counts only have to be at least the derived count; 建档立卡户数/人数
must be equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import can_see_code, get_visible_or_404, require_write
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.policy import services as policy
from jingzhun.regions.models import Region, RegionFlagKind, RegionLevel
from jingzhun.registry.documents import poor_village_status
from jingzhun.registry.filters import default_year, requested_year
from jingzhun.registry.models import Household, HouseholdStatus, HouseholdYear, Member, VillageYear
from jingzhun.registry.versions import StaleEdit, VersionedForm, versioned
from jingzhun.registry.views.common import verbose_name

HAN = "01"  # 民族 code of 汉族 (GB/T 3304); 02–56 are the minority groups
MINORITY_CODES = ("02", "56")
NO_DIBAO = ("", "0")  # 享受低保政策情况: blank or 未享受

EQ, GTE = "eq", "gte"
YEAR_BASIS, CURRENT_BASIS = "year", "current"

# How the VillageYear fields are grouped on the page and in the form (the parts of the 贫困村登记表).
SECTIONS: list[tuple[Any, list[str]]] = [
    (gettext_lazy("基本情况"), ["is_minority_village", "natural_villages"]),
    (
        gettext_lazy("人口"),
        [
            "total_households",
            "total_population",
            "minority_population",
            "labour_force",
            "migrant_workers",
            "registered_households",
            "registered_population",
            "dibao_households",
        ],
    ),
    (gettext_lazy("经济发展"), ["collective_income_wan", "per_capita_income", "cultivated_land_mu"]),
    (
        gettext_lazy("基础设施和公共服务"),
        [
            "road_to_township_paved",
            "has_bus_service",
            "primary_schools",
            "clinics",
            "doctors",
            "public_toilets",
            "garbage_points",
            "libraries",
            "households_without_safe_water",
            "dangerous_house_households",
        ],
    ),
    (gettext_lazy("帮扶情况"), ["assisting_unit", "work_team", "first_secretary"]),
]
NOT_EDITABLE = {"id", "village", "year", "updated_at"}


def _sections() -> list[tuple[Any, list[str]]]:
    """SECTIONS plus any field added to the model later, so nothing typed is ever hidden."""
    listed = {name for _title, names in SECTIONS for name in names}
    rest = [
        f.name
        for f in VillageYear._meta.concrete_fields
        if f.name not in listed and f.name not in NOT_EDITABLE and f.editable
    ]
    return SECTIONS + ([(gettext_lazy("其他"), rest)] if rest else [])


@dataclass(frozen=True)
class DerivedFigures:
    year: int
    households: int  # active households in the registry now
    population: int  # their active members
    minority_population: int
    dibao_households: int
    cultivated_land_mu: Decimal
    registered_households: int  # households with a record for the year
    registered_population: int
    unsafe_housing: int  # 住房安全无保障 in the year's record
    unsafe_water: int  # 饮水安全无保障 in the year's record
    by_exit_status: list[tuple[str, int, int]]  # (code, households, people) in the year
    latest_record_year: int | None


def derive_village_figures(code: str, year: int) -> DerivedFigures:
    """What the household files say about village ``code`` (five aggregate queries, no per-row work)."""
    households = Household.objects.in_region(code).active()
    hh = households.aggregate(
        n=Count("pk"),
        dibao=Count("pk", filter=~Q(dibao_status__in=NO_DIBAO)),
        paddy=Sum("paddy_land_mu"),
        dry=Sum("dry_land_mu"),
    )
    people = (
        Member.objects.in_region(code)
        .active()
        .filter(household__status=HouseholdStatus.ACTIVE)
        .aggregate(
            n=Count("pk"),
            minority=Count("pk", filter=Q(ethnicity__gte=MINORITY_CODES[0], ethnicity__lte=MINORITY_CODES[1])),
        )
    )
    records = HouseholdYear.objects.in_region(code).filter(household__status=HouseholdStatus.ACTIVE)
    latest = records.order_by("-year").values_list("year", flat=True).first()
    of_year = records.filter(year=year)
    yr = of_year.aggregate(
        n=Count("pk"),
        people=Sum("member_count"),
        housing=Count("pk", filter=Q(housing_secure=False)),
        water=Count("pk", filter=Q(water_secure=False)),
    )
    by_status = list(
        of_year.values_list("exit_status").annotate(n=Count("pk"), p=Sum("member_count")).order_by("exit_status")
    )
    return DerivedFigures(
        year=year,
        households=hh["n"],
        population=people["n"],
        minority_population=people["minority"],
        dibao_households=hh["dibao"],
        cultivated_land_mu=((hh["paddy"] or Decimal("0")) + (hh["dry"] or Decimal("0"))).quantize(Decimal("0.01")),
        registered_households=yr["n"],
        registered_population=yr["people"] or 0,
        unsafe_housing=yr["housing"],
        unsafe_water=yr["water"],
        by_exit_status=[(code or "", n, p or 0) for code, n, p in by_status],
        latest_record_year=latest,
    )


@dataclass(frozen=True)
class Comparison:
    field: str
    label: str
    typed: Any
    derived: Any
    rule: str  # EQ: must be equal; GTE: typed must be at least the derived figure
    basis: str  # YEAR: from the year's household records; CURRENT: from the household files as they are now
    compared: bool  # CURRENT figures are only compared with the latest year

    @property
    def status(self) -> str:
        if self.typed is None:
            return "missing"
        if not self.compared:
            return "skipped"
        ok = self.typed == self.derived if self.rule == EQ else self.typed >= self.derived
        return "ok" if ok else "mismatch"

    @property
    def mismatch(self) -> bool:
        return self.status == "mismatch"

    @property
    def rule_text(self) -> str:
        return _("应相等") if self.rule == EQ else _("填报数应不少于推算数")

    @property
    def basis_text(self) -> str:
        return _("当年户年度记录") if self.basis == YEAR_BASIS else _("当前户档案")


# (VillageYear field, label, DerivedFigures attribute, rule, basis)
COMPARED: list[tuple[str, Any, str, str, str]] = [
    ("total_households", gettext_lazy("总户数"), "households", GTE, CURRENT_BASIS),
    ("total_population", gettext_lazy("总人口数"), "population", GTE, CURRENT_BASIS),
    ("minority_population", gettext_lazy("少数民族人口"), "minority_population", GTE, CURRENT_BASIS),
    ("registered_households", gettext_lazy("建档立卡户数"), "registered_households", EQ, YEAR_BASIS),
    ("registered_population", gettext_lazy("建档立卡人数"), "registered_population", EQ, YEAR_BASIS),
    ("dibao_households", gettext_lazy("低保户数"), "dibao_households", GTE, CURRENT_BASIS),
    ("dangerous_house_households", gettext_lazy("危房户数"), "unsafe_housing", GTE, YEAR_BASIS),
    ("households_without_safe_water", gettext_lazy("未实现饮水安全户数"), "unsafe_water", GTE, YEAR_BASIS),
    ("cultivated_land_mu", gettext_lazy("耕地面积（亩）"), "cultivated_land_mu", GTE, CURRENT_BASIS),
]


def compare_figures(record: VillageYear | None, derived: DerivedFigures) -> list[Comparison]:
    """Typed beside derived. Household files hold today's state, so CURRENT figures are compared only when
    the chosen year is the latest year with household records (an old year's 总户数 is not today's)."""
    current_applies = derived.latest_record_year is None or derived.year >= derived.latest_record_year
    return [
        Comparison(
            field=name,
            label=str(label),
            typed=getattr(record, name) if record is not None else None,
            derived=getattr(derived, attr),
            rule=rule,
            basis=basis,
            compared=basis == YEAR_BASIS or current_applies,
        )
        for name, label, attr, rule, basis in COMPARED
    ]


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def typed_sections(record: VillageYear) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The typed record as (section title, [(field name, label, shown value)])."""
    return [
        (str(title), [(n, verbose_name(VillageYear, n), _display(getattr(record, n))) for n in names])
        for title, names in _sections()
    ]


def _flag_timeline(region: Region, year: int) -> dict[str, Any]:
    flags = list(region.flags.order_by("year", "flag"))
    in_force: dict[str, bool] = {}
    for f in flags:
        if f.year <= year:
            in_force[f.flag] = f.value
    labels = dict(RegionFlagKind.choices)
    poor = [(f.year, f.value) for f in flags if f.flag == RegionFlagKind.POOR_VILLAGE]
    return {
        "flags": flags,
        "is_poor_village": in_force.get(RegionFlagKind.POOR_VILLAGE, False),
        "flags_in_force": [str(labels.get(k, k)) for k, v in sorted(in_force.items()) if v],
        "poverty_status": poor_village_status(poor, year),
    }


def _household_list_url(code: str) -> str | None:
    """The household list filtered by village (written by the household pages; absent until they exist)."""
    try:
        return reverse("registry:household_list") + f"?village={code}"
    except NoReverseMatch:
        return None


def _village_or_404(request: AuthenticatedRequest, code: str) -> Region:
    village: Region = get_visible_or_404(Region.objects.filter(level=RegionLevel.VILLAGE), request.user, code=code)
    return village


def _year_choices(code: str, chosen: int) -> list[int]:
    years = set(VillageYear.objects.in_region(code).values_list("year", flat=True))
    years |= set(HouseholdYear.objects.in_region(code).values_list("year", flat=True).distinct())
    years.add(chosen)
    return sorted(years, reverse=True)


@requires(Capability.VIEW)
def village_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    village = _village_or_404(request, code)
    year = requested_year(request)
    if year is None:
        latest = VillageYear.objects.in_region(village.code).order_by("-year").values_list("year", flat=True).first()
        year = latest or default_year(village.prefix)
    record = VillageYear.objects.in_region(village.code).filter(year=year).first()
    derived = derive_village_figures(village.code, year)
    comparisons = compare_figures(record, derived)
    status_labels = policy.labels("exit_status")
    township_code = village.parent_id or ""
    context = {
        "village": village,
        "year": year,
        "years": _year_choices(village.code, year),
        "record": record,
        "sections": typed_sections(record) if record else [],
        "derived": derived,
        "comparisons": comparisons,
        "mismatches": sum(1 for c in comparisons if c.mismatch),
        "by_exit_status": [(status_labels.get(c, c) or _("未填"), n, p) for c, n, p in derived.by_exit_status],
        "can_edit": request.user.can_write,
        "household_list_url": _household_list_url(village.code),
        "township_code": township_code if township_code and can_see_code(request.user, township_code) else "",
        "breadcrumb": village.breadcrumb(request.user),
        "active_nav": "regions",
        **_flag_timeline(village, year),
    }
    return render(request, "registry/village_detail.html", context)


class VillageYearForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = VillageYear
        fields = [name for _title, names in _sections() for name in names]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # Parts cannot exceed their whole within the typed record itself.
        pairs = [
            ("registered_households", "total_households"),
            ("dibao_households", "total_households"),
            ("dangerous_house_households", "total_households"),
            ("households_without_safe_water", "total_households"),
            ("registered_population", "total_population"),
            ("minority_population", "total_population"),
            ("labour_force", "total_population"),
            ("migrant_workers", "total_population"),
        ]
        for part, whole in pairs:
            p, w = data.get(part), data.get(whole)
            if p is not None and w is not None and p > w:
                self.add_error(
                    part,
                    _("%(part)s不能大于%(whole)s（%(value)s）")
                    % {
                        "part": self._meta.model._meta.get_field(part).verbose_name,
                        "whole": self._meta.model._meta.get_field(whole).verbose_name,
                        "value": w,
                    },
                )
        return data

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(str(title), [self[n] for n in names if n in self.fields]) for title, names in _sections()]


@requires(Capability.EDIT)
def village_year_edit(request: AuthenticatedRequest, code: str, year: int) -> HttpResponse:
    """Create or edit one year's 村情 (writes are audited by AuditedModel with the request's actor)."""
    village = _village_or_404(request, code)
    require_write(request.user, village.code)
    if requested_year(year) is None:
        raise Http404
    record = VillageYear.objects.in_region(village.code).filter(year=year).first() or VillageYear(
        village=village, year=year
    )
    form = VillageYearForm(request.POST or None, instance=record)
    derived = derive_village_figures(village.code, year)
    for name, _label, attr, _rule, _basis in COMPARED:
        if name in form.fields:
            form.fields[name].help_text = _("户档案推算：%(value)s") % {"value": getattr(derived, attr)}
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                versioned(form, form.save)()
        except StaleEdit as exc:  # changed by someone else since the page was opened: nothing written
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("已保存%(year)s年村情") % {"year": year})
            return redirect(reverse("registry:village_detail", args=[village.code]) + f"?year={year}")
    return render(
        request,
        "registry/village_year_edit.html",
        {
            "village": village,
            "year": year,
            "form": form,
            "is_new": record.pk is None,
            "breadcrumb": village.breadcrumb(request.user),
            "active_nav": "regions",
        },
    )
