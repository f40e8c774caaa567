"""The regions' block on the home page: how many regions of each level lie in the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from jingzhun.core.types import AuthenticatedRequest
from jingzhun.regions.models import Region, RegionFlagKind, RegionLevel, regions_flagged


def region_levels(request: AuthenticatedRequest) -> dict[str, Any]:
    user = request.user
    regions = Region.objects.visible_to(user).current()
    counts = {r["level"]: r["n"] for r in regions.values("level").annotate(n=Count("code")).order_by()}
    return {
        "stats": [
            {"label": label, "value": counts[level]} for level, label in RegionLevel.choices if counts.get(level)
        ],
        "poor_villages_2014": len(regions_flagged(RegionFlagKind.POOR_VILLAGE, 2014, within=user.scope_prefix or "")),
    }
