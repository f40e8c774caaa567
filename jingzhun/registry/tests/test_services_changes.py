"""Household composition changes through the services: history kept, one active household per person,
分户 / 合户 / 变更户主, and every change in the audit trail with its reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.registry import services
from jingzhun.registry.models import (
    HEAD_RELATIONSHIP,
    ChangeKind,
    Household,
    HouseholdChange,
    HouseholdStatus,
    Member,
    MemberStatus,
)
from jingzhun.registry.tests.factories import HouseholdYearFactory, MemberFactory, household_with_members, valid_id
from jingzhun.registry.tests.pages_fixtures import _fresh_policy_cache  # noqa: F401

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 1, 15)


@pytest.fixture
def two_households(tree):
    a = household_with_members(tree.village_a1, size=3)
    b = household_with_members(tree.village_a1, size=2)
    HouseholdYearFactory(household=a, year=dt.date.today().year)
    HouseholdYearFactory(household=b, year=dt.date.today().year)
    return a, b


def _child(h: Household) -> Member:
    child = h.active_members().exclude(relationship__in=[HEAD_RELATIONSHIP, "02"]).first()
    assert child is not None
    return child


def test_add_member_records_reason_change_and_audit_reason(two_households):
    a, _b = two_households
    with audit_context(None, source="test") as ctx:
        newborn = Member(name="张新", sex="1", birth_date=dt.date(2025, 12, 1), relationship="07", education="6")
        assert newborn.birth_date is not None
        newborn.id_number = valid_id(newborn.birth_date, "1")
        services.add_member(a, newborn, reason="2", date=DAY)
    assert (newborn.status, newborn.addition_reason, newborn.addition_date) == (MemberStatus.ACTIVE, "2", DAY)
    change = HouseholdChange.objects.unscoped().get(household=a, kind=ChangeKind.MEMBER_ADDED, member=newborn)
    assert change.reason == "2"
    entry = AuditEntry.objects.get(object_type="registry.member", object_id=str(newborn.pk))
    assert entry.reason == "增加成员：新生"
    assert entry.request_id == ctx.request_id
    assert a.years.get().member_count == 4


def test_removed_member_stays_in_history(two_households):
    a, _b = two_households
    child = _child(a)
    with audit_context(None, source="test"):
        services.remove_member(child, reason="1", date=DAY, note="病故")
    child.refresh_from_db()
    assert (child.status, child.removal_reason, child.removal_date) == (MemberStatus.REMOVED, "1", DAY)
    assert Member.objects.unscoped().filter(pk=child.pk).exists()
    assert a.size() == 2
    assert AuditEntry.objects.filter(object_id=str(child.pk), reason="减少成员：死亡").exists()


def test_head_cannot_be_removed_while_others_remain(two_households):
    a, _b = two_households
    with pytest.raises(ValidationError, match="请先变更户主"):
        services.remove_member(a.head, reason="2", date=DAY)


def test_move_keeps_history_on_both_sides_under_one_request(two_households):
    a, b = two_households
    child = _child(a)
    with audit_context(None, source="test") as ctx:
        moved = services.move_member(child, b, relationship="99", date=DAY, note="投靠亲属")
    child.refresh_from_db()
    assert (child.status, child.removal_reason, child.household_id) == (MemberStatus.REMOVED, "4", a.pk)
    assert (moved.status, moved.household_id, moved.id_number) == (MemberStatus.ACTIVE, b.pk, child.id_number)
    assert moved.addition_reason == "4" and moved.pk != child.pk
    out = HouseholdChange.objects.unscoped().get(household=a, kind=ChangeKind.MEMBER_MOVED)
    into = HouseholdChange.objects.unscoped().get(household=b, kind=ChangeKind.MEMBER_MOVED)
    assert (out.member_id, out.other_household_id) == (child.pk, b.pk)
    assert (into.member_id, into.other_household_id) == (moved.pk, a.pk)
    entries = AuditEntry.objects.filter(request_id=ctx.request_id)
    assert {e.object_type for e in entries} >= {"registry.member", "registry.householdchange"}
    assert {e.object_id for e in entries.filter(object_type="registry.member")} >= {str(child.pk), str(moved.pk)}
    assert all("成员户间迁移" in e.reason for e in entries.filter(object_type="registry.member"))
    assert (a.years.get().member_count, b.years.get().member_count) == (2, 3)


def test_one_person_cannot_be_active_in_two_households_service(two_households):
    a, b = two_households
    twin = Member(name="张大山", sex="1", birth_date=dt.date(1970, 5, 17), relationship="99", education="3")
    twin.id_number = a.head.id_number
    with pytest.raises(ValidationError, match="同一人只能在一个户中"):
        services.add_member(b, twin, reason="9", date=DAY)
    assert not Member.objects.unscoped().filter(household=b, id_number=twin.id_number).exists()


def test_one_person_cannot_be_active_in_two_households_database(two_households):
    a, b = two_households
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(household=b, id_number=a.head.id_number, relationship="99")


def test_removed_rows_may_share_the_number(two_households):
    # History rows (已减少) do not count: a person who left can be registered again elsewhere.
    a, b = two_households
    child = _child(a)
    services.remove_member(child, reason="9", date=DAY)
    again = Member(name=child.name, sex=child.sex, birth_date=child.birth_date, relationship="99", education="4")
    again.id_number = child.id_number
    services.add_member(b, again, reason="9", date=DAY)
    assert Member.objects.unscoped().filter(id_number=child.id_number).count() == 2


def test_split_creates_household_and_keeps_history(two_households):
    a, _b = two_households
    child = _child(a)
    new = services.split_household(
        a, [child], new_head=child, relationships={}, new_number="4311021002019999", date=DAY, note="成家分户"
    )
    child.refresh_from_db()
    assert (child.status, child.removal_reason) == (MemberStatus.REMOVED, "3")
    head = new.active_members().get()
    assert (head.relationship, head.id_number, head.addition_reason) == (HEAD_RELATIONSHIP, child.id_number, "4")
    assert new.village_id == a.village_id and new.status == HouseholdStatus.ACTIVE
    assert new.years.get().member_count == 1 and a.size() == 2
    assert HouseholdChange.objects.unscoped().filter(kind=ChangeKind.SPLIT, household__in=[a, new]).count() == 2


def test_split_refuses_to_take_the_head(two_households):
    a, _b = two_households
    with pytest.raises(ValidationError, match="原户主不能分出"):
        services.split_household(
            a, [a.head], new_head=a.head, relationships={}, new_number="4311021002019998", date=DAY
        )


def test_merge_cancels_source_and_moves_everyone(two_households):
    a, b = two_households
    source_ids = set(b.active_members().values_list("id_number", flat=True))
    relationships = {m.pk: "99" for m in b.active_members()}
    services.merge_households(b, a, relationships=relationships, date=DAY)
    b.refresh_from_db()
    assert b.status == HouseholdStatus.CANCELLED and b.size() == 0
    assert Household.objects.unscoped().filter(pk=b.pk).exists()
    assert source_ids <= set(a.active_members().values_list("id_number", flat=True))
    assert a.size() == 5 and a.years.get().member_count == 5
    assert HouseholdChange.objects.unscoped().filter(kind=ChangeKind.MERGE).count() == 2


def test_change_head(two_households):
    a, _b = two_households
    old_head, spouse = a.head, a.active_members().get(relationship="02")
    services.change_head(a, spouse, relationships={old_head.pk: "02"}, date=DAY)
    old_head.refresh_from_db()
    assert a.head.pk == spouse.pk and old_head.relationship == "02"
    assert AuditEntry.objects.filter(object_id=str(spouse.pk), reason="变更户主").exists()


def test_new_household_numbers_keep_the_villages_width_and_stay_in_the_village(tree):
    from jingzhun.registry.tests.factories import HouseholdFactory

    HouseholdFactory(household_number="431102100201007", village_id="431102100201")  # 3-digit sequence
    HouseholdFactory(household_number="4311021002020031", village_id="431102100202")  # the next village
    numbers = services.NumberAllocator()
    assert [numbers.household("431102100201") for _ in range(2)] == ["431102100201008", "431102100201009"]
    assert numbers.household("431102100202") == "4311021002020032"
    assert numbers.household(tree.village_b1) == f"{tree.village_b1}0001"  # none yet: 4 digits
