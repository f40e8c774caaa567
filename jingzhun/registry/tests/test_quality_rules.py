"""Every data-quality rule with a case that trips it and a near miss that does not (plain facts, no DB)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS

from jingzhun.policy.income import compute_income
from jingzhun.registry.idcard import check_char, make_id_number
from jingzhun.registry.quality.catalogue import (
    CATALOGUE,
    errors_for_forms,
    reference_date,
    validate_household,
    year_end,
)
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts, YearFacts
from jingzhun.registry.quality.rule import ERROR, GROUPS, WARNING

AS_OF = dt.date(2020, 12, 31)
_seq = iter(range(1, 100000))


def new_id(birth: dt.date, sex: str) -> str:
    return make_id_number("431102", birth, next(_seq) * 2, sex)


def person(name: str, birth: dt.date, sex: str, relationship: str, **kw) -> MemberFacts:
    values: dict[str, Any] = {
        "id": None,
        "name": name,
        "sex": sex,
        "id_number": new_id(birth, sex),
        "birth_date": birth,
        "relationship": relationship,
        "education": "3",
        "labour": "1",
        "health": "1",
        "has_serious_illness_insurance": True,
        "has_resident_medical_insurance": True,
        "has_employee_medical_insurance": False,
        "has_resident_pension": True,
        "has_employee_pension": False,
    }
    values.update(kw)
    return MemberFacts(**values)


def derive(y: YearFacts) -> YearFacts:
    r = compute_income(y.components(), y.member_count, y.formula)
    y.total_income, y.net_income, y.per_capita_net_income = r.total_income, r.net_income, r.per_capita_net_income
    return y


def base() -> HouseholdFacts:
    """A clean household: head 张大山 (50), spouse 李秀英 (48), son 张三 (12, 七年级), 2020 record."""
    members = [
        person("张大山", dt.date(1970, 5, 17), "1", "01"),
        person("李秀英", dt.date(1972, 3, 8), "2", "02"),
        person(
            "张三",
            dt.date(2008, 9, 1),
            "1",
            "03",
            education="",
            school_status="07",
            labour="4",
            has_resident_pension=None,
            has_employee_pension=None,
        ),
    ]
    year = YearFacts(
        year=2020,
        exit_status="1",
        attribute="05",
        main_cause="01",
        wage_income=Decimal("12000"),
        business_income=Decimal("3000"),
        transfer_income=Decimal("1500"),
        production_expense=Decimal("1500"),
        member_count=3,
        food_clothing_secure=True,
        education_secure=True,
        medical_secure=True,
        housing_secure=True,
        water_secure=True,
        exit_line=Decimal("4000"),
    )
    return HouseholdFacts(
        id=1,
        household_number="431102100201001",
        village_code="431102100201",
        phone="13812345678",
        exit_year=2019,
        paddy_land_mu=Decimal("2"),
        dry_land_mu=Decimal("1"),
        housing_area_m2=Decimal("90"),
        is_dangerous_house=False,
        has_electricity=True,
        drinking_water="1",
        has_safe_water=True,
        road_type="3",
        distance_to_main_road_km=Decimal("0.5"),
        has_sanitary_toilet=True,
        dibao_status="0",
        tekun_status="0",
        members=members,
        year=derive(year),
    )


def head(h: HouseholdFacts) -> MemberFacts:
    return h.members[0]


def spouse(h: HouseholdFacts) -> MemberFacts:
    return h.members[1]


def child(h: HouseholdFacts) -> MemberFacts:
    return h.members[2]


def rebirth(m: MemberFacts, birth: dt.date) -> None:
    m.birth_date = birth
    m.id_number = new_id(birth, m.sex)


def certificate(m: MemberFacts, suffix: str) -> None:
    """Make ``m`` a holder of a 20-digit 残疾人证号 (category + grade ``suffix``)."""
    m.id_number = m.id_number + suffix
    m.id_type = "2"
    m.health = "4"


def bad_birth_id() -> str:
    first17 = "431102" + "19701345" + "011"
    return first17 + check_char(first17)


def setter(target: Callable[[HouseholdFacts], object], **values) -> Callable[[HouseholdFacts], None]:
    def apply(h: HouseholdFacts) -> None:
        obj = target(h)
        for k, v in values.items():
            setattr(obj, k, v)

    return apply


def steps(*fns: Callable[[HouseholdFacts], None]) -> Callable[[HouseholdFacts], None]:
    def apply(h: HouseholdFacts) -> None:
        for fn in fns:
            fn(h)

    return apply


def year(h: HouseholdFacts) -> YearFacts:
    assert h.year is not None
    return h.year


def hh(h: HouseholdFacts) -> HouseholdFacts:
    return h


def nothing(h: HouseholdFacts) -> None:
    return None


WELFARE_JOB = {"public_welfare_job": "保洁员", "public_welfare_months": 12}


def _remove(m: MemberFacts, when: dt.date) -> None:
    m.active = False
    m.removal_reason = "1"
    m.removal_date = when


def remove_everyone(h: HouseholdFacts) -> None:
    for m in h.members:
        _remove(m, dt.date(2020, 6, 1))


# rule code → (change that trips it, near miss that does not)
CASES: dict[str, tuple[Callable[[HouseholdFacts], None], Callable[[HouseholdFacts], None]]] = {
    # 身份
    "4_01_003": (setter(head, id_number="999999197005170011"), nothing),
    "1_01_002": (
        lambda h: setattr(head(h), "id_number", head(h).id_number[:17]),
        lambda h: certificate(head(h), "41"),
    ),
    "1_01_003": (
        lambda h: setattr(
            head(h), "id_number", head(h).id_number[:17] + ("0" if head(h).id_number[17] != "0" else "1")
        ),
        lambda h: setattr(head(h), "id_number", " " + head(h).id_number.lower() + " "),
    ),
    "JZ_101": (steps(setter(head, id_number=bad_birth_id(), birth_date=None)), nothing),
    "JZ_102": (setter(head, birth_date=dt.date(1970, 5, 18)), setter(head, birth_date=None)),
    "2_01_004": (setter(head, sex="2"), setter(head, sex="9")),
    "2_02_001": (setter(child, sex="2"), setter(child, sex="2", relationship="04")),
    "2_12_008": (setter(spouse, sex="1"), setter(spouse, sex="1", relationship="21")),
    "1_01_001": (
        lambda h: setattr(spouse(h), "id_number", head(h).id_number),
        lambda h: setattr(h, "ids_elsewhere", {"431102197001010000": ("431102100201009",)}),
    ),
    "4_01_002": (setter(head, health="4"), lambda h: certificate(head(h), "41")),
    "JZ_103": (
        steps(lambda h: certificate(head(h), "41"), setter(head, disability_category="1")),
        steps(lambda h: certificate(head(h), "41"), setter(head, disability_category="4", disability_grade="1")),
    ),
    "JZ_104": (setter(head, id_type="2", health="4"), lambda h: certificate(head(h), "43")),
    # 户结构
    "3_11_001": (remove_everyone, nothing),
    "3_02_011": (setter(head, relationship="21"), nothing),
    "3_02_012": (setter(spouse, relationship="01"), nothing),
    "3_11_002": (
        setter(year, member_count=4),
        steps(
            lambda h: h.members.append(person("张老汉", dt.date(1940, 1, 1), "1", "11", labour="4")),
            lambda h: _remove(h.members[-1], dt.date(2021, 3, 1)),
            setter(year, member_count=4),
        ),
    ),
    "JZ_201": (setter(spouse, removal_reason="1"), lambda h: _remove(spouse(h), dt.date(2020, 6, 1))),
    # 年龄与属性
    "2_01_011": (setter(child, labour="1"), steps(lambda h: rebirth(child(h), dt.date(2004, 12, 31)))),
    "1111_07": (
        steps(lambda h: rebirth(child(h), dt.date(2003, 6, 1)), setter(child, school_status="12", labour="1")),
        steps(lambda h: rebirth(child(h), dt.date(2003, 6, 1)), setter(child, school_status="12", labour="4")),
    ),
    "2_12_005": (
        lambda h: rebirth(head(h), dt.date(1960, 1, 1)),
        lambda h: rebirth(head(h), dt.date(1961, 6, 1)),
    ),
    "5_12_008": (setter(head, labour="4"), setter(head, labour="4", health="2")),
    "1_02_005": (
        setter(child, school_status="", education="2"),
        setter(child, school_status="", education="2", dropout_reason="4"),
    ),
    "5_12_013": (setter(child, school_status="11"), setter(child, school_status="02")),
    "5_12_018": (
        setter(child, school_status="01"),
        steps(lambda h: rebirth(child(h), dt.date(2014, 6, 1)), setter(child, school_status="01")),
    ),
    "5_17_001": (
        steps(lambda h: rebirth(child(h), dt.date(2002, 3, 1)), setter(child, school_status="", education="2")),
        steps(lambda h: rebirth(child(h), dt.date(2002, 3, 1)), setter(child, school_status="", education="3")),
    ),
    "3_01_002": (setter(head, education=""), setter(head, education="", school_status="41")),
    "3_01_003": (setter(child, education="2"), nothing),
    "2_01_012": (
        setter(child, school_status="", education="2", dropout_reason="1"),
        setter(child, school_status="", education="2", dropout_reason="1", health="3"),
    ),
    "4_01_007": (lambda h: certificate(head(h), "42"), lambda h: certificate(head(h), "43")),
    "5_15_018": (setter(head, is_tekun=True), setter(head, is_tekun=True, health="3")),
    # 保险
    "2_01_008": (setter(head, has_employee_medical_insurance=True), nothing),
    "2_01_009": (
        setter(head, has_resident_medical_insurance=False),
        setter(head, has_resident_medical_insurance=False, is_active_military=True),
    ),
    "2_01_006": (
        setter(head, has_serious_illness_insurance=None),
        setter(head, has_serious_illness_insurance=False),
    ),
    "2_01_007": (
        setter(head, has_resident_pension=None, has_employee_pension=None),
        setter(head, has_resident_pension=False, has_employee_pension=None),
    ),
    "3_01_007": (
        setter(head, receives_medical_assistance=True, has_resident_medical_insurance=False),
        setter(head, receives_medical_assistance=True),
    ),
    # 就业
    "2_01_015": (setter(child, work_status="4"), setter(head, work_status="4", work_months=10, work_location="广东省")),
    "4_01_006": (
        setter(head, labour="4", work_status="1", work_months=6),
        setter(head, labour="5", work_status="1", work_months=6),
    ),
    "5_01_004": (
        setter(head, is_tekun=True, health="3", work_status="4", work_months=6, work_location="广东省"),
        setter(head, is_tekun=True, health="3", work_status="1", work_months=6),
    ),
    "3_01_005": (
        steps(lambda h: rebirth(head(h), dt.date(1950, 1, 1)), setter(head, labour="4", **WELFARE_JOB)),
        steps(lambda h: rebirth(head(h), dt.date(1951, 6, 1)), setter(head, labour="4", **WELFARE_JOB)),
    ),
    "3_01_006": (
        setter(head, public_welfare_job="保洁员"),
        setter(head, public_welfare_job="保洁员", public_welfare_months=10),
    ),
    "5_01_003": (
        setter(
            head,
            public_welfare_job="护林员",
            public_welfare_months=12,
            work_status="4",
            work_months=6,
            work_location="广东省",
        ),
        setter(head, public_welfare_job="护林员", public_welfare_months=12, work_status="1", work_months=6),
    ),
    "JZ_501": (setter(head, work_status="1", work_months=13), setter(head, work_status="1", work_months=12)),
    "JZ_502": (
        setter(head, work_status="4", work_months=10),
        setter(head, work_status="4", work_months=10, work_location="广东省东莞市"),
    ),
    "2_01_013": (setter(hh, phone="0746-1234567"), setter(hh, phone="138 1234 5678")),
    "2_01_014": (
        setter(hh, phones_elsewhere={"13812345678": ("431102100201002",)}),
        setter(hh, phones_elsewhere={"13900000000": ("431102100201002",)}),
    ),
    # 土地住房
    "3_02_001": (setter(hh, housing_area_m2=None), setter(hh, housing_area_m2=Decimal("0"))),
    "JZ_601": (setter(hh, forest_land_mu=Decimal("-1")), setter(hh, forest_land_mu=Decimal("0"))),
    "5_14_001": (
        setter(hh, paddy_land_mu=Decimal("60"), dry_land_mu=Decimal("41")),
        setter(hh, paddy_land_mu=Decimal("60"), dry_land_mu=Decimal("40")),
    ),
    "5_14_002": (
        setter(hh, distance_to_main_road_km=Decimal("5.5")),
        setter(hh, distance_to_main_road_km=Decimal("5")),
    ),
    "JZ_602": (
        setter(hh, is_dangerous_house=False, dangerous_house_grade="D"),
        setter(hh, is_dangerous_house=True, dangerous_house_grade="D"),
    ),
    "JZ_603": (
        setter(hh, is_dangerous_house=True),
        setter(hh, is_dangerous_house=True, dangerous_house_grade="C"),
    ),
    # 收入
    "JZ_701": (setter(year, per_capita_net_income=Decimal("5010.00")), setter(year, net_income=Decimal("15000.01"))),
    "JZ_702": (setter(year, property_income=Decimal("-100")), setter(year, property_income=Decimal("0"))),
    "4_11_012": (
        steps(
            setter(year, wage_income=Decimal("0")), setter(head, work_status="4", work_months=10, work_location="广东")
        ),
        setter(year, wage_income=Decimal("0")),
    ),
    "4_11_013": (
        steps(setter(hh, dibao_status="1"), setter(year, transfer_income=Decimal("0"))),
        setter(hh, dibao_status="1"),
    ),
    "JZ_703": (
        setter(year, per_capita_net_income=Decimal("3999.99")),
        setter(year, per_capita_net_income=Decimal("3999.99"), exit_status="0", attribute="01"),
    ),
    "1_02_006": (
        setter(year, monitoring_line=Decimal("6000")),
        steps(setter(year, monitoring_line=Decimal("6000")), setter(hh, is_monitored=True)),
    ),
    # 年度信息
    "JZ_801": (setter(year, main_cause=""), nothing),
    "JZ_802": (setter(year, other_cause_1="01"), setter(year, other_cause_1="09", other_cause_2="07")),
    "JZ_803": (setter(year, attribute="01"), setter(year, attribute="01", exit_status="0")),
    "JZ_804": (setter(year, attribute="02"), steps(setter(year, attribute="02"), setter(hh, dibao_status="1"))),
    "JZ_805": (setter(year, housing_secure=False), setter(year, housing_secure=False, exit_status="0", attribute="01")),
    "JZ_806": (setter(hh, exit_year=None), setter(hh, exit_year=2020)),
    "1_02_001": (
        setter(hh, is_dangerous_house=True, dangerous_house_grade="D"),
        steps(setter(hh, is_dangerous_house=True, dangerous_house_grade="D"), setter(year, year=2019)),
    ),
}


def codes(h: HouseholdFacts) -> set[str]:
    return {v.rule_code for v in validate_household(h, AS_OF)}


def test_base_household_is_clean():
    assert validate_household(base(), AS_OF) == []


def test_every_rule_has_cases():
    assert set(CASES) == set(CATALOGUE)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_trips(code):
    h = base()
    CASES[code][0](h)
    found = [v for v in validate_household(h, AS_OF) if v.rule_code == code]
    assert found, f"{code} did not trip"
    assert all(v.level == CATALOGUE[code].level for v in found)
    assert all(v.message for v in found)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_near_miss_passes(code):
    h = base()
    CASES[code][1](h)
    assert code not in codes(h)


def test_catalogue_entries_are_well_formed():
    for code, rule in CATALOGUE.items():
        assert rule.code == code
        assert rule.level in (ERROR, WARNING)
        assert rule.group in GROUPS
        assert str(rule.title)
        assert len(code) <= 20  # QualityIssue.rule_code


def test_message_names_person_and_field():
    h = base()
    child(h).labour = "1"
    [v] = [v for v in validate_household(h, AS_OF) if v.rule_code == "2_01_011"]
    assert v.message == "张三：年龄 12 岁，劳动技能应为“无劳动力”"
    assert v.field == "labour"
    assert v.member_index == 2
    assert v.level == ERROR


def test_age_is_taken_at_the_reference_date():
    h = base()
    rebirth(child(h), dt.date(2005, 6, 1))  # 15 on 31 Dec 2020, 16 a year later
    child(h).labour = "1"
    assert "2_01_011" in {v.rule_code for v in validate_household(h, dt.date(2020, 12, 31))}
    assert "2_01_011" not in {v.rule_code for v in validate_household(h, dt.date(2021, 12, 31))}


def test_duplicate_id_in_another_household_is_reported_on_the_member():
    h = base()
    base_id = spouse(h).id_number
    h.ids_elsewhere = {base_id: ("431102100201077",)}
    [v] = [v for v in validate_household(h, AS_OF) if v.rule_code == "1_01_001"]
    assert v.member_index == 1
    assert "431102100201077" in v.message
    assert base_id not in v.message  # masked


def test_certificate_number_and_id_of_same_person_are_duplicates():
    h = base()
    spouse(h).id_number = head(h).id_number + "41"
    spouse(h).id_type = "2"
    assert "1_01_001" in codes(h)


def test_several_heads_blame_the_extra_head():
    h = base()
    spouse(h).relationship = "01"
    [v] = [v for v in validate_household(h, AS_OF) if v.rule_code == "3_02_012"]
    assert v.member_index == 1 and "李秀英" in v.message


def test_removed_members_are_not_checked():
    h = base()
    _remove(child(h), dt.date(2020, 6, 1))
    child(h).labour = "1"
    year(h).member_count = 2
    derive(year(h))
    assert codes(h) == set()


def test_member_count_follows_additions_and_births_after_the_year():
    h = base()
    baby = person("张四", dt.date(2021, 2, 1), "2", "04", education="6", labour="4")
    h.members.append(baby)
    late = person("王五", dt.date(1990, 1, 1), "1", "06", addition_date=dt.date(2021, 5, 1))
    h.members.append(late)
    assert "3_11_002" not in codes(h)


def test_exit_line_missing_skips_the_rule():
    h = base()
    year(h).exit_line = None
    year(h).per_capita_net_income = Decimal("100")
    assert "JZ_703" not in codes(h)


def test_facts_from_dicts():
    """Imports can build facts from plain rows with the model's field names."""
    h = HouseholdFacts.from_data(
        {
            "id": 7,
            "household_number": "X1",
            "village_id": "431102100201",
            "phone": "13812345678",
            "housing_area_m2": "80",
        },
        [
            {"id": 1, "name": "赵一", "sex": "1", "id_number": new_id(dt.date(1980, 1, 1), "1"), "relationship": "01"},
            {"id": 2, "name": "赵二", "sex": "2", "id_number": "", "relationship": "02", "status": "removed"},
        ],
        YearFacts.from_data({"year": 2020, "exit_status": "0", "attribute": "01", "member_count": 1}),
    )
    assert h.village_code == "431102100201" and h.housing_area_m2 == Decimal("80")
    assert h.members[1].active is False
    violations = validate_household(h, AS_OF)
    found = {v.rule_code for v in violations}
    assert "4_01_003" not in found  # the removed member's empty ID is not checked
    assert "3_01_002" in found  # 赵一 has no 文化程度
    assert "JZ_801" in found  # no 主要致贫原因
    assert next(v for v in violations if v.rule_code == "3_01_002").member_id == 1


