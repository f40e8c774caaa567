"""Plan: per record, create / update (with the changed fields) / unchanged, nothing written yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jingzhun.audit.models import to_audit_value
from jingzhun.core.batching import chunked
from jingzhun.exchange.importer.report import ImportReport
from jingzhun.exchange.importer.rows import HOUSEHOLD_FIELDS, MEMBER_FIELDS, YEAR_FIELDS, HouseholdIn, RowIn, RowValues
from jingzhun.exchange.importer.stored import existing_years
from jingzhun.policy import services as policy
from jingzhun.policy.income import compute_income
from jingzhun.registry import quality
from jingzhun.registry.models import MemberStatus
from jingzhun.registry.services import NumberAllocator

QUALITY_BATCH = 1000  # households per batch sent to the data-quality rules


@dataclass
class Plan:
    """What the write will do. Rows are plain dicts keyed by attname (core.bulkwrite writes them as they
    are); updates carry the full row, with its id, and the changed fields (by attname) for the audit entry."""

    create_households: list[tuple[dict[str, Any], HouseholdIn]] = field(default_factory=list)
    update_households: list[tuple[dict[str, Any], dict[str, list[Any]]]] = field(default_factory=list)
    # (field values, household row or None, member row, household pk for a member-only update)
    create_members: list[tuple[dict[str, Any], HouseholdIn | None, RowIn, int | None]] = field(default_factory=list)
    update_members: list[tuple[dict[str, Any], dict[str, list[Any]]]] = field(default_factory=list)
    create_years: list[tuple[dict[str, Any], HouseholdIn]] = field(default_factory=list)
    update_years: list[tuple[dict[str, Any], dict[str, list[Any]], HouseholdIn]] = field(default_factory=list)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        a = Decimal("0") if a in (None, "") and isinstance(b, Decimal) and b == 0 else a
        b = Decimal("0") if b in (None, "") and isinstance(a, Decimal) and a == 0 else b
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    same: bool = (a if a is not None else "") == (b if b is not None else "")
    return same


def _changes(current: RowValues, wanted: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    return {
        f: [to_audit_value(current.get(f)), to_audit_value(wanted[f])]
        for f in fields
        if f in wanted and not _same(current.get(f), wanted[f])
    }


def year_values(h: HouseholdIn, members: int) -> dict[str, Any]:
    """The household's yearly record as stored, with its income derived by the formula in force."""
    values = {f: h.values[f] for f in YEAR_FIELDS if f in h.values}
    for money in (
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "claims_income",
        "production_expense",
        "compliant_out_of_pocket",
    ):
        if values.get(money) is None:
            values[money] = Decimal("0.00")
    spec = policy.formula_for(h.values["year"], h.village_code)
    result = compute_income(values, members, spec)
    values["member_count"] = members
    values["total_income"] = result.total_income
    values["net_income"] = result.net_income
    values["per_capita_net_income"] = result.per_capita_net_income
    return values


def member_values(m: RowIn) -> dict[str, Any]:
    """The member's fields as stored, from the row."""
    values = {f: m.values[f] for f in MEMBER_FIELDS if f in m.values}
    values["birth_date"] = m.values.get("birth_date")
    for extra in ("disability_category", "disability_grade"):
        if extra in m.values:
            values[extra] = m.values[extra]
    for flag in ("receives_medical_assistance", "is_active_military", "is_dibao", "is_tekun"):
        if values.get(flag) is None and flag in values:
            values[flag] = False
    if not values.get("ethnicity"):
        values.pop("ethnicity", None)
    if not values.get("health"):
        values.pop("health", None)
    return values


def household_values(h: HouseholdIn) -> dict[str, Any]:
    """The household's fields as stored, from the row."""
    values = {f: h.values[f] for f in HOUSEHOLD_FIELDS if f in h.values and f != "household_number"}
    for flag in (
        "is_military_family",
        "is_only_child",
        "is_two_daughters",
        "is_monitored",
        "in_mutual_fund",
        "in_cooperative",
        "is_relocated",
        "is_whole_household_no_labour",
    ):
        if flag in values and values[flag] is None:
            values[flag] = False
    return values


