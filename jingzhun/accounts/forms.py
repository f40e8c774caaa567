from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from jingzhun.accounts import throttle
from jingzhun.audit.middleware import client_addr


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form; refuses to check a password while the username or address is locked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码错误。",
        "locked": "登录失败次数过多，请 %(minutes)s 分钟后再试。",
    }

    def clean(self) -> dict[str, Any]:
        username = (self.data.get("username") or "").strip()
        addr = client_addr(self.request) if self.request else None
        if throttle.is_locked(username, addr):
            raise forms.ValidationError(
                self.error_messages["locked"], code="locked", params={"minutes": throttle.lockout_minutes()}
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_attempt(username, addr, succeeded=False)
            raise
        throttle.record_attempt(username, addr, succeeded=True)
        return cleaned
