"""Form validation in Chinese: ID contradictions, schooling, relationships, causes, housing."""

# Fixtures are imported from pages_fixtures (no shared conftest here), so pytest's by-name injection
# looks like redefinition to ruff.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jingzhun.registry.forms import HouseholdForm, HouseholdYearForm, MemberAddForm, MemberForm
from jingzhun.registry.idcard import age_on, make_id_number
from jingzhun.registry.models import Household, HouseholdYear, MemberStatus
from jingzhun.registry.tests.factories import household_with_members
from jingzhun.registry.tests.pages_fixtures import _fresh_policy_cache, township_user, village_user  # noqa: F401

pytestmark = pytest.mark.django_db


def member_data(**overrides):
    birth = overrides.pop("birth", dt.date(1995, 4, 12))
    sex = overrides.pop("id_sex", "2")
    data = {
        "name": "王小红",
        "id_type": "1",
        "id_number": make_id_number("431102", birth, 88, sex),
        "sex": "",
        "birth_date": "",
        "relationship": "04",
        "ethnicity": "01",
        "education": "4",
        "school_status": "",
        "health": "1",
        "labour": "1",
        "has_resident_medical_insurance": "true",
        "has_employee_medical_insurance": "false",
    }
    data.update(overrides)
    return data


@pytest.fixture
def hh(tree):
    return household_with_members(tree.village_a1, size=3)


@pytest.fixture
def cadre(township_user):
    """Who fills the member form: a township user, whose scope holds both villages of the township."""
    return township_user


def errors(form) -> dict[str, list[str]]:
    assert not form.is_valid()
    return {k: [str(e) for e in v] for k, v in form.errors.items()}


class TestMemberIdentity:
    def test_valid_member_derives_sex_and_birth_date(self, hh, cadre):
        form = MemberForm(member_data(), household=hh, user=cadre)
        assert form.is_valid(), form.errors
        assert form.cleaned_data["sex"] == "2"
        assert form.cleaned_data["birth_date"] == dt.date(1995, 4, 12)

    def test_sex_mismatch_with_id(self, hh, cadre):
        e = errors(MemberForm(member_data(sex="1", relationship="99"), household=hh, user=cadre))
        assert e["sex"] == ["性别为“男”，证件号码第 17 位表示“女”"]

    def test_birth_date_mismatch_with_id(self, hh, cadre):
        e = errors(MemberForm(member_data(birth_date="1995-04-13"), household=hh, user=cadre))
        assert e["birth_date"] == ["出生日期 1995-04-13 与证件号码中的 1995-04-12 不一致"]

    def test_bad_checksum_and_impossible_date_reported_on_the_field(self, hh, cadre):
        good = member_data()["id_number"]
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        assert "校验位错误" in errors(MemberForm(member_data(id_number=bad), household=hh, user=cadre))["id_number"][0]
        first17 = "43110219800230002"
        from jingzhun.registry.idcard import check_char

        e = errors(MemberForm(member_data(id_number=first17 + check_char(first17)), household=hh, user=cadre))
        assert e["id_number"] == ["证件号码中的出生日期 19800230 不存在"]

    def test_placeholder_refused(self, hh, cadre):
        from jingzhun.registry.idcard import check_char

        first17 = "99999919800101002"
        e = errors(MemberForm(member_data(id_number=first17 + check_char(first17)), household=hh, user=cadre))
        assert "占位号码" in e["id_number"][0]

    def test_disability_certificate_20_digits(self, hh, cadre):
        number = make_id_number("431102", dt.date(1995, 4, 12), 88, "2") + "42"
        form = MemberForm(member_data(id_type="2", id_number=number, health="4"), household=hh, user=cadre)
        assert form.is_valid(), form.errors
        assert (form.cleaned_data["disability_category"], form.cleaned_data["disability_grade"]) == ("4", "2")
        e = errors(MemberForm(member_data(id_type="1", id_number=number, health="1"), household=hh, user=cadre))
        assert e["id_type"] == ["证件号码为 20 位残疾人证号，证件类型为“居民身份证”，应为“残疾人证”"]
        assert e["health"] == ["持残疾人证，健康状况为“健康”，应为“残疾”"]

    def test_person_active_in_another_household(self, hh, cadre, tree):
        other = household_with_members(tree.village_a2, size=1)
        assert other.head is not None
        e = errors(MemberForm(member_data(id_number=other.head.id_number, relationship="99"), household=hh, user=cadre))
        assert "同一人只能在一个户中" in e["id_number"][0]

    def test_same_person_by_disability_number_is_also_caught(self, hh, cadre, tree):
        other = household_with_members(tree.village_a2, size=1)
        assert other.head is not None
        cert = other.head.id_number + "41"
        data = member_data(id_type="2", id_number=cert, health="4", relationship="99", sex="1")
        e = errors(MemberForm(data, household=hh, user=cadre))
        assert "同一人只能在一个户中" in e["id_number"][0]

    def test_editing_a_member_does_not_clash_with_itself(self, hh, cadre):
        m = hh.active_members().get(relationship="02")
        data = member_data(
            name=m.name, id_number=m.id_number, relationship="02", education="3", birth=m.birth_date, sex="2"
        )
        form = MemberForm(data, instance=m, household=hh, user=cadre)
        assert form.is_valid(), form.errors


