from __future__ import annotations

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data, initial=None):  # type: ignore[override]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        label=_("导入文件"),
        widget=MultipleFileInput(attrs={"accept": ".xlsx,.csv"}),
        validators=[FileExtensionValidator(["xlsx", "csv"], message=_("只支持 .xlsx 或 .csv 文件"))],
        help_text=_("一个按模板填写的 Excel 工作簿；或户信息、成员信息两个 CSV 文件（UTF-8 或 GBK 编码）"),
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > 2:
            raise forms.ValidationError(_("最多上传两个文件"))
        total = sum(f.size for f in files)
        if total > 200 * 1024 * 1024:
            raise forms.ValidationError(_("文件过大（超过 200MB），请分批导入"))
        return files
