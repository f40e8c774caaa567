"""操作日志 pages: search (纪检审计), entry detail, CSV export and the per-object 变更历史."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jingzhun.audit.anchors import latest_anchors
from jingzhun.audit.forms import AuditSearchForm
from jingzhun.audit.models import GENESIS_HASH, AuditEntry
from jingzhun.audit.search import (
    SOURCE_LABELS,
    Filters,
    bounded_count,
    can_view_history,
    changes_text,
    entry_views,
    keyset_page,
    load_object,
    model_for_type,
    object_type_label,
    search,
    visible_entries,
)
from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import can_see_code
from jingzhun.core.tabular import csv_stream
from jingzhun.core.types import AuthenticatedRequest

logger = logging.getLogger("jingzhun.audit")


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _filter_query(request: HttpRequest) -> str:
    """The current filters as a query string, without the page position."""
    params = request.GET.copy()
    for name in ("before", "after"):
        params.pop(name, None)
    return params.urlencode()


def _form_and_filters(request: HttpRequest) -> tuple[AuditSearchForm, Filters | None]:
    form = AuditSearchForm(request.GET or None)
    if not form.is_bound:
        return form, Filters()
    if not form.is_valid():
        return form, None
    return form, form.filters()


@requires(Capability.READ_AUDIT)
def search_page(request: AuthenticatedRequest) -> HttpResponse:
    form, filters = _form_and_filters(request)
    context: dict[str, Any] = {"form": form, "active_nav": "audit", "filter_query": _filter_query(request)}
    if filters is not None:
        qs = search(request.user, filters)
        page = keyset_page(qs, before=_int_param(request, "before"), after=_int_param(request, "after"))
        context.update(page=page, rows=entry_views(page.entries))
        if filters.request_id:
            # One request = one correlated set (a form save, a bulk import): say how big it is.
            count, more = bounded_count(qs)
            context["request_summary"] = {"id": filters.request_id, "count": count, "more": more}
    context.update(_anchor_context())
    return render(request, "audit/search.html", context)


ANCHOR_STALE_AFTER = dt.timedelta(days=2)  # anchored daily: two days without one means the step stopped


def _anchor_context() -> dict[str, Any]:
    """The latest anchors for a person to copy, each checked against the table now (a rewrite shows here)."""
    anchors = latest_anchors()
    stored = dict(AuditEntry.objects.filter(id__in=[a.entry_id for a in anchors]).values_list("id", "hash"))
    newest = anchors[0].written_at if anchors else None
    return {
        "anchors": [(a, stored.get(a.entry_id) == a.hash) for a in anchors],
        "anchor_stale": newest is not None and timezone.now() - newest > ANCHOR_STALE_AFTER,
    }


@requires(Capability.READ_AUDIT)
def entry_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(visible_entries(request.user), pk=pk)
    # Local integrity: does this entry still match its hash and link to its neighbours? (The whole chain
    # is checked by manage.py verify_audit.) Neighbours may lie outside the scope: only yes/no is shown.
    prev_hash = AuditEntry.objects.filter(id__lt=entry.pk).order_by("-id").values_list("hash", flat=True).first()
    next_prev = AuditEntry.objects.filter(id__gt=entry.pk).order_by("id").values_list("prev_hash", flat=True).first()
    integrity = {
        "hash_ok": entry.compute_hash() == entry.hash,
        "prev_ok": entry.prev_hash == (prev_hash or GENESIS_HASH),
        "next_ok": None if next_prev is None else next_prev == entry.hash,
    }
    model = model_for_type(entry.object_type)
    obj = load_object(model, entry.object_id)
    return render(
        request,
        "audit/detail.html",
        {
            "row": entry_views([entry])[0],
            "integrity": integrity,
            "object_exists": obj is not None,
            "active_nav": "audit",
        },
    )


@requires(Capability.VIEW)
def history(request: AuthenticatedRequest, object_type: str, object_id: str) -> HttpResponse:
    """变更历史 of one object, newest first (its entries within the user's scope)."""
    model = model_for_type(object_type)
    obj = load_object(model, object_id)
    if not can_view_history(request.user, model, obj):
        raise Http404  # like every record outside a user's scope, it does not exist for them
    qs = visible_entries(request.user).filter(object_type=object_type, object_id=object_id)
    page = keyset_page(qs, before=_int_param(request, "before"), after=_int_param(request, "after"))
    obj_visible = obj is not None and can_see_code(request.user, obj.audit_region_code())
    if not obj_visible and not page.entries:
        raise Http404  # an object of another region, with no entry in this user's scope: not even its name
    title = str(obj) if obj_visible else (page.entries[0].object_repr if page.entries else object_id)
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = ""
    return render(
        request,
        "audit/history.html",
        {
            "object_type": object_type,
            "object_id": object_id,
            "type_label": object_type_label(object_type),
            "title": title,
            "object_exists": obj is not None,
            "page": page,
            "rows": entry_views(page.entries),
            "back": back,
            "filter_query": _filter_query(request),
            "active_nav": "audit" if request.user.can_read_audit else "",
        },
    )


# Marked for translation here, translated per export (the reader's language).
CSV_COLUMNS = [
    gettext_noop("编号"),
    gettext_noop("时间"),
    gettext_noop("操作人"),
    gettext_noop("操作人ID"),
    gettext_noop("来源"),
    gettext_noop("IP地址"),
    gettext_noop("请求编号"),
    gettext_noop("操作"),
    gettext_noop("对象类型"),
    gettext_noop("对象ID"),
    gettext_noop("对象"),
    gettext_noop("区划代码"),
    gettext_noop("变更内容"),
    gettext_noop("原因"),
    gettext_noop("哈希"),
    gettext_noop("前一条哈希"),
]


@requires(Capability.READ_AUDIT)
def export_csv(request: AuthenticatedRequest) -> HttpResponseBase:
    """The filtered entries as CSV (UTF-8 with BOM for Excel), streamed so any size stays in constant memory."""
    _form, filters = _form_and_filters(request)
    if filters is None:
        return HttpResponseBadRequest(_("筛选条件有误，请返回修改"))
    qs = search(request.user, filters).order_by("-id")
    logger.info("audit export by %s: %s", request.user.username, _filter_query(request) or "(all)")
    types: dict[str, str] = {}

    def rows() -> Iterator[list[Any]]:
        for e in qs.iterator(chunk_size=2000):
            if e.object_type not in types:
                types[e.object_type] = object_type_label(e.object_type)
            yield [
                e.pk,
                timezone.localtime(e.timestamp).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_username,
                e.actor_id or "",
                str(SOURCE_LABELS.get(e.source, e.source)),
                e.remote_addr or "",
                e.request_id,
                e.get_action_display(),
                types[e.object_type],
                e.object_id,
                e.object_repr,
                e.region_code,
                changes_text(e),
                e.reason,
                e.hash,
                e.prev_hash,
            ]

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_stream([_(c) for c in CSV_COLUMNS], rows()), content_type="text/csv; charset=utf-8"
    )
    name = f"操作日志-{stamp}.csv"
    response["Content-Disposition"] = f"attachment; filename=\"audit-{stamp}.csv\"; filename*=UTF-8''{quote(name)}"
    return response
