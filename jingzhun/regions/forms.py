"""Forms of the region pages: the administrator's upload, region edit and per-year flag."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.core.formfields import choice_field
from jingzhun.regions.models import Region, RegionFlag, flag_choices_for_level, not_retired_q

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # the national table to village level is about 30 MB as CSV
UPLOAD_SUFFIXES = (".csv", ".xlsx")
FIRST_FLAG_YEAR = 1986  # the first national list of key poor counties (国家重点扶持贫困县)


class RegionUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("区划文件"),
        help_text=gettext_lazy("CSV（UTF-8 或 GBK 编码）或 Excel（.xlsx），不超过 50 MB"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise forms.ValidationError(_("只支持 CSV 或 XLSX 文件（旧版 .xls 请另存为 .xlsx）"))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件过大（最多 50 MB）"))
        if upload.size == 0:
            raise forms.ValidationError(_("文件为空"))
        return upload


def reason_field() -> forms.CharField:
    """变更原因: every change to reference data says why, and the audit entry keeps it."""
    return forms.CharField(
        label=gettext_lazy("变更原因"),
        max_length=200,
        help_text=gettext_lazy("写入操作日志，例如文件依据或文号"),
        widget=forms.TextInput(attrs={"size": 40}),
    )


class ReasonForm(forms.Form):
    reason = reason_field()


class RegionEditForm(forms.ModelForm):
    reason = reason_field()
    retire_descendants = forms.BooleanField(
        label=gettext_lazy("同时停用全部在用的下级区划"),
        required=False,
        help_text=gettext_lazy("撤销或合并时使用：下级区划的停用日期一并设为本区划的停用日期"),
    )

    class Meta:
        model = Region
        fields = ["name", "urban_rural_code", "valid_from", "valid_to"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    field_order = ["name", "urban_rural_code", "valid_from", "valid_to", "retire_descendants", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.descendants_to_retire: list[Region] = []

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
        region: Region = self.instance
        if valid_from and valid_to and valid_to <= valid_from:
            self.add_error("valid_to", _("停用日期应晚于启用日期"))
            return data
        # A region cannot be in use while its parent is retired.
        parent = region.parent
        if parent is not None and parent.valid_to is not None and (valid_to is None or valid_to > parent.valid_to):
            self.add_error(
                "valid_to",
                _("上级区划 %(name)s 已于 %(date)s 停用，本区划的停用日期不能晚于该日期")
                % {"name": parent.name, "date": parent.valid_to.isoformat()},
            )
            return data
        if valid_to is not None:
            # Children still in use after the new end date would hang from a retired parent.
            still_used = list(
                Region.objects.subtree(region, include_self=False).filter(not_retired_q(valid_to)).order_by("code")
            )
            if still_used and not data.get("retire_descendants"):
                self.add_error(
                    "valid_to",
                    _("该区划下有 %(n)d 个在 %(date)s 之后仍在用的下级区划；请勾选“同时停用全部在用的下级区划”")
                    % {"n": len(still_used), "date": valid_to.isoformat()},
                )
            self.descendants_to_retire = still_used
        return data


class RegionFlagForm(forms.ModelForm):
    reason = reason_field()
    value = forms.TypedChoiceField(
        label=gettext_lazy("状态"),
        choices=[("1", gettext_lazy("是（认定、列入）")), ("0", gettext_lazy("否（退出、摘帽、出列）"))],
        coerce=lambda v: v == "1",
        empty_value=None,
    )

    class Meta:
        model = RegionFlag
        fields = ["flag", "year", "value", "note"]

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.instance.region = region
        choice_field(self, "flag").choices = [("", "---------"), *flag_choices_for_level(region.level)]
        self.fields["year"].widget.attrs.update({"min": FIRST_FLAG_YEAR, "max": dt.date.today().year + 1})

    def clean_year(self) -> int:
        year = self.cleaned_data["year"]
        last = dt.date.today().year + 1
        if not FIRST_FLAG_YEAR <= year <= last:
            raise forms.ValidationError(
                _("年度应在 %(first)d 至 %(last)d 之间") % {"first": FIRST_FLAG_YEAR, "last": last}
            )
        return year

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        flag, year = data.get("flag"), data.get("year")
        # The (region, flag, year) constraint names the region, which is not a form field, so Django
        # would not check it before the database does.
        if flag and year and self.region.flags.filter(flag=flag, year=year).exists():
            self.add_error("year", _("该标识在 %(year)d 年已有记录") % {"year": year})
        return data
