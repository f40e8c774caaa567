"""Test support shared by every app (imported by tests only)."""

from __future__ import annotations

from typing import Any, TypeVar

import factory
from django.db import models

T = TypeVar("T", bound=models.Model)


class RecordFactory(factory.django.DjangoModelFactory[T]):
    """Factories build test data across regions on purpose, so they write and look up through the plain
    default manager rather than the scope-guarded ``objects`` (core.scope)."""

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class: Any) -> Any:
        manager = super()._get_manager(model_class)
        return model_class._default_manager.db_manager(manager.db)
