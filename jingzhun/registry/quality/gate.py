"""The data-quality gate around a write to the registry: the write and the rules over the households it
touched run in one savepoint, and an error-level finding the write introduced undoes it all (data and
audit entries alike).

Errors a household already had before the write do not block it, so an unrelated correction stays
possible; unless the write is undone, every finding is recorded (问题台账).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import transaction

from jingzhun.audit.context import audit_reason
from jingzhun.registry.models import Household
from jingzhun.registry.quality.db import check_household, record_issues
from jingzhun.registry.quality.rule import ERROR, Violation

T = TypeVar("T")
# What identifies a finding across two checks of the same household.
FindingKey = tuple[str, int | None, str, str]


class QualityRejected(Exception):
    """The write introduced error-level findings (``violations``) and was undone."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


def checked_write(
    write: Callable[[], T],
    households: Callable[[T | None], Iterable[Household | None]],
    *,
    note: str = "",
) -> tuple[T, list[Violation]]:
    """Run ``write`` and then the rules over the households it touched, in one savepoint; returns the
    write's result and the warnings found.

    ``households(result)`` names the households to check; it is called with None first, for their state
    before the write. ``note`` is the audit reason of the write's entries. A new error-level finding raises
    QualityRejected; the services' ValidationError and the database's IntegrityError pass through. Any of
    them undoes the write.
    """
    before = {h.pk: _error_keys(h) for h in households(None) if h is not None and h.pk}
    with transaction.atomic(), audit_reason(note) if note else contextlib.nullcontext():
        result = write()
        rejected: list[Violation] = []
        warnings: list[Violation] = []
        for household in households(result):
            if household is None:
                continue
            errors, found = _gate(household, before.get(household.pk, set()))
            rejected += errors
            warnings += found
        if rejected:
            raise QualityRejected(rejected)
    return result, warnings


def _error_keys(household: Household) -> set[FindingKey]:
    """The error-level findings the household has now (before a change), so the gate blocks only new ones."""
    stored = Household.objects.unscoped().get(pk=household.pk)  # a bound ModelForm has already changed the instance
    return {_key(v) for v in check_household(stored) if v.level == ERROR}


def _key(v: Violation) -> FindingKey:
    return (v.rule_code, v.member_id, v.field, v.message)


def _gate(household: Household, known_errors: set[FindingKey]) -> tuple[list[Violation], list[Violation]]:
    """The rules over the saved household (its latest yearly record): (errors the change introduced, which
    block it; warnings). Unless blocked, every finding is recorded."""
    violations = check_household(household)
    new_errors = [v for v in violations if v.level == ERROR and _key(v) not in known_errors]
    if not new_errors:
        record_issues(household, violations)
    return new_errors, [v for v in violations if v.level != ERROR]
