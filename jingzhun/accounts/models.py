"""Users (用户) with a role and a scope region (管辖范围)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from jingzhun.accounts.roles import ROLE_CAPABILITIES, Role
from jingzhun.accounts.usernames import account_key, normalize_username
from jingzhun.audit.models import AuditedModel
from jingzhun.core import codes
from jingzhun.core.access import Capability
from jingzhun.core.scope import ScopedManager, ScopedQuerySet


class UserQuerySet(ScopedQuerySet):
    pass


# mypy refuses a call in a base list, and the django-stubs plugin cannot build the module-level
# `Base = UserManager.from_queryset(...)` form in this module either (the plugin makes django.contrib.auth
# depend on the user model's module, so UserManager is unfinished here). So to mypy this manager's base is Any.
class JingzhunUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("role", Role.SYSTEM_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class ScopedUserManager(ScopedManager, JingzhunUserManager):
    """``User.objects``: reads choose a scope like every region-owned record (core.scope)."""


class User(AuditedModel, AbstractUser):
    # A user belongs to the region of their scope; administrators see users under their subtree.
    scope_field = "scope_region_id"

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VILLAGE)
    scope_region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("管辖范围"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("用户可查看和操作的区划范围（含下级）；系统管理员留空表示全部"),
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    organisation = models.CharField(_("工作单位"), max_length=100, blank=True)
    is_demo = models.BooleanField(_("演示账号"), default=False, editable=False)
    # Login failures before this moment no longer lock the account (an administrator unlocked it).
    login_unlocked_at = models.DateTimeField(_("解除登录锁定"), null=True, blank=True, editable=False)

    # Reads choose a scope (core.scope); authentication and Django's own reads use the plain default manager.
    objects: ClassVar[ScopedUserManager] = ScopedUserManager()
    unscoped_objects: ClassVar[JingzhunUserManager] = JingzhunUserManager()

    audit_exclude = ("last_login",)
    audit_mask = ("password",)

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        indexes = [models.Index(fields=["scope_region", "role"], name="user_scope_role")]

    def __str__(self) -> str:
        return self.full_name or self.username

    @classmethod
    def normalize_username(cls, username: str) -> str:
        # Django calls this when a user is created or cleaned; the login and the throttle use the same function.
        return normalize_username(username)

    @property
    def scope_prefix(self) -> str | None:
        """'' = whole system (system administrator without a region); None = nothing."""
        if self.scope_region_id:
            return codes.prefix_of(self.scope_region_id)
        if self.role == Role.SYSTEM_ADMIN:
            return ""
        return None

    def has_capability(self, capability: Capability) -> bool:
        """What the role allows (accounts.roles.ROLE_CAPABILITIES); nothing for an inactive user."""
        if not self.is_active:
            return False
        held = ROLE_CAPABILITIES.get(self.role, frozenset())
        if capability == Capability.MANAGE_REFERENCE and self.is_superuser and Capability.EDIT in held:
            return True
        return capability in held

    @property
    def can_write(self) -> bool:
        return self.has_capability(Capability.EDIT)

    @property
    def can_manage_users(self) -> bool:
        return self.has_capability(Capability.MANAGE_USERS)

    @property
    def can_read_audit(self) -> bool:
        return self.has_capability(Capability.READ_AUDIT)

    @property
    def can_manage_reference_data(self) -> bool:
        return self.has_capability(Capability.MANAGE_REFERENCE)


class LoginAttempt(models.Model):
    """One login try; recent failures per (account, address) and per address throttle further tries."""

    # A security log written by the login form, never edited; the audit log records what users change.
    audit_exempt = "登录日志本身即为安全记录，只追加不修改"

    username = models.CharField(_("用户名"), max_length=150, help_text=_("登录时输入的原样"))
    # Derived from what was typed (save): every spelling of one account counts together.
    account = models.CharField(_("账号"), max_length=150, editable=False)
    remote_addr = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    succeeded = models.BooleanField(_("是否成功"), default=False)
    timestamp = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("登录尝试")
        verbose_name_plural = _("登录尝试")
        indexes = [
            models.Index(fields=["account", "timestamp"], name="login_account_time"),
            models.Index(fields=["account", "remote_addr", "timestamp"], name="login_account_addr_time"),
            models.Index(fields=["remote_addr", "timestamp"], name="login_addr_time"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.account = account_key(self.username)[:150]
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.username} {self.timestamp:%Y-%m-%d %H:%M} {'成功' if self.succeeded else '失败'}"
