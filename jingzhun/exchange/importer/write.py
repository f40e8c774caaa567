"""Write: the plan applied in the caller's transaction by bulk writes, with one audit entry per created or
changed record."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db.models import Max

from jingzhun.audit.bulk import AuditBatch
from jingzhun.audit.models import to_audit_value
from jingzhun.core import bulkwrite
from jingzhun.core.batching import chunked
from jingzhun.exchange.importer.plan import Plan
from jingzhun.exchange.importer.report import Progress
from jingzhun.exchange.importer.rows import (
    CHUNK,
    DERIVED_YEAR_FIELDS,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    YEAR_FIELDS,
    HouseholdIn,
)
from jingzhun.registry.models import Household, HouseholdYear, Member
from jingzhun.registry.services import NumberAllocator

ImportedModel = type[Household] | type[Member] | type[HouseholdYear]

# Model field names by attname: audit entries name fields as audited saves do ("village", not "village_id").
_NAMES: dict[ImportedModel, dict[str, str]] = {
    model: {f.attname: f.name for f in model._meta.concrete_fields} for model in (Household, Member, HouseholdYear)
}
HOUSEHOLD_AUDIT_FIELDS = ("household_number", "village_id", "group_id", *HOUSEHOLD_FIELDS)
MEMBER_AUDIT_FIELDS = ("member_number", "household_id", *MEMBER_FIELDS, "birth_date")
YEAR_AUDIT_FIELDS = ("household_id", "year", *YEAR_FIELDS, *DERIVED_YEAR_FIELDS)


def _named(changes: dict[str, Any], model: ImportedModel) -> dict[str, Any]:
    names = _NAMES[model]
    return {names.get(k, k): v for k, v in changes.items()}


def _created_state(
    row: dict[str, Any], fields: tuple[str, ...], model: ImportedModel, *, skip_false: bool = False
) -> dict[str, list[Any]]:
    """The changes of a create entry, {name: [None, value]}, JSON-stable (AuditBatch(prepared=True));
    empty values (None, "", and with ``skip_false`` unset flags) are left out."""
    changes = {}
    for attname, name in _named_fields(model, fields):
        value = row.get(attname)
        if value is None or value == "" or (skip_false and value is False):
            continue
        # str, int and bool are JSON-stable as they are: most values, converted without a call.
        changes[name] = [None, value if value.__class__ in _AS_IS else to_audit_value(value)]
    return changes


@functools.cache
def _named_fields(model: ImportedModel, fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """(attname, the name audit entries use) of the fields: as audited saves name them."""
    names = _NAMES[model]
    return [(f, names[f]) for f in fields]


_AS_IS = frozenset({str, int, bool})


def write_plan(plan: Plan, progress: Progress | None = None) -> None:
    """Apply the plan inside the caller's transaction, with one audit entry per created or changed record.

    Rows go in through core.bulkwrite (COPY on PostgreSQL, executemany on SQLite) a chunk at a time, and
    their audit entries are appended as they accumulate, so memory stays flat and the chain is built in
    the same order."""
    done = 0
    total = (
        len(plan.create_households)
        + len(plan.update_households)
        + len(plan.create_members)
        + len(plan.update_members)
        + len(plan.create_years)
        + len(plan.update_years)
    )

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total, "写入数据库")

    with AuditBatch(prepared=True) as audit:
        _write_households(plan, audit, tick)
        _write_members(plan, audit, tick)
        _write_years(plan, audit, tick)


def _write_households(plan: Plan, audit: AuditBatch, tick: Callable[[int], None]) -> None:
    for chunk in chunked(plan.create_households, CHUNK):
        ids = bulkwrite.insert_rows(Household, [row for row, _h in chunk])
        for (row, h), pk in zip(chunk, ids, strict=True):
            h.pk = pk
            changes = _created_state(row, HOUSEHOLD_AUDIT_FIELDS, Household, skip_false=True)
            audit.created(Household, pk, h.number, h.group_code or h.village_code, changes)
        tick(len(chunk))
    if plan.update_households:
        fields = ["village_id", "group_id", *[f for f in HOUSEHOLD_FIELDS if f != "household_number"]]
        for update_chunk in chunked(plan.update_households, CHUNK):
            bulkwrite.update_rows(Household, fields, [row for row, _c in update_chunk])
            for row, changes in update_chunk:
                region = row["group_id"] or row["village_id"]
                audit.updated(Household, row["id"], row["household_number"], region, _named(changes, Household))
            tick(len(update_chunk))


def _write_members(plan: Plan, audit: AuditBatch, tick: Callable[[int], None]) -> None:
    """Rows are made, written and audited a chunk at a time (memory stays flat)."""

    def household_of(h: HouseholdIn | None, pk: int | None) -> int:
        if pk is not None:
            return pk
        assert h is not None and h.pk is not None
        return h.pk

    info: dict[int, tuple[str, str]] = {}  # household pk → (户编号, village code)
    for _values, h, _row, pk in plan.create_members:
        if h is not None:
            info[household_of(h, pk)] = (h.number, h.village_code)
    missing = sorted({pk for _v, h, _r, pk in plan.create_members if h is None and pk is not None} - set(info))
    for pk_chunk in chunked(missing, CHUNK):
        for household_pk, number, village in (
            Household.objects.unscoped().filter(pk__in=pk_chunk).values_list("id", "household_number", "village_id")
        ):
            info[household_pk] = (number, village)
    max_numbers = _max_member_numbers(
        {household_of(h, pk) for _v, h, _r, pk in plan.create_members if h is None or h.existing}
    )
    allocator = NumberAllocator()
    for chunk in chunked(plan.create_members, CHUNK):
        rows = []
        for values, h, _row, pk in chunk:
            household_pk = household_of(h, pk)
            number, village = info[household_pk]
            row = {**values, "household_id": household_pk, "village_code": village}
            if not row.get("member_number"):
                row["member_number"] = allocator.member(number, max_numbers.get(household_pk, ""))
            rows.append(row)
        ids = bulkwrite.insert_rows(Member, rows)
        for (_values, _h, member_row, _pk), row, member_pk in zip(chunk, rows, ids, strict=True):
            member_row.member_pk = member_pk
            changes = _created_state(row, MEMBER_AUDIT_FIELDS, Member)
            audit.created(Member, member_pk, row["name"], row["village_code"], changes)
        tick(len(chunk))
    if plan.update_members:
        fields = sorted({f for _m, changes in plan.update_members for f in changes})
        villages: dict[int, str] = {}
        for pk_chunk in chunked(sorted({row["household_id"] for row, _c in plan.update_members}), CHUNK):
            villages.update(Household.objects.unscoped().filter(pk__in=pk_chunk).values_list("id", "village_id"))
        for update_chunk in chunked(plan.update_members, CHUNK):
            for row, _c in update_chunk:
                row["village_code"] = villages[row["household_id"]]
            bulkwrite.update_rows(Member, [*fields, "village_code"], [row for row, _c in update_chunk])
            for row, changes in update_chunk:
                audit.updated(Member, row["id"], row["name"], row["village_code"], _named(changes, Member))
            tick(len(update_chunk))


def _write_years(plan: Plan, audit: AuditBatch, tick: Callable[[int], None]) -> None:
    for chunk in chunked(plan.create_years, CHUNK):
        rows = [{**values, "household_id": h.pk} for values, h in chunk]
        ids = bulkwrite.insert_rows(HouseholdYear, rows)
        for (_values, h), row, pk in zip(chunk, rows, ids, strict=True):
            changes = _created_state(row, YEAR_AUDIT_FIELDS, HouseholdYear)
            repr_ = f"{h.number} {row['year']}年"  # as HouseholdYear.__str__
            audit.created(HouseholdYear, pk, repr_, row["village_code"], changes)
        tick(len(chunk))
    if plan.update_years:
        fields = sorted({f for _r, changes, _h in plan.update_years for f in changes})
        for update_chunk in chunked(plan.update_years, CHUNK):
            bulkwrite.update_rows(HouseholdYear, [*fields, "village_code"], [row for row, _c, _h in update_chunk])
            for row, changes, h in update_chunk:
                repr_ = f"{h.number} {row['year']}年"
                audit.updated(HouseholdYear, row["id"], repr_, row["village_code"], changes)
            tick(len(update_chunk))


def _max_member_numbers(household_pks: set[int]) -> dict[int, str]:
    result: dict[int, str] = {}
    for chunk in chunked(sorted(pk for pk in household_pks if pk), CHUNK):
        rows = (
            Member.objects.unscoped()
            .filter(household_id__in=chunk)
            .values("household_id")
            .annotate(m=Max("member_number"))
        )
        result.update({row["household_id"]: row["m"] for row in rows})
    return result
