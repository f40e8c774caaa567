"""Anchors (issue 11, item 12): the chain head is written outside the database every day and after each
import, shown on the audit page, and verify_audit checks every anchor it finds — so a chain rewritten by raw
SQL from an anchored entry on, head included, no longer passes although it holds together."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from jingzhun.accounts.roles import Role
from jingzhun.audit.anchors import (
    ANCHOR_DIR_ENV,
    ANCHOR_FILE,
    Anchor,
    anchor_after_commit,
    anchor_dir,
    latest_anchors,
    parse_anchor,
    read_anchors,
    write_anchor,
)
from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditChainHead, AuditEntry
from jingzhun.audit.tests.helpers import remove, tamper, verify
from jingzhun.core.contributions import housekeeping_steps
from jingzhun.regions.models import Region
from jingzhun.regions.testing import RegionTree

pytestmark = pytest.mark.django_db


def rename_villages(tree: RegionTree, suffix: str) -> None:
    with audit_context(None, source="command", reason="测试"):
        for code in tree.villages:
            region = Region.objects.unscoped().get(code=code)
            region.name += suffix
            region.save()


def entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("id"))


def anchor_file() -> Path:
    return anchor_dir() / ANCHOR_FILE


def rewrite_from(entry_id: int) -> None:
    """What someone with database access does: change an entry, recompute every later hash and the head."""
    chain = entries()
    start = next(i for i, e in enumerate(chain) if e.pk == entry_id)
    prev = chain[start - 1].hash
    for entry in chain[start:]:
        if entry.pk == entry_id:
            entry.reason = "改写历史"
            tamper(entry.pk, "reason", entry.reason)
        entry.prev_hash = prev
        entry.hash = entry.compute_hash()
        tamper(entry.pk, "prev_hash", entry.prev_hash)
        tamper(entry.pk, "hash", entry.hash)
        prev = entry.hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)


def test_the_head_is_appended_to_the_anchor_file(tree):
    head = AuditChainHead.objects.get(pk=1)
    first = write_anchor("每日")
    assert first is not None
    assert (first.entry_id, first.hash) == (head.last_entry_id, head.last_hash)
    assert first.entry_time == head.last_timestamp
    rename_villages(tree, "（改）")
    second = write_anchor("户籍数据导入")
    assert second is not None and second.entry_id > first.entry_id
    lines = anchor_file().read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[1] == f"{first.entry_id}:{first.hash}"
    found = read_anchors()
    assert found.anchors == [first, second] and not found.problems
    assert [a.text for a in latest_anchors()] == [second.text, first.text]  # newest first


def test_nothing_to_anchor_in_an_empty_log(db):
    AuditChainHead.objects.filter(pk=1).delete()  # as before the first entry (the migrations write some)
    assert write_anchor("每日") is None
    assert not anchor_file().exists()


def test_a_chain_rewritten_from_an_anchored_entry_on_fails_verification(tree, tmp_path):
    anchored = write_anchor("每日")
    assert anchored is not None
    rename_villages(tree, "（改）")  # entries after the anchor
    assert verify()[0]
    # The head at anchoring time and every later entry rewritten, hashes and chain head recomputed.
    rewrite_from(anchored.entry_id)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    assert verify("--anchor-dir", str(empty))[0]  # the chain alone cannot tell …
    passed, output = verify()  # … the anchors found by default can
    assert not passed
    assert f"第一处损坏在 #{anchored.entry_id}" in output
    assert "与锚点" in output and f"{ANCHOR_FILE} 第 1 行" in output and anchored.hash in output


def test_entries_cut_after_an_anchor_fail_verification(tree):
    rename_villages(tree, "（改）")
    anchored = write_anchor("户籍数据导入")
    assert anchored is not None
    chain = entries()
    remove(chain[-1].pk)
    remove(chain[-2].pk)
    AuditChainHead.objects.filter(pk=1).update(last_entry_id=chain[-3].pk, last_hash=chain[-3].hash)
    assert verify("--anchor-dir", str(anchor_dir() / "none"))[0]  # consistent without the anchor
    passed, output = verify()
    assert not passed
    assert f"锚点 #{anchored.entry_id}" in output and f"晚于表中最后一条为 #{chain[-3].pk}" in output


def test_a_damaged_anchor_file_fails_verification(tree):
    write_anchor("每日")
    with anchor_file().open("a", encoding="utf-8") as file:
        file.write("2025-01-01T00:00:00+08:00\t12:abc\t\t手写\n")
    passed, output = verify()
    assert not passed and f"{ANCHOR_FILE} 第 2 行不是锚点" in output


def test_verification_says_when_it_found_no_anchor(tree):
    passed, output = verify()
    assert passed and "没有锚点" in output
    write_anchor("每日")
    passed, output = verify()
    assert passed and "已对照 1 个锚点" in output


def test_anchor_files_kept_elsewhere_are_read_too(tree, tmp_path):
    anchored = write_anchor("每日")
    assert anchored is not None
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "inspection-2025.anchors").write_text(anchor_file().read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "notes.txt").write_text("不是锚点文件", encoding="utf-8")
    (copy / "by-hand.anchors").write_text(f"{anchored.text}\n", encoding="utf-8")  # copied from the page
    assert read_anchors(copy).anchors == [Anchor(anchored.entry_id, anchored.hash), anchored]
    rewrite_from(anchored.entry_id)
    passed, output = verify("--anchor-dir", str(copy))
    assert not passed and "by-hand.anchors 第 1 行" in output  # the files in name order, the first mismatch


def test_the_directory_is_configurable(tree, tmp_path, monkeypatch):
    monkeypatch.setenv(ANCHOR_DIR_ENV, str(tmp_path / "mounted"))
    write_anchor("每日")
    assert (tmp_path / "mounted" / ANCHOR_FILE).is_file()


def test_after_an_import_the_anchor_waits_for_the_commit(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            rename_villages(tree, "（回滚）")
            anchor_after_commit("户籍数据导入")
            raise RuntimeError("导入被回滚")
        assert not anchor_file().exists()  # a rolled-back import anchors nothing
        rename_villages(tree, "（改）")
        anchor_after_commit("户籍数据导入")
        assert not anchor_file().exists()  # not before the commit
    found = read_anchors().anchors
    assert [(a.entry_id, a.reason) for a in found] == [(AuditEntry.objects.latest("id").pk, "户籍数据导入")]


def test_a_failed_anchor_is_logged_not_raised(tree, settings, tmp_path, caplog, django_capture_on_commit_callbacks):
    (tmp_path / "blocked").write_text("a file where the directory should be")
    settings.VAR_DIR = tmp_path / "blocked"
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        anchor_after_commit("户籍数据导入")
    assert "on_commit" in caplog.text


def test_housekeeping_writes_the_daily_anchor(tree):
    step = next(s for s in housekeeping_steps() if "锚点" in s.label)
    assert step.run() == 0  # deletes nothing
    assert [a.reason for a in read_anchors().anchors] == ["每日"]


def test_the_audit_page_shows_the_latest_anchors_and_checks_them(client, tree, make_user):
    client.force_login(make_user(Role.AUDITOR, tree.county))
    page = client.get(reverse("audit:search")).content.decode()
    assert "尚无锚点" in page
    anchored = write_anchor("每日")
    assert anchored is not None
    page = client.get(reverse("audit:search")).content.decode()
    assert anchored.text in page and "一致" in page and "不一致" not in page
    assert "超过两天未写入" not in page
    rewrite_from(anchored.entry_id)
    page = client.get(reverse("audit:search")).content.decode()
    assert anchored.text in page and "不一致" in page


def test_the_audit_page_warns_when_anchoring_stopped(client, tree, make_user):
    head = AuditChainHead.objects.get(pk=1)
    three_days_ago = timezone.localtime() - dt.timedelta(days=3)
    anchor_dir().mkdir(parents=True)
    anchor_file().write_text(Anchor(head.last_entry_id or 0, head.last_hash, written_at=three_days_ago).line())
    client.force_login(make_user(Role.AUDITOR, tree.county))
    page = client.get(reverse("audit:search")).content.decode()
    assert "超过两天未写入" in page and "一致" in page


def test_parse_anchor():
    digest = "AB" * 32
    assert parse_anchor(f" 12:{digest} ").text == f"12:{digest.lower()}"
    for bad in ("12:abc", f"x:{digest}", f"12-{digest}", "12:" + "g" * 64):
        with pytest.raises(ValueError, match="锚点格式"):
            parse_anchor(bad)
