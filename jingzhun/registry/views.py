"""Household pages (户有档): list, file, forms for 户 / 人 / 年度, and the composition changes.

Every read goes through ``visible_to`` / ``get_visible_or_404`` (other villages' households do not exist for
the user); every write through ``require_write`` (read-only roles get 403, also on GET of an edit page).
Writes are audited by AuditedModel; composition changes go through jingzhun.registry.services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Prefetch
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jingzhun.core.scope import get_visible_or_404, require_write
from jingzhun.policy import services as policy
from jingzhun.regions.codes import Level
from jingzhun.regions.models import Region
from jingzhun.registry import services
from jingzhun.registry.filters import FIRST_YEAR, HouseholdFilterForm, HouseholdQuery, id_variants, year_range
from jingzhun.registry.forms import (
    HOUSEHOLD_SECTIONS,
    REGISTRATION_REASON,
    ChangeHeadForm,
    HouseholdForm,
    HouseholdMergeForm,
    HouseholdSplitForm,
    HouseholdYearForm,
    MemberAddForm,
    MemberForm,
    MemberMoveForm,
    MemberRemoveForm,
)
from jingzhun.registry.idcard import age_on
from jingzhun.registry.income import DEDUCTION_ITEMS, INCOME_ITEMS
from jingzhun.registry.models import (
    CODE_FIELDS,
    HEAD_RELATIONSHIP,
    Household,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberStatus,
)
from jingzhun.registry.quality.gate import QualityRejected, checked_write
from jingzhun.registry.quality.rule import Violation
from jingzhun.registry.templatetags.household_tags import area, flag, money

T = TypeVar("T")
PAGE_SIZE = 50
NAV = "households"


def _today() -> dt.date:
    return dt.date.today()


# ------------------------------------------------------------------------------------ data-quality gate


def save_checked(
    request: HttpRequest,
    form: Form,
    write: Callable[[], T],
    households: Callable[[T | None], Iterable[Household | None]],
    *,
    note: str = "",
) -> T | None:
    """Run ``write`` through the data-quality gate (jingzhun.registry.quality.gate.checked_write).

    A refusal by the services, a constraint violation or a new error-level rule undoes the write and
    becomes a Chinese message on ``form``; returns None then. Warnings are flashed.
    """
    try:
        result, warnings = checked_write(write, households, note=note)
    except QualityRejected as exc:
        _add_violations(form, exc.violations)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
    except IntegrityError:
        form.add_error(None, _("保存失败：数据与其他记录冲突（例如同一证件号码已在其他户中在册），请刷新后重试"))
    else:
        _flash_warnings(request, warnings)
        return result
    return None


def _flash_warnings(request: HttpRequest, warnings: list[Violation], limit: int = 3) -> None:
    """Saved, but the rules found something to look at: say so (the full list is in the 问题台账)."""
    messages_ = list(dict.fromkeys(v.message for v in warnings))
    for text in messages_[:limit]:
        messages.warning(request, _("数据质量提示：%(m)s") % {"m": text})
    if len(messages_) > limit:
        messages.warning(request, _("另有 %(n)s 条数据质量提示") % {"n": len(messages_) - limit})


def _add_violations(form: Form, violations: list[Violation]) -> None:
    """On the field concerned when the form has it and edits that record, else at the top of the form."""
    instance = getattr(form, "instance", None)
    subject = instance.pk if isinstance(instance, Member) else None
    shown: set[tuple[str | None, str]] = set()
    for v in violations:
        field = v.field if v.field in form.fields and v.member_id == subject else None
        if (field, v.message) not in shown:
            shown.add((field, v.message))
            form.add_error(field, v.message)


# ----------------------------------------------------------------------------------------- access


def _household_for_write(request: HttpRequest, pk: int) -> Household:
    household = get_visible_or_404(Household.objects.select_related("village"), request.user, pk=pk)
    require_write(request.user, household.village_id)
    return household


def _refuse_cancelled(request: HttpRequest, household: Household) -> HttpResponse | None:
    if household.status != HouseholdStatus.ACTIVE:
        messages.error(request, _("该户已注销，只能查看，不能修改"))
        return redirect("registry:household_detail", pk=household.pk)
    return None


def _member_for_write(request: HttpRequest, pk: int) -> Member:
    member = get_visible_or_404(Member.objects.select_related("household__village"), request.user, pk=pk)
    require_write(request.user, member.household.village_id)
    return member


# ----------------------------------------------------------------------------------------- list


def household_list(request: HttpRequest) -> HttpResponse:
    """建档立卡户 list: scope-limited, filtered on the chosen year's record, 50 a page, no N+1."""
    user = request.user
    form = HouseholdFilterForm(request.GET, user=user)
    query = HouseholdQuery.from_form(form)
    qs = (
        query.apply(Household.objects.visible_to(user), user.scope_prefix or "")
        .select_related("village", "group")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Member.objects.filter(status=MemberStatus.ACTIVE).order_by("relationship", "birth_date"),
                to_attr="active_list",
            ),
            Prefetch("years", queryset=HouseholdYear.objects.filter(year=query.year), to_attr="year_list"),
        )
        # Village first: the (village, household_number) index then yields the page without a sort.
        .order_by("village_id", "household_number")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for h in rows:
        h.head_member = next((m for m in h.active_list if m.relationship == HEAD_RELATIONSHIP), None)
        h.record = h.year_list[0] if h.year_list else None
    return render(
        request,
        "registry/household_list.html",
        {"form": form, "query": query, "page": page, "rows": rows, "active_nav": NAV, "can_write": user.can_write},
    )


