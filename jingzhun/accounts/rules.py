"""Who may manage which user, and which scope region an administrator may hand out.

The rules: only user-manager roles manage users; they see users through ``User.objects.visible_to``
(the same scope mechanism as every other record); they may create or edit a user only with a role
``can_grant`` allows and a scope region inside their own subtree; an unlimited scope (no region) is
for a 系统管理员 created by a 系统管理员 who is unlimited too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from jingzhun.accounts.roles import FINEST_SCOPE_LEVEL, ROLE_WIDEST_LEVEL, Role, can_grant, role_allows_level
from jingzhun.core import codes
from jingzhun.core.scope import can_see_code, user_scope_prefix
from jingzhun.core.types import ScopedUser
from jingzhun.regions.models import Region, RegionLevel

if TYPE_CHECKING:
    from jingzhun.accounts.models import User

# Above this many regions a select list is unusable; the form asks for a code instead.
REGION_SELECT_LIMIT = 1500


def can_edit_user(actor: ScopedUser, target: User) -> bool:
    """Edit, reset the password of, or (de)activate ``target``: in scope and not above the actor's rank."""
    if not getattr(actor, "can_manage_users", False):
        return False
    if not can_see_code(actor, target.scope_region_id or ""):
        return False
    return can_grant(actor.role, target.role)


def require_edit_user(actor: ScopedUser, target: User) -> None:
    if not can_edit_user(actor, target):
        raise PermissionDenied(_("不能修改角色高于您或不在您管辖范围内的用户"))


def may_grant_unlimited_scope(actor: ScopedUser) -> bool:
    return user_scope_prefix(actor) == ""


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
    """Raise ValidationError unless ``region`` (None = unlimited) may be given to a user with ``role``."""
    if region is None:
        if role != Role.SYSTEM_ADMIN:
            raise ValidationError(_("请选择管辖范围"), code="required")
        if not may_grant_unlimited_scope(actor):
            raise ValidationError(_("只有管辖全部区划的系统管理员才能设置不限区划的系统管理员"), code="unlimited_scope")
        return
    if not role_allows_level(role, region.level):
        widest = ROLE_WIDEST_LEVEL.get(role)
        raise ValidationError(
            _("“%(role)s”的管辖范围不能大于%(level)s级")
            % {"role": Role(role).label, "level": RegionLevel(widest).label if widest else ""},
            code="level_for_role",
        )
