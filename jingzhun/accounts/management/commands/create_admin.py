"""First run in production: create a 系统管理员 with a scope region, the password typed at a prompt.

Scripts pass --noinput and the password in JINGZHUN_ADMIN_PASSWORD, or pipe it with --password-stdin;
never as a command-line argument, where it would show in the process list and the shell history.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jingzhun.accounts.forms import clean_phone
from jingzhun.accounts.models import User
from jingzhun.accounts.roles import FINEST_SCOPE_LEVEL, Role
from jingzhun.accounts.usernames import normalize_username
from jingzhun.audit.context import audit_context
from jingzhun.core import codes
from jingzhun.regions.models import Region

PASSWORD_ENV = "JINGZHUN_ADMIN_PASSWORD"
PROMPT_TRIES = 3


class Command(BaseCommand):
    help = (
        "创建系统管理员账号（生产环境首次部署用）。--scope 为管辖区划代码，--all-regions 表示不限区划；"
        f"密码交互输入，脚本中用 --noinput 并设置环境变量 {PASSWORD_ENV}，或用 --password-stdin 从标准输入读取"
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="登录用户名（不给则提示输入）")
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--scope", help="管辖区划代码，如 431102 或 431102000000（须已导入行政区划）")
        scope.add_argument("--all-regions", action="store_true", help="不限区划（管辖全部区划）")
        parser.add_argument("--full-name", default="", help="姓名")
        parser.add_argument("--phone", default="", help="联系电话")
        parser.add_argument("--organisation", default="", help="工作单位")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive", help="不交互")
        parser.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")

    def handle(self, *args: Any, **options: Any) -> None:
        interactive = options["interactive"] and not options["password_stdin"]
        username = normalize_username(options["username"] or (input("用户名：") if interactive else ""))
        if not username:
            raise CommandError("用户名不能为空（--username）")
        if User.objects.unscoped().filter(username__iexact=username).exists():
            raise CommandError(f"用户名“{username}”已存在")
        scope = options["scope"]
        if scope is None and not options["all_regions"]:
            if not interactive:
                raise CommandError("须给出 --scope 区划代码，或 --all-regions 表示不限区划")
            scope = input("管辖区划代码（如 431102；留空表示全部区划）：").strip()
        region = self._region(scope) if scope else None
        try:
            phone = clean_phone(options["phone"])
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        user = User(
            username=username,
            role=Role.SYSTEM_ADMIN,
            scope_region=region,
            full_name=options["full_name"].strip(),
            phone=phone,
            organisation=options["organisation"].strip(),
        )
        password = self._password(user, options)
        user.set_password(password)
        with audit_context(None, source="command", reason="创建系统管理员（首次部署）"), transaction.atomic():
            user.save()
        scope_text = f"{region.full_name()}（{region.code}）" if region else "全部区划"
        self.stdout.write(self.style.SUCCESS(f"已创建系统管理员“{username}”，管辖范围：{scope_text}"))

    def _region(self, raw: str) -> Region:
        try:
            code = codes.normalize_code(raw)
        except codes.CodeError as exc:
            raise CommandError(str(exc)) from exc
        region = Region.objects.unscoped().current().filter(code=code).first()
        if region is None:
            raise CommandError(f"区划代码“{code}”不存在或已停用；请先导入行政区划（import_regions）")
        if region.level > FINEST_SCOPE_LEVEL:
            raise CommandError("管辖范围最细到村级")
        return region

    def _password(self, user: User, options: dict[str, Any]) -> str:
        if options["password_stdin"]:
            stdin = options.get("stdin") or sys.stdin
            return self._validated(stdin.readline().rstrip("\r\n"), user)
        if not options["interactive"]:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise CommandError(f"--noinput 时须设置环境变量 {PASSWORD_ENV}（或改用 --password-stdin）")
            return self._validated(password, user)
        for _attempt in range(PROMPT_TRIES):
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                self.stderr.write("两次输入的密码不一致")
                continue
            try:
                return self._validated(password, user)
            except CommandError as exc:
                self.stderr.write(str(exc))
        raise CommandError("未设置密码，账号未创建")

    def _validated(self, password: str, user: User) -> str:
        if not password:
            raise CommandError("密码不能为空")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("密码不符合要求：" + "；".join(exc.messages)) from exc
        return password
