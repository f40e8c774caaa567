"""Passwords are stored with Argon2 under the production settings."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from pytest_django.fixtures import Settings

from jingzhun import settings as project_settings
from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import TEST_PASSWORD


@pytest.fixture
def production_hashers(settings: Settings) -> None:
    # conftest switches every test to MD5 for speed; these tests need the real configuration back.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def test_argon2_is_the_preferred_hasher():
    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_new_passwords_are_stored_as_argon2(production_hashers, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(TEST_PASSWORD)


def test_password_set_by_an_administrator_is_argon2(production_hashers, client, county_admin, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(county_admin)
    new = "Zhunque-2024-xyz"
    client.post(reverse("accounts:user_password", args=[user.pk]), {"new_password1": new, "new_password2": new})
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.check_password(new)


def test_older_hash_is_upgraded_to_argon2_at_login(production_hashers, client, make_user, tree):
    user = make_user(Role.VILLAGE, tree.village_a1, username="legacy")
    user.password = make_password(TEST_PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    response = client.post(reverse("accounts:login"), {"username": "legacy", "password": TEST_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
