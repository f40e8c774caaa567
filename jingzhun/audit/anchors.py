"""Anchors of the 操作日志 chain: its head written down outside the database, so that a rewrite shows.

Whoever can write the database can change an entry, recompute every later hash and move the chain head:
the chain then holds together, and only a record kept elsewhere tells. So the head (entry id, hash and
time) is appended to an anchor file outside the database every day (a housekeeping step) and after each
committed household import (``anchor_after_commit``), and the 操作日志 page shows the latest anchors for a
person to copy into an inspection report. ``manage.py verify_audit`` checks every anchor it finds: an
anchored entry whose hash changed, or which is gone, fails it and is named.

One line per anchor, tab-separated, only ever appended:

    2025-03-01T03:17:00.000000+08:00	12345:<64 hex digits>	2025-02-28T22:10:31.123456+08:00	每日

(when it was written; ``id:hash`` as ``verify_audit --anchor`` takes it; the entry's time; why). The
directory is ``JINGZHUN_AUDIT_ANCHOR_DIR``, by default ``VAR_DIR/anchors``; in production put it where the
database's users cannot write (another machine's share), or make the file append-only (``chattr +a``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jingzhun.audit.models import AuditChainHead

ANCHOR_DIR_ENV = "JINGZHUN_AUDIT_ANCHOR_DIR"
ANCHOR_FILE = "audit-chain.anchors"
ANCHOR_SUFFIX = ".anchors"  # verify_audit reads every such file of the directory (e.g. one kept from elsewhere)
TAIL_BYTES = 16 * 1024  # the page reads the end of the file only: a few dozen lines


@dataclass(frozen=True)
class Anchor:
    """An entry's id and hash written down earlier; ``source`` says where (a file's line, the command line)."""

    entry_id: int
    hash: str
    entry_time: dt.datetime | None = None
    written_at: dt.datetime | None = None
    reason: str = ""
    source: str = field(default="", compare=False)

    @property
    def text(self) -> str:
        """The form ``verify_audit --anchor`` takes, for a person to copy."""
        return f"{self.entry_id}:{self.hash}"

    def describe(self) -> str:
        written = f"，{timezone.localtime(self.written_at):%Y-%m-%d %H:%M} 写入" if self.written_at else ""
        return f"{self.source}{written}" if self.source else written.lstrip("，")

    def line(self) -> str:
        times = [t.isoformat() if t else "" for t in (self.written_at, self.entry_time)]
        reason = " ".join(self.reason.split())  # one line, no tabs
        return f"{times[0]}\t{self.text}\t{times[1]}\t{reason}\n"


def parse_anchor(text: str, source: str = "") -> Anchor:
    """'12345:ab12…' → Anchor(12345, 'ab12…'); raises ValueError with a message for the user."""
    entry_id, sep, digest = text.strip().partition(":")
    digest = digest.lower()
    if not sep or not entry_id.isdigit() or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise ValueError(f"锚点格式应为“编号:64位哈希”，收到“{text}”")
    return Anchor(int(entry_id), digest, source=source)


def anchor_dir() -> Path:
    configured = os.environ.get(ANCHOR_DIR_ENV, "").strip()
    return Path(configured) if configured else Path(settings.VAR_DIR) / "anchors"


def write_anchor(reason: str, *, using: str = "default") -> Anchor | None:
    """Append the committed chain head to the anchor file (None: the log is still empty).

    Called outside a transaction (anchor_after_commit waits for the commit), so only what has committed is
    anchored. A failure to write raises: the caller's log shows it, and the page how old the latest anchor is.
    """
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    if head is None or head.last_entry_id is None:
        return None
    anchor = Anchor(
        entry_id=head.last_entry_id,
        hash=head.last_hash,
        entry_time=timezone.localtime(head.last_timestamp) if head.last_timestamp else None,
        written_at=timezone.localtime(),
        reason=reason,
    )
    directory = anchor_dir()
    directory.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(directory / ANCHOR_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one line at a time, whichever process writes
        os.write(fd, anchor.line().encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    return anchor


def anchor_after_commit(reason: str) -> None:
    """Anchor the chain head once the current transaction commits (at once outside one), e.g. after an import.

    A failure is logged, never raised: what committed stays committed.
    """

    def write() -> None:
        write_anchor(reason)

    transaction.on_commit(write, robust=True)


def daily_anchor() -> int:
    """The housekeeping step: anchor the head once a day. Deletes nothing (the step reports 0)."""
    write_anchor("每日")
    return 0


def _parse_line(line: str, source: str) -> Anchor:
    """A line as write_anchor writes it, or a bare ``id:hash`` (anchors copied by hand into a file)."""
    fields = line.rstrip("\r\n").split("\t")  # not strip(): the last columns may be empty
    if len(fields) == 1:
        return parse_anchor(fields[0], source)
    if len(fields) != 4:
        raise ValueError(f"应为 4 列，有 {len(fields)} 列")
    written, text, entry_time, reason = fields
    anchor = parse_anchor(text, source)
    try:
        return Anchor(
            anchor.entry_id,
            anchor.hash,
            entry_time=dt.datetime.fromisoformat(entry_time) if entry_time else None,
            written_at=dt.datetime.fromisoformat(written) if written else None,
            reason=reason,
            source=source,
        )
    except ValueError as exc:
        raise ValueError(f"时间格式有误：{exc}") from exc


@dataclass
class FoundAnchors:
    anchors: list[Anchor] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines that are not anchors: damaged or altered


def read_anchors(directory: Path | None = None) -> FoundAnchors:
    """Every anchor in the directory's ``*.anchors`` files, in file and line order."""
    directory = directory if directory is not None else anchor_dir()
    found = FoundAnchors()
    if not directory.is_dir():
        return found
    for path in sorted(p for p in directory.iterdir() if p.suffix == ANCHOR_SUFFIX and p.is_file()):
        found.files.append(path)
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                source = f"{path.name} 第 {number} 行"
                if not line.strip():
                    continue
                try:
                    found.anchors.append(_parse_line(line, source))
                except ValueError as exc:
                    found.problems.append(f"{source}不是锚点（{exc}）：锚点文件被改动或损坏")
    return found


def latest_anchors(limit: int = 5) -> list[Anchor]:
    """The last anchors written to this system's anchor file, newest first (its end only is read)."""
    path = anchor_dir() / ANCHOR_FILE
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - TAIL_BYTES))
            tail = file.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    if size > TAIL_BYTES:
        tail = tail[1:]  # the first line read is probably cut
    found: list[Anchor] = []
    for line in reversed(tail):
        if len(found) == limit:
            break
        try:
            found.append(_parse_line(line, ANCHOR_FILE))
        except ValueError:
            continue  # verify_audit names damaged lines; the page shows what it can read
    return found
