"""The one mechanism that limits what a user sees and changes to their region subtree.

Every model that belongs to a region names its code column in ``scope_field``; its ``objects`` manager is a
ScopedManager whose reads must choose a scope (``visible_to(user)``, ``in_region(code)`` or, on purpose,
``unscoped()``), and views go through ``get_visible_or_404`` / ``require_write`` for single objects.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, Self, TypeVar, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from jingzhun.core.codes import prefix_upper_bound

M = TypeVar("M", bound=models.Model)
# Covariant like django-stubs' QuerySet: a ScopedQuerySet[Member] is a ScopedQuerySet[Model].
_M_co = TypeVar("_M_co", bound=models.Model, covariant=True)


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
    prefix: str | None = user.scope_prefix
    return prefix


class RegionOwned(Protocol):
    """A model that belongs to a region: ``scope_field`` names its region code column."""

    scope_field: ClassVar[str]


def scope_field_of(model: type[models.Model] | models.Model) -> str:
    # Every model behind a ScopedQuerySet declares scope_field; models.Model itself does not.
    return cast("type[RegionOwned] | RegionOwned", model).scope_field


class UnscopedQueryError(RuntimeError):
    """A read of region-owned records that did not say whose view it is."""


class ScopedQuerySet(models.QuerySet[_M_co]):
    """Records that belong to a region (``scope_field`` names their code column).

    Through the model's ``objects`` manager (a ScopedManager) a read must first choose its scope:
    ``visible_to(user)`` for what a user may see, ``in_region(code)`` for a region's records, or
    ``unscoped()`` where the code has a reason to read across regions (a batch job, a record fetched in
    scope already). Evaluating a queryset that chose nothing raises UnscopedQueryError, so the query that
    ignores the scope is the one that must be written on purpose.

    Querysets that Django builds itself (related managers, unique checks, deletion) come from the plain
    default manager and count as chosen: they start from a record that was found in scope.
    """

    _scope_chosen: bool = True

    def _clone(self) -> Self:
        clone: Self = super()._clone()  # type: ignore[misc]  # private QuerySet API, not in django-stubs
        clone._scope_chosen = self._scope_chosen
        return clone

    def _chosen(self) -> Self:
        clone: Self = self._chain()  # type: ignore[attr-defined]  # private QuerySet API, not in django-stubs
        clone._scope_chosen = True
        return clone

    def unscoped(self) -> Self:
        """All regions, on purpose."""
        return self._chosen()

    def none(self) -> Self:
        return super(ScopedQuerySet, self._chosen()).none()  # nothing to leak

    def in_region(self, prefix: str) -> Self:
        return self._chosen().filter(code_prefix_q(scope_field_of(self.model), prefix))

    def visible_to(self, user: Any) -> Self:
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self._chosen().none()
        return self.in_region(prefix)

    def _require_scope(self) -> None:
        if not self._scope_chosen:
            raise UnscopedQueryError(
                f"{self.model._meta.label}.objects read without a scope: "
                "choose .visible_to(user), .in_region(code) or .unscoped()"
            )

    # Every way a queryset reaches the database goes through one of these.
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._require_scope()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def contains(self, obj: Any) -> bool:
        self._require_scope()
        return super().contains(obj)

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def in_bulk(self, *args: Any, **kwargs: Any) -> Any:
        self._require_scope()
        return super().in_bulk(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()

    def explain(self, *args: Any, **kwargs: Any) -> str:
        self._require_scope()
        return super().explain(*args, **kwargs)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        # The caller names the records themselves; Django's own filter(pk__in=…) needs no scope.
        return super(ScopedQuerySet, self._chosen()).bulk_update(objs, fields, batch_size=batch_size)


class ScopedManager(models.Manager[_M_co]):
    """The ``objects`` manager of region-owned models: its querysets must choose a scope before reading."""

    def get_queryset(self) -> ScopedQuerySet[_M_co]:
        # Built by from_queryset() with a ScopedQuerySet (sub)class, always.
        queryset = cast(ScopedQuerySet[_M_co], super().get_queryset())
        queryset._scope_chosen = False
        return queryset


def region_code_of(obj: models.Model) -> str:
    return str(getattr(obj, scope_field_of(obj)) or "")


def can_see_code(user: Any, code: str) -> bool:
    prefix = user_scope_prefix(user)
    return prefix is not None and code.startswith(prefix)


def get_visible_or_404(queryset: ScopedQuerySet[M], user: Any, **lookup: Any) -> M:
    """The single-object access check: objects outside the user's scope do not exist for them."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except ObjectDoesNotExist as exc:  # get() raises only the queryset model's DoesNotExist
        raise Http404 from exc


def require_write(user: Any, code: str) -> None:
    """Refuse a write by a read-only role, or to a record outside the user's subtree."""
    if not getattr(user, "can_write", False):
        raise PermissionDenied(_("当前角色为只读，不能修改数据"))
    if not can_see_code(user, code):
        raise PermissionDenied(_("该记录不在您的管辖范围内"))
