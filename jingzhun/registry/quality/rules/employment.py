"""就业 (domain §5 items 21–25): work, 公益性岗位 and phone numbers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.quality.codes import LOST_OR_NO_LABOUR, OUTSIDE_COUNTY_WORK, OUTSIDE_TOWNSHIP_WORK, label, quoted
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts, normal_phone
from jingzhun.registry.quality.rule import ERROR, GROUP_EMPLOYMENT, WARNING, Finding, MemberResult, Problem, RuleSet

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")

RULES = RuleSet()


@RULES.member("2_01_015", WARNING, GROUP_EMPLOYMENT, _("在校生有务工状况"), "§5.21")
def _student_working(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.in_school and m.working:
        return (
            "work_status",
            f"在校生（{label('school_status', m.school_status)}），务工状况为{quoted('work_status', m.work_status)}",
        )
    return None


@RULES.member("4_01_006", WARNING, GROUP_EMPLOYMENT, _("无劳动力或丧失劳动力人员有务工状况"), "§5.21")
def _no_labour_working(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.labour in LOST_OR_NO_LABOUR and m.working:
        return (
            "work_status",
            f"劳动技能为{quoted('labour', m.labour)}，务工状况为{quoted('work_status', m.work_status)}",
        )
    return None


@RULES.member("5_01_004", WARNING, GROUP_EMPLOYMENT, _("特困供养人员外出务工"), "§5.21")
def _tekun_working_away(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.is_tekun and m.work_status in OUTSIDE_TOWNSHIP_WORK:
        return "work_status", f"特困供养对象，务工状况为{quoted('work_status', m.work_status)}"
    return None


@RULES.member("3_01_005", WARNING, GROUP_EMPLOYMENT, _("公益性岗位人员年龄不符（未满 16 或 70 岁及以上）"), "§5.22")
def _welfare_job_age(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if m.public_welfare_job and age is not None and (age < 16 or age >= 70):
        return "public_welfare_job", f"年龄 {age} 岁，担任公益性岗位“{m.public_welfare_job}”"
    return None


@RULES.member("3_01_006", ERROR, GROUP_EMPLOYMENT, _("公益性岗位与月数不匹配"), "§5.22")
def _welfare_job_months(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    return welfare_job_without_months(m) or welfare_months_without_job(m) or welfare_months_over_a_year(m)


# The three cases of 3_01_006, each on its own for a form (which checks them one at a time, each with the
# values the previous ones left valid).


def welfare_job_without_months(m: MemberFacts) -> Problem | None:
    if m.public_welfare_job and not m.public_welfare_months:
        return "public_welfare_months", f"担任公益性岗位“{m.public_welfare_job}”，未填写公益性岗位月数"
    return None


def welfare_months_without_job(m: MemberFacts) -> Problem | None:
    months = m.public_welfare_months or 0
    if not m.public_welfare_job and months > 0:
        return "public_welfare_job", f"公益性岗位月数为 {months}，未填写公益性岗位"
    return None


def welfare_months_over_a_year(m: MemberFacts) -> Problem | None:
    months = m.public_welfare_months or 0
    if months > 12:
        return "public_welfare_months", f"公益性岗位月数为 {months}，不能超过 12"
    return None


@RULES.member("5_01_003", WARNING, GROUP_EMPLOYMENT, _("县外务工人员担任公益性岗位"), "§5.23")
def _welfare_job_away(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.public_welfare_job and m.work_status in OUTSIDE_COUNTY_WORK:
        return (
            "public_welfare_job",
            f"务工状况为{quoted('work_status', m.work_status)}，又担任本地公益性岗位“{m.public_welfare_job}”",
        )
    return None


@RULES.member("JZ_501", ERROR, GROUP_EMPLOYMENT, _("务工时间超过 12 个月"), "§5.24")
def _work_months_range(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.work_months is not None and m.work_months > 12:
        return "work_months", f"务工时间为 {m.work_months} 个月，一年不能超过 12 个月"
    return None


@RULES.member("JZ_502", WARNING, GROUP_EMPLOYMENT, _("务工状况、务工时间和务工所在地不匹配"), "§5.24")
def _work_fields(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    months = m.work_months or 0
    if m.working and months == 0:
        return "work_months", f"务工状况为{quoted('work_status', m.work_status)}，未填写务工时间"
    if m.work_status in OUTSIDE_TOWNSHIP_WORK and not m.work_location:
        return "work_location", f"务工状况为{quoted('work_status', m.work_status)}，未填写务工所在地"
    return months_without_work_status(m)


def months_without_work_status(m: MemberFacts) -> Problem | None:
    """The last case of JZ_502: 务工时间 given, 务工状况 not."""
    months = m.work_months or 0
    if not m.working and months > 0:
        return "work_status", f"务工时间为 {months} 个月，未填写务工状况"
    return None


@RULES.household("2_01_013", WARNING, GROUP_EMPLOYMENT, _("联系电话不是有效的手机号码"), "§5.25")
def _phone_format(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.phone and not PHONE_RE.match(normal_phone(h.phone)):
        yield Finding(f"户 {h.household_number}：联系电话“{h.phone}”不是 11 位手机号码", "phone")
    for i, m in h.active_members():
        if m.phone and not PHONE_RE.match(normal_phone(m.phone)):
            yield Finding(f"{m.name}：联系电话“{m.phone}”不是 11 位手机号码", "phone", i)


@RULES.household("2_01_014", WARNING, GROUP_EMPLOYMENT, _("联系电话与其他户重复"), "§5.25")
def _phone_shared(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    reported: set[str] = set()
    own = normal_phone(h.phone)
    if own and h.phones_elsewhere.get(own):
        reported.add(own)
        yield Finding(
            f"户 {h.household_number}：联系电话 {own} 也是户 {'、'.join(h.phones_elsewhere[own])} 的联系电话", "phone"
        )
    for i, m in h.active_members():
        phone = normal_phone(m.phone)
        if phone and phone not in reported and h.phones_elsewhere.get(phone):
            reported.add(phone)
            yield Finding(
                f"{m.name}：联系电话 {phone} 也是户 {'、'.join(h.phones_elsewhere[phone])} 的联系电话", "phone", i
            )
