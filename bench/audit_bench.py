"""Benchmark: the 操作日志 at millions of entries — search, history, export and verify_audit.

    .venv/bin/python bench/audit_bench.py [--entries 200000] [--repeat 5] [--seed 2014]

The issue asks that the log stays fast at millions of rows. The script builds a database of its own (a
temporary SQLite file, or, when DATABASE_URL is set, a fresh database on that server named
``<name>_auditbench_<pid>``; both created, migrated and dropped here, the developer's var/jingzhun.sqlite3
and DATABASE_URL database are never opened), appends N hash-chained entries in batches spread over two
years (regions of a province, a few hundred users, bulk imports as large correlated sets), then times the
queries behind the search page, one object's history, the CSV export and ``verify_audit``, and prints the
query plans. Figures are printed with their ratio to a reference; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import logging
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchdb import bench_database

REFERENCE_QUERY_MS = 200.0  # a search page's query should answer well within this
REFERENCE_VERIFY_S_PER_MILLION = 60.0  # a nightly verify_audit of ten million entries in ten minutes
BATCH = 10_000

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"  # noqa: E501
GIVEN = "建国秀英桂兰明华志强丽娟永红海燕春梅德胜玉珍小平文军国庆金凤光荣淑芬"


class World:
    """A province: 12 counties, their townships and villages; users; household-like objects."""

    def __init__(self, rng: random.Random, entries: int) -> None:
        self.rng = rng
        self.counties = [f"43{c:02d}{k:02d}" for c in range(1, 4) for k in range(2, 6)]
        self.townships = {c: [f"{c}{t:03d}" for t in range(100, 100 + rng.randint(8, 16))] for c in self.counties}
        self.villages = {
            t: [f"{t}{v:03d}" for v in range(201, 201 + rng.randint(8, 20))]
            for ts in self.townships.values()
            for t in ts
        }
        self.all_villages = [v for vs in self.villages.values() for v in vs]
        self.usernames = [f"clerk{n:04d}" for n in range(300)]
        # A few people do most of the work (data-entry clerks in busy villages).
        self.user_weights = [1 / (i + 1) ** 0.8 for i in range(len(self.usernames))]
        self.households = max(1000, entries // 12)

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, 2))


def build_regions(world: World) -> None:
    from jingzhun.regions.models import Region

    rows = [Region(code="430000000000", name="湖南省", level=1)]
    for c in sorted({c[:4] for c in world.counties}):
        rows.append(Region(code=c.ljust(12, "0"), name=f"市{c}", level=2, parent_id="430000000000"))
    for c in world.counties:
        rows.append(Region(code=c.ljust(12, "0"), name=f"县{c}", level=3, parent_id=c[:4].ljust(12, "0")))
        for t in world.townships[c]:
            rows.append(Region(code=t.ljust(12, "0"), name=f"镇{t[-3:]}", level=4, parent_id=c.ljust(12, "0")))
            for v in world.villages[t]:
                rows.append(Region(code=v, name=f"{t[-3:]}村{v[-3:]}", level=5, parent_id=t.ljust(12, "0")))
    Region.objects.bulk_create(rows, batch_size=2000)


def build_users(world: World) -> dict[str, int]:
    from jingzhun.accounts.models import User
    from jingzhun.accounts.roles import Role

    users = [
        User(
            username=u, full_name=world.name(), role=Role.VILLAGE, scope_region_id=world.rng.choice(world.all_villages)
        )
        for u in world.usernames
    ]
    users.append(User(username="inspector", role=Role.AUDITOR, scope_region_id="430000000000"))
    User.objects.bulk_create(users)
    return dict(User.objects.unscoped().values_list("username", "pk"))


def append_chain(world: World, n: int, user_ids: dict[str, int], report: Callable[[int], None]) -> float:
    """Append ``n`` entries in batches, hashing each onto the chain exactly as append_entries does, with
    times spread over two years (append_entries stamps the clock; a bench needs history)."""
    from django.db import connection, transaction

    from jingzhun.audit.models import GENESIS_HASH, Action, AuditChainHead, AuditEntry, to_audit_value

    columns = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in columns]
    fields = {f.attname: f for f in columns}
    insert = (
        f"INSERT INTO audit_auditentry ({', '.join(connection.ops.quote_name(f.column) for f in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )

    def prep(name: str, value: Any) -> Any:
        return fields[name].get_db_prep_save(value, connection)

    rng = world.rng
    types = ["registry.household", "registry.member", "registry.householdyear", "regions.region", "accounts.user"]
    type_weights = [30, 40, 25, 3, 2]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / n
    prev = GENESIS_HASH
    moment = start
    remaining_in_request = 0
    request: dict[str, Any] = {}
    started = time.monotonic()
    done = 0
    while done < n:
        batch = []
        for _ in range(min(BATCH, n - done)):
            if remaining_in_request == 0:
                # Most requests are one form save (1–6 entries); now and then a bulk import (thousands).
                bulk = rng.random() < 0.0004
                remaining_in_request = rng.randint(2000, 8000) if bulk else rng.randint(1, 6)
                username = rng.choices(world.usernames, world.user_weights)[0]
                request = {
                    "id": uuid.uuid4(),
                    "user": username,
                    "source": "import" if bulk else "web",
                    "reason": "批量导入建档立卡数据" if bulk else "",
                    "village": rng.choice(world.all_villages),
                    "addr": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                }
            remaining_in_request -= 1
            moment += step * rng.uniform(0.2, 1.8) if request["source"] == "web" else step * 0.01
            village = request["village"] if rng.random() < 0.9 else rng.choice(world.all_villages)
            object_type = rng.choices(types, type_weights)[0]
            household = rng.randrange(world.households)
            if object_type == "regions.region":
                object_id, object_repr, region = village, f"村{village[-3:]}", village
            elif object_type == "accounts.user":
                object_id, object_repr, region = str(user_ids[request["user"]]), request["user"], village
            else:
                object_id = str(household * 4 + rng.randrange(4) if object_type == "registry.member" else household)
                object_repr, region = world.name(), village
            action = rng.choices([Action.CREATE, Action.UPDATE, Action.DELETE], [25, 70, 5])[0]
            if action == Action.UPDATE:
                changes = {"phone": [f"139{rng.randrange(10**8):08d}", f"138{rng.randrange(10**8):08d}"]}
                if rng.random() < 0.5:
                    changes["address"] = [f"{world.name()}组{rng.randint(1, 20)}号", f"新址{rng.randint(1, 99)}号"]
            else:
                state = {
                    "name": object_repr,
                    "village": village,
                    "status": "active",
                    "phone": f"139{rng.randrange(10**8):08d}",
                    "net_income": f"{rng.uniform(3000, 30000):.2f}",
                    "year": rng.randint(2014, 2024),
                }
                changes = {k: [None, v] if action == Action.CREATE else [v, None] for k, v in state.items()}
            entry = AuditEntry(
                timestamp=moment,
                actor_id=user_ids[request["user"]],
                actor_username=request["user"],
                request_id=request["id"],
                source=request["source"],
                remote_addr=request["addr"],
                action=action,
                object_type=object_type,
                object_id=object_id,
                object_repr=object_repr,
                region_code=region,
                changes=to_audit_value(changes),
                reason=request["reason"],
                prev_hash=prev,
            )
            entry.hash = entry.compute_hash()
            prev = entry.hash
            batch.append(tuple(prep(f, getattr(entry, f)) for f in names))
        # Plain executemany: Django's bulk_create compiles SQL per row and would dominate the build time.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
        done += len(batch)
        if done % 100_000 < BATCH or done == n:
            report(done)
    # The chain's last entry is the last by id (nothing looks an entry up by its hash, which has no index).
    last = AuditEntry.objects.order_by("-id").only("id", "hash").first()
    if last is None or last.hash != prev:
        raise RuntimeError("the last audit entry by id is not the chain's last")
    AuditChainHead.objects.update_or_create(
        pk=1, defaults={"last_hash": prev, "last_entry_id": last.pk, "last_timestamp": moment}
    )
    return time.monotonic() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(first run ms, median of the following runs ms, result)."""
    t0 = time.perf_counter()
    result = fn()
    first = (time.perf_counter() - t0) * 1000
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return first, statistics.median(runs) if runs else first, result


