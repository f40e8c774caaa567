"""Bulk writes of plain rows, below the ORM: COPY on PostgreSQL (psycopg 3), executemany on SQLite.

Used where tens of thousands of rows are written at once (the household import, the demo loader, the
audit log). Django's bulk_create compiles SQL per cell and builds a model instance per row; measured on a
50,000-household import it spent about 60 of 150 seconds there. Here a row is a dict keyed by attname
holding the fields' Python values; each column's value is adapted once by type, the way Django's backend
adapters would (dates and datetimes, decimals, JSON), and columns a row does not carry get the field
default (``auto_now``/``auto_now_add`` get the time of the call).

New rows' primary keys are returned without a query per row (see ``insert_rows``).

These functions skip ``save()``, so nothing they write is audited by itself: callers record one entry per
created or changed row with ``jingzhun.audit.bulk.AuditBatch``, in the same transaction (the household
import, the region import and the demo loader all do).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from jingzhun.core.batching import chunked

SQLITE_BATCH = 5000
SMALL = 20  # rows inserted with one INSERT … RETURNING rather than COPY / executemany
Adapter = Callable[[Any], Any] | None


class RawJSON(str):
    """A JSON column value already serialised (the audit log serialises its changes once, for the hash)."""


def _json(value: Any) -> str:
    return value if value.__class__ is RawJSON else json.dumps(value, ensure_ascii=False)


def _adapter(field: models.Field, connection: BaseDatabaseWrapper) -> Adapter:
    """How one column's Python value goes to the driver (None: as it is)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return _json
    if connection.vendor == "postgresql":
        return None  # psycopg dumps dates, datetimes, decimals, UUIDs and bools itself
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        return _same_as_last(ops.adapt_datetimefield_value)
    if internal == "DateField":
        return lambda v: None if v is None else v.isoformat()
    if internal == "DecimalField":
        return lambda v: None if v is None else str(v)
    if internal == "UUIDField":
        return lambda v: None if v is None else v.hex
    return None


