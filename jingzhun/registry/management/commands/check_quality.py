"""manage.py check_quality [--region CODE] [--year YYYY]: run the data-quality catalogue over a region."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jingzhun.core import codes
from jingzhun.registry.models import QualityLevel
from jingzhun.registry.quality.catalogue import CATALOGUE, year_end
from jingzhun.registry.quality.run import run_quality


class Command(BaseCommand):
    help = "按区划（含下级）批量运行数据质量规则，替换该区划内已记录的问题，并按规则输出问题数"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--region", default="", help="区划代码（2/4/6/9/12 位）；不填表示全部")
        parser.add_argument("--year", type=int, default=None, help="检查该年度的户年度信息；不填则用各户最新年度")
        parser.add_argument(
            "--as-of",
            default="",
            help="计算年龄的基准日期 YYYY-MM-DD，或 year-end 表示所查年度的 12 月 31 日；默认今天",
        )
        parser.add_argument("--chunk-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = ""
        if options["region"]:
            try:
                prefix = codes.prefix_of(codes.normalize_code(options["region"]))
            except codes.CodeError as exc:
                raise CommandError(str(exc)) from exc
        as_of = None
        if options["as_of"] == "year-end":
            if options["year"] is None:
                raise CommandError("--as-of year-end 需要同时指定 --year")
            as_of = year_end(options["year"])
        elif options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError(f"基准日期“{options['as_of']}”格式应为 YYYY-MM-DD") from exc
        verbose = options["verbosity"] > 1

        def progress(done: int, total: int) -> None:
            if verbose:
                self.stderr.write(f"  {done}/{total}")

        result = run_quality(prefix, options["year"], as_of=as_of, progress=progress, chunk_size=options["chunk_size"])
        if options["verbosity"] == 0:
            return
        self.stdout.write(f"{'编号':<10} {'级别':<4} {'问题数':>8}  规则")
        for code, rule in sorted(CATALOGUE.items(), key=lambda item: item[0]):
            count = result.per_rule.get(code, 0)
            if count or verbose:
                self.stdout.write(f"{code:<10} {QualityLevel(rule.level).label!s:<4} {count:>8}  {rule.title}")
        self.stdout.write(
            f"区划 {prefix or '全部'}，年度 {result.year or '各户最新'}：检查 {result.households} 户，"
            f"错误 {result.errors} 条，警告 {result.warnings} 条，用时 {result.seconds:.1f} 秒"
        )
