"""Registry of job kinds, enqueueing, and the worker entry point.

A job kind is a function ``fn(job, progress, **params) -> dict`` registered with ``@job_kind("name")``; its
return value is stored as the job's result. The work runs inside the job's audit context, so everything a job
writes is one correlated set in the audit trail (request id = job id).

The worker runs each job in a process of its own (jobs.isolation) and survives whatever becomes of it: a
job that raises, or whose process dies, is marked failed and the queue goes on. What a failed job shows
its user is a message written for them (an exception with ``user_message``) or a general one with the
job id as reference; the traceback goes to the log only, for it names server paths and code.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_task, on_startup

from jingzhun.audit.context import audit_context
from jingzhun.jobs.isolation import run_in_own_process
from jingzhun.jobs.models import Job, JobStatus, failure_message
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
    job: Job = Job.objects.create(
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
    """Run a job in this process (the job's own process calls this; tests may too)."""
    job: Job = Job.objects.unscoped().select_related("created_by").get(pk=job_id)  # the worker runs any queued job
    if job.status != JobStatus.QUEUED:
        return job
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.result = {"runner": process_identity()}  # until it ends: which process runs it (see fail_interrupted_jobs)
    job.save(update_fields=["status", "started_at", "result"])
    progress = ProgressReporter(job.pk)
    try:
        with audit_context(job.created_by, source="job", request_id=job.pk, reason=job.label):
            result = _KINDS[job.kind](job, progress, **job.params)
    except Exception as exc:  # a failed job must be visible to its user, whatever went wrong
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job.status = JobStatus.FAILED
        job.error = str(exc) if getattr(exc, "user_message", None) else failure_message(job.pk)
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


def run_job(job_id: str, command: list[str] | None = None) -> Job:
    """What the worker does with a job: run it in a process of its own, and mark it failed if that process
    ended without finishing it. ``command`` replaces the job process's command line (tests)."""
    status = run_in_own_process(job_id, command)
    job: Job = Job.objects.unscoped().get(pk=job_id)
    if not job.is_finished:
        logger.error("job %s (%s): its process ended with status %s before the job finished", job.pk, job.kind, status)
        _fail(job, INTERRUPTED.format(reference=job.pk))
    return job


INTERRUPTED = (
    "任务在运行中意外终止（可能是文件过大、内存不足或后台服务重启）。"
    "请稍后重试；如仍失败，请联系管理员，并告知参考编号 {reference}。"
)


def _fail(job: Job, message: str) -> None:
    job.status = JobStatus.FAILED
    job.error = message
    job.result = {}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "result", "finished_at"])


def process_identity(pid: int | None = None) -> str:
    """This host, a process id and that process's start time: a process that has ended is never taken
    for another that later gets its id."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _process_alive(identity: str) -> bool:
    host, _, rest = identity.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another host's process: not ours to judge
    pid = int(pid_text)
    if _start_time(pid) != started:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@on_startup()
def fail_interrupted_jobs() -> None:
    """When the worker starts: jobs left 运行中 by a process of this host that no longer runs (the worker
    was stopped or killed, the machine restarted) are marked failed, so nobody waits on them for ever."""
    for job in Job.objects.unscoped().filter(status=JobStatus.RUNNING):
        runner = (job.result or {}).get("runner")
        if isinstance(runner, str) and not _process_alive(runner):
            logger.error("job %s (%s) was interrupted: its process %s is gone", job.pk, job.kind, runner)
            _fail(job, INTERRUPTED.format(reference=job.pk))


@db_task()
def run_job_task(job_id: str) -> None:
    if HUEY.immediate:
        execute(job_id)  # tests and HUEY_IMMEDIATE development: the caller's own process, no worker to keep
    else:
        run_job(job_id)
