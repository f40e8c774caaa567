"""Load the generated demo households into the registry: bulk inserts in chunks, one audit entry each.

Idempotent: households are keyed by their (deterministic) 户编号, so a second run finds them all and
adds nothing; an interrupted run resumes where it stopped (each chunk commits on its own).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from jingzhun.audit.models import Action, append_entries, diff_states
from jingzhun.demo import households as gen
from jingzhun.demo import regions as demo_regions
from jingzhun.policy import services as policy
from jingzhun.policy.models import IncomeFormula
from jingzhun.registry.income import IncomeFormulaSpec, compute_income
from jingzhun.registry.models import Household, HouseholdYear, Member, MemberStatus

CHUNK = 1000
BATCH = 1000  # rows per INSERT where the backend allows it (SQLite caps it by its variable limit)


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


def _existing_numbers(village_codes: list[str]) -> set[str]:
    return set(
        Household.objects.filter(village_id__in=village_codes)
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
    specs = _Formulas()
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


class _Formulas:
    """The income formula for (year, village), one policy lookup per distinct case.

    formula_for picks among formulas whose region prefix starts the region code, so villages that
    share the longest matching prefix share the formula: usually one lookup per year for the whole
    county instead of one per (year, village) (4,000 queries).
    """

    def __init__(self) -> None:
        self._prefixes = sorted(
            set(IncomeFormula.objects.values_list("region_prefix", flat=True)), key=len, reverse=True
        )
        self._by_village: dict[str, str] = {}
        self._specs: dict[tuple[int, str], IncomeFormulaSpec] = {}

    def spec(self, year: int, village: str) -> IncomeFormulaSpec:
        prefix = self._by_village.get(village)
        if prefix is None:
            prefix = self._by_village[village] = next((p for p in self._prefixes if village.startswith(p)), "")
        key = (year, prefix)
        spec = self._specs.get(key)
        if spec is None:
            spec = self._specs[key] = policy.formula_for(year, prefix)
        return spec


def _clashing_ids(chunk: list[gen.HouseholdData]) -> set[str]:
    """IDs of this chunk already active in some other household (data entered besides the demo)."""
    ids = [m.id_number for hh in chunk for m in hh.members if m.status == MemberStatus.ACTIVE]
    found: set[str] = set()
    for i in range(0, len(ids), 900):  # under SQLite's default 999 variables per statement
        found.update(
            Member.objects.filter(status=MemberStatus.ACTIVE, id_number__in=ids[i : i + 900]).values_list(
                "id_number", flat=True
            )
        )
    return found


@transaction.atomic
def _insert(chunk: list[gen.HouseholdData], specs: _Formulas, result: LoadResult) -> None:
    clashes = _clashing_ids(chunk)
    if clashes:
        kept = [hh for hh in chunk if not any(m.id_number in clashes for m in hh.active_members)]
        result.skipped_clash += len(chunk) - len(kept)
        chunk = kept
        if not chunk:
            return
    households = [Household(**{f: getattr(hh, f) for f in gen.HOUSEHOLD_FIELDS}) for hh in chunk]
    # bulk_create skips save() (no per-row audit entry) and returns the PKs (RETURNING on both backends).
    Household.objects.bulk_create(households, batch_size=BATCH)
    members: list[dict[str, Any]] = []
    years: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    for hh, obj in zip(chunk, households, strict=True):
        village = hh.village_id
        for m in hh.members:
            row = {f: getattr(m, f) for f in gen.MEMBER_FIELDS}
            row["household_id"], row["village_code"] = obj.pk, village
            members.append(row)
        for y in hh.years:
            row = {f: getattr(y, f) for f in gen.YEAR_FIELDS}
            # Derived figures by the formula in force for the year and village, as save_year would.
            income = compute_income(row, y.member_count, specs.spec(y.year, village))
            row["total_income"] = income.total_income
            row["net_income"] = income.net_income
            row["per_capita_net_income"] = income.per_capita_net_income
            row["household_id"], row["village_code"] = obj.pk, village
            years.append(row)
        audit_rows.append(_audit_row(hh, obj))
    insert_rows(Member, members)
    insert_rows(HouseholdYear, years)
    # One audit entry per household (not per member or yearly record): the demo load is a single
    # correlated set under one request id, and 40,000 members + 150,000 yearly rows would multiply
    # the chain (and the load time) for records nobody edited.
    append_entries(audit_rows)
    result.created += len(chunk)
    result.members += len(members)
    result.years += len(years)
    result.audit_entries += len(audit_rows)


def insert_rows(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert plain rows (keyed by attname): executemany on SQLite, COPY on PostgreSQL. This is the bulk
    path for members and yearly records, about 90 % of the demo's cells.

    Why not bulk_create: measured on this machine it spends ~3.5× more CPU per row, nearly all in
    Django's per-cell SQL compilation (and SQLite caps it at 999 variables, ~22 member rows per
    INSERT); for the 300,000-household benchmark set that is about ten extra minutes. The values are
    the fields' native Python values converted as Django would (dates through the backend adapter,
    auto_now/auto_now_add set to now; missing columns get the field default), and these models have
    no save() logic beyond what the loader does itself (village_code, derived income).
    """
    if not rows:
        return
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters: list[tuple[str, Callable[[Any], Any] | None, bool, Any]] = []
    for f in fields:
        auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        convert = ops.adapt_datefield_value if f.get_internal_type() == "DateField" else None
        # Columns the generator does not fill (e.g. a field added later) get the field's default.
        default = None if auto or f.attname in rows[0] else f.get_default()
        getters.append((f.attname, convert, auto, default))
    values = []
    for row in rows:
        out = []
        for name, convert, auto, default in getters:
            if auto:
                out.append(now)
            elif convert is not None:
                out.append(convert(row.get(name)))
            else:
                out.append(row.get(name, default))
        values.append(out)
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams the rows; executemany with psycopg's client-side binding dumps them one by one.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for out in values:
                    copy.write_row(out)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        for i in range(0, len(values), 5000):
            cursor.executemany(sql, values[i : i + 5000])


def _audit_row(hh: gen.HouseholdData, obj: Household) -> dict[str, Any]:
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
    return {
        "action": Action.CREATE,
        "object_type": Household.audit_object_type(),
        "object_id": obj.pk,
        "object_repr": f"{hh.household_number} {head.name}",
        "region_code": hh.group_id or hh.village_id,
        "changes": diff_states(None, key),
    }