def test_errors_for_forms_member_form():
    h = base()
    child(h).labour = "1"  # member error
    spouse(h).relationship = "01"  # a second head: an error on the spouse, not on this member
    h.forest_land_mu = Decimal("-1")  # household-level land error
    violations = validate_household(h, AS_OF)
    errors = errors_for_forms(violations, member_index=2, fields=["labour", "sex"])
    assert errors == {"labour": ["张三：年龄 12 岁，劳动技能应为“无劳动力”"]}
    household_errors = errors_for_forms(violations, fields=["forest_land_mu"])
    assert list(household_errors) == ["forest_land_mu"]


def test_errors_for_forms_member_form_sees_structure_errors_and_no_warnings():
    h = base()
    head(h).relationship = "21"  # no head: household-level structure error
    head(h).has_serious_illness_insurance = None  # warning only
    violations = validate_household(h, AS_OF)
    errors = errors_for_forms(violations, member_index=0, fields=["name"])
    assert list(errors) == [NON_FIELD_ERRORS]
    assert "没有户主" in errors[NON_FIELD_ERRORS][0]


def test_rule_counts_by_group_and_level_cover_all_groups():
    groups = {rule.group for rule in CATALOGUE.values()}
    assert groups == set(GROUPS)
    assert {rule.level for rule in CATALOGUE.values()} == {ERROR, WARNING}
    assert len(CATALOGUE) >= 60


