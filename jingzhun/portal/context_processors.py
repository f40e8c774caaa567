"""Values every page needs: site title, the user's scope and the navigation the apps contribute."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from jingzhun.core.contributions import nav_entries, region_full_name


def navigation(user: Any) -> list[dict[str, str]]:
    """Modules the user's role can open, in the order of a household's life."""
    items = [{"key": "home", "label": _("首页"), "url": reverse("portal:home")}]
    items += [{"key": e.key, "label": str(e.label), "url": reverse(e.url_name)} for e in nav_entries(user)]
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
        context["scope_name"] = SimpleLazyObject(partial(region_full_name, code)) if code else ""
    return context
