"""What every registry page shares: the navigation key, field labels, and the other household of a change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from jingzhun.core.scope import can_see_code
from jingzhun.registry.models import HouseholdChange

NAV = "households"  # the navigation entry of the household pages


def today() -> dt.date:
    return dt.date.today()


def verbose_name(model: type[models.Model], name: str) -> str:
    """The label of one of ``model``'s own fields."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a field of {model.__name__}"
    return str(field.verbose_name)


def with_other_visibility(changes: list[HouseholdChange], user: Any) -> list[HouseholdChange]:
    """Mark each change whose other household (关联户) the user may see: a move across counties must not
    show the other county's household number."""
    for change in changes:
        other = change.other_household
        change.other_visible = other is not None and can_see_code(user, other.village_id)  # type: ignore[attr-defined]
    return changes
