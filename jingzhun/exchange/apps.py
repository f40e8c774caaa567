from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "jingzhun.exchange"
    label = "exchange"
    verbose_name = "Excel 导入导出"

    def ready(self) -> None:
        from jingzhun.exchange import jobs  # noqa: F401  (registers the import job kind)
