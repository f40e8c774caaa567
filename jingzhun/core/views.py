from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jingzhun.policy import services as policy
from jingzhun.regions.models import Region, RegionFlagKind, RegionLevel, regions_flagged
from jingzhun.registry.filters import default_year
from jingzhun.registry.models import Household, HouseholdStatus, HouseholdYear, Member, QualityIssue
from jingzhun.registry.quality import NOT_EXITED


def home(request: HttpRequest) -> HttpResponse:
    """工作台: what lies under the user's scope — regions, households, the latest year's status, and
    the figures behind two charts (exits by year, causes of poverty). Every count is scope-filtered."""
    user = request.user
    prefix = user.scope_prefix or ""
    regions = Region.objects.visible_to(user).current()
    level_counts = {r["level"]: r["n"] for r in regions.values("level").annotate(n=Count("code")).order_by()}
    region_stats = [
        {"label": label, "value": level_counts[level]}
        for level, label in RegionLevel.choices
        if level_counts.get(level)
    ]
    households = Household.objects.visible_to(user).active()
    year = default_year(prefix)
    records = HouseholdYear.objects.visible_to(user).filter(year=year, household__status=HouseholdStatus.ACTIVE)
    not_exited = records.filter(exit_status__in=NOT_EXITED).count()
    household_counts = households.aggregate(total=Count("id"), monitored=Count("id", filter=Q(is_monitored=True)))
    registry_stats = [
        {"label": _("在册户数"), "value": household_counts["total"]},
        {"label": _("在户人数"), "value": Member.objects.visible_to(user).active().count()},
        {"label": _("%(year)s年未脱贫户") % {"year": year}, "value": not_exited},
        {"label": _("监测对象户"), "value": household_counts["monitored"]},
    ]
    issues = QualityIssue.objects.visible_to(user).aggregate(
        errors=Count("id", filter=Q(level="error")), warnings=Count("id", filter=Q(level="warning"))
    )
    exits = list(
        households.exclude(exit_year__isnull=True)
        .values_list("exit_year")
        .annotate(n=Count("id"))
        .order_by("exit_year")
    )
    cause_labels = policy.labels("poverty_cause")
    causes = sorted(
        (
            (cause_labels.get(code, code), n)
            for code, n in records.exclude(main_cause="").values_list("main_cause").annotate(n=Count("id")).order_by()
        ),
        key=lambda pair: -pair[1],
    )
    return render(
        request,
        "core/home.html",
        {
            "region_stats": region_stats,
            "registry_stats": registry_stats,
            "poor_villages_2014": len(regions_flagged(RegionFlagKind.POOR_VILLAGE, 2014, within=prefix)),
            "issues": issues,
            "year": year,
            "charts": {
                "exits": {"years": [str(y) for y, _n in exits], "counts": [n for _y, n in exits]},
                "causes": [{"name": name, "value": n} for name, n in causes],
            },
            "active_nav": "home",
        },
    )
