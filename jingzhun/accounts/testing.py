"""Test factories for users (imported by tests only)."""

from __future__ import annotations

import factory

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.core.testing import RecordFactory

TEST_PASSWORD = "test-pass-123456"


class UserFactory(RecordFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    role = Role.VILLAGE
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()
