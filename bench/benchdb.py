"""The database a benchmark runs against: created for the run, dropped after it (shared by the benchmarks).

A temporary SQLite file in the run's directory, or, when DATABASE_URL names a PostgreSQL server, a database
of its own there (``<name>_<label>_<pid>``), made with Django's test-database machinery so it is migrated
like the real one. The developer's var/ and DATABASE_URL database are never written.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Set Django up with the project's settings, which read JINGZHUN_VAR_DIR and DATABASE_URL from the
    environment (the caller sets them first)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingzhun.settings")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


@contextlib.contextmanager
def bench_database(tmp: Path, label: str) -> Iterator[Any]:
    """Set Django up with its var dir in ``tmp``, create and migrate the run's database, yield the connection,
    and drop the database at the end."""
    os.environ["JINGZHUN_VAR_DIR"] = str(tmp)  # secret key, huey queue and default SQLite stay here
    setup_django()
    from django.db import connection

    test = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test["NAME"] = str(tmp / f"{label}.sqlite3")
    else:
        test["NAME"] = f"{connection.settings_dict['NAME']}_{label}_{os.getpid()}"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
