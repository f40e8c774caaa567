"""Benchmark: the household import (户信息 + 成员信息 workbook) against its limit and against django-import-export.

    make bench-import [ARGS="--households 2000"]
    .venv/bin/python bench/import_bench.py [--households 50000] [--iex-sample N] [--skip-iex] [--skip-floor]
                                           [--keep] [--profile]

The issue asks for an import of 50,000 households (about 170,000 members) that stays within 2× of the limit
— python-calamine reading the same workbook plus a raw COPY (PostgreSQL) or one-transaction executemany
(SQLite) of the same rows, as text, into bare tables — and at least 20× faster than django-import-export
importing the same rows into the same models, with memory under 1 GB. All are measured here, in one
run, on one database server.

The script builds a database of its own: a temporary SQLite file, or, when DATABASE_URL is set, a fresh
database ``jingzhun_import_bench_<pid>_<hex>`` created on that server through the ``postgres`` maintenance
database (the developer's var/ and DATABASE_URL database are never opened). It migrates, loads the demo
regions (not the demo households), generates N households in the template layout (numbers, labels, 是/否,
valid unique IDs, one 户主, 家庭人口数 = member rows, a 2025 yearly record, few data-quality warnings) and
drops everything at the end. The workbook is written by a small SpreadsheetML writer with a shared-strings
table, as Excel saves it (openpyxl's write-only mode needs minutes for 50,000 households without lxml).

Each measured phase runs in a subprocess of its own so its peak RSS (ru_maxrss) is its own:

* jingzhun  — ``run_import(..., scope_prefix="", commit=True)`` in an audit context, as the import job does;
* (a) limit — calamine to Python lists, then the rows as text into bare tables (no constraint, no index);
* (b) django-import-export — ModelResources for Household, Member and HouseholdYear (the yearly record is
  what the household row carries, so (b) writes what ours writes) with ForeignKeyWidget look-ups by
  行政区划代码 and 户编号, label and 是/否 widgets, ``clean_model_instances`` (validation, as ours validates)
  and ``skip_diff`` (no preview diff, in (b)'s favour). Every save goes through the model, so the audit
  log is written row by row. It is slow, so it imports the first ``--iex-sample`` households and their
  members into a copy of the database taken before ours ran, and the per-row times are extrapolated
  linearly to N; loading the full workbook into tablib is measured, not extrapolated.

* (c) floor — calamine reading the workbook as (a) does, then the rows ours stored (households, members,
  yearly records, data-quality warnings and the audit entries, ids, hashes and JSON already made) copied
  from ours' database into a copy of the database taken before ours ran: the real tables with their indexes
  and constraints, one transaction. Nothing is parsed, checked or hashed, so no import that keeps the
  issue's rules (every write audited, all-or-nothing) can be faster; ``(c)/(a)`` shows how much of the
  2× budget storing alone takes, and ``ours/(c)`` what our own work costs on top of it.

Wall times and ratios are printed with their targets, and beside them CPU times (the process's with its
children's, so ours counts its data-quality helper, plus the PostgreSQL backend's when the server runs on
this machine) and their ratios: on a shared machine other work stretches wall times, CPU times much less.
Our import also prints its progress timeline with the resident memory at each stage. Nothing is asserted
(exit 0 whether the targets are met or not; 1 only when a phase could not run or the generated workbook did
not import in full).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import json
import os
import pstats
import random
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchdb import REPO, setup_django

YEAR = 2025
AREA = "431102"  # 零陵区: every generated ID is issued there
TARGET_LIMIT_RATIO = 2.0
TARGET_IEX_RATIO = 20.0
TARGET_PEAK_MB = 1024.0

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢唐冯邓蒋蔡彭曾肖田董袁潘于蒋余叶杜戴夏钟汪任廖邹熊"
GIVEN = "建国秀英桂兰明华志强丽娟永红海燕春梅德胜玉珍小平文军国庆金凤光荣淑芬伟芳敏静磊洋勇艳杰涛"
# Household shapes (domain §6): 一般 / 低保 / 特困 with their sizes; about 3.4 persons per household.
KIND_WEIGHTS = {"general": 0.70, "dibao": 0.22, "tekun": 0.08}
SIZE_WEIGHTS = {
    "general": {1: 4, 2: 14, 3: 24, 4: 27, 5: 17, 6: 9, 7: 4, 8: 1},
    "dibao": {1: 22, 2: 28, 3: 20, 4: 15, 5: 9, 6: 5, 7: 1},
    "tekun": {1: 80, 2: 20},
}
ATTRIBUTE = {"general": "一般脱贫户", "dibao": "低保脱贫户", "tekun": "特困供养脱贫户"}
CAUSES = {"因病": 42, "缺资金": 14, "缺技术": 11, "缺劳力": 9, "因残": 8, "因学": 7, "因灾": 3, "缺土地": 2}
WORK = [
    ("乡（镇）内务工", "零陵区"),
    ("乡（镇）外县内务工", "零陵区"),
    ("县外省内务工", "长沙市"),
    ("省外务工", "广东省东莞市"),
]


# ---- database of the run --------------------------------------------------------------------------------------


class BenchDatabases:
    """The run's database (and the copy (b) imports into): SQLite files in ``tmp`` or PostgreSQL databases."""

    def __init__(self, database_url: str | None, tmp: Path) -> None:
        # Only a PostgreSQL server is borrowed; a SQLite DATABASE_URL is left alone for a temporary file.
        postgres = database_url and urlsplit(database_url).scheme in ("postgres", "postgresql", "pgsql")
        self.server_url = database_url if postgres else None
        self.vendor = "postgresql" if self.server_url else "sqlite"
        token = f"{os.getpid()}_{secrets.token_hex(3)}"
        # 0: the run's database; 1 and 2: copies taken before our import, for (b) and for (c).
        self.names = [
            f"jingzhun_import_bench_{token}",
            f"jingzhun_import_bench_{token}_iex",
            f"jingzhun_import_bench_{token}_floor",
        ]
        self.paths = [tmp / "bench.sqlite3", tmp / "bench_iex.sqlite3", tmp / "bench_floor.sqlite3"]
        self.created: list[str] = []

    def url(self, index: int = 0) -> str:
        if self.server_url is None:
            return f"sqlite:///{self.paths[index]}"
        # Same server, user and options; only the database name changes.
        return urlsplit(self.server_url)._replace(path="/" + self.names[index]).geturl()

    def _admin(self) -> Any:
        import psycopg
        from psycopg.conninfo import make_conninfo

        assert self.server_url is not None
        return psycopg.connect(make_conninfo(self.server_url, dbname="postgres"), autocommit=True)

    def create(self) -> None:
        if self.server_url is None:
            return
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.names[0])))
        self.created.append(self.names[0])

    def snapshot(self, index: int) -> None:
        """Copy the migrated database with its regions into copy ``index``, so (b) or (c) starts from the
        state ours started from."""
        if self.server_url is None:
            with sqlite3.connect(self.paths[0]) as src, sqlite3.connect(self.paths[index]) as dst:
                src.backup(dst)
            return
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.names[index]), sql.Identifier(self.names[0])
                )
            )
        self.created.append(self.names[index])

    def checkpoint(self) -> None:
        """PostgreSQL: write out what the phases so far left in the WAL, so that work (or a checkpoint it
        triggers) does not land in the next phase's timing. Needs a superuser (pg_checkpoint on 15+): without
        one the phases run as they are. Not timed; nothing to do on SQLite, where each phase has its file."""
        if self.server_url is None:
            return
        import psycopg

        try:
            with self._admin() as conn:
                conn.execute("CHECKPOINT")
        except psycopg.Error as exc:
            print(f"  (CHECKPOINT refused, phases may pay for earlier ones' writes: {exc})", flush=True)

    def drop(self) -> None:
        if not self.created:
            return
        from psycopg import sql

        with self._admin() as conn:
            for name in reversed(self.created):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.clear()

    def describe(self) -> str:
        return ", ".join(self.created) if self.server_url else str(self.paths[0].parent)


