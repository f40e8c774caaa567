"""Error pages speak the user's language and do not tell "absent" from "outside your scope"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.registry.tests.factories import household_with_members

pytestmark = pytest.mark.django_db


def test_a_household_outside_the_scope_gives_the_chinese_404_page(client, tree, make_user):
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    outside = household_with_members(tree.village_b1, size=1)
    for url in (reverse("registry:household_detail", args=[outside.pk]), "/registry/households/999999999/"):
        response = client.get(url)
        assert response.status_code == 404
        page = response.content.decode()
        assert "页面不存在" in page and "Not Found" not in page
        assert reverse("portal:home") in page


def test_the_500_page_needs_no_context(client):
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "系统出错" in page
