"""The whole import: read, validate, plan with the data-quality rules, write — or report why not."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from jingzhun.audit.anchors import anchor_after_commit
from jingzhun.exchange.importer.memory import cyclic_gc_paused, return_freed_memory
from jingzhun.exchange.importer.plan import make_plan
from jingzhun.exchange.importer.quality import QualityFindings, quality_sender, record_warnings
from jingzhun.exchange.importer.read import read_rows
from jingzhun.exchange.importer.report import ImportReport, Issue, Progress
from jingzhun.exchange.importer.stored import existing_members
from jingzhun.exchange.importer.validate import check_member_only_updates, check_structure, link_and_validate
from jingzhun.exchange.importer.write import write_plan
from jingzhun.registry.quality import QualityChecks


def run_import(
    files: list[tuple[str, bytes]],
    *,
    scope_prefix: str,
    commit: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, check and (when ``commit`` and there is no issue) write. Returns the report either way.

    ``scope_prefix`` is the importing user's scope (``core.scope.user_scope_prefix``; '' = everywhere):
    households outside it are neither created nor changed."""
    with cyclic_gc_paused():
        return _run_import(files, scope_prefix=scope_prefix, commit=commit, progress=progress)


def _run_import(
    files: list[tuple[str, bytes]],
    *,
    scope_prefix: str,
    commit: bool,
    progress: Progress | None,
) -> ImportReport:
    issues: list[Issue] = []
    if progress:
        progress(0, None, "读取文件")
    household_rows, member_rows = read_rows(files, issues, progress)
    total_rows = len(household_rows) + len(member_rows)
    if progress:
        progress(total_rows // 3, total_rows, "核对已有数据")
    orphan_members = link_and_validate(household_rows, member_rows, scope_prefix, issues)
    existing_pks = [h.existing["id"] for h in household_rows if h.existing] + list(orphan_members)
    stored_members = existing_members(existing_pks)
    check_structure(household_rows, stored_members, issues)
    check_member_only_updates(orphan_members, stored_members, issues)
    if progress:
        progress(total_rows // 2, total_rows, "数据质量检查")
    # Unless another issue already stops the file, the rules run in a helper process while the rows are
    # written, and a blocking finding rolls the write back; otherwise (a dry run, a file with issues)
    # the helper and this process share the households.
    will_write = commit and not issues
    helper = len(household_rows) >= settings.IMPORT_QUALITY_HELPER_MIN_HOUSEHOLDS
    with QualityChecks(helper=helper) as checks:
        send = quality_sender(checks, share=not will_write)
        plan, report = make_plan(household_rows, orphan_members, stored_members, send)
        report.rows = total_rows
        findings = QualityFindings(household_rows, checks, issues)
        if not will_write:
            findings.collect(wait=True)
            report.issues = sorted(issues + findings.blocking, key=lambda i: (i.sheet, i.row or 0))
            return report
        del member_rows

        def write_progress(done: int, total: int, message: str = "") -> None:
            findings.collect(wait=False)  # release the rows already checked as the write goes on
            if progress:
                progress(total_rows // 2 + done * (total_rows - total_rows // 2) // max(total, 1), total_rows, message)

        try:
            with transaction.atomic():
                write_plan(plan, write_progress)
                if progress:
                    progress(total_rows, total_rows, "数据质量检查")
                findings.collect(wait=True)
                if findings.blocking:
                    raise _Blocked
                report.warnings = record_warnings(household_rows)
        except _Blocked:
            report.issues = sorted(findings.blocking, key=lambda i: (i.sheet, i.row or 0))
            return report
    return_freed_memory()
    report.committed = True
    anchor_after_commit("户籍数据导入")  # the chain head, outside the database, once the import has committed
    if progress:
        progress(total_rows, total_rows, "完成")
    return report


class _Blocked(Exception):
    """A data-quality finding blocks a file whose rows were already being written: roll them back."""
