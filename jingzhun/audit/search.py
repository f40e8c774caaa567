"""Finding and presenting 操作日志 entries: scope, filters, keyset pages and readable diffs.

Everything here is shared by the search page, the CSV export, the per-object history and the bench, so
what an auditor sees on screen, exports and what is measured are the same query.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models import F, Func, Q, QuerySet
from django.db.models.lookups import GreaterThanOrEqual, LessThan, Lookup
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.audit.models import AuditedModel, AuditEntry, audited_models
from jingzhun.core import codes
from jingzhun.core.contributions import region_names
from jingzhun.core.privacy import MASKED
from jingzhun.core.scope import can_see_code, code_prefix_q, user_scope_prefix
from jingzhun.core.types import ScopedUser

PAGE_SIZE = 50


# --- scope ---------------------------------------------------------------------------------------------


def visible_entries(user: ScopedUser) -> QuerySet[AuditEntry]:
    """Entries whose region lies in the user's scope; entries without a region only for whole-system scope."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(code_prefix_q("region_code", prefix))


def region_prefix(text: str) -> str:
    """A typed region code as a code prefix: a full code (431102000000) becomes its significant digits."""
    text = text.strip()
    try:
        return codes.prefix_of(codes.normalize_code(text))
    except codes.CodeError:
        return text  # a partial prefix such as 4311021 is searched as typed


def narrow_prefix(scope: str, wanted: str) -> str | None:
    """The region filter limited to the scope: the narrower of the two, or None when they do not meet."""
    if wanted.startswith(scope):
        return wanted
    if scope.startswith(wanted):
        return scope
    return None


# --- filters -------------------------------------------------------------------------------------------


@dataclass
class Filters:
    region: str = ""  # code prefix
    actor: str = ""  # username
    date_from: dt.date | None = None  # inclusive, local (Asia/Shanghai) dates
    date_to: dt.date | None = None
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    request_id: uuid.UUID | None = None
    text: str = ""


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def first_id_at_or_after(moment: dt.datetime) -> int | None:
    """The first entry written at or after ``moment`` (one probe of the (timestamp, id) index)."""
    return (
        AuditEntry.objects.filter(timestamp__gte=moment)
        .order_by("timestamp", "id")
        .values_list("id", flat=True)
        .first()
    )


def id_bounds(f: Filters) -> tuple[int | None, int | None] | None:
    """The date range as ids [low, high): None when nothing was written in it.

    Time runs with the chain (append_entries never lets it go back, verify_audit checks it), so a date range
    is an id range, and every other filter's (column, id) index serves it directly.
    """
    low = high = None
    if f.date_from:
        low = first_id_at_or_after(local_midnight(f.date_from))
        if low is None:
            return None
    if f.date_to:
        high = first_id_at_or_after(local_midnight(f.date_to + dt.timedelta(days=1)))
    return low, high


def apply_filters(
    qs: QuerySet[AuditEntry], f: Filters, bounds: tuple[int | None, int | None] | None = None
) -> QuerySet[AuditEntry]:
    """Narrow ``qs`` by every filter except the region (see ``search``, which combines it with the scope);
    ``bounds`` are the date range's ids when the caller has them already."""
    bounds = id_bounds(f) if bounds is None else bounds
    if bounds is None:
        return qs.none()
    if bounds[0] is not None:
        qs = qs.filter(id__gte=bounds[0])
    if bounds[1] is not None:
        qs = qs.filter(id__lt=bounds[1])
    if f.actor:
        qs = qs.filter(actor_q(f.actor))
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.request_id:
        qs = qs.filter(request_id=f.request_id)
    if f.text:
        qs = qs.filter(Q(object_id=f.text) | Q(object_repr__icontains=f.text))
    return qs


# A region holding at least this share of the entries is filtered, not searched by its index: newest-first
# pages then read about PAGE_SIZE / share rows by id, instead of the whole region sorted by id.
BROAD_REGION_SHARE = 0.05
REGION_SAMPLES = 200


