from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jingzhun.regions.models import Region, RegionFlagKind, RegionLevel, regions_flagged


def home(request: HttpRequest) -> HttpResponse:
    """Landing page: the user's scope and how many regions of each level lie under it."""
    user = request.user
    regions = Region.objects.visible_to(user).current()
    counts = {row["level"]: row["n"] for row in regions.values("level").annotate(n=Count("code")).order_by()}
    stats = [{"label": label, "value": counts[level]} for level, label in RegionLevel.choices if counts.get(level)]
    prefix = user.scope_prefix or ""
    poor_villages = len(regions_flagged(RegionFlagKind.POOR_VILLAGE, 2014, within=prefix))
    return render(
        request,
        "core/home.html",
        {"stats": stats, "poor_villages_2014": poor_villages, "active_nav": "home"},
    )
