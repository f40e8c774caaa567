"""操作日志: an append-only, hash-chained record of every change to a domain record."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from jingzhun.audit.context import current


class Action(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")


GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
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
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["region_code", "timestamp"], name="audit_region_time"),
            models.Index(fields=["actor_id", "timestamp"], name="audit_actor_time"),
            models.Index(fields=["object_type", "object_id", "timestamp"], name="audit_object_time"),
            models.Index(fields=["timestamp"], name="audit_time"),
            models.Index(fields=["request_id"], name="audit_request"),
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
        return {
            "timestamp": self.timestamp.astimezone(dt.UTC).isoformat(),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "request_id": str(self.request_id),
            "source": self.source,
            "remote_addr": self.remote_addr,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "region_code": self.region_code,
            "changes": self.changes,
            "reason": self.reason,
        }

    def compute_hash(self) -> str:
        return entry_hash(self.prev_hash, self.content())


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()


class AuditChainHead(models.Model):
    """Single row holding the last hash; locking it serialises appends so the chain never forks."""

    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_entry_id = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = _("日志链头")

    def __str__(self) -> str:
        return f"{self.last_entry_id}:{self.last_hash[:12]}"


def to_audit_value(value: Any) -> Any:
    """A JSON-stable form of a field value (stable across SQLite and PostgreSQL round trips)."""
    if value is None or isinstance(value, bool | int | str):
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


def append_entries(rows: list[dict[str, Any]], *, using: str = "default") -> list[AuditEntry]:
    """Append entries in one locked step; each row has action, object_type, object_id, object_repr,
    region_code, changes and optionally reason. Actor, request id and time come from the context."""
    if not rows:
        return []
    ctx = current()
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic(using=using):
        head, _created = AuditChainHead.objects.using(using).select_for_update().get_or_create(pk=1)
        prev = head.last_hash
        entries = []
        for row in rows:
            entry = AuditEntry(
                timestamp=now,
                actor_id=ctx.actor_id,
                actor_username=ctx.actor_username,
                request_id=ctx.request_id,
                source=ctx.source,
                remote_addr=ctx.remote_addr,
                action=row["action"],
                object_type=row["object_type"],
                object_id=str(row["object_id"]),
                object_repr=str(row.get("object_repr", ""))[:200],
                region_code=row.get("region_code") or "",
                changes=row.get("changes") or {},
                reason=row.get("reason") or ctx.reason,
                prev_hash=prev,
            )
            entry.hash = entry.compute_hash()
            prev = entry.hash
            entries.append(entry)
        created = AuditEntry.objects.using(using).bulk_create(entries, batch_size=2000)
        last = created[-1]
        if last.pk is None:  # backends that do not return ids from bulk_create
            last = AuditEntry.objects.using(using).get(hash=last.hash)
        head.last_hash = prev
        head.last_entry_id = last.pk
        head.save(update_fields=["last_hash", "last_entry_id"])
    return created


class AuditedModel(models.Model):
    """Mixin: every save and delete writes an AuditEntry with the field diff, in the same transaction.

    ``audit_exclude`` lists fields never recorded (noise such as timestamps), ``audit_mask`` fields whose
    change is recorded without the values (password hashes).
    """

    audit_exclude: tuple[str, ...] = ()
    audit_mask: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str, field_names: list[str], values: list[Any]) -> AuditedModel:
        instance = super().from_db(db, field_names, values)
        instance._audit_snapshot = instance.audit_state()
        return instance

    @classmethod
    def audit_object_type(cls) -> str:
        return cls._meta.label_lower

    def audit_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        deferred = self.get_deferred_fields()
        for f in self._meta.concrete_fields:
            if f.attname in deferred or f.name in self.audit_exclude or f.primary_key:
                continue
            value = to_audit_value(getattr(self, f.attname))
            if f.name in self.audit_mask:
                value = hashlib.sha256(str(value).encode()).hexdigest()[:12] if value else None
            state[f.name] = value
        return state

    def audit_region_code(self) -> str:
        field = getattr(self, "scope_field", None)
        return str(getattr(self, field) or "") if field else ""

    def _audit_before(self, using: str) -> dict[str, Any] | None:
        snapshot = getattr(self, "_audit_snapshot", None)
        if snapshot is not None:
            return snapshot
        try:
            return type(self)._base_manager.using(using).get(pk=self.pk).audit_state()
        except type(self).DoesNotExist:
            return None

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or "default"
        with transaction.atomic(using=using):
            creating = self._state.adding
            before = None if creating else self._audit_before(using)
            super().save(*args, **kwargs)
            after = self.audit_state()
            if before is not None:
                # Only compare fields we knew before (a deferred field is not a change).
                after_cmp = {k: v for k, v in after.items() if k in before}
                changes = diff_states(before, after_cmp)
            else:
                changes = diff_states(None, after)
            if creating or before is None or changes:
                action = Action.CREATE if creating or before is None else Action.UPDATE
                self._audit_append(action, changes, using)
            self._audit_snapshot = after

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        using = kwargs.get("using") or "default"
        with transaction.atomic(using=using):
            before = self._audit_before(using) or self.audit_state()
            pk = self.pk
            region_code = self.audit_region_code()
            result = super().delete(*args, **kwargs)
            append_entries(
                [
                    {
                        "action": Action.DELETE,
                        "object_type": self.audit_object_type(),
                        "object_id": pk,
                        "object_repr": str(self),
                        "region_code": region_code,
                        "changes": diff_states(before, None),
                    }
                ],
                using=using,
            )
            return result

    def _audit_append(self, action: str, changes: dict[str, Any], using: str) -> None:
        append_entries(
            [
                {
                    "action": action,
                    "object_type": self.audit_object_type(),
                    "object_id": self.pk,
                    "object_repr": str(self),
                    "region_code": self.audit_region_code(),
                    "changes": changes,
                }
            ],
            using=using,
        )
