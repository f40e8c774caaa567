from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jingzhun.audit.models import AuditEntry
from jingzhun.core.scope import code_prefix_q


def search(request: HttpRequest) -> HttpResponse:
    if not request.user.can_read_audit:
        raise PermissionDenied
    entries = AuditEntry.objects.filter(code_prefix_q("region_code", request.user.scope_prefix or ""))[:100]
    return render(request, "audit/search.html", {"entries": entries, "active_nav": "audit"})
