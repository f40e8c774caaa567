"""Every create, update and delete of an audited record writes an entry with the right diff."""

from __future__ import annotations

import pytest

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.audit.context import audit_context, audit_reason
from jingzhun.audit.models import Action, AuditEntry, append_entries, entry_row
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind

pytestmark = pytest.mark.django_db


def entries_for(obj_type: str, obj_id: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=obj_type, object_id=obj_id).order_by("id"))


def last_entry() -> AuditEntry:
    return AuditEntry.objects.latest("id")


def test_create_records_every_field_with_no_before(tree):
    flag = RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    e = last_entry()
    assert (e.action, e.object_type, e.object_id) == (Action.CREATE, "regions.regionflag", str(flag.pk))
    assert e.region_code == tree.village_a1
    assert e.object_repr == str(flag)
    assert e.changes == {
        "region": [None, tree.village_a1],
        "flag": [None, "poor_village"],
        "year": [None, 2014],
        "value": [None, True],
        "note": [None, ""],
    }


def test_update_records_only_changed_fields(tree):
    flag = RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    flag = RegionFlag.objects.unscoped().get(pk=flag.pk)
    flag.value = False
    flag.note = "2018年出列"
    flag.save()
    e = last_entry()
    assert e.action == Action.UPDATE
    assert e.changes == {"value": [True, False], "note": ["", "2018年出列"]}


def test_update_of_region_uses_loaded_values_and_ignores_excluded_fields(tree):
    region = Region.objects.unscoped().get(code=tree.village_a1)
    before = AuditEntry.objects.count()
    region.name = "甲一新村"
    region.save()  # updated_at changes too, but is excluded
    assert AuditEntry.objects.count() == before + 1
    e = last_entry()
    assert e.changes == {"name": ["甲一村", "甲一新村"]}
    assert "updated_at" not in e.changes and "created_at" not in e.changes


def test_no_entry_when_nothing_changed(tree):
    region = Region.objects.unscoped().get(code=tree.village_a1)
    before = AuditEntry.objects.count()
    region.save()
    region.name = "甲一村"  # same value
    region.save()
    assert AuditEntry.objects.count() == before


def test_excluded_field_alone_writes_no_entry(tree, make_user):
    user = make_user(Role.VILLAGE, tree.village_a1)
    before = AuditEntry.objects.count()
    User.objects.unscoped().get(pk=user.pk).save(update_fields=["last_login"])
    fresh = User.objects.unscoped().get(pk=user.pk)
    from django.utils import timezone

    fresh.last_login = timezone.now()
    fresh.save()
    assert AuditEntry.objects.count() == before


def test_password_change_is_recorded_masked(tree, make_user):
    user = make_user(Role.VILLAGE, tree.village_a1)
    user = User.objects.unscoped().get(pk=user.pk)
    old_hash = user.password
    user.set_password("another-pass-987654")
    user.save()
    e = last_entry()
    assert e.object_type == "accounts.user" and e.action == Action.UPDATE
    assert set(e.changes) == {"password"}
    before, after = e.changes["password"]
    assert before != after
    # Neither the hash nor anything derived from the password in clear is stored.
    assert old_hash not in str(e.changes) and user.password not in str(e.changes)
    assert "another-pass" not in str(e.changes)


def test_user_create_records_role_and_scope(tree, make_user):
    user = make_user(Role.TOWNSHIP, tree.township_a, username="zhangsan")
    entries = entries_for("accounts.user", str(user.pk))
    assert entries[0].action == Action.CREATE
    assert entries[0].changes["role"] == [None, "township"]
    assert entries[0].changes["scope_region"] == [None, tree.township_a]
    assert entries[0].region_code == tree.township_a
    # The factory sets the password after creating: a second entry, with a digest of the salted hash only.
    passwords = [e.changes["password"] for e in entries if "password" in e.changes]
    assert passwords and all(len(after) == 12 and after != user.password for _before, after in passwords)


def test_delete_records_the_last_values(tree):
    flag = RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    pk = flag.pk
    RegionFlag.objects.unscoped().get(pk=pk).delete()
    e = last_entry()
    assert (e.action, e.object_id, e.region_code) == (Action.DELETE, str(pk), tree.village_a1)
    assert e.changes == {
        "region": [tree.village_a1, None],
        "flag": ["poor_village", None],
        "year": [2014, None],
        "value": [True, None],
        "note": ["", None],
    }


