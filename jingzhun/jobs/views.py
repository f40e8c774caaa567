from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render

from jingzhun.core.access import Capability, requires
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


@requires(Capability.VIEW)
def job_list(request: AuthenticatedRequest) -> HttpResponse:
    jobs = visible_jobs(request).select_related("created_by")[:100]
    return render(request, "jobs/list.html", {"jobs": jobs, "active_nav": "jobs"})


@requires(Capability.VIEW)
def job_detail(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    return render(request, "jobs/detail.html", {"job": job, "progress": job_progress.read(job.pk)})


@requires(Capability.VIEW)
def job_progress_fragment(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    """Polled by HTMX every second while the job runs; stops polling once it has finished."""
    job = _job_for(request, job_id)
    return render(request, "jobs/_progress.html", {"job": job, "progress": job_progress.read(job.pk)})