@require_GET
def group_options(request: HttpRequest) -> HttpResponse:
    """HTMX fragment: the 村民小组 of a village, for the household form's group select."""
    village = request.GET.get("village", "")
    groups = Region.objects.visible_to(request.user).filter(level=Level.GROUP, parent_id=village).order_by("code")
    return render(request, "registry/_group_options.html", {"groups": groups})


# ----------------------------------------------------------------------------------------- file (户有档)


@dataclass
class YearRow:
    label: str
    cells: list[str]
    kind: str = ""  # "money", "total", "flag"


def _year_rows(years: list[HouseholdYear]) -> list[YearRow]:
    """The yearly table transposed: one row per item, one column per year (reads like the paper ledger)."""
    rows = [
        YearRow(_("脱贫状态"), [y.label("exit_status") for y in years]),
        YearRow(_("贫困户属性"), [y.label("attribute") for y in years]),
        YearRow(_("主要致贫原因"), [y.label("main_cause") or "—" for y in years]),
        YearRow(
            _("其他致贫原因"),
            ["、".join(x for x in (y.label("other_cause_1"), y.label("other_cause_2")) if x) or "—" for y in years],
        ),
        YearRow(_("家庭人口数"), [str(y.member_count) for y in years], "money"),
    ]
    rows += [YearRow(label, [money(getattr(y, key)) for y in years], "money") for key, label in INCOME_ITEMS]
    rows += [YearRow(label, [money(getattr(y, key)) for y in years], "money") for key, label in DEDUCTION_ITEMS]
    rows += [
        YearRow(_("家庭纯收入"), [money(y.net_income) for y in years], "total"),
        YearRow(_("家庭年人均纯收入"), [money(y.per_capita_net_income) for y in years], "total"),
    ]
    for key in HouseholdYearForm.guarantee_fields:
        label = str(HouseholdYear._meta.get_field(key).verbose_name)
        rows.append(YearRow(label, [flag(getattr(y, key)) for y in years], "flag"))
    return rows


# The file page shows the form's sections; number, village and group are in its heading already.
IDENTITY_FIELDS = tuple(n for n in HOUSEHOLD_SECTIONS[0][1] if n not in ("household_number", "village", "group"))
PRODUCTION_FIELDS = HOUSEHOLD_SECTIONS[1][1]
LIVING_FIELDS = HOUSEHOLD_SECTIONS[2][1]
PROTECTION_FIELDS = HOUSEHOLD_SECTIONS[3][1]