# ---- phases in subprocesses -----------------------------------------------------------------------------------


def run_phase(phase: str, state: dict[str, Any], db_url: str) -> dict[str, Any]:
    """Run one phase in a fresh interpreter (its own peak RSS, no warm caches from other phases)."""
    env = dict(os.environ, JINGZHUN_VAR_DIR=state["tmp"], DATABASE_URL=db_url)
    state_path = Path(state["tmp"]) / "state.json"
    state_path.write_text(json.dumps(state))
    result_path = Path(state["tmp"]) / f"{phase}.json"
    result_path.unlink(missing_ok=True)
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--state", str(state_path)],
        env=env,
        check=False,
    )
    if completed.returncode != 0 or not result_path.exists():
        raise RuntimeError(f"phase {phase} failed (exit {completed.returncode})")
    return json.loads(result_path.read_text())


def cpu_seconds() -> float:
    """This process's CPU time plus that of its children once reaped (ours' data-quality helper is reaped
    before run_import returns): less sensitive than wall time to other work on a shared machine."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def server_cpu_seconds(pid: int | None) -> float:
    """CPU time of the PostgreSQL backend serving ``pid``'s connection, when the server runs on this machine."""
    if pid is None:
        return 0.0
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in clock ticks


def _local_backend_pid(raw_connection: Any) -> int | None:
    """The backend's pid for a psycopg connection to a server on this host (None otherwise)."""
    info = getattr(raw_connection, "info", None)
    if info is None:
        return None
    host = info.host or ""
    return info.backend_pid if host.startswith("/") or host in ("localhost", "127.0.0.1", "::1") else None


def rss_mb() -> float:
    """Current resident memory (Linux /proc; 0 elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def children_rss_mb() -> float:
    """Resident memory of this process's children now (the import's data-quality helper; Linux /proc).

    ru_maxrss cannot tell it: a spawned child is forked before it execs, so its peak counts the pages it
    briefly shared with this process."""
    total = 0.0
    try:
        for task in Path("/proc/self/task").iterdir():
            for pid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0.0
    return total / 2**20


def code_version() -> str:
    """The commit the measured code is at, and whether jingzhun/ differs from it (others commit mid-run)."""
    try:
        git = ["git", "-C", str(REPO)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "jingzhun"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes in jingzhun/" if dirty.stdout.strip() else "")


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _django() -> Any:
    """Django set up on the phase's database (DATABASE_URL and JINGZHUN_VAR_DIR come from run_phase), connected."""
    setup_django()
    from django.db import connection

    connection.ensure_connection()
    return connection


def phase_setup(state: dict[str, Any]) -> dict[str, Any]:
    """Migrate, load the demo regions, then generate the workbook (timed apart: not part of the ratios)."""
    connection = _django()
    from django.core.management import call_command

    from jingzhun.audit.context import audit_context
    from jingzhun.demo import regions as demo_regions
    from jingzhun.regions.importer import apply_rows

    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    with audit_context(None, source="bench", reason="基准测试：演示区划"):
        villages = demo_regions.build_villages()
        apply_rows(demo_regions.region_rows(villages, demo_regions.build_groups(villages)))
    setup_seconds = time.perf_counter() - start
    connection.close()

    start = time.perf_counter()
    stats = generate_workbook(Path(state["workbook"]), state["households"], villages)
    stats["generate_seconds"] = time.perf_counter() - start
    stats["setup_seconds"] = setup_seconds
    return stats


def _sqlite_path(url: str) -> str:
    return urlsplit(url).path


def _sqlite_connect(url: str, *, foreign_keys: bool = False) -> sqlite3.Connection:
    """An autocommit SQLite connection with the pragmas Django's settings apply to every connection (and with
    ``foreign_keys``, the one its backend adds), so (a) and (c) write as ours does."""
    conn = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if foreign_keys:
        conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _connect(url: str, postgres: bool, *, foreign_keys: bool = False) -> Any:
    """A psycopg connection (a transaction opens with the first statement) or a SQLite one (autocommit)."""
    if postgres:
        import psycopg

        return psycopg.connect(url)
    return _sqlite_connect(url, foreign_keys=foreign_keys)


def read_workbook(path: str) -> list[list[list[Any]]]:
    """Every sheet as Python lists, by python-calamine: the reading (a) and (c) start with."""
    from python_calamine import CalamineWorkbook

    gc.disable()  # as our import pauses the cycle collector, so millions of new cells do not trigger it
    workbook = CalamineWorkbook.from_path(path)
    return [workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in workbook.sheet_names]