class TestMemberConsistency:
    def test_student_with_education_filled(self, hh, cadre):
        e = errors(MemberForm(member_data(school_status="07", birth=dt.date(2013, 3, 1)), household=hh, user=cadre))
        assert e["education"] == ["在校生状况为“七年级”，文化程度“高中”应不填"]

    def test_non_student_without_education(self, hh, cadre):
        e = errors(MemberForm(member_data(education="", school_status="00"), household=hh, user=cadre))
        assert e["education"] == ["非在校生应填写文化程度（在校生填写在校生状况）"]

    def test_school_status_contradicts_age(self, hh, cadre):
        e = errors(
            MemberForm(
                member_data(education="", school_status="07", birth=dt.date(1980, 1, 1)), household=hh, user=cadre
            )
        )
        age = age_on(dt.date(1980, 1, 1), dt.date.today())
        assert e["school_status"] == [f"年龄 {age} 岁，在校生状况为“七年级”（应为 12–17 岁）"]

    def test_held_back_a_year_is_not_a_contradiction(self, hh, cadre):
        # 小学 is usually 6–14; a 15-year-old still there is left to the plausibility warnings.
        today = dt.date.today()
        birth = dt.date(today.year - 15, 1, 2)
        form = MemberForm(
            member_data(education="", school_status="02", birth=birth, labour="4"), household=hh, user=cadre
        )
        assert form.is_valid(), form.errors

    def test_dropout_reason_for_student(self, hh, cadre):
        data = member_data(education="", school_status="02", birth=dt.date(2017, 9, 1), dropout_reason="1")
        assert errors(MemberForm(data, household=hh, user=cadre))["dropout_reason"] == [
            "在校生不应填写义务教育阶段未上学原因"
        ]

    def test_relationship_names_a_sex(self, hh, cadre):
        e = errors(MemberForm(member_data(relationship="03"), household=hh, user=cadre))  # 之子, ID says female
        assert e["sex"] == ["与户主关系为“之子”，性别应为“男”"]

    def test_second_head_refused_on_add(self, hh, cadre):
        form = MemberAddForm(member_data(relationship="01", reason="9", date="2026-01-01"), household=hh, user=cadre)
        e = errors(form)
        assert "relationship" in e  # 户主 is not offered while the household has one

    def test_both_medical_insurances(self, hh, cadre):
        e = errors(MemberForm(member_data(has_employee_medical_insurance="true"), household=hh, user=cadre))
        assert e["has_employee_medical_insurance"] == ["同时参加城乡居民基本医疗保险和城镇职工基本医疗保险（重复参保）"]

    def test_newborn_reason_for_an_adult(self, hh, cadre):
        form = MemberAddForm(member_data(reason="2", date="2026-01-01"), household=hh, user=cadre)
        assert "增加原因为“新生”" in errors(form)["reason"][0]

    def test_new_member_form_starts_from_model_defaults(self, hh, cadre):
        form = MemberAddForm(household=hh, user=cadre)
        assert (form["id_type"].value(), form["ethnicity"].value(), form["health"].value()) == ("1", "01", "1")
        assert form["date"].value() == dt.date.today()

    def test_code_valid_only_in_later_years(self, hh, cadre):
        # 弱劳动力或半劳动力 exists from 2021; a form for 2019 does not offer it.
        form = MemberForm(member_data(labour="5"), household=hh, user=cadre, year=2019)
        assert "labour" in errors(form)
        assert MemberForm(member_data(labour="5"), household=hh, user=cadre, year=2025).is_valid()


