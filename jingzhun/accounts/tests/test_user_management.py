"""用户管理: who may manage whom, inside which scope, with which role; every change audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from jingzhun.accounts import rules
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import TEST_PASSWORD
from jingzhun.audit.models import AuditEntry

NEW_PASSWORD = "Zhunque-2024-xyz"
USER_URLS = ["accounts:user_list", "accounts:user_create"]


def create_data(scope: str, role: str = Role.VILLAGE, username: str = "newcadre", **extra: str) -> dict[str, str]:
    return {
        "username": username,
        "full_name": "新干部",
        "role": role,
        "scope": scope,
        "phone": "13800001111",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **extra,
    }


def edit_data(user: User, **changes: str) -> dict[str, str]:
    data = {
        "full_name": user.full_name,
        "role": user.role,
        "scope": user.scope_region_id or "",
        "phone": user.phone,
        "organisation": user.organisation,
        "email": user.email,
    }
    data.update(changes)
    return data


def user_entries(user: User) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type="accounts.user", object_id=str(user.pk)).order_by("id")


@pytest.fixture
def admin_client(client: Client, county_admin: User) -> Client:
    client.force_login(county_admin)
    return client


# --- who may open the pages -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.TOWNSHIP, Role.VILLAGE, Role.HELPER, Role.LEADER, Role.AUDITOR])
def test_non_managers_get_403_on_user_pages(client, tree, make_user, role):
    scope = {Role.TOWNSHIP: tree.township_a, Role.VILLAGE: tree.village_a1, Role.HELPER: tree.village_a1}
    user = make_user(role, scope.get(role, tree.county))
    someone = make_user(Role.HELPER, tree.village_a1)
    client.force_login(user)
    for name in USER_URLS:
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "没有用户管理权限" in response.text
    for name in ("accounts:user_detail", "accounts:user_edit", "accounts:user_password", "accounts:user_deactivate"):
        assert client.get(reverse(name, args=[someone.pk])).status_code == 403


@pytest.mark.parametrize("role", [Role.LEADER, Role.AUDITOR])
def test_read_only_roles_cannot_create_or_change_users(client, tree, make_user, role):
    reader = make_user(role, tree.county)
    someone = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(reader)
    assert client.post(reverse("accounts:user_create"), create_data(tree.village_a1)).status_code == 403
    assert client.post(reverse("accounts:user_deactivate", args=[someone.pk]), {}).status_code == 403
    password = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(reverse("accounts:user_password", args=[someone.pk]), password).status_code == 403
    assert not User.objects.unscoped().filter(username="newcadre").exists()
    someone.refresh_from_db()
    assert someone.is_active and someone.check_password(TEST_PASSWORD)


def test_nav_shows_user_management_to_managers_only(client, county_admin, make_user, tree):
    client.force_login(county_admin)
    assert reverse("accounts:user_list") in client.get(reverse("accounts:my_account")).text
    client.force_login(make_user(Role.LEADER, tree.county))
    assert reverse("accounts:user_list") not in client.get(reverse("accounts:my_account")).text


# --- list -----------------------------------------------------------------------------------------------


def test_list_shows_only_users_in_scope(admin_client, make_user, tree):
    mine = make_user(Role.VILLAGE, tree.village_a1, username="mine")
    other = make_user(Role.VILLAGE, tree.other_village, username="othercounty")
    make_user(Role.SYSTEM_ADMIN, None, username="unlimited")
    response = admin_client.get(reverse("accounts:user_list"))
    usernames = {u.username for u in response.context["page"].object_list}
    assert mine.username in usernames
    assert other.username not in usernames
    assert "unlimited" not in usernames


def test_list_filters(admin_client, make_user, tree):
    make_user(Role.VILLAGE, tree.village_a1, username="zhangsan", full_name="张三", phone="13912345678")
    make_user(Role.TOWNSHIP, tree.township_b, username="lisi", full_name="李四")
    make_user(Role.HELPER, tree.village_b1, username="wangwu", full_name="王五", is_active=False)

    def names(**params: str) -> set[str]:
        response = admin_client.get(reverse("accounts:user_list"), params)
        assert response.status_code == 200
        return {u.username for u in response.context["page"].object_list}

    assert names(q="张") == {"zhangsan"}
    assert names(q="1391234") == {"zhangsan"}
    assert names(q="LISI") == {"lisi"}
    assert names(role=Role.TOWNSHIP) == {"lisi"}
    assert names(region=tree.township_b) == {"lisi", "wangwu"}
    assert names(status="inactive") == {"wangwu"}
    assert "wangwu" not in names(status="active")
    # A region outside the scope is an error, never a window into another county.
    response = admin_client.get(reverse("accounts:user_list"), {"region": tree.other_county})
    assert response.context["form"].errors
    assert all(u.scope_region_id.startswith("431102") for u in response.context["page"].object_list)


def test_list_is_paginated(admin_client, make_user, tree):
    for i in range(35):
        make_user(Role.HELPER, tree.village_a2, username=f"helper{i:02d}")
    first = admin_client.get(reverse("accounts:user_list"))
    assert len(first.context["page"].object_list) == 30
    assert "第 1 / 2 页" in first.text
    second = admin_client.get(reverse("accounts:user_list"), {"page": 2, "role": Role.HELPER})
    assert len(second.context["page"].object_list) == 5


# --- create -----------------------------------------------------------------------------------------------


def test_county_admin_creates_a_village_user(admin_client, county_admin, tree):
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.village_a1))
    user = User.objects.unscoped().get(username="newcadre")
    assert response.status_code == 302
    assert response.url == reverse("accounts:user_detail", args=[user.pk])
    assert (user.role, user.scope_region_id, user.is_active) == (Role.VILLAGE, tree.village_a1, True)
    assert user.check_password(NEW_PASSWORD)
    assert NEW_PASSWORD not in user.password


def test_county_admin_cannot_create_a_user_outside_the_county(admin_client, tree):
    for scope in (tree.other_village, tree.other_county, tree.city):
        response = admin_client.post(reverse("accounts:user_create"), create_data(scope))
        assert response.status_code == 200
        assert response.context["form"].errors["scope"]
    assert not User.objects.unscoped().filter(username="newcadre").exists()
    assert not AuditEntry.objects.filter(object_type="accounts.user", object_repr="新干部").exists()


def test_county_admin_cannot_create_a_system_admin(admin_client, tree):
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.county, role=Role.SYSTEM_ADMIN))
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert not User.objects.unscoped().filter(username="newcadre").exists()
    assert "系统管理员" not in dict(response.context["form"].fields["role"].choices).values()


def test_code_input_is_validated_against_scope_too(admin_client, tree, monkeypatch):
    # A province-wide administrator gets a code field instead of a select; the same rules apply.
    monkeypatch.setattr(rules, "REGION_SELECT_LIMIT", 1)
    page = admin_client.get(reverse("accounts:user_create"))
    assert page.context["form"].fields["scope"].widget.input_type == "text"
    response = admin_client.post(reverse("accounts:user_create"), create_data("431103100201"))
    assert "不在您的管辖范围内" in str(response.context["form"].errors["scope"])
    response = admin_client.post(reverse("accounts:user_create"), create_data("43110210020"))
    assert "长度" in str(response.context["form"].errors["scope"])
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.group_a1))
    assert "最细到村级" in str(response.context["form"].errors["scope"])
    response = admin_client.post(reverse("accounts:user_create"), create_data("431102100299"))
    assert "不存在" in str(response.context["form"].errors["scope"])
    assert not User.objects.unscoped().filter(username="newcadre").exists()
    admin_client.post(reverse("accounts:user_create"), create_data("431102100", role=Role.TOWNSHIP))
    assert User.objects.unscoped().get(username="newcadre").scope_region_id == tree.township_a


def test_select_offers_regions_in_scope_down_to_villages(admin_client, tree):
    choices = dict(admin_client.get(reverse("accounts:user_create")).context["form"].fields["scope"].choices)
    assert set(choices) == {"", tree.county, tree.township_a, tree.township_b, *tree.villages}


def test_role_must_fit_the_scope_level(admin_client, tree):
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.county, role=Role.VILLAGE))
    assert "不能大于村级" in str(response.context["form"].errors["scope"])
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.county, role=Role.TOWNSHIP))
    assert "不能大于乡级" in str(response.context["form"].errors["scope"])
    assert not User.objects.unscoped().filter(username="newcadre").exists()


def test_scope_is_required_for_every_role(client, admin_client, make_user, tree):
    response = admin_client.post(reverse("accounts:user_create"), create_data("", role=Role.COUNTY_ADMIN))
    assert "请选择管辖范围" in str(response.context["form"].errors["scope"])
    # Not even a whole-system 系统管理员 hands out an unlimited scope: that would be a peer (accounts.rules);
    # one is created on the server with manage.py create_admin --all-regions.
    for scope in (tree.county, None):
        client.force_login(make_user(Role.SYSTEM_ADMIN, scope))
        page = client.get(reverse("accounts:user_create"))
        assert "全部区划（不限）" not in page.text
        response = client.post(reverse("accounts:user_create"), create_data("", role=Role.SYSTEM_ADMIN))
        assert "请选择管辖范围" in str(response.context["form"].errors["scope"])
    assert not User.objects.unscoped().filter(username="newcadre").exists()


def test_system_admin_creates_county_admin_in_scope_and_system_admin_below(client, system_admin, tree):
    client.force_login(system_admin)
    url = reverse("accounts:user_create")
    client.post(url, create_data(tree.county, role=Role.COUNTY_ADMIN, username="ca2"))
    client.post(url, create_data(tree.township_a, role=Role.SYSTEM_ADMIN, username="sa2"))
    # A second 系统管理员 of the same county would be a peer neither of them could be managed by.
    response = client.post(url, create_data(tree.county, role=Role.SYSTEM_ADMIN, username="sa3"))
    assert "比您的管辖范围更小" in str(response.context["form"].errors["scope"])
    assert User.objects.unscoped().get(username="ca2").role == Role.COUNTY_ADMIN
    assert User.objects.unscoped().get(username="sa2").role == Role.SYSTEM_ADMIN
    assert not User.objects.unscoped().filter(username="sa3").exists()


def test_password_validators_apply_on_create(admin_client, tree):
    for weak in ("12345678901", "short1", "newcadre2024"):
        data = create_data(tree.village_a1, password1=weak, password2=weak)
        response = admin_client.post(reverse("accounts:user_create"), data)
        assert response.context["form"].errors["password2"], weak
    data = create_data(tree.village_a1, password2="Different-2024-xyz")
    assert "两次输入的密码不一致" in str(
        admin_client.post(reverse("accounts:user_create"), data).context["form"].errors
    )
    assert not User.objects.unscoped().filter(username="newcadre").exists()


def test_usernames_are_unique_regardless_of_case(admin_client, make_user, tree):
    make_user(Role.VILLAGE, tree.other_village, username="ZhangSan")
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.village_a1, username="zhangsan"))
    assert "已被使用" in str(response.context["form"].errors["username"])


def test_phone_is_validated(admin_client, tree):
    response = admin_client.post(reverse("accounts:user_create"), create_data(tree.village_a1, phone="12345"))
    assert response.context["form"].errors["phone"]
    admin_client.post(reverse("accounts:user_create"), create_data(tree.village_a1, phone="0746 8221234"))
    assert User.objects.unscoped().get(username="newcadre").phone == "07468221234"


# --- edit -------------------------------------------------------------------------------------------------


def test_county_admin_cannot_open_or_edit_a_user_of_another_county(admin_client, make_user, tree):
    other = make_user(Role.VILLAGE, tree.other_village, full_name="邻区干部")
    for name in ("accounts:user_detail", "accounts:user_edit", "accounts:user_password", "accounts:user_deactivate"):
        assert admin_client.get(reverse(name, args=[other.pk])).status_code == 404
    response = admin_client.post(reverse("accounts:user_edit", args=[other.pk]), edit_data(other, full_name="改"))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.full_name == "邻区干部"


def test_county_admin_cannot_edit_a_user_above_their_rank(admin_client, make_user, tree):
    boss = make_user(Role.SYSTEM_ADMIN, tree.county, full_name="系统管理员甲")
    # Visible in the list (same county) but read-only.
    detail = admin_client.get(reverse("accounts:user_detail", args=[boss.pk]))
    assert detail.status_code == 200
    assert reverse("accounts:user_edit", args=[boss.pk]) not in detail.text
    response = admin_client.post(reverse("accounts:user_edit", args=[boss.pk]), edit_data(boss, full_name="改"))
    assert response.status_code == 403
    password = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert admin_client.post(reverse("accounts:user_password", args=[boss.pk]), password).status_code == 403
    assert admin_client.post(reverse("accounts:user_deactivate", args=[boss.pk]), {}).status_code == 403
    boss.refresh_from_db()
    assert boss.full_name == "系统管理员甲" and boss.is_active and boss.check_password(TEST_PASSWORD)


def test_county_admin_cannot_raise_a_user_to_system_admin_or_move_them_out(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    url = reverse("accounts:user_edit", args=[user.pk])
    assert admin_client.post(url, edit_data(user, role=Role.SYSTEM_ADMIN)).context["form"].errors["role"]
    assert admin_client.post(url, edit_data(user, scope=tree.other_village)).context["form"].errors["scope"]
    user.refresh_from_db()
    assert (user.role, user.scope_region_id) == (Role.VILLAGE, tree.village_a1)


def test_admin_cannot_raise_own_role_or_widen_own_scope(client, make_user, tree):
    admin = make_user(Role.COUNTY_ADMIN, tree.township_a)
    client.force_login(admin)
    url = reverse("accounts:user_edit", args=[admin.pk])
    response = client.post(url, edit_data(admin, role=Role.SYSTEM_ADMIN, scope=tree.county, full_name="新名字"))
    assert response.status_code == 302
    admin.refresh_from_db()
    # The name changed; role and scope fields are locked for oneself.
    assert (admin.full_name, admin.role, admin.scope_region_id) == ("新名字", Role.COUNTY_ADMIN, tree.township_a)
    assert client.get(url).context["form"].fields["role"].disabled


def test_role_change_is_audited_with_before_and_after(admin_client, county_admin, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    url = reverse("accounts:user_edit", args=[user.pk])
    response = admin_client.post(url, edit_data(user, role=Role.TOWNSHIP, scope=tree.township_a))
    assert response.status_code == 302
    entry = user_entries(user).latest("id")
    assert entry.action == "update"
    assert entry.changes["role"] == [Role.VILLAGE, Role.TOWNSHIP]
    assert entry.changes["scope_region"] == [tree.village_a1, tree.township_a]
    assert (entry.actor_id, entry.actor_username, entry.source) == (county_admin.pk, county_admin.username, "web")
    assert entry.reason == "修改用户信息"
    detail = admin_client.get(reverse("accounts:user_detail", args=[user.pk]))
    assert "变更记录" in detail.text
    assert "乡镇干部" in detail.text and "水口山镇（431102100000）" in detail.text


def test_user_creation_is_audited_with_masked_password(admin_client, county_admin, tree):
    admin_client.post(reverse("accounts:user_create"), create_data(tree.village_a1))
    user = User.objects.unscoped().get(username="newcadre")
    entry = user_entries(user).get()
    assert entry.action == "create"
    assert entry.changes["role"] == [None, Role.VILLAGE]
    assert entry.changes["scope_region"] == [None, tree.village_a1]
    assert entry.changes["username"] == [None, "newcadre"]
    assert entry.region_code == tree.village_a1
    assert entry.actor_username == county_admin.username
    assert entry.reason == "新建用户"
    # The hash is masked; neither the password nor its hash is in the log.
    masked = entry.changes["password"][1]
    assert masked and len(masked) == 12 and masked not in user.password
    assert NEW_PASSWORD not in str(entry.changes)


def test_unchanged_edit_writes_nothing(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    count = user_entries(user).count()
    admin_client.post(reverse("accounts:user_edit", args=[user.pk]), edit_data(user))
    assert user_entries(user).count() == count


def test_username_cannot_be_changed(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="fixed")
    admin_client.post(reverse("accounts:user_edit", args=[user.pk]), edit_data(user, username="renamed"))
    user.refresh_from_db()
    assert user.username == "fixed"


# --- deactivate / reactivate / reset password -------------------------------------------------------------


def test_deactivate_and_reactivate_never_delete(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    own = Client()
    own.force_login(user)
    assert own.get(reverse("accounts:my_account")).status_code == 200

    confirm = admin_client.get(reverse("accounts:user_deactivate", args=[user.pk]))
    assert confirm.status_code == 200 and "确认停用" in confirm.text
    admin_client.post(reverse("accounts:user_deactivate", args=[user.pk]), {"reason": "调离岗位"})
    user.refresh_from_db()
    assert not user.is_active
    entry = user_entries(user).latest("id")
    assert entry.changes == {"is_active": [True, False]}
    assert entry.reason == "停用账号：调离岗位"
    # Their open session stops working at once.
    assert own.get(reverse("accounts:my_account")).status_code == 302

    admin_client.post(reverse("accounts:user_reactivate", args=[user.pk]), {})
    user.refresh_from_db()
    assert user.is_active
    assert user_entries(user).latest("id").reason == "启用账号"
    assert User.objects.unscoped().filter(pk=user.pk).exists()


def test_admin_cannot_deactivate_self(admin_client, county_admin):
    admin_client.post(reverse("accounts:user_deactivate", args=[county_admin.pk]), {})
    county_admin.refresh_from_db()
    assert county_admin.is_active


def test_admin_resets_a_password(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    url = reverse("accounts:user_password", args=[user.pk])
    weak = admin_client.post(url, {"new_password1": "1234567890", "new_password2": "1234567890"})
    assert weak.context["form"].errors["new_password2"]
    response = admin_client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    entry = user_entries(user).latest("id")
    assert entry.reason == "重置密码"
    assert list(entry.changes) == ["password"]
    assert NEW_PASSWORD not in str(entry.changes)


def test_reset_password_of_self_goes_to_my_account(admin_client, county_admin):
    response = admin_client.get(reverse("accounts:user_password", args=[county_admin.pk]))
    assert response.url == reverse("accounts:my_account")


# --- login locks -----------------------------------------------------------------------------------------


def lock_out(username: str, addr: str = "10.6.6.6") -> None:
    for _ in range(settings.LOGIN_MAX_FAILURES):
        Client().post(reverse("accounts:login"), {"username": username, "password": "wrong-1"}, REMOTE_ADDR=addr)


def can_log_in(username: str, addr: str = "10.6.6.6") -> bool:
    client = Client()
    client.post(reverse("accounts:login"), {"username": username, "password": TEST_PASSWORD}, REMOTE_ADDR=addr)
    return "_auth_user_id" in client.session


def test_admin_sees_where_an_account_is_locked_and_unlocks_it(admin_client, county_admin, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="locked")
    lock_out("locked", "10.6.6.6")
    lock_out("locked", "10.7.7.7")
    assert not can_log_in("locked", "10.6.6.6")
    detail = admin_client.get(reverse("accounts:user_detail", args=[user.pk]))
    assert "登录已锁定，约 15 分钟后解除" in detail.text
    assert "10.6.6.6" in detail.text and "10.7.7.7" in detail.text
    url = reverse("accounts:user_unlock", args=[user.pk])
    assert url in detail.text

    assert admin_client.get(url).status_code == 405  # a change is a POST
    response = admin_client.post(url)
    assert response.status_code == 302
    assert "已解除“locked”的登录锁定" in admin_client.get(response.url).text
    assert can_log_in("locked", "10.6.6.6") and can_log_in("locked", "10.7.7.7")
    entry = user_entries(user).latest("id")
    assert list(entry.changes) == ["login_unlocked_at"]
    assert entry.reason in ("解除登录锁定：10.6.6.6、10.7.7.7", "解除登录锁定：10.7.7.7、10.6.6.6")
    assert (entry.actor_username, entry.region_code) == (county_admin.username, tree.village_a1)
    assert "解除登录锁定" in admin_client.get(reverse("accounts:user_detail", args=[user.pk])).text


def test_guesses_after_an_unlock_count_afresh(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="locked")
    lock_out("locked")
    admin_client.post(reverse("accounts:user_unlock", args=[user.pk]))
    lock_out("locked")
    assert not can_log_in("locked")


def test_unlocking_an_account_that_is_not_locked_changes_nothing(admin_client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="free")
    count = user_entries(user).count()
    response = admin_client.post(reverse("accounts:user_unlock", args=[user.pk]), follow=True)
    assert "当前未被锁定" in response.text
    assert reverse("accounts:user_unlock", args=[user.pk]) not in response.text
    assert user_entries(user).count() == count


def test_unlock_needs_the_csrf_token(county_admin, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="locked")
    lock_out("locked")
    client = Client(enforce_csrf_checks=True)
    client.force_login(county_admin)
    assert client.post(reverse("accounts:user_unlock", args=[user.pk])).status_code == 403
    user.refresh_from_db()
    assert user.login_unlocked_at is None
    client.get(reverse("accounts:user_detail", args=[user.pk]))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(reverse("accounts:user_unlock", args=[user.pk]), {"csrfmiddlewaretoken": token})
    user.refresh_from_db()
    assert user.login_unlocked_at is not None


def test_unlock_is_refused_for_oneself_and_outside_the_scope(admin_client, county_admin, make_user, tree):
    other = make_user(Role.VILLAGE, tree.other_village, username="other")
    assert admin_client.post(reverse("accounts:user_unlock", args=[other.pk])).status_code == 404
    assert admin_client.post(reverse("accounts:user_unlock", args=[county_admin.pk])).status_code == 403


# --- 我的账号 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VILLAGE, Role.LEADER, Role.AUDITOR])
def test_any_user_changes_own_password(client, make_user, tree, role):
    user = make_user(role, tree.village_a1 if role == Role.VILLAGE else tree.county)
    client.force_login(user)
    url = reverse("accounts:my_account")
    data = {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post(url, data)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(url).status_code == 200  # still logged in on this device
    assert user_entries(user).latest("id").reason == "修改本人密码"


def test_own_password_change_checks_the_current_one_and_is_throttled(client, make_user, tree, settings):
    user = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(user)
    url = reverse("accounts:my_account")
    data = {"old_password": "wrong-old-1", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = client.post(url, data)
        assert response.context["form"].errors["old_password"]
    data["old_password"] = TEST_PASSWORD
    assert "登录失败次数过多" in str(client.post(url, data).context["form"].errors["old_password"])
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_my_account_lists_recent_login_attempts(client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="watcher")
    client.post(reverse("accounts:login"), {"username": "watcher", "password": "nope-nope-1"}, REMOTE_ADDR="10.3.3.3")
    client.post(reverse("accounts:login"), {"username": "watcher", "password": TEST_PASSWORD})
    page = client.get(reverse("accounts:my_account"))
    assert "10.3.3.3" in page.text and "失败" in page.text
    assert user.username in page.text


def test_403_page_is_chinese(client, make_user, tree):
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    response = client.get(reverse("accounts:user_list"))
    assert "无权访问" in response.text