def phase_limit(state: dict[str, Any]) -> dict[str, Any]:
    """(a) the limit: calamine to Python lists, then the same rows as text into bare tables."""
    # Connected before the clocks start, as ours is. SQLite works in this process: its CPU time is in ours.
    conn = _connect(os.environ["DATABASE_URL"], state["vendor"] == "postgresql")
    pid = _local_backend_pid(conn)
    server_cpu = server_cpu_seconds(pid)
    cpu = cpu_seconds()
    start = time.perf_counter()
    sheets = read_workbook(state["workbook"])
    read_seconds = time.perf_counter() - start
    insert_start = time.perf_counter()
    if state["vendor"] == "postgresql":
        with conn.cursor() as cur:
            for index, sheet in enumerate(sheets):
                table = f"bench_raw_{index}"
                width = len(sheet[0])
                cur.execute(f"CREATE TABLE {table} ({', '.join(f'c{i} text' for i in range(width))})")
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for cells in sheet[1:]:
                        copy.write_row([v if v.__class__ is str else str(v) for v in cells])
        conn.commit()
    else:
        conn.execute("BEGIN IMMEDIATE")
        for index, sheet in enumerate(sheets):
            table = f"bench_raw_{index}"
            width = len(sheet[0])
            conn.execute(f"CREATE TABLE {table} ({', '.join(f'c{i} text' for i in range(width))})")
            conn.executemany(
                f"INSERT INTO {table} VALUES ({', '.join('?' * width)})",
                ([v if v.__class__ is str else str(v) for v in cells] for cells in sheet[1:]),
            )
        conn.execute("COMMIT")
    insert_seconds = time.perf_counter() - insert_start
    cpu = cpu_seconds() - cpu
    server_cpu = server_cpu_seconds(pid) - server_cpu
    # Not timed: the bare tables go, so ours runs against the database it would have had without (a).
    for index in range(len(sheets)):
        conn.execute(f"DROP TABLE bench_raw_{index}")
    conn.commit()
    conn.close()
    return {
        "seconds": read_seconds + insert_seconds,
        "cpu": cpu + server_cpu,  # every phase: client + backend (0 unless PostgreSQL runs on this machine)
        "read_seconds": read_seconds,
        "insert_seconds": insert_seconds,
        "peak_mb": peak_rss_mb(),
    }


def phase_ours(state: dict[str, Any]) -> dict[str, Any]:
    """Ours, as the import job runs it: read, check, plan and write in one transaction with its audit entries."""
    connection = _django()
    from jingzhun.audit.context import audit_context
    from jingzhun.audit.models import AuditEntry
    from jingzhun.exchange.importer import run_import
    from jingzhun.registry.models import Household, Member

    version = code_version()
    path = Path(state["workbook"])
    data = path.read_bytes()
    base_mb = peak_rss_mb()  # Django, the models and the file's bytes: what the process holds before the import
    audit_before = AuditEntry.objects.count()
    marks: list[tuple[float, str, float, float]] = []

    def progress(done: int, total: int | None, message: str = "") -> None:
        marks.append((time.perf_counter(), message, rss_mb(), children_rss_mb()))

    profiler = cProfile.Profile() if state["profile"] else None
    pid = _local_backend_pid(connection.connection)
    server_cpu = server_cpu_seconds(pid)
    cpu = cpu_seconds()
    start = time.perf_counter()
    with audit_context(None, source="bench", reason=f"基准测试导入：{path.name}"):
        if profiler:
            profiler.enable()
        report = run_import([(path.name, data)], scope_prefix="", commit=True, progress=progress)
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    server_cpu = server_cpu_seconds(pid) - server_cpu
    peak_mb = peak_rss_mb()
    if profiler:
        profile_path = Path(state["tmp"]) / "ours.prof"
        profiler.dump_stats(profile_path)
        print("\n---- cProfile of the jingzhun import: jingzhun code by cumulative time ----")
        pstats.Stats(str(profile_path)).sort_stats("cumulative").print_stats(r"jingzhun", 30)
        print("---- all code by own time ----")
        pstats.Stats(str(profile_path)).sort_stats("tottime").print_stats(20)

    # First and last moment each progress message was seen: where the time goes, without a profiler.
    timeline: list[list[Any]] = []
    rss_at: list[float] = []  # resident memory at each stage's last mark: where the memory goes
    for moment, message, rss, _helper in marks:
        if timeline and timeline[-1][0] == message:
            timeline[-1][2] = moment - start
            rss_at[-1] = rss
        else:
            timeline.append([message, moment - start, moment - start])
            rss_at.append(rss)
    return {
        "seconds": seconds,
        "cpu": cpu + server_cpu,
        "server_cpu": server_cpu,  # the report labels CPU times client+server when > 0
        "version": version,
        "peak_mb": peak_mb,
        # The data-quality helper process (registry.quality.pool), sampled at each progress report.
        "helper_peak_mb": max((helper for *_rest, helper in marks), default=0.0),
        "base_mb": base_mb,
        "committed": report.committed,
        "summary": report.summary(),
        "issues": [str(issue) for issue in report.issues[:15]],
        # What the database holds afterwards (none before): the report checks it is what the workbook has.
        "households": Household.objects.unscoped().count(),
        "members": Member.objects.unscoped().count(),
        "audit_entries": AuditEntry.objects.count() - audit_before,
        "timeline": timeline,
        "timeline_rss": rss_at,
    }


# What our import stores, parents first: (c) copies these rows from ours' database into a pre-import copy.
FLOOR_TABLES = [
    "registry_household",
    "registry_member",
    "registry_householdyear",
    "registry_qualityissue",
    "audit_auditentry",
]
FLOOR_HEAD = "audit_auditchainhead"  # the audit chain's head row, updated once


