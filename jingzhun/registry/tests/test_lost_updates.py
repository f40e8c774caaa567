"""No lost updates (issue 11 item 4): two users open the same 户 / 成员 / 年度 / 村情 form and both save;
the second save is refused with what changed meanwhile (labels, values then and now) and writes nothing."""

# Fixtures are imported from pages_fixtures (no shared conftest here), so pytest's by-name injection
# looks like redefinition to ruff.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry, lock_chain
from jingzhun.registry import services
from jingzhun.registry.models import Household, HouseholdYear, Member, VillageYear
from jingzhun.registry.tests.factories import HouseholdFactory, MemberFactory, household_with_members
from jingzhun.registry.tests.pages_fixtures import _fresh_policy_cache, household, village_user  # noqa: F401

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
STALE = "未保存：您打开本页后，他人修改了这条记录。请重新打开本页，核对下列内容后再修改。"


@pytest.fixture
def two_cadres(village_user, make_user, tree) -> tuple[Client, Client]:
    """The village cadre and a township cadre, each in their own browser."""
    first, second = Client(), Client()
    first.force_login(village_user)
    second.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    return first, second


def opened(client: Client, url: str) -> dict[str, Any]:
    """What the page's form posts back untouched: its fields as shown, the opened version among them."""
    form = client.get(url).context["form"]
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value is None:
            continue
        data[form.add_prefix(name)] = (
            {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value
        )
    return data


def errors_of(response: Any) -> list[str]:
    return [str(e) for e in response.context["form"].non_field_errors()]


def entries(instance: Any) -> int:
    return AuditEntry.objects.filter(object_type=instance.audit_object_type(), object_id=str(instance.pk)).count()


class TestHousehold:
    def test_second_save_is_refused_with_what_changed(self, two_cadres, household):
        first, second = two_cadres
        url = reverse("registry:household_edit", args=[household.pk])
        mine, theirs = opened(first, url), opened(second, url)
        assert first.post(url, mine | {"housing_area_m2": "120", "housing_structure": "1"}).status_code == 302
        audit_before = entries(household)

        response = second.post(url, theirs | {"phone": "13999999999"})
        assert response.status_code == 200
        assert errors_of(response) == [
            STALE,
            "住房面积（㎡）：打开时为“90”，现为“120”",
            "房屋主要结构：打开时为“砖混”，现为“钢筋混凝土”",
        ]
        household.refresh_from_db()
        assert (household.phone, household.housing_area_m2) == ("13800000000", Decimal("120.00"))
        assert entries(household) == audit_before  # nothing written, not even an audit entry

        # Reopened, the page carries the new version and saves.
        assert second.post(url, opened(second, url) | {"phone": "13999999999"}).status_code == 302
        household.refresh_from_db()
        assert (household.phone, household.housing_area_m2) == ("13999999999", Decimal("120.00"))

    def test_a_save_without_the_opened_version_is_refused(self, two_cadres, household):
        first, _second = two_cadres
        url = reverse("registry:household_edit", args=[household.pk])
        data = opened(first, url)
        del data["opened_version"]
        response = first.post(url, data | {"phone": "13999999999"})
        assert response.status_code == 200
        assert errors_of(response) == ["本页面缺少有效的版本信息，未保存。请重新打开本页后再修改。"]
        household.refresh_from_db()
        assert household.phone == "13800000000"

    def test_the_version_of_another_household_is_refused(self, two_cadres, household, tree):
        first, _second = two_cadres
        other = household_with_members(tree.village_a1, size=1)
        url = reverse("registry:household_edit", args=[household.pk])
        token = opened(first, reverse("registry:household_edit", args=[other.pk]))["opened_version"]
        response = first.post(url, opened(first, url) | {"opened_version": token, "phone": "13999999999"})
        assert errors_of(response) == ["本页面缺少有效的版本信息，未保存。请重新打开本页后再修改。"]

    def test_an_unchanged_record_saves(self, two_cadres, household):
        first, _second = two_cadres
        url = reverse("registry:household_edit", args=[household.pk])
        assert first.post(url, opened(first, url) | {"phone": "13999999999"}).status_code == 302


class TestMember:
    def test_second_save_is_refused(self, two_cadres, household):
        first, second = two_cadres
        child = household.active_members().get(name="张小1")
        url = reverse("registry:member_edit", args=[child.pk])
        mine, theirs = opened(first, url), opened(second, url)
        assert first.post(url, mine | {"name": "张晓一"}).status_code == 302
        response = second.post(url, theirs | {"work_location": "广东东莞"})
        assert response.status_code == 200
        assert errors_of(response) == [STALE, "姓名：打开时为“张小1”，现为“张晓一”"]
        child.refresh_from_db()
        assert (child.name, child.work_location) == ("张晓一", "")


class TestYear:
    def test_second_save_is_refused_with_labels_of_codes(self, two_cadres, household):
        first, second = two_cadres
        url = reverse("registry:household_year_edit", args=[household.pk, 2025])
        mine, theirs = opened(first, url), opened(second, url)
        assert first.post(url, mine | {"wage_income": "15000", "main_cause": "02"}).status_code == 302
        response = second.post(url, theirs | {"transfer_income": "2000"})
        assert response.status_code == 200
        assert errors_of(response) == [
            STALE,
            "主要致贫原因：打开时为“因病”，现为“因残”",
            "工资性收入：打开时为“12000”，现为“15000”",
        ]
        assert household.years.get(year=2025).transfer_income == Decimal("1500.00")

    def test_a_year_entered_by_someone_else_meanwhile(self, two_cadres, household):
        first, second = two_cadres
        url = reverse("registry:household_year_edit", args=[household.pk, TODAY.year])
        mine, theirs = opened(first, url), opened(second, url)
        assert first.post(url, mine | {"wage_income": "15000"}).status_code == 302
        response = second.post(url, theirs | {"wage_income": "9000"})
        assert response.status_code == 200
        messages = errors_of(response)
        assert messages[0] == "未保存：您打开本页后，他人已录入了这条记录。请重新打开本页，核对下列内容后再修改。"
        assert "工资性收入：打开时为“（无记录）”，现为“15000”" in messages
        assert household.years.get(year=TODAY.year).wage_income == Decimal("15000.00")

    def test_a_change_the_form_does_not_write_is_no_conflict(self, two_cadres, household):
        """A member added meanwhile changes the year's 家庭人口数, which the save recomputes anyway."""
        first, _second = two_cadres
        url = reverse("registry:household_year_edit", args=[household.pk, TODAY.year])
        HouseholdYear.objects.unscoped().create(
            household=household, year=TODAY.year, exit_status="1", attribute="05", main_cause="01", member_count=3
        )
        data = opened(first, url)
        MemberFactory(household=household, name="新生儿", relationship="05", birth_date=TODAY, sex="2")
        services.refresh_current_year(household)
        assert household.years.get(year=TODAY.year).member_count == 4
        assert first.post(url, data | {"wage_income": "15000"}).status_code == 302


class TestVillageYear:
    def test_second_save_is_refused(self, two_cadres, tree):
        first, second = two_cadres
        VillageYear.objects.create(village_id=tree.village_a1, year=2020, total_households=300)
        url = reverse("registry:village_year_edit", args=[tree.village_a1, 2020])
        mine, theirs = opened(first, url), opened(second, url)
        assert first.post(url, mine | {"total_households": "320", "is_minority_village": "true"}).status_code == 302
        response = second.post(url, theirs | {"first_secretary": "王驻村"})
        assert response.status_code == 200
        assert errors_of(response) == [
            STALE,
            "是否少数民族聚居村：打开时为“否”，现为“是”",
            "总户数：打开时为“300”，现为“320”",
        ]
        record = VillageYear.objects.unscoped().get(village_id=tree.village_a1, year=2020)
        assert (record.total_households, record.first_secretary) == (320, "")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises whole requests (IMMEDIATE)")
def test_concurrent_saves_one_is_refused(tree, make_user, monkeypatch):
    """Both saves pass validation before either writes: the check under the chain lock still sees the first."""
    household: Household = HouseholdFactory.create(village_id=tree.village_a1)
    MemberFactory(household=household, name="张大山")
    url = reverse("registry:household_edit", args=[household.pk])
    clients = []
    for role, scope in ((Role.VILLAGE, tree.village_a1), (Role.TOWNSHIP, tree.township_a)):
        client = Client()
        client.force_login(make_user(role, scope))
        clients.append((client, opened(client, url)))
    both_checking = threading.Barrier(2, timeout=20)

    def lock_when_both_are_here() -> Any:
        both_checking.wait()
        return lock_chain()

    monkeypatch.setattr("jingzhun.registry.versions.lock_chain", lock_when_both_are_here)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def save(client: Client, data: dict[str, Any], phone: str) -> None:
        try:
            statuses.append(client.post(url, data | {"phone": phone}).status_code)
        except BaseException as exc:  # reported below; a thread's exception would otherwise be lost
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(client, data, phone))
        for (client, data), phone in zip(clients, ("13911111111", "13922222222"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert sorted(statuses) == [200, 302]
    household.refresh_from_db()
    assert household.phone in ("13911111111", "13922222222")
    changes = AuditEntry.objects.filter(object_type="registry.household", object_id=str(household.pk), action="update")
    assert changes.count() == 1
    assert Member.objects.unscoped().filter(household=household).count() == 1
    assert Household.objects.unscoped().count() == 1
