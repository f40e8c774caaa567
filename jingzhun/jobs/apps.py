from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jingzhun.jobs"
    label = "jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        # Register the queue task in every process (web and worker).
        from jingzhun.jobs import runner  # noqa: F401