def _display(obj: Any, name: str) -> str:
    """A field's value as shown on the file page: code labels, 是/否, trimmed numbers, — for empty."""
    value = getattr(obj, name)
    if name in CODE_FIELDS:
        return obj.label(name) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, Decimal):
        return area(value)
    return str(value)


def _facts(obj: Any, names: Iterable[str]) -> list[tuple[str, str]]:
    return [(str(obj._meta.get_field(n).verbose_name), _display(obj, n)) for n in names]


def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """户有档: everything about one household on one page, in a fixed number of queries."""
    user = request.user
    household = get_visible_or_404(Household.objects.select_related("village__parent", "group"), user, pk=pk)
    members = list(household.members.order_by("relationship", "birth_date", "pk"))
    active = [m for m in members if m.status == MemberStatus.ACTIVE]
    removed = sorted(
        (m for m in members if m.status != MemberStatus.ACTIVE),
        key=lambda m: (m.removal_date or dt.date.min, m.pk),
        reverse=True,
    )
    household._prefetched_objects_cache = {"members": members}  # lets Household.head use the list above
    years = list(household.years.order_by("year"))
    changes = list(household.changes.select_related("member", "other_household").order_by("-date", "-id"))
    issues = list(household.quality_issues.select_related("member").order_by("level", "rule_code"))
    today = _today()
    for m in members:
        m.age = None if m.birth_date is None else age_on(m.birth_date, today)
    have = {r.year for r in years}
    missing_years = [y for y in year_range() if y not in have]
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "head": household.head,
            "identity": _facts(household, IDENTITY_FIELDS),
            "production": _facts(household, PRODUCTION_FIELDS),
            "living": _facts(household, LIVING_FIELDS),
            "protection": _facts(household, PROTECTION_FIELDS),
            "active_members": active,
            "removed_members": removed,
            "years": years,
            "year_rows": _year_rows(years[::-1]),  # newest first: the current year is what cadres work on
            "latest": years[-1] if years else None,
            "changes": changes,
            "issues": issues,
            "can_edit": user.can_write and household.status == HouseholdStatus.ACTIVE,
            "new_year_choices": missing_years,
            "active_nav": NAV,
        },
    )


# ----------------------------------------------------------------------------------------- 户 forms


def household_create(request: HttpRequest) -> HttpResponse:
    """登记新户: the household, its head (增加原因 建档立卡) and the first yearly record, saved together."""
    user = request.user
    if not user.can_write:
        require_write(user, "")
    year = _posted_year(request)
    data = request.POST if request.method == "POST" else None
    initial_village = request.GET.get("village") or None
    hh_form = HouseholdForm(data, prefix="hh", user=user, initial={"village": initial_village})
    head_form = MemberForm(data, prefix="head", household=Household(), initial={"relationship": HEAD_RELATIONSHIP})
    head_form.fields["relationship"].disabled = True
    year_form = HouseholdYearForm(data, prefix="yr", year=year)
    if data is not None and all([hh_form.is_valid(), head_form.is_valid(), year_form.is_valid()]):
        require_write(user, hh_form.cleaned_data["village"].code)

        def write() -> Household:
            household = hh_form.save()
            head = head_form.save(commit=False)
            services.add_member(household, head, reason=REGISTRATION_REASON, date=_today())
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


def _posted_year(request: HttpRequest) -> int:
    try:
        year = int(request.POST.get("record_year") or request.GET.get("year") or _today().year)
    except ValueError:
        year = _today().year
    return min(max(year, FIRST_YEAR), _today().year)


