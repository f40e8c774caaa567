"""manage.py import_regions PATH [--dry-run]: load the region table from CSV or XLSX, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jingzhun.audit.context import audit_context
from jingzhun.regions.importer import import_regions


class Command(BaseCommand):
    help = (
        "从 CSV 或 XLSX 文件导入行政区划（代码列：code/代码/统计用区划代码/区划代码；名称列：name/名称）。"
        "有任何错误则逐行列出并且不写入任何数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="CSV（UTF-8 / GBK）或 XLSX 文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查并统计，不写入")
        parser.add_argument("--reason", default="", help="写入操作日志的原因（默认：导入行政区划：文件名）")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(_("文件不存在：%(path)s") % {"path": path})
        dry_run: bool = options["dry_run"]
        reason = options["reason"] or _("导入行政区划：%(name)s") % {"name": path.name}
        # One command run = one request id: the whole import is one correlated set in the audit log.
        with audit_context(None, source="command", reason=reason):
            result = import_regions(path, path.name, dry_run=dry_run)
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(_("发现 %(n)d 处错误，未写入任何数据") % {"n": len(result.errors)})
        for warning in result.warnings:
            self.stderr.write(_("提示：%(warning)s") % {"warning": warning})
        summary = _("新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        if dry_run:
            self.stdout.write(_("试导入（未写入）：%(summary)s") % {"summary": summary})
        else:
            self.stdout.write(self.style.SUCCESS(_("导入完成：%(summary)s") % {"summary": summary}))
