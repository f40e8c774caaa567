"""The one way a view says what it needs: a capability of the user's role, checked before the view runs.

Every view is decorated with exactly one of:

- ``@public``: no login (the login page, language switch);
- ``@logged_in``: any logged-in user, whatever the role and scope (their own account, logout);
- ``@requires(capability)``: a user with a scope and a role holding ``capability``; ``write=`` names a
  second capability needed for unsafe methods (POST …) on a page that others may read.

The object's region is the other half: a view that works on one record finds it with
``scope.get_visible_or_404`` (outside the scope it does not exist: 404) and changes it only after
``scope.require_write`` (read-only roles and other regions: 403). The declaration is kept on the view
(``access_of(view)``) so the URL matrix test can check that no URL is left undeclared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from jingzhun.core.scope import user_scope_prefix

StrOrPromise = str | Promise


class Capability(StrEnum):
    """What a role may do; roles map to sets of these (accounts.roles.ROLE_CAPABILITIES)."""

    VIEW = "view"  # read what lies in one's scope
    EDIT = "edit"  # register and change records in one's scope (not the read-only roles)
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"
    MANAGE_REFERENCE = "manage_reference"  # 行政区划 and 政策参数
    # See personal data in full (ID numbers, phones, bank accounts, health): on a page after a logged
    # reveal, in downloads (each one logged). Everyone else sees them masked.
    SEE_PERSONAL_DATA = "see_personal_data"


def _refusal(capability: Capability) -> str:
    return {
        Capability.VIEW: _("未设置管辖范围，请联系管理员"),
        Capability.EDIT: _("当前角色为只读，不能修改数据"),
        Capability.MANAGE_USERS: _("您的角色没有用户管理权限"),
        Capability.READ_AUDIT: _("只有系统管理员、县级管理员和纪检审计人员可以查阅操作日志"),
        Capability.MANAGE_REFERENCE: _("只有系统管理员可以修改行政区划和政策参数"),
        Capability.SEE_PERSONAL_DATA: _("您的角色只能查看脱敏后的证件号码、电话、银行账号和健康信息"),
    }[capability]


def has_capability(user: Any, capability: Capability) -> bool:
    """Whether ``user`` holds ``capability`` and has a scope (a user without one sees nothing)."""
    if user_scope_prefix(user) is None:
        return False
    check = getattr(user, "has_capability", None)
    return bool(check and check(capability))


def require_capability(user: Any, capability: Capability, message: StrOrPromise | None = None) -> None:
    """Refuse (403) unless ``user`` holds ``capability``: for a check that depends on what was posted."""
    if not has_capability(user, capability):
        raise PermissionDenied(message or _refusal(capability))


class AccessKind(StrEnum):
    PUBLIC = "public"
    LOGGED_IN = "logged_in"
    CAPABILITY = "capability"


@dataclass(frozen=True)
class Access:
    kind: AccessKind
    capability: Capability | None = None
    write: Capability | None = None  # needed in addition for POST, PUT, PATCH, DELETE


V = TypeVar("V", bound=Callable[..., HttpResponseBase])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _mark(view: V, access: Access) -> V:
    view.access = access  # type: ignore[attr-defined]
    return view


def public(view: V) -> V:
    return _mark(login_not_required(view), Access(AccessKind.PUBLIC))


def logged_in(view: V) -> V:
    return _mark(view, Access(AccessKind.LOGGED_IN))


def requires(
    capability: Capability, *, write: Capability | None = None, message: StrOrPromise | None = None
) -> Callable[[V], V]:
    """Run the view only for a user whose role holds ``capability`` (and ``write`` for unsafe methods)."""

    def decorate(view: V) -> V:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            require_capability(request.user, capability, message)
            if write is not None and request.method not in SAFE_METHODS:
                require_capability(request.user, write, message)
            return view(request, *args, **kwargs)

        return _mark(cast(V, checked), Access(AccessKind.CAPABILITY, capability, write))

    return decorate


def access_of(view: Any) -> Access | None:
    """The declaration of a view function or class-based view (None: undeclared)."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        found = getattr(candidate, "access", None)
        if isinstance(found, Access):
            return found
    return None
