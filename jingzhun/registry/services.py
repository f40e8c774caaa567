"""Household changes (新生, 婚入, 死亡, 婚出, 分户, 合户 …) as transactions: the data, a HouseholdChange
record with the reason, and the audit trail (through AuditedModel) all commit together or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Length
from django.utils.translation import gettext

from jingzhun.audit.context import audit_reason
from jingzhun.core.scope import can_see_code, code_prefix_q
from jingzhun.policy import services as policy
from jingzhun.policy.income import compute_income
from jingzhun.registry.idcard import normalize_identifier, person_key
from jingzhun.registry.models import (
    HEAD_RELATIONSHIP,
    ChangeKind,
    Household,
    HouseholdChange,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberStatus,
)


def apply_income_formula(record: HouseholdYear, *, refresh_members: bool | None = None) -> None:
    """Fill the derived figures of a yearly record from its components and the formula for its year.

    The member count is refreshed from the household for the current year (or when asked); earlier years
    keep the count they were saved with, so a past year reproduces after later member changes.
    """
    if refresh_members is None:
        refresh_members = record.member_count == 0 or record.year >= dt.date.today().year
    if refresh_members:
        record.member_count = record.household.size()
    spec = policy.formula_for(record.year, record.household.village_id)
    result = compute_income(record.income_components(), record.member_count, spec)
    record.total_income = result.total_income
    record.net_income = result.net_income
    record.per_capita_net_income = result.per_capita_net_income


def save_year(record: HouseholdYear, **kwargs: Any) -> HouseholdYear:
    apply_income_formula(record, **kwargs)
    record.save()
    return record


def refresh_current_year(household: Household) -> None:
    """After a composition change, the latest yearly record's size and per-capita income follow it."""
    latest = household.years.order_by("-year").first()
    if latest is not None and latest.year >= dt.date.today().year - 1:
        save_year(latest, refresh_members=True)


class NumberAllocator:
    """New 户编号 (village code + a sequence, as wide as the village's numbers already are, else 4 digits)
    and 人编号 (户编号 + a 2-digit sequence). One query per village or household; the numbers handed out
    are remembered, so an import can allocate thousands without asking again."""

    VILLAGE_CODE = 12

    def __init__(self) -> None:
        self._households: dict[str, tuple[int, int]] = {}  # village → (width, next sequence)
        self._members: dict[str, int] = {}  # 户编号 → next sequence

    def household(self, village_id: str) -> str:
        if village_id not in self._households:
            self._households[village_id] = self._village_sequence(village_id)
        width, seq = self._households[village_id]
        self._households[village_id] = (width, seq + 1)
        return f"{village_id}{seq:0{width}d}"

    def _village_sequence(self, village_id: str) -> tuple[int, int]:
        # The longest numbers first: "…00029" (17 digits) must win over a stray "…0005", which sorts
        # higher as text.
        last = (
            Household.objects.unscoped()
            .filter(code_prefix_q("household_number", village_id))
            .annotate(length=Length("household_number"))
            .order_by("-length", "-household_number")
            .values_list("household_number", flat=True)
            .first()
        )
        suffix = (last or "")[self.VILLAGE_CODE :]
        if suffix.isdigit():
            return len(suffix), int(suffix) + 1
        return 4, 1

    def member(self, household_number: str, last_member_number: str) -> str:
        """The next 人编号 in the household; ``last_member_number`` is its highest so far ("" if none),
        read once per household by the caller (an import reads them all in one query)."""
        if household_number not in self._members:
            last = last_member_number
            self._members[household_number] = int(last[-2:]) + 1 if last[-2:].isdigit() else 1
        seq = self._members[household_number]
        self._members[household_number] = seq + 1
        return f"{household_number}{seq:02d}"


def next_household_number(village_id: str) -> str:
    """A free 户编号 in the village (for one new household)."""
    numbers = NumberAllocator()
    number = numbers.household(village_id)
    while Household.objects.unscoped().filter(household_number=number).exists():
        number = numbers.household(village_id)
    return number


def next_member_number(household: Household) -> str:
    """A free 人编号 in the household (for one new member)."""
    numbers = NumberAllocator()
    last = Member.objects.unscoped().filter(household=household).aggregate(m=Max("member_number"))["m"] or ""
    number = numbers.member(household.household_number, last)
    while Member.objects.unscoped().filter(member_number=number).exists():
        number = numbers.member(household.household_number, last)
    return number


def same_person_q(id_number: str) -> Q:
    """The rows of the person behind a normalised ``id_number``: the same first 18 characters (the ID, and
    every 残疾人证号 built on it), as an index range (a LIKE would not use the index). A shorter number (an
    other document) is only itself, as in the database constraint member_one_active_person."""
    key = person_key(id_number)
    if len(key) < 18:
        return Q(id_number=id_number)
    return Q(id_number__gte=key, id_number__lte=key + "9999")


