from django.apps import AppConfig
from django.db.models.signals import post_delete, pre_delete


class AuditConfig(AppConfig):
    name = "jingzhun.audit"
    label = "audit"
    verbose_name = "操作日志"

    def ready(self) -> None:
        from django.apps import apps

        from jingzhun.audit.models import AuditedModel, record_post_delete, record_pre_delete

        # Connected per audited model (not globally) so other models keep Django's fast bulk delete.
        for model in apps.get_models():
            if issubclass(model, AuditedModel):
                uid = f"audit-delete-{model._meta.label_lower}"
                pre_delete.connect(record_pre_delete, sender=model, dispatch_uid=f"pre-{uid}")
                post_delete.connect(record_post_delete, sender=model, dispatch_uid=f"post-{uid}")
