"""Household pages: list filters and search, scope, read-only roles, the file page, query counts."""

# Fixtures are imported from pages_fixtures (no shared conftest here), so pytest's by-name injection
# looks like redefinition to ruff.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jingzhun.registry.models import HouseholdYear, Member
from jingzhun.registry.tests.factories import HouseholdYearFactory, MemberFactory, household_with_members
from jingzhun.registry.tests.pages_fixtures import (  # noqa: F401
    _fresh_policy_cache,
    household,
    leader,
    logged_in,
    other_village_user,
    township_user,
    village_user,
)

pytestmark = pytest.mark.django_db
LIST = reverse("registry:household_list")


def listed(client, **params) -> set[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {h.household_number for h in response.context["rows"]}


@pytest.fixture
def spread(tree):
    """Households across both townships with different 2025 records."""
    a = household_with_members(tree.village_a1, size=3)
    HouseholdYearFactory(household=a, year=2025, exit_status="0", attribute="01", main_cause="01")
    b = household_with_members(tree.village_a1, size=2, is_monitored=True, monitoring_category="1")
    HouseholdYearFactory(household=b, year=2025, exit_status="1", attribute="05", main_cause="02", other_cause_1="08")
    c = household_with_members(tree.village_a2, size=1)
    HouseholdYearFactory(household=c, year=2025, exit_status="4", attribute="02", main_cause="08")
    d = household_with_members(tree.village_b1, size=2)
    HouseholdYearFactory(household=d, year=2025, exit_status="0", attribute="04", main_cause="01")
    return {"a": a, "b": b, "c": c, "d": d}


class TestListScope:
    def test_village_user_sees_only_their_village(self, logged_in, spread):
        assert listed(logged_in) == {spread["a"].household_number, spread["b"].household_number}

    def test_township_user_sees_all_its_villages(self, client, township_user, spread):
        client.force_login(township_user)
        numbers = {spread[k].household_number for k in "abc"}
        assert listed(client) == numbers
        response = client.get(LIST)
        options = response.context["form"].region_options
        assert {code for code, _name in options[1:]} == {"431102100201", "431102100202"}

    def test_region_filter_within_and_outside_scope(self, client, township_user, spread, tree):
        client.force_login(township_user)
        assert listed(client, village=tree.village_a2) == {spread["c"].household_number}
        response = client.get(LIST, {"region": tree.village_b1})  # another township: refused, scope stays
        assert response.context["form"].errors["region"] == ["所选区域不在您的管辖范围内"]
        assert spread["d"].household_number not in {h.household_number for h in response.context["rows"]}

    def test_county_user_filters_by_township_prefix(self, client, county_admin, spread, tree):
        client.force_login(county_admin)
        assert listed(client, region=tree.township_b) == {spread["d"].household_number}
        assert len(listed(client)) == 4
        for value in (tree.township_b, tree.township_b[:9]):  # full code or prefix: the option is selected
            form = client.get(LIST, {"region": value}).context["form"]
            selected = [c for g in form.region_groups() for c, _n, sel in g["options"] if sel]
            assert selected == [tree.township_b]


class TestListFilters:
    def test_year_record_filters(self, client, county_admin, spread):
        client.force_login(county_admin)
        n = {k: h.household_number for k, h in spread.items()}
        assert listed(client, year=2025, exit_status="0") == {n["a"], n["d"]}
        assert listed(client, year=2025, attribute="05") == {n["b"]}
        assert listed(client, year=2025, cause="08") == {n["b"], n["c"]}  # main or other cause
        assert listed(client, year=2025, cause="01", exit_status="0") == {n["a"], n["d"]}
        assert listed(client, year=2024, exit_status="0") == set()  # no 2024 records
        assert listed(client, monitored="1") == {n["b"]}
        assert listed(client, monitored="0") == {n["a"], n["c"], n["d"]}

    def test_search_by_name_last_digits_number_and_full_id(self, client, county_admin, spread):
        client.force_login(county_admin)
        target = spread["c"]
        person = target.head
        person.name = "欧阳春花"
        person.save()
        assert listed(client, q="阳春") == {target.household_number}
        assert listed(client, q=person.id_number[-4:]) >= {target.household_number}
        assert listed(client, q=person.id_number[-6:].lower()) == {target.household_number}
        assert listed(client, q=person.id_number) == {target.household_number}
        assert listed(client, q=target.household_number) == {target.household_number}
        assert listed(client, q=target.household_number[:-1]) >= {target.household_number}

    def test_search_ignores_removed_members(self, client, county_admin, spread):
        client.force_login(county_admin)
        child = spread["a"].active_members().exclude(relationship__in=["01", "02"]).first()
        child.name = "已迁走的人"
        child.status = "removed"
        child.removal_reason = "9"
        child.save()
        assert listed(client, q="已迁走") == set()

    def test_cancelled_households_hidden_by_default(self, client, county_admin, spread):
        client.force_login(county_admin)
        spread["c"].status = "cancelled"
        spread["c"].save()
        assert spread["c"].household_number not in listed(client)
        assert listed(client, status="cancelled") == {spread["c"].household_number}

    def test_columns(self, logged_in, spread):
        response = logged_in.get(LIST, {"year": 2025})
        html = response.content.decode()
        row = next(h for h in response.context["rows"] if h.pk == spread["b"].pk)
        assert row.head_member.name == "张大山" and len(row.active_list) == 2
        assert row.record.per_capita_net_income == Decimal("7500.00")
        for text in ("一般脱贫户", "已脱贫（享受政策）", "因残", "7,500.00", "脱贫不稳定户", 'data-label="户编号"'):
            assert text in html

    def test_pagination(self, logged_in, tree):
        for _ in range(55):
            household_with_members(tree.village_a1, size=1)
        first = logged_in.get(LIST)
        assert len(first.context["rows"]) == 50 and first.context["page"].paginator.count == 55
        assert len(logged_in.get(LIST, {"page": 2}).context["rows"]) == 5


class TestQueryCounts:
    def _count(self, client, url, params=None) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params or {}).status_code == 200
        return len(ctx.captured_queries)

    def test_list_queries_do_not_grow_with_rows(self, logged_in, tree, django_assert_max_num_queries):
        def add(n):
            for i in range(n):
                h = household_with_members(tree.village_a1, size=3)
                HouseholdYearFactory(household=h, year=2025, main_cause="01", other_cause_1="08" if i % 2 else "")

        add(2)
        few = self._count(logged_in, LIST, {"year": 2025, "q": "张"})
        add(20)
        many = self._count(logged_in, LIST, {"year": 2025, "q": "张"})
        assert few == many
        # session, user, COUNT, page, members, years, scope region ×2 + savepoints and session save
        with django_assert_max_num_queries(14):
            logged_in.get(LIST, {"year": 2025, "cause": "01", "exit_status": "1"})

    def test_detail_queries_do_not_grow(self, logged_in, household, tree, django_assert_max_num_queries):
        url = reverse("registry:household_detail", args=[household.pk])
        few = self._count(logged_in, url)
        for year in range(2014, 2024):
            HouseholdYearFactory(household=household, year=year)
        for i in range(6):
            MemberFactory(
                household=household,
                relationship="07",
                birth_date=dt.date(2010 + i, 2, 2),
                education="",
                school_status="02",
            )
        assert self._count(logged_in, url) == few
        with django_assert_max_num_queries(14):
            logged_in.get(url)


