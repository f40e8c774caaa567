"""Separation of duties (issue 11, item 9): administrators and auditors of one level cannot manage each other.

The attack: the county administrator of 零陵区 could deactivate the county's auditor and the other county
administrators, and open the auditor's password reset. Each refusal is checked on every action (GET and
POST), on what the pages offer, and against the data.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from jingzhun.accounts import rules
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import TEST_PASSWORD, MakeUser
from jingzhun.core.codes import Level
from jingzhun.regions.testing import RegionTree

NEW_PASSWORD = "Zhunque-2024-xyz"
ACTION_PAGES = ("accounts:user_edit", "accounts:user_password", "accounts:user_deactivate")


def assert_cannot_manage(client: Client, target: User) -> None:
    """Every change to ``target`` is refused, and its page offers none."""
    detail = client.get(reverse("accounts:user_detail", args=[target.pk]))
    assert detail.status_code == 200  # in scope: visible, read-only
    assert "按职责分离规则，您不能管理该用户" in detail.text
    for name in (*ACTION_PAGES, "accounts:user_reactivate", "accounts:user_unlock"):
        assert reverse(name, args=[target.pk]) not in detail.text, name
    for name in ACTION_PAGES:
        assert client.get(reverse(name, args=[target.pk])).status_code == 403, name
    posts = {
        "accounts:user_edit": {"full_name": "改", "role": Role.VILLAGE, "scope": target.scope_region_id or ""},
        "accounts:user_password": {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        "accounts:user_deactivate": {"reason": "test"},
        "accounts:user_unlock": {},
    }
    for name, data in posts.items():
        assert client.post(reverse(name, args=[target.pk]), data).status_code == 403, name
    before = (target.full_name, target.role, target.is_active, target.login_unlocked_at)
    target.refresh_from_db()
    assert (target.full_name, target.role, target.is_active, target.login_unlocked_at) == before
    assert target.check_password(TEST_PASSWORD)


def assert_can_manage(client: Client, target: User) -> None:
    detail = client.get(reverse("accounts:user_detail", args=[target.pk]))
    for name in ACTION_PAGES:
        assert reverse(name, args=[target.pk]) in detail.text, name
    response = client.post(reverse("accounts:user_deactivate", args=[target.pk]), {"reason": "调离"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active


@pytest.fixture
def county_client(client: Client, county_admin: User) -> Client:
    client.force_login(county_admin)
    return client


def test_county_admin_cannot_manage_the_county_auditor(county_client, make_user, tree):
    assert_cannot_manage(county_client, make_user(Role.AUDITOR, tree.county, username="auditor"))


def test_county_admin_cannot_manage_an_auditor_of_a_township_either(county_client, make_user, tree):
    # Whatever level the auditor works at, the administrators whose work they check do not control them.
    assert_cannot_manage(county_client, make_user(Role.AUDITOR, tree.township_a))


def test_county_admin_cannot_manage_another_county_admin_of_the_county(county_client, make_user, tree):
    assert_cannot_manage(county_client, make_user(Role.COUNTY_ADMIN, tree.county, username="county2"))


def test_county_admin_manages_a_county_admin_of_a_township(county_client, make_user, tree):
    assert_can_manage(county_client, make_user(Role.COUNTY_ADMIN, tree.township_a))


def test_a_city_administrator_manages_county_administrators_but_not_auditors(client, make_user, tree):
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.city))
    assert_cannot_manage(client, make_user(Role.AUDITOR, tree.county))
    assert_can_manage(client, make_user(Role.COUNTY_ADMIN, tree.county))


def test_system_admin_keeps_control_of_auditor_and_county_admins(client, system_admin, make_user, tree):
    client.force_login(system_admin)
    assert_can_manage(client, make_user(Role.AUDITOR, tree.county))
    assert_can_manage(client, make_user(Role.COUNTY_ADMIN, tree.county))


def test_system_admins_of_one_level_cannot_manage_each_other(client, system_admin, make_user, tree):
    client.force_login(system_admin)
    assert_cannot_manage(client, make_user(Role.SYSTEM_ADMIN, tree.county))
    root = make_user(Role.SYSTEM_ADMIN, None)
    client.force_login(root)
    assert_cannot_manage(client, make_user(Role.SYSTEM_ADMIN, None))
    assert_can_manage(client, system_admin)


def test_county_admin_cannot_create_an_auditor_or_a_peer(county_client, tree):
    url = reverse("accounts:user_create")
    form = county_client.get(url).context["form"]
    assert Role.AUDITOR not in dict(form.fields["role"].choices)
    data = {"full_name": "新", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    response = county_client.post(url, {**data, "username": "aud", "role": Role.AUDITOR, "scope": tree.county})
    assert response.context["form"].errors["role"]
    response = county_client.post(url, {**data, "username": "peer", "role": Role.COUNTY_ADMIN, "scope": tree.county})
    assert "比您的管辖范围更小" in str(response.context["form"].errors["scope"])
    assert not User.objects.unscoped().filter(username__in=["aud", "peer"]).exists()


def test_county_admin_cannot_promote_a_user_to_a_peer_or_an_auditor(county_client, make_user, tree):
    user = make_user(Role.TOWNSHIP, tree.township_a)
    url = reverse("accounts:user_edit", args=[user.pk])
    data = {"full_name": user.full_name, "phone": "", "organisation": "", "email": ""}
    response = county_client.post(url, {**data, "role": Role.COUNTY_ADMIN, "scope": tree.county})
    assert "比您的管辖范围更小" in str(response.context["form"].errors["scope"])
    response = county_client.post(url, {**data, "role": Role.AUDITOR, "scope": tree.township_a})
    assert response.context["form"].errors["role"]
    user.refresh_from_db()
    assert (user.role, user.scope_region_id) == (Role.TOWNSHIP, tree.township_a)


def test_own_details_stay_editable(county_client, county_admin):
    url = reverse("accounts:user_edit", args=[county_admin.pk])
    data = {"full_name": "新名字", "phone": "", "organisation": "", "email": ""}
    assert county_client.post(url, data).status_code == 302
    county_admin.refresh_from_db()
    assert county_admin.full_name == "新名字"


def test_nobody_unlocks_a_user_they_cannot_manage(client, county_client, make_user, tree):
    # An unlock by a peer would let them keep guessing the peer's password from their own address.
    auditor = make_user(Role.AUDITOR, tree.county, username="auditor")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        Client().post(reverse("accounts:login"), {"username": "auditor", "password": "wrong-1"}, REMOTE_ADDR="10.6.6.6")
    detail = county_client.get(reverse("accounts:user_detail", args=[auditor.pk]))
    assert "10.6.6.6" in detail.text  # the lock is shown ...
    assert reverse("accounts:user_unlock", args=[auditor.pk]) not in detail.text  # ... without the button
    assert county_client.post(reverse("accounts:user_unlock", args=[auditor.pk])).status_code == 403
    auditor.refresh_from_db()
    assert auditor.login_unlocked_at is None


# --- the rule as data ------------------------------------------------------------------------------------

C, T, V = "431102000000", "431102100000", "431102100201"


@pytest.mark.parametrize(
    ("manager", "manager_scope", "target", "target_scope", "allowed"),
    [
        (Role.COUNTY_ADMIN, C, Role.VILLAGE, V, True),
        (Role.COUNTY_ADMIN, C, Role.LEADER, C, True),
        (Role.COUNTY_ADMIN, C, Role.AUDITOR, C, False),
        (Role.COUNTY_ADMIN, C, Role.AUDITOR, T, False),
        (Role.COUNTY_ADMIN, C, Role.COUNTY_ADMIN, C, False),
        (Role.COUNTY_ADMIN, C, Role.COUNTY_ADMIN, T, True),
        (Role.COUNTY_ADMIN, T, Role.COUNTY_ADMIN, C, False),
        (Role.COUNTY_ADMIN, C, Role.SYSTEM_ADMIN, T, False),
        (Role.SYSTEM_ADMIN, C, Role.AUDITOR, C, True),
        (Role.SYSTEM_ADMIN, C, Role.COUNTY_ADMIN, C, True),
        (Role.SYSTEM_ADMIN, C, Role.SYSTEM_ADMIN, C, False),
        (Role.SYSTEM_ADMIN, C, Role.SYSTEM_ADMIN, T, True),
        (Role.SYSTEM_ADMIN, None, Role.SYSTEM_ADMIN, C, True),
        (Role.SYSTEM_ADMIN, None, Role.SYSTEM_ADMIN, None, False),
        (Role.LEADER, C, Role.HELPER, V, False),
        (Role.AUDITOR, C, Role.HELPER, V, False),
    ],
)
def test_may_manage(manager, manager_scope, target, target_scope, allowed):
    assert rules.may_manage(manager, manager_scope, target, target_scope) is allowed


def test_scope_depth():
    assert rules.scope_depth(None) == 0
    assert rules.scope_depth(C) == Level.COUNTY
    assert rules.scope_depth(V) == Level.VILLAGE


def test_can_manage_user_needs_the_target_in_scope_and_is_never_oneself(make_user: MakeUser, tree: RegionTree):
    admin = make_user(Role.COUNTY_ADMIN, tree.county)
    assert rules.can_manage_user(admin, make_user(Role.VILLAGE, tree.village_a1))
    assert not rules.can_manage_user(admin, make_user(Role.VILLAGE, tree.other_village))
    assert not rules.can_manage_user(admin, admin)
    assert rules.can_edit_user(admin, admin)
