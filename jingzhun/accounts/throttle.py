"""Login throttling, by (account, address) with a growing delay and by address.

- An account is locked *from one address*: LOGIN_MAX_FAILURES failures from there lock that pair for
  LOGIN_FAILURE_WINDOW_SECONDS, and each further failure once the lock lifts doubles it, up to
  LOGIN_LOCK_MAX_SECONDS. Failures are remembered for MEMORY_LOCKS longest locks (so a patient guesser
  stays at the longest lock), and forgotten after a success from the same pair or an administrator's
  unlock (User.login_unlocked_at). Locking the account everywhere would let anyone who knows a username
  keep its owner out with a few guesses.
- An address is locked for everyone when it fails ADDRESS_FACTOR times LOGIN_MAX_FAILURES within the
  window, whichever accounts it tried: one address guessing a common password on many accounts.

Accounts are counted by usernames.account_key, so every spelling that logs in to an account (``ｈｅｌｐｅｒ``,
`` helper``) counts against it. A locked try is refused before the password is checked and is not
recorded, so hammering a lock neither reveals the password nor extends it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from jingzhun.accounts.models import LoginAttempt, User
from jingzhun.accounts.usernames import account_key, normalize_username

# An address gets more room than one account: a village office or a township shares one public address.
ADDRESS_FACTOR = 4
# Long enough that failures a longest lock apart still add up to a lock: a day's lock, a week's memory.
MEMORY_LOCKS = 7
# 2**16 windows is far beyond any sensible LOGIN_LOCK_MAX_SECONDS; the cap applies long before.
_MAX_DOUBLINGS = 16


def window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def longest_lock() -> dt.timedelta:
    return max(dt.timedelta(seconds=settings.LOGIN_LOCK_MAX_SECONDS), window())


def memory() -> dt.timedelta:
    return longest_lock() * MEMORY_LOCKS


def account_limit() -> int:
    return settings.LOGIN_MAX_FAILURES


def address_limit() -> int:
    return settings.LOGIN_MAX_FAILURES * ADDRESS_FACTOR


def pair_lock_length(failures: int) -> dt.timedelta | None:
    """How long ``failures`` counted failures of one (account, address) lock it; None below the limit."""
    beyond = failures - account_limit()
    if beyond < 0:
        return None
    return min(window() * (1 << min(beyond, _MAX_DOUBLINGS)), longest_lock())


def _unlocked_at(username: str) -> dt.datetime | None:
    """When an administrator last unlocked the account this name logs in to: looked up as authentication
    looks it up, so the unlock applies exactly to the spellings that could log in."""
    name = normalize_username(username)
    if not name:
        return None
    unlocked: dt.datetime | None = (
        User.unscoped_objects.filter(username=name).values_list("login_unlocked_at", flat=True).first()
    )
    return unlocked


def _pair_lock_ends(
    key: str, remote_addr: str | None, now: dt.datetime, unlocked_at: dt.datetime | None
) -> dt.datetime | None:
    attempts = LoginAttempt.objects.filter(account=key, remote_addr=remote_addr, timestamp__gte=now - memory())
    last_success = attempts.filter(succeeded=True).order_by("-timestamp").values_list("timestamp", flat=True).first()
    since = max((t for t in (last_success, unlocked_at) if t is not None), default=None)
    failures = attempts.filter(succeeded=False)
    if since is not None:
        failures = failures.filter(timestamp__gt=since)
    # Bounded: a locked try is not recorded, so a pair holds a few dozen failures at most.
    times = list(failures.order_by("-timestamp").values_list("timestamp", flat=True))
    length = pair_lock_length(len(times))
    return times[0] + length if length is not None else None


def _address_lock_ends(remote_addr: str, now: dt.datetime) -> dt.datetime | None:
    """Locked while ``address_limit()`` failures lie inside the window (a success does not reset it:
    otherwise one valid account would let an address try passwords on every other account)."""
    limit = address_limit()
    failures = LoginAttempt.objects.filter(remote_addr=remote_addr, succeeded=False, timestamp__gte=now - window())
    latest = list(failures.order_by("-timestamp").values_list("timestamp", flat=True)[:limit])
    if len(latest) < limit:
        return None
    return latest[-1] + window()


def lock_remaining(username: str, remote_addr: str | None) -> dt.timedelta | None:
    """How long a try on ``username`` from ``remote_addr`` stays refused; None when a login may be tried."""
    now = timezone.now()
    ends: list[dt.datetime] = []
    key = account_key(username)
    if key:
        end = _pair_lock_ends(key, remote_addr, now, _unlocked_at(username))
        if end is not None:
            ends.append(end)
    if remote_addr and not _is_local_proxy(remote_addr):
        end = _address_lock_ends(remote_addr, now)
        if end is not None:
            ends.append(end)
    ends = [end for end in ends if end > now]
    if not ends:
        return None
    return max(ends) - now


@dataclass(frozen=True)
class AddressLock:
    """One address from which an account is locked, for the administrator's user page."""

    remote_addr: str | None
    remaining: dt.timedelta

    @property
    def minutes(self) -> int:
        return minutes(self.remaining)


def account_locks(user: User) -> list[AddressLock]:
    """The addresses from which ``user``'s account is locked now, longest lock first."""
    now = timezone.now()
    key = account_key(user.username)
    recent = LoginAttempt.objects.filter(account=key, succeeded=False, timestamp__gte=now - memory())
    if user.login_unlocked_at is not None:
        recent = recent.filter(timestamp__gt=user.login_unlocked_at)
    locks = []
    for remote_addr in recent.values_list("remote_addr", flat=True).distinct():
        end = _pair_lock_ends(key, remote_addr, now, user.login_unlocked_at)
        if end is not None and end > now:
            locks.append(AddressLock(remote_addr, end - now))
    return sorted(locks, key=lambda lock: lock.remaining, reverse=True)


def _is_local_proxy(remote_addr: str) -> bool:
    """Behind a reverse proxy on the same machine every request comes from loopback; locking that
    address would lock everyone out after a few typos anywhere. The (account, address) lock still applies."""
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
    """Record a try as typed (the account it counts against is derived from it: LoginAttempt.save)."""
    LoginAttempt.objects.create(username=username[:150], remote_addr=remote_addr, succeeded=succeeded)


def recent_attempts(username: str, limit: int = 10) -> list[LoginAttempt]:
    """The latest tries on an account, in any spelling, shown to its owner so they notice someone guessing."""
    return list(LoginAttempt.objects.filter(account=account_key(username)).order_by("-timestamp")[:limit])


def failures_since(username: str, since: dt.datetime | None) -> int:
    attempts = LoginAttempt.objects.filter(account=account_key(username), succeeded=False)
    if since is not None:
        attempts = attempts.filter(timestamp__gt=since)
    return attempts.count()


def prune_attempts(now: dt.datetime | None = None) -> int:
    """Delete login attempts older than LOGIN_ATTEMPT_KEEP_DAYS (never those a lock still counts);
    returns how many."""
    keep = max(dt.timedelta(days=settings.LOGIN_ATTEMPT_KEEP_DAYS), memory())
    deleted, _per_model = LoginAttempt.objects.filter(timestamp__lt=(now or timezone.now()) - keep).delete()
    return deleted