class TestFilePage:
    def test_everything_on_one_page(self, logged_in, household):
        child = household.active_members().get(name="张小1")
        child.status, child.removal_reason, child.removal_date = "removed", "2", dt.date(2025, 10, 1)
        child.save()
        household.paddy_land_mu = Decimal("3.50")
        household.save()
        response = logged_in.get(reverse("registry:household_detail", args=[household.pk]))
        html = response.content.decode()
        for text in (
            household.household_number,
            "张大山",
            "李秀英",
            "已减少的成员",
            "婚出",
            "2025-10-01",
            "2024",
            "工资性收入",
            "理赔收入",
            "家庭纯收入",
            "家庭年人均纯收入",
            "饮水安全有保障",
            "水田面积（亩）",
            "3.50",
            "砖混",
            "享受低保政策情况",
            "变动记录",
            reverse("registry:household_edit", args=[household.pk]),
            reverse("registry:household_year_edit", args=[household.pk, 2025]),
        ):
            assert text in html, text

    def test_card_link_only_when_the_page_exists(self, logged_in, household):
        from jingzhun.registry.templatetags.household_tags import optional_url

        html = logged_in.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
        card = optional_url("registry:household_card", household.pk)
        assert (card in html) if card else ("明白卡" not in html)
        assert optional_url("registry:no_such_page") == ""

    def test_audit_history_link_opens_for_the_cadre(self, logged_in, household):
        from jingzhun.registry.templatetags.household_tags import optional_url

        history = optional_url("audit:history", "registry.household", household.pk)
        if not history:
            pytest.skip("audit history page not installed")
        html = logged_in.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
        assert history in html
        assert logged_in.get(history).status_code == 200

    def test_member_page_shows_history_in_other_households(self, logged_in, household, tree):
        from jingzhun.registry import services

        child = household.active_members().get(name="张小1")
        target = household_with_members(tree.village_a1, size=1)
        moved = services.move_member(child, target, relationship="99", date=dt.date(2026, 1, 2))
        response = logged_in.get(reverse("registry:member_detail", args=[moved.pk]))
        assert response.status_code == 200
        assert household.household_number in response.content.decode()
        assert [r.pk for r in response.context["other_rows"]] == [child.pk]

    def test_navigation_item(self, logged_in):
        html = logged_in.get(LIST).content.decode()
        assert f'href="{LIST}"' in html and "建档立卡" in html


