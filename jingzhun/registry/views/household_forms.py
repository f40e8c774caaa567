"""The 户 forms: 登记新户 (household, head and first yearly record together), 户信息 and 户年度信息."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from jingzhun.core.access import Capability, requires
from jingzhun.core.scope import require_write
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.policy import services as policy
from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS
from jingzhun.registry import services
from jingzhun.registry.filters import FIRST_YEAR, year_range
from jingzhun.registry.forms import REGISTRATION_REASON, HouseholdForm, HouseholdYearForm, MemberForm
from jingzhun.registry.models import HEAD_RELATIONSHIP, Household, HouseholdYear
from jingzhun.registry.versions import versioned
from jingzhun.registry.views.common import NAV, today
from jingzhun.registry.views.editing import (
    Change,
    household_change,
    household_for_write,
    refuse_cancelled,
    save_checked,
)


@requires(Capability.EDIT)
def household_create(request: AuthenticatedRequest) -> HttpResponse:
    """登记新户: the household, its head (增加原因 建档立卡) and the first yearly record, saved together."""
    user = request.user
    year = _posted_year(request)
    data = request.POST if request.method == "POST" else None
    initial_village = request.GET.get("village") or None
    hh_form = HouseholdForm(data, prefix="hh", user=user, initial={"village": initial_village})
    head_form = MemberForm(
        data, prefix="head", household=Household(), user=user, initial={"relationship": HEAD_RELATIONSHIP}
    )
    head_form.fields["relationship"].disabled = True
    year_form = HouseholdYearForm(data, prefix="yr", year=year)
    if data is not None and all([hh_form.is_valid(), head_form.is_valid(), year_form.is_valid()]):
        require_write(user, hh_form.cleaned_data["village"].code)

        def write() -> Household:
            household = hh_form.save()
            head = head_form.save(commit=False)
            services.add_member(household, head, reason=REGISTRATION_REASON, date=today())
            record = year_form.save(commit=False)
            record.household, record.year = household, year
            services.save_year(record)
            return household

        household = save_checked(request, hh_form, write, lambda h: [h], note=_("登记新户"))
        if household is not None:
            messages.success(request, _("已登记新户 %(n)s") % {"n": household.household_number})
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/household_form.html",
        {
            "form": hh_form,
            "head_form": head_form,
            "year_form": year_form,
            "record_year": year,
            "years": year_range(),
            "creating": True,
            "active_nav": NAV,
        },
    )


def _posted_year(request: AuthenticatedRequest) -> int:
    try:
        year = int(request.POST.get("record_year") or request.GET.get("year") or today().year)
    except ValueError:
        year = today().year
    return min(max(year, FIRST_YEAR), today().year)


@requires(Capability.EDIT)
def household_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    household = household_for_write(request, pk)

    def change(form: HouseholdForm) -> Change[Household]:
        def done(saved: Household) -> HttpResponse:
            messages.success(request, _("户信息已保存"))
            return redirect("registry:household_detail", pk=household.pk)

        note = form.cleaned_data.get("audit_note") or _("修改户信息")
        return Change(versioned(form, form.save), lambda h: [household], done, note=note)

    return household_change(
        request,
        household,
        lambda data: HouseholdForm(data, instance=household, user=request.user),
        change,
        template="registry/household_form.html",
        context={"creating": False},
    )


@requires(Capability.EDIT)
def household_year_edit(request: AuthenticatedRequest, pk: int, year: int) -> HttpResponse:
    """户年度信息: components typed, 家庭纯收入 / 人均纯收入 computed by the formula in force (never typed)."""
    household = household_for_write(request, pk)
    if (refused := refuse_cancelled(request, household)) is not None:
        return refused
    if not FIRST_YEAR <= year <= today().year:
        raise Http404
    stored = household.years.filter(year=year).first()
    creating = stored is None
    record = HouseholdYear(household=household, year=year) if stored is None else stored
    initial: dict[str, Any] = {}
    if creating:
        previous = household.years.filter(year__lt=year).order_by("-year").first()
        if previous is not None:  # start from the year before: status, attribute and causes rarely change
            keep = ("exit_status", "attribute", "main_cause", "other_cause_1", "other_cause_2", "cause_note")
            initial = {k: getattr(previous, k) for k in (*keep, *HouseholdYearForm.guarantee_fields)}
    form = HouseholdYearForm(request.POST or None, instance=record, initial=initial, year=year)
    computed = None if creating else record
    if request.method == "POST" and form.is_valid():
        candidate = form.save(commit=False)
        if "preview" in request.POST:
            services.apply_income_formula(candidate)
            computed = candidate
        else:
            note = form.cleaned_data.get("audit_note") or _("修改%(y)s年度信息") % {"y": year}
            write = versioned(form, lambda: services.save_year(candidate))
            saved = save_checked(request, form, write, lambda r: [household], note=note)
            if saved is not None:
                messages.success(
                    request,
                    _("%(y)s年度信息已保存：家庭纯收入 %(net)s 元，人均纯收入 %(pc)s 元")
                    % {"y": year, "net": f"{saved.net_income:,.2f}", "pc": f"{saved.per_capita_net_income:,.2f}"},
                )
                return redirect(reverse("registry:household_detail", args=[household.pk]) + "#years")
    spec = policy.formula_for(year, household.village_id)
    return render(
        request,
        "registry/household_year_form.html",
        {
            "form": form,
            "household": household,
            "year": year,
            "creating": creating,
            "computed": computed,
            "included": [label for key, label in INCOME_ITEMS if key in spec.included_income],
            "deducted": [label for key, label in DEDUCTION_ITEMS if key in spec.included_deductions],
            "active_nav": NAV,
        },
    )
