from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jingzhun.core.contributions import NavEntry


class PolicyConfig(AppConfig):
    name = "jingzhun.policy"
    label = "policy"
    verbose_name = "政策参数与代码表"

    def nav_entries(self) -> Iterable[NavEntry]:
        return [NavEntry("policy", _("政策参数"), "policy:overview", order=80)]
