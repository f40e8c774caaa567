"""The 工作台 counts only what lies in the user's scope, and embeds the chart data."""

from __future__ import annotations

import json
import re

import pytest

from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db


def chart_data(html: str) -> dict:
    found = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_home_counts_and_charts_follow_scope(client, tree, make_user):
    mine = household_with_members(tree.village_a1, size=3, exit_year=2017)
    HouseholdYearFactory(household=mine, year=2025, main_cause="01")
    other = household_with_members(tree.village_b1, size=2, exit_year=2018)
    HouseholdYearFactory(household=other, year=2025, main_cause="02")
    client.force_login(make_user("village", tree.village_a1))
    html = client.get("/").content.decode()
    data = chart_data(html)
    assert data["exits"] == {"years": ["2017"], "counts": [1]}
    assert data["causes"] == [{"name": "因病", "value": 1}]
    assert re.search(r'<div class="value">3</div><div class="label">在户人数', html)
    client.force_login(make_user("county_admin", tree.county))
    data = chart_data(client.get("/").content.decode())
    assert data["exits"]["years"] == ["2017", "2018"]
    assert {c["name"] for c in data["causes"]} == {"因病", "因残"}


def test_home_registry_counts(client, tree, make_user):
    statuses = {"0": False, "3": True, "1": False}  # exit status of the year → monitored
    for exit_status, monitored in statuses.items():
        household = household_with_members(tree.village_a1, size=1, is_monitored=monitored)
        HouseholdYearFactory(household=household, year=2025, exit_status=exit_status)
    cancelled = household_with_members(tree.village_a1, size=1, status="cancelled", is_monitored=True)
    HouseholdYearFactory(household=cancelled, year=2025, exit_status="0")
    client.force_login(make_user("county_admin", tree.county))
    cards = {c["key"]: c["data"] for c in client.get("/").context["cards"]}
    households, _people, not_exited, monitored = (s["value"] for s in cards["household_figures"]["stats"])
    assert (households, not_exited, monitored) == (3, 2, 1)  # 2025年未脱贫户 = 未脱贫 + 返贫
