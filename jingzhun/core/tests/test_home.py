"""The 工作台 counts only what lies in the user's scope, and embeds the chart data."""

from __future__ import annotations

import json
import re

import pytest

from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db


def chart_data(html: str) -> dict:
    return json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S).group(1))


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
