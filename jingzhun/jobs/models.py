"""后台任务: long work (imports, batch checks, reports) run by the queue, with progress a user can watch."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jingzhun.core.scope import ScopedManager, ScopedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


def failure_message(job_id: object) -> str:
    """What a job that failed for a reason not written for its user shows instead (the log has the rest)."""
    return f"任务未能完成：系统内部出错，详情已记入服务器日志。请联系管理员，并告知参考编号 {job_id}。"


class Job(models.Model):
    """One background run. Progress while running lives in the cache (see progress.py): the job's own
    work may hold a long transaction, and progress must be visible before it commits."""

    # The job row is itself the record of who started what and when; what a job changes is audited.
    audit_exempt = "任务记录本身即记载发起人和时间，任务所做的修改另有审计"

    scope_field = "region_code"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("任务类型"), max_length=50)
    label = models.CharField(_("任务名称"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    region_code = models.CharField(_("区划代码"), max_length=15, blank=True)
    params = models.JSONField(_("参数"), default=dict)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(ScopedQuerySet)()
    unscoped_objects = models.Manager.from_queryset(ScopedQuerySet)()

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="job_user_time")]

    def __str__(self) -> str:
        return self.label

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def shown_error(self) -> str:
        """The error as the job's user sees it. Jobs that failed before tracebacks were kept to the log
        hold one in their error: they show the general message."""
        if "Traceback (most recent call last)" in self.error:
            return failure_message(self.pk)
        return self.error