def region_share(prefix: str, low: int | None = None, high: int | None = None) -> float:
    """Roughly which share of the entries (between ids low and high) lie under ``prefix``: the region
    codes of up to REGION_SAMPLES evenly spaced ids, each one primary-key probe."""
    ids = AuditEntry.objects.values_list("id", flat=True)
    # Two probes: SQLite answers MIN and MAX in one query by scanning the table.
    first, last = ids.order_by("id").first() or 0, ids.order_by("-id").first() or 0
    lo, hi = max(first, low or 0), min(last, high - 1 if high else last)
    if hi < lo:
        return 0.0
    step = max(1, (hi - lo) // REGION_SAMPLES)
    found = list(AuditEntry.objects.filter(id__in=range(lo, hi + 1, step)).values_list("region_code", flat=True))
    if not found:
        return 1.0
    return sum(code.startswith(prefix) for code in found) / len(found)


def region_filter(qs: QuerySet[AuditEntry], prefix: str, broad: bool = False) -> QuerySet[AuditEntry]:
    """Entries under ``prefix``; ``broad`` keeps SQLite from driving the query by the region index.

    PostgreSQL's statistics tell it how much of the table a code range holds; SQLite's do not, and it would
    read a whole county through the region index and sort it when walking the id index backwards finds a
    page at once. A unary plus (a no-op on the value) makes the column unusable for an index there.
    """
    if not prefix:
        return qs
    if not broad or connection.vendor != "sqlite":
        return qs.filter(code_prefix_q("region_code", prefix))
    code = Func(F("region_code"), template="+%(expressions)s", output_field=models.CharField())
    upper = codes.prefix_upper_bound(prefix)
    conditions: list[Lookup[str]] = [GreaterThanOrEqual(code, prefix)]
    if upper is not None:
        conditions.append(LessThan(code, upper))
    return qs.filter(*conditions)


def actor_q(username: str) -> Q:
    """A user's entries by their id (stable across renames); the name as written for removed accounts."""
    from django.contrib.auth import get_user_model

    user_id = get_user_model()._default_manager.filter(username=username).values_list("pk", flat=True).first()
    if user_id is not None:
        return Q(actor_id=user_id)
    return Q(actor_username=username)


def search(user: ScopedUser, f: Filters) -> QuerySet[AuditEntry]:
    """The entries ``user`` may see that match ``f`` (the region filter only ever narrows the scope)."""
    scope = user_scope_prefix(user)
    if scope is None:
        return AuditEntry.objects.none()
    prefix = narrow_prefix(scope, f.region) if f.region else scope
    if prefix is None:
        return AuditEntry.objects.none()
    bounds = id_bounds(f)
    if bounds is None:
        return AuditEntry.objects.none()
    qs = apply_filters(AuditEntry.objects.all(), f, bounds)
    if prefix and connection.vendor == "sqlite" and not (f.actor or f.object_id or f.request_id):
        # With a selective equality filter its index drives anyway; otherwise SQLite needs to be told.
        return region_filter(qs, prefix, broad=region_share(prefix, *bounds) >= BROAD_REGION_SHARE)
    return region_filter(qs, prefix)


# --- keyset pages --------------------------------------------------------------------------------------


@dataclass
class KeysetPage:
    """One page, newest first, found by id bounds: no OFFSET and no COUNT over millions of rows."""

    entries: list[AuditEntry]
    has_newer: bool
    has_older: bool

    @property
    def newest_id(self) -> int | None:
        return self.entries[0].pk if self.entries else None

    @property
    def oldest_id(self) -> int | None:
        return self.entries[-1].pk if self.entries else None

    @property
    def single(self) -> bool:
        """The whole result fits on this page (then its length is the total)."""
        return not self.has_newer and not self.has_older


def keyset_page(
    qs: QuerySet[AuditEntry], *, before: int | None = None, after: int | None = None, size: int | None = None
) -> KeysetPage:
    size = size or PAGE_SIZE
    if after is not None:
        rows = list(qs.filter(id__gt=after).order_by("id")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        rows.reverse()
        return KeysetPage(rows, has_newer=more, has_older=True)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[: size + 1])
    return KeysetPage(rows[:size], has_newer=before is not None, has_older=len(rows) > size)


def bounded_count(qs: QuerySet[AuditEntry], cap: int = 10_000) -> tuple[int, bool]:
    """How many, counting at most ``cap`` (returns (n, exceeded))."""
    n = qs.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


# --- object types and readable diffs -------------------------------------------------------------------


def model_for_type(object_type: str) -> type[AuditedModel] | None:
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return None
    return model if issubclass(model, AuditedModel) else None


def object_type_choices() -> list[tuple[str, str]]:
    """Installed audited models, by verbose name (the search page's 对象类型 list)."""
    choices = [(m.audit_object_type(), str(m._meta.verbose_name)) for m in audited_models()]
    return sorted(choices, key=lambda c: c[1])


def object_type_label(object_type: str) -> str:
    model = model_for_type(object_type)
    return str(model._meta.verbose_name) if model else object_type


@dataclass
class FieldChange:
    name: str
    label: str
    before: str | None  # None: no value (shown as —)
    after: str | None
    masked: bool = False


@dataclass
class EntryView:
    """An entry with what the templates show: type label, region name and field-by-field changes."""

    entry: AuditEntry
    type_label: str
    changes: list[FieldChange] = field(default_factory=list)
    region_name: str = ""

    @property
    def source_label(self) -> str:
        return str(SOURCE_LABELS.get(self.entry.source, self.entry.source))


# Where a change came from (AuditContext.source); unknown sources are shown as written.
SOURCE_LABELS = {
    "web": gettext_lazy("网页"),
    "command": gettext_lazy("命令行"),
    "import": gettext_lazy("批量导入"),
    "job": gettext_lazy("后台任务"),
    "demo": gettext_lazy("演示数据"),
    "system": gettext_lazy("系统"),
}


def display_value(
    model_field: models.Field[Any, Any] | None, value: Any, masked: bool, model: type[AuditedModel] | None = None
) -> str | None:
    if value is None:
        return None
    if masked:
        return _("（已隐藏）")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if value == "":
        return _("（空）")
    if model_field is not None and model is not None:
        label = model.audit_value_label(model_field.name, value)
        if label is not None and label != value:
            return f"{label}（{value}）"
    # Reverse relations (e.g. a change key that matches a related_name) have no choices.
    if model_field is not None and getattr(model_field, "choices", None):
        label = dict(model_field.flatchoices).get(value)
        if label is not None and str(label) != str(value):
            return f"{label}（{value}）"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_changes(entry: AuditEntry) -> list[FieldChange]:
    """The entry's changes as shown: labels for codes, and personal data (ID numbers, phones, accounts,
    health) masked. Whoever reads the log, a full number is seen only on the record's page, by a role
    that may and with its reveal logged."""
    model = model_for_type(entry.object_type)
    masked_fields = set(getattr(model, "audit_mask", ()) or ())
    out = []
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    for name, pair in changes.items():
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        before, after = MASKED.field(name, before), MASKED.field(name, after)
        model_field: models.Field[Any, Any] | None = None
        label = name
        if model is not None:
            try:
                found = model._meta.get_field(name)
            except FieldDoesNotExist:
                found = None
            # A stored column: not a reverse relation or a generic foreign key.
            if isinstance(found, models.Field) and found.concrete:
                model_field = found
                label = str(found.verbose_name)
        masked = name in masked_fields
        out.append(
            FieldChange(
                name=name,
                label=label,
                before=display_value(model_field, before, masked, model),
                after=display_value(model_field, after, masked, model),
                masked=masked,
            )
        )
    return out


def entry_views(entries: list[AuditEntry], *, with_changes: bool = True) -> list[EntryView]:
    """Decorate a page of entries (one query for the region names of the whole page)."""
    names = region_names(e.region_code for e in entries)
    labels: dict[str, str] = {}
    views = []
    for e in entries:
        if e.object_type not in labels:
            labels[e.object_type] = object_type_label(e.object_type)
        views.append(
            EntryView(
                entry=e,
                type_label=labels[e.object_type],
                changes=field_changes(e) if with_changes else [],
                region_name=names.get(e.region_code, ""),
            )
        )
    return views


def changes_text(entry: AuditEntry) -> str:
    """The diff as one line of text (CSV export): 字段: 前 → 后; …"""
    parts = []
    for c in field_changes(entry):
        parts.append(
            f"{c.label}：{c.before if c.before is not None else '—'} → {c.after if c.after is not None else '—'}"
        )
    return "；".join(parts)


# --- per-object history ----------------------------------------------------------------------------------


def history_url_for(user: ScopedUser, obj: AuditedModel) -> str:
    """The history page of ``obj`` if ``user`` may open it, else ''."""
    from django.urls import reverse

    if obj.pk is None or not can_view_history(user, type(obj), obj):
        return ""
    return reverse("audit:history", args=[obj.audit_object_type(), str(obj.pk)])


def can_view_history(user: ScopedUser, model: type[AuditedModel] | None, obj: AuditedModel | None) -> bool:
    """Audit readers see any object's history (within their scope); other users the history of a record
    they can see now. User accounts' histories stay with the audit readers (roles, logins)."""
    if user_scope_prefix(user) is None:
        return False
    if user.can_read_audit:
        return True
    if model is None or obj is None or model._meta.label_lower == settings.AUTH_USER_MODEL.lower():
        return False
    return can_see_code(user, obj.audit_region_code())


def load_object(model: type[AuditedModel] | None, object_id: str) -> AuditedModel | None:
    if model is None:
        return None
    try:
        pk = model._meta.pk.to_python(object_id)
    except (ValidationError, ValueError, TypeError):  # a malformed id is simply not an object
        return None
    return model._base_manager.filter(pk=pk).first()
