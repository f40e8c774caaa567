"""Template helpers for the household pages: code-table labels, 是/否 for nullable flags, personal data as the
page's disclosure shows it, safe URLs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from jingzhun.core.privacy import Disclosure
from jingzhun.policy import services as policy
from jingzhun.registry.idcard import DISABILITY_CATEGORIES

register = template.Library()


@register.filter
def label(obj: Any, field: str) -> str:
    """The code-table label of ``obj.<field>`` (``{{ member|label:"relationship" }}``)."""
    return obj.label(field) if obj is not None else ""


@register.filter
def code_label(code: str, table: str) -> str:
    return policy.label(table, code)


@register.filter
def disability(category: str) -> str:
    return DISABILITY_CATEGORIES.get(category or "", category or "")


@register.filter
def flag(value: bool | None) -> str:
    """是 / 否 / — for a nullable yes-no field (— means not filled in)."""
    if value is None:
        return "—"
    return _("是") if value else _("否")


@register.filter
def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}"


@register.filter
def area(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"


@register.simple_tag
def shown(disclosure: Disclosure, field: str, value: Any) -> Any:
    """Personal data as the page shows it: ``{% shown disclosure "id_number" m.id_number %}`` is the full
    number after a reveal, ``4311**********1234`` before."""
    return disclosure.field(field, value)


@register.simple_tag
def optional_url(name: str, *args: Any, **kwargs: Any) -> str:
    """The URL of ``name`` if that view exists, else ''. Lets a page link to another module's page
    (明白卡, 操作日志) without breaking while that module is not installed or not yet written."""
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""
