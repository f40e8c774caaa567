"""Every URL's view declares what it needs (core.access): public, logged in, or a role capability."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from jingzhun.core.access import AccessKind, access_of


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_view_declares_its_access():
    undeclared = [route for route, view in _patterns(get_resolver()) if access_of(view) is None]
    assert undeclared == []


def test_only_the_login_and_the_language_switch_are_public():
    public = sorted(
        route for route, view in _patterns(get_resolver()) if (a := access_of(view)) and a.kind == AccessKind.PUBLIC
    )
    assert public == ["accounts/login/", "i18n/setlang/"]
