"""verify_audit proves the log was not altered: any change to a stored entry fails it and names the entry."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from jingzhun.audit.context import audit_context
from jingzhun.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from jingzhun.audit.tests.helpers import remove, tamper, verify
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind
from jingzhun.regions.testing import RegionTree

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


@pytest.fixture
def chain(tree: RegionTree) -> list[AuditEntry]:
    """The tree's entries plus a few updates and a delete, with an actor and reasons."""
    with audit_context(None, source="command", reason="测试"):
        for code in tree.villages:
            r = Region.objects.unscoped().get(code=code)
            r.name += "（改）"
            r.save()
        flag = RegionFlag.objects.create(region_id=tree.village_b1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
        flag.delete()
    return list(AuditEntry.objects.order_by("id"))


def middle(chain: list[AuditEntry]) -> AuditEntry:
    """An update entry with entries before and after it."""
    return next(e for e in chain[1:-1] if e.action == "update")


def assert_names(output: str, entry: AuditEntry) -> None:
    assert f"#{entry.pk}" in output
    assert entry.object_id in output  # the object, so the inspector knows what was touched
    local = entry.timestamp.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M:%S") in output  # the time, in Asia/Shanghai


def test_intact_chain_passes(chain):
    passed, output = verify()
    assert passed, output
    assert f"操作日志校验通过：{len(chain)} 条" in output
    assert chain[-1].hash in output  # the head, to write down as an anchor


def test_empty_log_passes(db):
    passed, output = verify()
    assert passed and "操作日志校验通过：0 条" in output


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("changes", {"name": ["甲一村", "被改写"]}),
        ("actor_username", "someone-else"),
        ("actor_id", 999),
        ("timestamp", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        ("reason", "事后补写的原因"),
        ("action", "create"),
        ("object_id", "431102100299"),
        ("object_repr", "另一个村"),
        ("region_code", "431103100201"),
        ("request_id", uuid.UUID(int=1)),
        ("source", "web"),
        ("remote_addr", "10.0.0.1"),
        ("hash", "f" * 64),
        ("prev_hash", "e" * 64),
    ],
)
def test_altering_any_column_fails_and_names_the_entry(chain, field, value):
    victim = middle(chain)
    tamper(victim.pk, field, value)
    passed, output = verify()
    assert not passed
    assert "操作日志校验失败" in output
    assert f"第一处损坏在 #{victim.pk}" in output
    assert_names(output, AuditEntry.objects.get(pk=victim.pk))  # as stored now


def test_altered_hash_with_recomputed_hash_still_breaks_the_next_link(chain):
    """Rewriting an entry and fixing its own hash is caught where the next entry points back to it."""
    victim = middle(chain)
    victim.changes = {"name": ["甲一村", "被改写"]}
    tamper(victim.pk, "changes", victim.changes)
    tamper(victim.pk, "hash", victim.compute_hash())
    passed, output = verify()
    assert not passed
    following = chain[chain.index(victim) + 1]
    assert f"第一处损坏在 #{following.pk}" in output
    assert f"与前一条 #{victim.pk} 不衔接" in output


def test_deleting_an_entry_in_the_middle_is_named(chain):
    victim = middle(chain)
    before, after = chain[chain.index(victim) - 1], chain[chain.index(victim) + 1]
    remove(victim.pk)
    passed, output = verify()
    assert not passed
    assert f"第一处损坏在 #{after.pk}" in output
    assert f"与前一条 #{before.pk} 不衔接" in output
    assert f"（#{victim.pk}）被删除" in output


def test_deleting_the_first_entry_is_named(chain):
    remove(chain[0].pk)
    passed, output = verify()
    assert not passed
    assert f"第一处损坏在 #{chain[1].pk}" in output
    assert "此前的条目被删除" in output


def test_deleting_the_last_entries_is_caught_by_the_head(chain):
    remove(chain[-1].pk)
    remove(chain[-2].pk)
    passed, output = verify()
    assert not passed
    assert f"链头记录的最后一条为 #{chain[-1].pk}" in output
    assert f"表中最后一条为 #{chain[-3].pk}" in output


def test_moving_the_head_back_is_caught(chain):
    AuditChainHead.objects.filter(pk=1).update(last_hash=chain[-2].hash, last_entry_id=chain[-2].pk)
    passed, output = verify()
    assert not passed and "链头" in output


def test_deleting_the_head_is_caught(chain):
    AuditChainHead.objects.all().delete()
    passed, output = verify()
    assert not passed and "链头缺失" in output


def test_list_all_reports_every_damaged_place(chain):
    first, second = chain[3], chain[-3]
    tamper(first.pk, "reason", "改")
    tamper(second.pk, "reason", "改")
    passed, output = verify("--all")
    assert not passed
    assert f"第一处损坏在 #{first.pk}" in output and f"另一处损坏：#{second.pk}" in output


def test_anchor_detects_a_rewritten_chain(chain):
    anchor = f"{chain[5].pk}:{chain[5].hash}"
    passed, output = verify("--anchor", anchor)
    assert passed, output
    # Someone with database access rewrites entry 5 and recomputes every later hash and the head.
    prev = chain[4].hash
    for entry in chain[5:]:
        if entry.pk == chain[5].pk:
            entry.reason = "改写历史"
            tamper(entry.pk, "reason", entry.reason)
        entry.prev_hash = prev
        entry.hash = entry.compute_hash()
        tamper(entry.pk, "prev_hash", entry.prev_hash)
        tamper(entry.pk, "hash", entry.hash)
        prev = entry.hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)
    assert verify()[0]  # the chain alone cannot tell …
    passed, output = verify("--anchor", anchor)
    assert not passed  # … the anchor written down earlier can
    assert f"第一处损坏在 #{chain[5].pk}" in output and "与锚点不符" in output


def test_bad_anchor_is_refused(db):
    passed, output = verify("--anchor", "12:abc")
    assert not passed and "锚点格式" in output


def test_model_refuses_to_change_or_delete_a_stored_entry(chain):
    entry = AuditEntry.objects.get(pk=middle(chain).pk)
    entry.reason = "改"
    with pytest.raises(RuntimeError, match="只能追加"):
        entry.save()
    with pytest.raises(RuntimeError, match="只能追加"):
        entry.delete()
    with pytest.raises(RuntimeError, match="只能追加"):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="改")
    with pytest.raises(RuntimeError, match="只能追加"):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(RuntimeError, match="只能追加"):
        AuditEntry.objects.bulk_update([entry], ["reason"])
    assert verify()[0]


@postgres_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET reason = 'x' WHERE id = %s",
        "UPDATE audit_auditentry SET hash = prev_hash WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ],
)
def test_database_trigger_refuses_update_and_delete(chain, sql):
    victim = middle(chain)
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [victim.pk])
    assert AuditEntry.objects.get(pk=victim.pk).hash == victim.hash
    assert verify()[0]


def test_first_entry_starts_from_the_genesis_hash(chain):
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
