"""政策参数: everyone reads code tables, income lines and the income formula; administrators change those their
scope covers (policy.permissions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core.access import Capability, requires
from jingzhun.core.contributions import region_full_name
from jingzhun.core.types import AuthenticatedRequest, ScopedUser
from jingzhun.policy.forms import CodeItemForm, IncomeFormulaForm, PovertyLineForm, RegionalItemForm
from jingzhun.policy.models import CodeItem, CodeTable, IncomeFormula, PovertyLine
from jingzhun.policy.permissions import NATIONAL, covers, require_code_tables, require_covers

# 政策参数 and 行政区划 are reference data: read by all, changed by an administrator — and policy items only
# where the administrator's scope covers them (policy.permissions).
REFUSAL = gettext_lazy("只有系统管理员可以修改政策参数")
edits_policy = requires(Capability.MANAGE_REFERENCE, message=REFUSAL)


@dataclass(frozen=True)
class Row:
    """An item of a list, and whether this user may change it (the others are shown read-only)."""

    item: Any
    editable: bool


def _rows(user: ScopedUser, items: Iterable[PovertyLine] | Iterable[IncomeFormula]) -> list[Row]:
    return [Row(item, covers(user, item.region_prefix)) for item in items]


@requires(Capability.VIEW)
def overview(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "policy/overview.html",
        {
            "tables": CodeTable.objects.annotate(n=Count("items")).order_by("name"),
            "lines": _rows(user, PovertyLine.objects.order_by("kind", "-year", "region_prefix")),
            "formulas": _rows(user, IncomeFormula.objects.order_by("region_prefix", "year_from")),
            "can_edit": user.can_manage_reference_data,
            "can_edit_codes": covers(user, NATIONAL),
            "scope_name": region_full_name(user.scope_region_id) if user.scope_region_id else _("全国"),
            "active_nav": "policy",
        },
    )


@requires(Capability.VIEW, write=Capability.MANAGE_REFERENCE, message=REFUSAL)
def code_table(request: AuthenticatedRequest, key: str) -> HttpResponse:
    table = get_object_or_404(CodeTable, key=key)
    form = CodeItemForm()
    if request.method == "POST":
        require_code_tables(request.user)
        form = CodeItemForm(request.POST, instance=CodeItem(table=table))
        if form.is_valid():
            form.save()
            messages.success(request, _("已新增代码项 %(item)s") % {"item": form.instance})
            return redirect("policy:code_table", key=key)
    return render(
        request,
        "policy/code_table.html",
        {
            "table": table,
            "items": table.items.all(),
            "form": form,
            "can_edit": covers(request.user, NATIONAL),
            "active_nav": "policy",
        },
    )


def _edit(request: HttpRequest, form: ModelForm[Any], title: str, back: str) -> HttpResponse:
    back = resolve_url(back)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("已保存：%(item)s") % {"item": form.instance})
        return redirect(back)
    return render(request, "policy/edit.html", {"form": form, "title": title, "back": back, "active_nav": "policy"})


@edits_policy
def code_item_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(CodeItem.objects.select_related("table"), pk=pk)
    require_code_tables(request.user)
    back = reverse("policy:code_table", args=[item.table.key])
    form = CodeItemForm(request.POST or None, instance=item)
    return _edit(request, form, _("修改代码项：%(table)s") % {"table": item.table.name}, back)


def _regional_form(
    request: AuthenticatedRequest, form_class: type[RegionalItemForm], instance: PovertyLine | IncomeFormula | None
) -> RegionalItemForm:
    """The form for a new item (offered for the user's own region) or for one their scope covers (else 403)."""
    user = request.user
    if instance is not None:
        require_covers(user, instance.region_prefix)
        return form_class(request.POST or None, instance=instance, user=user)
    initial = {"region_prefix": user.scope_region_id or ""}
    return form_class(request.POST or None, initial=initial, user=user)


@edits_policy
def line_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    line = get_object_or_404(PovertyLine, pk=pk) if pk else None
    return _edit(request, _regional_form(request, PovertyLineForm, line), _("收入标准"), "policy:overview")


@edits_policy
def formula_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    formula = get_object_or_404(IncomeFormula, pk=pk) if pk else None
    return _edit(request, _regional_form(request, IncomeFormulaForm, formula), _("收入计算口径"), "policy:overview")