def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_for_write(request, pk)
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    form = HouseholdForm(request.POST or None, instance=household, user=request.user)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data.get("audit_note") or _("修改户信息")
        if save_checked(request, form, form.save, lambda h: [household], note=note) is not None:
            messages.success(request, _("户信息已保存"))
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/household_form.html",
        {"form": form, "household": household, "creating": False, "active_nav": NAV},
    )


def household_year_edit(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    """户年度信息: components typed, 家庭纯收入 / 人均纯收入 computed by the formula in force (never typed)."""
    household = _household_for_write(request, pk)
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    if not FIRST_YEAR <= year <= _today().year:
        raise Http404
    record = household.years.filter(year=year).first()
    creating = record is None
    initial: dict[str, Any] = {}
    if creating:
        record = HouseholdYear(household=household, year=year)
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
            saved = save_checked(request, form, lambda: services.save_year(candidate), lambda r: [household], note=note)
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


# ----------------------------------------------------------------------------------------- 人


def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """人有卡: one person's record, with the same person's rows in other households (迁移 history)."""
    member = get_visible_or_404(
        Member.objects.select_related("household__village__parent", "household__group"), request.user, pk=pk
    )
    other_rows = list(
        Member.objects.visible_to(request.user)
        .filter(id_number__in=id_variants(member.id_number))
        .exclude(pk=member.pk)
        .select_related("household")
        .order_by("addition_date", "pk")
    )
    changes = list(member.changes.select_related("household", "other_household").order_by("-date", "-id"))
    return render(
        request,
        "registry/member_detail.html",
        {
            "member": member,
            "household": member.household,
            "age": age_on(member.birth_date, _today()) if member.birth_date else None,
            "other_rows": other_rows,
            "changes": changes,
            "can_edit": request.user.can_write
            and member.status == MemberStatus.ACTIVE
            and member.household.status == HouseholdStatus.ACTIVE,
            "active_nav": NAV,
        },
    )


def member_create(request: HttpRequest, pk: int) -> HttpResponse:
    """增加成员 (新生 / 婚入 / 其他迁入) through services.add_member."""
    household = _household_for_write(request, pk)
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    form = MemberAddForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> Member:
            return services.add_member(
                household, form.save(commit=False), reason=data["reason"], date=data["date"], note=data["note"]
            )

        member = save_checked(request, form, write, lambda m: [household])
        if member is not None:
            messages.success(request, _("已增加成员 %(name)s") % {"name": member.name})
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/member_form.html",
        {"form": form, "household": household, "creating": True, "active_nav": NAV},
    )


def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_for_write(request, pk)
    household = member.household
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    if member.status != MemberStatus.ACTIVE:
        messages.error(request, _("已减少的成员是历史记录，不能修改"))
        return redirect("registry:member_detail", pk=member.pk)
    form = MemberForm(request.POST or None, instance=member, household=household)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data.get("audit_note") or _("修改成员信息")
        if save_checked(request, form, form.save, lambda m: [household], note=note) is not None:
            messages.success(request, _("成员 %(name)s 的信息已保存") % {"name": member.name})
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/member_form.html",
        {"form": form, "household": household, "member": member, "creating": False, "active_nav": NAV},
    )


def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """减少成员 (死亡 / 婚出 / 其他迁出): the row stays as 已减少 with reason and date; the service cancels
    (注销) the household when the last member leaves."""
    member = _member_for_write(request, pk)
    household = member.household
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    if member.status != MemberStatus.ACTIVE:
        messages.error(request, _("该成员已不在户内"))
        return redirect("registry:member_detail", pk=member.pk)
    form = MemberRemoveForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> Member:
            return services.remove_member(member, reason=data["reason"], date=data["date"], note=data["note"])

        if save_checked(request, form, write, lambda m: [household]) is not None:
            messages.success(request, _("已减少成员 %(name)s") % {"name": member.name})
            if household.status != HouseholdStatus.ACTIVE:
                messages.warning(request, _("该户已无在户成员，已注销"))
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/member_change_form.html",
        {
            "form": form,
            "household": household,
            "member": member,
            "title": _("减少成员"),
            "intro": _("减少后该成员保留在户档案中（状态为“已减少”），不会删除。"),
            "active_nav": NAV,
        },
    )


