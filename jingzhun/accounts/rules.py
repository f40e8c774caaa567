"""Who may manage which user, and which scope region an administrator may hand out.

Only user-manager roles manage users, and they see users through ``User.objects.visible_to`` (the same
scope mechanism as every other record). Separation of duties (职责分离) decides whom of those they may
manage — create, edit, reset the password of, (de)activate or unlock:

1. a user of strictly lower rank (roles.ROLE_RANK) inside the manager's scope, or of the same rank with a
   scope strictly deeper than the manager's (a city's 县级管理员 manages a county's). Peers of one level
   never manage each other: two county administrators of one county, or two system administrators of
   the whole system, cannot lock each other out or take over each other's account;
2. an auditor (纪检审计) only by a system administrator (roles.AUDITOR_MANAGER_ROLES): the county
   administrators whose work the auditor checks never control the auditor's account, at any level;
3. never oneself: one's own details in the edit form (not role or scope), one's password under 我的账号.

The same rule holds for the role and scope a user is given, so nobody creates or promotes a user they
could not manage. An unlimited 系统管理员 (whole system) is therefore created and recovered only on the
server, with ``manage.py create_admin --all-regions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from jingzhun.accounts.roles import (
    FINEST_SCOPE_LEVEL,
    ROLE_RANK,
    ROLE_WIDEST_LEVEL,
    Role,
    can_grant,
    role_allows_level,
)
from jingzhun.core import codes
from jingzhun.core.scope import can_see_code
from jingzhun.core.types import ScopedUser
from jingzhun.regions.models import Region, RegionLevel

if TYPE_CHECKING:
    from jingzhun.accounts.models import User

# Above this many regions a select list is unusable; the form asks for a code instead.
REGION_SELECT_LIMIT = 1500


def scope_depth(scope_code: str | None) -> int:
    """How deep a scope lies: 0 for the whole system (no region), else its region's level (province 1 …)."""
    return codes.level_of(scope_code) if scope_code else 0


def may_manage(manager_role: str, manager_scope: str | None, target_role: str, target_scope: str | None) -> bool:
    """Rules 1 and 2 above on roles and scope codes; that the target's scope lies inside the manager's is
    checked by the caller (can_see_code)."""
    if not can_grant(manager_role, target_role):
        return False
    if ROLE_RANK[target_role] < ROLE_RANK[manager_role]:
        return True
    return scope_depth(target_scope) > scope_depth(manager_scope)


def can_manage_user(actor: ScopedUser, target: User) -> bool:
    """Reset the password of, (de)activate, unlock, or change the role and scope of ``target``."""
    if not getattr(actor, "can_manage_users", False) or target.pk == actor.pk:
        return False
    if not can_see_code(actor, target.scope_region_id or ""):
        return False
    return may_manage(actor.role, actor.scope_region_id, target.role, target.scope_region_id)


def _refuse() -> PermissionDenied:
    return PermissionDenied(
        _("按职责分离规则，您不能管理该用户：与您同级或更高级别的用户由上级管理员管理，纪检审计人员由系统管理员管理")
    )


def require_manage_user(actor: ScopedUser, target: User) -> None:
    if not can_manage_user(actor, target):
        raise _refuse()


def can_edit_user(actor: ScopedUser, target: User) -> bool:
    """Open the edit form of ``target``: a user one manages, or oneself (name and contact details only)."""
    if target.pk == actor.pk:
        return bool(getattr(actor, "can_manage_users", False))
    return can_manage_user(actor, target)


def require_edit_user(actor: ScopedUser, target: User) -> None:
    if not can_edit_user(actor, target):
        raise _refuse()


def region_choices(actor: ScopedUser, deepest: int = FINEST_SCOPE_LEVEL) -> list[tuple[str, str]] | None:
    """Current regions in the actor's scope down to ``deepest``, indented by level, in tree order.

    None when there are too many for one select (a province-wide administrator); the form then asks
    for a code. Ordering by code is a pre-order walk: a parent's code is its subtree's smallest.
    """
    rows = list(
        Region.objects.current()
        .visible_to(actor)
        .filter(level__lte=deepest)
        .order_by("code")
        .values_list("code", "name", "level")[: REGION_SELECT_LIMIT + 1]
    )
    if len(rows) > REGION_SELECT_LIMIT:
        return None
    top = min((level for _code, _name, level in rows), default=0)
    return [(code, "\u3000" * (level - top) + f"{name}（{code}）") for code, name, level in rows]


def resolve_region(raw: str, actor: ScopedUser, deepest: int = FINEST_SCOPE_LEVEL) -> Region:
    """The current region for a typed or selected code, inside the actor's scope; ValidationError otherwise."""
    try:
        code = codes.normalize_code(raw)
    except codes.CodeError as exc:
        raise ValidationError(str(exc), code="bad_code") from exc
    # Out of scope and nonexistent read the same, so the form does not reveal other counties' codes.
    if not can_see_code(actor, code):
        raise ValidationError(_("区划“%(code)s”不在您的管辖范围内") % {"code": code}, code="out_of_scope")
    region = Region.objects.visible_to(actor).filter(code=code).first()
    if region is None:
        raise ValidationError(_("区划代码“%(code)s”不存在") % {"code": code}, code="unknown")
    if region.is_retired or region.is_pending:
        raise ValidationError(_("区划“%(name)s”当前未启用，请选择调整后的区划") % {"name": region.name}, code="retired")
    if region.level > deepest:
        level = RegionLevel(deepest).label
        raise ValidationError(_("管辖范围最细到%(level)s级") % {"level": level}, code="too_deep")
    return region


def check_scope_for_role(actor: ScopedUser, role: str, region: Region | None) -> None:
    """Raise ValidationError unless the actor may give a user ``role`` with the scope ``region`` (None = unlimited)."""
    if region is None:
        raise ValidationError(_("请选择管辖范围"), code="required")
    if not role_allows_level(role, region.level):
        widest = ROLE_WIDEST_LEVEL.get(role)
        raise ValidationError(
            _("“%(role)s”的管辖范围不能大于%(level)s级")
            % {"role": Role(role).label, "level": RegionLevel(widest).label if widest else ""},
            code="level_for_role",
        )
    if not may_manage(actor.role, actor.scope_region_id, role, region.code):
        raise ValidationError(
            _("按职责分离规则，与您同级的“%(role)s”只能设在比您的管辖范围更小的区划") % {"role": Role(role).label},
            code="peer_scope",
        )
