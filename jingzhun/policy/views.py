"""政策参数: administrators edit code tables, income lines and the income formula; everyone may read them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Model
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core.access import Capability, requires
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.policy.forms import CodeItemForm, IncomeFormulaForm, PovertyLineForm
from jingzhun.policy.models import CodeItem, CodeTable, IncomeFormula, PovertyLine

# 政策参数 and 行政区划 are reference data: read by all, changed by the system administrator.
edits_policy = requires(Capability.MANAGE_REFERENCE, message=gettext_lazy("只有系统管理员可以修改政策参数"))


@requires(Capability.VIEW)
def overview(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "policy/overview.html",
        {
            "tables": CodeTable.objects.annotate(n=Count("items")).order_by("name"),
            "lines": PovertyLine.objects.order_by("kind", "-year", "region_prefix"),
            "formulas": IncomeFormula.objects.order_by("region_prefix", "year_from"),
            "can_edit": request.user.can_manage_reference_data,
            "active_nav": "policy",
        },
    )


@requires(Capability.VIEW, write=Capability.MANAGE_REFERENCE, message=gettext_lazy("只有系统管理员可以修改政策参数"))
def code_table(request: AuthenticatedRequest, key: str) -> HttpResponse:
    table = get_object_or_404(CodeTable, key=key)
    form = CodeItemForm()
    if request.method == "POST":
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
            "can_edit": request.user.can_manage_reference_data,
            "active_nav": "policy",
        },
    )


def _edit(
    request: HttpRequest, form_class: type[ModelForm[Any]], instance: Model | None, title: str, back: str
) -> HttpResponse:
    back = resolve_url(back)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("已保存：%(item)s") % {"item": form.instance})
        return redirect(back)
    return render(request, "policy/edit.html", {"form": form, "title": title, "back": back, "active_nav": "policy"})


@edits_policy
def code_item_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(CodeItem.objects.select_related("table"), pk=pk)
    back = reverse("policy:code_table", args=[item.table.key])
    return _edit(request, CodeItemForm, item, _("修改代码项：%(table)s") % {"table": item.table.name}, back)


@edits_policy
def line_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    line = get_object_or_404(PovertyLine, pk=pk) if pk else None
    return _edit(request, PovertyLineForm, line, _("收入标准"), "policy:overview")


@edits_policy
def formula_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    formula = get_object_or_404(IncomeFormula, pk=pk) if pk else None
    return _edit(request, IncomeFormulaForm, formula, _("收入计算口径"), "policy:overview")
