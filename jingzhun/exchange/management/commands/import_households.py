"""manage.py import_households FILE [FILE …] [--dry-run] [--user NAME]: the same import as the upload page."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jingzhun.accounts.models import User
from jingzhun.audit.context import audit_context
from jingzhun.core.scope import user_scope_prefix
from jingzhun.core.tabular import TableError
from jingzhun.exchange.importer import run_import


class ProgressBar:
    """A one-line progress bar on stderr: rows done, rows/s, time left."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.2 and (total is None or done < total):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if total:
            filled = int(30 * done / total)
            left = (total - done) / rate if rate else 0
            bar = "#" * filled + "." * (30 - filled)
            line = f"[{bar}] {done}/{total} 行 {rate:,.0f} 行/秒 剩余 {left:,.0f} 秒 {message}"
        else:
            line = f"{done} 行 {message}"
        self.stream.write("\r" + line.ljust(100))
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")


class Command(BaseCommand):
    help = "按导入模板导入建档立卡户和成员（XLSX 或 UTF-8/GBK CSV）；有任何错误时不写入"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", help="XLSX 工作簿，或户信息/成员信息 CSV 文件")
        parser.add_argument("--dry-run", action="store_true", help="只预检，不写入")
        parser.add_argument("--user", help="以该用户身份导入（限其管辖范围，并记入操作日志）")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        scope = ""
        if options["user"]:
            try:
                user = User.objects.unscoped().get(username=options["user"])
            except User.DoesNotExist as exc:
                raise CommandError(f"用户 {options['user']} 不存在") from exc
            prefix = user_scope_prefix(user)
            if prefix is None or not user.can_write:
                raise CommandError("该用户没有写入权限")
            scope = prefix
        files = []
        for raw in options["paths"]:
            path = Path(raw)
            if not path.is_file():
                raise CommandError(f"文件不存在：{path}")
            files.append((path.name, path.read_bytes()))
        bar = None if options["no_progress"] else ProgressBar(sys.stderr)
        started = time.monotonic()
        try:
            with audit_context(user, source="command", reason=f"命令行导入 {', '.join(options['paths'])}"):
                report = run_import(files, scope_prefix=scope, commit=not options["dry_run"], progress=bar)
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.finish()
        seconds = time.monotonic() - started
        for issue in report.issues[:200]:
            self.stderr.write(str(issue))
        if len(report.issues) > 200:
            self.stderr.write(f"……另有 {len(report.issues) - 200} 处错误")
        state = "已写入" if report.committed else ("预检（未写入）" if options["dry_run"] else "未写入")
        self.stdout.write(
            f"{state}：{report.summary()}（{report.rows} 行，{seconds:.1f} 秒，"
            f"{report.rows / max(seconds, 1e-6):,.0f} 行/秒）"
        )
        if report.issues:
            raise CommandError(f"发现 {len(report.issues)} 处错误，未写入任何数据")
