"""Chinese is the default; English is selectable through set_language; the English catalogue is complete."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from jingzhun.accounts.roles import Role

CATALOGUE = Path(settings.BASE_DIR) / "jingzhun" / "locale" / "en" / "LC_MESSAGES"


@pytest.fixture
def county_user(tree, make_user):
    return make_user(Role.COUNTY_ADMIN, tree.county)


def _english(client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:home")})
    assert response.status_code == 302


def test_login_page_is_chinese_by_default(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html
    assert "Sign in" not in html


def test_home_page_is_chinese_by_default(client, county_user):
    client.force_login(county_user)
    html = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="zh-hans">' in html
    for label in ("首页", "行政区划", "建档立卡", "工作台"):
        assert label in html
    assert "Dashboard" not in html


def test_switching_to_english_translates_home_and_list_pages(client, county_user):
    client.force_login(county_user)
    _english(client)

    home = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="en">' in home
    for label in ("Home", "Regions", "Registration", "Data quality", "Dashboard", "Jurisdiction", "Sign out"):
        assert label in home
    assert "工作台" not in home
    assert ">首页<" not in home

    # A county user's region browser opens at the county itself.
    regions = client.get(reverse("regions:browse"), follow=True).content.decode()
    assert '<html lang="en">' in regions
    for label in ("Lower-level regions", "Township level", "Export CSV", "Region flags"):
        assert label in regions
    assert "下级区划" not in regions

    households = client.get(reverse("registry:household_list")).content.decode()
    assert '<html lang="en">' in households
    for label in ("Registered households", "Household no.", "Household type", "Exit status", "Main cause"):
        assert label in households
    assert "No matching households" in households
    assert "0 households · showing" in households
    assert "户编号" not in households


def test_switching_back_to_chinese(client, county_user):
    client.force_login(county_user)
    _english(client)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("portal:home")})
    html = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "工作台" in html


def _key(entry: polib._BaseEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def _strings(entry: polib._BaseEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def test_english_catalogue_is_complete():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    live = [e for e in po if not e.obsolete]
    assert len(live) > 900
    assert po.untranslated_entries() == []
    assert [e.msgid for e in live if e.fuzzy] == []
    assert not po.metadata_is_fuzzy
    for entry in live:
        assert all(s.strip() for s in _strings(entry)), entry.msgid
        if any("\u4e00" <= ch <= "\u9fff" for ch in entry.msgid):
            assert entry.msgid not in _strings(entry), entry.msgid


def test_compiled_catalogue_matches_the_po_file():
    """The committed .mo holds exactly the .po's translations (git checkouts reset mtimes, so compare content)."""
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    compiled = {_key(e): _strings(e) for e in mo if e.msgid}
    expected = {_key(e): _strings(e) for e in po if not e.obsolete and e.translated()}
    assert compiled == expected


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client, tree, make_user):
    client.force_login(make_user("village", tree.village_a1))
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "首页" in page and '<html lang="zh-hans">' in page
