"""The rule catalogue: every rule by code, in the order they run, and running them over one household.

``validate_household(facts, as_of)`` runs every rule of ``CATALOGUE``. ``as_of`` is the reference date for
ages. The Django helpers default it to today, because member rows (在校生状况, 劳动技能 …) describe the
present, not the record year; pass ``year_end(year)`` (31 Dec, the 统计时点) to check a historical
snapshot, or ``reference_date(year)`` (today for recent records, 31 Dec for old ones) for imported files.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS

from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts
from jingzhun.registry.quality.rule import GROUP_IDENTITY, GROUP_STRUCTURE, Problem, Rule, RuleSet, Violation
from jingzhun.registry.quality.rules import (
    attributes,
    employment,
    identity,
    income,
    insurance,
    land,
    structure,
    yearly,
)


def _catalogue(*groups: RuleSet) -> dict[str, Rule]:
    catalogue: dict[str, Rule] = {}
    for group in groups:
        for rule in group.rules:
            if rule.code in catalogue:
                raise ValueError(f"duplicate rule code {rule.code}")
            catalogue[rule.code] = rule
    return catalogue


# rule code → Rule, in the order of domain §5 (findings come out in this order).
CATALOGUE = _catalogue(
    identity.RULES,
    structure.RULES,
    attributes.RULES,
    insurance.RULES,
    employment.RULES,
    land.RULES,
    income.RULES,
    yearly.RULES,
)


def validate_household(facts: HouseholdFacts, as_of: dt.date) -> list[Violation]:
    """Every rule of the catalogue over one household; ``as_of`` is the reference date for ages."""
    violations: list[Violation] = []
    # The active members are listed once for all member rules, and every rule appends straight to the
    # result (imports check 50,000 households).
    active = list(facts.active_members())
    for rule in CATALOGUE.values():
        rule.run(facts, active, as_of, violations)
    return violations


def member_problems(member: MemberFacts, codes: Iterable[str], as_of: dt.date) -> list[Problem]:
    """What the member rules ``codes`` find in one member, for a form that shows them on its own fields
    (the texts do not start with the person's name, as the rules' messages do)."""
    household = HouseholdFacts(members=[member])
    return [problem for code in codes for problem in CATALOGUE[code].problems(member, household, as_of)]


def year_end(year: int) -> dt.date:
    """31 Dec of ``year``: the 统计时点, as reference date for checking a historical snapshot."""
    return dt.date(year, 12, 31)


def reference_date(year: int | None = None, today: dt.date | None = None) -> dt.date:
    """The date ages are counted at for data whose yearly record is of ``year``.

    Today for no year or a record of this or last year: member rows (在校生状况, 劳动技能 …) then describe
    the present, and 31 Dec of last year would make a pupil who entered a grade this autumn look a year
    too young. 31 Dec of ``year`` for older records, taken to be a snapshot of that year (an import of
    an old file).
    """
    today = today or dt.date.today()
    if year is None or year >= today.year - 1:
        return today
    return year_end(year)


# Household-level errors of these groups concern the members too (no head, two heads …), so a member
# form shows them; other household-level errors belong to the household form.
MEMBER_FORM_HOUSEHOLD_GROUPS = frozenset({GROUP_IDENTITY, GROUP_STRUCTURE})


def errors_for_forms(
    violations: Iterable[Violation],
    *,
    member_index: int | None = None,
    fields: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """The blocking errors for one form as ``{field: [messages]}``, for ``raise ValidationError(...)``.

    ``member_index`` None = the household form (household-level errors); else a member form (that
    member's errors plus household-level identity/structure errors). A rule's field not in ``fields``
    (when given) goes under NON_FIELD_ERRORS.
    """
    allowed = set(fields) if fields is not None else None
    out: dict[str, list[str]] = defaultdict(list)
    for v in violations:
        if not v.is_error:
            continue
        if member_index is None:
            if v.member_index is not None:
                continue
        elif v.member_index != member_index and not (
            v.member_index is None and CATALOGUE[v.rule_code].group in MEMBER_FORM_HOUSEHOLD_GROUPS
        ):
            continue
        key = v.field if v.field and (allowed is None or v.field in allowed) else NON_FIELD_ERRORS
        if v.message not in out[key]:
            out[key].append(v.message)
    return dict(out)
