"""Region pages: the drill-down tree, a region's detail and export, and the administrators' edit and import.

Every page finds its region through ``get_visible_or_404``: a region outside the user's subtree does not
exist for them (404), whether they open, export, expand or try to change it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jingzhun.audit.context import audit_reason
from jingzhun.core.access import Capability, has_capability, requires
from jingzhun.core.scope import get_visible_or_404, require_write, user_scope_prefix
from jingzhun.core.tabular import attachment_disposition, xlsx_response
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.regions import export as region_export
from jingzhun.regions.forms import ReasonForm, RegionEditForm, RegionFlagForm, RegionUploadForm
from jingzhun.regions.importer import ImportResult, import_regions
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind, RegionLevel, RegionQuerySet, not_retired_q

# 政策参数 and 行政区划 are reference data: read by all, changed by the system administrator.
edits_regions = requires(Capability.MANAGE_REFERENCE, message=gettext_lazy("只有系统管理员可以修改行政区划"))

SESSION_KEY = "regions_import"
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
PREVIEW_LIMIT = 1000  # errors / changes listed on the preview page; the counts are always complete


def _show_retired(request: HttpRequest) -> bool:
    return request.GET.get("retired") == "1"


def _with_child_counts(regions: RegionQuerySet, show_retired: bool) -> list[Region]:
    """``regions`` in code order, each with the number of its own children (retired ones only when shown)."""
    child_filter = None if show_retired else not_retired_q(prefix="children__")
    if not show_retired:
        regions = regions.not_retired()
    return list(regions.annotate(child_count=Count("children", filter=child_filter)).order_by("code"))


def _children(region: Region, user: Any, show_retired: bool) -> list[Region]:
    """Visible children of ``region``, each with the number of its own children."""
    return _with_child_counts(Region.objects.visible_to(user).filter(parent=region), show_retired)


def _can_manage(user: Any) -> bool:
    return has_capability(user, Capability.MANAGE_REFERENCE)


@require_GET
@requires(Capability.VIEW)
def browse(request: AuthenticatedRequest) -> HttpResponse:
    """Start the drill-down at the top of the user's scope; a national user sees the provinces."""
    user = request.user
    if user.scope_region_id:
        return redirect("regions:detail", code=user.scope_region_id)
    roots = Region.objects.visible_to(user).filter(parent__isnull=True)
    if not roots.exists():
        return render(request, "regions/empty.html", {"active_nav": "regions", "can_manage": _can_manage(user)})
    show_retired = _show_retired(request)
    return render(
        request,
        "regions/browse.html",
        {
            "children": _with_child_counts(roots, show_retired),
            "show_retired": show_retired,
            "can_manage": _can_manage(user),
            "active_nav": "regions",
        },
    )


def _flag_table(region: Region, flags: list[RegionFlag]) -> dict[str, Any]:
    """Flags as a year-by-year table: for each flag, the value in force each year since its first record."""
    if not flags:
        return {"years": [], "rows": []}
    this_year = dt.date.today().year
    first = min(f.year for f in flags)
    years = list(range(first, max(this_year, max(f.year for f in flags)) + 1))
    labels = dict(RegionFlagKind.choices)
    rows = []
    for kind in dict.fromkeys(f.flag for f in flags):
        changes = {f.year: f for f in flags if f.flag == kind}
        cells, value = [], None
        for year in years:
            change = changes.get(year)
            if change is not None:
                value = change.value
            cells.append({"year": year, "value": value, "change": change})
        rows.append({"label": labels.get(kind, kind), "cells": cells, "now": value})
    return {"years": years, "rows": rows}


@require_GET
@requires(Capability.VIEW)
def detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    user = request.user
    region = get_visible_or_404(Region.objects.all(), user, code=code)
    breadcrumb = region.breadcrumb(user)
    show_retired = _show_retired(request)
    level_counts = {
        row["level"]: row["n"]
        for row in Region.objects.visible_to(user)
        .subtree(region, include_self=False)
        .current()
        .values("level")
        .annotate(n=Count("code"))
        .order_by()
    }
    flags = list(region.flags.order_by("flag", "year"))
    return render(
        request,
        "regions/detail.html",
        {
            "region": region,
            "children": _children(region, user, show_retired),
            "show_retired": show_retired,
            "retired_children": Region.objects.visible_to(user).filter(parent=region).exclude(not_retired_q()).count(),
            "level_counts": [(label, level_counts[lvl]) for lvl, label in RegionLevel.choices if level_counts.get(lvl)],
            "flags": flags,
            "flag_table": _flag_table(region, flags),
            "breadcrumb": breadcrumb,
            "can_manage": _can_manage(user),
            "active_nav": "regions",
        },
    )


