"""Batch data-quality check over a region subtree: ``manage.py check_quality``, the village page's
重新检查 button, and (later) a background task — all call ``run_quality``.

Households are read in chunks as plain rows (``values()``; no model instances, no audit snapshots), each
chunk with its members, its yearly records and one cross-household lookup; the region's old issue rows
are deleted and the new ones bulk-inserted in one transaction, so the page never shows half a run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Subquery

from jingzhun.core import codes
from jingzhun.core.batching import chunked
from jingzhun.registry.models import Household, HouseholdStatus, HouseholdYear, Member, QualityIssue
from jingzhun.registry.quality.catalogue import validate_household
from jingzhun.registry.quality.db import CrossIndex, PolicyNumbers, issue_rows
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts, YearFacts
from jingzhun.registry.quality.rule import ERROR, WARNING

Progress = Callable[[int, int], None]
SMALL_RUN = 300  # households; up to this many, IDs are looked up per member (see CrossIndex)

HOUSEHOLD_VALUES = (
    "id",
    "village_id",
    "status",
    "exit_year",
    "is_monitored",
    *HouseholdFacts.TEXT_FIELDS,
    *HouseholdFacts.CODE_FIELDS,
    *HouseholdFacts.DECIMAL_FIELDS,
    *HouseholdFacts.NULL_BOOL_FIELDS,
)
MEMBER_VALUES = (
    "id",
    "household_id",
    "status",
    *MemberFacts.TEXT_FIELDS,
    *MemberFacts.OTHER_FIELDS,
    *MemberFacts.FLAG_FIELDS,
)
YEAR_VALUES = (
    "household_id",
    "year",
    "member_count",
    *YearFacts.TEXT_FIELDS,
    *YearFacts.MONEY_FIELDS,
    *YearFacts.FLAG_FIELDS,
)


@dataclass
class RunResult:
    region_prefix: str
    year: int | None
    households: int = 0
    per_rule: Counter[str] = field(default_factory=Counter)
    per_level: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def issues(self) -> int:
        return sum(self.per_rule.values())

    @property
    def errors(self) -> int:
        return self.per_level[ERROR]

    @property
    def warnings(self) -> int:
        return self.per_level[WARNING]


def run_quality(
    region_prefix: str = "",
    year: int | None = None,
    *,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    chunk_size: int = 1000,
) -> RunResult:
    """Check every active household under ``region_prefix`` ('' = all; a full 12-digit region code is
    taken as its region's prefix) against the catalogue and replace the region's QualityIssue rows.

    ``year`` picks each household's record of that year, else its latest; ages are counted at ``as_of``
    (default today). ``progress(done, total)`` is called after each chunk (for a background task)."""
    started = time.monotonic()
    if len(region_prefix) == codes.CODE_LENGTH:
        region_prefix = codes.prefix_of(region_prefix)
    result = RunResult(region_prefix, year)
    as_of = as_of or dt.date.today()
    numbers = PolicyNumbers()
    ids = list(
        Household.objects.in_region(region_prefix)
        .filter(status=HouseholdStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = len(ids)
    # A village is looked up member by member; larger runs read every certificate number once.
    certificates = CrossIndex.load_certificates() if total > SMALL_RUN else None
    if progress:
        progress(0, total)
    with transaction.atomic():
        # Issues of cancelled households go too: they are no longer checked.
        QualityIssue.objects.in_region(region_prefix).delete()
        done = 0
        for chunk in chunked(ids, chunk_size):
            rows = _check_chunk(list(chunk), year, as_of, numbers, certificates, result)
            QualityIssue.objects.bulk_create(rows, batch_size=1000)
            done += len(chunk)
            if progress:
                progress(done, total)
    result.households = total
    result.seconds = time.monotonic() - started
    return result


def _check_chunk(
    chunk: list[int],
    year: int | None,
    as_of: dt.date,
    numbers: PolicyNumbers,
    certificates: dict[str, set[tuple[int, str]]] | None,
    result: RunResult,
) -> list[QualityIssue]:
    households = list(Household.objects.unscoped().filter(pk__in=chunk).order_by("pk").values(*HOUSEHOLD_VALUES))
    members: dict[int, list[MemberFacts]] = defaultdict(list)
    for row in (
        Member.objects.unscoped().filter(household_id__in=chunk).order_by("household_id", "pk").values(*MEMBER_VALUES)
    ):
        members[row["household_id"]].append(MemberFacts.from_data(row))
    records = HouseholdYear.objects.unscoped().filter(household_id__in=chunk)
    if year is not None:
        records = records.filter(year=year)
    else:  # only each household's latest record (uses the (household, year) unique index)
        latest_year = HouseholdYear.objects.unscoped().filter(household_id=OuterRef("household_id")).order_by("-year")
        records = records.filter(year=Subquery(latest_year.values("year")[:1]))
    latest = {row["household_id"]: row for row in records.order_by().values(*YEAR_VALUES)}
    active = [m for ms in members.values() for m in ms if m.active]
    index = CrossIndex(certificates).load(
        [m.id_number for m in active], [h["phone"] for h in households] + [m.phone for m in active]
    )
    rows = []
    for h in households:
        hid = h["id"]
        facts_members = members.get(hid, [])
        record = latest.get(hid)
        year_facts = numbers.year_facts(record, h["village_id"]) if record is not None else None
        ids_elsewhere, phones_elsewhere = index.elsewhere(hid, facts_members, h["phone"])
        facts = HouseholdFacts.from_data(
            h, facts_members, year_facts, ids_elsewhere=ids_elsewhere, phones_elsewhere=phones_elsewhere
        )
        violations = validate_household(facts, as_of)
        for v in violations:
            result.per_rule[v.rule_code] += 1
            result.per_level[v.level] += 1
        rows.extend(issue_rows(hid, h["village_id"], violations))
    return rows
