"""Login, 我的账号 and user management (用户管理) pages.

Every user page goes through ``rules``: lists through ``User.objects.visible_to``, single users through
``get_visible_or_404`` (another county's user does not exist for a county administrator) and every
change through ``require_manage_user`` (separation of duties; one's own details: ``require_edit_user``).
Pages offer only the actions those rules allow. Changes are model saves, so each one lands in the audit
log with the reason set here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jingzhun.accounts import rules, throttle
from jingzhun.accounts.forms import (
    AdminSetPasswordForm,
    OwnPasswordChangeForm,
    StatusForm,
    ThrottledAuthenticationForm,
    UserFilterForm,
    UserForm,
)
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.audit.context import audit_reason
from jingzhun.audit.models import AuditEntry
from jingzhun.core.access import Capability, logged_in, requires
from jingzhun.core.scope import ScopedQuerySet, get_visible_or_404
from jingzhun.core.types import AuthenticatedRequest, ScopedUser
from jingzhun.regions.models import Region

PAGE_SIZE = 30
HISTORY_SIZE = 30


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        previous = user.last_login  # read before login() moves it to now
        response = super().form_valid(form)
        if previous is not None:
            # Showing the last login and the failures since lets the owner notice someone else's tries.
            text = _("上次登录时间：%(time)s") % {"time": _format_time(previous)}
            failures = throttle.failures_since(user.username, previous)
            if failures:
                text += _("；此后有 %(count)s 次登录失败，如非本人操作请立即修改密码") % {"count": failures}
                messages.warning(self.request, text)
            else:
                messages.info(self.request, text)
        return response


def _format_time(value: Any) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i")


def _posted(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to (an empty POST is still a submission), or None on GET."""
    return request.POST if request.method == "POST" else None


def _user_queryset() -> ScopedQuerySet[User]:
    # get_queryset() is typed as the scoped queryset it returns; User.objects is built by hand (accounts.models),
    # so the methods it passes on to it are typed as a plain QuerySet.
    return User.objects.get_queryset().select_related("scope_region")


def _visible_user(actor: ScopedUser, pk: int) -> User:
    """The user ``pk`` if it lies in the actor's scope (404 otherwise)."""
    return get_visible_or_404(_user_queryset(), actor, pk=pk)


@requires(Capability.MANAGE_USERS)
def user_list(request: AuthenticatedRequest) -> HttpResponse:
    actor = request.user
    users: ScopedQuerySet = _user_queryset().visible_to(actor)
    form = UserFilterForm(request.GET or None, actor=actor)
    if form.is_valid():
        users = form.filter(users)
    page = Paginator(users.order_by("username"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {"form": form, "page": page, "active_nav": "users"},
    )


@requires(Capability.MANAGE_USERS)
def user_create(request: AuthenticatedRequest) -> HttpResponse:
    actor = request.user
    form = UserForm(_posted(request), actor=actor, initial={"role": Role.VILLAGE})
    if request.method == "POST" and form.is_valid():
        with audit_reason(_("新建用户")):
            user = form.save()
        messages.success(request, _("已创建用户“%(user)s”") % {"user": user.username})
        return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "creating": True, "active_nav": "users"})


@requires(Capability.MANAGE_USERS)
def user_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    actor = request.user
    target = _visible_user(actor, pk)
    locks = throttle.account_locks(target)
    context = {
        "target": target,
        "editable": rules.can_edit_user(actor, target),
        "manageable": rules.can_manage_user(actor, target),
        "is_self": target.pk == actor.pk,
        "scope_full_name": target.scope_region.full_name() if target.scope_region else "",
        "locks": locks,
        "lock_minutes": locks[0].minutes if locks else None,
        "history": user_history(target) if actor.can_read_audit else None,
        "active_nav": "users",
    }
    return render(request, "accounts/user_detail.html", context)


@requires(Capability.MANAGE_USERS)
def user_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    actor = request.user
    target = _visible_user(actor, pk)
    rules.require_edit_user(actor, target)
    form = UserForm(_posted(request), instance=target, actor=actor)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            with audit_reason(_("修改用户信息")):
                form.save()
            messages.success(request, _("已保存用户“%(user)s”的修改") % {"user": target.username})
        return redirect("accounts:user_detail", pk=target.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "target": target, "creating": False, "active_nav": "users"},
    )