def active_elsewhere(id_number: str, exclude_member: Member | None = None) -> Member | None:
    """The person's active membership other than ``exclude_member``, if any (one person, one household)."""
    clash = Member.objects.unscoped().filter(same_person_q(normalize_identifier(id_number)), status=MemberStatus.ACTIVE)
    if exclude_member is not None and exclude_member.pk:
        clash = clash.exclude(pk=exclude_member.pk)
    return clash.select_related("household").order_by("pk").first()


def clash_message(other: Member, user: Any | None) -> str:
    """Why a number is refused. Only a user whose scope holds the other membership learns who and where;
    anyone else is told that the person is registered elsewhere, not in which household (no existence
    oracle for names and households outside the scope). Without a user, nothing is named."""
    if user is None:
        return gettext("该证件号码已在其他户中在册，同一人只能在一个户中")
    if not can_see_code(user, other.village_code):
        return gettext("该证件号码已在其他地区在册，请联系县级管理员")
    return gettext("证件号码 %(id)s 已在户 %(hh)s（%(name)s）中在册，同一人只能在一个户中") % {
        "id": other.id_number,
        "hh": other.household.household_number,
        "name": other.name,
    }


def ensure_not_active_elsewhere(id_number: str, exclude_member: Member | None = None) -> None:
    """The services' own check (the forms report the clash with the user's scope first)."""
    other = active_elsewhere(id_number, exclude_member)
    if other is not None:
        raise ValidationError({"id_number": clash_message(other, None)})


@transaction.atomic
def add_member(household: Household, member: Member, *, reason: str, date: dt.date, note: str = "") -> Member:
    """新生 / 婚入 / 其他迁入: add ``member`` (unsaved) to ``household``."""
    if household.status != HouseholdStatus.ACTIVE:
        raise ValidationError("已注销的户不能增加成员")
    ensure_not_active_elsewhere(member.id_number)
    member.household = household
    member.status = MemberStatus.ACTIVE
    member.addition_reason = reason
    member.addition_date = date
    if not member.member_number:
        member.member_number = next_member_number(household)
    with audit_reason(f"增加成员：{policy.label('member_addition', reason)}"):
        member.save()
        HouseholdChange.objects.create(
            household=household, kind=ChangeKind.MEMBER_ADDED, member=member, reason=reason, date=date, note=note
        )
        refresh_current_year(household)
    return member


@transaction.atomic
def remove_member(member: Member, *, reason: str, date: dt.date, note: str = "") -> Member:
    """死亡 / 婚出 / 其他迁出: the member stays in history with status 已减少.

    When the last member leaves, the household is 注销 (cancelled, kept) in the same transaction.
    """
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError("该成员已不在户内")
    if member.relationship == HEAD_RELATIONSHIP and member.household.active_members().count() > 1:
        raise ValidationError("请先变更户主，再减少原户主")
    member.status = MemberStatus.REMOVED
    member.removal_reason = reason
    member.removal_date = date
    with audit_reason(f"减少成员：{policy.label('member_removal', reason)}"):
        member.save()
        HouseholdChange.objects.create(
            household=member.household,
            kind=ChangeKind.MEMBER_REMOVED,
            member=member,
            reason=reason,
            date=date,
            note=note,
        )
        refresh_current_year(member.household)
        if not member.household.active_members().exists():
            _cancel_household(member.household, date)
    return member


def _cancel_household(household: Household, date: dt.date) -> None:
    with audit_reason(gettext("户内成员全部减少，注销该户")):
        household.status = HouseholdStatus.CANCELLED
        household.save()
        HouseholdChange.objects.create(household=household, kind=ChangeKind.CANCELLED, date=date)


@transaction.atomic
def move_member(member: Member, target: Household, *, relationship: str, date: dt.date, note: str = "") -> Member:
    """户间迁移: the old membership is closed (kept in history) and a new member row opens in ``target``."""
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError("该成员已不在户内")
    if target.pk == member.household_id:
        raise ValidationError("目标户与原户相同")
    if member.relationship == HEAD_RELATIONSHIP and member.household.active_members().count() > 1:
        raise ValidationError("请先变更户主，再迁出原户主")
    source = member.household
    # Each side's entries name only their own household: the two may lie in different counties, and an
    # audit reader of one must not learn the other's number (the request id links the two sides).
    with audit_reason(gettext("成员户间迁移：迁出")):
        member.status = MemberStatus.REMOVED
        member.removal_reason = "4"
        member.removal_date = date
        member.save()
        HouseholdChange.objects.create(
            household=source,
            kind=ChangeKind.MEMBER_MOVED,
            member=member,
            other_household=target,
            reason="4",
            date=date,
            note=note,
        )
        refresh_current_year(source)
    with audit_reason(gettext("成员户间迁移：迁入")):
        moved = _copy_member(member, target, relationship, addition_reason="4", date=date)
        HouseholdChange.objects.create(
            household=target,
            kind=ChangeKind.MEMBER_MOVED,
            member=moved,
            other_household=source,
            reason="4",
            date=date,
            note=note,
        )
        refresh_current_year(target)
    return moved


