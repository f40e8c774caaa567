"""Concurrent writers on PostgreSQL: the chain never forks, time never runs back, no deadlock."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, transaction

from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.audit.tests.helpers import verify
from jingzhun.regions.models import Region
from jingzhun.regions.testing import build_region_tree

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers by its file lock"),
]


def test_concurrent_transactions_keep_one_chain():
    tree = build_region_tree()
    codes = tree.villages
    start = AuditEntry.objects.count()
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            barrier.wait()
            for i in range(5):
                # Each transaction touches the same rows in a different order: with the head locked first,
                # writers queue instead of deadlocking.
                with transaction.atomic(), audit_context(None, source="command"):
                    for code in rng.sample(codes, 3):
                        region = Region.objects.unscoped().get(code=code)
                        region.name = f"并发{n}-{i}-{code[-3:]}"
                        region.save()
        except BaseException as exc:  # reported below; a thread's exception would otherwise be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert AuditEntry.objects.count() == start + 6 * 5 * 3
    times = list(AuditEntry.objects.order_by("id").values_list("timestamp", flat=True))
    assert times == sorted(times)
    passed, output = verify()
    assert passed, output
