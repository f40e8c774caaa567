"""What a data-quality rule is: its code, level and group, the check it runs, and what it reports.

``level`` is ``error`` (blocks saving: identity and structure contradictions) or ``warning`` (recorded only:
plausibility and completeness). Codes of the Guizhou checker are kept where the domain reference gives them
(e.g. ``1_01_003``); others are ``JZ_nnn``. The rules themselves are in ``rules``, one module per group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_noop

from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts

ERROR = "error"
WARNING = "warning"

GROUP_IDENTITY = gettext_noop("身份")  # marked for translation; pages translate at render
GROUP_STRUCTURE = gettext_noop("户结构")
GROUP_AGE = gettext_noop("年龄与属性")
GROUP_INSURANCE = gettext_noop("保险")
GROUP_EMPLOYMENT = gettext_noop("就业")
GROUP_LAND = gettext_noop("土地住房")
GROUP_INCOME = gettext_noop("收入")
GROUP_YEAR = gettext_noop("年度信息")
GROUPS = (
    GROUP_IDENTITY,
    GROUP_STRUCTURE,
    GROUP_AGE,
    GROUP_INSURANCE,
    GROUP_EMPLOYMENT,
    GROUP_LAND,
    GROUP_INCOME,
    GROUP_YEAR,
)


@dataclass(frozen=True)
class Violation:
    rule_code: str
    level: str
    message: str
    member_index: int | None = None  # position in HouseholdFacts.members; None = the household
    member_id: int | None = None
    field: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


@dataclass(frozen=True)
class Finding:
    """What a check reports; the rule adds its code and level."""

    message: str
    field: str = ""
    member_index: int | None = None


# What a check finds in one member, household or yearly record: (field, text).
Problem = tuple[str, str]
Check = Callable[[HouseholdFacts, dt.date], Iterable[Finding]]
MemberResult = Problem | list[Problem] | None
MemberCheck = Callable[[MemberFacts, HouseholdFacts, dt.date], MemberResult]


@dataclass(frozen=True)
class Rule:
    """A household rule has ``check``; a member rule has ``member_check``, called per active member."""

    code: str
    level: str
    group: str
    title: str | Promise
    check: Check | None = None
    ref: str = ""  # item of domain §5
    member_check: MemberCheck | None = None

    def run(
        self, facts: HouseholdFacts, active: list[tuple[int, MemberFacts]], as_of: dt.date, out: list[Violation]
    ) -> None:
        """The rule over one household, its violations appended to ``out``. ``active`` is the household's
        ``active_members()``, listed once by the caller for every member rule; a member rule's message
        becomes "姓名：text" so every message names the person."""
        fn = self.member_check
        if fn is not None:
            for i, m in active:
                result = fn(m, facts, as_of)
                if not result:
                    continue
                for fld, text in result if isinstance(result, list) else [result]:
                    out.append(
                        Violation(self.code, self.level, f"{m.name or '（未填姓名）'}：{text}"[:300], i, m.id, fld)
                    )
            return
        assert self.check is not None  # a rule without member_check has check
        for f in self.check(facts, as_of):
            member = facts.members[f.member_index] if f.member_index is not None else None
            out.append(
                Violation(
                    rule_code=self.code,
                    level=self.level,
                    message=f.message[:300],
                    member_index=f.member_index,
                    member_id=member.id if member is not None else None,
                    field=f.field,
                )
            )

    def problems(self, member: MemberFacts, household: HouseholdFacts, as_of: dt.date) -> list[Problem]:
        """What this member rule finds in ``member``, the texts without the person's name."""
        assert self.member_check is not None, f"{self.code} is not a member rule"
        result = self.member_check(member, household, as_of)
        if not result:
            return []
        return result if isinstance(result, list) else [result]


class RuleSet:
    """The rules of one group module, in the order they are declared (the catalogue keeps that order)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def household(
        self, code: str, level: str, group: str, title: str | Promise, ref: str = ""
    ) -> Callable[[Check], Check]:
        """A rule over the whole household: the function yields Findings."""

        def register(fn: Check) -> Check:
            self.rules.append(Rule(code, level, group, title, check=fn, ref=ref))
            return fn

        return register

    def member(
        self, code: str, level: str, group: str, title: str | Promise, ref: str = ""
    ) -> Callable[[MemberCheck], MemberCheck]:
        """A rule over each active member: the function returns (field, text) or a list of them."""

        def register(fn: MemberCheck) -> MemberCheck:
            self.rules.append(Rule(code, level, group, title, ref=ref, member_check=fn))
            return fn

        return register
