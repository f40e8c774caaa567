"""Middleware of the whole site: the interface language, and the headers every response needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from jingzhun.core.access import AccessKind, access_of


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Chinese first: the interface language comes from the user's explicit choice (the language cookie set
    by the switcher), never from the browser's Accept-Language — a county office PC with an English browser
    still opens in Chinese."""

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class PrivateResponseMiddleware:
    """Response headers every page and download needs, whoever wrote the view.

    - ``Content-Security-Policy`` (settings.CONTENT_SECURITY_POLICY): scripts and styles from our own
      static files only, no inline script, no framing, forms posting only here. An injected ``<script>``
      or ``onclick`` would not run.
    - ``Cache-Control: no-store`` on everything behind the login, keyed by the view's access declaration
      (core.access): households, members, cards, registers and exports hold personal data (PIPL), and a
      shared county office PC or a proxy must not keep a copy. Public pages (login) are left alone.

    ``X-Content-Type-Options``, ``Referrer-Policy`` and ``X-Frame-Options`` come from Django's security and
    clickjacking middleware (settings). Static files are served by WhiteNoise before this runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        access = getattr(request, "view_access", None)
        if access is not None and access.kind != AccessKind.PUBLIC:
            add_never_cache_headers(response)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        request.view_access = access_of(view)  # type: ignore[attr-defined]
