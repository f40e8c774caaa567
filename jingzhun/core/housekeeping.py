"""Housekeeping: delete what is kept only for a while. Run daily by the task queue (core.tasks) and by
``manage.py housekeeping`` (for a cron job when the queue runs elsewhere).

Each step deletes by age alone, so running it twice, or late, does no harm.
"""

from __future__ import annotations

from collections.abc import Callable


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
    return count


def _login_attempts() -> int:
    from jingzhun.accounts.throttle import prune_attempts

    return prune_attempts()


def _uploads() -> int:
    from jingzhun.exchange.storage import prune_uploads

    return prune_uploads()


def _exports() -> int:
    from jingzhun.exchange.storage import prune_exports

    return prune_exports()


STEPS: dict[str, Callable[[], int]] = {
    "过期会话": _expired_sessions,
    "登录尝试记录": _login_attempts,
    "导入文件": _uploads,
    "后台导出文件": _exports,
}


def run_housekeeping() -> dict[str, int]:
    """Every step; returns how many items each deleted (-1: not counted)."""
    return {label: step() for label, step in STEPS.items()}
