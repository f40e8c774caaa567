"""Binds each request's writes to the acting user and one request id."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from jingzhun.audit.context import audit_context


def client_addr(request: HttpRequest) -> str | None:
    """The user's address. Behind our own reverse proxies (BEHIND_PROXY=1), REMOTE_ADDR is the proxy, so
    take the entry the nearest trusted proxy appended to X-Forwarded-For (earlier entries can be forged)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4()
        request.request_id = request_id  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with audit_context(actor, source="web", request_id=request_id, remote_addr=client_addr(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = str(request_id)
        return response
