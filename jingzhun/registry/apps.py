from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jingzhun.core.contributions import HomeCard, NavEntry


class RegistryConfig(AppConfig):
    name = "jingzhun.registry"
    label = "registry"
    verbose_name = "建档立卡"

    def nav_entries(self) -> Iterable[NavEntry]:
        return [
            NavEntry("households", _("建档立卡"), "registry:household_list", order=20),
            NavEntry("quality", _("数据质量"), "registry:quality_summary", order=30),
        ]

    def home_cards(self) -> Iterable[HomeCard]:
        from jingzhun.registry.cards import household_charts, household_figures

        return [
            HomeCard("household_figures", 10, "registry/cards/figures.html", household_figures),
            HomeCard("household_charts", 30, "registry/cards/charts.html", household_charts),
        ]
