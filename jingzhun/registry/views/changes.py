"""The composition changes of a household (domain §2.6): 增加 / 减少成员, 户间迁移, 分户, 合户, 变更户主.

Each page is one ``household_change``: the form, then the service call through the data-quality gate, then a
message and the page to go to. The history stays: a member who leaves is kept as 已减少, a household merged
away is cancelled (注销), never deleted.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import require_write
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.registry import services
from jingzhun.registry.forms import (
    ChangeHeadForm,
    HouseholdMergeForm,
    HouseholdSplitForm,
    MemberAddForm,
    MemberMoveForm,
    MemberRemoveForm,
)
from jingzhun.registry.models import Household, HouseholdStatus, Member
from jingzhun.registry.views.editing import Change, household_change, household_for_write, member_for_write

MEMBER_TEMPLATE = "registry/member_change_form.html"
HOUSEHOLD_TEMPLATE = "registry/household_change_form.html"


def _to_household(household: Household) -> HttpResponse:
    return redirect("registry:household_detail", pk=household.pk)


@requires(Capability.EDIT)
def member_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """增加成员 (新生 / 婚入 / 其他迁入) through services.add_member."""
    household = household_for_write(request, pk)

    def change(form: MemberAddForm) -> Change[Member]:
        data = form.cleaned_data

        def done(member: Member) -> HttpResponse:
            messages.success(request, _("已增加成员 %(name)s") % {"name": member.name})
            return _to_household(household)

        return Change(
            lambda: services.add_member(
                household, form.save(commit=False), reason=data["reason"], date=data["date"], note=data["note"]
            ),
            lambda m: [household],
            done,
        )

    return household_change(
        request,
        household,
        lambda data: MemberAddForm(data, household=household, user=request.user),
        change,
        template="registry/member_form.html",
        context={"creating": True},
    )


@requires(Capability.EDIT)
def member_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """减少成员 (死亡 / 婚出 / 其他迁出): the row stays as 已减少 with reason and date; the service cancels
    (注销) the household when the last member leaves."""
    member = member_for_write(request, pk)
    household = member.household

    def change(form: MemberRemoveForm) -> Change[Member]:
        data = form.cleaned_data

        def done(removed: Member) -> HttpResponse:
            messages.success(request, _("已减少成员 %(name)s") % {"name": member.name})
            if household.status != HouseholdStatus.ACTIVE:
                messages.warning(request, _("该户已无在户成员，已注销"))
            return _to_household(household)

        return Change(
            lambda: services.remove_member(member, reason=data["reason"], date=data["date"], note=data["note"]),
            lambda m: [household],
            done,
        )

    return household_change(
        request,
        household,
        lambda data: MemberRemoveForm(data, member=member),
        change,
        template=MEMBER_TEMPLATE,
        context={"title": _("减少成员"), "intro": _("减少后该成员保留在户档案中（状态为“已减少”），不会删除。")},
        member=member,
    )


@requires(Capability.EDIT)
def member_move(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """成员户间迁移: closed here (kept in history), opened in the target household."""
    member = member_for_write(request, pk)
    household = member.household

    def change(form: MemberMoveForm) -> Change[Member]:
        data = form.cleaned_data
        target: Household = data["target_number"]
        require_write(request.user, target.village_id)

        def done(moved: Member) -> HttpResponse:
            messages.success(
                request, _("%(name)s 已迁入户 %(n)s") % {"name": member.name, "n": target.household_number}
            )
            return _to_household(household)

        return Change(
            lambda: services.move_member(
                member, target, relationship=data["relationship"], date=data["date"], note=data["note"]
            ),
            lambda m: [household, target],
            done,
        )

    return household_change(
        request,
        household,
        lambda data: MemberMoveForm(data, member=member, user=request.user),
        change,
        template=MEMBER_TEMPLATE,
        context={
            "title": _("成员户间迁移"),
            "intro": _("该成员在本户的记录保留为“已减少（户间迁出）”，并在目标户新增一条在户记录。"),
        },
        member=member,
    )


@requires(Capability.EDIT)
def household_split(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = household_for_write(request, pk)

    def change(form: HouseholdSplitForm) -> Change[Household]:
        data = form.cleaned_data
        chosen = form.chosen_members()

        def done(new_household: Household) -> HttpResponse:
            messages.success(request, _("分户完成，新户户编号 %(n)s") % {"n": new_household.household_number})
            return _to_household(new_household)

        return Change(
            lambda: services.split_household(
                household,
                chosen,
                new_head=next(m for m in chosen if m.pk == data["new_head"]),
                relationships=form.relationships(),
                new_number=data["new_number"] or services.next_household_number(household.village_id),
                date=data["date"],
                note=data["note"],
            ),
            lambda h: [household, h],
            done,
        )

    return household_change(
        request,
        household,
        lambda data: HouseholdSplitForm(data, household=household),
        change,
        template=HOUSEHOLD_TEMPLATE,
        context={
            "title": _("分户"),
            "intro": _("选中的成员从本户分出，组成同村的新户；他们在本户的记录保留为“已减少（分户）”。"),
        },
    )


@requires(Capability.EDIT)
def household_merge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = household_for_write(request, pk)

    def change(form: HouseholdMergeForm) -> Change[Household]:
        data = form.cleaned_data
        target: Household = data["target_number"]
        require_write(request.user, target.village_id)

        def write() -> Household:
            services.merge_households(household, target, relationships=form.relationships(), date=data["date"])
            return target

        def done(merged_into: Household) -> HttpResponse:
            messages.success(
                request,
                _("户 %(a)s 已并入户 %(b)s，原户已注销")
                % {"a": household.household_number, "b": target.household_number},
            )
            return _to_household(target)

        return Change(write, lambda t: [target], done)

    return household_change(
        request,
        household,
        lambda data: HouseholdMergeForm(data, household=household, user=request.user),
        change,
        template=HOUSEHOLD_TEMPLATE,
        context={"title": _("合户"), "intro": _("本户全部在户成员并入目标户，本户注销（档案保留）。")},
    )


@requires(Capability.EDIT)
def household_change_head(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = household_for_write(request, pk)

    def change(form: ChangeHeadForm) -> Change[Household]:
        data = form.cleaned_data
        new_head = next(m for m in form.members if m.pk == data["new_head"])

        def write() -> Household:
            services.change_head(household, new_head, relationships=form.relationships(), date=data["date"])
            return household

        def done(changed: Household) -> HttpResponse:
            messages.success(request, _("户主已变更为 %(name)s") % {"name": new_head.name})
            return _to_household(household)

        return Change(write, lambda h: [household], done)

    return household_change(
        request,
        household,
        lambda data: ChangeHeadForm(data, household=household),
        change,
        template=HOUSEHOLD_TEMPLATE,
        context={"title": _("变更户主"), "intro": _("选择新户主，并重新填写其他成员与新户主的关系。")},
    )
