"""Fixtures for the household-page tests (imported explicitly by those test modules)."""

from __future__ import annotations

import pytest

from jingzhun.accounts.roles import Role
from jingzhun.policy import services as policy
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    # Code tables and formulas are cached per process; a rolled-back test must not leave its rows cached.
    policy.clear_cache()
    yield
    policy.clear_cache()


@pytest.fixture
def village_user(tree, make_user):
    return make_user(Role.VILLAGE, tree.village_a1)


@pytest.fixture
def other_village_user(tree, make_user):
    return make_user(Role.VILLAGE, tree.village_b1)


@pytest.fixture
def township_user(tree, make_user):
    return make_user(Role.TOWNSHIP, tree.township_a)


@pytest.fixture
def leader(tree, make_user):
    return make_user(Role.LEADER, tree.county)


@pytest.fixture
def household(tree):
    """A 3-person household in 甲一村 with 2024 and 2025 records."""
    h = household_with_members(tree.village_a1, size=3)
    HouseholdYearFactory(household=h, year=2024)
    HouseholdYearFactory(household=h, year=2025)
    return h


@pytest.fixture
def logged_in(client, village_user):
    client.force_login(village_user)
    return client
