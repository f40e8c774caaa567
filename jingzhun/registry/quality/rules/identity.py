"""身份 (domain §5 items 1–6): the 证件号码, birth date and sex against it, 残疾人证, one person in one household."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.idcard import DISABILITY_CATEGORIES, PLACEHOLDER_PREFIX, mask_id_number
from jingzhun.registry.quality.codes import (
    DISABLED,
    FEMALE_RELATIONSHIPS,
    HEAD,
    ID_TYPE_DISABILITY,
    MALE_RELATIONSHIPS,
    SEX_CODES,
    SPOUSE,
    quoted,
)
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts
from jingzhun.registry.quality.rule import ERROR, GROUP_IDENTITY, WARNING, Finding, MemberResult, Problem, RuleSet

RULES = RuleSet()


def _id_rules_apply(m: MemberFacts) -> bool:
    return m.checks_id_number and not m.idp.placeholder


@RULES.member("4_01_003", ERROR, GROUP_IDENTITY, _("证件号码为空或为占位号码"), "§5.3")
def _placeholder_id(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if not m.idp.number:
        return "id_number", "证件号码未填写"
    if m.idp.placeholder:
        return "id_number", f"证件号码为占位号码（以 {PLACEHOLDER_PREFIX} 开头），请填写真实号码"
    return None


@RULES.member("1_01_002", ERROR, GROUP_IDENTITY, _("证件号码位数或残疾人证号后缀错误"), "§5.2")
def _id_length(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if not _id_rules_apply(m):
        return None
    p = m.idp
    if not p.length_ok:
        return "id_number", f"证件号码应为 18 位（残疾人证号 20 位），当前 {len(p.number)} 位"
    if not p.suffix_ok:
        if len(p.number) == 20 and p.category not in DISABILITY_CATEGORIES:
            return "id_number", f"残疾人证号第 19 位残疾类别“{p.category}”无效（应为 1–7）"
        if len(p.number) == 20:
            return "id_number", f"残疾人证号第 20 位残疾等级“{p.grade}”无效（应为 1–4）"
        return "id_number", "证件号码第 19 位起应为数字"
    return None


@RULES.member("1_01_003", ERROR, GROUP_IDENTITY, _("身份证号码校验位错误"), "§5.1")
def _id_checksum(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not p.length_ok:
        return None
    if not p.format_ok:
        return "id_number", "证件号码前 17 位应为数字，第 18 位为数字或 X"
    if not p.checksum_ok:
        return "id_number", f"证件号码校验位错误（第 18 位应为 {p.expected_check}）"
    return None


@RULES.member("JZ_101", ERROR, GROUP_IDENTITY, _("证件号码中的出生日期无效"), "§5.1")
def _id_birth(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not (p.length_ok and p.format_ok and p.checksum_ok):
        return None
    latest = max(as_of, dt.date.today())
    if p.birth is None:
        return "id_number", f"证件号码中的出生日期 {p.base[6:14]} 不存在"
    if p.birth > latest or p.birth.year < 1890:
        return "id_number", f"证件号码中的出生日期 {p.birth:%Y-%m-%d} 不合理"
    return None


@RULES.member("JZ_102", ERROR, GROUP_IDENTITY, _("出生日期与证件号码不一致"), "§5.1")
def _birth_matches_id(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not p.sound or p.birth is None or m.birth_date is None:
        return None
    if m.birth_date != p.birth:
        return "birth_date", f"出生日期 {m.birth_date:%Y-%m-%d} 与证件号码中的 {p.birth:%Y-%m-%d} 不一致"
    return None


@RULES.member("2_01_004", ERROR, GROUP_IDENTITY, _("性别与身份证号码不一致"), "§5.6")
def _sex_matches_id(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not p.sound or m.sex not in SEX_CODES:
        return None
    if m.sex != p.sex:
        return "sex", f"性别为{quoted('sex', m.sex)}，证件号码第 17 位表示{quoted('sex', p.sex)}"
    return None


@RULES.member("2_02_001", ERROR, GROUP_IDENTITY, _("性别与“与户主关系”不一致"), "§5.6")
def _sex_matches_relationship(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.sex == "2" and m.relationship in MALE_RELATIONSHIPS:
        return "sex", f"与户主关系为{quoted('relationship', m.relationship)}，性别应为“男”"
    if m.sex == "1" and m.relationship in FEMALE_RELATIONSHIPS:
        return "sex", f"与户主关系为{quoted('relationship', m.relationship)}，性别应为“女”"
    return None


@RULES.household("2_12_008", ERROR, GROUP_IDENTITY, _("户主与配偶性别相同"), "§5.6")
def _head_spouse_sex(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    heads = [m for _i, m in h.active_members() if m.relationship == HEAD and m.sex in SEX_CODES]
    if len(heads) != 1:
        return
    head = heads[0]
    for i, m in h.active_members():
        if text := same_sex_as_head(m, head):
            yield Finding(f"{m.name}：{text}", "sex", i)


def same_sex_as_head(member: MemberFacts, head: MemberFacts) -> str | None:
    """2_12_008 for one member: a 配偶 of the 户主's sex (the text does not name the member)."""
    if member.relationship == SPOUSE and head.sex in SEX_CODES and member.sex == head.sex:
        return f"为户主{head.name}的配偶，但二人性别均为{quoted('sex', member.sex)}"
    return None