def make_plan(
    households: list[HouseholdIn],
    orphan_members: dict[int, list[RowIn]],
    existing_members: dict[int, list[RowValues]],
    each_batch: Callable[[list[HouseholdIn]], None] | None = None,
) -> tuple[Plan, ImportReport]:
    """Plan every record; ``each_batch`` sees the households a batch at a time before they are planned
    (the data-quality rules start on them, and the fields they make are planned without being made twice)."""
    plan = Plan()
    report = ImportReport()
    pairs = [(h.existing["id"], h.values["year"]) for h in households if h.existing and h.values.get("year")]
    stored_years = existing_years(pairs)
    members_by_id = {row["id_number"]: row for rows in existing_members.values() for row in rows}
    next_numbers = NumberAllocator()

    for batch in chunked(households, QUALITY_BATCH):
        if each_batch is not None:
            each_batch(batch)
        for h in batch:
            _plan_household(h, plan, report, stored_years, members_by_id, next_numbers)
        # The rows' values stay until the data-quality findings are placed (their cells show them).
    for pk, rows in orphan_members.items():
        for m in rows:
            _plan_member(m, None, members_by_id, plan, report, next_numbers, household_pk=pk)
            m.values.clear()  # planned: the plan holds its own copy
    return plan, report


def _plan_household(
    h: HouseholdIn,
    plan: Plan,
    report: ImportReport,
    stored_years: dict[tuple[int, int], RowValues],
    members_by_id: dict[str, RowValues],
    next_numbers: NumberAllocator,
) -> None:
    """Plan one household, its members and its yearly record; ``h.changed`` says whether any changes."""
    wanted = h.wanted or household_values(h)
    h.wanted = None
    location = {"village_id": h.village_code, "group_id": h.group_code}
    if h.existing is None:
        h.number = h.number or next_numbers.household(h.village_code)
        plan.create_households.append(({**wanted, **location, "household_number": h.number}, h))
        report.households.created += 1
        h.changed = True
    else:
        h.pk = h.existing["id"]
        changes = _changes(h.existing, {**wanted, **location}, [*wanted, "village_id", "group_id"])
        if changes:
            # Start from the stored row so fields absent from the sheet keep their values.
            plan.update_households.append(({**h.existing, **wanted, **location}, changes))
            report.households.updated += 1
            h.changed = True
        else:
            report.households.unchanged += 1
    for m in h.members:
        if _plan_member(m, h, members_by_id, plan, report, next_numbers):
            h.changed = True
    if h.values.get("year"):
        # Computed once, for the quality check; recomputed only for a household that check skipped.
        values = h.year_values or year_values(h, h.values.get("household_size") or len(h.members))
        current = stored_years.get((h.existing["id"], h.values["year"])) if h.existing else None
        if current is None:
            plan.create_years.append(({**values, "year": h.values["year"], "village_code": h.village_code}, h))
            report.years.created += 1
            h.changed = True
        else:
            changes = _changes(current, values, [*values])
            if changes:
                plan.update_years.append(({**current, **values, "village_code": h.village_code}, changes, h))
                report.years.updated += 1
                h.changed = True
            else:
                report.years.unchanged += 1


def _plan_member(
    m: RowIn,
    h: HouseholdIn | None,
    members_by_id: dict[str, RowValues],
    plan: Plan,
    report: ImportReport,
    numbers: NumberAllocator,
    household_pk: int | None = None,
) -> bool:
    """Plan one member row; True when it creates or changes the member."""
    values = m.wanted or member_values(m)
    m.wanted = None
    current = members_by_id.get(m.values.get("id_number") or "")
    if current is None:
        values.update(
            status=MemberStatus.ACTIVE,
            addition_reason=quality.REGISTERED if h and h.existing is None else "9",
            addition_date=dt.date.today(),
            member_number=m.values.get("member_number") or "",
        )
        # Model instances are made a chunk at a time when writing (memory), so keep the values here.
        plan.create_members.append((values, h, m, household_pk))
        report.members.created += 1
        return True
    m.member_pk = current["id"]
    changes = _changes(current, values, [*values])
    if changes:
        plan.update_members.append(({**current, **values, "status": MemberStatus.ACTIVE}, changes))
        report.members.updated += 1
        return True
    report.members.unchanged += 1
    return False
