from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jingzhun.core.contributions import HomeCard, NavEntry


class RegionsConfig(AppConfig):
    name = "jingzhun.regions"
    label = "regions"
    verbose_name = "行政区划"

    def nav_entries(self) -> Iterable[NavEntry]:
        return [NavEntry("regions", _("行政区划"), "regions:browse", order=10)]

    def home_cards(self) -> Iterable[HomeCard]:
        from jingzhun.regions.cards import region_levels

        return [HomeCard("region_levels", 20, "regions/cards/levels.html", region_levels)]

    def region_names(self, codes: Iterable[str]) -> dict[str, str]:
        from jingzhun.regions.models import Region

        return dict(Region.objects.unscoped().filter(code__in=list(codes)).values_list("code", "name"))

    def region_full_name(self, code: str) -> str:
        from jingzhun.regions.models import full_name_of

        return full_name_of(code)
