"""Who is acting, for which request: read by the audit recorder, set by middleware and commands."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None = None
    actor_username: str = ""
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    remote_addr: str | None = None
    reason: str = ""
    source: str = "system"  # web / command / import / system


_current: ContextVar[AuditContext | None] = ContextVar("jingzhun_audit_context", default=None)


def current() -> AuditContext:
    """The active context; outside any request or command a fresh 'system' one per call."""
    ctx = _current.get()
    return ctx if ctx is not None else AuditContext()


@contextlib.contextmanager
def audit_context(
    actor: Any = None,
    *,
    reason: str = "",
    source: str = "command",
    request_id: uuid.UUID | None = None,
    remote_addr: str | None = None,
) -> Iterator[AuditContext]:
    """Group every write inside the block under one request id (one correlated set), by ``actor``."""
    ctx = AuditContext(
        actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "",
        request_id=request_id or uuid.uuid4(),
        remote_addr=remote_addr,
        reason=reason,
        source=source,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextlib.contextmanager
def audit_reason(reason: str) -> Iterator[None]:
    """Attach a reason (变更原因) to the writes inside the block, keeping actor and request id."""
    token = _current.set(replace(current(), reason=reason))
    try:
        yield
    finally:
        _current.reset(token)
