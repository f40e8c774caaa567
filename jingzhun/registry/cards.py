"""The registry's blocks on the home page (工作台): household figures and two charts, all scope-filtered."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from jingzhun.core.types import AuthenticatedRequest
from jingzhun.policy import services as policy
from jingzhun.registry.filters import default_year
from jingzhun.registry.models import Household, HouseholdStatus, HouseholdYear, Member, QualityIssue
from jingzhun.registry.quality import NOT_EXITED


def _latest_records(user: Any) -> tuple[int, Any]:
    year = default_year(user.scope_prefix or "")
    records = HouseholdYear.objects.visible_to(user).filter(year=year, household__status=HouseholdStatus.ACTIVE)
    return year, records


def household_figures(request: AuthenticatedRequest) -> dict[str, Any]:
    """在册户数, 在户人数, the latest year's 未脱贫户, 监测对象户 and the open data-quality findings."""
    user = request.user
    year, records = _latest_records(user)
    counts = (
        Household.objects.visible_to(user)
        .active()
        .aggregate(total=Count("id"), monitored=Count("id", filter=Q(is_monitored=True)))
    )
    issues = QualityIssue.objects.visible_to(user).aggregate(
        errors=Count("id", filter=Q(level="error")), warnings=Count("id", filter=Q(level="warning"))
    )
    return {
        "stats": [
            {"label": _("在册户数"), "value": counts["total"]},
            {"label": _("在户人数"), "value": Member.objects.visible_to(user).active().count()},
            {
                "label": _("%(year)s年未脱贫户") % {"year": year},
                "value": records.filter(exit_status__in=NOT_EXITED).count(),
            },
            {"label": _("监测对象户"), "value": counts["monitored"]},
        ],
        "issues": issues,
    }


def household_charts(request: AuthenticatedRequest) -> dict[str, Any]:
    """历年脱贫户数 and the latest year's 主要致贫原因."""
    user = request.user
    year, records = _latest_records(user)
    exits = list(
        Household.objects.visible_to(user)
        .active()
        .exclude(exit_year__isnull=True)
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
    return {
        "year": year,
        "charts": {
            "exits": {"years": [str(y) for y, _n in exits], "counts": [n for _y, n in exits]},
            "causes": [{"name": name, "value": n} for name, n in causes],
        },
    }
