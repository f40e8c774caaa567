"""Verifying the hash chain of 操作日志 (used by ``manage.py verify_audit``).

Each entry's hash covers its content and the previous entry's hash, so recomputing every hash and
checking every link in id order proves no entry was changed, removed or inserted since it was written;
the chain head (updated in the appending transaction) proves the tail was not cut off. An anchor (an
``id:hash`` pair written down earlier: the anchor file, an inspection report; see anchors.py) proves that
the whole chain up to it was not rewritten by someone able to recompute hashes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from jingzhun.audit.anchors import Anchor
from jingzhun.audit.models import GENESIS_HASH, HASHED_FIELDS, AuditChainHead, AuditEntry, entry_content, entry_hash

COLUMNS = ("id", "prev_hash", "hash", *HASHED_FIELDS)
_HASH_AT = COLUMNS.index("hash")
_PREV_AT = COLUMNS.index("prev_hash")
_TIME_AT = COLUMNS.index("timestamp")


@dataclass
class ChainBreak:
    """One place where the chain does not hold; ``entry_id`` is None for a fault of the head itself."""

    entry_id: int | None
    problem: str
    timestamp: dt.datetime | None = None
    object_type: str = ""
    object_id: str = ""
    object_repr: str = ""

    def describe(self) -> str:
        if self.entry_id is None:
            return self.problem
        when = timezone.localtime(self.timestamp).strftime("%Y-%m-%d %H:%M:%S") if self.timestamp else "—"
        obj = f"{self.object_type}:{self.object_id}"
        if self.object_repr:
            obj += f"（{self.object_repr}）"
        return f"#{self.entry_id}（时间 {when}，对象 {obj}）：{self.problem}"


@dataclass
class VerifyResult:
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS_HASH
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify_chain(
    *,
    chunk_size: int = 5000,
    stop_at_first: bool = True,
    anchors: Iterable[Anchor] = (),
    using: str = "default",
    progress: Callable[[int, int], None] | None = None,
) -> VerifyResult:
    """Walk every entry in id order with constant memory and report where the chain breaks.

    Ids may have gaps (a rolled-back append consumes sequence numbers on PostgreSQL); only hashes link.
    """
    result = VerifyResult()
    anchor_map: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        anchor_map.setdefault(anchor.entry_id, []).append(anchor)
    seen_anchors: set[int] = set()
    prev_hash = GENESIS_HASH
    prev_id: int | None = None
    prev_time: dt.datetime | None = None

    def broken(row: tuple[Any, ...], problem: str) -> ChainBreak:
        return ChainBreak(
            entry_id=row[0],
            problem=problem,
            timestamp=row[_TIME_AT],
            object_type=row[COLUMNS.index("object_type")],
            object_id=row[COLUMNS.index("object_id")],
            object_repr=row[COLUMNS.index("object_repr")],
        )

    # Walk, then read the head; entries appended meanwhile are walked in another round, so a busy
    # system verifies without pausing writers (appends are serialised by the head lock, ids in order).
    for _round in range(5):
        rows = (
            AuditEntry.objects.using(using)
            .filter(id__gt=result.last_id or 0)
            .order_by("id")
            .values_list(*COLUMNS)
            .iterator(chunk_size=chunk_size)
        )
        walked = 0
        for row in rows:
            walked += 1
            entry_id, stored_prev, stored_hash = row[0], row[_PREV_AT], row[_HASH_AT]
            problems = []
            if stored_prev != prev_hash:
                problems.append(_link_problem(prev_id, entry_id))
            content = entry_content(dict(zip(HASHED_FIELDS, row[3:], strict=True)))
            if entry_hash(stored_prev, content) != stored_hash:
                problems.append("哈希与内容不符：内容、时间、操作人或哈希值在写入后被改动")
            timestamp = row[_TIME_AT]
            if prev_time is not None and timestamp < prev_time:
                problems.append(f"时间早于前一条 #{prev_id}：时间被改动或条目被插入")
            if entry_id in anchor_map:
                seen_anchors.add(entry_id)
                problems.extend(_anchor_problem(a, stored_hash) for a in anchor_map[entry_id] if a.hash != stored_hash)
            if problems:
                result.breaks.append(broken(row, "；".join(problems)))
                if stop_at_first:
                    return result
            # Continue from what is stored, so with stop_at_first=False each damaged place is listed once.
            prev_hash, prev_id, prev_time = stored_hash, entry_id, timestamp
            result.count += 1
            result.last_id, result.last_hash = entry_id, stored_hash
            if progress is not None and result.count % 500_000 == 0:
                progress(result.count, entry_id)
        head = AuditChainHead.objects.using(using).filter(pk=1).first()
        behind = head is not None and head.last_entry_id is not None and head.last_entry_id > (result.last_id or 0)
        if not (behind and walked):
            break
        # else: entries were appended while we walked; verify those too

    result.breaks.extend(_head_problems(head, result))
    for entry_id in sorted(set(anchor_map) - seen_anchors):
        result.breaks.append(ChainBreak(None, _missing_anchor_problem(anchor_map[entry_id][0], result.last_id)))
    return result


def _anchor_problem(anchor: Anchor, stored_hash: str) -> str:
    where = f"（{anchor.describe()}）" if anchor.describe() else ""
    return f"与锚点不符{where}：锚点记录的哈希为 {anchor.hash}，现为 {stored_hash}：此条及其后的日志被改写"


def _missing_anchor_problem(anchor: Anchor, last_id: int | None) -> str:
    where = f"（{anchor.describe()}）" if anchor.describe() else ""
    if last_id is None or anchor.entry_id > last_id:
        last = f"表中最后一条为 #{last_id}" if last_id is not None else "表中已没有任何条目"
        return (
            f"锚点 #{anchor.entry_id}{where}晚于{last}：此后的条目被删除，或数据库从较早的备份恢复"
            "（恢复后请将此前的锚点文件移出锚点目录另行保存）"
        )
    return f"锚点 #{anchor.entry_id}{where}不存在：该条目被删除"


def _link_problem(prev_id: int | None, entry_id: int) -> str:
    if prev_id is None:
        return "第一条的前一条哈希不是链的起点：此前的条目被删除"
    missing = ""
    if entry_id - prev_id == 2:
        missing = f"（#{prev_id + 1}）"
    elif entry_id - prev_id > 2:
        missing = f"（#{prev_id + 1}–#{entry_id - 1} 之间）"
    return f"与前一条 #{prev_id} 不衔接：两者之间的条目{missing}被删除或插入，或前一条哈希被改动"


def _head_problems(head: AuditChainHead | None, result: VerifyResult) -> list[ChainBreak]:
    if head is None or head.last_entry_id is None:
        if result.count:
            return [ChainBreak(None, f"链头缺失，但表中有 {result.count} 条操作日志：链头被删除")]
        return []
    if head.last_entry_id != result.last_id or head.last_hash != result.last_hash:
        if result.last_id is None:
            where = "表中已没有任何条目"
        else:
            where = f"表中最后一条为 #{result.last_id}（哈希 {result.last_hash[:12]}…）"
        return [
            ChainBreak(
                None,
                f"链头记录的最后一条为 #{head.last_entry_id}（哈希 {head.last_hash[:12]}…），{where}："
                "末尾的条目被删除，或链头被改动",
            )
        ]
    return []
