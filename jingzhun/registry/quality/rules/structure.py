"""户结构 (domain §5 items 7–9): members, one 户主, 家庭人口数, removed people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.quality.codes import HEAD, quoted
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts
from jingzhun.registry.quality.rule import ERROR, GROUP_STRUCTURE, WARNING, Finding, MemberResult, RuleSet

RULES = RuleSet()


@RULES.household("3_11_001", ERROR, GROUP_STRUCTURE, _("户内没有在户成员"), "§5.8")
def _no_members(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.active and not any(True for _ in h.active_members()):
        yield Finding(f"户 {h.household_number}：没有在户成员")


@RULES.household("3_02_011", ERROR, GROUP_STRUCTURE, _("户内没有户主"), "§5.7")
def _no_head(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    active = list(h.active_members())
    if active and not any(m.relationship == HEAD for _i, m in active):
        yield Finding(f"户 {h.household_number}：在户成员中没有户主（与户主关系为“户主”的成员）", "relationship")


@RULES.household("3_02_012", ERROR, GROUP_STRUCTURE, _("户主多于一人"), "§5.7")
def _several_heads(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    heads = [(i, m) for i, m in h.active_members() if m.relationship == HEAD]
    for i, m in heads[1:]:
        yield Finding(f"{m.name}：与户主关系为“户主”，但本户已有户主{heads[0][1].name}", "relationship", i)


@RULES.household("3_11_002", WARNING, GROUP_STRUCTURE, _("家庭人口数与成员数不一致"), "§5.8")
def _size_matches(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    # 家庭人口数 is derived when the yearly record is saved; a difference means the record is stale.
    if h.year is None:
        return
    year_end = dt.date(h.year.year, 12, 31)
    present = sum(1 for m in h.members if m.present_on(year_end))
    if h.year.member_count != present:
        yield Finding(
            f"{h.year.year} 年家庭人口数为 {h.year.member_count} 人，当年末在户成员为 {present} 人",
            "member_count",
        )


@RULES.member("JZ_201", ERROR, GROUP_STRUCTURE, _("已登记减少的人员仍为在户"), "§5.9")
def _removed_but_active(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.removal_reason:
        return "status", f"已填写人员减少原因{quoted('member_removal', m.removal_reason)}，但人员状态仍为“在户”"
    if m.removal_date is not None:
        return "status", f"已填写减少日期 {m.removal_date:%Y-%m-%d}，但人员状态仍为“在户”"
    return None
