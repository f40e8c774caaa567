"""Roles (角色) and what each may do. Plain data so rules are testable without the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from jingzhun.core.access import Capability
from jingzhun.core.codes import Level

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    LEADER = "leader", _("领导")
    AUDITOR = "auditor", _("纪检审计")
    TOWNSHIP = "township", _("乡镇干部")
    VILLAGE = "village", _("村干部/驻村工作队")
    HELPER = "helper", _("帮扶责任人")


# Higher rank = more authority; an administrator may only grant roles of rank <= their own.
ROLE_RANK: dict[str, int] = {
    Role.SYSTEM_ADMIN: 100,
    Role.COUNTY_ADMIN: 80,
    Role.LEADER: 70,
    Role.AUDITOR: 70,
    Role.TOWNSHIP: 60,
    Role.VILLAGE: 40,
    Role.HELPER: 20,
}

READ_ONLY_ROLES = frozenset({Role.LEADER, Role.AUDITOR})
USER_MANAGER_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.COUNTY_ADMIN})
AUDIT_READER_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.COUNTY_ADMIN, Role.AUDITOR})
REFERENCE_DATA_ROLES = frozenset({Role.SYSTEM_ADMIN})
# Whose work needs full ID numbers, phones, bank accounts and health details (PIPL: ID numbers and health
# are sensitive): the cadres who register and check households. Leaders, auditors and helpers see them
# masked; the system administrator runs the system, not the register.
PERSONAL_DATA_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP, Role.VILLAGE})

# What each role may do: the views declare the capability they need (core.access.requires).
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    role: frozenset(
        {Capability.VIEW}
        | ({Capability.EDIT} if role not in READ_ONLY_ROLES else set())
        | ({Capability.MANAGE_USERS} if role in USER_MANAGER_ROLES else set())
        | ({Capability.READ_AUDIT} if role in AUDIT_READER_ROLES else set())
        | ({Capability.MANAGE_REFERENCE} if role in REFERENCE_DATA_ROLES else set())
        | ({Capability.SEE_PERSONAL_DATA} if role in PERSONAL_DATA_ROLES else set())
    )
    for role in Role
}


# Those whom the auditor audits never control the auditor's account (separation of duties, accounts.rules).
AUDITOR_MANAGER_ROLES = frozenset({Role.SYSTEM_ADMIN})


def can_grant(granter_role: str, target_role: str) -> bool:
    """Whether a user with ``granter_role`` may create or edit a user with ``target_role`` at all; one of
    the same rank only with a deeper scope (accounts.rules.may_manage decides with the scopes)."""
    if granter_role not in USER_MANAGER_ROLES:
        return False
    if target_role == Role.AUDITOR:
        return granter_role in AUDITOR_MANAGER_ROLES
    return ROLE_RANK[target_role] <= ROLE_RANK[granter_role]


def grantable_roles(granter_role: str) -> list[tuple[str, StrOrPromise]]:
    return [(value, label) for value, label in Role.choices if can_grant(granter_role, value)]


# The widest region level a role may be scoped to (a village cadre scoped to a whole county would get
# write access to every village in it). Roles not listed may hold any level down to a village.
ROLE_WIDEST_LEVEL: dict[str, int] = {
    Role.TOWNSHIP: Level.TOWNSHIP,
    Role.VILLAGE: Level.VILLAGE,
    Role.HELPER: Level.VILLAGE,
}

# Users are scoped to a village at the finest; 村民小组 are not administrative units with staff.
FINEST_SCOPE_LEVEL = Level.VILLAGE


def role_allows_level(role: str, level: int) -> bool:
    """Whether a scope region of ``level`` suits ``role`` (deeper levels have larger numbers)."""
    return FINEST_SCOPE_LEVEL >= level >= ROLE_WIDEST_LEVEL.get(role, Level.PROVINCE)
