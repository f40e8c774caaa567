"""Shared fixtures: a small region tree and one user per role, built with factories."""

from __future__ import annotations

import pytest

from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import UserFactory
from jingzhun.regions.testing import RegionTree, build_region_tree


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is the production hasher (tested in accounts); tests elsewhere hash quickly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_anchor_dir(settings, tmp_path, monkeypatch):
    # Audit anchors are written daily and after imports: a test never touches a real anchor file, and
    # verify_audit reads only the anchors this test wrote.
    from jingzhun.audit.anchors import ANCHOR_DIR_ENV

    monkeypatch.delenv(ANCHOR_DIR_ENV, raising=False)
    settings.VAR_DIR = tmp_path


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    # Test transactions roll back policy rows without signals; never let one test see another's cache.
    from jingzhun.policy import services

    services.clear_cache()
    yield
    services.clear_cache()


@pytest.fixture
def tree(db) -> RegionTree:
    return build_region_tree()


@pytest.fixture
def make_user(db):
    def _make(role: str = Role.VILLAGE, scope: str | None = None, **kwargs):
        return UserFactory(role=role, scope_region_id=scope, **kwargs)

    return _make


@pytest.fixture
def county_admin(tree, make_user):
    return make_user(Role.COUNTY_ADMIN, tree.county)


@pytest.fixture
def system_admin(tree, make_user):
    return make_user(Role.SYSTEM_ADMIN, tree.county)
