"""Registry of job kinds, enqueueing, and the worker entry point.

A job kind is a function ``fn(job, progress, **params) -> dict`` registered with ``@job_kind("name")``; its
return value is stored as the job's result. The work runs inside the job's audit context, so everything a job
writes is one correlated set in the audit trail (request id = job id).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from huey.contrib.djhuey import db_task

from jingzhun.audit.context import audit_context
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.jobs.progress import ProgressReporter

logger = logging.getLogger(__name__)
JobFunction = Callable[..., dict[str, Any]]
_KINDS: dict[str, JobFunction] = {}


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    def register(fn: JobFunction) -> JobFunction:
        _KINDS[name] = fn
        return fn

    return register


def enqueue(kind: str, label: str, *, user: Any = None, region_code: str = "", **params: Any) -> Job:
    if kind not in _KINDS:
        raise KeyError(f"未知的任务类型：{kind}")
    job = Job.objects.create(
        kind=kind,
        label=label,
        created_by=user if getattr(user, "pk", None) else None,
        region_code=region_code,
        params=params,
    )
    from django.db import transaction

    # Hand the job to the queue only once the row is committed, so the worker can read it.
    transaction.on_commit(lambda: run_job_task(str(job.pk)))
    return job


def execute(job_id: str) -> Job:
    """Run a job in this process (the worker calls this; tests may too)."""
    job = Job.objects.unscoped().select_related("created_by").get(pk=job_id)  # the worker runs any queued job
    if job.status != JobStatus.QUEUED:
        return job
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    progress = ProgressReporter(job.pk)
    try:
        with audit_context(job.created_by, source="job", request_id=job.pk, reason=job.label):
            result = _KINDS[job.kind](job, progress, **job.params)
    except Exception as exc:  # a failed job must be visible to its user, whatever went wrong
        logger.exception("job %s failed", job.pk)
        job.status = JobStatus.FAILED
        job.error = f"{exc}\n\n{traceback.format_exc(limit=5)}" if not getattr(exc, "user_message", None) else str(exc)
        job.result = getattr(exc, "result", {}) or {}
    else:
        job.status = JobStatus.SUCCEEDED
        job.result = result or {}
    progress(progress.state.done, progress.state.total, force=True)
    job.done = progress.state.done
    job.total = progress.state.total
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "result", "done", "total", "finished_at"])
    return job


@db_task()
def run_job_task(job_id: str) -> None:
    execute(job_id)
