"""年度信息: the yearly record's causes, attribute and exit status against the household."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.quality.codes import (
    DIBAO_ATTRIBUTES,
    EXITED,
    EXITED_ATTRIBUTES,
    GENERAL_ATTRIBUTES,
    NOT_EXITED,
    POOR_ATTRIBUTES,
    RECEIVING,
    TEKUN_ATTRIBUTES,
    label,
    quoted,
)
from jingzhun.registry.quality.facts import SECURITY_FLAGS, HouseholdFacts, YearFacts
from jingzhun.registry.quality.rule import ERROR, GROUP_YEAR, WARNING, Finding, Problem, RuleSet

MONITORING_FROM_YEAR = 2020  # 防止返贫动态监测 began in 2020 (domain §3.7)

RULES = RuleSet()


@RULES.household("JZ_801", ERROR, GROUP_YEAR, _("主要致贫原因未填写"), "§2.2")
def _main_cause_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is not None and not h.year.main_cause:
        yield Finding(f"{h.year.year} 年：建档立卡户必须填写主要致贫原因（单选）", "main_cause")


@RULES.household("JZ_802", ERROR, GROUP_YEAR, _("其他致贫原因与主要致贫原因重复"), "§2.2")
def _other_causes(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is not None:
        for name, text in repeated_causes(h.year):
            yield Finding(text, name)


def repeated_causes(y: YearFacts) -> list[Problem]:
    """JZ_802 over one yearly record."""
    problems = []
    for name in ("other_cause_1", "other_cause_2"):
        code = getattr(y, name)
        if code and code == y.main_cause:
            problems.append((name, f"{y.year} 年：其他致贫原因{quoted('poverty_cause', code)}与主要致贫原因相同"))
    if y.other_cause_1 and y.other_cause_1 == y.other_cause_2 and y.other_cause_1 != y.main_cause:
        problems.append(
            ("other_cause_2", f"{y.year} 年：两项其他致贫原因均为{quoted('poverty_cause', y.other_cause_1)}")
        )
    return problems


@RULES.household("JZ_803", WARNING, GROUP_YEAR, _("贫困户属性与脱贫状态矛盾"), "§2.4")
def _attribute_vs_exit(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is not None and (problem := attribute_contradicts_exit(h.year)):
        name, text = problem
        yield Finding(text, name)


def attribute_contradicts_exit(y: YearFacts) -> Problem | None:
    """JZ_803 over one yearly record: a 贫困户 attribute with an exited status, or the reverse."""
    if (y.attribute in POOR_ATTRIBUTES and y.exit_status in EXITED) or (
        y.attribute in EXITED_ATTRIBUTES and y.exit_status in NOT_EXITED
    ):
        return (
            "attribute",
            f"{y.year} 年：贫困户属性为{quoted('household_attribute', y.attribute)}，"
            f"脱贫状态为{quoted('exit_status', y.exit_status)}",
        )
    return None


@RULES.household("JZ_804", WARNING, GROUP_YEAR, _("贫困户属性与低保、特困供养享受情况不一致"), "§2.4")
def _attribute_vs_welfare(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.attribute:
        return
    attr = quoted("household_attribute", y.attribute)
    if y.attribute in DIBAO_ATTRIBUTES and h.dibao_status == "0":
        yield Finding(f"{y.year} 年：贫困户属性为{attr}，但享受低保政策情况为“未享受”", "dibao_status")
    if y.attribute in TEKUN_ATTRIBUTES and h.tekun_status == "0":
        yield Finding(f"{y.year} 年：贫困户属性为{attr}，但享受特困供养政策情况为“不享受”", "tekun_status")
    if y.attribute in GENERAL_ATTRIBUTES and (h.dibao_status in RECEIVING or h.tekun_status in RECEIVING):
        yield Finding(f"{y.year} 年：贫困户属性为{attr}，但本户享受低保或特困供养", "attribute")


@RULES.household("JZ_805", WARNING, GROUP_YEAR, _("已脱贫但“两不愁三保障”未全部实现"), "§3.3")
def _exited_insecure(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited:
        return
    missing = [text for name, text in SECURITY_FLAGS if getattr(y, name) is False]
    if missing:
        yield Finding(f"{y.year} 年{label('exit_status', y.exit_status)}，但{'、'.join(missing)}为“否”", "exit_status")


@RULES.household("JZ_806", WARNING, GROUP_YEAR, _("脱贫年度与脱贫状态不一致"), "§2.2")
def _exit_year(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None:
        return
    if y.exited and h.exit_year is None:
        yield Finding(f"{y.year} 年脱贫状态为{quoted('exit_status', y.exit_status)}，未填写脱贫年度", "exit_year")
    elif y.exited and h.exit_year is not None and h.exit_year > y.year:
        yield Finding(f"{y.year} 年已脱贫，但脱贫年度为 {h.exit_year} 年", "exit_year")
    elif y.exit_status == "0" and h.exit_year is not None and h.exit_year <= y.year:
        yield Finding(f"脱贫年度为 {h.exit_year} 年，但 {y.year} 年脱贫状态为“未脱贫”", "exit_year")


@RULES.household("1_02_001", WARNING, GROUP_YEAR, _("脱贫户存在住房、饮水或医保问题但未纳入监测"), "§5.31")
def _exited_problem_not_monitored(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited or y.year < MONITORING_FROM_YEAR or h.is_monitored:
        return
    problems = []
    if h.is_dangerous_house:
        problems.append("住房为危房")
    if h.has_safe_water is False:
        problems.append("未解决安全饮用水")
    uninsured = [m.name for _i, m in h.active_members() if not m.medically_insured and not m.is_active_military]
    if uninsured:
        problems.append(f"{'、'.join(uninsured)}未参加基本医疗保险")
    if problems:
        yield Finding(f"脱贫户{'，'.join(problems)}，但未纳入防返贫监测对象", "is_monitored")
