"""人: one person's record (人有卡, with the same person's rows in other households) and the member form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import get_visible_or_404
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.registry.filters import id_variants
from jingzhun.registry.forms import MemberForm
from jingzhun.registry.idcard import age_on
from jingzhun.registry.models import HouseholdStatus, Member, MemberStatus
from jingzhun.registry.versions import versioned
from jingzhun.registry.views.common import (
    MEMBER_PERSONAL_DATA,
    NAV,
    disclosure_context,
    page_disclosure,
    personal_data_page,
    today,
    with_other_visibility,
)
from jingzhun.registry.views.editing import member_for_write, refuse_cancelled, save_checked


@personal_data_page
def member_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """人有卡: one person's record, with the same person's rows in other households (迁移 history); a POST
    shows the personal data in full, logged."""
    member: Member = get_visible_or_404(
        Member.objects.select_related("household__village__parent", "household__group"), request.user, pk=pk
    )
    other_rows = list(
        Member.objects.visible_to(request.user)
        .filter(id_number__in=id_variants(member.id_number))
        .exclude(pk=member.pk)
        .select_related("household")
        .order_by("addition_date", "pk")
    )
    changes = with_other_visibility(
        list(member.changes.select_related("household", "other_household").order_by("-date", "-id")), request.user
    )
    return render(
        request,
        "registry/member_detail.html",
        {
            "member": member,
            "household": member.household,
            "age": age_on(member.birth_date, today()) if member.birth_date else None,
            "other_rows": other_rows,
            "changes": changes,
            "can_edit": request.user.can_write
            and member.status == MemberStatus.ACTIVE
            and member.household.status == HouseholdStatus.ACTIVE,
            "active_nav": NAV,
            **disclosure_context(request, page_disclosure(request, "成员信息", [(member, MEMBER_PERSONAL_DATA)])),
        },
    )


@requires(Capability.EDIT)
def member_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    member = member_for_write(request, pk)
    household = member.household
    if (refused := refuse_cancelled(request, household)) is not None:
        return refused
    if member.status != MemberStatus.ACTIVE:
        messages.error(request, _("已减少的成员是历史记录，不能修改"))
        return redirect("registry:member_detail", pk=member.pk)
    form = MemberForm(request.POST or None, instance=member, household=household, user=request.user)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data.get("audit_note") or _("修改成员信息")
        if save_checked(request, form, versioned(form, form.save), lambda m: [household], note=note) is not None:
            messages.success(request, _("成员 %(name)s 的信息已保存") % {"name": member.name})
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/member_form.html",
        {"form": form, "household": household, "member": member, "creating": False, "active_nav": NAV},
    )