def phase_floor(state: dict[str, Any]) -> dict[str, Any]:
    """(c) the floor of what the import must do: read the workbook as (a) does, then store exactly the rows
    our import stored (households, members, yearly records, data-quality warnings and the audit entries,
    with their ids, hashes and JSON already made) into the real tables, with their indexes, constraints and
    triggers, in one transaction. Nothing is parsed, checked, compared, converted or hashed: no import
    that keeps the issue's rules (every row audited, all-or-nothing) can take less, whatever its code."""
    source, target = state["source_url"], os.environ["DATABASE_URL"]
    postgres = state["vendor"] == "postgresql"
    cpu = cpu_seconds()
    start = time.perf_counter()
    sheets = read_workbook(state["workbook"])
    read_seconds = time.perf_counter() - start
    read_cpu = cpu_seconds() - cpu

    # Not timed (and after the reading, so its memory does not slow the reading down): the rows ours
    # stored, read back from its database, in the database's own form.
    payload: list[tuple[str, list[str], Any]] = []
    before: dict[str, int] = {}  # rows in each table of the pre-import copy
    with contextlib.closing(_connect(source, postgres)) as src, contextlib.closing(_connect(target, postgres)) as dst:
        for table in FLOOR_TABLES:
            last_id, present = dst.execute(f"SELECT coalesce(max(id), 0), count(*) FROM {table}").fetchone()
            before[table] = present
            if postgres:
                chunks: list[bytes] = []
                with src.cursor().copy(f"COPY (SELECT * FROM {table} WHERE id > {int(last_id)}) TO STDOUT") as copy:
                    chunks.extend(bytes(chunk) for chunk in copy)
                payload.append((table, [], chunks))
            else:
                columns = [row[1] for row in src.execute(f"PRAGMA table_info({table})")]
                rows = src.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id > ?", [last_id]).fetchall()
                payload.append((table, columns, rows))
        head = src.execute(f"SELECT last_hash, last_entry_id, last_timestamp FROM {FLOOR_HEAD}").fetchone()

    # Connected before the clocks start, as ours is (SQLite: with the foreign keys Django's backend turns on).
    conn = _connect(target, postgres, foreign_keys=True)
    pid = _local_backend_pid(conn)
    head_sql = f"UPDATE {FLOOR_HEAD} SET last_hash = %s, last_entry_id = %s, last_timestamp = %s WHERE id = 1"
    server_cpu = server_cpu_seconds(pid)
    cpu = cpu_seconds()
    start = time.perf_counter()
    if postgres:
        with conn.cursor() as cur:
            for table, _columns, chunks in payload:
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for chunk in chunks:
                        copy.write(chunk)
            cur.execute(head_sql, head)
        conn.commit()
    else:
        conn.execute("BEGIN IMMEDIATE")
        for table, columns, rows in payload:
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
            )
        conn.execute(head_sql.replace("%s", "?"), head)
        conn.execute("COMMIT")
    store_seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu + read_cpu
    server_cpu = server_cpu_seconds(pid) - server_cpu
    conn.close()
    del sheets

    # Both databases must now hold the same rows: (c) stored all that ours stored, and only that.
    counts = {}
    for url, label in ((source, "ours"), (target, "floor")):
        with contextlib.closing(_connect(url, postgres)) as conn:
            counts[label] = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in FLOOR_TABLES]
    if counts["ours"] != counts["floor"]:
        raise SystemExit(f"(c) stored other rows than ours: {FLOOR_TABLES} {counts}")
    return {
        "seconds": read_seconds + store_seconds,
        "cpu": cpu + server_cpu,
        "read_seconds": read_seconds,
        "store_seconds": store_seconds,
        "stored": {t: n - before[t] for t, n in zip(FLOOR_TABLES, counts["floor"], strict=True)},
        "bytes": sum(sum(len(c) for c in chunks) for _t, _c, chunks in payload) if postgres else None,
    }


def phase_iex(state: dict[str, Any]) -> dict[str, Any]:
    """(b) django-import-export on the first households of the same workbook, into the pre-import copy."""
    connection = _django()
    import tablib

    from jingzhun.audit.context import audit_context
    from jingzhun.exchange.layout import HOUSEHOLD_SHEET, MEMBER_SHEET

    household_resource, member_resource, year_resource = iex_resources()
    data = Path(state["workbook"]).read_bytes()
    cpu = cpu_seconds()
    start = time.perf_counter()
    book = tablib.Databook()
    book.load(data, format="xlsx")  # tablib's xlsx loader (openpyxl), as import-export's XLSX format uses
    load_seconds = time.perf_counter() - start
    load_cpu = cpu_seconds() - cpu
    sheets = {sheet.title: sheet for sheet in book.sheets()}
    households, members = sheets[HOUSEHOLD_SHEET], sheets[MEMBER_SHEET]
    sample = state["iex_sample"]
    sample_households = tablib.Dataset(*households[:sample], headers=households.headers)
    numbers = set(sample_households["户编号"])
    link = members.headers.index("户编号")
    sample_members = tablib.Dataset(*[row for row in members if row[link] in numbers], headers=members.headers)

    timings: dict[str, dict[str, Any]] = {}
    with audit_context(None, source="bench", reason="基准测试：django-import-export"):
        for label, resource_, dataset in (
            ("households", household_resource, sample_households),
            ("members", member_resource, sample_members),
            ("years", year_resource, sample_households),
        ):
            pid = _local_backend_pid(connection.connection)
            server_cpu = server_cpu_seconds(pid)
            cpu = cpu_seconds()
            start = time.perf_counter()
            result = resource_.import_data(dataset, dry_run=False, use_transactions=True)
            seconds = time.perf_counter() - start
            cpu = cpu_seconds() - cpu
            server_cpu = server_cpu_seconds(pid) - server_cpu
            errors = [str(error.error) for _line, row_errors in result.row_errors() for error in row_errors]
            errors += [f"第 {row.number} 行：{row.error_dict}" for row in result.invalid_rows]
            timings[label] = {
                "seconds": seconds,
                "cpu": cpu + server_cpu,
                "rows": len(dataset),
                "errors": errors[:5],
                "error_count": len(errors),
            }
    return {
        "load_seconds": load_seconds,
        "load_cpu": load_cpu,
        "timings": timings,
        "sample_households": len(sample_households),
        "sample_members": len(sample_members),
        "peak_mb": peak_rss_mb(),
    }


