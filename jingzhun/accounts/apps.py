from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jingzhun.core.contributions import HousekeepingStep, NavEntry


def _expired_sessions() -> int:
    """As ``manage.py clearsessions``: the configured session engine clears its own. Counted when the
    sessions are in the database; -1 for engines that cannot say."""
    from importlib import import_module

    from django.conf import settings
    from django.utils import timezone

    store = import_module(settings.SESSION_ENGINE).SessionStore
    model = getattr(store, "get_model_class", None)
    count = model().objects.filter(expire_date__lt=timezone.now()).count() if model else -1
    store.clear_expired()
    return int(count)


def _login_attempts() -> int:
    from jingzhun.accounts.throttle import prune_attempts

    return prune_attempts()


class AccountsConfig(AppConfig):
    name = "jingzhun.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def nav_entries(self) -> Iterable[NavEntry]:
        return [NavEntry("users", _("用户管理"), "accounts:user_list", order=90, visible=lambda u: u.can_manage_users)]

    def housekeeping_steps(self) -> Iterable[HousekeepingStep]:
        return [
            HousekeepingStep("过期会话", _expired_sessions, order=10),
            HousekeepingStep("登录尝试记录", _login_attempts, order=20),
        ]