def test_compulsory_schooling_counts_from_the_school_year():
    """Children enter primary school when 6 by 31 Aug: one who turned 6 in October is not yet due."""
    h = base()
    rebirth(child(h), dt.date(2014, 10, 1))  # 6 on 31 Dec 2020, 5 on 31 Aug 2020
    child(h).school_status, child(h).education = "", "6"
    assert "1_02_005" not in codes(h)
    rebirth(child(h), dt.date(2014, 8, 1))
    assert "1_02_005" in codes(h)


def test_reference_date():
    today = dt.date(2026, 11, 24)
    assert reference_date(None, today) == today
    assert reference_date(2026, today) == today
    assert reference_date(2025, today) == today  # live member rows describe the present
    assert reference_date(2020, today) == dt.date(2020, 12, 31)  # an old snapshot
    assert year_end(2019) == dt.date(2019, 12, 31)


def test_members_registered_today_count_in_earlier_years_but_people_who_joined_later_do_not():
    """建档立卡 dates the registration, not the person joining: a household registered today with last
    year's figures is not told that nobody lived in it then (3_11_002); a 婚入 this year still is."""
    year_end = dt.date(2025, 12, 31)
    today = dt.date(2026, 11, 24)
    registered = person("张大山", dt.date(1970, 5, 17), "1", "01", addition_date=today, addition_reason="1")
    married_in = person("李秀英", dt.date(1990, 3, 8), "2", "02", addition_date=today, addition_reason="3")
    assert registered.present_on(year_end)
    assert not married_in.present_on(year_end)
