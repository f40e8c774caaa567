"""Bulk writes through PostgreSQL COPY (psycopg 3): rows go into a temporary staging table, then are merged
into the real table with one set-wise INSERT … SELECT or UPDATE … FROM. Used by imports on PostgreSQL;
other databases use Django's bulk_create / bulk_update (see ``bulk_insert`` and ``bulk_update``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

BATCH = 5000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _value(field: models.Field, obj: models.Model, add: bool) -> Any:
    value = field.pre_save(obj, add)  # fills auto_now / auto_now_add as Django's own saves do
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    return field.get_db_prep_save(value, connection)


def _staging(cursor: Any, model: type[models.Model], fields: list[models.Field], suffix: str) -> str:
    """A temporary table with just these columns, dropped at the end of the transaction."""
    name = f"jz_stage_{model._meta.db_table}_{suffix}"
    columns = ", ".join(f"{connection.ops.quote_name(f.column)} {_db_type(f)}" for f in fields)
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {name}")
    return name


def _db_type(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return field.target_field.rel_db_type(connection)
    if isinstance(field, models.AutoField | models.BigAutoField):
        return "bigint"
    db_type = field.db_type(connection)
    return db_type.split(" CHECK")[0]


def _copy(cursor: Any, table: str, fields: list[models.Field], objs: Sequence[models.Model], add: bool) -> None:
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for obj in objs:
            copy.write_row([_value(f, obj, add) for f in fields])


def insert_fields(model: type[models.Model]) -> list[str]:
    """Every column a new row needs (all concrete fields but the generated primary key)."""
    return [f.name for f in model._meta.concrete_fields if not f.primary_key]


def copy_insert(model: type[models.Model], objs: Sequence[models.Model], key: str | tuple[str, ...]) -> None:
    """INSERT the objects through COPY → staging → INSERT … SELECT, and set their primary keys.

    ``key`` names the unique column(s) used to match the returned ids to the objects.
    """
    if not objs:
        return
    columns = _columns(model, insert_fields(model))
    key_fields = _columns(model, (key,) if isinstance(key, str) else key)
    key_sql = ", ".join(connection.ops.quote_name(f.column) for f in key_fields)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
    by_key = {tuple(getattr(obj, f.attname) for f in key_fields): obj for obj in objs}
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            batch = objs[start : start + BATCH]
            staging = _staging(cursor, model, columns, "ins")
            _copy(cursor, staging, columns, batch, add=True)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} RETURNING {pk_column}, {key_sql}"
            )
            for pk, *key_value in cursor.fetchall():
                obj = by_key[tuple(key_value)]
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def copy_update(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """UPDATE the given fields of the objects (matched by primary key) with one UPDATE … FROM per batch."""
    if not objs or not fields:
        return
    pk = model._meta.pk
    auto_now = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    columns = [pk, *_columns(model, list(dict.fromkeys([*fields, *auto_now])))]
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = s.{connection.ops.quote_name(f.column)}" for f in columns[1:]
    )
    pk_column = connection.ops.quote_name(pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            staging = _staging(cursor, model, columns, "upd")
            _copy(cursor, staging, columns, objs[start : start + BATCH], add=False)
            cursor.execute(f"UPDATE {table} t SET {assignments} FROM {staging} s WHERE t.{pk_column} = s.{pk_column}")


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model], key: str | tuple[str, ...]) -> None:
    """COPY on PostgreSQL, batched INSERTs elsewhere; primary keys are set on the objects either way."""
    if is_postgres():
        copy_insert(model, objs, key)
    else:
        for start in range(0, len(objs), 2000):
            model.objects.bulk_create(objs[start : start + 2000])


def bulk_update(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    if is_postgres():
        copy_update(model, objs, fields)
    else:
        for start in range(0, len(objs), 2000):
            model.objects.bulk_update(objs[start : start + 2000], list(fields))
