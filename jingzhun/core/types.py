"""Types for views: the logged-in user as every layer sees it, and the request that carries one.

``accounts.User`` satisfies ``ScopedUser``; apps below accounts (core, audit, regions) type against the
protocol, so they need not import the user model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.http import HttpRequest

if TYPE_CHECKING:
    from jingzhun.core.access import Capability


class ScopedUser(Protocol):
    pk: Any
    username: str
    role: str
    is_active: bool
    is_superuser: bool
    scope_region_id: str | None

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def scope_prefix(self) -> str | None: ...

    @property
    def can_write(self) -> bool: ...

    @property
    def can_manage_users(self) -> bool: ...

    @property
    def can_read_audit(self) -> bool: ...

    @property
    def can_manage_reference_data(self) -> bool: ...

    def has_capability(self, capability: Capability) -> bool: ...


if TYPE_CHECKING:

    class AuthenticatedRequest(HttpRequest):
        """A request behind the login (LoginRequiredMiddleware): ``user`` is a real user."""

        user: ScopedUser  # type: ignore[assignment]

else:
    AuthenticatedRequest = HttpRequest