def test_queryset_delete_and_cascades_are_audited(tree):
    group = Region.objects.unscoped().get(code=tree.group_a1)
    f1 = RegionFlag.objects.create(region=group, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    f2 = RegionFlag.objects.create(region=group, flag=RegionFlagKind.RELOCATION_SITE, year=2016)
    with audit_context(None, reason="撤销村民小组"):
        Region.objects.unscoped().filter(code=tree.group_a1).delete()  # flags go by CASCADE
    deleted = AuditEntry.objects.filter(action=Action.DELETE).order_by("id")
    assert {(e.object_type, e.object_id) for e in deleted} == {
        ("regions.regionflag", str(f1.pk)),
        ("regions.regionflag", str(f2.pk)),
        ("regions.region", tree.group_a1),
    }
    assert {e.reason for e in deleted} == {"撤销村民小组"}
    assert len({e.request_id for e in deleted}) == 1


def test_update_fields_limits_the_diff_to_what_was_saved(tree):
    region = Region.objects.unscoped().get(code=tree.village_a1)
    region.name = "改名未保存"
    region.urban_rural_code = "220"
    region.save(update_fields=["urban_rural_code"])
    e = last_entry()
    assert e.changes == {"urban_rural_code": ["", "220"]}
    region.save()  # the name is saved now, and only the name is a change
    assert last_entry().changes == {"name": ["甲一村", "改名未保存"]}


def test_new_instance_with_an_existing_key_is_an_update(tree):
    flag = RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    RegionFlag(pk=flag.pk, region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014, value=False).save()
    e = last_entry()
    assert e.action == Action.UPDATE
    assert e.changes == {"value": [True, False]}


def test_refresh_from_db_resets_the_baseline(tree):
    mine = Region.objects.unscoped().get(code=tree.village_a1)
    theirs = Region.objects.unscoped().get(code=tree.village_a1)
    theirs.name = "别人改的"
    theirs.save()
    mine.refresh_from_db()
    mine.urban_rural_code = "220"
    mine.save()
    assert last_entry().changes == {"urban_rural_code": ["", "220"]}


def test_deferred_fields_are_not_reported_as_changes(tree):
    region = Region.objects.unscoped().only("code", "name").get(code=tree.village_a1)
    region.name = "甲一新村"
    region.save()
    assert last_entry().changes == {"name": ["甲一村", "甲一新村"]}


def test_reason_and_actor_come_from_the_context(tree, make_user):
    actor = make_user(Role.COUNTY_ADMIN, tree.county, username="wangwu")
    region = Region.objects.unscoped().get(code=tree.village_a1)
    with audit_context(actor, source="command"), audit_reason("根据民政局文件更名"):
        region.name = "甲一新村"
        region.save()
    e = last_entry()
    assert (e.actor_id, e.actor_username, e.source, e.reason) == (actor.pk, "wangwu", "command", "根据民政局文件更名")


def test_bulk_path_appends_with_entry_row(tree):
    regions = list(Region.objects.unscoped().filter(code__in=[tree.village_a1, tree.village_a2]))
    with audit_context(None, source="import"):
        append_entries([entry_row(r, Action.UPDATE, {"name": [r.name, r.name + "（新）"]}) for r in regions])
    last_two = list(AuditEntry.objects.order_by("-id")[:2])
    assert {e.object_id for e in last_two} == {tree.village_a1, tree.village_a2}
    assert len({e.request_id for e in last_two}) == 1


def test_values_are_stored_in_a_hash_stable_form(tree):
    with audit_context(None):
        entry_id = append_entries(
            [
                {
                    "action": Action.UPDATE,
                    "object_type": "regions.region",
                    "object_id": tree.village_a1,
                    "changes": {"ratio": [0.1, 1e16], "when": [None, __import__("datetime").date(2020, 1, 2)]},
                }
            ]
        )[0]
    stored = AuditEntry.objects.get(pk=entry_id)
    assert stored.changes == {"ratio": ["0.1", "1e+16"], "when": [None, "2020-01-02"]}
    assert stored.compute_hash() == stored.hash
