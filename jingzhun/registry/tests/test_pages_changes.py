"""Household pages that write: create, edit, yearly record, member changes, 分户 / 合户 / 变更户主,
and the data-quality gate (rolls back with Chinese messages)."""

# Fixtures are imported from pages_fixtures (no shared conftest here), so pytest's by-name injection
# looks like redefinition to ruff.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse

from jingzhun.audit.models import AuditEntry
from jingzhun.registry.idcard import age_on, make_id_number
from jingzhun.registry.models import (
    ChangeKind,
    Household,
    HouseholdChange,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberStatus,
)
from jingzhun.registry.quality import gate
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members
from jingzhun.registry.tests.pages_fixtures import (  # noqa: F401
    _fresh_policy_cache,
    household,
    logged_in,
    village_user,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def member_post(**overrides):
    birth = overrides.pop("birth", dt.date(1998, 6, 1))
    data = {
        "name": "赵春梅",
        "id_type": "1",
        "id_number": make_id_number("431102", birth, 120, "2"),
        "relationship": "05",
        "ethnicity": "01",
        "education": "3",
        "health": "1",
        "labour": "1",
        "has_resident_medical_insurance": "true",
        "has_employee_medical_insurance": "false",
    }
    data.update(overrides)
    return data


def opened_version(client, url):
    """The version an edit page was opened on, as its form posts it back (registry.versions)."""
    return {"opened_version": client.get(url).context["form"]["opened_version"].value()}


def year_post(**overrides):
    data = {"exit_status": "1", "attribute": "05", "main_cause": "01", "other_cause_1": "", "other_cause_2": ""}
    data |= {"wage_income": "15000", "business_income": "2000", "property_income": "0", "transfer_income": "1000"}
    data |= {"claims_income": "500", "production_expense": "1000", "compliant_out_of_pocket": "0"}
    data |= {k: "true" for k in ("food_clothing_secure", "education_secure", "medical_secure")}
    data |= {k: "true" for k in ("housing_secure", "water_secure")}
    data.update(overrides)
    return data


class TestCreateAndEdit:
    def test_register_a_household_with_head_and_first_year(self, logged_in, tree):
        data = {"hh-village": tree.village_a1, "hh-identification_standard": "1", "hh-phone": "13912345678"}
        data |= {
            f"head-{k}": v for k, v in member_post(name="刘建国", relationship="01", birth=dt.date(1968, 2, 2)).items()
        }
        data["head-id_number"] = make_id_number("431102", dt.date(1968, 2, 2), 7, "1")
        data |= {f"yr-{k}": v for k, v in year_post().items()}
        data["record_year"] = str(TODAY.year)
        response = logged_in.post(reverse("registry:household_create"), data)
        household = Household.objects.unscoped().get(village_id=tree.village_a1)
        assert response.status_code == 302, response.context and response.context["head_form"].errors
        assert response["Location"] == reverse("registry:household_detail", args=[household.pk])
        assert household.household_number == tree.village_a1 + "0001"
        head = household.head
        assert head is not None
        assert (head.name, head.sex, head.birth_date, head.addition_reason) == ("刘建国", "1", dt.date(1968, 2, 2), "1")
        record = household.years.get()
        assert (record.year, record.member_count, record.net_income) == (TODAY.year, 1, Decimal("17000.00"))
        assert AuditEntry.objects.filter(object_type="registry.household", object_id=str(household.pk)).exists()

    def test_register_with_errors_saves_nothing(self, logged_in, tree):
        data = {"hh-village": tree.village_a1, "hh-identification_standard": "1"}
        data |= {f"head-{k}": v for k, v in member_post(sex="1", relationship="01").items()}
        data |= {f"yr-{k}": v for k, v in year_post().items()}
        response = logged_in.post(reverse("registry:household_create"), data)
        assert response.status_code == 200
        assert "性别为“男”，证件号码第 17 位表示“女”" in response.content.decode()
        assert not Household.objects.unscoped().exists()

    def test_edit_household_with_reason_in_audit(self, logged_in, household):
        url = reverse("registry:household_edit", args=[household.pk])
        form = logged_in.get(url).context["form"]
        data = {k: v for k, v in form.initial.items() if v is not None and k not in ("village", "group")}
        data |= {"housing_area_m2": "120", "audit_note": "入户核实更正", "identification_standard": "1"}
        data = {k: ("true" if v is True else "false" if v is False else v) for k, v in data.items()}
        data["opened_version"] = form["opened_version"].value()
        response = logged_in.post(url, data)
        assert response.status_code == 302, response.context["form"].errors
        household.refresh_from_db()
        assert household.housing_area_m2 == Decimal("120")
        entry = AuditEntry.objects.filter(object_type="registry.household", object_id=str(household.pk)).first()
        assert entry is not None
        assert entry.reason == "入户核实更正" and "housing_area_m2" in entry.changes


class TestMemberPages:
    def test_correct_school_status_gets_a_clear_message(self, logged_in, household):
        child = household.active_members().get(name="张小1")  # born 2000, 高中 education
        url = reverse("registry:member_edit", args=[child.pk])
        data = member_post(
            name=child.name, id_number=child.id_number, relationship="03", education="4", school_status="08"
        )
        data.pop("birth_date", None)
        data |= opened_version(logged_in, url)
        response = logged_in.post(url, data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "在校生状况为“八年级”，文化程度“高中”应不填" in html
        assert f"年龄 {age_on(child.birth_date, TODAY)} 岁，在校生状况为“八年级”（应为 12–17 岁）" in html
        child.refresh_from_db()
        assert child.school_status == ""

        data |= {"education": "", "school_status": "41"}  # 本科: fits a 26-year-old
        response = logged_in.post(url, data)
        assert response.status_code == 302
        child.refresh_from_db()
        assert (child.school_status, child.education) == ("41", "")

    def test_add_member_with_reason(self, logged_in, household):
        url = reverse("registry:member_create", args=[household.pk])
        assert "新生" in logged_in.get(url).content.decode()
        response = logged_in.post(url, member_post(reason="3", date=str(TODAY), note="与张小1结婚"))
        assert response.status_code == 302
        m = household.active_members().get(name="赵春梅")
        assert (m.addition_reason, m.addition_date) == ("3", TODAY)
        assert HouseholdChange.objects.unscoped().get(member=m).kind == ChangeKind.MEMBER_ADDED
        assert household.years.get(year=2025).member_count == 4
        assert household.years.get(year=2024).member_count == 3

    def test_add_member_already_active_elsewhere(self, logged_in, household, tree):
        other = household_with_members(tree.village_a2, size=1)
        assert other.head is not None
        Member.objects.unscoped().filter(household=other).update(name="邹莲梅")
        data = member_post(id_number=other.head.id_number, reason="9", date=str(TODAY), relationship="99")
        data |= {"sex": "1"}
        response = logged_in.post(reverse("registry:member_create", args=[household.pk]), data)
        assert response.status_code == 200
        # 甲二村 is outside the village user's scope: refused without naming the household or the person.
        html = response.content.decode()
        assert "该证件号码已在其他地区在册，请联系县级管理员" in html
        assert other.household_number not in html and "邹莲梅" not in html
        assert household.size() == 3

    def test_remove_member_keeps_history(self, logged_in, household):
        child = household.active_members().get(name="张小1")
        response = logged_in.post(
            reverse("registry:member_remove", args=[child.pk]), {"reason": "2", "date": str(TODAY), "note": "外嫁"}
        )
        assert response.status_code == 302
        child.refresh_from_db()
        assert (child.status, child.removal_reason) == (MemberStatus.REMOVED, "2")
        detail = logged_in.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
        assert "已减少的成员" in detail and "婚出" in detail
        # History is read-only.
        assert logged_in.get(reverse("registry:member_edit", args=[child.pk])).status_code == 302

    def test_remove_head_refused_with_message(self, logged_in, household):
        response = logged_in.post(
            reverse("registry:member_remove", args=[household.head.pk]), {"reason": "1", "date": str(TODAY)}
        )
        assert response.status_code == 200
        assert "请先变更户主，再减少原户主" in response.content.decode()

    def test_removing_last_member_cancels_household(self, logged_in, tree):
        single = household_with_members(tree.village_a1, size=1)
        assert single.head is not None
        response = logged_in.post(
            reverse("registry:member_remove", args=[single.head.pk]), {"reason": "1", "date": str(TODAY)}
        )
        assert response.status_code == 302
        single.refresh_from_db()
        assert single.status == HouseholdStatus.CANCELLED
        assert single.changes.filter(kind=ChangeKind.CANCELLED).exists()
        assert logged_in.get(reverse("registry:household_edit", args=[single.pk])).status_code == 302

    def test_move_member_between_households_one_request_id(self, logged_in, household, tree):
        target = household_with_members(tree.village_a1, size=2)
        child = household.active_members().get(name="张小1")
        response = logged_in.post(
            reverse("registry:member_move", args=[child.pk]),
            {"target_number": target.household_number, "relationship": "99", "date": str(TODAY), "note": "投亲"},
        )
        assert response.status_code == 302
        request_id = response["X-Request-ID"]
        child.refresh_from_db()
        moved = target.active_members().get(id_number=child.id_number)
        assert (child.status, child.removal_reason) == (MemberStatus.REMOVED, "4")
        assert HouseholdChange.objects.unscoped().filter(kind=ChangeKind.MEMBER_MOVED).count() == 2
        closed = AuditEntry.objects.get(object_type="registry.member", object_id=str(child.pk), action="update")
        opened = AuditEntry.objects.get(object_type="registry.member", object_id=str(moved.pk), action="create")
        changes = AuditEntry.objects.filter(object_type="registry.householdchange", action="create")
        assert {str(closed.request_id), str(opened.request_id)} == {request_id}
        assert {str(e.request_id) for e in changes} == {request_id}
        assert closed.changes["status"] == ["active", "removed"] and "成员户间迁移" in closed.reason


class TestYearPage:
    def test_preview_computes_without_saving_then_save(self, logged_in, household):
        url = reverse("registry:household_year_edit", args=[household.pk, 2025])
        version = opened_version(logged_in, url)
        response = logged_in.post(url, year_post(preview="1") | version)
        assert response.status_code == 200
        computed = response.context["computed"]
        assert (computed.net_income, computed.per_capita_net_income) == (Decimal("17000.00"), Decimal("5666.67"))
        assert household.years.get(year=2025).net_income == Decimal("15000.00")  # unchanged
        assert "工资性收入 + 生产经营性收入 + 财产性收入 + 转移性收入 − 生产经营性支出" in response.content.decode()

        response = logged_in.post(url, year_post(net_income="1", per_capita_net_income="1") | version)
        assert response.status_code == 302
        record = household.years.get(year=2025)
        assert (record.net_income, record.per_capita_net_income) == (Decimal("17000.00"), Decimal("5666.67"))

    def test_new_year_starts_from_previous_record(self, logged_in, household):
        url = reverse("registry:household_year_edit", args=[household.pk, TODAY.year])
        form = logged_in.get(url).context["form"]
        assert form.initial["attribute"] == "05" and form.initial["main_cause"] == "01"
        assert logged_in.post(url, year_post(opened_version=form["opened_version"].value())).status_code == 302
        assert household.years.get(year=TODAY.year).member_count == 3

    def test_past_year_keeps_its_member_count_when_edited(self, logged_in, household, tree):
        HouseholdYear.objects.unscoped().filter(household=household, year=2024).update(member_count=5)
        url = reverse("registry:household_year_edit", args=[household.pk, 2024])
        assert logged_in.post(url, year_post() | opened_version(logged_in, url)).status_code == 302
        assert household.years.get(year=2024).member_count == 5

    def test_year_out_of_range(self, logged_in, household):
        assert logged_in.get(reverse("registry:household_year_edit", args=[household.pk, 2009])).status_code == 404


class TestHouseholdChanges:
    def test_split(self, logged_in, household):
        child = household.active_members().get(name="张小1")
        url = reverse("registry:household_split", args=[household.pk])
        response = logged_in.post(url, {"members": [child.pk], "new_head": child.pk, "date": str(TODAY)})
        assert response.status_code == 302
        new = Household.objects.unscoped().exclude(pk=household.pk).get()
        assert response["Location"] == reverse("registry:household_detail", args=[new.pk])
        assert new.head is not None
        assert new.head.id_number == child.id_number
        assert new.household_number.startswith(household.village_id)
        child.refresh_from_db()
        assert child.removal_reason == "3"

    def test_date_inputs_get_iso_dates(self, logged_in, household):
        # <input type="date"> drops anything but YYYY-MM-DD (the zh-hans format would show an empty field).
        html = logged_in.get(reverse("registry:household_split", args=[household.pk])).content.decode()
        assert f'type="date" name="date" value="{TODAY.isoformat()}"' in html

    def test_split_validation(self, logged_in, household):
        child = household.active_members().get(name="张小1")
        spouse = household.active_members().get(relationship="02")
        url = reverse("registry:household_split", args=[household.pk])
        response = logged_in.post(url, {"members": [child.pk, spouse.pk], "new_head": child.pk, "date": str(TODAY)})
        assert response.status_code == 200
        assert "请选择 李秀英 与新户主的关系" in response.content.decode()

    def test_merge(self, logged_in, household, tree):
        source = household_with_members(tree.village_a1, size=2)
        HouseholdYearFactory(household=household, year=TODAY.year)
        data = {"target_number": household.household_number, "date": str(TODAY)}
        data |= {f"rel_{m.pk}": "99" for m in source.active_members()}
        response = logged_in.post(reverse("registry:household_merge", args=[source.pk]), data)
        assert response.status_code == 302
        source.refresh_from_db()
        assert source.status == HouseholdStatus.CANCELLED
        assert household.size() == 5 and household.years.get(year=TODAY.year).member_count == 5

    def test_change_head(self, logged_in, household):
        spouse = household.active_members().get(relationship="02")
        others = household.active_members().exclude(pk=spouse.pk)
        data = {"new_head": spouse.pk, "date": str(TODAY)} | {f"rel_{m.pk}": "02" for m in others}
        data[f"rel_{household.head.pk}"] = "02"
        for m in others.exclude(relationship="01"):
            data[f"rel_{m.pk}"] = "03" if m.sex == "1" else "04"
        response = logged_in.post(reverse("registry:household_change_head", args=[household.pk]), data)
        assert response.status_code == 302
        assert household.head.pk == spouse.pk


@dataclass
class FakeViolation:
    level: str
    message: str
    rule_code: str = "T_01"
    member_id: int | None = None
    field: str = ""


class TestQualityGate:
    @pytest.fixture
    def rules(self, monkeypatch):
        """Stand-in for the rules the gate runs: errors for 住房面积 over 500 ㎡ and for fewer than three
        people; a warning always."""
        recorded: list = []

        def check_household(household, year=None):
            found = [FakeViolation("warning", "提示", "T_00")]
            if household.housing_area_m2 and household.housing_area_m2 > 500:
                found.append(FakeViolation("error", "住房面积超过 500 平方米，请核实", field="housing_area_m2"))
            if household.size() < 3:
                found.append(FakeViolation("error", "户内人口少于 3 人", "T_02"))
            return found

        monkeypatch.setattr(gate, "check_household", check_household)
        monkeypatch.setattr(gate, "record_issues", lambda h, v: recorded.append(v))
        return recorded

    def test_new_error_rolls_back_and_shows_message_on_the_field(self, logged_in, household, rules):
        url = reverse("registry:household_edit", args=[household.pk])
        data = {"identification_standard": "1", "housing_area_m2": "900", "phone": "13800000000"}
        data |= opened_version(logged_in, url)
        audit_before = AuditEntry.objects.count()
        response = logged_in.post(url, data)
        assert response.status_code == 200
        assert "住房面积超过 500 平方米，请核实" in response.content.decode()
        household.refresh_from_db()
        assert household.housing_area_m2 == Decimal("90.00")
        assert AuditEntry.objects.count() == audit_before  # the audit entry rolled back with the data
        assert not rules

    def test_warnings_are_recorded_and_do_not_block(self, logged_in, household, rules):
        url = reverse("registry:household_edit", args=[household.pk])
        data = {"identification_standard": "1", "housing_area_m2": "100"} | opened_version(logged_in, url)
        response = logged_in.post(url, data)
        assert response.status_code == 302
        assert [v.level for v in rules[0]] == ["warning"]

    def test_member_change_rolled_back_by_gate(self, logged_in, household, rules):
        child = household.active_members().get(name="张小1")
        response = logged_in.post(
            reverse("registry:member_remove", args=[child.pk]), {"reason": "2", "date": str(TODAY)}
        )
        assert response.status_code == 200
        assert "户内人口少于 3 人" in response.content.decode()
        child.refresh_from_db()
        assert child.status == MemberStatus.ACTIVE
        assert not HouseholdChange.objects.unscoped().filter(member=child).exists()
        assert Member.objects.unscoped().filter(household=household, status="active").count() == 3

    def test_existing_error_does_not_block_an_unrelated_correction(self, logged_in, household, rules):
        Household.objects.unscoped().filter(pk=household.pk).update(housing_area_m2=Decimal("900"))
        child = household.active_members().get(name="张小1")
        data = member_post(name="张晓一", id_number=child.id_number, relationship="03", education="4", sex="1")
        data["birth_date"] = ""
        url = reverse("registry:member_edit", args=[child.pk])
        response = logged_in.post(url, data | opened_version(logged_in, url))
        assert response.status_code == 302
        child.refresh_from_db()
        assert child.name == "张晓一"
        assert [v.level for v in rules[0]] == ["warning", "error"]  # still recorded for the 问题台账


class TestRealQualityRules:
    def test_rule_error_lands_on_the_field(self, logged_in, household):
        from jingzhun.registry.tests.factories import MemberFactory

        kid = MemberFactory.create(
            household=household,
            name="张小妹",
            sex="2",
            birth_date=dt.date(TODAY.year - 9, 3, 3),
            relationship="08",
            education="",
            school_status="02",
            labour="4",
        )
        data = member_post(
            name=kid.name, id_number=kid.id_number, relationship="08", education="", school_status="02", labour="1"
        )
        url = reverse("registry:member_edit", args=[kid.pk])
        response = logged_in.post(url, data | opened_version(logged_in, url))
        assert response.status_code == 200
        assert "劳动技能应为“无劳动力”" in " ".join(response.context["form"].errors.get("labour", []))
        kid.refresh_from_db()
        assert kid.labour == "4"