@requires(Capability.MANAGE_USERS)
def user_set_active(request: AuthenticatedRequest, pk: int, active: bool) -> HttpResponse:
    """停用 / 启用: accounts are never deleted, because the audit log refers to them."""
    actor = request.user
    target = _visible_user(actor, pk)
    if target.pk == actor.pk:
        messages.error(request, _("不能停用本人的账号"))
        return redirect("accounts:user_detail", pk=target.pk)
    rules.require_manage_user(actor, target)
    if target.is_active == active:
        return redirect("accounts:user_detail", pk=target.pk)
    form = StatusForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        action = _("启用账号") if active else _("停用账号")
        reason = form.cleaned_data["reason"].strip()
        target.is_active = active
        with audit_reason(f"{action}：{reason}" if reason else action):
            target.save()
        # An inactive user's sessions stop working at their next request (the backend refuses them).
        messages.success(request, _("已%(action)s“%(user)s”") % {"action": action, "user": target.username})
        return redirect("accounts:user_detail", pk=target.pk)
    return render(
        request,
        "accounts/user_status.html",
        {"target": target, "form": form, "activate": active, "active_nav": "users"},
    )


@requires(Capability.MANAGE_USERS)
def user_password(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    actor = request.user
    target = _visible_user(actor, pk)
    if target.pk == actor.pk:
        return redirect("accounts:my_account")  # one's own password needs the current one
    rules.require_manage_user(actor, target)
    form = AdminSetPasswordForm(target, _posted(request))
    if request.method == "POST" and form.is_valid():
        with audit_reason(_("重置密码")):
            form.save()
        # Changing the password also ends the user's existing sessions (their session hash no longer matches).
        messages.success(request, _("已重置“%(user)s”的密码，请通过安全渠道告知本人") % {"user": target.username})
        return redirect("accounts:user_detail", pk=target.pk)
    return render(request, "accounts/user_password.html", {"target": target, "form": form, "active_nav": "users"})


@require_POST
@requires(Capability.MANAGE_USERS)
def user_unlock(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """解除登录锁定: the account may be tried again from every address it is locked from.

    Not for oneself nor a peer (rules), or a manager could keep guessing a password by unlocking after
    every lock."""
    actor = request.user
    target = _visible_user(actor, pk)
    rules.require_manage_user(actor, target)
    locks = throttle.account_locks(target)
    if not locks:
        messages.info(request, _("“%(user)s”的登录当前未被锁定") % {"user": target.username})
        return redirect("accounts:user_detail", pk=target.pk)
    target.login_unlocked_at = timezone.now()
    addresses = "、".join(lock.remote_addr or "—" for lock in locks)
    with audit_reason(_("解除登录锁定：%(addresses)s") % {"addresses": addresses}):
        target.save(update_fields=["login_unlocked_at"])
    messages.success(request, _("已解除“%(user)s”的登录锁定") % {"user": target.username})
    return redirect("accounts:user_detail", pk=target.pk)


@logged_in
def my_account(request: AuthenticatedRequest) -> HttpResponse:
    """我的账号: one's own details, recent login attempts and the password change (any role)."""
    user = request.user
    assert isinstance(user, User)  # what the login sets; the layers below see it as a ScopedUser
    form = OwnPasswordChangeForm(user, _posted(request), request=request)
    if request.method == "POST" and form.is_valid():
        with audit_reason(_("修改本人密码")):
            form.save()
        update_session_auth_hash(request, user)  # stay logged in here; other sessions end
        messages.success(request, _("密码已修改"))
        return redirect("accounts:my_account")
    context = {
        "form": form,
        "attempts": throttle.recent_attempts(user.username),
        "active_nav": "account",
    }
    return render(request, "accounts/my_account.html", context)


def _display(field: str, value: Any, region_names: dict[str, str]) -> str:
    if value is None or value == "":
        return "—"
    if field == "role":
        try:
            return str(Role(value).label)
        except ValueError:
            return str(value)
    if field == "scope_region":
        name = region_names.get(value)
        return f"{name}（{value}）" if name else str(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field in ("date_joined", "login_unlocked_at"):
        try:
            return _format_time(dt.datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def user_history(target: User, limit: int = HISTORY_SIZE) -> list[dict[str, Any]]:
    """The audit entries of one user record, with field names and values made readable."""
    labels = {f.name: str(f.verbose_name) for f in User._meta.concrete_fields}
    labels.update({"scope_region": _("管辖范围"), "is_active": _("账号启用")})
    own = AuditEntry.objects.filter(object_type=User.audit_object_type(), object_id=str(target.pk))
    entries = list(own.order_by("-id")[:limit])
    scope_codes = {v for e in entries for v in e.changes.get("scope_region", []) if v}
    region_names = dict(Region.objects.unscoped().filter(code__in=scope_codes).values_list("code", "name"))
    rows = []
    for entry in entries:
        changes = []
        for field, (before, after) in sorted(entry.changes.items()):
            if entry.action == "create" and after in (None, "", False):
                continue  # a new record's empty fields are not news
            if field == "password":  # stored masked; only the fact of a change is shown
                before, after = "", _("（已设置）") if entry.action == "create" else _("（已修改）")
            else:
                before = "" if entry.action == "create" else _display(field, before, region_names)
                after = _display(field, after, region_names)
            changes.append({"label": labels.get(field, field), "before": before, "after": after})
        rows.append({"entry": entry, "changes": changes})
    return rows