def _same_as_last(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``adapt``, answering at once when given the value it was last given (the audit log's entries of one
    append share their time: 270,000 of them at a large import, each converted alike)."""
    last: list[Any] = [object(), None]  # nothing given yet

    def adapted(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return adapted


class _Columns:
    """The columns of ``model`` a write touches, with each one's adapter and (for inserts) its default."""

    def __init__(
        self,
        model: type[models.Model],
        names: Sequence[str] | None,
        connection: BaseDatabaseWrapper,
        *,
        insert: bool,
    ) -> None:
        meta = model._meta
        now = timezone.now()
        if names is None:
            fields = [f for f in meta.concrete_fields if not f.primary_key]
        else:
            fields = [_column(model, n) for n in names]
            # An UPDATE also sets auto_now columns, as save() would.
            fields += [f for f in meta.concrete_fields if getattr(f, "auto_now", False) and f not in fields]
        self.fields = fields
        self.adapters = [_adapter(f, connection) for f in fields]
        # Per column: the key to read from a row and the value when it is missing. Fixed columns
        # (auto_now, auto_now_add) read a key no row has, so they always get their value.
        self.getters: list[tuple[str, Any]] = []
        self.adapted: list[tuple[int, Callable[[Any], Any]]] = []
        for i, (f, adapt) in enumerate(zip(fields, self.adapters, strict=True)):
            if getattr(f, "auto_now", False) or (insert and getattr(f, "auto_now_add", False)):
                self.getters.append((_FIXED, now if adapt is None else adapt(now)))  # adapted once
                continue
            self.getters.append((f.attname, f.get_default() if insert else None))
            if adapt is not None:
                self.adapted.append((i, adapt))
        self.sql_names = [connection.ops.quote_name(f.column) for f in fields]

    def values(self, row: dict[str, Any]) -> list[Any]:
        out = [row.get(name, default) for name, default in self.getters]
        for i, adapt in self.adapted:
            value = out[i]
            if value is not None:
                out[i] = adapt(value)
        return out


_FIXED = "\0fixed"


def _sequence_ids(connection: BaseDatabaseWrapper, model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh primary keys from the table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    using: str = "default",
    *,
    count: int | None = None,
) -> list[int]:
    """INSERT the rows (dicts keyed by attname; missing columns take the field default) and return their
    new primary keys, in order.

    A few rows (an audited save) go in one ``INSERT … RETURNING``. More go by COPY on PostgreSQL, with
    their keys taken from the sequence first, and by executemany on SQLite, where the keys are the
    consecutive ones ending at ``last_insert_rowid()``: the transaction holds SQLite's write lock, so
    nobody else inserts in between.

    ``rows`` may be a generator when ``count`` says how many it yields: it is then consumed as the rows
    are sent, so on PostgreSQL the server stores one row while the next is being made (the audit log
    hashes its entries that way). A generator yielding another number of rows raises ValueError."""
    if count is None:
        rows = rows if isinstance(rows, Sequence) else list(rows)
        count = len(rows)
    if count <= 0:
        return []
    connection = connections[using]
    columns = _Columns(model, None, connection, insert=True)
    pk_name = connection.ops.quote_name(model._meta.pk.column)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(columns.sql_names)
    one_row = f"({', '.join(['%s'] * len(columns.fields))})"
    with connection.cursor() as cursor:
        if count <= SMALL and connection.features.can_return_rows_from_bulk_insert:
            values = [columns.values(row) for row in rows]
            if len(values) != count:
                raise ValueError(f"insert_rows: {len(values)} rows, {count} announced")
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one_row] * count)} RETURNING {pk_name}",
                [value for row in values for value in row],
            )
            # Keys grow in the order rows are inserted; RETURNING's own order is not guaranteed on SQLite.
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor == "postgresql":
            ids = _sequence_ids(connection, model, count)
            with cursor.cursor.copy(f"COPY {table} ({pk_name}, {names}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row([pk, *columns.values(row)])
            return ids
        if not connection.in_atomic_block:
            raise RuntimeError("insert_rows needs the writing transaction (it relies on the SQLite write lock)")
        written = 0
        iterator = iter(rows)
        while batch := [columns.values(row) for row in itertools.islice(iterator, SQLITE_BATCH)]:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {one_row}", batch)
            written += len(batch)
        if written != count:
            raise ValueError(f"insert_rows: {written} rows, {count} announced")
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[dict[str, Any]], using: str = "default"
) -> None:
    """UPDATE ``fields`` (and any auto_now column) of the rows, matched by the primary key each row carries
    under the pk's attname. PostgreSQL: COPY into a staging table, then one UPDATE … FROM."""
    if not rows or not fields:
        return
    connection = connections[using]
    pk = model._meta.pk
    columns = _Columns(model, fields, connection, insert=False)
    table = connection.ops.quote_name(model._meta.db_table)
    pk_name = connection.ops.quote_name(pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            staging = f"jz_stage_{model._meta.db_table}"
            typed = zip([pk_name, *columns.sql_names], [pk, *columns.fields], strict=True)
            definitions = ", ".join(f"{name} {_staging_type(f, connection)}" for name, f in typed)
            # Dropped again below: the next call may update other columns of the same model.
            cursor.execute(f"CREATE TEMP TABLE {staging} ({definitions}) ON COMMIT DROP")
            with cursor.cursor.copy(f"COPY {staging} ({', '.join([pk_name, *columns.sql_names])}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[pk.attname], *columns.values(row)])
            assignments = ", ".join(f"{name} = s.{name}" for name in columns.sql_names)
            cursor.execute(f"UPDATE {table} t SET {assignments} FROM {staging} s WHERE t.{pk_name} = s.{pk_name}")
            cursor.execute(f"DROP TABLE {staging}")
            return
        assignments = ", ".join(f"{name} = %s" for name in columns.sql_names)
        sql = f"UPDATE {table} SET {assignments} WHERE {pk_name} = %s"
        for batch in chunked(rows, SQLITE_BATCH):
            cursor.executemany(sql, [[*columns.values(row), row[pk.attname]] for row in batch])


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field of the column ``name`` (a field name or attname), not a reverse relation."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a column of {model._meta.label}"
    return field


def _staging_type(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    if isinstance(field, models.ForeignKey):
        # Field.rel_db_type exists on every field; django-stubs declares it on a few subclasses only.
        rel_db_type: str = field.target_field.rel_db_type(connection)  # type: ignore[attr-defined]
        return rel_db_type
    if isinstance(field, models.AutoField | models.BigAutoField):
        return "bigint"
    db_type = field.db_type(connection)
    assert db_type is not None  # None only for fields without a column (many-to-many)
    return db_type.split(" CHECK")[0]
