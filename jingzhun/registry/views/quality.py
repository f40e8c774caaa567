"""数据质量 pages: counts per rule and per village for the user's scope, a village's issue list, and a
重新检查 button that re-runs the batch for one village. Every query goes through ``visible_to``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jingzhun.core import codes
from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import can_see_code, get_visible_or_404, require_write
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.regions.models import Region, RegionLevel
from jingzhun.registry.models import QualityIssue, QualityLevel
from jingzhun.registry.quality.catalogue import CATALOGUE
from jingzhun.registry.quality.rule import ERROR, GROUPS, WARNING
from jingzhun.registry.quality.run import run_quality


def household_url(pk: int) -> str | None:
    """The household file page, if that view is installed (it is written separately)."""
    try:
        return reverse("registry:household_detail", args=[pk])
    except NoReverseMatch:
        return None


def _filters(request: AuthenticatedRequest, issues: QuerySet[QualityIssue]) -> tuple[QuerySet[QualityIssue], str, str]:
    rule = request.GET.get("rule", "")
    level = request.GET.get("level", "")
    if rule:
        issues = issues.filter(rule_code=rule)
    if level in (ERROR, WARNING):
        issues = issues.filter(level=level)
    else:
        level = ""
    return issues, rule, level


def _rule_rows(counts: dict[str, int], *, only_found: bool = False) -> list[dict[str, Any]]:
    group_order = {g: i for i, g in enumerate(GROUPS)}
    rows: list[dict[str, Any]] = [
        {
            "code": rule.code,
            "title": rule.title,
            "group": rule.group,
            "level": rule.level,
            "level_label": QualityLevel(rule.level).label,
            "count": counts.get(rule.code, 0),
        }
        for rule in CATALOGUE.values()
    ]
    # Rows left from rules since removed from the catalogue still show, under their code.
    rows += [
        {"code": code, "title": code, "group": "", "level": "", "level_label": "", "count": n}
        for code, n in counts.items()
        if code not in CATALOGUE
    ]
    rows.sort(key=lambda r: (group_order.get(r["group"], len(GROUPS)), r["code"]))
    return [r for r in rows if r["count"]] if only_found else rows


@requires(Capability.VIEW)
def summary(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    issues = QualityIssue.objects.visible_to(user)
    region = None
    if request.GET.get("region"):
        region = get_visible_or_404(Region.objects.all(), user, code=request.GET["region"])
        issues = issues.in_region(codes.prefix_of(region.code))
    totals = issues.aggregate(
        errors=Count("id", filter=Q(level=ERROR)),
        warnings=Count("id", filter=Q(level=WARNING)),
        households=Count("household", distinct=True),
        last_run=Max("detected_at"),
    )
    counts = dict(issues.values_list("rule_code").annotate(n=Count("id")).order_by())
    filtered, rule, level = _filters(request, issues)
    villages = (
        filtered.values("village_code")
        .annotate(
            errors=Count("id", filter=Q(level=ERROR)),
            warnings=Count("id", filter=Q(level=WARNING)),
            households=Count("household", distinct=True),
        )
        .order_by("village_code")
    )
    page = Paginator(villages, 100).get_page(request.GET.get("page"))
    names = {
        code: (name, parent)
        for code, name, parent in Region.objects.unscoped()
        .filter(code__in=[v["village_code"] for v in page])
        .values_list("code", "name", "parent__name")
    }
    for v in page:
        v["name"], v["township"] = names.get(v["village_code"], (v["village_code"], ""))
    return render(
        request,
        "registry/quality_summary.html",
        {
            "region": region,
            "totals": totals,
            "rules": _rule_rows(counts),
            "page": page,
            "rule": rule,
            "rule_title": CATALOGUE[rule].title if rule in CATALOGUE else rule,
            "level": level,
            "active_nav": "quality",
        },
    )


def _village_or_404(request: AuthenticatedRequest, code: str) -> Region:
    region: Region = get_visible_or_404(Region.objects.all(), request.user, code=code)
    if region.level != RegionLevel.VILLAGE:
        raise Http404
    return region


@requires(Capability.VIEW)
def village(request: AuthenticatedRequest, code: str) -> HttpResponse:
    region = _village_or_404(request, code)
    issues = QualityIssue.objects.visible_to(request.user).filter(village_code=region.code)
    counts = dict(issues.values_list("rule_code").annotate(n=Count("id")).order_by())
    filtered, rule, level = _filters(request, issues)
    filtered = filtered.select_related("household", "member").order_by("household__household_number", "rule_code", "id")
    page = Paginator(filtered, 200).get_page(request.GET.get("page"))
    rows = [{"issue": issue, "url": household_url(issue.household_id)} for issue in page]
    user = request.user
    return render(
        request,
        "registry/quality_village.html",
        {
            "region": region,
            "rows": rows,
            "page": page,
            "rules": _rule_rows(counts, only_found=True),
            "rule": rule,
            "level": level,
            "totals": issues.aggregate(
                errors=Count("id", filter=Q(level=ERROR)),
                warnings=Count("id", filter=Q(level=WARNING)),
                households=Count("household", distinct=True),
                last_run=Max("detected_at"),
            ),
            "can_recheck": user.can_write and can_see_code(user, region.code),
            "active_nav": "quality",
        },
    )


@require_POST
@requires(Capability.EDIT)
def recheck(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """重新检查: run the batch for one village now (a village is small enough to do synchronously)."""
    region = _village_or_404(request, code)
    require_write(request.user, region.code)
    result = run_quality(codes.prefix_of(region.code))
    messages.success(
        request,
        _("已重新检查%(name)s：%(households)d 户，错误 %(errors)d 条，警告 %(warnings)d 条")
        % {"name": region.name, "households": result.households, "errors": result.errors, "warnings": result.warnings},
    )
    return redirect("registry:quality_village", code=region.code)
