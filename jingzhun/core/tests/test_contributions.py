"""Apps contribute navigation, home cards, housekeeping steps and region names through their AppConfig."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps

from jingzhun.core import contributions
from jingzhun.core.contributions import HomeCard, HousekeepingStep, NavEntry


class _NewContext:
    """A bounded context that is not installed: what a new app would write in its AppConfig."""

    label = "newcontext"

    def nav_entries(self):
        return [
            NavEntry("late", "监测", "portal:home", order=50),
            NavEntry("secret", "秘密", "portal:home", order=5, visible=lambda user: user.is_special),
        ]

    def home_cards(self):
        return [HomeCard("alerts", 1, "x.html", lambda request: {"n": 1})]

    def housekeeping_steps(self):
        return [HousekeepingStep("预警缓存", lambda: 7, order=1)]


@pytest.fixture
def with_new_context(monkeypatch):
    installed = list(apps.get_app_configs())
    monkeypatch.setattr(apps, "get_app_configs", lambda: [*installed, _NewContext()])


def test_a_new_app_appears_in_navigation_in_order_and_by_visibility(with_new_context):
    plain = SimpleNamespace(is_special=False, can_manage_users=False, can_read_audit=False)
    keys = [e.key for e in contributions.nav_entries(plain)]
    assert "late" in keys and "secret" not in keys
    assert keys.index("exchange") < keys.index("late") < keys.index("policy")  # orders 40 < 50 < 80
    special = SimpleNamespace(is_special=True, can_manage_users=True, can_read_audit=True)
    keys = [e.key for e in contributions.nav_entries(special)]
    assert keys[0] == "secret" and {"users", "audit"} <= set(keys)


def test_home_cards_and_housekeeping_steps_are_collected(with_new_context):
    user = SimpleNamespace(is_special=False)
    assert contributions.home_cards(user)[0].key == "alerts"
    steps = contributions.housekeeping_steps()
    assert steps[0].label == "预警缓存" and steps[0].run() == 7
    assert {"过期会话", "登录尝试记录", "导入文件", "后台导出文件"} <= {s.label for s in steps}


@pytest.mark.django_db
def test_region_names_come_from_the_regions_app(tree):
    names = contributions.region_names([tree.county, "", tree.county])
    assert names == {tree.county: "零陵区"}
    assert contributions.region_full_name(tree.county).endswith("零陵区")
    assert contributions.region_names([]) == {}
