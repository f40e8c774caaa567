"""Audit entries for bulk writes: rows written below save() (core.bulkwrite, bulk_create, queryset.update)
are recorded here, one entry per created or changed record, in the writer's transaction.

    with transaction.atomic(), AuditBatch() as audit:
        ids = insert_rows(Household, rows)
        for row, pk in zip(rows, ids):
            audit.created(Household, pk, row["household_number"], row["village_id"], changes)

The entries of a batch share the actor, request id, address, source and reason of the audit context the
batch was made in, as one correlated set.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from jingzhun.audit.context import current
from jingzhun.audit.models import Action, AuditedModel, append_entries

FLUSH_EVERY = 5000  # entries held before they are appended: memory stays flat however much is written


class AuditBatch:
    """The audit entries of one bulk write, appended to the chain as they accumulate.

    Entries are appended every ``flush_every``, and the rest when the ``with`` block ends without an error
    (or at ``flush()``); after an error the rest are dropped, as the writes they describe roll back with
    the transaction. ``changes`` are {field: [before, after]} as ``diff_states`` makes them; with
    ``prepared`` they already hold JSON-stable values only (``to_audit_value`` applied), as the household
    import makes them, so append_entries does not convert them a second time.
    """

    def __init__(self, *, prepared: bool = False, flush_every: int = FLUSH_EVERY, using: str = "default") -> None:
        self.context = current()
        self.prepared = prepared
        self.flush_every = flush_every
        self.using = using
        self._rows: list[dict[str, Any]] = []
        self._appended = 0
        self._object_types: dict[type[AuditedModel], str] = {}

    @property
    def recorded(self) -> int:
        """Entries recorded so far, appended or not yet."""
        return self._appended + len(self._rows)

    def __enter__(self) -> AuditBatch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.flush()

    def created(
        self, model: type[AuditedModel], pk: Any, object_repr: str, region_code: str, changes: dict[str, Any]
    ) -> None:
        self.record(Action.CREATE, model, pk, object_repr, region_code, changes)

    def updated(
        self, model: type[AuditedModel], pk: Any, object_repr: str, region_code: str, changes: dict[str, Any]
    ) -> None:
        self.record(Action.UPDATE, model, pk, object_repr, region_code, changes)

    def record(
        self,
        action: str,
        model: type[AuditedModel],
        pk: Any,
        object_repr: str,
        region_code: str,
        changes: dict[str, Any],
    ) -> None:
        """One entry: ``action`` on the ``model`` row ``pk``, shown as ``object_repr``, in ``region_code``."""
        object_type = self._object_types.get(model)
        if object_type is None:
            object_type = self._object_types[model] = model.audit_object_type()
        self._rows.append(
            {
                "action": action,
                "object_type": object_type,
                "object_id": pk,
                "object_repr": object_repr,
                "region_code": region_code,
                "changes": changes,
            }
        )
        if len(self._rows) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Append the entries recorded since the last flush."""
        if self._rows:
            append_entries(self._rows, using=self.using, prepared=self.prepared, context=self.context)
            self._appended += len(self._rows)
            self._rows = []
