from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "jingzhun.policy"
    label = "policy"
    verbose_name = "政策参数与代码表"
