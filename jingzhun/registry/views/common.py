"""What every registry page shares: the signed-in user's request, and the field labels pages show."""

from __future__ import annotations

import datetime as dt

from django.db import models

NAV = "households"  # the navigation entry of the household pages


def today() -> dt.date:
    return dt.date.today()


def verbose_name(model: type[models.Model], name: str) -> str:
    """The label of one of ``model``'s own fields."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a field of {model.__name__}"
    return str(field.verbose_name)