def _copy_member(
    member: Member, target: Household, relationship: str, *, addition_reason: str, date: dt.date
) -> Member:
    copy = Member.objects.unscoped().get(pk=member.pk)
    copy.pk = None
    copy._state.adding = True
    copy.household = target
    copy.member_number = next_member_number(target)
    copy.relationship = relationship
    copy.status = MemberStatus.ACTIVE
    copy.addition_reason = addition_reason
    copy.addition_date = date
    copy.removal_reason = ""
    copy.removal_date = None
    copy.save()
    return copy


@transaction.atomic
def change_head(household: Household, new_head: Member, *, relationships: dict[int, str], date: dt.date) -> None:
    """变更户主: ``relationships`` gives every other active member's new 与户主关系 (by member id)."""
    if new_head.household_id != household.pk or new_head.status != MemberStatus.ACTIVE:
        raise ValidationError("新户主必须是本户在户成员")
    with audit_reason("变更户主"):
        for m in household.active_members().exclude(pk=new_head.pk):
            m.relationship = relationships.get(m.pk, "99")
            m.save()
        new_head.relationship = HEAD_RELATIONSHIP
        new_head.save()
        HouseholdChange.objects.create(household=household, kind=ChangeKind.HEAD_CHANGED, member=new_head, date=date)


@transaction.atomic
def split_household(
    household: Household,
    members: Iterable[Member],
    *,
    new_head: Member,
    relationships: dict[int, str],
    new_number: str,
    date: dt.date,
    note: str = "",
) -> Household:
    """分户: the chosen members leave ``household`` for a new household headed by ``new_head``."""
    members = list(members)
    if new_head not in members:
        raise ValidationError("新户户主必须在分出的成员中")
    remaining = household.active_members().exclude(pk__in=[m.pk for m in members])
    if not remaining.exists():
        raise ValidationError("分户后原户不能没有成员")
    if not remaining.filter(relationship=HEAD_RELATIONSHIP).exists():
        raise ValidationError("原户主不能分出；请先变更户主")
    with audit_reason(f"分户：自 {household.household_number} 分出 {new_number}"):
        new_household = Household.objects.unscoped().get(pk=household.pk)
        new_household.pk = None
        new_household._state.adding = True
        new_household.household_number = new_number
        new_household.save()
        for m in members:
            m.status = MemberStatus.REMOVED
            m.removal_reason = "3"
            m.removal_date = date
            m.save()
            rel = HEAD_RELATIONSHIP if m.pk == new_head.pk else relationships.get(m.pk, "99")
            _copy_member(m, new_household, rel, addition_reason="4", date=date)
        copy = household.years.order_by("-year").first()  # a fresh instance: becomes the new household's record
        if copy is not None:
            copy.pk = None
            copy._state.adding = True
            copy.household = new_household
            save_year(copy, refresh_members=True)
        HouseholdChange.objects.create(
            household=household, kind=ChangeKind.SPLIT, other_household=new_household, date=date, note=note
        )
        HouseholdChange.objects.create(
            household=new_household, kind=ChangeKind.SPLIT, other_household=household, date=date, note=note
        )
        refresh_current_year(household)
    return new_household


@transaction.atomic
def merge_households(source: Household, target: Household, *, relationships: dict[int, str], date: dt.date) -> None:
    """合户: every active member of ``source`` joins ``target``; ``source`` is cancelled (注销), not deleted."""
    if source.pk == target.pk:
        raise ValidationError("不能与自身合户")
    with audit_reason(f"合户：{source.household_number} 并入 {target.household_number}"):
        for m in list(source.active_members()):
            m.status = MemberStatus.REMOVED
            m.removal_reason = "4"
            m.removal_date = date
            m.save()
            _copy_member(m, target, relationships.get(m.pk, "99"), addition_reason="4", date=date)
        source.status = HouseholdStatus.CANCELLED
        source.save()
        HouseholdChange.objects.create(household=source, kind=ChangeKind.MERGE, other_household=target, date=date)
        HouseholdChange.objects.create(household=target, kind=ChangeKind.MERGE, other_household=source, date=date)
        refresh_current_year(target)