class TestScope:
    def urls(self, household):
        m = household.head
        return [
            reverse("registry:household_detail", args=[household.pk]),
            reverse("registry:household_edit", args=[household.pk]),
            reverse("registry:household_year_edit", args=[household.pk, 2025]),
            reverse("registry:member_create", args=[household.pk]),
            reverse("registry:household_split", args=[household.pk]),
            reverse("registry:household_merge", args=[household.pk]),
            reverse("registry:household_change_head", args=[household.pk]),
            reverse("registry:member_detail", args=[m.pk]),
            reverse("registry:member_edit", args=[m.pk]),
            reverse("registry:member_remove", args=[m.pk]),
            reverse("registry:member_move", args=[m.pk]),
        ]

    def test_other_village_cannot_list_open_edit_or_post(self, client, other_village_user, household):
        client.force_login(other_village_user)
        assert household.household_number not in listed(client)
        assert listed(client, q=household.household_number) == set()
        for url in self.urls(household):
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"name": "篡改", "reason": "1", "date": "2026-01-01"}).status_code == 404, url
        assert Member.objects.unscoped().filter(name="篡改").count() == 0

    def test_read_only_role_sees_no_edit_buttons_and_gets_403(self, client, leader, household):
        client.force_login(leader)
        detail = client.get(reverse("registry:household_detail", args=[household.pk]))
        assert detail.status_code == 200
        html = detail.content.decode()
        assert reverse("registry:household_edit", args=[household.pk]) not in html
        assert reverse("registry:member_create", args=[household.pk]) not in html
        assert "登记新户" not in client.get(LIST).content.decode()
        for url in self.urls(household)[1:7] + self.urls(household)[8:]:
            assert client.get(url).status_code == 403, url
            assert client.post(url, {"reason": "1", "date": "2026-01-01"}).status_code == 403, url
        assert client.get(reverse("registry:household_create")).status_code == 403
        household.refresh_from_db()
        assert household.active_members().count() == 3

    def test_township_user_can_open_every_village_in_it(self, client, township_user, tree):
        client.force_login(township_user)
        for village in (tree.village_a1, tree.village_a2):
            h = household_with_members(village, size=1)
            assert client.get(reverse("registry:household_detail", args=[h.pk])).status_code == 200
        h = household_with_members(tree.village_b1, size=1)
        assert client.get(reverse("registry:household_detail", args=[h.pk])).status_code == 404

    def test_move_target_outside_scope_is_refused(self, logged_in, household, tree):
        outside = household_with_members(tree.village_b1, size=1)
        child = household.active_members().get(name="张小1")
        response = logged_in.post(
            reverse("registry:member_move", args=[child.pk]),
            {"target_number": outside.household_number, "relationship": "99", "date": "2026-01-02"},
        )
        assert response.status_code == 200
        assert "不存在或不在您的管辖范围内" in response.content.decode()
        child.refresh_from_db()
        assert child.status == "active"
        assert not HouseholdYear.objects.unscoped().filter(household=outside, member_count=2).exists()


def test_the_list_defaults_to_the_latest_year_of_the_users_own_area(client, tree, village_user):
    """Another village starting next year's records does not leave this village looking at an empty year."""
    HouseholdYearFactory(household=household_with_members(tree.village_a1, size=1), year=2024)
    HouseholdYearFactory(household=household_with_members(tree.village_b1, size=1), year=2025)
    client.force_login(village_user)
    page = client.get(reverse("registry:household_list")).content.decode()
    assert '<option value="2024" selected' in page