@require_GET
@requires(Capability.VIEW)
def children(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """HTMX fragment: the next level of the tree under ``code``."""
    region = get_visible_or_404(Region.objects.all(), request.user, code=code)
    show_retired = _show_retired(request)
    return render(
        request,
        "regions/_tree_children.html",
        {"children": _children(region, request.user, show_retired), "show_retired": show_retired},
    )


@require_GET
@requires(Capability.VIEW)
def export(request: AuthenticatedRequest, code: str, fmt: str) -> FileResponse | StreamingHttpResponse:
    """The visible subtree of ``code`` as CSV or XLSX (retired codes with ?retired=1)."""
    region = get_visible_or_404(Region.objects.all(), request.user, code=code)
    rows = region_export.export_rows(request.user, region, include_retired=_show_retired(request))
    stamp = dt.date.today().strftime("%Y%m%d")
    filename = f"行政区划_{region_export.safe_title(region.name, 60)}_{region.code}_{stamp}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(lambda out: region_export.write_xlsx(rows, region.name, out), filename)
    if fmt != "csv":
        raise Http404
    response = StreamingHttpResponse(region_export.csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_disposition(filename)
    return response


def _editable_region(request: AuthenticatedRequest, code: str) -> Region:
    """The region, if visible (else 404) and the user may change reference data there (else 403)."""
    region = get_visible_or_404(Region.objects.all(), request.user, code=code)
    require_write(request.user, region.code)
    return region


def _edit_page(
    request: AuthenticatedRequest,
    region: Region,
    form: RegionEditForm | None = None,
    flag_form: RegionFlagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "regions/edit.html",
        {
            "region": region,
            "form": form or RegionEditForm(instance=region),
            "flag_form": flag_form or RegionFlagForm(region=region),
            "flags": region.flags.order_by("flag", "year"),
            "breadcrumb": region.breadcrumb(request.user),
            "active_nav": "regions",
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@edits_regions
def edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Name, 城乡分类代码 and validity dates; saved through AuditedModel, so each change is logged."""
    region = _editable_region(request, code)
    if request.method != "POST":
        return _edit_page(request, region)
    form = RegionEditForm(request.POST, instance=region)
    if not form.is_valid():
        # The form changed the instance in place; show the stored region beside the errors.
        return _edit_page(request, Region.objects.visible_to(request.user).get(code=region.code), form=form, status=400)
    with audit_reason(form.cleaned_data["reason"]):
        form.save()
        retired = 0
        if form.cleaned_data.get("retire_descendants") and region.valid_to:
            for descendant in form.descendants_to_retire:
                descendant.valid_to = region.valid_to
                descendant.save(update_fields=["valid_to", "updated_at"])
                retired += 1
    if retired:
        messages.success(request, _("已保存，并停用 %(n)d 个下级区划") % {"n": retired})
    else:
        messages.success(request, _("已保存"))
    return redirect("regions:detail", code=region.code)


@require_POST
@edits_regions
def flag_add(request: AuthenticatedRequest, code: str) -> HttpResponse:
    region = _editable_region(request, code)
    form = RegionFlagForm(request.POST, region=region)
    if not form.is_valid():
        return _edit_page(request, region, flag_form=form, status=400)
    with audit_reason(form.cleaned_data["reason"]):
        flag = form.save()
    messages.success(request, _("已添加标识：%(flag)s") % {"flag": flag})
    return redirect("regions:edit", code=region.code)


@require_POST
@edits_regions
def flag_delete(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Remove a mistaken flag record (the audit log keeps what it said)."""
    region = _editable_region(request, code)
    try:
        flag = region.flags.get(pk=pk)
    except RegionFlag.DoesNotExist as exc:
        raise Http404 from exc
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("删除标识须填写变更原因"))
        return redirect("regions:edit", code=region.code)
    with audit_reason(form.cleaned_data["reason"]):
        flag.delete()
    messages.success(request, _("已删除标识：%(flag)s") % {"flag": flag})
    return redirect("regions:edit", code=region.code)


# ---- Import (administrators) -------------------------------------------------------------------------


def _import_scope(request: AuthenticatedRequest) -> str:
    """The prefix the administrator may change through an import; refuses everyone else (403)."""
    user = request.user
    prefix = user_scope_prefix(user)
    if prefix is None:
        raise PermissionDenied(_("未设置管辖范围"))
    return prefix


def _upload_dir() -> Path:
    path = Path(settings.VAR_DIR) / "uploads" / "region-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pending_path(pending: dict[str, Any]) -> Path | None:
    token, suffix = str(pending.get("token", "")), str(pending.get("suffix", ""))
    # The token is ours (hex) and the suffix one we allow, so the path never leaves the upload folder.
    if not token or not all(c in "0123456789abcdef" for c in token) or suffix not in (".csv", ".xlsx"):
        return None
    return _upload_dir() / f"{token}{suffix}"


def _discard_pending(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        path = _pending_path(pending)
        if path is not None:
            path.unlink(missing_ok=True)


def _remove_stale_uploads() -> None:
    # Uploads previewed but never confirmed or cancelled (closed tab, expired session).
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for path in _upload_dir().iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _import_page(
    request: AuthenticatedRequest,
    form: RegionUploadForm,
    result: ImportResult | None = None,
    pending: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "result": result, "pending": pending, "active_nav": "regions"}
    if result is not None:
        context["errors_shown"] = result.errors[:PREVIEW_LIMIT]
        context["errors_hidden"] = max(0, len(result.errors) - PREVIEW_LIMIT)
        context["changes_shown"] = result.changes[:PREVIEW_LIMIT]
        context["changes_hidden"] = max(0, len(result.changes) - PREVIEW_LIMIT)
        context["warnings_shown"] = result.warnings[:PREVIEW_LIMIT]
    return render(request, "regions/import.html", context, status=status)


@require_http_methods(["GET", "POST"])
@requires(Capability.MANAGE_REFERENCE, message=gettext_lazy("只有系统管理员可以导入行政区划"))
def import_upload(request: AuthenticatedRequest) -> HttpResponse:
    """Upload → validate the whole file without writing → preview; the file waits for confirmation."""
    scope = _import_scope(request)
    if request.method != "POST":
        return _import_page(request, RegionUploadForm())
    form = RegionUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form, status=400)
    _discard_pending(request)
    _remove_stale_uploads()
    upload = form.cleaned_data["file"]
    token = secrets.token_hex(16)
    suffix = Path(upload.name).suffix.lower()
    path = _upload_dir() / f"{token}{suffix}"
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    result = import_regions(path, upload.name, dry_run=True, within=scope)
    if not result.ok:
        path.unlink(missing_ok=True)
        return _import_page(request, RegionUploadForm(), result=result, status=400)
    pending = {"token": token, "suffix": suffix, "filename": upload.name, "sha256": digest.hexdigest()}
    request.session[SESSION_KEY] = pending
    return _import_page(request, RegionUploadForm(), result=result, pending=pending)


@require_POST
@requires(Capability.MANAGE_REFERENCE, message=gettext_lazy("只有系统管理员可以导入行政区划"))
def import_confirm(request: AuthenticatedRequest) -> HttpResponse:
    """Write the previewed file: validated again inside the writing transaction, all or nothing."""
    scope = _import_scope(request)
    pending = request.session.get(SESSION_KEY)
    path = _pending_path(pending) if pending else None
    if not pending or path is None or request.POST.get("token") != pending["token"] or not path.is_file():
        _discard_pending(request)
        messages.error(request, _("待确认的导入已失效，请重新上传文件"))
        return redirect("regions:import")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != pending["sha256"]:
        _discard_pending(request)
        messages.error(request, _("上传的文件已被改动，请重新上传"))
        return redirect("regions:import")
    filename = pending["filename"]
    with audit_reason(_("导入行政区划：%(name)s") % {"name": filename}):
        result = import_regions(data, filename, within=scope)
    _discard_pending(request)
    if not result.ok:
        # The database changed since the preview (another import, an edit): nothing was written.
        messages.error(request, _("数据在预览后发生变化，未写入任何数据；请核对后重新上传"))
        return _import_page(request, RegionUploadForm(), result=result, status=409)
    messages.success(
        request,
        _("已导入 %(name)s：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d")
        % {"name": filename, "created": result.created, "updated": result.updated, "unchanged": result.unchanged},
    )
    return redirect(reverse("regions:browse"))


@require_POST
@requires(Capability.MANAGE_REFERENCE, message=gettext_lazy("只有系统管理员可以导入行政区划"))
def import_cancel(request: AuthenticatedRequest) -> HttpResponse:
    _import_scope(request)
    _discard_pending(request)
    messages.info(request, _("已取消导入"))
    return redirect("regions:import")
