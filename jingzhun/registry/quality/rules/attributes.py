"""年龄与属性 (domain §5 items 10–18): labour, schooling and education against age and health."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.quality.codes import (
    ABLE_LABOUR,
    COMPLETED_JUNIOR,
    DROPOUT_HEALTH_REASONS,
    HEALTHY,
    LOW_EDUCATION,
    NO_LABOUR,
    PRESCHOOL,
    WEAK_OR_NO_LABOUR,
    label,
    quoted,
)
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts
from jingzhun.registry.quality.rule import ERROR, GROUP_AGE, WARNING, MemberResult, RuleSet

# 在校生状况 → (min age, max age) at the reference date (domain §5 item 14).
GRADE_AGES: dict[str, tuple[int, int | None]] = {
    "02": (6, 14),
    **dict.fromkeys(("07", "08", "09"), (12, 17)),
    **dict.fromkeys(("11", "12", "13", "21", "22", "23"), (15, 20)),
    **dict.fromkeys(("31", "32", "33", "40", "41"), (18, None)),
    "42": (20, None),
}

RULES = RuleSet()


@RULES.member("2_01_011", ERROR, GROUP_AGE, _("未满 16 周岁劳动技能应为无劳动力"), "§5.10")
def _child_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and age < 16 and m.labour != NO_LABOUR:
        return "labour", f"年龄 {age} 岁，劳动技能应为“无劳动力”"
    return None


@RULES.member("1111_07", WARNING, GROUP_AGE, _("在校生劳动技能应为无劳动力"), "§5.10")
def _student_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    # Under 16 is already an error of 2_01_011.
    if m.in_school and m.labour in ABLE_LABOUR and (age is None or age >= 16):
        return "labour", f"在校生（{label('school_status', m.school_status)}），劳动技能为{quoted('labour', m.labour)}"
    return None


@RULES.member("2_12_005", WARNING, GROUP_AGE, _("60 周岁及以上为普通或技能劳动力"), "§5.11")
def _elderly_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and age >= 60 and m.labour in ABLE_LABOUR:
        return "labour", f"年龄 {age} 岁，劳动技能为{quoted('labour', m.labour)}，请核实"
    return None


@RULES.member("5_12_008", WARNING, GROUP_AGE, _("劳动年龄内健康非在校生却无劳动能力"), "§5.12")
def _able_without_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and 16 <= age < 60 and m.health == HEALTHY and not m.in_school and m.labour in WEAK_OR_NO_LABOUR:
        return "labour", f"年龄 {age} 岁、健康、非在校生，劳动技能为{quoted('labour', m.labour)}，请核实"
    return None


def school_year_start(on: dt.date) -> dt.date:
    """1 Sept of the school year ``on`` falls in: children aged 6 by 31 Aug enter primary school."""
    return dt.date(on.year if on.month >= 9 else on.year - 1, 9, 1)


@RULES.member("1_02_005", WARNING, GROUP_AGE, _("义务教育阶段适龄人员未在校且无未上学原因"), "§5.13")
def _compulsory_school(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    entry_age = m.age(school_year_start(as_of) - dt.timedelta(days=1))
    if age is None or entry_age is None or entry_age < 6 or age > 15 or m.in_school or m.dropout_reason:
        return None
    if m.education in COMPLETED_JUNIOR:
        return None
    return "dropout_reason", f"年龄 {age} 岁，未填写在校生状况，也未填写义务教育阶段未上学原因"


@RULES.member("5_12_013", WARNING, GROUP_AGE, _("在校年级与年龄不符"), "§5.14")
def _grade_age(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is None:
        return None
    text = grade_age_mismatch(m, age)
    return ("school_status", text) if text else None


def grade_age_mismatch(m: MemberFacts, age: int, slack: int = 0) -> str | None:
    """5_12_013 for a member of ``age``; ``slack`` widens the grade's usual ages by as many years each way
    (a form refuses only a clear contradiction, the rule warns of any)."""
    bounds = GRADE_AGES.get(m.school_status)
    if bounds is None:
        return None
    low, high = bounds
    if age < low - slack or (high is not None and age > high + slack):
        span = f"{low}–{high} 岁" if high is not None else f"{low} 岁及以上"
        return f"年龄 {age} 岁，在校生状况为{quoted('school_status', m.school_status)}（应为 {span}）"
    return None


@RULES.member("5_12_018", WARNING, GROUP_AGE, _("7 周岁及以上健康人员仍为学前"), "§5.14")
def _preschool_too_old(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is None:
        return None
    if text := preschool_too_old(m, age):
        return "school_status", text
    if age >= 7 and m.health == HEALTHY and not m.in_school and m.education == "6":
        return "education", f"年龄 {age} 岁、健康，文化程度为“学龄前儿童”"
    return None


def preschool_too_old(m: MemberFacts, age: int, slack: int = 0) -> str | None:
    """5_12_018 on 在校生状况 for a member of ``age``: healthy, 7 or older (plus ``slack``), still 学前教育."""
    if m.school_status == PRESCHOOL and m.health == HEALTHY and age >= 7 + slack:
        return f"年龄 {age} 岁、健康，在校生状况为“学前教育”"
    return None


@RULES.member("5_17_001", WARNING, GROUP_AGE, _("16–22 周岁文化程度为小学及以下"), "§5.14")
def _young_low_education(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and 16 <= age <= 22 and not m.in_school and m.education in LOW_EDUCATION:
        return "education", f"年龄 {age} 岁，文化程度为{quoted('education', m.education)}，请核实"
    return None


@RULES.member("3_01_002", ERROR, GROUP_AGE, _("文化程度与在校生状况均未填写"), "§5.15")
def _education_missing(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if not m.in_school and not m.education:
        return "education", "非在校生应填写文化程度（在校生填写在校生状况）"
    return None


@RULES.member("3_01_003", WARNING, GROUP_AGE, _("文化程度与在校生状况同时填写"), "§5.15")
def _education_and_school(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.in_school and m.education:
        return (
            "education",
            f"在校生状况为{quoted('school_status', m.school_status)}，文化程度{quoted('education', m.education)}应不填",
        )
    return None


@RULES.member("2_01_012", WARNING, GROUP_AGE, _("未上学原因为因病或因残但健康状况为健康"), "§5.16")
def _dropout_reason_health(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.dropout_reason in DROPOUT_HEALTH_REASONS and m.health == HEALTHY:
        return "health", f"义务教育阶段未上学原因为{quoted('dropout_reason', m.dropout_reason)}，健康状况却为“健康”"
    return None


@RULES.member("4_01_007", WARNING, GROUP_AGE, _("一、二级肢体残疾却为普通或技能劳动力"), "§5.17")
def _severe_limb_disability_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    category, grade = m.disability
    if category == "4" and grade in ("1", "2") and m.labour in ABLE_LABOUR:
        return "labour", f"{grade} 级肢体残疾，劳动技能为{quoted('labour', m.labour)}，请核实"
    return None


@RULES.member("5_15_018", WARNING, GROUP_AGE, _("特困供养人员处于劳动年龄、健康且非在校"), "§5.18")
def _tekun_able(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if m.is_tekun and age is not None and 18 <= age < 60 and m.health == HEALTHY and not m.in_school:
        return "is_tekun", f"特困供养对象，年龄 {age} 岁、健康、非在校生，请核实供养条件"
    return None
