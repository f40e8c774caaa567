"""操作日志: an append-only, hash-chained record of every change to a domain record."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Collection, Iterable, Iterator
from typing import Any, Self

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from jingzhun.audit.context import AuditContext, current
from jingzhun.core.bulkwrite import RawJSON, insert_rows


class Action(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    # Access to personal data, recorded by audit.access: nothing changed, something was disclosed.
    REVEAL = "reveal", _("查看完整信息")
    EXPORT = "export", _("导出下载")


GENESIS_HASH = "0" * 64


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Refuses the bulk paths that would rewrite history (the PostgreSQL trigger refuses them again)."""

    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("操作日志只能追加，不能修改")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise RuntimeError("操作日志只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("操作日志只能追加，不能删除")


class AuditEntry(models.Model):
    audit_exempt = "操作日志本身：只追加，以哈希链防篡改"

    timestamp = models.DateTimeField(_("时间"))
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_username = models.CharField(_("操作人"), max_length=150, blank=True)
    request_id = models.UUIDField(_("请求编号"))
    source = models.CharField(_("来源"), max_length=20, default="system")
    remote_addr = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100)
    object_id = models.CharField(_("对象ID"), max_length=64)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=15, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict)
    reason = models.TextField(_("原因"), blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64)
    # Not unique-indexed: nothing looks an entry up by its hash (the chain is walked in id order), and
    # the index cost a random B-tree insert per entry (a quarter of the audit log's write time).
    hash = models.CharField(_("哈希"), max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-id"]
        base_manager_name = "objects"
        # Lists are newest first by id (append order, and time order: append_entries keeps timestamps
        # non-decreasing along the chain). Every filter column is paired with id so a filtered page is
        # one index range scan in id order, and a time range becomes an id range via (timestamp, id).
        indexes = [
            models.Index(fields=["region_code", "id"], name="audit_region_id"),
            models.Index(fields=["actor_id", "id"], name="audit_actor_id"),
            models.Index(fields=["actor_username", "id"], name="audit_actor_name_id"),
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_id"),
            models.Index(fields=["request_id", "id"], name="audit_request_id"),
            models.Index(fields=["timestamp", "id"], name="audit_time_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_action_display()} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("操作日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("操作日志只能追加，不能删除")

    def content(self) -> dict[str, Any]:
        """Everything the hash covers."""
        return entry_content({name: getattr(self, name) for name in HASHED_FIELDS})

    def compute_hash(self) -> str:
        return entry_hash(self.prev_hash, self.content())


# The columns the hash covers, in the order verify_audit reads them.
HASHED_FIELDS = (
    "timestamp",
    "actor_id",
    "actor_username",
    "request_id",
    "source",
    "remote_addr",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "region_code",
    "changes",
    "reason",
)


def entry_content(values: dict[str, Any]) -> dict[str, Any]:
    """The hashed content of an entry from its column values (a model instance's or a raw row's)."""
    content = dict(values)
    content["timestamp"] = values["timestamp"].astimezone(dt.UTC).isoformat()
    content["request_id"] = str(values["request_id"])
    return content


# The canonical text an entry's hash covers: its content as JSON with sorted keys, no spaces, non-ASCII kept.
_canonical_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + "\n" + _canonical_json(content)).encode("utf-8")).hexdigest()


class _BatchHasher:
    """entry_hash for many entries that share their actor, request, source, address and time.

    The canonical text is assembled from pieces: the shared fields are encoded once per batch and the
    changes once per entry, and that encoding of the changes is also what gets stored (it is valid JSON),
    so an entry's largest value is serialised once instead of twice. ``tests`` check it against entry_hash.
    """

    def __init__(self, shared: dict[str, Any]) -> None:
        self._encoded = {k: _canonical_json(v) for k, v in entry_content(shared).items()}

    def hash(self, prev_hash: str, entry: dict[str, Any], changes_json: str) -> str:
        encoded = self._encoded
        parts = []
        for key, prefix in _HASHED_KEYS:
            if key == "changes":
                parts.append(prefix + changes_json)
            elif key in encoded:
                parts.append(prefix + encoded[key])
            else:
                parts.append(prefix + _canonical_json(entry[key]))
        text = prev_hash + "\n{" + ",".join(parts) + "}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The hashed fields in canonical (sorted) order, each with its encoded key: the same for every entry.
_HASHED_KEYS = [(k, _canonical_json(k) + ":") for k in sorted(HASHED_FIELDS)]


class AuditChainHead(models.Model):
    """Single row holding the last hash; locking it serialises appends so the chain never forks."""

    audit_exempt = "操作日志哈希链的链头，随每条日志更新"

    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_entry_id = models.BigIntegerField(null=True)
    last_timestamp = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("日志链头")

    def __str__(self) -> str:
        return f"{self.last_entry_id}:{self.last_hash[:12]}"


_AS_IS = frozenset({str, int, bool, type(None)})


def to_audit_value(value: Any) -> Any:
    """A JSON-stable form of a field value (stable across SQLite and PostgreSQL round trips)."""
    if value.__class__ in _AS_IS:  # the common case first: bulk imports convert millions of values
        return value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_audit_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_audit_value(v) for k, v in value.items()}
    return str(value)


