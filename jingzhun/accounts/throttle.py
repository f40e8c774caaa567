"""Login throttling: too many recent failures for a username or an address lock further tries.

A locked try is refused before the password is checked and is not recorded, so hammering a locked
account neither reveals the password nor extends the lock: it lifts when enough of the counted
failures have aged out of the window.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from django.conf import settings
from django.utils import timezone

from jingzhun.accounts.models import LoginAttempt

# An address gets more room than one account: a village office or a township shares one public address.
ADDRESS_FACTOR = 4


def window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def username_limit() -> int:
    return settings.LOGIN_MAX_FAILURES


def address_limit() -> int:
    return settings.LOGIN_MAX_FAILURES * ADDRESS_FACTOR


def _lock_ends(limit: int, now: dt.datetime, *, reset_on_success: bool, **lookup: str) -> dt.datetime | None:
    """When the lock on ``lookup`` lifts, or None if it is not locked.

    Locked means ``limit`` failures inside the window; it lifts when the oldest of the latest ``limit``
    failures leaves the window.
    """
    attempts = LoginAttempt.objects.filter(timestamp__gte=now - window(), **lookup)
    if reset_on_success:
        # A successful login clears the account's count: only failures after the last success count.
        last_success = attempts.filter(succeeded=True).order_by("-timestamp").values_list("timestamp", flat=True)
        since = last_success.first()
        if since is not None:
            attempts = attempts.filter(timestamp__gt=since)
    latest = list(attempts.filter(succeeded=False).order_by("-timestamp").values_list("timestamp", flat=True)[:limit])
    if len(latest) < limit:
        return None
    return latest[-1] + window()


def lock_remaining(username: str, remote_addr: str | None) -> dt.timedelta | None:
    """How long the username or the address stays locked; None when a login may be tried."""
    now = timezone.now()
    ends: list[dt.datetime] = []
    if username:
        end = _lock_ends(username_limit(), now, reset_on_success=True, username=username)
        if end is not None:
            ends.append(end)
    if remote_addr and not _is_local_proxy(remote_addr):
        # Not reset by a success: otherwise one valid account would let an address try passwords on
        # every other account without ever being locked.
        end = _lock_ends(address_limit(), now, reset_on_success=False, remote_addr=remote_addr)
        if end is not None:
            ends.append(end)
    if not ends:
        return None
    return max(max(ends) - now, dt.timedelta(0))


def _is_local_proxy(remote_addr: str) -> bool:
    """Behind a reverse proxy on the same machine every request comes from loopback; locking that
    address would lock everyone out after a few typos anywhere. The per-username lock still applies."""
    if not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return False
    try:
        return ipaddress.ip_address(remote_addr).is_loopback
    except ValueError:
        return False


def minutes(remaining: dt.timedelta) -> int:
    """Whole minutes to show (rounded up, at least 1)."""
    return max(1, math.ceil(remaining.total_seconds() / 60))


def record_attempt(username: str, remote_addr: str | None, succeeded: bool) -> None:
    LoginAttempt.objects.create(username=username[:150], remote_addr=remote_addr, succeeded=succeeded)


def recent_attempts(username: str, limit: int = 10) -> list[LoginAttempt]:
    """The latest tries on an account, shown to its owner so they notice someone guessing."""
    return list(LoginAttempt.objects.filter(username=username).order_by("-timestamp")[:limit])


def failures_since(username: str, since: dt.datetime | None) -> int:
    attempts = LoginAttempt.objects.filter(username=username, succeeded=False)
    if since is not None:
        attempts = attempts.filter(timestamp__gt=since)
    return attempts.count()


def prune_attempts(now: dt.datetime | None = None) -> int:
    """Delete login attempts older than LOGIN_ATTEMPT_KEEP_DAYS (never inside the throttling window);
    returns how many."""
    keep = max(dt.timedelta(days=settings.LOGIN_ATTEMPT_KEEP_DAYS), window())
    deleted, _per_model = LoginAttempt.objects.filter(timestamp__lt=(now or timezone.now()) - keep).delete()
    return deleted
