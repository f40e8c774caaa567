"""AuditBatch: the entries of a bulk write, as append_entries would make them, under one context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.audit.bulk import AuditBatch
from jingzhun.audit.chain import verify_chain
from jingzhun.audit.context import audit_context, audit_reason
from jingzhun.audit.models import Action, AuditEntry, append_entries
from jingzhun.regions.models import Region
from jingzhun.regions.testing import RegionTree

pytestmark = pytest.mark.django_db

CONTENT = ("action", "object_type", "object_id", "object_repr", "region_code", "changes", "reason", "source")


def content(entries: list[AuditEntry]) -> list[tuple[object, ...]]:
    return [tuple(getattr(e, f) for f in CONTENT) for e in entries]


def new_entries(after_id: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(id__gt=after_id).order_by("id"))


def last_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_entries_are_those_append_entries_makes_from_the_same_rows(tree: RegionTree) -> None:
    changes = {"name": ["甲一村", "甲一新村"], "since": [None, dt.date(2024, 1, 1)], "area": [None, Decimal("2.50")]}
    with audit_context(None, source="import", reason="批量导入"):
        start = last_id()
        append_entries(
            [
                {
                    "action": Action.CREATE,
                    "object_type": "regions.region",
                    "object_id": tree.village_a1,
                    "object_repr": "甲一村",
                    "region_code": tree.village_a1,
                    "changes": changes,
                },
                {
                    "action": Action.UPDATE,
                    "object_type": "regions.region",
                    "object_id": tree.village_a2,
                    "object_repr": "甲二村",
                    "region_code": tree.village_a2,
                    "changes": changes,
                },
            ]
        )
        by_hand = new_entries(start)
        start = last_id()
        with AuditBatch() as audit:
            audit.created(Region, tree.village_a1, "甲一村", tree.village_a1, changes)
            audit.updated(Region, tree.village_a2, "甲二村", tree.village_a2, changes)
        batched = new_entries(start)
    assert content(batched) == content(by_hand)
    assert batched[0].changes["since"] == [None, "2024-01-01"] and batched[0].changes["area"] == [None, "2.50"]
    assert all(e.compute_hash() == e.hash for e in batched)
    assert verify_chain().ok


def test_the_context_is_the_one_the_batch_was_made_in(tree: RegionTree, make_user: Callable[..., User]) -> None:
    actor = make_user(Role.COUNTY_ADMIN, tree.county, username="zhaoliu")
    start = last_id()
    with audit_context(actor, source="import", reason="导入 户信息.xlsx") as ctx:
        audit = AuditBatch()
        audit.created(Region, tree.village_a1, "甲一村", tree.village_a1, {"name": [None, "甲一村"]})
    with audit_context(None, source="command"), audit_reason("别的原因"):
        audit.flush()
    (entry,) = new_entries(start)
    assert (entry.actor_id, entry.request_id, entry.source, entry.reason) == (
        actor.pk,
        ctx.request_id,
        "import",
        "导入 户信息.xlsx",
    )


def test_entries_are_appended_every_flush_every_and_the_rest_at_the_end(tree: RegionTree) -> None:
    start = last_id()
    with audit_context(None, source="import"), AuditBatch(flush_every=2) as audit:
        for n in range(5):
            audit.created(Region, f"{tree.village_a1}{n}", f"第{n}组", tree.village_a1, {"n": [None, n]})
            assert len(new_entries(start)) == (n + 1) // 2 * 2
    entries = new_entries(start)
    assert [e.object_id for e in entries] == [f"{tree.village_a1}{n}" for n in range(5)]
    assert audit.recorded == 5
    assert len({e.request_id for e in entries}) == 1


def test_an_error_in_the_block_appends_nothing_more(tree: RegionTree) -> None:
    start = last_id()
    with pytest.raises(RuntimeError), audit_context(None), AuditBatch() as audit:
        audit.created(Region, tree.village_a1, "甲一村", tree.village_a1, {"name": [None, "甲一村"]})
        raise RuntimeError("写入失败")
    assert new_entries(start) == []


def test_prepared_changes_are_stored_as_given(tree: RegionTree) -> None:
    start = last_id()
    with audit_context(None, source="import"), AuditBatch(prepared=True) as audit:
        audit.created(Region, tree.village_a1, "甲一村", tree.village_a1, {"n": [None, 7], "d": [None, "2020-01-02"]})
    (entry,) = new_entries(start)
    assert entry.changes == {"n": [None, 7], "d": [None, "2020-01-02"]}
    assert entry.compute_hash() == entry.hash
