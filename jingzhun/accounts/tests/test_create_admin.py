"""manage.py create_admin: the first 系统管理员 of a production installation."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jingzhun.accounts.management.commands import create_admin
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry

PASSWORD = "Zhunque-2024-xyz"


def run(*args: str, **kwargs: object) -> str:
    out = io.StringIO()
    call_command("create_admin", *args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def test_noinput_reads_the_password_from_the_environment(tree, monkeypatch):
    monkeypatch.setenv(create_admin.PASSWORD_ENV, PASSWORD)
    out = run("--username", "root", "--scope", "431102", "--full-name", "区管理员", "--noinput")
    user = User.objects.unscoped().get(username="root")
    assert (user.role, user.scope_region_id, user.full_name) == (Role.SYSTEM_ADMIN, tree.county, "区管理员")
    assert user.check_password(PASSWORD)
    assert not user.is_superuser  # the role governs; no Django superuser bypass
    assert "零陵区" in out
    entry = AuditEntry.objects.get(object_type="accounts.user", object_id=str(user.pk))
    assert (entry.source, entry.reason) == ("command", "创建系统管理员（首次部署）")


def test_password_from_stdin_and_unlimited_scope(tree):
    run("--username", "root", "--all-regions", "--password-stdin", stdin=io.StringIO(PASSWORD + "\n"))
    user = User.objects.unscoped().get(username="root")
    assert user.scope_region_id is None
    assert user.scope_prefix == ""
    assert user.check_password(PASSWORD)


def test_interactive_prompt(tree, monkeypatch):
    answers = iter(["short", "short", PASSWORD, "typo", PASSWORD, PASSWORD])
    monkeypatch.setattr(create_admin.getpass, "getpass", lambda prompt="": next(answers))
    run("--username", "root", "--scope", tree.township_a)
    assert User.objects.unscoped().get(username="root").check_password(PASSWORD)


def test_bare_command_prompts_for_everything(tree, monkeypatch):
    lines = iter(["root", "431102"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    monkeypatch.setattr(create_admin.getpass, "getpass", lambda prompt="": PASSWORD)
    run()
    user = User.objects.unscoped().get(username="root")
    assert (user.role, user.scope_region_id) == (Role.SYSTEM_ADMIN, tree.county)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "431199"], "不存在"),
        (["--scope", "43110"], "长度"),
        (["--scope", "431102100201001"], "村级"),
    ],
)
def test_bad_scope_is_refused(tree, monkeypatch, args, message):
    monkeypatch.setenv(create_admin.PASSWORD_ENV, PASSWORD)
    with pytest.raises(CommandError, match=message):
        run("--username", "root", *args, "--noinput")
    assert not User.objects.unscoped().filter(username="root").exists()


def test_weak_or_missing_password_is_refused(tree, monkeypatch):
    monkeypatch.delenv(create_admin.PASSWORD_ENV, raising=False)
    with pytest.raises(CommandError, match=create_admin.PASSWORD_ENV):
        run("--username", "root", "--scope", "431102", "--noinput")
    monkeypatch.setenv(create_admin.PASSWORD_ENV, "1234567890")
    with pytest.raises(CommandError, match="密码不符合要求"):
        run("--username", "root", "--scope", "431102", "--noinput")
    assert not User.objects.unscoped().exists()


def test_existing_username_is_refused(tree, make_user, monkeypatch):
    make_user(Role.VILLAGE, tree.village_a1, username="Root")
    monkeypatch.setenv(create_admin.PASSWORD_ENV, PASSWORD)
    with pytest.raises(CommandError, match="已存在"):
        run("--username", "root", "--scope", "431102", "--noinput")


def test_scope_or_all_regions_is_required(tree):
    with pytest.raises(CommandError):
        run("--username", "root", "--noinput")


def test_username_is_stored_as_the_login_looks_it_up(tree, monkeypatch):
    # Typed in full width, it was stored as typed and the login (which normalises) could never find it.
    monkeypatch.setenv(create_admin.PASSWORD_ENV, PASSWORD)
    run("--username", "ｒｏｏｔ\u3000", "--scope", "431102", "--noinput")
    assert User.objects.unscoped().get().username == "root"
    with pytest.raises(CommandError, match="已存在"):
        run("--username", "ＲＯＯＴ", "--scope", "431102", "--noinput")
