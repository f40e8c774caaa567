from __future__ import annotations

import decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from jingzhun.core.codes import CodeError, normalize_code, prefix_of
from jingzhun.core.types import ScopedUser
from jingzhun.policy.models import CodeItem, IncomeFormula, PovertyLine
from jingzhun.policy.permissions import covers, region_label


def clean_prefix(value: str) -> str:
    """A region prefix is given as any region code; store its significant digits ('' = nationwide)."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return prefix_of(normalize_code(value))
    except CodeError as exc:
        raise forms.ValidationError(str(exc)) from exc


class CodeItemForm(forms.ModelForm):
    class Meta:
        model = CodeItem
        fields = ["code", "label", "sort_order", "valid_from", "valid_to"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        vf, vt = cleaned.get("valid_from"), cleaned.get("valid_to")
        if vf and vt and vt < vf:
            self.add_error("valid_to", _("截止年度不能早于起始年度"))
        return cleaned


class RegionalItemForm(forms.ModelForm):
    """A policy item for a region prefix: only one inside the editing administrator's scope (policy.permissions)."""

    def __init__(self, *args: Any, user: ScopedUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_region_prefix(self) -> str:
        prefix = clean_prefix(self.cleaned_data.get("region_prefix", ""))
        if not covers(self.user, prefix):
            raise forms.ValidationError(
                _("适用范围“%(where)s”不在您的管辖范围（%(scope)s）内：只能为本辖区设置")
                % {"where": region_label(prefix), "scope": region_label(self.user.scope_prefix or "")}
            )
        return prefix


class PovertyLineForm(RegionalItemForm):
    class Meta:
        model = PovertyLine
        fields = ["kind", "year", "region_prefix", "amount", "source"]

    def clean_amount(self) -> decimal.Decimal:
        amount: decimal.Decimal = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("标准必须大于 0"))
        return amount

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        kind, year, prefix, amount = (cleaned.get(k) for k in ("kind", "year", "region_prefix", "amount"))
        if prefix and kind and year and amount is not None:
            above = self._line_above(kind, year, prefix)
            if above is not None and amount < above.amount:
                # 地方标准不得低于上级标准: a region tightens the standard it inherits, never loosens it.
                self.add_error(
                    "amount",
                    _("地方标准不得低于上级标准：%(where)s %(year)s年%(kind)s为 %(amount)s 元")
                    % {
                        "where": region_label(above.region_prefix),
                        "year": above.year,
                        "kind": above.get_kind_display(),
                        "amount": above.amount,
                    },
                )
        return cleaned

    def _line_above(self, kind: str, year: int, prefix: str) -> PovertyLine | None:
        """The line of the same kind and year that applies to ``prefix`` from a wider region, if any."""
        wider = [prefix[:n] for n in range(len(prefix))]  # '' (national), then each shorter prefix
        return (
            PovertyLine.objects.filter(kind=kind, year=year, region_prefix__in=wider)
            .exclude(pk=self.instance.pk)
            .order_by("-region_prefix")  # of prefixes of one code, the longer sorts last: most specific first
            .first()
        )


class IncomeFormulaForm(RegionalItemForm):
    class Meta:
        model = IncomeFormula
        fields = [
            "year_from",
            "region_prefix",
            "include_wage_income",
            "include_business_income",
            "include_property_income",
            "include_transfer_income",
            "include_claims_income",
            "deduct_production_expense",
            "deduct_compliant_out_of_pocket",
            "note",
        ]
