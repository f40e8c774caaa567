"""Background jobs of the Excel door: the household import (a dry run first, then on confirmation the
commit) and large workbook exports."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.urls import reverse

from jingzhun.core import privacy
from jingzhun.core.scope import user_scope_prefix
from jingzhun.exchange import export, storage
from jingzhun.exchange.importer import ImportFailed, run_import
from jingzhun.jobs.models import Job
from jingzhun.jobs.progress import ProgressReporter
from jingzhun.jobs.runner import job_kind
from jingzhun.registry.filters import HouseholdQuery


@job_kind("import_households")
def import_households_job(
    job: Job, progress: ProgressReporter, *, files: list[dict[str, str]], scope_prefix: str, commit: bool
) -> dict[str, Any]:
    report = run_import(storage.load(files), scope_prefix=scope_prefix, commit=commit, progress=progress)
    result = report.as_dict()
    result["url"] = reverse("exchange:import_detail", args=[job.pk])
    result["link_label"] = "查看导入结果"
    if commit and not report.committed:
        # Nothing was written; the job failed so the user sees why.
        raise ImportFailed(report)
    return result


class ExportRefused(PermissionError):
    """An export its requester may no longer make; the text is for them."""

    user_message = True


@job_kind("export_households")
def export_households_job(job: Job, progress: ProgressReporter, *, query: dict[str, Any]) -> dict[str, Any]:
    """The household list's workbook for the user who asked, filtered as the list was, within the scope
    that user has now, with personal data as that user may download it (the download is logged)."""
    user = job.created_by
    if user_scope_prefix(user) is None:
        raise ExportRefused("导出任务的发起人已无数据范围")
    filters = HouseholdQuery(**query)
    households = export.filtered_households(user, filters)
    members = export.members_of(households)
    counts = households.count(), members.count()
    total = sum(counts)
    progress(0, total, "写出 Excel")
    disclosure = privacy.for_download(user)

    def write(out: IO[bytes]) -> None:
        export.write_xlsx(
            households,
            filters.year,
            out,
            disclosure=disclosure,
            members=members,
            progress=lambda done: progress(done, total),
        )

    storage.write_export(job.pk, write)
    progress(total, total, "完成")
    return {
        "summary": f"已导出 {counts[0]} 户、{counts[1]} 名成员（{filters.year} 年度）",
        "url": reverse("exchange:export_file", args=[job.pk]),
        "owner_only": True,  # the file is for the user who asked for it (exchange.views.export_file)
        "link_label": "下载 Excel 文件",
        "filename": f"建档立卡户_{filters.year}_{dt.date.today():%Y%m%d}.xlsx",
        "rows": total,
        "personal_data": disclosure.description,
    }
