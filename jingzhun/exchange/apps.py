from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jingzhun.core.contributions import HousekeepingStep, NavEntry


class ExchangeConfig(AppConfig):
    name = "jingzhun.exchange"
    label = "exchange"
    verbose_name = "Excel 导入导出"

    def ready(self) -> None:
        from jingzhun.exchange import jobs  # noqa: F401  (registers the import job kind)

    def nav_entries(self) -> Iterable[NavEntry]:
        return [NavEntry("exchange", _("Excel导入导出"), "exchange:index", order=40)]

    def housekeeping_steps(self) -> Iterable[HousekeepingStep]:
        from jingzhun.exchange.storage import prune_exports, prune_uploads

        return [
            HousekeepingStep("导入文件", prune_uploads, order=30),
            HousekeepingStep("后台导出文件", prune_exports, order=40),
        ]
