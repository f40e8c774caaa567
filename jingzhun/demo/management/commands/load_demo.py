"""Load the demo county (零陵区): regions, flags, one login per role and the generated households.

Safe to run again: a second run adds nothing. ``--households N`` sets the size (default: the 12,187
paired households of the seed report, ~40,000 members; more to try the pages at scale; 0 for regions
and logins only).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.audit.context import audit_context
from jingzhun.demo import households as demo_households
from jingzhun.demo import regions as demo_regions
from jingzhun.demo.households import MONITORING_LINE
from jingzhun.demo.loader import load_households
from jingzhun.policy.models import PovertyLine, PovertyLineKind
from jingzhun.regions.importer import apply_rows
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind
from jingzhun.registry.quality import run_quality

DEMO_PASSWORD = "jingzhun-demo"


class Command(BaseCommand):
    help = "载入演示区县（湖南省永州市零陵区）及演示账号；重复运行不会产生重复数据"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--households",
            type=int,
            default=demo_households.DEFAULT_HOUSEHOLDS,
            help=f"演示户数（默认 {demo_households.DEFAULT_HOUSEHOLDS}；0 表示只载入区划和账号）",
        )
        parser.add_argument("--seed", type=int, default=demo_households.SEED, help="随机种子（相同种子数据相同）")

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("生产环境（PRODUCTION=1）不能载入演示数据和演示账号")
        with audit_context(None, source="demo", reason="载入演示数据"):
            villages = demo_regions.build_villages()
            groups = demo_regions.build_groups(villages)
            result = apply_rows(demo_regions.region_rows(villages, groups))
            flags = self._flags(villages)
            self._monitoring_lines()
            users = self._users(villages)
            if not options["quiet"]:
                self.stdout.write(
                    f"行政区划：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}；"
                    f"区划标识新增 {flags}；演示账号新增 {users}"
                )
            count = options["households"]
            if count < 0:
                raise CommandError("--households 不能为负数")
            if count:
                self._households(count, options["seed"], quiet=options["quiet"])

    def _households(self, count: int, seed: int, *, quiet: bool) -> None:
        def progress(done: int, total: int, seconds: float) -> None:
            self.stdout.write(f"  演示户：{done:,}/{total:,}（{seconds:.0f} 秒）")
            self.stdout.flush()

        loaded = load_households(count, seed=seed, progress=None if quiet else progress)
        if not quiet:
            self.stdout.write(
                f"演示户：新增 {loaded.created:,} 户、{loaded.members:,} 人、{loaded.years:,} 条年度信息，"
                f"已存在 {loaded.existing:,} 户"
                + (f"，证件号码冲突跳过 {loaded.skipped_clash:,} 户" if loaded.skipped_clash else "")
                + f"；用时 {loaded.seconds:.1f} 秒"
            )
        if loaded.created:
            # The data-quality pages should show the deliberate violations straight away.
            checked = run_quality(demo_regions.COUNTY_CODE)
            if not quiet:
                self.stdout.write(f"数据质量检查：{checked.households:,} 户，发现问题 {checked.issues:,} 条")

    def _monitoring_lines(self) -> None:
        """The province's 防返贫监测范围 the demo households were generated against (Hunan, prefix 43)."""
        for year, amount in MONITORING_LINE.items():
            PovertyLine.objects.get_or_create(
                kind=PovertyLineKind.MONITORING,
                year=year,
                region_prefix="43",
                defaults={"amount": amount, "source": "演示数据（省定监测范围，示例值）"},
            )

    @transaction.atomic
    def _flags(self, villages: list[demo_regions.DemoVillage]) -> int:
        created = 0
        for v in villages:
            if v.poor_from is None:
                continue
            wanted = [
                (RegionFlagKind.POOR_VILLAGE, v.poor_from, True),
                (RegionFlagKind.POOR_VILLAGE, v.exit_year, False),
            ]
            if v.deep_poor:
                wanted += [
                    (RegionFlagKind.DEEP_POOR_VILLAGE, 2017, True),
                    (RegionFlagKind.DEEP_POOR_VILLAGE, v.exit_year, False),
                ]
            for flag, year, value in wanted:
                _obj, was_created = RegionFlag.objects.unscoped().get_or_create(
                    region_id=v.code, flag=flag, year=year, defaults={"value": value}
                )
                created += was_created
        return created

    @transaction.atomic
    def _users(self, villages: list[demo_regions.DemoVillage]) -> int:
        township = "431102101000"  # 珠山镇
        village = next(v.code for v in villages if v.township_code == township[:9] and v.poor_from)
        specs = [
            # National policy data (poverty lines, code tables) is changed only by an unlimited administrator.
            ("national", Role.SYSTEM_ADMIN, None, "全国数据管理员（演示）"),
            ("admin", Role.SYSTEM_ADMIN, demo_regions.COUNTY_CODE, "系统管理员（演示）"),
            ("county", Role.COUNTY_ADMIN, demo_regions.COUNTY_CODE, "区乡村振兴局（演示）"),
            ("township", Role.TOWNSHIP, township, "珠山镇干部（演示）"),
            ("village", Role.VILLAGE, village, "驻村工作队员（演示）"),
            ("helper", Role.HELPER, village, "帮扶责任人（演示）"),
            ("leader", Role.LEADER, demo_regions.COUNTY_CODE, "区领导（演示）"),
            ("auditor", Role.AUDITOR, demo_regions.COUNTY_CODE, "纪检审计（演示）"),
        ]
        created = 0
        for username, role, scope, full_name in specs:
            if User.objects.unscoped().filter(username=username).exists():
                continue
            user = User(
                username=username,
                role=role,
                scope_region=Region.objects.unscoped().get(code=scope) if scope else None,
                full_name=full_name,
                is_demo=True,
                is_staff=role == Role.SYSTEM_ADMIN,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            created += 1
        return created
