"""The data-quality rules and the database: facts loaded from the models, the cross-household context,
and the recorded issues (问题台账).

``check_household(household, year=None, *, members=None, record=None, as_of=None) -> list[Violation]``
    Loads (or takes) the members and the year's record (latest if ``year`` is None), the poverty lines,
    the income formula and the cross-household context (same ID / same phone in another household);
    ages at ``as_of`` (default today).
``with_member(household, member) -> (members, index)``
    The household's members with an edited (possibly unsaved) member in place, for form validation.
``record_issues(household, violations) -> int``
    Replaces the household's QualityIssue rows. ``refresh_issues(household, year=None)`` does both.

Batches over a region: ``run.run_quality``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Length

from jingzhun.core.batching import chunked
from jingzhun.policy import services as policy
from jingzhun.policy.income import IncomeFormulaSpec
from jingzhun.registry.models import Household, HouseholdStatus, HouseholdYear, Member, MemberStatus, QualityIssue
from jingzhun.registry.quality.catalogue import validate_household
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts, YearFacts, normal_phone, parse_id, value_of
from jingzhun.registry.quality.rule import Violation


class PolicyNumbers:
    """Poverty lines and income formulas for many villages and years, each table read once and chosen
    as policy.services chooses them (a batch touches hundreds of villages: per-call lookups would cost a
    query each, and this snapshot stays the same for the whole batch)."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, int], list[tuple[str, Decimal]]] | None = None
        self._formulas: list[tuple[str, int, IncomeFormulaSpec]] | None = None
        self._line_cache: dict[tuple[str, int, str], Decimal | None] = {}
        self._formula_cache: dict[tuple[int, str], IncomeFormulaSpec] = {}

    def line(self, kind: str, year: int, region_code: str) -> Decimal | None:
        """The most specific line of ``kind`` for ``year``."""
        key = (kind, year, region_code)
        if key not in self._line_cache:
            if self._lines is None:
                self._lines = policy.load_lines()
            self._line_cache[key] = policy.best_line(self._lines, kind, year, region_code)
        return self._line_cache[key]

    def formula(self, year: int, region_code: str) -> IncomeFormulaSpec:
        """The formula in force: most specific prefix, latest year_from."""
        key = (year, region_code)
        if key not in self._formula_cache:
            if self._formulas is None:
                self._formulas = policy.load_formulas()
            self._formula_cache[key] = policy.best_formula(self._formulas, year, region_code)
        return self._formula_cache[key]

    def year_facts(self, record: Any, region_code: str) -> YearFacts:
        year = int(value_of(record, "year"))
        return YearFacts.from_data(
            record,
            formula=self.formula(year, region_code),
            exit_line=self.line("exit_acceptance", year, region_code),
            monitoring_line=self.line("monitoring", year, region_code),
        )


