from __future__ import annotations

import decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from jingzhun.core.codes import CodeError, normalize_code, prefix_of
from jingzhun.policy.models import CodeItem, IncomeFormula, PovertyLine


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


class PovertyLineForm(forms.ModelForm):
    class Meta:
        model = PovertyLine
        fields = ["kind", "year", "region_prefix", "amount", "source"]

    def clean_region_prefix(self) -> str:
        return clean_prefix(self.cleaned_data.get("region_prefix", ""))

    def clean_amount(self) -> decimal.Decimal:
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("标准必须大于 0"))
        return amount


class IncomeFormulaForm(forms.ModelForm):
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

    def clean_region_prefix(self) -> str:
        return clean_prefix(self.cleaned_data.get("region_prefix", ""))
