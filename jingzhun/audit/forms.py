from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jingzhun.audit.models import Action
from jingzhun.audit.search import Filters, object_type_choices, region_prefix


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditSearchForm(forms.Form):
    region = forms.CharField(
        label=_("区划代码"),
        required=False,
        max_length=15,
        help_text=_("含下级区划；可填代码前几位"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 14}),
    )
    actor = forms.CharField(label=_("操作人用户名"), required=False, max_length=150)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=DateInput())
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    object_id = forms.CharField(label=_("对象ID"), required=False, max_length=64)
    action = forms.ChoiceField(label=_("操作"), required=False, choices=[("", _("全部")), *Action.choices])
    request = forms.UUIDField(label=_("请求编号"), required=False)
    q = forms.CharField(label=_("对象名称或ID"), required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object_type = self.fields["object_type"]
        assert isinstance(object_type, forms.ChoiceField)
        object_type.choices = [("", _("全部")), *object_type_choices()]

    def clean_region(self) -> str:
        value = self.cleaned_data["region"].strip()
        if value and not (value.isascii() and value.isdigit()):
            raise forms.ValidationError(_("区划代码只能是数字"))
        return region_prefix(value) if value else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期"))
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(
            region=d.get("region") or "",
            actor=(d.get("actor") or "").strip(),
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            object_type=d.get("object_type") or "",
            object_id=(d.get("object_id") or "").strip(),
            action=d.get("action") or "",
            request_id=d.get("request"),
            text=(d.get("q") or "").strip(),
        )
