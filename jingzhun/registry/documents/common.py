"""Formatting shared by the cards and the registers: 是/否, amounts, and code-table labels."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from jingzhun.policy import services as policy
from jingzhun.registry.models import CODE_FIELDS


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("是") if value else _("否")


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def field_labels(*fields: str) -> dict[str, dict[str, str]]:
    """Label dicts per code field of the registry models, built once per document (not once per row)."""
    return {f: policy.labels(CODE_FIELDS[f]) for f in fields}


def code_label(table: dict[str, str], code: str | None) -> str:
    """The label of ``code`` in ``table``; an unknown code shows as itself, a blank one as nothing."""
    if not code:
        return ""
    return table.get(code, code)
