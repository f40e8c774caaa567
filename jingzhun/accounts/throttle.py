"""Login throttling: too many recent failures for a username or an address lock further tries."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from jingzhun.accounts.models import LoginAttempt


def _recent_failures(**lookup: str | None) -> int:
    window_start = timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    attempts = LoginAttempt.objects.filter(timestamp__gte=window_start, **lookup)
    # A success resets the count for that key: only failures after the last success count.
    last_success = attempts.filter(succeeded=True).aggregate(t=Max("timestamp"))["t"]
    failures = attempts.filter(succeeded=False)
    if last_success is not None:
        failures = failures.filter(timestamp__gt=last_success)
    return failures.count()


def is_locked(username: str, remote_addr: str | None) -> bool:
    limit = settings.LOGIN_MAX_FAILURES
    if username and _recent_failures(username=username) >= limit:
        return True
    # An address gets more room than one account (a village office shares one public address).
    return bool(remote_addr) and _recent_failures(remote_addr=remote_addr) >= limit * 4


def record_attempt(username: str, remote_addr: str | None, succeeded: bool) -> None:
    LoginAttempt.objects.create(username=username[:150], remote_addr=remote_addr, succeeded=succeeded)


def lockout_minutes() -> int:
    return max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
