from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from jingzhun.core.access import AccessKind, Capability, access_of, has_capability, requires
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.jobs import progress as job_progress
from jingzhun.jobs.models import Job


def visible_jobs(request: AuthenticatedRequest) -> QuerySet[Job]:
    """A user follows their own jobs; administrators and auditors see every job in their scope."""
    jobs = Job.objects.visible_to(request.user)
    if not (request.user.can_manage_users or request.user.can_read_audit):
        jobs = jobs.filter(created_by=request.user.pk)
    return jobs


def _job_for(request: AuthenticatedRequest, job_id: str) -> Job:
    try:
        return visible_jobs(request).get(pk=job_id)
    except (Job.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def result_link(request: AuthenticatedRequest, job: Job) -> str:
    """The finished job's result link if this user may open it ('' if not): the capability the target
    page declares, and for a result only its owner may fetch (``owner_only``: a background export), the
    owner. Administrators and auditors follow others' jobs, but not every result is theirs to open."""
    result = job.result or {}
    url = result.get("url")
    if not job.is_finished or not isinstance(url, str):
        return ""
    if result.get("owner_only") and job.created_by_id != request.user.pk:
        return ""
    try:
        access = access_of(resolve(url).func)
    except Resolver404:
        return ""
    if access is None or (access.kind == AccessKind.CAPABILITY and not _holds(request, access.capability)):
        return ""
    return url


def _holds(request: AuthenticatedRequest, capability: Capability | None) -> bool:
    return capability is not None and has_capability(request.user, capability)


@requires(Capability.VIEW)
def job_list(request: AuthenticatedRequest) -> HttpResponse:
    jobs = visible_jobs(request).select_related("created_by")[:100]
    return render(request, "jobs/list.html", {"jobs": jobs, "active_nav": "jobs"})


@requires(Capability.VIEW)
def job_detail(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    context = {"job": job, "progress": job_progress.read(job.pk), "result_link": result_link(request, job)}
    return render(request, "jobs/detail.html", context)


@requires(Capability.VIEW)
def job_progress_fragment(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    """Polled by HTMX every second while the job runs; stops polling once it has finished."""
    job = _job_for(request, job_id)
    context = {"job": job, "progress": job_progress.read(job.pk), "result_link": result_link(request, job)}
    return render(request, "jobs/_progress.html", context)
