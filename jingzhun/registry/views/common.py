"""What every registry page shares: the signed-in user's request, and the field labels pages show."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.http import HttpRequest

from jingzhun.accounts.models import User

NAV = "households"  # the navigation entry of the household pages


class UserRequest(HttpRequest):
    """A request of a signed-in user: the login middleware turns everyone else away before any page."""

    user: User


def today() -> dt.date:
    return dt.date.today()


def verbose_name(model: type[models.Model], name: str) -> str:
    """The label of one of ``model``'s own fields."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a field of {model.__name__}"
    return str(field.verbose_name)
