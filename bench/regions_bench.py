"""Benchmark: import a national-like region table to township level, then import it again.

    .venv/bin/python bench/regions_bench.py [--rows 45000] [--encoding utf-8-sig|gb18030] [--profile]

The issue asks for the whole national table to township level (about 45,000 rows) in under a minute.
The script generates a plausible table (34 provinces, ~330 cities, ~2,850 counties, the rest townships)
as CSV in a temporary directory and imports it into a database of its own: a temporary SQLite file, or,
when DATABASE_URL is set, a fresh database on that server named ``<name>_bench_<pid>``. Both are
created, migrated and dropped here; the developer's var/jingzhun.sqlite3 and DATABASE_URL database are
never opened.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchdb import bench_database

REFERENCE_SECONDS = 60.0  # the limit for the national table

PROVINCES = [
    ("11", "北京市"),
    ("12", "天津市"),
    ("13", "河北省"),
    ("14", "山西省"),
    ("15", "内蒙古自治区"),
    ("21", "辽宁省"),
    ("22", "吉林省"),
    ("23", "黑龙江省"),
    ("31", "上海市"),
    ("32", "江苏省"),
    ("33", "浙江省"),
    ("34", "安徽省"),
    ("35", "福建省"),
    ("36", "江西省"),
    ("37", "山东省"),
    ("41", "河南省"),
    ("42", "湖北省"),
    ("43", "湖南省"),
    ("44", "广东省"),
    ("45", "广西壮族自治区"),
    ("46", "海南省"),
    ("50", "重庆市"),
    ("51", "四川省"),
    ("52", "贵州省"),
    ("53", "云南省"),
    ("54", "西藏自治区"),
    ("61", "陕西省"),
    ("62", "甘肃省"),
    ("63", "青海省"),
    ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
    ("71", "台湾省"),
    ("81", "香港特别行政区"),
    ("82", "澳门特别行政区"),
]
MUNICIPALITIES = {"11", "12", "31", "50"}
CHARS = (
    "安平阳江山河东西南北新长永兴宁德清源华丰泰和青龙凤金石桃李杨柳黄白云松竹梅兰茶水田上下大小高双三"
    "五七九太福寿富武文昌明光远定丹乐庆宝嘉临沙溪湖塘桥坪岭岗洲铺口坝川峰林鹤鹿马牛羊城关堡营屯集"
)
CITY_SUFFIXES = ["市"] * 8 + ["州", "地区", "盟"]
COUNTY_SUFFIXES = ["县"] * 6 + ["区"] * 3 + ["市", "旗"]
# 街道 0xx, 镇 1xx, 乡 2xx: the national numbering of townships.
TOWNSHIP_KINDS = [("街道", 1, 0.2), ("镇", 100, 0.5), ("乡", 200, 0.3)]


def _spread(total: int, bins: int, rng: random.Random, cap: int) -> list[int]:
    """``total`` items over ``bins`` bins, each at least 1 and at most ``cap``, unevenly like real data."""
    counts = [1] * bins
    weights = [rng.uniform(0.4, 1.6) for _ in range(bins)]
    for index in rng.choices(range(bins), weights=weights, k=max(0, total - bins)):
        counts[index] += 1
    overflow = 0
    for i, n in enumerate(counts):
        if n > cap:
            overflow += n - cap
            counts[i] = cap
    for i in range(bins):
        room = cap - counts[i]
        take = min(room, overflow)
        counts[i] += take
        overflow -= take
    return counts


def _name(rng: random.Random, used: set[str], suffixes: list[str]) -> str:
    while True:
        name = rng.choice(CHARS) + rng.choice(CHARS) + rng.choice(suffixes)
        if name not in used:
            used.add(name)
            return name


def generate(rows: int, seed: int = 2014) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(12-digit code, name) rows, parents first, and how many of each level."""
    rng = random.Random(seed)
    provinces = PROVINCES[: min(len(PROVINCES), max(1, rows // 100))]
    n_cities = max(len(provinces), round(rows * 330 / 45000))
    n_counties = max(n_cities, round(rows * 2850 / 45000))
    n_townships = max(n_counties, rows - len(provinces) - n_cities - n_counties)
    table: list[tuple[str, str]] = []
    cities_per_province = _spread(n_cities, len(provinces), rng, 99)
    city_codes: list[str] = []
    for (pcode, pname), n in zip(provinces, cities_per_province, strict=True):
        table.append((pcode + "0" * 10, pname))
        used: set[str] = set()
        for c in range(1, n + 1):
            name = "市辖区" if pcode in MUNICIPALITIES and c == 1 else _name(rng, used, CITY_SUFFIXES)
            code = f"{pcode}{c:02d}"
            table.append((code + "0" * 8, name))
            city_codes.append(code)
    counties_per_city = _spread(n_counties, len(city_codes), rng, 99)
    county_codes: list[str] = []
    for city, n in zip(city_codes, counties_per_city, strict=True):
        used = set()
        for k in range(1, n + 1):
            code = f"{city}{k:02d}"
            table.append((code + "0" * 6, _name(rng, used, COUNTY_SUFFIXES)))
            county_codes.append(code)
    townships_per_county = _spread(n_townships, len(county_codes), rng, 297)
    for county, n in zip(county_codes, townships_per_county, strict=True):
        used = set()
        next_number = {kind: start for kind, start, _w in TOWNSHIP_KINDS}
        for _ in range(n):
            open_kinds = [k for k in TOWNSHIP_KINDS if next_number[k[0]] < k[1] + 99]
            kind, _start, _w = rng.choices(open_kinds, weights=[k[2] for k in open_kinds])[0]
            number = next_number[kind]
            next_number[kind] += 1
            table.append((f"{county}{number:03d}000", _name(rng, used, [kind])))
    counts = {"province": len(provinces), "city": n_cities, "county": n_counties, "township": n_townships}
    return table, counts


def write_csv(table: list[tuple[str, str]], path: Path, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["统计用区划代码", "名称"])
        writer.writerows(table)


def timed_import(path: Path, profile: bool) -> tuple[object, float]:
    from jingzhun.audit.context import audit_context
    from jingzhun.regions.importer import import_regions

    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    # The same context as `manage.py import_regions`: one correlated set in the audit log.
    with audit_context(None, source="command", reason=f"基准测试导入：{path.name}"):
        if profiler:
            profiler.enable()
        result = import_regions(path, path.name)
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - start
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return result, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=45000, help="rows to generate (default 45000)")
    parser.add_argument("--encoding", default="utf-8-sig", help="CSV encoding: utf-8-sig (default) or gb18030")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the first import")
    args = parser.parse_args(argv)
    if args.rows < 200:
        parser.error("--rows must be at least 200")

    tmp = Path(tempfile.mkdtemp(prefix="jz-regions-bench-"))
    database = contextlib.ExitStack()
    try:
        table, counts = generate(args.rows)
        csv_path = tmp / "national_townships.csv"
        write_csv(table, csv_path, args.encoding)
        connection = database.enter_context(bench_database(tmp, "bench"))
        from jingzhun.audit.models import AuditEntry
        from jingzhun.regions.models import Region

        backend = f"{connection.vendor} ({connection.settings_dict['NAME']})"
        size_mb = csv_path.stat().st_size / 1e6
        print(f"database:   {backend}")
        print(
            f"table:      {len(table):,} rows ({counts['province']} provinces, {counts['city']:,} cities, "
            f"{counts['county']:,} counties, {counts['township']:,} townships), {size_mb:.1f} MB {args.encoding}"
        )

        result, seconds = timed_import(csv_path, args.profile)
        if result.errors:
            print("import failed:", *result.errors[:10], sep="\n  ")
            return 1
        assert Region.objects.unscoped().count() == len(table), "every row must be written"
        assert AuditEntry.objects.count() == len(table), "every created region must be audited"
        print(
            f"import:     {result.created:,} created in {seconds:.2f} s, {len(table) / seconds:,.0f} rows/s; "
            f"ratio to the {REFERENCE_SECONDS:.0f} s limit: {seconds / REFERENCE_SECONDS:.3f}"
        )

        again, seconds2 = timed_import(csv_path, False)
        if again.errors or again.unchanged != len(table) or again.created or again.updated:
            print("re-import not idempotent:", again)
            return 1
        print(
            f"re-import:  {again.unchanged:,} unchanged in {seconds2:.2f} s, {len(table) / seconds2:,.0f} rows/s; "
            f"ratio to the {REFERENCE_SECONDS:.0f} s limit: {seconds2 / REFERENCE_SECONDS:.3f}"
        )
        return 0
    finally:
        database.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
