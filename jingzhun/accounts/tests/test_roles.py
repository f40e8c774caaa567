"""Role rules as plain data: who may grant which role, and which region level suits which role."""

from __future__ import annotations

import pytest

from jingzhun.accounts.roles import (
    READ_ONLY_ROLES,
    USER_MANAGER_ROLES,
    Role,
    can_grant,
    grantable_roles,
    role_allows_level,
)
from jingzhun.core.codes import Level


def test_county_admin_grants_neither_system_admin_nor_auditor():
    assert not can_grant(Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN)
    # The auditor checks the county administrators' work; they never control the auditor's account.
    assert not can_grant(Role.COUNTY_ADMIN, Role.AUDITOR)
    assert set(dict(grantable_roles(Role.COUNTY_ADMIN))) == set(Role.values) - {Role.SYSTEM_ADMIN, Role.AUDITOR}


def test_system_admin_grants_every_role():
    assert set(dict(grantable_roles(Role.SYSTEM_ADMIN))) == set(Role.values)


@pytest.mark.parametrize("role", sorted(set(Role.values) - USER_MANAGER_ROLES))
def test_non_managers_grant_nothing(role):
    assert grantable_roles(role) == []


def test_read_only_roles_are_leader_and_auditor():
    assert {Role.LEADER, Role.AUDITOR} == READ_ONLY_ROLES


@pytest.mark.parametrize(
    ("role", "level", "allowed"),
    [
        (Role.VILLAGE, Level.VILLAGE, True),
        (Role.VILLAGE, Level.TOWNSHIP, False),
        (Role.HELPER, Level.COUNTY, False),
        (Role.TOWNSHIP, Level.TOWNSHIP, True),
        (Role.TOWNSHIP, Level.VILLAGE, True),
        (Role.TOWNSHIP, Level.COUNTY, False),
        (Role.COUNTY_ADMIN, Level.CITY, True),
        (Role.LEADER, Level.TOWNSHIP, True),
        (Role.COUNTY_ADMIN, Level.GROUP, False),
    ],
)
def test_role_allows_level(role, level, allowed):
    assert role_allows_level(role, level) is allowed