INDEX_NAME = re.compile(r"(audit_[a-z_]+id|audit_auditentry_pkey|INTEGER PRIMARY KEY)")


def plan_summary(qs: Any) -> tuple[str, str]:
    plan = qs.explain()
    names = sorted(set(INDEX_NAME.findall(plan)))
    if names:
        uses = ", ".join(names)
    elif "TEMP B-TREE" in plan or "Sort" in plan:
        uses = "NO INDEX: full scan and sort"
    else:
        uses = "no filter index: newest-first scan until the page is full"
    return uses, plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after the first (median shown)")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--plans", action="store_true", help="print the full query plans")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="jingzhun-audit-bench-"))
    database = contextlib.ExitStack()
    try:
        database.enter_context(bench_database(tmp, "auditbench"))
        logging.getLogger("jingzhun.audit").setLevel(logging.WARNING)  # the export's access log line
        from django.core.management import call_command
        from django.db import connection as conn
        from django.db import transaction
        from django.test import Client

        from jingzhun.accounts.models import User
        from jingzhun.audit.context import audit_context
        from jingzhun.audit.models import AuditEntry, append_entries
        from jingzhun.audit.search import Filters, bounded_count, keyset_page, search
        from jingzhun.regions.models import Region

        print(f"database:   {conn.vendor} ({conn.settings_dict['NAME']})")
        world = World(random.Random(args.seed), args.entries)
        build_regions(world)
        user_ids = build_users(world)
        print(
            f"world:      {len(world.counties)} counties, {len(world.all_villages):,} villages, "
            f"{len(world.usernames)} users, ~{world.households:,} households"
        )

        def report(done: int) -> None:
            print(f"            … {done:,} entries appended", flush=True)

        seconds = append_chain(world, args.entries, user_ids, report)
        print(f"append:     {args.entries:,} entries in {seconds:.1f} s ({args.entries / seconds:,.0f} entries/s)")
        if conn.vendor == "postgresql":
            with conn.cursor() as c:
                c.execute("ANALYZE audit_auditentry")
        else:
            with conn.cursor() as c:
                c.execute("ANALYZE")
                c.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                print(f"size:       {c.fetchone()[0] / 1e6:,.0f} MB SQLite file")

        # The real write paths, inside one transaction as a request or an import runs them: an audited save
        # (update + lock the head + hash + insert + move the head) against the same update unaudited, and a
        # bulk import's append_entries.
        region = Region.objects.unscoped().filter(level=5).first()
        saves = 500
        with transaction.atomic():
            t0 = time.perf_counter()
            for i in range(saves):
                Region.objects.unscoped().filter(pk=region.pk).update(name=f"村{i}")
            plain = (time.perf_counter() - t0) * 1000 / saves
        with transaction.atomic(), audit_context(None, source="command"):
            t0 = time.perf_counter()
            for i in range(saves):
                region.name = f"村{i}x"
                region.save()
            audited = (time.perf_counter() - t0) * 1000 / saves
        print(f"save:       {audited:.2f} ms per audited save vs {plain:.2f} ms for the bare UPDATE ({saves} saves)")
        rows = [
            {
                "action": "update",
                "object_type": "registry.household",
                "object_id": i,
                "object_repr": world.name(),
                "region_code": world.all_villages[i % len(world.all_villages)],
                "changes": {"phone": ["1", "2"]},
            }
            for i in range(20_000)
        ]
        with transaction.atomic(), audit_context(None, source="import"):
            t0 = time.perf_counter()
            append_entries(rows)
            seconds = time.perf_counter() - t0
        rate = len(rows) / seconds
        print(f"import:     append_entries of {len(rows):,} rows in {seconds:.2f} s ({rate:,.0f} entries/s)")

        inspector = User.objects.unscoped().get(username="inspector")
        rng = random.Random(args.seed + 1)
        county = world.counties[5]
        village = rng.choice(world.all_villages)
        mid = AuditEntry.objects.order_by("id").values_list("timestamp", flat=True)[args.entries // 2]
        month_from = (mid.date() - dt.timedelta(days=15)).isoformat()
        month_to = (mid.date() + dt.timedelta(days=15)).isoformat()
        busy_user = world.usernames[0]
        quiet_user = world.usernames[-1]
        sample = (
            AuditEntry.objects.filter(object_type="registry.household", id__gte=args.entries // 2)
            .order_by("id")
            .first()
        )
        bulk_request = (
            AuditEntry.objects.filter(source="import").order_by("id").values_list("request_id", flat=True).first()
        )
        old_id = args.entries // 10

        def page(f: Filters, **kw: Any) -> Callable[[], Any]:
            return lambda: keyset_page(search(inspector, f), **kw).entries

        cases = [
            (
                "county + month",
                Filters(
                    region=county, date_from=dt.date.fromisoformat(month_from), date_to=dt.date.fromisoformat(month_to)
                ),
            ),
            (
                "village + month",
                Filters(
                    region=village, date_from=dt.date.fromisoformat(month_from), date_to=dt.date.fromisoformat(month_to)
                ),
            ),
            ("busiest user", Filters(actor=busy_user)),
            (
                "quietest user + month",
                Filters(
                    actor=quiet_user,
                    date_from=dt.date.fromisoformat(month_from),
                    date_to=dt.date.fromisoformat(month_to),
                ),
            ),
            ("one object's history", Filters(object_type=sample.object_type, object_id=sample.object_id)),
            ("one bulk request", Filters(request_id=bulk_request)),
            ("county, deep page", Filters(region=county)),
            ("object type + action", Filters(object_type="regions.region", action="delete")),
            ("free text (scan)", Filters(text="建国")),
        ]
        print(f"\nqueries (first page of 50, newest first; scope = province; median of {args.repeat}):")
        print(f"  {'query':<24} {'first ms':>9} {'median ms':>10} {'ratio':>7}  rows  index used")
        for label, f in cases:
            kw = {"before": old_id} if "deep" in label else {}
            first, median, rows = timed(page(f, **kw), args.repeat)
            qs = search(inspector, f)
            qs = qs.filter(id__lt=old_id) if kw else qs
            uses, plan = plan_summary(qs.order_by("-id")[:51])
            ratio = median / REFERENCE_QUERY_MS
            print(f"  {label:<24} {first:>9.1f} {median:>10.1f} {ratio:>7.3f} {len(rows):>5}  {uses}")
            if args.plans:
                print("    " + plan.replace("\n", "\n    "))
        first, median, (n, more) = timed(lambda: bounded_count(search(inspector, Filters(request_id=bulk_request))), 2)
        print(
            f"  {'bulk request size':<24} {first:>9.1f} {median:>10.1f} {median / REFERENCE_QUERY_MS:>7.3f}"
            f"  {n}{'+' if more else ''} entries (capped count)"
        )

        # The whole page through Django (middleware, form, query, region names, template).
        client = Client()
        client.force_login(inspector)
        params = {"region": county, "date_from": month_from, "date_to": month_to}
        first, median, response = timed(lambda: client.get("/audit/", params), args.repeat)
        assert response.status_code == 200, response.status_code
        print(
            f"\npage:       /audit/ county + month: first {first:.0f} ms, median {median:.0f} ms "
            f"(ratio {median / REFERENCE_QUERY_MS:.2f} to {REFERENCE_QUERY_MS:.0f} ms)"
        )
        first, median, response = timed(
            lambda: client.get(f"/audit/history/{sample.object_type}/{sample.object_id}/"), args.repeat
        )
        print(f"page:       history of one object: median {median:.0f} ms (ratio {median / REFERENCE_QUERY_MS:.2f})")
        t0 = time.perf_counter()
        response = client.get("/audit/export.csv", params)
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - t0
        print(f"export:     CSV county + month: {size / 1e6:.1f} MB in {seconds:.2f} s")

        # verify_audit over everything, with the memory it needed on top of what the process had.
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = io.StringIO()
        t0 = time.perf_counter()
        call_command("verify_audit", stdout=out)
        seconds = time.perf_counter() - t0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        total = AuditEntry.objects.count()
        reference = REFERENCE_VERIFY_S_PER_MILLION * total / 1e6
        print(f"\nverify:     {out.getvalue().splitlines()[0]}")
        print(
            f"            {seconds:.1f} s, {total / seconds:,.0f} entries/s; ratio to {reference:.0f} s "
            f"({REFERENCE_VERIFY_S_PER_MILLION:.0f} s per million): {seconds / reference:.3f}; "
            f"peak memory grew {(rss_after - rss_before) / 1024:.1f} MB"
        )
        return 0
    finally:
        database.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
