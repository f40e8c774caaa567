"""收入 (domain §5 items 29–31): the yearly record's income against its formula, the members and the poverty lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from jingzhun.policy.income import CENT, DEDUCTION_ITEMS, INCOME_ITEMS, compute_income
from jingzhun.registry.quality.codes import RECEIVING, label
from jingzhun.registry.quality.facts import HouseholdFacts, YearFacts
from jingzhun.registry.quality.rule import ERROR, GROUP_INCOME, WARNING, Finding, Problem, RuleSet

RULES = RuleSet()


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元"


@RULES.household("JZ_701", WARNING, GROUP_INCOME, _("纯收入、人均纯收入与计算口径不符"), "§5.29")
def _income_formula(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    # Derived figures are recomputed on save; a difference means the record was typed or is stale.
    y = h.year
    if y is None:
        return
    expected = compute_income(y.components(), y.member_count, y.formula)
    pairs = (
        ("total_income", "家庭总收入", y.total_income, expected.total_income),
        ("net_income", "家庭纯收入", y.net_income, expected.net_income),
        ("per_capita_net_income", "家庭年人均纯收入", y.per_capita_net_income, expected.per_capita_net_income),
    )
    for name, text, stored, computed in pairs:
        if abs(stored - computed) > CENT:
            yield Finding(f"{y.year} 年{text}为 {_yuan(stored)}，按计算口径应为 {_yuan(computed)}", name)


@RULES.household("JZ_702", ERROR, GROUP_INCOME, _("收入或支出项为负数"), "§5.29")
def _negative_income(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is not None:
        for name, text in negative_amounts(h.year):
            yield Finding(text, name)


def negative_amounts(y: YearFacts) -> list[Problem]:
    """JZ_702 over one yearly record."""
    problems = []
    for name, text in INCOME_ITEMS + DEDUCTION_ITEMS:
        value = getattr(y, name)
        if value < 0:
            problems.append((name, f"{y.year} 年{text}为 {_yuan(value)}，不能为负数"))
    return problems


@RULES.household("4_11_012", WARNING, GROUP_INCOME, _("有务工或公益性岗位成员但工资性收入为 0"), "§5.30")
def _wage_income_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is None or h.year.wage_income > 0:
        return
    workers = [m.name for _i, m in h.active_members() if m.working or m.public_welfare_job]
    if workers:
        yield Finding(f"{h.year.year} 年工资性收入为 0，但{'、'.join(workers)}有务工或公益性岗位", "wage_income")


@RULES.household("4_11_013", WARNING, GROUP_INCOME, _("享受低保或特困供养但转移性收入为 0"), "§5.30")
def _transfer_income_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is None or h.year.transfer_income > 0:
        return
    receiving = h.dibao_status in RECEIVING or h.tekun_status in RECEIVING
    receiving = receiving or any(m.is_dibao or m.is_tekun for _i, m in h.active_members())
    if receiving:
        yield Finding(f"{h.year.year} 年转移性收入为 0，但本户享受低保或特困供养", "transfer_income")


@RULES.household("JZ_703", WARNING, GROUP_INCOME, _("已脱贫户人均纯收入低于当年脱贫验收收入标准"), "§4.1")
def _exited_below_line(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited or y.exit_line is None:
        return
    if y.per_capita_net_income < y.exit_line:
        yield Finding(
            f"{y.year} 年{label('exit_status', y.exit_status)}，人均纯收入 {_yuan(y.per_capita_net_income)}，"
            f"低于当年脱贫验收收入标准 {_yuan(y.exit_line)}",
            "per_capita_net_income",
        )


@RULES.household("1_02_006", WARNING, GROUP_INCOME, _("脱贫户收入低于监测范围但未纳入监测"), "§5.31")
def _exited_below_monitoring(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited or y.monitoring_line is None or h.is_monitored:
        return
    if y.per_capita_net_income < y.monitoring_line:
        yield Finding(
            f"{y.year} 年人均纯收入 {_yuan(y.per_capita_net_income)}，低于防返贫监测范围 {_yuan(y.monitoring_line)}，"
            "但未纳入监测对象",
            "is_monitored",
        )
