"""The one mechanism that limits what a user sees and changes to their region subtree.

Every model that belongs to a region names its code column in ``scope_field``; its queryset is a
ScopedQuerySet, and views go through ``visible_to(user)`` for lists and exports, and through
``get_visible_or_404`` / ``require_write`` for single objects.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from jingzhun.core.codes import prefix_upper_bound

M = TypeVar("M", bound=models.Model)


def code_prefix_q(field: str, prefix: str) -> Q:
    """Rows whose region code in ``field`` lies under ``prefix`` (index-friendly range, no LIKE)."""
    if not prefix:
        return Q()
    upper = prefix_upper_bound(prefix)
    q = Q(**{f"{field}__gte": prefix})
    if upper is not None:
        q &= Q(**{f"{field}__lt": upper})
    return q


def user_scope_prefix(user: Any) -> str | None:
    """The code prefix a user may see; '' means everything, None means nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.scope_prefix


class ScopedQuerySet(models.QuerySet):
    def in_region(self, prefix: str) -> ScopedQuerySet:
        return self.filter(code_prefix_q(self.model.scope_field, prefix))

    def visible_to(self, user: Any) -> ScopedQuerySet:
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        return self.in_region(prefix)


def region_code_of(obj: models.Model) -> str:
    field = obj.scope_field  # type: ignore[attr-defined]
    return str(getattr(obj, field) or "")


def can_see_code(user: Any, code: str) -> bool:
    prefix = user_scope_prefix(user)
    return prefix is not None and code.startswith(prefix)


def get_visible_or_404(queryset: models.QuerySet[M], user: Any, **lookup: Any) -> M:
    """The single-object access check: objects outside the user's scope do not exist for them."""
    try:
        return queryset.visible_to(user).get(**lookup)  # type: ignore[attr-defined]
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def require_write(user: Any, code: str) -> None:
    """Refuse a write by a read-only role, or to a record outside the user's subtree."""
    if not getattr(user, "can_write", False):
        raise PermissionDenied(_("当前角色为只读，不能修改数据"))
    if not can_see_code(user, code):
        raise PermissionDenied(_("该记录不在您的管辖范围内"))
