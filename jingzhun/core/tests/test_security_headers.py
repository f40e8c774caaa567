"""Headers on every kind of response (issue 11, item 11; no-store from item 5): a Content-Security-Policy that
lets only our own static files run, no MIME sniffing, no referrer to other sites, no framing, and personal data
pages and downloads kept out of every cache. The templates hold nothing the policy would block."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(tree: Any) -> Any:
    h = household_with_members(tree.village_a1, size=2)
    HouseholdYearFactory(household=h, year=2025)
    return h


@pytest.fixture
def village_client(client: Client, make_user: Any, tree: Any) -> Client:
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    return client


def policy_of(response: Any) -> dict[str, str]:
    directives = [d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def assert_hardened(response: Any) -> None:
    policy = policy_of(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def assert_not_stored(response: Any) -> None:
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_html_pages(village_client: Client, household: Any) -> None:
    for url in (
        reverse("portal:home"),
        reverse("registry:household_list"),
        reverse("registry:household_detail", args=[household.pk]),
        reverse("registry:member_detail", args=[household.members.first().pk]),
        reverse("registry:household_card", args=[household.pk]),
        reverse("accounts:my_account"),
    ):
        response = village_client.get(url)
        assert response.status_code == 200, url
        assert_hardened(response)
        assert_not_stored(response)


def test_a_reveal_is_not_stored_either(village_client: Client, household: Any) -> None:
    response = village_client.post(reverse("registry:household_detail", args=[household.pk]))
    assert response.status_code == 200
    assert_hardened(response)
    assert_not_stored(response)


def test_downloads(village_client: Client, tree: Any, household: Any) -> None:
    for url in (
        reverse("exchange:export_csv") + "?year=2025",
        reverse("exchange:export_xlsx") + "?year=2025",
        reverse("exchange:export_members_csv"),
        reverse("exchange:template"),
        reverse("registry:village_register", args=[tree.village_a1]) + "?year=2025",
        reverse("registry:household_card_pdf", args=[household.pk]),
    ):
        response = village_client.get(url)
        assert response.status_code == 200, url
        assert_hardened(response)
        assert_not_stored(response)


def test_error_pages(village_client: Client, make_user: Any, tree: Any, household: Any, settings: Any) -> None:
    missing = village_client.get("/registry/households/999999999/")
    assert missing.status_code == 404
    assert_hardened(missing)
    assert_not_stored(missing)  # the view behind the login answered
    unknown = village_client.get("/no-such-page/")
    assert unknown.status_code == 404
    assert_hardened(unknown)
    helper = Client()
    helper.force_login(make_user(Role.HELPER, tree.village_a1))
    refused = helper.post(reverse("registry:household_detail", args=[household.pk]))
    assert refused.status_code == 403
    assert_hardened(refused)


@pytest.mark.urls("jingzhun.core.tests.urls_failing")
def test_the_500_page(village_client: Client) -> None:
    village_client.raise_request_exception = False
    response = village_client.get("/boom/")
    assert response.status_code == 500 and "系统出错" in response.content.decode()
    assert_hardened(response)
    assert_not_stored(response)


def test_the_login_page_is_public_and_hardened(client: Client) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert_hardened(response)


def test_the_policy_is_the_settings_one(village_client: Client) -> None:
    assert village_client.get(reverse("portal:home"))["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


# --------------------------------------------------------------------------- what the policy would block

TEMPLATE_DIRS = sorted(
    {Path(settings.BASE_DIR) / "jingzhun" / "templates", *(Path(settings.BASE_DIR) / "jingzhun").glob("*/templates")}
)
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "HTMX code (needs eval)": re.compile(r"hx-on|hx-vals=['\"]js:|hx-trigger=\"[^\"]*\[", re.I),
}


def test_no_template_holds_what_the_policy_blocks() -> None:
    found = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            text = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.S)  # comments are not sent
            found += [
                f"{template.relative_to(settings.BASE_DIR)}: {what}" for what, rx in INLINE.items() if rx.search(text)
            ]
    assert not found, "\n".join(found)


def test_rendered_pages_hold_no_inline_script_but_data(village_client: Client, household: Any) -> None:
    """json_script data is not run (the home page's charts read it); anything else inline would be blocked."""
    for url in (reverse("portal:home"), reverse("registry:household_detail", args=[household.pk])):
        html = village_client.get(url).content.decode()
        inline = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
        assert all('type="application/json"' in tag for tag in inline), inline
        assert not INLINE["event handler attribute"].search(html) and not INLINE["style attribute"].search(html)
