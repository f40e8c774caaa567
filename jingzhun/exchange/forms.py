from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any | None = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ImportUploadForm(forms.Form):
    # A declared field: the form's metaclass moves it into base_fields, so BaseForm.files (the uploaded
    # files) is not shadowed; django-stubs does not model that.
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("导入文件"),
        widget=MultipleFileInput(attrs={"accept": ".xlsx,.csv"}),
        validators=[FileExtensionValidator(["xlsx", "csv"], message=_("只支持 .xlsx 或 .csv 文件"))],
        help_text=_("一个按模板填写的 Excel 工作簿；或户信息、成员信息两个 CSV 文件（UTF-8 或 GBK 编码）"),
    )

    def clean_files(self) -> list[UploadedFile]:
        files = self.cleaned_data["files"]
        if len(files) > 2:
            raise forms.ValidationError(_("最多上传两个文件"))
        total = sum(f.size for f in files)
        if total > 200 * 1024 * 1024:
            raise forms.ValidationError(_("文件过大（超过 200MB），请分批导入"))
        return files
