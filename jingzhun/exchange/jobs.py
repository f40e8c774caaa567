"""The household import as a background job: a dry run first, then (on confirmation) the commit."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from jingzhun.exchange import storage
from jingzhun.exchange.importer import ImportFailed, run_import
from jingzhun.jobs.models import Job
from jingzhun.jobs.progress import ProgressReporter
from jingzhun.jobs.runner import job_kind


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
