"""Excel 导入导出 pages: template download, upload with a background dry run, confirmation, exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jingzhun.accounts.models import User
from jingzhun.audit.access import record_access
from jingzhun.audit.models import Action, AuditedModel, append_entries
from jingzhun.core import codes, privacy
from jingzhun.core.access import Capability, has_capability, requires
from jingzhun.core.privacy import Disclosure
from jingzhun.core.scope import user_scope_prefix
from jingzhun.core.tabular import XLSX_CONTENT_TYPE, TableError, attachment_disposition, xlsx_response
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.exchange import export, storage
from jingzhun.exchange.errorbook import marked_workbook
from jingzhun.exchange.forms import ImportUploadForm
from jingzhun.exchange.template import build_template
from jingzhun.jobs import progress as job_progress
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.jobs.runner import enqueue
from jingzhun.jobs.views import visible_jobs
from jingzhun.regions.models import Region
from jingzhun.registry.filters import HouseholdFilterForm, HouseholdQuery, default_year, requested_year
from jingzhun.registry.models import Household, MemberStatus

# Importing writes households: the same capability as the forms, with the import's own refusal.
imports = requires(Capability.EDIT, message=gettext_lazy("当前角色不能导入数据"))


def _import_job(request: AuthenticatedRequest, job_id: str) -> Job:
    try:
        return visible_jobs(request).filter(kind="import_households").get(pk=job_id)
    except (Job.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _committable(job: Job) -> bool:
    """A preview that passed, not yet confirmed."""
    passed = job.status == JobStatus.SUCCEEDED and not (job.result or {}).get("issue_count")
    return passed and not job.params.get("commit")


def _may_take_over(user: Any, job: Job) -> bool:
    """An administrator may confirm another user's preview, as their own act (audited); nobody else may."""
    return job.created_by_id != user.pk and has_capability(user, Capability.MANAGE_USERS) and user.can_write


@requires(Capability.VIEW)
def index(request: AuthenticatedRequest) -> HttpResponse:
    recent = Job.objects.visible_to(request.user).filter(kind="import_households", created_by=request.user.pk)[:20]
    return render(
        request,
        "exchange/index.html",
        {"form": ImportUploadForm(), "recent": recent, "can_import": request.user.can_write, "active_nav": "exchange"},
    )