def iex_resources() -> tuple[Any, Any, Any]:
    """ModelResources a developer would write for the template: Chinese headers, labels and 是/否 cleaned."""
    from import_export import fields, resources, widgets

    from jingzhun.exchange.layout import FALSE_WORDS, HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, TRUE_WORDS, Column
    from jingzhun.policy import services as policy
    from jingzhun.policy.income import compute_income
    from jingzhun.regions.models import Region
    from jingzhun.registry.idcard import parse_id_number
    from jingzhun.registry.models import Household, HouseholdYear, Member

    class LabelWidget(widgets.Widget):
        """A code-table label (or code) to its code, through the same look-up ours uses."""

        def __init__(self, table: str) -> None:
            super().__init__()
            self.table = table

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
            text = "" if value is None else str(value).strip()
            if not text:
                return ""
            code = policy.code_for_label(self.table, text)
            if code is None:
                raise ValueError(f"“{text}”不在代码表 {self.table} 中")
            return code

    class YesNoWidget(widgets.Widget):
        def __init__(self, null: bool) -> None:
            super().__init__()
            self.null = null

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
            text = "" if value is None else str(value).strip().lower()
            if text in TRUE_WORDS:
                return True
            if text in FALSE_WORDS:
                return False
            if not text:
                return None if self.null else False
            raise ValueError("应填“是”或“否”")

    def field_for(model: Any, column: Column, attribute: str | None = None) -> Any:
        key = attribute or column.key
        if column.kind == "code":
            widget: Any = LabelWidget(column.table)
        elif column.kind == "bool":
            widget = YesNoWidget(model._meta.get_field(key).null)
        elif column.kind == "int":
            widget = widgets.IntegerWidget()
        elif column.kind == "decimal":
            widget = widgets.DecimalWidget()
        else:
            widget = widgets.CharWidget()
        return fields.Field(attribute=key, column_name=column.header, widget=widget)

    def resource_class(name: str, model: Any, columns: list[Column], extra: dict[str, Any], meta: dict) -> Any:
        attrs: dict[str, Any] = {c.key: field_for(model, c) for c in columns}
        attrs.update(extra)
        attrs["Meta"] = type(
            "Meta",
            (),
            {
                "model": model,
                "fields": tuple(attrs),
                "clean_model_instances": True,
                "skip_diff": True,
                **meta,
            },
        )
        return type(name, (resources.ModelResource,), attrs)

    by_key = {c.key: c for c in HOUSEHOLD_COLUMNS}
    household_columns = [c for c in HOUSEHOLD_COLUMNS if c.target == "household" and c.key != "region_code"]
    HouseholdResource = resource_class(
        "HouseholdResource",
        Household,
        household_columns,
        {
            "village": fields.Field(
                attribute="village",
                column_name=by_key["region_code"].header,
                widget=widgets.ForeignKeyWidget(Region, field="code"),
            )
        },
        {"import_id_fields": ("household_number",)},
    )

    def household_field() -> Any:
        return fields.Field(
            attribute="household",
            column_name=by_key["household_number"].header,
            widget=widgets.ForeignKeyWidget(Household, field="household_number"),
        )

    member_columns = [c for c in MEMBER_COLUMNS if c.target == "member"]
    MemberResourceBase = resource_class(
        "MemberResourceBase",
        Member,
        member_columns,
        {"household": household_field()},
        {"import_id_fields": ("id_number",)},
    )

    class MemberResource(MemberResourceBase):  # type: ignore[misc, valid-type]
        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            # What ours derives: birth date from the ID (never typed), the addition reason and date.
            instance.birth_date = parse_id_number(instance.id_number).birth_date
            instance.addition_reason = "1"
            instance.addition_date = dt.date.today()

    year_columns = [c for c in HOUSEHOLD_COLUMNS if c.target == "year"]
    YearResourceBase = resource_class(
        "YearResourceBase",
        HouseholdYear,
        year_columns,
        {"household": household_field()},
        {"import_id_fields": ("household", "year")},
    )
    size_header = by_key["household_size"].header

    class YearResource(YearResourceBase):  # type: ignore[misc, valid-type]
        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            # Derived figures by the formula in force, as ours computes them.
            members = int(row[size_header])
            values = {f.name: getattr(instance, f.name) for f in HouseholdYear._meta.fields}
            result = compute_income(values, members, policy.formula_for(instance.year, instance.household.village_id))
            instance.member_count = members
            instance.total_income = result.total_income
            instance.net_income = result.net_income
            instance.per_capita_net_income = result.per_capita_net_income

    return HouseholdResource(), MemberResource(), YearResource()


# ---- the workbook ---------------------------------------------------------------------------------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


