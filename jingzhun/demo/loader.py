"""Load the generated demo households into the registry: bulk inserts in chunks, one audit entry each.

Idempotent: households are keyed by their (deterministic) 户编号, so a second run finds them all and
adds nothing; an interrupted run resumes where it stopped (each chunk commits on its own).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from jingzhun.audit.bulk import AuditBatch
from jingzhun.audit.models import diff_states
from jingzhun.core.batching import chunked
from jingzhun.core.bulkwrite import insert_rows
from jingzhun.demo import households as gen
from jingzhun.demo import regions as demo_regions
from jingzhun.policy import services as policy
from jingzhun.policy.income import IncomeFormulaSpec, compute_income
from jingzhun.registry.models import Household, HouseholdYear, Member, MemberStatus

CHUNK = 1000


@dataclass
class LoadResult:
    requested: int = 0
    created: int = 0
    existing: int = 0
    skipped_clash: int = 0  # households left out because a member's ID is already active elsewhere
    members: int = 0
    years: int = 0
    audit_entries: int = 0
    seconds: float = 0.0


ProgressFn = Callable[[int, int, float], None]
FormulaFn = Callable[[int, str], IncomeFormulaSpec]


def _existing_numbers(village_codes: list[str]) -> set[str]:
    return set(
        Household.objects.unscoped()
        .filter(village_id__in=village_codes)
        .values_list("household_number", flat=True)
        .iterator(chunk_size=20000)
    )


def load_households(
    count: int = gen.DEFAULT_HOUSEHOLDS,
    *,
    seed: int = gen.SEED,
    chunk_size: int = CHUNK,
    progress: ProgressFn | None = None,
    progress_every: int = 5000,
) -> LoadResult:
    """Insert the first ``count`` demo households that are not there yet. Call inside the demo's
    audit_context so the whole load shares one request id (one correlated set)."""
    started = time.monotonic()
    villages = demo_regions.build_villages()
    generator = gen.DemoGenerator(seed, villages, demo_regions.build_groups(villages))
    result = LoadResult(requested=count)
    existing = _existing_numbers([v.code for v in villages])
    if existing:
        # Fast path: every planned number is present → nothing to do, without generating content.
        planned = generator.household_numbers(count)
        missing = sum(1 for n in planned if n not in existing)
        if missing == 0:
            result.existing = count
            result.seconds = time.monotonic() - started
            return result
    # The formula in force per (year, village), looked up once each (policy keeps the formulas in memory).
    specs: FormulaFn = functools.cache(policy.formula_for)
    chunk: list[gen.HouseholdData] = []
    done = 0
    next_report = progress_every
    for hh in generator.households(count):
        done += 1
        if hh.household_number in existing:
            result.existing += 1
        else:
            chunk.append(hh)
            if len(chunk) >= chunk_size:
                _insert(chunk, specs, result)
                chunk = []
        if progress and done >= next_report:
            if chunk:
                _insert(chunk, specs, result)
                chunk = []
            progress(done, count, time.monotonic() - started)
            next_report += progress_every
    if chunk:
        _insert(chunk, specs, result)
    if progress and (done % progress_every):
        progress(done, count, time.monotonic() - started)
    result.seconds = time.monotonic() - started
    return result


def _clashing_ids(chunk: list[gen.HouseholdData]) -> set[str]:
    """IDs of this chunk already active in some other household (data entered besides the demo)."""
    ids = [m.id_number for hh in chunk for m in hh.members if m.status == MemberStatus.ACTIVE]
    found: set[str] = set()
    for batch in chunked(ids, 900):  # under SQLite's default 999 variables per statement
        found.update(
            Member.objects.unscoped()
            .filter(status=MemberStatus.ACTIVE, id_number__in=batch)
            .values_list("id_number", flat=True)
        )
    return found


@transaction.atomic
def _insert(chunk: list[gen.HouseholdData], specs: FormulaFn, result: LoadResult) -> None:
    clashes = _clashing_ids(chunk)
    if clashes:
        kept = [hh for hh in chunk if not any(m.id_number in clashes for m in hh.active_members)]
        result.skipped_clash += len(chunk) - len(kept)
        chunk = kept
        if not chunk:
            return
    # Plain-row inserts (core.bulkwrite) skip save(): the audit entries are recorded below, one per household.
    household_ids = insert_rows(Household, [{f: getattr(hh, f) for f in gen.HOUSEHOLD_FIELDS} for hh in chunk])
    members: list[dict[str, Any]] = []
    years: list[dict[str, Any]] = []
    audit = AuditBatch()
    for hh, pk in zip(chunk, household_ids, strict=True):
        village = hh.village_id
        for m in hh.members:
            row = {f: getattr(m, f) for f in gen.MEMBER_FIELDS}
            row["household_id"], row["village_code"] = pk, village
            members.append(row)
        for y in hh.years:
            row = {f: getattr(y, f) for f in gen.YEAR_FIELDS}
            # Derived figures by the formula in force for the year and village, as save_year would.
            income = compute_income(row, y.member_count, specs(y.year, village))
            row["total_income"] = income.total_income
            row["net_income"] = income.net_income
            row["per_capita_net_income"] = income.per_capita_net_income
            row["household_id"], row["village_code"] = pk, village
            years.append(row)
        _record(audit, hh, pk)
    insert_rows(Member, members)
    insert_rows(HouseholdYear, years)
    # One audit entry per household (not per member or yearly record): the demo load is a single
    # correlated set under one request id, and 40,000 members + 150,000 yearly rows would multiply
    # the chain (and the load time) for records nobody edited.
    audit.flush()
    result.created += len(chunk)
    result.members += len(members)
    result.years += len(years)
    result.audit_entries += audit.recorded


def _record(audit: AuditBatch, hh: gen.HouseholdData, pk: int) -> None:
    """The household's create entry: the key facts of the generated household, not every field."""
    head = hh.head
    latest = hh.years[-1]
    key = {
        "household_number": hh.household_number,
        "village": hh.village_id,
        "group": hh.group_id,
        "head": head.name,
        "members": len(hh.active_members),
        "first_identified_year": hh.first_identified_year,
        "exit_year": hh.exit_year,
        "attribute": latest.attribute,
        "main_cause": hh.main_cause,
        "is_monitored": hh.is_monitored,
        "monitoring_category": hh.monitoring_category,
        "years": f"{hh.years[0].year}–{latest.year}",
    }
    audit.created(
        Household, pk, f"{hh.household_number} {head.name}", hh.group_id or hh.village_id, diff_states(None, key)
    )
