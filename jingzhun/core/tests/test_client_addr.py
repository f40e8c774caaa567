"""The client address used by the audit trail and login throttling, directly and behind reverse proxies."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from jingzhun.audit.middleware import client_addr


def request(remote: str, forwarded: str | None = None):
    meta: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_a_proxy_forwarded_headers_are_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_addr(request("10.1.2.3", "1.1.1.1")) == "10.1.2.3"


def test_behind_one_proxy_the_entry_it_appended_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged the first entry; nginx appended the real address last.
    assert client_addr(request("127.0.0.1", "6.6.6.6, 192.168.10.23")) == "192.168.10.23"
    assert client_addr(request("127.0.0.1")) == "127.0.0.1"
    assert client_addr(request("127.0.0.1", "not-an-ip")) == "127.0.0.1"


def test_behind_two_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_addr(request("127.0.0.1", "6.6.6.6, 192.168.10.23, 10.0.0.5")) == "192.168.10.23"