class XlsxWriter:
    """Just enough SpreadsheetML for sheets of plain values, with a shared-strings table as Excel saves it.

    openpyxl's write-only mode serialises through pure-Python XML here (lxml is not installed): about 8 s per
    5,000 households, minutes for 50,000. This writes the same cells in a fraction of that; calamine (ours
    and (a)) and openpyxl (tablib in (b)) both read the result.
    """

    def __init__(self, path: Path, sheet_names: list[str]) -> None:
        from openpyxl.utils import get_column_letter  # here: the measured phases need not import openpyxl

        self.path = path
        self.names = sheet_names
        self.strings: dict[str, int] = {}
        self.string_cells = 0
        self.rows = [0] * len(sheet_names)
        self.widths = [0] * len(sheet_names)
        self.parts = [path.with_name(f"{path.stem}.sheet{i + 1}.part") for i in range(len(sheet_names))]
        self.bodies = [part.open("w", encoding="utf-8") for part in self.parts]
        self.letters = [get_column_letter(i + 1) for i in range(200)]

    def append(self, sheet: int, values: list[Any]) -> None:
        row = self.rows[sheet] + 1
        self.rows[sheet] = row
        self.widths[sheet] = max(self.widths[sheet], len(values))
        cells = [f'<row r="{row}">']
        for col, value in enumerate(values):
            if value is None:
                continue
            ref = f"{self.letters[col]}{row}"
            if isinstance(value, str):
                index = self.strings.get(value)
                if index is None:
                    index = self.strings[value] = len(self.strings)
                self.string_cells += 1
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        cells.append("</row>")
        self.bodies[sheet].write("".join(cells))

    def close(self) -> None:
        from xml.sax.saxutils import escape, quoteattr

        for body in self.bodies:
            body.close()
        n = len(self.names)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for i in range(n)
        )
        content_types = (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>{overrides}'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>'
        )
        root_rels = (
            f'{_XML}<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        )
        sheets = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, name in enumerate(self.names)
        )
        workbook = f'{_XML}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>{sheets}</sheets></workbook>'
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(n)
        )
        rels += f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        rels += f'<Relationship Id="rId{n + 2}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        workbook_rels = f'{_XML}<Relationships xmlns="{_PKG_REL_NS}">{rels}</Relationships>'
        styles = (
            f'{_XML}<styleSheet xmlns="{_MAIN_NS}"><fonts count="1"><font><sz val="11"/><name val="等线"/></font>'
            '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
            'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
            '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
            'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("[Content_Types].xml", content_types)
            zf.writestr("_rels/.rels", root_rels)
            zf.writestr("xl/workbook.xml", workbook)
            zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
            zf.writestr("xl/styles.xml", styles)
            for i, part in enumerate(self.parts):
                dimension = f"A1:{self.letters[max(0, self.widths[i] - 1)]}{max(1, self.rows[i])}"
                with zf.open(f"xl/worksheets/sheet{i + 1}.xml", "w") as out, part.open("rb") as body:
                    out.write(f'{_XML}<worksheet xmlns="{_MAIN_NS}"><dimension ref="{dimension}"/><sheetData>'.encode())
                    shutil.copyfileobj(body, out, 1 << 20)
                    out.write(b"</sheetData></worksheet>")
                part.unlink()
            with zf.open("xl/sharedStrings.xml", "w") as out:
                head = f'{_XML}<sst xmlns="{_MAIN_NS}" count="{self.string_cells}" uniqueCount="{len(self.strings)}">'
                out.write(head.encode())
                chunk: list[str] = []
                for text in self.strings:  # insertion order = index order
                    chunk.append(f"<si><t>{escape(text)}</t></si>")
                    if len(chunk) >= 10000:
                        out.write("".join(chunk).encode())
                        chunk.clear()
                out.write(("".join(chunk) + "</sst>").encode())


def _weighted(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _People:
    """Valid, unique 18-digit IDs: one sequence per (birth date, sex), so no two people share an ID."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        from jingzhun.registry.idcard import make_id_number

        self.make_id_number = make_id_number
        self.rng = rng
        self.today = today
        self.used: dict[tuple[dt.date, str], int] = {}

    def person(self, age: int, sex: str) -> tuple[str, dt.date]:
        # Exactly ``age`` years old today, so age-based fields (school, labour) agree with the ID's birth date.
        anniversary = dt.date(self.today.year - age, self.today.month, min(self.today.day, 28))
        birth = anniversary - dt.timedelta(days=self.rng.randint(1, 360))
        while self.used.get((birth, sex), 0) >= 500:  # 500 sequence numbers of one parity per day
            birth += dt.timedelta(days=1)
        n = self.used.get((birth, sex), 0)
        self.used[(birth, sex)] = n + 1
        return self.make_id_number(AREA, birth, 2 * n + (1 if sex == "1" else 0), sex), birth


def _member_row(
    rng: random.Random, kind: str, relationship: str, sex: str, age: int, id_number: str, name: str
) -> dict[str, Any]:
    """One member's cells, consistent with the data-quality rules (age, school, labour, insurance)."""
    ill = rng.random()
    health = "健康" if ill < 0.72 or age < 16 else ("长期慢性病" if ill < 0.93 else "患有大病")
    education = school = ""
    if age <= 2:
        education = "学龄前儿童"
    elif age <= 5:
        school = "学前教育"
    elif age <= 11:
        school = "小学"
    elif age <= 14:
        school = ("七年级", "八年级", "九年级")[age - 12]
    elif age <= 17:
        school = ("普通高中一年级", "普通高中二年级", "普通高中三年级")[age - 15]
    elif age <= 21 and rng.random() < 0.5:
        school = "本科"
    elif age < 40:
        education = rng.choice(["初中", "初中", "高中", "大专"])
    elif age < 60:
        education = rng.choice(["小学", "初中", "初中", "高中"])
    else:
        education = rng.choice(["文盲或半文盲", "小学", "小学", "初中"])
    working_age = 16 <= age < 60 and not school
    if not working_age:
        labour = "无劳动力" if age < 16 or school else rng.choice(["弱劳动力或半劳动力", "丧失劳动力"])
    elif health == "健康":
        labour = "技能劳动力" if rng.random() < 0.2 else "普通劳动力"
    else:
        labour = "弱劳动力或半劳动力"
    row: dict[str, Any] = {
        "name": name,
        "sex": "男" if sex == "1" else "女",
        "id_type": "居民身份证",
        "id_number": id_number,
        "relationship": relationship,
        "ethnicity": _weighted(rng, {"汉族": 92, "瑶族": 6, "土家族": 2}),
        "education": education,
        "school_status": school or ("非在校生" if education and education != "学龄前儿童" else ""),
        "health": health,
        "labour": labour,
        "has_serious_illness_insurance": "是",
        "has_resident_medical_insurance": "是",
        "has_employee_medical_insurance": "否",
        "has_resident_pension": "是" if age >= 16 and not school else "否",
        "has_employee_pension": "否",
        "receives_medical_assistance": "是" if health == "患有大病" else "否",
        "is_active_military": "否",
        "is_dibao": "是" if kind == "dibao" else "否",
        "is_tekun": "是" if kind == "tekun" else "否",
    }
    if working_age and labour != "弱劳动力或半劳动力" and rng.random() < 0.55:
        status, place = rng.choice(WORK)
        row.update(work_status=status, work_location=place, work_months=rng.randint(3, 12))
    elif working_age and rng.random() < 0.04:
        row.update(public_welfare_job=rng.choice(["护林员", "保洁员", "护路员"]), public_welfare_months=12)
    return row


def generate_workbook(path: Path, households: int, villages: list[Any]) -> dict[str, Any]:
    """N households and their members in the template layout (first sheet 户信息, second 成员信息)."""
    from jingzhun.demo.regions import TOWNSHIPS
    from jingzhun.exchange.layout import HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET

    rng = random.Random(2014)
    people = _People(rng, dt.date.today())
    townships = {code: name for code, name, _kind in TOWNSHIPS}
    placed = rng.choices(villages, weights=[0.3 if v.is_community else 1.0 for v in villages], k=households)
    next_number: dict[str, int] = {}
    book = XlsxWriter(path, [HOUSEHOLD_SHEET, MEMBER_SHEET])
    book.append(0, [c.header for c in HOUSEHOLD_COLUMNS])
    book.append(1, [c.header for c in MEMBER_COLUMNS])
    member_count = 0

    for i, village in enumerate(placed):
        seq = next_number.get(village.code, 0) + 1
        next_number[village.code] = seq
        number = f"{village.code}{seq:04d}"
        kind = _weighted(rng, KIND_WEIGHTS)
        size = _weighted(rng, SIZE_WEIGHTS[kind])
        head_age = rng.randint(55, 88) if kind == "tekun" else rng.randint(32, 78)
        head_sex = "1" if rng.random() < 0.85 else "2"
        surname = rng.choice(SURNAMES)

        # (relationship, sex, age) of everyone; children and grandchildren fit the head's age.
        people_in: list[tuple[str, str, int]] = [("户主", head_sex, head_age)]
        if size >= 2 and rng.random() < 0.85:
            spouse_age = max(20, head_age + rng.randint(-5, 5))
            people_in.append(("配偶", "2" if head_sex == "1" else "1", spouse_age))
        if len(people_in) < size and head_age < 48 and rng.random() < 0.3:
            people_in.append(("之母", "2", min(95, head_age + rng.randint(22, 30))))
        children = size - len(people_in) if head_age < 58 else min(size - len(people_in), rng.randint(1, 2))
        for _ in range(children):
            sex = rng.choice("12")
            people_in.append(("之子" if sex == "1" else "之女", sex, max(1, head_age - rng.randint(22, 36))))
        while len(people_in) < size:
            sex = rng.choice("12")
            people_in.append(("之孙子" if sex == "1" else "之孙女", sex, rng.randint(1, 15)))

        rows = []
        for k, (relationship, sex, age) in enumerate(people_in, start=1):
            id_number, _birth = people.person(age, sex)
            name = (surname if relationship != "配偶" else rng.choice(SURNAMES)) + "".join(
                rng.choices(GIVEN, k=rng.randint(1, 2))
            )
            row = _member_row(rng, kind, relationship, sex, age, id_number, name)
            row.update(household_number=number, member_number=f"{number}{k:02d}")
            rows.append(row)
        head = rows[0]
        for row in rows:
            row["head_id_number"] = head["id_number"]
        head["phone"] = f"1{rng.choice('35789')}{i:09d}"

        workers = [r for r in rows if r.get("work_months")]
        wage = sum(r["work_months"] * rng.randint(2500, 4800) for r in workers)
        wage += sum(r.get("public_welfare_months", 0) * 800 for r in rows)
        business = rng.randrange(0, 12000, 100) if kind != "tekun" else 0
        elders = sum(1 for _rel, _sex, age in people_in if age >= 60)
        transfer = rng.randrange(600, 2400, 50) + 1500 * elders
        transfer += {"general": 0, "dibao": 3600 * size, "tekun": 9000}[kind]
        first_year = _weighted(rng, {2014: 88, 2015: 7, 2016: 5})
        cause = _weighted(rng, CAUSES)
        other = rng.choice([c for c in CAUSES if c != cause]) if rng.random() < 0.3 else ""
        monitored = rng.random() < 0.02
        household = {
            "household_number": number,
            "region_code": village.code,
            "head_name": head["name"],
            "head_id_number": head["id_number"],
            "household_size": size,
            "phone": head["phone"],
            "bank_name": rng.choice(["零陵区农村商业银行", "中国邮政储蓄银行零陵区支行"]),
            "bank_account": f"623090{i:010d}",
            "identification_standard": "国家标准",
            "first_identified_year": first_year,
            "exit_year": rng.randint(first_year + 1, 2020),
            "is_military_family": "否",
            "is_only_child": "否",
            "is_two_daughters": "否",
            "is_monitored": "是" if monitored else "否",
            "monitoring_category": "脱贫不稳定户" if monitored else "",
            "year": YEAR,
            "exit_status": "已脱贫（享受政策）" if rng.random() < 0.85 else "已脱贫（不再享受政策）",
            "attribute": ATTRIBUTE[kind],
            "main_cause": cause,
            "other_cause_1": other,
            "wage_income": wage,
            "business_income": business,
            "property_income": rng.randrange(0, 1500, 50) if rng.random() < 0.3 else 0,
            "transfer_income": transfer,
            "claims_income": 0,
            "production_expense": business * rng.randint(25, 45) // 100,
            "compliant_out_of_pocket": rng.randrange(0, 3000, 10) if any(r["health"] != "健康" for r in rows) else 0,
            "food_clothing_secure": "是",
            "education_secure": "是",
            "medical_secure": "是",
            "housing_secure": "是",
            "water_secure": "是",
            "paddy_land_mu": round(rng.uniform(0, 4), 1),
            "dry_land_mu": round(rng.uniform(0, 2), 1),
            "forest_land_mu": round(rng.uniform(0, 15), 1),
            "in_mutual_fund": "否",
            "in_cooperative": "是" if rng.random() < 0.2 else "否",
            "housing_area_m2": rng.randint(50, 220),
            "housing_structure": _weighted(rng, {"砖混": 60, "钢筋混凝土": 30, "砖瓦砖木": 10}),
            "housing_built_year": rng.randint(1985, 2022),
            "is_dangerous_house": "否",
            "has_electricity": "是",
            "fuel": _weighted(rng, {"液化气": 50, "电": 30, "柴草": 20}),
            "drinking_water": "净化自来水",
            "has_safe_water": "是",
            "road_type": "水泥路",
            "distance_to_main_road_km": round(rng.uniform(0.1, 3.0), 1),
            "has_sanitary_toilet": "有",
            "is_relocated": "否",
            "dibao_status": "农村低保" if kind == "dibao" else "未享受",
            "tekun_status": "农村特困" if kind == "tekun" else "不享受",
            "is_whole_household_no_labour": "否",
            "address": f"{townships[village.township_code]}{village.name}{rng.randint(1, 12)}组{rng.randint(1, 99)}号",
        }
        # Empty cells as None (no cell written), numbers as numbers, IDs and codes as text: as Excel users save.
        book.append(0, [household.get(c.key) if household.get(c.key) != "" else None for c in HOUSEHOLD_COLUMNS])
        for row in rows:
            book.append(1, [row.get(c.key) if row.get(c.key) != "" else None for c in MEMBER_COLUMNS])
        member_count += len(rows)
    book.close()
    return {
        "households": households,
        "members": member_count,
        "villages": len(next_number),
        "size_mb": path.stat().st_size / 1e6,
    }


# ---- report ---------------------------------------------------------------------------------------------------


def _fmt_s(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds >= 100 else f"{seconds:.1f} s"


def _extrapolate(iex: dict[str, Any], gen: dict[str, Any], key: str) -> float:
    """(b) at N: the full-workbook load as measured plus each resource's per-row time times its rows at N."""
    t = iex["timings"]
    per_row = {k: v[key] / max(1, v["rows"]) for k, v in t.items()}
    load = iex["load_seconds" if key == "seconds" else "load_cpu"]
    return load + (per_row["households"] + per_row["years"]) * gen["households"] + per_row["members"] * gen["members"]


def print_report(
    gen: dict[str, Any],
    limit: dict[str, Any],
    ours: dict[str, Any],
    iex: dict[str, Any] | None,
    vendor: str,
    floor: dict[str, Any] | None = None,
    profiled: bool = False,
) -> int:
    rows = gen["households"] + gen["members"]
    # Other work on the machine stretches wall times; CPU times (in brackets) are steadier. On PostgreSQL
    # they add the backend's CPU time when the server runs on this machine (/proc), else they are the client's.
    server = vendor == "postgresql" and ours["server_cpu"] > 0
    cpu_label = "CPU client+server" if server else ("client CPU" if vendor == "postgresql" else "CPU")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(
        f"import_bench: {gen['households']:,} households, {gen['members']:,} members ({rows:,} rows) on {vendor} "
        f"(load average {load}, {os.cpu_count()} CPUs; code at {ours['version']})"
    )
    if profiled:
        print(
            "  NOTE: --profile ran our import under cProfile, which slows it down: its times, its peak memory and "
            "every ratio below are NOT comparable with an unprofiled run or with the targets"
        )
    if not ours["committed"]:
        print(f"  jingzhun import FAILED: {ours['summary']}")
        for issue in ours["issues"]:
            print(f"    {issue}")
        print("  (the generated workbook should import cleanly: a bug in the generator or the importer)")
        return 1
    # A committed import must have stored every household and member of the workbook, and nothing else.
    status = 0
    if (ours["households"], ours["members"]) != (gen["households"], gen["members"]):
        print(
            f"  jingzhun import stored {ours['households']:,} households and {ours['members']:,} members, "
            f"not the workbook's {gen['households']:,} and {gen['members']:,}: its figures below do not measure "
            "the same work (a bug in the generator or the importer)"
        )
        status = 1
    print(
        f"  jingzhun import        {_fmt_s(ours['seconds']):>8}   {rows / ours['seconds']:,.0f} rows/s   "
        f"peak {ours['peak_mb'] + ours['helper_peak_mb']:,.0f} MB (target < {TARGET_PEAK_MB:,.0f} MB)   "
        f"[{cpu_label} {_fmt_s(ours['cpu'])}; {ours['base_mb']:,.0f} MB before the import]"
    )
    print(f"      {ours['summary']}; {ours['audit_entries']:,} audit entries")
    if ours["helper_peak_mb"]:
        print(
            f"      peak memory = this process {ours['peak_mb']:,.0f} MB + the data-quality helper process "
            f"{ours['helper_peak_mb']:,.0f} MB (sampled at the progress reports; the sum of both peaks, an upper "
            "bound)"
        )
    stages = " · ".join(
        (f"{m} {a:.1f}s" if b - a < 0.05 else f"{m} {a:.1f}–{b:.1f}s") + f" {rss:,.0f} MB"
        for (m, a, b), rss in zip(ours["timeline"], ours["timeline_rss"], strict=True)
    )
    print(f"      progress timeline (time from start, resident memory at the stage's last report): {stages}")
    limit_label = "calamine + COPY" if vendor == "postgresql" else "calamine + executemany"
    print(
        f"  (a) {limit_label:<19}{_fmt_s(limit['seconds']):>8}   ratio {ours['seconds'] / limit['seconds']:.2f} "
        f"(target ≤ {TARGET_LIMIT_RATIO:g})   [{cpu_label} {_fmt_s(limit['cpu'])}, ratio "
        f"{ours['cpu'] / limit['cpu']:.2f}; read {_fmt_s(limit['read_seconds'])}, insert "
        f"{_fmt_s(limit['insert_seconds'])}; peak {limit['peak_mb']:,.0f} MB]"
    )
    if floor is not None:
        stored = sum(floor["stored"].values())
        print(
            f"  (c) floor: calamine + storing what ours stored, nothing computed  {_fmt_s(floor['seconds'])}   "
            f"= {floor['seconds'] / limit['seconds']:.2f} × (a); "
            f"ours = {ours['seconds'] / floor['seconds']:.2f} × (c)   "
            f"[{cpu_label} {_fmt_s(floor['cpu'])}; read {_fmt_s(floor['read_seconds'])}, store "
            f"{_fmt_s(floor['store_seconds'])}]"
        )
        print(
            f"      {stored:,} rows into the real tables with their indexes, in one transaction: "
            + ", ".join(f"{table} {count:,}" for table, count in floor["stored"].items())
            + (f" ({floor['bytes'] / 1e6:,.0f} MB as COPY text)" if floor["bytes"] else "")
        )
    if iex is None:
        return status
    total, total_cpu = _extrapolate(iex, gen, "seconds"), _extrapolate(iex, gen, "cpu")
    print(
        f"  (b) django-import-export ({iex['sample_households']:,}-household sample, extrapolated)  "
        f"{_fmt_s(total)}   ratio {total / ours['seconds']:.1f} (target ≥ {TARGET_IEX_RATIO:g})   "
        f"[{cpu_label} {_fmt_s(total_cpu)}, ratio {total_cpu / ours['cpu']:.1f}]"
    )
    t = iex["timings"]
    print(
        f"      tablib load of the full workbook {_fmt_s(iex['load_seconds'])} (measured); sample of "
        f"{iex['sample_households']:,} households + {iex['sample_members']:,} members: "
        + ", ".join(f"{k} {t[k]['seconds'] / max(1, t[k]['rows']) * 1000:.2f} ms/row" for k in t)
        + f"; peak {iex['peak_mb']:,.0f} MB"
    )
    for label, timing in t.items():
        if timing["error_count"]:
            print(f"      {label}: {timing['error_count']} row errors, e.g. {timing['errors'][:2]}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, default=50000, help="households to generate (default 50000)")
    parser.add_argument(
        "--iex-sample",
        type=int,
        default=None,
        help="households django-import-export imports before extrapolating (default min(2000, max(200, N/10)))",
    )
    parser.add_argument("--skip-iex", action="store_true", help="do not measure django-import-export")
    parser.add_argument(
        "--skip-floor", action="store_true", help="do not measure (c), storing what ours stored with nothing computed"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (and PostgreSQL databases)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of our import (slows it down: the run's times and ratios are then not comparable)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:  # a child: run one phase, leave its result beside the state file
        state = json.loads(Path(args.state).read_text())
        phases = {
            "setup": phase_setup,
            "limit": phase_limit,
            "ours": phase_ours,
            "floor": phase_floor,
            "iex": phase_iex,
        }
        result = phases[args.phase](state)
        (Path(state["tmp"]) / f"{args.phase}.json").write_text(json.dumps(result, ensure_ascii=False))
        return 0

    if args.households < 10:
        parser.error("--households must be at least 10")
    sample = args.iex_sample if args.iex_sample is not None else min(2000, max(200, args.households // 10))
    sample = max(1, min(sample, args.households))
    tmp = Path(tempfile.mkdtemp(prefix="jz-import-bench-"))
    databases = BenchDatabases(os.environ.get("DATABASE_URL") or None, tmp)
    state = {
        "tmp": str(tmp),
        "workbook": str(tmp / f"户信息_{args.households}.xlsx"),
        "households": args.households,
        "iex_sample": sample,
        "vendor": databases.vendor,
        "profile": args.profile,
    }
    try:
        databases.create()
        print(f"import_bench: setting up {databases.vendor} in {databases.describe()} …", flush=True)
        gen = run_phase("setup", state, databases.url())
        print(
            f"  migrate + demo regions {_fmt_s(gen['setup_seconds'])}; workbook of {gen['households']:,} households "
            f"and {gen['members']:,} members over {gen['villages']} villages, {gen['size_mb']:.1f} MB, generated in "
            f"{_fmt_s(gen['generate_seconds'])} (not part of the ratios)",
            flush=True,
        )
        if not args.skip_iex:
            databases.snapshot(1)
        if not args.skip_floor:
            databases.snapshot(2)

        # Each measured phase starts checkpointed: none pays for the writes of the setup or of the phase before.
        databases.checkpoint()
        limit = run_phase("limit", state, databases.url())
        print(f"  (a) measured: {_fmt_s(limit['seconds'])}", flush=True)
        databases.checkpoint()
        ours = run_phase("ours", state, databases.url())
        print(f"  jingzhun import measured: {_fmt_s(ours['seconds'])}", flush=True)
        databases.checkpoint()
        floor = None
        if not args.skip_floor and ours["committed"]:
            state["source_url"] = databases.url(0)
            floor = run_phase("floor", state, databases.url(2))
            print(f"  (c) measured: {_fmt_s(floor['seconds'])}", flush=True)
            databases.checkpoint()
        iex = None if args.skip_iex else run_phase("iex", state, databases.url(1))

        return print_report(gen, limit, ours, iex, databases.vendor, floor, profiled=args.profile)
    except RuntimeError as exc:  # a phase died: its traceback is above; still clean up
        print(f"import_bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept: {tmp}" + (f" and databases {databases.describe()}" if databases.server_url else ""))
        else:
            databases.drop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
