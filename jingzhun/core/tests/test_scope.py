"""The one scope mechanism: ``visible_to`` for lists, ``get_visible_or_404`` / ``require_write`` for one record."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.core.scope import can_see_code, code_prefix_q, get_visible_or_404, require_write, user_scope_prefix
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind


def visible_codes(user) -> set[str]:
    return set(Region.objects.visible_to(user).values_list("code", flat=True))


def test_village_user_sees_only_its_village_and_groups(tree, make_user):
    user = make_user(Role.VILLAGE, tree.village_a1)
    assert visible_codes(user) == {tree.village_a1, tree.group_a1}


def test_helper_sees_only_its_village(tree, make_user):
    user = make_user(Role.HELPER, tree.village_b1)
    assert visible_codes(user) == {tree.village_b1}


def test_township_user_sees_all_its_villages_and_nothing_of_the_neighbour_township(tree, make_user):
    user = make_user(Role.TOWNSHIP, tree.township_a)
    assert visible_codes(user) == {tree.township_a, tree.village_a1, tree.village_a2, tree.group_a1}


@pytest.mark.parametrize("role", [Role.COUNTY_ADMIN, Role.LEADER, Role.AUDITOR, Role.SYSTEM_ADMIN])
def test_county_level_users_see_the_whole_county_only(tree, make_user, role):
    user = make_user(role, tree.county)
    codes = visible_codes(user)
    assert set(tree.villages) | {tree.county, tree.township_a, tree.township_b, tree.group_a1} == codes
    # Neither the county next door nor the city and province above.
    assert tree.other_county not in codes
    assert tree.other_village not in codes
    assert tree.city not in codes
    assert tree.province not in codes


def test_system_admin_without_region_sees_everything(tree, make_user):
    user = make_user(Role.SYSTEM_ADMIN, None)
    assert user_scope_prefix(user) == ""
    assert visible_codes(user) == set(Region.objects.unscoped().values_list("code", flat=True))


def test_non_admin_without_region_sees_nothing(tree, make_user):
    # A missing scope is "nothing", never "everything", for every role but 系统管理员.
    for role in (Role.COUNTY_ADMIN, Role.LEADER, Role.AUDITOR, Role.TOWNSHIP, Role.VILLAGE, Role.HELPER):
        user = make_user(role, None)
        assert user_scope_prefix(user) is None
        assert visible_codes(user) == set()


def test_inactive_user_sees_nothing(tree, make_user):
    for user in (make_user(Role.COUNTY_ADMIN, tree.county, is_active=False), make_user(Role.SYSTEM_ADMIN, None)):
        user.is_active = False
        assert visible_codes(user) == set()


def test_anonymous_sees_nothing(tree):
    assert visible_codes(AnonymousUser()) == set()
    assert visible_codes(None) == set()


def test_scope_follows_other_scoped_models(tree, make_user):
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    RegionFlag.objects.create(region_id=tree.other_village, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    county = make_user(Role.COUNTY_ADMIN, tree.county)
    assert list(RegionFlag.objects.visible_to(county).values_list("region_id", flat=True)) == [tree.village_a1]
    township_b = make_user(Role.TOWNSHIP, tree.township_b)
    assert not RegionFlag.objects.visible_to(township_b).exists()


def test_users_are_scoped_like_any_record(tree, make_user):
    county = make_user(Role.COUNTY_ADMIN, tree.county)
    in_village = make_user(Role.VILLAGE, tree.village_b2)
    other = make_user(Role.VILLAGE, tree.other_village)
    unlimited = make_user(Role.SYSTEM_ADMIN, None)
    visible = set(User.objects.visible_to(county))
    assert {county, in_village} <= visible
    assert other not in visible
    assert unlimited not in visible  # a user without a region is above every county
    assert set(User.objects.visible_to(unlimited)) == set(User.objects.unscoped().all())


def test_prefix_range_is_exact_at_digit_boundaries(tree):
    # 431102 must not match 4311020… of another length nor 431103; a prefix ending in 9 carries over.
    Region.objects.create(code="431102199000", name="九九乡")
    Region.objects.create(code="431102200000", name="二百乡")
    within = set(Region.objects.unscoped().filter(code_prefix_q("code", "431102199")).values_list("code", flat=True))
    assert within == {"431102199000"}
    assert Region.objects.unscoped().filter(code_prefix_q("code", "")).count() == Region.objects.unscoped().count()


def test_get_visible_or_404(tree, make_user):
    user = make_user(Role.TOWNSHIP, tree.township_a)
    assert get_visible_or_404(Region.objects.unscoped().all(), user, code=tree.village_a2).code == tree.village_a2
    with pytest.raises(Http404):
        get_visible_or_404(Region.objects.unscoped().all(), user, code=tree.village_b1)  # neighbour township
    with pytest.raises(Http404):
        get_visible_or_404(Region.objects.unscoped().all(), user, code=tree.county)  # above the user's scope
    user.is_active = False
    with pytest.raises(Http404):
        get_visible_or_404(Region.objects.unscoped().all(), user, code=tree.village_a2)


def test_get_visible_or_404_on_users(tree, make_user, county_admin):
    other = make_user(Role.VILLAGE, tree.other_village)
    mine = make_user(Role.VILLAGE, tree.village_a1)
    assert get_visible_or_404(User.objects.unscoped().all(), county_admin, pk=mine.pk) == mine
    with pytest.raises(Http404):
        get_visible_or_404(User.objects.unscoped().all(), county_admin, pk=other.pk)


@pytest.mark.parametrize("role", [Role.LEADER, Role.AUDITOR])
def test_read_only_roles_cannot_write_even_in_scope(tree, make_user, role):
    user = make_user(role, tree.county)
    assert can_see_code(user, tree.village_a1)
    with pytest.raises(PermissionDenied, match="只读"):
        require_write(user, tree.village_a1)


@pytest.mark.parametrize(
    ("role", "scope", "allowed", "refused"),
    [
        (Role.VILLAGE, "village_a1", ["village_a1", "group_a1"], ["village_a2", "township_a", "other_village"]),
        (Role.HELPER, "village_a1", ["village_a1"], ["village_b1"]),
        (Role.TOWNSHIP, "township_a", ["township_a", "village_a2"], ["village_b1", "county"]),
        (Role.COUNTY_ADMIN, "county", ["county", "village_b2"], ["other_county", "other_village", "city"]),
        (Role.SYSTEM_ADMIN, "county", ["village_a1"], ["other_village"]),
    ],
)
def test_writes_inside_scope_only(tree, make_user, role, scope, allowed, refused):
    user = make_user(role, getattr(tree, scope))
    for name in allowed:
        require_write(user, getattr(tree, name))
    for name in refused:
        with pytest.raises(PermissionDenied, match="管辖范围"):
            require_write(user, getattr(tree, name))


def test_unlimited_system_admin_writes_anywhere(tree, make_user):
    user = make_user(Role.SYSTEM_ADMIN, None)
    require_write(user, tree.other_village)
    require_write(user, tree.province)


def test_inactive_or_anonymous_cannot_write(tree, make_user):
    user = make_user(Role.COUNTY_ADMIN, tree.county)
    user.is_active = False
    with pytest.raises(PermissionDenied):
        require_write(user, tree.village_a1)
    with pytest.raises(PermissionDenied):
        require_write(AnonymousUser(), tree.village_a1)


def test_record_without_region_is_outside_every_limited_scope(tree, make_user):
    user = make_user(Role.COUNTY_ADMIN, tree.county)
    with pytest.raises(PermissionDenied):
        require_write(user, "")
