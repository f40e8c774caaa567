"""Access to personal data, recorded in the same hash chain as the changes: who saw whose full ID number
and who downloaded what, from where and when (the audit context gives actor, request, address and time).

PIPL treats ID numbers and health data as sensitive: a reveal of them on a page and every download of
records (exports, registers, cards) leaves an entry, so an auditor can answer "who took these 37,937 ID
numbers" and a household's history shows who looked at it.
"""

from __future__ import annotations

from typing import Any

from jingzhun.audit.models import Action, AuditedModel, append_entries

ACCESS_ACTIONS = frozenset({Action.REVEAL, Action.EXPORT})


def record_access(
    action: Action,
    subject: AuditedModel | None,
    *,
    what: str,
    region_code: str | None = None,
    rows: int | None = None,
    scope: str = "",
    personal_data: str = "",
) -> None:
    """One entry: ``action`` (REVEAL or EXPORT) on ``subject`` (the person, household or region concerned;
    None for the whole system), in ``region_code`` (default: the subject's region), saying ``what`` was
    shown or downloaded, how many ``rows``, the ``scope`` (filters) and how ``personal_data`` was disclosed."""
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"{action} is a change, not an access")
    details: dict[str, Any] = {"内容": what, "行数": rows, "范围": scope, "个人信息": personal_data}
    append_entries(
        [
            {
                "action": action,
                "object_type": subject.audit_object_type() if subject is not None else "",
                "object_id": subject.pk if subject is not None else "",
                "object_repr": str(subject) if subject is not None else "",
                "region_code": region_code
                if region_code is not None
                else (subject.audit_region_code() if subject is not None else ""),
                "changes": {key: value for key, value in details.items() if value not in ("", None)},
            }
        ]
    )
