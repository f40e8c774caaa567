from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from jingzhun.core.scope import get_visible_or_404
from jingzhun.regions.models import Region


def browse(request: HttpRequest) -> HttpResponse:
    """Start the drill-down at the top of the user's scope."""
    user = request.user
    if user.scope_region_id:
        return redirect("regions:detail", code=user.scope_region_id)
    top = Region.objects.visible_to(user).filter(parent__isnull=True).order_by("code").first()
    if top is None:
        return render(request, "regions/empty.html", {"active_nav": "regions"})
    return redirect("regions:detail", code=top.code)


def _children(region: Region, user) -> list[Region]:
    return list(
        Region.objects.visible_to(user)
        .filter(parent=region)
        .annotate(child_count=Count("children", filter=Q(children__valid_to__isnull=True)))
        .order_by("code")
    )


def detail(request: HttpRequest, code: str) -> HttpResponse:
    region = get_visible_or_404(Region.objects.all(), request.user, code=code)
    prefix = request.user.scope_prefix or ""
    breadcrumb = [r for r in region.ancestors(include_self=True) if r.code.startswith(prefix)]
    return render(
        request,
        "regions/detail.html",
        {
            "region": region,
            "children": _children(region, request.user),
            "flags": region.flags.order_by("flag", "year"),
            "breadcrumb": breadcrumb,
            "active_nav": "regions",
        },
    )


def children(request: HttpRequest, code: str) -> HttpResponse:
    """HTMX fragment: the next level of the tree under ``code``."""
    region = get_visible_or_404(Region.objects.all(), request.user, code=code)
    return render(request, "regions/_tree_children.html", {"children": _children(region, request.user)})