@RULES.household("1_01_001", ERROR, GROUP_IDENTITY, _("同一证件号码在多个户或本户重复出现"), "§5.4")
def _duplicate_id(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    seen: dict[str, MemberFacts] = {}
    for i, m in h.active_members():
        if not _id_rules_apply(m) or not m.idp.length_ok:
            continue
        base = m.idp.base
        masked = mask_id_number(base)
        if base in seen:
            yield Finding(f"{m.name}：证件号码 {masked} 与本户{seen[base].name}重复", "id_number", i)
        else:
            seen[base] = m
        others = h.ids_elsewhere.get(base)
        if others:
            yield Finding(
                f"{m.name}：证件号码 {masked} 同时在户 {'、'.join(others)} 中在册（同一人只能在一个户）",
                "id_number",
                i,
            )


@RULES.member("4_01_002", WARNING, GROUP_IDENTITY, _("健康状况为残疾但证件类型不是残疾人证"), "§5.5")
def _disabled_without_certificate(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.health == DISABLED and m.id_type != ID_TYPE_DISABILITY:
        return "id_type", f"健康状况为“残疾”，证件类型为{quoted('id_type', m.id_type)}，应为“残疾人证”"
    return None


@RULES.member("JZ_103", ERROR, GROUP_IDENTITY, _("残疾类别、等级与残疾人证号不一致"), "§5.2")
def _disability_fields_match(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not p.sound or len(p.number) != 20:
        return None
    out = []
    if m.disability_category and m.disability_category != p.category:
        out.append(
            (
                "disability_category",
                f"残疾类别为“{DISABILITY_CATEGORIES.get(m.disability_category, m.disability_category)}”，"
                f"残疾人证号表示“{DISABILITY_CATEGORIES[p.category]}”",
            )
        )
    if m.disability_grade and m.disability_grade != p.grade:
        out.append(("disability_grade", f"残疾等级为 {m.disability_grade} 级，残疾人证号表示 {p.grade} 级"))
    return out or None


@RULES.member("JZ_104", WARNING, GROUP_IDENTITY, _("证件类型、健康状况与残疾人证号不一致"), "§5.2/5.5")
def _certificate_consistency(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    problems = certificate_problems(m)
    return problems[0] if problems else None


def certificate_problems(m: MemberFacts) -> list[Problem]:
    """Everything JZ_104 can find in one member (the rule reports the first; a form shows them all)."""
    p = m.idp
    if not p.sound:
        return []
    certificate = len(p.number) == 20
    problems = []
    if m.id_type == ID_TYPE_DISABILITY and not certificate:
        problems.append(("id_number", "证件类型为“残疾人证”，证件号码应为 20 位残疾人证号"))
    if certificate and m.id_type != ID_TYPE_DISABILITY:
        problems.append(
            ("id_type", f"证件号码为 20 位残疾人证号，证件类型为{quoted('id_type', m.id_type)}，应为“残疾人证”")
        )
    if certificate and m.health != DISABLED:
        problems.append(("health", f"持残疾人证，健康状况为{quoted('health', m.health)}，应为“残疾”"))
    return problems
