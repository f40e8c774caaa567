from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "jingzhun.portal"
    label = "portal"
    verbose_name = "工作台"
