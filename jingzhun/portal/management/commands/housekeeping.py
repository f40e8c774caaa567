from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jingzhun.portal.housekeeping import run_housekeeping


class Command(BaseCommand):
    help = "删除过期会话、超过保存期限的登录尝试记录、导入文件和后台导出文件（任务队列每天自动执行）"

    def handle(self, *args: Any, **options: Any) -> None:
        for label, count in run_housekeeping().items():
            self.stdout.write(f"{label}：删除 {'（未计数）' if count < 0 else count}")