class TestYearForm:
    def base(self, **overrides):
        data = {"exit_status": "0", "attribute": "01", "main_cause": "01", "wage_income": "1000"}
        data |= {"business_income": "0", "property_income": "0", "transfer_income": "0", "claims_income": "0"}
        data |= {"production_expense": "0", "compliant_out_of_pocket": "0"}
        data.update(overrides)
        return data

    def test_valid(self, hh):
        form = HouseholdYearForm(self.base(), instance=HouseholdYear(household=hh, year=2016), year=2016)
        assert form.is_valid(), form.errors

    def test_causes_must_differ(self, hh):
        form = HouseholdYearForm(self.base(other_cause_1="01"), instance=HouseholdYear(household=hh), year=2016)
        assert errors(form)["other_cause_1"] == ["2016 年：其他致贫原因“因病”与主要致贫原因相同"]

    def test_attribute_contradicts_exit_status(self, hh):
        form = HouseholdYearForm(self.base(exit_status="1"), instance=HouseholdYear(household=hh), year=2016)
        assert errors(form)["attribute"] == ["2016 年：贫困户属性为“一般贫困户”，脱贫状态为“已脱贫（享受政策）”"]

    def test_negative_income_and_main_cause_required(self, hh):
        form = HouseholdYearForm(
            self.base(wage_income="-5", main_cause=""), instance=HouseholdYear(household=hh), year=2016
        )
        e = errors(form)
        assert e["wage_income"] == ["2016 年工资性收入为 -5.00 元，不能为负数"]
        assert "main_cause" in e

    def test_derived_figures_are_not_fields(self, hh):
        form = HouseholdYearForm(
            self.base(net_income="99999", per_capita_net_income="99999"),
            instance=HouseholdYear(household=hh),
            year=2016,
        )
        assert "net_income" not in form.fields and "per_capita_net_income" not in form.fields
        assert form.is_valid()
        assert form.save(commit=False).net_income == Decimal("0")


class TestHouseholdForm:
    def data(self, tree, **overrides):
        data = {"village": tree.village_a1, "identification_standard": "1", "phone": "13800001111"}
        data.update(overrides)
        return data

    def test_valid_and_number_generated(self, tree, village_user):
        form = HouseholdForm(self.data(tree), user=village_user)
        assert form.is_valid(), form.errors
        household = form.save()
        assert household.household_number == tree.village_a1 + "0001"

    def test_other_village_not_offered(self, tree, village_user):
        e = errors(HouseholdForm(self.data(tree, village=tree.village_b1), user=village_user))
        assert "village" in e

    def test_dangerous_house_contradictions(self, tree, village_user):
        e = errors(
            HouseholdForm(self.data(tree, is_dangerous_house="true", dangerous_house_grade="A"), user=village_user)
        )
        assert e["dangerous_house_grade"] == ["为危房户，但危房等级为 A 级（C、D 级才是危房）"]
        e = errors(
            HouseholdForm(self.data(tree, is_dangerous_house="false", dangerous_house_grade="D"), user=village_user)
        )
        assert e["is_dangerous_house"] == ["危房等级为 D 级，但“是否危房户”为否"]

    def test_monitoring_category_and_phone(self, tree, village_user):
        e = errors(HouseholdForm(self.data(tree, is_monitored="on", phone="12345"), user=village_user))
        assert e["monitoring_category"] == ["监测对象须选择监测对象类别"]
        assert "联系电话格式不正确" in e["phone"][0]

    def test_village_cannot_change_on_edit(self, tree, village_user):
        h = household_with_members(tree.village_a1, size=1)
        form = HouseholdForm(self.data(tree, village=tree.village_a2), instance=h, user=village_user)
        assert form.is_valid(), form.errors
        assert form.save().village_id == tree.village_a1
        assert Household.objects.unscoped().get(pk=h.pk).members.filter(status=MemberStatus.ACTIVE).count() == 1