@requires(Capability.VIEW)
def template_download(request: AuthenticatedRequest) -> HttpResponse:
    # The year the county is filling in: the latest with records in the user's area (not the calendar year,
    # whose records usually do not exist yet), unless one is asked for.
    year = requested_year(request) or default_year(user_scope_prefix(request.user) or "")
    response = HttpResponse(build_template(year), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment_disposition(f"建档立卡户信息导入模板_{year}.xlsx")
    return response


@require_POST
@imports
def upload(request: AuthenticatedRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        recent = Job.objects.visible_to(request.user).filter(kind="import_households", created_by=request.user.pk)[:20]
        return render(request, "exchange/index.html", {"form": form, "recent": recent, "can_import": True})
    files = storage.store([(f.name, f.read()) for f in form.cleaned_data["files"]])
    names = "、".join(f["name"] for f in files)
    job = enqueue(
        "import_households",
        f"导入预检：{names}",
        user=request.user,
        region_code=request.user.scope_region_id or "",
        files=files,
        scope_prefix=user_scope_prefix(request.user),
        commit=False,
    )
    return redirect("exchange:import_detail", job_id=job.pk)


@requires(Capability.VIEW)
def import_detail(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    job = _import_job(request, job_id)
    # HTMX polls for the status block alone while the job runs.
    template = "exchange/_import_status.html" if request.headers.get("HX-Request") else "exchange/import_detail.html"
    result = job.result or {}
    issues = result.get("issues", [])
    return render(
        request,
        template,
        {
            "job": job,
            "progress": job_progress.read(job.pk),
            "result": result,
            "issues": issues[:1000],
            "more_issues": max(0, result.get("issue_count", 0) - 1000),
            "can_commit": _committable(job) and request.user.can_write and job.created_by_id == request.user.pk,
            "can_take_over": _committable(job) and _may_take_over(request.user, job),
            "audit_url": _audit_link(request, job, result),
            "active_nav": "exchange",
        },
    )


def _audit_link(request: AuthenticatedRequest, job: Job, result: dict[str, Any]) -> str:
    """The audit log's entries of a committed import, for a user who may open the audit log (village and
    township users may not: they would get a refusal)."""
    if not (job.params.get("commit") and result.get("committed")):
        return ""
    if not has_capability(request.user, Capability.READ_AUDIT):
        return ""
    return reverse("audit:search") + "?" + urlencode({"request": str(job.pk)})


@require_POST
@imports
def commit(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    """Write a preview that passed. Only its author confirms it, knowing the job id is not enough: an
    import writes in the name of whoever confirms it. An administrator may take another user's preview
    over by asking for it (``take_over``): the takeover is audited, and the import is theirs, within the
    scope the preview was checked in."""
    dry_run = _import_job(request, job_id)
    taking_over = dry_run.created_by_id != request.user.pk
    if taking_over and not (request.POST.get("take_over") == "1" and _may_take_over(request.user, dry_run)):
        raise PermissionDenied("只有发起预检的用户可以确认导入")
    if not _committable(dry_run):
        messages.error(request, "只有预检通过的导入才能确认写入")
        return redirect("exchange:import_detail", job_id=dry_run.pk)
    label = dry_run.label.replace("导入预检", "导入")
    scope_prefix = user_scope_prefix(request.user)
    if taking_over:
        # What was checked is what is written: the author's scope, which lies within the administrator's.
        checked = dry_run.params.get("scope_prefix")
        if checked is None or scope_prefix is None or not checked.startswith(scope_prefix):
            raise PermissionDenied("该预检不在您的管辖范围内")
        scope_prefix = checked
        author = dry_run.created_by.username if dry_run.created_by else ""
        label = dry_run.label.replace("导入预检", f"导入（接管 {author} 的预检）")
        append_entries(
            [
                {
                    "action": Action.UPDATE,
                    "object_type": "jobs.job",
                    "object_id": dry_run.pk,
                    "object_repr": dry_run.label,
                    "region_code": dry_run.region_code,
                    "changes": {"确认导入人": [author, request.user.username]},
                    "reason": "管理员接管他人的导入预检并确认写入",
                }
            ]
        )
    job = enqueue(
        "import_households",
        label,
        user=request.user,
        region_code=dry_run.region_code,
        files=dry_run.params["files"],
        scope_prefix=scope_prefix,
        commit=True,
    )
    return redirect("exchange:import_detail", job_id=job.pk)


@requires(Capability.VIEW)
def error_workbook(request: AuthenticatedRequest, job_id: str) -> HttpResponse:
    job = _import_job(request, job_id)
    issues = (job.result or {}).get("issues", [])
    try:
        files = storage.load(job.params["files"])
    except storage.UploadGone as exc:
        messages.error(request, str(exc))
        return redirect("exchange:import_detail", job_id=job.pk)
    try:
        data = marked_workbook(files, issues)
    except TableError as exc:
        messages.error(request, f"无法生成错误标注文件（{exc}），请按本页列出的错误修改")
        return redirect("exchange:import_detail", job_id=job.pk)
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment_disposition("导入错误标注.xlsx")
    return response


def _filtered_households(request: AuthenticatedRequest) -> tuple[QuerySet[Household], HouseholdQuery]:
    """The household list's own filter form, so an export is exactly what the list shows."""
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    query = HouseholdQuery.from_form(form)
    return export.filtered_households(request.user, query), query


def _record_export(
    request: AuthenticatedRequest, query: HouseholdQuery, what: str, rows: int, disclosure: Disclosure
) -> None:
    """The audit entry of an export: on the region it covers (the filter's, else the user's scope; the
    user's own account for a whole-system export), with the filters, the row count and the disclosure."""
    user = request.user
    assert isinstance(user, User)  # behind the login
    prefix = query.region or user_scope_prefix(user) or ""
    subject: AuditedModel | None = None
    if prefix:
        subject = Region.objects.unscoped().filter(code=prefix.ljust(codes.CODE_LENGTH, "0")).first()
    if subject is None and isinstance(user, AuditedModel):  # a whole-system export: on the user's own account
        subject = user
    record_access(
        Action.EXPORT,
        subject,
        what=what,
        region_code=prefix,
        rows=rows,
        scope=urlencode({key: value for key, value in asdict(query).items() if value not in ("", None)}),
        personal_data=disclosure.description,
    )


@requires(Capability.VIEW)
def export_households(request: AuthenticatedRequest, fmt: str) -> HttpResponseBase:
    households, query = _filtered_households(request)
    year = query.year
    stamp = dt.date.today().strftime("%Y%m%d")
    disclosure = privacy.for_download(request.user)
    if fmt == "csv":
        # Recorded before the first row leaves: a download cut short has still disclosed what it sent.
        _record_export(request, query, f"户信息 CSV（{year} 年度）", households.count(), disclosure)
        response = StreamingHttpResponse(export.households_csv(households, year, disclosure), content_type="text/csv")
        response["Content-Disposition"] = attachment_disposition(f"户信息_{year}_{stamp}.csv")
        return response
    # A CSV streams as it is made; a workbook is complete only at its end. A large one is made in the
    # background with its progress shown, rather than in a request a proxy would cut off.
    count = households.count()
    if count < settings.EXPORT_BACKGROUND_MIN_HOUSEHOLDS:
        written: list[int] = []
        response = xlsx_response(
            lambda out: written.append(export.write_xlsx(households, year, out, disclosure=disclosure)),
            f"建档立卡户_{year}_{stamp}.xlsx",
        )
        _record_export(request, query, f"户和成员 Excel（{year} 年度）", written[0], disclosure)
        return response
    if request.method != "POST":
        return render(
            request,
            "exchange/export_confirm.html",
            {"count": count, "year": year, "query_string": request.GET.urlencode(), "active_nav": "exchange"},
        )
    job = enqueue(
        "export_households",
        f"导出 Excel：{count} 户（{year} 年度）",
        user=request.user,
        region_code=request.user.scope_region_id or "",
        query=asdict(query),
    )
    return redirect("jobs:detail", job_id=job.pk)


@requires(Capability.VIEW)
def export_file(request: AuthenticatedRequest, job_id: str) -> HttpResponseBase:
    """A workbook made in the background, for the user who asked for it, while it is kept; each download
    is recorded (the file was made with the disclosure the user had when the job ran)."""
    try:
        job = visible_jobs(request).get(
            pk=job_id, kind="export_households", created_by=request.user.pk, status=JobStatus.SUCCEEDED
        )
    except (Job.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    path = storage.export_path(job.pk)
    if not path.exists():
        raise Http404("导出文件已过保存期限，请重新导出")
    # Files made before masking existed say nothing and hold everything in full.
    disclosure = privacy.MASKED if job.result.get("personal_data") == privacy.MASKED.description else privacy.FULL
    if disclosure.full and not privacy.for_download(request.user).full:
        raise PermissionDenied(_("您的角色已不能下载完整的个人信息，请重新导出"))
    query = HouseholdQuery(**job.params["query"])
    what = f"户和成员 Excel（{query.year} 年度，后台生成）"
    _record_export(request, query, what, job.result.get("rows") or 0, disclosure)
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=job.result.get("filename"), content_type=XLSX_CONTENT_TYPE
    )


@requires(Capability.VIEW)
def export_members(request: AuthenticatedRequest) -> StreamingHttpResponse:
    households, query = _filtered_households(request)
    members = export.members_of(households)
    disclosure = privacy.for_download(request.user)
    _record_export(request, query, "成员信息 CSV", members.filter(status=MemberStatus.ACTIVE).count(), disclosure)
    response = StreamingHttpResponse(export.members_csv(members, disclosure), content_type="text/csv")
    response["Content-Disposition"] = attachment_disposition(f"成员信息_{dt.date.today():%Y%m%d}.csv")
    return response