def diff_states(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that differ; a create has before=None, a delete after=None."""
    before = before or {}
    after = after or {}
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b != a:
            changes[key] = [b, a]
    return changes


def lock_chain(using: str = "default") -> AuditChainHead:
    """Lock the chain head until the transaction ends (appends are serialised so the chain never forks).

    Audited saves and deletes take it before touching their row, so two writers always lock in the same
    order (head, then rows) and cannot deadlock on each other's rows. Must run inside a transaction.
    """
    head, _created = AuditChainHead.objects.using(using).select_for_update().get_or_create(pk=1)
    return head


def append_entries(
    rows: list[dict[str, Any]],
    *,
    using: str = "default",
    prepared: bool = False,
    context: AuditContext | None = None,
) -> list[int]:
    """Append entries in one locked step and return their ids; each row has action, object_type, object_id,
    object_repr, region_code, changes and optionally reason. Actor, request id and reason come from
    ``context`` (by default the current one), the time from the clock. ``prepared``: the changes already
    hold JSON-stable values only (to_audit_value applied), as the bulk writers build them, so they are not
    converted a second time."""
    if not rows:
        return []
    ctx = context if context is not None else current()
    remote_addr = _REMOTE_ADDR_FIELD.get_prep_value(ctx.remote_addr)  # hash the form the database keeps
    # No savepoint of its own (two round trips per append): a failed append must fail the whole
    # transaction anyway, since a change may not commit without its entry.
    with transaction.atomic(using=using, savepoint=False):
        head = lock_chain(using)
        # Taken under the lock and never before the previous entry's time, so time order = chain order
        # (an entry's id fixes its place) and a time range can be searched as an id range.
        now = _clock()
        if head.last_timestamp is not None and head.last_timestamp > now:
            now = head.last_timestamp
        shared = {
            "timestamp": now,
            "actor_id": ctx.actor_id,
            "actor_username": ctx.actor_username,
            "request_id": ctx.request_id,
            "source": ctx.source,
            "remote_addr": remote_addr,
        }
        hasher = _BatchHasher(shared)
        chain = [head.last_hash]  # the last hash so far, advanced as the entries are made

        def entries() -> Iterator[dict[str, Any]]:
            # Made while they are written (insert_rows consumes them as it sends), so the database
            # stores one entry while the next is hashed.
            for row in rows:
                changes = row.get("changes") or {}
                # JSON-stable values only, so the hash recomputes identically after a database round trip.
                changes_json = RawJSON(_canonical_json(changes if prepared else to_audit_value(changes)))
                entry = {
                    **shared,
                    "action": row["action"],
                    "object_type": row["object_type"],
                    "object_id": str(row["object_id"]),
                    "object_repr": str(row.get("object_repr", ""))[:200],
                    "region_code": row.get("region_code") or "",
                    "reason": row.get("reason") or ctx.reason,
                    "prev_hash": chain[0],
                }
                entry["hash"] = chain[0] = hasher.hash(chain[0], entry, changes_json)
                entry["changes"] = changes_json
                yield entry

        ids = insert_rows(AuditEntry, entries(), using=using, count=len(rows))
        prev = chain[0]
        head.last_hash = prev
        head.last_entry_id = ids[-1]
        head.last_timestamp = now
        head.save(update_fields=["last_hash", "last_entry_id", "last_timestamp"])
    return ids


_REMOTE_ADDR_FIELD = AuditEntry._meta.get_field("remote_addr")


def _clock() -> dt.datetime:
    """The time stamped on new entries (one place, so tests can set the date)."""
    return dt.datetime.now(dt.UTC)


def entry_row(instance: AuditedModel, action: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The append_entries row for one audited object's save or delete."""
    return {
        "action": action,
        "object_type": instance.audit_object_type(),
        "object_id": instance.pk,
        "object_repr": str(instance),
        "region_code": instance.audit_region_code(),
        "changes": changes,
    }


_MUTABLE = (dict, list)  # JSON values a caller could edit in place


class AuditedModel(models.Model):
    """Mixin: every save and delete writes an AuditEntry with the field diff, in the same transaction.

    ``audit_exclude`` lists fields never recorded (noise such as timestamps), ``audit_mask`` fields whose
    change is recorded without the values (password hashes).

    Deletes are recorded by pre/post_delete receivers (see AuditConfig.ready), so ``queryset.delete()``
    and cascades are audited too. ``queryset.update()``, ``bulk_create``, ``bulk_update`` and core.bulkwrite
    bypass save(): code using them records its entries with ``AuditBatch`` (audit/bulk.py).
    """

    audit_exclude: tuple[str, ...] = ()
    audit_mask: tuple[str, ...] = ()

    # Set per instance, not in __init__ (a new instance has none of them: hence the getattr defaults below).
    _audit_loaded: tuple[Collection[str], list[Any]] | None  # the column names and values from_db loaded
    _audit_snapshot_cache: dict[str, Any] | None
    _audit_deleting: dict[str, Any] | None  # the delete entry, from pre_delete to post_delete

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> Self:
        instance = super().from_db(db, field_names, values)
        # Keep the loaded values, converted into the diff's form only if the instance is saved or deleted
        # (most loaded rows are only read). Mutable values are copied: an in-place edit is a change.
        instance._audit_loaded = (
            field_names,
            [copy.deepcopy(v) if type(v) in _MUTABLE else v for v in values],
        )
        instance._audit_snapshot_cache = None
        return instance

    @property
    def _audit_snapshot(self) -> dict[str, Any] | None:
        """The audit state as last loaded from or written to the database (None: never loaded)."""
        cached = getattr(self, "_audit_snapshot_cache", None)
        loaded = getattr(self, "_audit_loaded", None)
        if cached is None and loaded is not None:
            names, values = loaded
            cached = self._audit_state_of(dict(zip(names, values, strict=True)))
            self._audit_snapshot_cache, self._audit_loaded = cached, None
        return cached

    @_audit_snapshot.setter
    def _audit_snapshot(self, state: dict[str, Any]) -> None:
        self._audit_snapshot_cache, self._audit_loaded = state, None

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        snapshot = self._audit_snapshot  # before the reload replaces the values it was taken from
        super().refresh_from_db(*args, **kwargs)
        # Reloaded values are the database's now: the next save diffs against them, not the old load.
        fields = kwargs.get("fields", args[1] if len(args) > 1 else None)
        state = self.audit_state()
        if snapshot is None or fields is None:
            self._audit_snapshot = state
            return
        wanted = set(fields)
        for f in self._meta.concrete_fields:
            if (f.name in wanted or f.attname in wanted) and f.name in state:
                snapshot[f.name] = state[f.name]
        self._audit_snapshot = snapshot

    @classmethod
    def audit_object_type(cls) -> str:
        # A proxy's changes belong to the history of the concrete model's rows.
        concrete = cls._meta.concrete_model
        assert concrete is not None  # only an abstract model has none, and it has no rows
        return concrete._meta.label_lower

    def audit_state(self) -> dict[str, Any]:
        """The recorded form of the instance's current (loaded) field values."""
        deferred = self.get_deferred_fields()
        return self._audit_state_of(
            {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields if f.attname not in deferred}
        )

    def _audit_state_of(self, values: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for f in self._meta.concrete_fields:
            if f.attname not in values or f.name in self.audit_exclude or f.primary_key:
                continue
            value = to_audit_value(values[f.attname])
            if f.name in self.audit_mask:
                value = hashlib.sha256(str(value).encode()).hexdigest()[:12] if value else None
            state[f.name] = value
        return state

    @classmethod
    def audit_value_label(cls, field: str, value: Any) -> str | None:
        """How the 操作日志 names a recorded value of ``field`` (e.g. a code table's label); None: as stored."""
        return None

    def audit_region_code(self) -> str:
        field = getattr(self, "scope_field", None)
        return str(getattr(self, field) or "") if field else ""

    def _audit_before(self, using: str) -> dict[str, Any] | None:
        snapshot = getattr(self, "_audit_snapshot", None)
        if snapshot is not None:
            return snapshot
        if self.pk is None:
            return None
        try:
            return type(self)._base_manager.using(using).get(pk=self.pk).audit_state()
        except type(self).DoesNotExist:
            return None

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or "default"
        update_fields = kwargs.get("update_fields")
        # Like Django's own save_base: no savepoint; an error fails the enclosing transaction.
        with transaction.atomic(using=using, savepoint=False):
            lock_chain(using)
            # A new instance with a natural key (a region code) may overwrite an existing row: Django
            # then updates, and the entry must say so with the real before-values.
            if self._state.adding and (kwargs.get("force_insert") or self.pk is None or self._meta.pk.has_default()):
                before = None  # Django inserts without looking (a generated key, as Django itself assumes)
            else:
                before = self._audit_before(using)
            super().save(*args, **kwargs)
            after = self.audit_state()
            if before is None:
                self._audit_append(Action.CREATE, diff_states(None, after), using)
                self._audit_snapshot = after
                return
            # Compare only what this save wrote: fields known before (a deferred field is not a change)
            # and, with update_fields, only those (other in-memory edits were not saved).
            keys = set(before) & set(after)
            if update_fields is not None:
                named = set(update_fields)
                keys = {
                    f.name
                    for f in self._meta.concrete_fields
                    if f.name in keys and (f.name in named or f.attname in named)
                }
            changes = diff_states({k: before[k] for k in keys}, {k: after[k] for k in keys})
            if changes:
                self._audit_append(Action.UPDATE, changes, using)
            self._audit_snapshot = {**before, **{k: after[k] for k in keys}}

    def _audit_append(self, action: str, changes: dict[str, Any], using: str) -> None:
        append_entries([entry_row(self, action, changes)], using=using)


def record_pre_delete(sender: type[models.Model], instance: AuditedModel, using: str, **kwargs: Any) -> None:
    """Capture what is about to be deleted while its related rows (for the region code) still exist."""
    lock_chain(using)  # Collector.delete sends pre_delete inside its transaction, before deleting
    before = instance._audit_before(using) or instance.audit_state()
    instance._audit_deleting = entry_row(instance, Action.DELETE, diff_states(before, None))


def record_post_delete(sender: type[models.Model], instance: AuditedModel, using: str, **kwargs: Any) -> None:
    """Write the delete entry inside the deleting transaction (Collector.delete is atomic)."""
    row = getattr(instance, "_audit_deleting", None)
    if row is None:  # pre_delete not sent (cannot happen with Django's Collector), still record the fact
        before = getattr(instance, "_audit_snapshot", None) or instance.audit_state()
        row = entry_row(instance, Action.DELETE, diff_states(before, None))
    append_entries([row], using=using)
    instance._audit_deleting = None


# Django's own tables: sessions and content types are bookkeeping; groups and permissions are unused (roles
# and capabilities replace them), so nothing writes them.
FRAMEWORK_EXEMPT = {
    "auth.Permission": "Django 权限表：本系统以角色和能力授权，不使用",
    "auth.Group": "Django 用户组：本系统以角色授权，不使用",
    "auth.Group_permissions": "Django 用户组权限：不使用",
    "accounts.User_groups": "用户所属 Django 用户组：不使用",
    "accounts.User_user_permissions": "用户的 Django 权限：不使用",
    "contenttypes.ContentType": "Django 模型目录，迁移时自动维护",
    "sessions.Session": "登录会话，过期即删除",
}


def unaudited_models(models_: Iterable[type[models.Model]]) -> list[str]:
    """Concrete models whose writes are neither audited (AuditedModel) nor exempt with a stated reason
    (an ``audit_exempt`` attribute, or FRAMEWORK_EXEMPT): a new model must choose one."""
    missing = []
    for model in models_:
        meta = model._meta
        if meta.abstract or meta.proxy or issubclass(model, AuditedModel):
            continue
        reason = model.__dict__.get("audit_exempt") or FRAMEWORK_EXEMPT.get(meta.label)
        if not (isinstance(reason, str) and reason.strip()):
            missing.append(meta.label)
    return missing


def audited_models() -> list[type[AuditedModel]]:
    """Installed concrete models whose changes are audited (the search page's object types)."""
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, AuditedModel) and not m._meta.proxy]
