"""Test helpers: tampering with stored entries as someone with direct database access would."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import CommandError, call_command
from django.db import connection, models

from jingzhun.audit.models import AuditEntry

TRIGGER = "audit_entry_append_only"


def _run(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger refuses this; an attacker would have to switch it off first (the test
            # transaction rolls the switch back).
            cursor.execute(f"ALTER TABLE audit_auditentry DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE audit_auditentry ENABLE TRIGGER {TRIGGER}")


def tamper(entry_id: int, field: str, value: Any) -> None:
    """Overwrite one stored column of one entry, bypassing the model."""
    f = AuditEntry._meta.get_field(field)
    assert isinstance(f, models.Field) and f.column is not None
    param = f.get_db_prep_value(value, connection, prepared=False)
    _run(f"UPDATE audit_auditentry SET {connection.ops.quote_name(f.column)} = %s WHERE id = %s", [param, entry_id])


def remove(entry_id: int) -> None:
    _run("DELETE FROM audit_auditentry WHERE id = %s", [entry_id])


def verify(*args: str) -> tuple[bool, str]:
    """Run verify_audit; (passed, everything it printed)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()