class CrossIndex:
    """Who else holds an ID number or a phone: {key: {(household id, 户编号)}} over active rows.

    An 18-digit ID and a 20-digit 残疾人证号 with the same first 18 characters are one person, so IDs are
    keyed by those 18. A few members (one household) are looked up by index-friendly ranges per ID; a
    batch passes ``certificates`` (every longer number in the system, ``load_certificates()``, one scan)
    and looks the rest up by exact match, which stays fast for thousands of households.
    """

    RANGE_CHUNK = 20  # ranges OR-ed per query: more make PostgreSQL fall back to a sequential scan
    EXACT_CHUNK = 2000  # values per IN (…); phones have no index, so fewer, larger scans

    def __init__(self, certificates: dict[str, set[tuple[int, str]]] | None = None) -> None:
        self.certificates = certificates
        self.ids: dict[str, set[tuple[int, str]]] = defaultdict(set)
        self.phones: dict[str, set[tuple[int, str]]] = defaultdict(set)

    @staticmethod
    def load_certificates() -> dict[str, set[tuple[int, str]]]:
        """First 18 characters → holders, for every active member whose number is longer than 18."""
        found: dict[str, set[tuple[int, str]]] = defaultdict(set)
        rows = (
            Member.objects.unscoped()
            .filter(status=MemberStatus.ACTIVE)
            .annotate(id_length=Length("id_number"))
            .filter(id_length__gt=18)
            .values_list("id_number", "household_id", "household__household_number")
            .order_by()
        )
        for number, hid, hnum in rows:
            found[number[:18].upper()].add((hid, hnum))
        return found

    def load(self, id_numbers: Iterable[str], phones: Iterable[str]) -> CrossIndex:
        """Find the active members sharing an ID (by its first 18 characters) with ``id_numbers``, and
        the active households or members using one of ``phones``."""
        active = Member.objects.unscoped().filter(status=MemberStatus.ACTIVE).order_by()
        fields = ("id_number", "household_id", "household__household_number")
        parsed = (parse_id(n) for n in id_numbers)
        bases = sorted({p.base for p in parsed if p.length_ok and not p.placeholder})
        if self.certificates is None:
            for part in chunked(bases, self.RANGE_CHUNK):
                # The base itself and the base + up to 4 more digits; a range uses the index, LIKE does not.
                cond = Q()
                for base in part:
                    cond |= Q(id_number__gte=base, id_number__lte=base + "9999")
                self._add_ids(active.filter(cond).values_list(*fields))
        else:
            for part in chunked(bases, self.EXACT_CHUNK):
                self._add_ids(active.filter(id_number__in=part).values_list(*fields))
            for base in bases:
                self.ids[base] |= self.certificates.get(base, set())
        wanted = sorted({normal_phone(p) for p in phones if p and normal_phone(p)})
        for part in chunked(wanted, self.EXACT_CHUNK):
            households = Household.objects.unscoped().filter(phone__in=part, status=HouseholdStatus.ACTIVE).order_by()
            for phone, hid, hnum in households.values_list("phone", "pk", "household_number"):
                self.phones[normal_phone(phone)].add((hid, hnum))
            for phone, hid, hnum in active.filter(phone__in=part).values_list("phone", *fields[1:]):
                self.phones[normal_phone(phone)].add((hid, hnum))
        return self

    def _add_ids(self, rows: Iterable[tuple[str, int, str]]) -> None:
        for number, hid, hnum in rows:
            self.ids[number[:18].upper()].add((hid, hnum))

    def elsewhere(
        self, household_id: int | None, members: Iterable[MemberFacts], phone: str
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        ids: dict[str, tuple[str, ...]] = {}
        phones: dict[str, tuple[str, ...]] = {}
        wanted_phones = {normal_phone(phone)} if phone else set()
        for m in members:
            if not m.active:
                continue
            if m.phone:
                wanted_phones.add(normal_phone(m.phone))
            base = m.idp.base
            others = sorted({num for hid, num in self.ids.get(base, ()) if hid != household_id})
            if others:
                ids[base] = tuple(others)
        for p in wanted_phones:
            others = sorted({num for hid, num in self.phones.get(p, ()) if hid != household_id})
            if others:
                phones[p] = tuple(others)
        return ids, phones


def with_member(household: Household, member: Member) -> tuple[list[Member], int]:
    """The household's member rows with ``member`` (edited, maybe unsaved) in place of its stored row;
    returns (members, index of ``member``) for ``check_household`` and ``errors_for_forms``."""
    stored = Member.objects.unscoped().filter(household=household).order_by("pk") if household.pk else []
    rows = [m for m in stored if member.pk is None or m.pk != member.pk]
    rows.append(member)
    return rows, len(rows) - 1


def facts_for(
    household: Household,
    year: int | None = None,
    *,
    members: Iterable[Member] | None = None,
    record: HouseholdYear | None = None,
    policy_numbers: PolicyNumbers | None = None,
) -> HouseholdFacts:
    """HouseholdFacts of a Household: its member rows (given or loaded; active and removed), the yearly
    record (given, else that of ``year``, else the latest) and the cross-household context."""
    if members is None:
        members = Member.objects.unscoped().filter(household=household).order_by("pk") if household.pk else []
    member_facts = [MemberFacts.from_data(m) for m in members]
    if record is None and household.pk:
        records = HouseholdYear.objects.unscoped().filter(household=household)
        record = (records.filter(year=year) if year is not None else records.order_by("-year")).first()
    numbers = policy_numbers or PolicyNumbers()
    year_facts = numbers.year_facts(record, household.village_id) if record is not None else None
    index = CrossIndex().load(
        [m.id_number for m in member_facts if m.active], [household.phone] + [m.phone for m in member_facts if m.active]
    )
    ids, phones = index.elsewhere(household.pk, member_facts, household.phone)
    return HouseholdFacts.from_data(household, member_facts, year_facts, ids_elsewhere=ids, phones_elsewhere=phones)


def check_household(
    household: Household,
    year: int | None = None,
    *,
    members: Iterable[Member] | None = None,
    record: HouseholdYear | None = None,
    as_of: dt.date | None = None,
) -> list[Violation]:
    """Every rule over one household (saved or being edited). ``year`` selects the yearly record (else the
    latest); ages are counted at ``as_of`` (default today: member attributes describe the present)."""
    facts = facts_for(household, year, members=members, record=record)
    return validate_household(facts, as_of or dt.date.today())


def issue_rows(household_id: int, village_code: str, violations: Iterable[Violation]) -> list[QualityIssue]:
    """Unsaved QualityIssue rows (member ids only for saved members)."""
    return [
        QualityIssue(
            household_id=household_id,
            member_id=v.member_id,
            village_code=village_code,
            rule_code=v.rule_code,
            level=v.level,
            message=v.message[:300],
            field=v.field[:50],
        )
        for v in violations
    ]


@transaction.atomic
def record_issues(household: Household, violations: Iterable[Violation]) -> int:
    """Replace the household's recorded issues with ``violations``; returns how many were recorded."""
    QualityIssue.objects.unscoped().filter(household=household).delete()
    rows = issue_rows(household.pk, household.village_id, violations)
    QualityIssue.objects.bulk_create(rows)
    return len(rows)


def refresh_issues(household: Household, year: int | None = None) -> list[Violation]:
    """After a save: check the stored household and record what is found."""
    violations = check_household(household, year)
    record_issues(household, violations)
    return violations
