"""manage.py verify_audit: recompute the 操作日志 hash chain, check it against every anchor, name the first break."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jingzhun.audit.anchors import ANCHOR_DIR_ENV, anchor_dir, parse_anchor, read_anchors
from jingzhun.audit.chain import ChainBreak, verify_chain


class Command(BaseCommand):
    help = (
        "校验操作日志哈希链：逐条重算哈希，核对前后衔接、链头和锚点目录中的全部锚点；"
        "发现问题时指出第一处被改动的条目并以非零状态退出"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="列出所有损坏之处（默认在第一处停止）", dest="list_all")
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="编号:哈希",
            help="此前记录下的某条日志的编号和哈希（如检查报告中抄录的锚点），可多次给出",
        )
        parser.add_argument(
            "--anchor-dir",
            type=Path,
            default=None,
            help=(
                "从此目录读取锚点文件（*.anchors），如另一台机器上保存的副本；"
                f"默认为 {ANCHOR_DIR_ENV} 或 VAR_DIR/anchors"
            ),
        )
        parser.add_argument("--chunk-size", type=int, default=5000, help="每次从数据库读取的条数")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            given = [parse_anchor(a, "命令行 --anchor") for a in options["anchor"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        directory = options["anchor_dir"] or anchor_dir()
        found = read_anchors(directory)
        started = time.monotonic()

        def progress(count: int, entry_id: int) -> None:
            if options["verbosity"] >= 2:
                self.stderr.write(f"已校验 {count} 条（至 #{entry_id}）…")

        result = verify_chain(
            chunk_size=options["chunk_size"],
            stop_at_first=not options["list_all"],
            anchors=[*found.anchors, *given],
            using=options["database"],
            progress=progress,
        )
        # A line of an anchor file that is no anchor was damaged or altered: as serious as a broken entry.
        result.breaks.extend(ChainBreak(None, problem) for problem in found.problems)
        elapsed = time.monotonic() - started
        if result.ok:
            self.stdout.write(f"操作日志校验通过：{result.count} 条")
            if found.anchors:
                latest = found.anchors[-1]
                written = f"，{timezone.localtime(latest.written_at):%Y-%m-%d %H:%M} 写入" if latest.written_at else ""
                self.stdout.write(
                    f"已对照 {len(found.anchors)} 个锚点（{directory}；最新的为 #{latest.entry_id}{written}）"
                )
            else:
                self.stdout.write(f"锚点目录 {directory} 中没有锚点：只核对了哈希链本身")
            if result.last_id is not None and options["verbosity"] >= 1:
                # Writing this down (e.g. in an inspection report) lets a later run prove nothing up to
                # here was rewritten: verify_audit --anchor ID:HASH.
                self.stdout.write(f"链头：#{result.last_id} {result.last_hash}（用时 {elapsed:.1f} 秒）")
            return
        first = result.breaks[0]
        self.stderr.write(f"操作日志校验失败：已核对 {result.count} 条，第一处损坏在 {first.describe()}")
        for other in result.breaks[1:]:
            self.stderr.write(f"另一处损坏：{other.describe()}")
        where = f"#{first.entry_id}" if first.entry_id is not None else "链头或锚点"
        raise CommandError(f"操作日志校验未通过（第一处损坏：{where}）", returncode=2)