def member_move(request: HttpRequest, pk: int) -> HttpResponse:
    """成员户间迁移: closed here (kept in history), opened in the target household."""
    member = _member_for_write(request, pk)
    household = member.household
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    if member.status != MemberStatus.ACTIVE:
        messages.error(request, _("该成员已不在户内"))
        return redirect("registry:member_detail", pk=member.pk)
    form = MemberMoveForm(request.POST or None, member=member, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = data["target_number"]
        require_write(request.user, target.village_id)

        def write() -> Member:
            return services.move_member(
                member, target, relationship=data["relationship"], date=data["date"], note=data["note"]
            )

        moved = save_checked(request, form, write, lambda m: [household, target])
        if moved is not None:
            messages.success(
                request,
                _("%(name)s 已迁入户 %(n)s") % {"name": member.name, "n": target.household_number},
            )
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/member_change_form.html",
        {
            "form": form,
            "household": household,
            "member": member,
            "title": _("成员户间迁移"),
            "intro": _("该成员在本户的记录保留为“已减少（户间迁出）”，并在目标户新增一条在户记录。"),
            "active_nav": NAV,
        },
    )


# ----------------------------------------------------------------------------------------- 分户 / 合户 / 户主


def household_split(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_for_write(request, pk)
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    form = HouseholdSplitForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = form.chosen_members()

        def write() -> Household:
            return services.split_household(
                household,
                chosen,
                new_head=next(m for m in chosen if m.pk == data["new_head"]),
                relationships=form.relationships(),
                new_number=data["new_number"] or services.next_household_number(household.village_id),
                date=data["date"],
                note=data["note"],
            )

        new_household = save_checked(request, form, write, lambda h: [household, h])
        if new_household is not None:
            messages.success(request, _("分户完成，新户户编号 %(n)s") % {"n": new_household.household_number})
            return redirect("registry:household_detail", pk=new_household.pk)
    return render(
        request,
        "registry/household_change_form.html",
        {
            "form": form,
            "household": household,
            "title": _("分户"),
            "intro": _("选中的成员从本户分出，组成同村的新户；他们在本户的记录保留为“已减少（分户）”。"),
            "active_nav": NAV,
        },
    )


def household_merge(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_for_write(request, pk)
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    form = HouseholdMergeForm(request.POST or None, household=household, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = data["target_number"]
        require_write(request.user, target.village_id)

        def write() -> Household:
            services.merge_households(household, target, relationships=form.relationships(), date=data["date"])
            return target

        if save_checked(request, form, write, lambda t: [target]) is not None:
            messages.success(
                request,
                _("户 %(a)s 已并入户 %(b)s，原户已注销")
                % {"a": household.household_number, "b": target.household_number},
            )
            return redirect("registry:household_detail", pk=target.pk)
    return render(
        request,
        "registry/household_change_form.html",
        {
            "form": form,
            "household": household,
            "title": _("合户"),
            "intro": _("本户全部在户成员并入目标户，本户注销（档案保留）。"),
            "active_nav": NAV,
        },
    )


def household_change_head(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_for_write(request, pk)
    if (refused := _refuse_cancelled(request, household)) is not None:
        return refused
    form = ChangeHeadForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new_head = next(m for m in form.members if m.pk == data["new_head"])

        def write() -> Household:
            services.change_head(household, new_head, relationships=form.relationships(), date=data["date"])
            return household

        if save_checked(request, form, write, lambda h: [household]) is not None:
            messages.success(request, _("户主已变更为 %(name)s") % {"name": new_head.name})
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/household_change_form.html",
        {
            "form": form,
            "household": household,
            "title": _("变更户主"),
            "intro": _("选择新户主，并重新填写其他成员与新户主的关系。"),
            "active_nav": NAV,
        },
    )
