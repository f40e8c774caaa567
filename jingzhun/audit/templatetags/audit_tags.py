"""{% audit_history_url obj as url %}: the 变更历史 link of any audited object, for any app's detail page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template

from jingzhun.audit.search import history_url_for

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_history_url(context: template.Context, obj: Any) -> str:
    """The history URL when the current user may open it (else ''), returning to the current page."""
    request = context.get("request")
    if request is None or obj is None or not hasattr(obj, "audit_object_type"):
        return ""
    url = history_url_for(request.user, obj)
    if url:
        url += "?" + urlencode({"next": request.get_full_path()})
    return url
