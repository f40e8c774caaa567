from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, NoReturn

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin, UsernameField
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from jingzhun.accounts import rules, throttle
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role, grantable_roles
from jingzhun.accounts.usernames import normalize_username
from jingzhun.audit.middleware import client_addr
from jingzhun.core import codes
from jingzhun.core.scope import ScopedQuerySet
from jingzhun.core.types import ScopedUser
from jingzhun.regions.models import Region

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LOCKED_MESSAGE = _("登录失败次数过多，已暂时锁定，请 %(minutes)s 分钟后再试。")


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form; refuses to check a password while the username or address is locked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码错误。"),
        "inactive": _("该账号已停用，请联系管理员。"),
        "locked": LOCKED_MESSAGE,
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")

    def _raise_locked(self, remaining: dt.timedelta) -> NoReturn:
        raise forms.ValidationError(
            self.error_messages["locked"], code="locked", params={"minutes": throttle.minutes(remaining)}
        )

    def clean_username(self) -> str:
        # Authentication looks up exactly this spelling, and the throttle counts it under the same account.
        return normalize_username(self.cleaned_data["username"])

    @sensitive_variables("password")
    def clean(self) -> dict[str, Any]:
        typed = (self.data.get("username") or "").strip()
        password = self.data.get("password") or ""
        addr = client_addr(self.request) if self.request else None
        remaining = throttle.lock_remaining(typed, addr)
        if remaining is not None:
            self._raise_locked(remaining)
        if not normalize_username(typed) or not password:
            return super().clean()  # the required-field errors; nothing was tried
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_attempt(typed, addr, succeeded=False)
            # The failure that triggers the lock says so at once rather than on the next try.
            remaining = throttle.lock_remaining(typed, addr)
            if remaining is not None:
                self._raise_locked(remaining)
            raise
        throttle.record_attempt(typed, addr, succeeded=True)
        return cleaned


PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def clean_phone(value: str) -> str:
    phone = re.sub(r"[\s\u3000]", "", value or "")
    if phone and not PHONE_RE.match(phone):
        raise forms.ValidationError(_("请填写 11 位手机号码或带区号的固定电话（如 0746-1234567）"))
    return phone


def scope_field(
    actor: ScopedUser, *, label: StrOrPromise, empty_label: StrOrPromise, deepest: int = codes.Level.VILLAGE
) -> forms.Field:
    """A select of the regions in the actor's scope (``empty_label`` first, for no region), or a code input
    when there are too many to list.

    Either way the field yields a code string; the form resolves and checks it with ``rules``.
    """
    choices = rules.region_choices(actor, deepest)
    if choices is None:
        return forms.CharField(
            label=label,
            required=False,
            max_length=15,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": gettext("区划代码")}),
            help_text=_("填写统计用区划代码（12 位，县级可填 6 位、乡级可填 9 位）"),
        )
    return forms.ChoiceField(label=label, required=False, choices=[("", empty_label), *choices])


