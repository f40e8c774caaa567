"""Progress of a running job, shared across processes through the file cache (no extra server needed)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import caches

PROGRESS_CACHE = "jobs"
TTL_SECONDS = 24 * 3600


@dataclass
class Progress:
    done: int = 0
    total: int | None = None
    message: str = ""
    started: float = 0.0
    updated: float = 0.0

    @property
    def rate(self) -> float | None:
        """Rows per second since the start."""
        elapsed = self.updated - self.started
        return self.done / elapsed if elapsed > 0 and self.done else None

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate
        if not rate or self.total is None:
            return None
        return max(0.0, (self.total - self.done) / rate)

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return min(100.0, 100.0 * self.done / self.total)


def _key(job_id: object) -> str:
    return f"job-progress:{job_id}"


def read(job_id: object) -> Progress | None:
    data = caches[PROGRESS_CACHE].get(_key(job_id))
    return Progress(**data) if data else None


class ProgressReporter:
    """Passed to job functions: ``report(done, total, message)``; writes at most every ``interval`` seconds."""

    def __init__(self, job_id: object, interval: float = 0.5) -> None:
        self.job_id = job_id
        self.interval = interval
        now = time.monotonic()
        self.state = Progress(started=now, updated=now)
        self._last_write = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        self.state.done = done
        if total is not None:
            self.state.total = total
        if message:
            self.state.message = message
        self.state.updated = now
        if force or now - self._last_write >= self.interval:
            self._write()
            self._last_write = now

    def _write(self) -> None:
        data: dict[str, Any] = asdict(self.state)
        caches[PROGRESS_CACHE].set(_key(self.job_id), data, TTL_SECONDS)
