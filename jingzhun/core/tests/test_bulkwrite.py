"""Plain-row bulk writes (core.bulkwrite) store what the ORM would store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry, _BatchHasher, append_entries, entry_content, entry_hash
from jingzhun.core.bulkwrite import SMALL, insert_rows, update_rows
from jingzhun.registry.models import Household, HouseholdYear, Member, MemberStatus
from jingzhun.registry.tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def test_insert_rows_returns_the_new_ids_and_stores_values_and_defaults(tree):
    rows = [
        {"household_number": f"{tree.village_a1}{n:04d}", "village_id": tree.village_a1, "phone": f"1380000000{n}"}
        for n in range(1, 4)
    ]
    with transaction.atomic():
        ids = insert_rows(Household, rows)
    stored = {h.pk: h for h in Household.objects.unscoped().filter(pk__in=ids)}
    assert len(stored) == 3 and list(ids) == sorted(ids)
    first = stored[ids[0]]
    assert (first.household_number, first.phone) == (rows[0]["household_number"], "13800000001")
    # Defaults of the columns the rows do not carry, and the auto_now(_add) times.
    assert first.status == Household._meta.get_field("status").default
    assert first.is_monitored is False
    assert first.created_at is not None and first.updated_at is not None


def test_dates_decimals_and_booleans_round_trip(tree):
    household = HouseholdFactory.create(village_id=tree.village_a1)
    member = {
        "household_id": household.pk,
        "member_number": household.household_number + "01",
        "name": "张大山",
        "id_number": "431102197005170011",
        "sex": "1",
        "birth_date": dt.date(1970, 5, 17),
        "relationship": "01",
        "village_code": tree.village_a1,
        "is_dibao": True,
        "addition_date": dt.date(2024, 1, 2),
    }
    year = {
        "household_id": household.pk,
        "year": 2025,
        "village_code": tree.village_a1,
        "wage_income": Decimal("18000.50"),
        "per_capita_net_income": Decimal("6000.17"),
        "member_count": 3,
    }
    with transaction.atomic():
        (member_id,) = insert_rows(Member, [member])
        (year_id,) = insert_rows(HouseholdYear, [year])
    stored = Member.objects.unscoped().get(pk=member_id)
    assert (stored.birth_date, stored.addition_date, stored.is_dibao) == (
        dt.date(1970, 5, 17),
        dt.date(2024, 1, 2),
        True,
    )
    assert stored.status == MemberStatus.ACTIVE
    record = HouseholdYear.objects.unscoped().get(pk=year_id)
    assert (record.wage_income, record.per_capita_net_income) == (Decimal("18000.50"), Decimal("6000.17"))


def test_update_rows_changes_only_the_named_fields_and_touches_updated_at(tree):
    a = HouseholdFactory.create(village_id=tree.village_a1, phone="111", bank_name="甲")
    b = HouseholdFactory.create(village_id=tree.village_a1, phone="222", bank_name="乙")
    before = Household.objects.unscoped().get(pk=a.pk).updated_at
    with transaction.atomic():
        update_rows(
            Household, ["phone"], [{"id": a.pk, "phone": "333", "bank_name": "不写"}, {"id": b.pk, "phone": "444"}]
        )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.phone, a.bank_name, b.phone, b.bank_name) == ("333", "甲", "444", "乙")
    assert a.updated_at >= before


def household_rows(village: str, count: int, start: int = 1) -> list[dict]:
    return [{"household_number": f"{village}{n:04d}", "village_id": village} for n in range(start, start + count)]


@pytest.mark.parametrize("count", [1, SMALL, SMALL + 1, 2 * SMALL])
def test_the_returned_ids_are_the_rows_ids_in_order(tree, count):
    """One INSERT … RETURNING for a few rows, COPY / executemany for more: either way, ids in row order."""
    rows = household_rows(tree.village_a1, count)
    with transaction.atomic():
        ids = insert_rows(Household, rows)
    stored = dict(Household.objects.unscoped().filter(pk__in=ids).values_list("pk", "household_number"))
    assert [stored[pk] for pk in ids] == [row["household_number"] for row in rows]


def test_a_generator_must_yield_the_count_it_announced(tree):
    for count in (2, SMALL + 5):
        with pytest.raises(ValueError), transaction.atomic():
            insert_rows(Household, iter(household_rows(tree.village_a1, count - 1)), count=count)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_ids_are_never_reused_after_a_delete(tree):
    household = HouseholdFactory.create(village_id=tree.village_a1)
    highest = household.pk
    Household.objects.unscoped().filter(pk=highest).delete()
    for count in (2, SMALL + 1):
        with transaction.atomic():
            ids = insert_rows(Household, household_rows(tree.village_a1, count, start=500 + highest))
        assert ids == list(range(highest + 1, highest + 1 + count))
        highest = ids[-1]
        Household.objects.unscoped().filter(pk__in=ids).delete()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_bulk_insert_needs_the_writing_transaction(tree):
    # pytest-django runs each test in a transaction: pretend to be outside it.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="writing transaction"):
            insert_rows(Household, household_rows(tree.village_a1, SMALL + 1))
    finally:
        connection.in_atomic_block = saved


def test_the_batch_hasher_gives_entry_hash_exactly():
    shared = {
        "timestamp": dt.datetime(2026, 11, 24, 8, 30, 1, 123456, tzinfo=dt.UTC),
        "actor_id": 7,
        "actor_username": "王五",
        "request_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "source": "import",
        "remote_addr": "10.0.0.1",
    }
    entry = {
        "action": "create",
        "object_type": "registry.member",
        "object_id": "42",
        "object_repr": '张"大"山\\',
        "region_code": "431102101201",
        "reason": "导入：户信息.xlsx\n第二行",
    }
    changes = {"name": [None, "张大山"], "b": [None, ["1", 2, None, True]], "a": [1.5, "0.10"]}
    from jingzhun.audit.models import _canonical_json

    expected = entry_hash("f" * 64, entry_content({**shared, **entry, "changes": changes}))
    assert _BatchHasher(shared).hash("f" * 64, entry, _canonical_json(changes)) == expected


def test_appended_entries_verify_after_the_round_trip(tree):
    from jingzhun.audit.chain import verify_chain

    rows = [
        {
            "action": "create",
            "object_type": "registry.member",
            "object_id": n,
            "object_repr": f"成员{n}",
            "region_code": tree.village_a1,
            "changes": {"name": [None, f"成员{n}"], "birth_date": [None, "1970-05-17"], "n": [None, n]},
        }
        for n in range(50)
    ]
    with audit_context(None, source="import", reason="批量导入"), transaction.atomic():
        ids = append_entries(rows, prepared=True)
    assert len(ids) == 50
    stored = AuditEntry.objects.get(pk=ids[7])
    assert stored.changes == {"name": [None, "成员7"], "birth_date": [None, "1970-05-17"], "n": [None, 7]}
    assert stored.compute_hash() == stored.hash
    assert verify_chain().ok