class UserForm(SetPasswordMixin, forms.ModelForm):
    """Create or edit a user on behalf of an administrator (``actor``), within the actor's powers."""

    error_messages = {"password_mismatch": _("两次输入的密码不一致。")}

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "phone", "organisation", "email"]
        field_classes = {"username": UsernameField}
        labels = {"username": _("用户名"), "email": _("电子邮箱")}
        help_texts = {"username": _("登录名，创建后不可修改；可用字母、数字、汉字和 @ . + - _")}

    def __init__(self, *args: Any, actor: ScopedUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.creating = self.instance._state.adding
        self.is_self = not self.creating and self.instance.pk == actor.pk
        self.fields["full_name"].required = True
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)  # the model field has choices
        role.choices = grantable_roles(actor.role)
        self.fields["scope"] = scope_field(actor, label=_("管辖范围"), empty_label=_("— 请选择 —"))
        self.fields["scope"].help_text = _("用户可查看和操作该区划及其下级的数据")
        # Nobody hands out an unlimited scope (rules: nobody manages a whole-system peer); one's own stays as is.
        self.fields["scope"].required = not self.is_self
        self.fields["scope"].error_messages["required"] = _("请选择管辖范围")
        if self.creating:
            self.fields["password1"], self.fields["password2"] = self.create_password_fields(
                label1=_("初始密码"), label2=_("确认密码")
            )
            self.fields["password2"].help_text = _("再次输入同一密码")
            self.fields["username"].widget.attrs["autofocus"] = True
        else:
            # A username is what logs and login records refer to; it does not change.
            self.fields["username"].disabled = True
            self.fields["scope"].initial = self.instance.scope_region_id or ""
            if self.is_self:
                # Nobody raises their own role or widens their own scope; another administrator must.
                for name in ("role", "scope"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("不能修改本人的角色和管辖范围，请联系上级管理员")
                if self.instance.scope_region_id and isinstance(self.fields["scope"], forms.ChoiceField):
                    region = self.instance.scope_region
                    self.fields["scope"].choices = [(region.code, f"{region.name}（{region.code}）")]
        self.order_fields(["username", "full_name", "role", "scope", "phone", "organisation", "email"])

    def clean_username(self) -> str:
        if not self.creating:
            return str(self.cleaned_data["username"])  # disabled: the stored name
        # Stored as the login will look it up (ｈｅｌｐｅｒ is helper), so it can be logged in to and throttled.
        username = normalize_username(self.cleaned_data["username"])
        # Usernames are unique across the whole system regardless of case, whoever creates them.
        if User.objects.unscoped().filter(username__iexact=username).exists():
            raise forms.ValidationError(_("用户名“%(username)s”已被使用"), params={"username": username})
        return username

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data.get("phone", ""))

    def clean_scope(self) -> Region | None:
        raw = (self.cleaned_data.get("scope") or "").strip()
        if self.is_self:
            return self.instance.scope_region
        if not raw:
            return None
        return rules.resolve_region(raw, self.actor)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.creating:
            self.validate_passwords()
        role = cleaned.get("role")
        if role and "scope" in cleaned and not self.is_self:
            try:
                rules.check_scope_for_role(self.actor, role, cleaned["scope"])
            except forms.ValidationError as exc:
                self.add_error("scope", exc)
        return cleaned

    def _post_clean(self) -> None:
        # django-stubs leaves out this private hook, which Django's own BaseUserCreationForm overrides the same way.
        super()._post_clean()  # type: ignore[misc]
        if self.creating:
            # After the instance holds the username and name, so similarity to them is checked too.
            self.validate_password_for_user(self.instance)

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.scope_region = self.cleaned_data.get("scope")
        if self.creating:
            user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class StatusForm(forms.Form):
    """Confirmation of a deactivation or reactivation, with the reason kept in the audit log."""

    reason = forms.CharField(
        label=_("原因"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：调离岗位、退休")}),
    )


class AdminSetPasswordForm(SetPasswordMixin, forms.Form):
    """An administrator sets a new password for a user (the validators apply as for anyone)."""

    error_messages = {"password_mismatch": _("两次输入的密码不一致。")}

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["new_password1"], self.fields["new_password2"] = self.create_password_fields(
            label1=_("新密码"), label2=_("确认新密码")
        )
        self.fields["new_password2"].help_text = _("再次输入同一密码")
        self.fields["new_password1"].widget.attrs["autofocus"] = True

    def clean(self) -> dict[str, Any]:
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password2")
        super().clean()
        return self.cleaned_data

    def save(self) -> User:
        return self.set_password_and_save(self.user, "new_password1")


class OwnPasswordChangeForm(AdminSetPasswordForm):
    """我的账号: change one's own password; the current one is checked and wrong guesses are throttled."""

    error_messages = {
        **AdminSetPasswordForm.error_messages,
        "password_incorrect": _("当前密码不正确。"),
        "locked": LOCKED_MESSAGE,
    }

    def __init__(self, user: User, *args: Any, request: Any = None, **kwargs: Any) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"] = forms.CharField(
            label=_("当前密码"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        )
        del self.fields["new_password1"].widget.attrs["autofocus"]
        self.order_fields(["old_password", "new_password1", "new_password2"])

    @sensitive_variables("old_password")
    def clean_old_password(self) -> str:
        # A stolen session must not become a way to guess the password: same throttle as the login.
        addr = client_addr(self.request) if self.request else None
        remaining = throttle.lock_remaining(self.user.username, addr)
        if remaining is not None:
            raise forms.ValidationError(
                self.error_messages["locked"], code="locked", params={"minutes": throttle.minutes(remaining)}
            )
        old_password = self.cleaned_data["old_password"]
        if not self.user.check_password(old_password):
            throttle.record_attempt(self.user.username, addr, succeeded=False)
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


STATUS_CHOICES = [("", _("全部")), ("active", _("启用")), ("inactive", _("停用"))]


class UserFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("用户名、姓名或电话"), "type": "search"}),
    )
    role = forms.ChoiceField(label=_("角色"), required=False, choices=[("", _("全部")), *Role.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args: Any, actor: ScopedUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        # Townships are enough to narrow a county's list and keep the select short.
        self.fields["region"] = scope_field(actor, label=_("区划"), empty_label=_("全部"), deepest=codes.Level.TOWNSHIP)
        self.order_fields(["q", "role", "region", "status"])

    def clean_region(self) -> Region | None:
        raw = (self.cleaned_data.get("region") or "").strip()
        if not raw:
            return None
        return rules.resolve_region(raw, self.actor)

    def filter(self, users: ScopedQuerySet) -> ScopedQuerySet:
        data = self.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(phone__icontains=q))
        if data.get("role"):
            users = users.filter(role=data["role"])
        if data.get("region") is not None:
            users = users.in_region(data["region"].prefix)
        if data.get("status") == "active":
            users = users.filter(is_active=True)
        elif data.get("status") == "inactive":
            users = users.filter(is_active=False)
        return users
