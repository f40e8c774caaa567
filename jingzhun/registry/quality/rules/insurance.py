"""保险 (domain §5 items 19–20): medical and pension insurance."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts
from jingzhun.registry.quality.rule import GROUP_INSURANCE, WARNING, MemberResult, RuleSet

RULES = RuleSet()


@RULES.member("2_01_008", WARNING, GROUP_INSURANCE, _("同时参加城乡居民医保和职工医保"), "§5.19")
def _double_medical(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.has_resident_medical_insurance and m.has_employee_medical_insurance:
        return "has_employee_medical_insurance", "同时参加城乡居民基本医疗保险和城镇职工基本医疗保险（重复参保）"
    return None


@RULES.member("2_01_009", WARNING, GROUP_INSURANCE, _("未参加基本医疗保险或未填写"), "§5.19")
def _no_medical(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.is_active_military or m.medically_insured:  # 现役军人 are covered by military medical care
        return None
    if m.has_resident_medical_insurance is None and m.has_employee_medical_insurance is None:
        return "has_resident_medical_insurance", "未填写是否参加基本医疗保险"
    return "has_resident_medical_insurance", "未参加城乡居民或城镇职工基本医疗保险"


@RULES.member("2_01_006", WARNING, GROUP_INSURANCE, _("是否参加大病保险未填写"), "§5.19")
def _serious_illness_missing(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.has_serious_illness_insurance is None and not m.is_active_military:
        return "has_serious_illness_insurance", "未填写是否参加大病保险"
    return None


@RULES.member("2_01_007", WARNING, GROUP_INSURANCE, _("养老保险参保情况未填写"), "§5.19")
def _pension_missing(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    # Pension insurance starts at 16 for non-students.
    if age is None or age < 16 or m.in_school or m.is_active_military:
        return None
    if m.has_resident_pension is None and m.has_employee_pension is None:
        return "has_resident_pension", f"年龄 {age} 岁，未填写是否参加城乡居民或城镇职工基本养老保险"
    return None


@RULES.member("3_01_007", WARNING, GROUP_INSURANCE, _("接受医疗救助但未参加基本医疗保险"), "§5.20")
def _assistance_without_insurance(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.receives_medical_assistance and not m.medically_insured:
        return "receives_medical_assistance", "接受医疗救助，但未参加基本医疗保险"
    return None
