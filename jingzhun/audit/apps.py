from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.db.models.signals import post_delete, pre_delete
from django.utils.translation import gettext_lazy as _

from jingzhun.core.contributions import HousekeepingStep, NavEntry


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

    def nav_entries(self) -> Iterable[NavEntry]:
        return [NavEntry("audit", _("操作日志"), "audit:search", order=95, visible=lambda u: u.can_read_audit)]

    def housekeeping_steps(self) -> Iterable[HousekeepingStep]:
        from jingzhun.audit.anchors import daily_anchor

        # The housekeeping command reports what each step deleted; this one writes, hence its label.
        return [HousekeepingStep("操作日志锚点（写入链头，不删除）", daily_anchor, order=900)]
