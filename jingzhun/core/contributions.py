"""What each app contributes to the shell: navigation entries, home-page cards, housekeeping steps and
region names.

An app offers them through methods on its ``AppConfig`` (``nav_entries``, ``home_cards``,
``housekeeping_steps``, ``region_names``); the top layer (``portal``) collects them here. Adding a bounded
context therefore edits no file of ``core`` or ``portal``, and no lower app needs to import a higher one
to appear on the home page or in the menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils.functional import Promise

from jingzhun.core.types import AuthenticatedRequest

Label = str | Promise


def _everyone(user: Any) -> bool:
    return True


@dataclass(frozen=True)
class NavEntry:
    """One item of the top navigation; ``order`` follows a household's life (registry before monitoring …)."""

    key: str
    label: Label
    url_name: str
    order: int
    visible: Callable[[Any], bool] = _everyone


@dataclass(frozen=True)
class HomeCard:
    """A block of the home page: ``template`` rendered with what ``build(request)`` returns (scoped figures).

    ``build`` returns None when the card has nothing to show to this user.
    """

    key: str
    order: int
    template: str
    build: Callable[[AuthenticatedRequest], Mapping[str, Any] | None]
    visible: Callable[[Any], bool] = _everyone


@dataclass(frozen=True)
class HousekeepingStep:
    """Deletes what is kept only for a while; returns how many items it deleted (-1: not counted)."""

    label: str
    run: Callable[[], int]
    order: int = 100


@dataclass
class _Collected:
    nav: list[NavEntry] = field(default_factory=list)
    cards: list[HomeCard] = field(default_factory=list)
    steps: list[HousekeepingStep] = field(default_factory=list)


def _collect() -> _Collected:
    found = _Collected()
    for config in apps.get_app_configs():
        for name, target in (
            ("nav_entries", found.nav),
            ("home_cards", found.cards),
            ("housekeeping_steps", found.steps),
        ):
            method = getattr(config, name, None)
            if callable(method):
                target.extend(method())
    return found


def nav_entries(user: Any) -> list[NavEntry]:
    """The navigation entries ``user`` may open, in order."""
    return sorted((e for e in _collect().nav if e.visible(user)), key=lambda e: (e.order, e.key))


def home_cards(user: Any) -> list[HomeCard]:
    return sorted((c for c in _collect().cards if c.visible(user)), key=lambda c: (c.order, c.key))


def housekeeping_steps() -> list[HousekeepingStep]:
    return sorted(_collect().steps, key=lambda s: (s.order, s.label))


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """Names of region codes, from the app that owns regions (empty when no app offers names)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    for config in apps.get_app_configs():
        lookup = getattr(config, "region_names", None)
        if callable(lookup):
            return dict(lookup(wanted))
    return {}


def region_full_name(code: str) -> str:
    """The full name of one region (province to village), from the app that owns regions."""
    for config in apps.get_app_configs():
        lookup = getattr(config, "region_full_name", None)
        if callable(lookup):
            return str(lookup(code))
    return code
