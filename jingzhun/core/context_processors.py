"""Values every page needs: site title, the user's scope and the navigation."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from jingzhun.regions.models import full_name_of


def navigation(user: Any) -> list[dict[str, str]]:
    """Modules the user's role can open, in the order of a household's life."""
    items = [{"key": "home", "label": _("首页"), "url": reverse("core:home")}]
    items.append({"key": "regions", "label": _("行政区划"), "url": reverse("regions:browse")})
    items.append({"key": "households", "label": _("建档立卡"), "url": reverse("registry:household_list")})
    items.append({"key": "quality", "label": _("数据质量"), "url": reverse("registry:quality_summary")})
    items.append({"key": "exchange", "label": _("Excel导入导出"), "url": reverse("exchange:index")})
    items.append({"key": "policy", "label": _("政策参数"), "url": reverse("policy:overview")})
    if user.can_manage_users:
        items.append({"key": "users", "label": _("用户管理"), "url": reverse("accounts:user_list")})
    if user.can_read_audit:
        items.append({"key": "audit", "label": _("操作日志"), "url": reverse("audit:search")})
    return items


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    context: dict[str, Any] = {
        "site_title": settings.SITE_TITLE,
        "department_label": settings.DEPARTMENT_LABEL,
    }
    if user is not None and user.is_authenticated:
        context["nav_items"] = navigation(user)
        # The header names the scope on every page: one lazy query, and no fetch of the region row itself.
        code = user.scope_region_id
        context["scope_name"] = SimpleLazyObject(partial(full_name_of, code)) if code else ""
    return context
