"""The data-quality rules over many households in a helper process, while the caller goes on.

A large import spends about a quarter of its time in ``validate_household`` (64 rules per household) and
another large share writing rows the database must index. The rules are pure functions over plain data,
so a batch of households travels to a helper process as plain dicts and comes back as violations: on the
project's two-CPU machines the import plans and writes while the helper checks.

The helper is a spawned interpreter, never a fork: imports run in the job queue's worker threads and in
the web server, where forking a multi-threaded process can deadlock, and a fork would copy the parent's
hundreds of MB of parsed rows page by page as it read them. A batch is pickled once, when it is queued,
and its bytes are dropped as soon as its result is back, so the parent holds only what is in flight.

If the helper cannot start or dies (out of memory, killed), the batches it had not finished are checked
here instead: the results are the same, only slower. An exception raised by a rule is not caught: it
surfaces from ``results()`` as it would have inline.

Usage::

    checks = QualityChecks(helper=len(households) >= HELPER_MIN_HOUSEHOLDS)
    for batch in chunked(inputs, 1000):
        checks.add(batch)
    ...other work...
    for violations in checks.results():   # one list per household, in the order added
        ...                               # (results(wait=False): only those already back)
    checks.close()
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import pickle
from collections import deque
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from jingzhun.registry.quality import HouseholdFacts, Violation, YearFacts, validate_household

logger = logging.getLogger(__name__)

# One household for the rules: its fields (HouseholdFacts.from_data), its members' fields (active and
# removed, in the order findings refer to them), its yearly record and the reference date for ages.
HouseholdInput = tuple[dict[str, Any], list[dict[str, Any]], YearFacts | None, dt.date]


def check_batch(batch: list[HouseholdInput]) -> list[list[Violation]]:
    """Every rule over each household of the batch (what the helper runs; also the inline path)."""
    return [
        validate_household(HouseholdFacts.from_data(data, members, year), as_of) for data, members, year, as_of in batch
    ]


def _check_pickled(payload: bytes) -> list[list[Violation]]:
    return check_batch(pickle.loads(payload))


def _setup_helper() -> None:
    # The rule module imports Django (lazy translations, models for its Django part): set it up with the
    # parent's settings module, which the spawned interpreter inherits through the environment.
    import django

    django.setup()


class _Queued:
    """A batch sent to the helper: its future, and its bytes until the result is back."""

    __slots__ = ("future", "payload")

    def __init__(self, future: Future, payload: bytes) -> None:
        self.future = future
        self.payload: bytes | None = payload
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        if not future.cancelled() and not isinstance(future.exception(), BrokenProcessPool):
            self.payload = None  # checked (or failed in a rule): the bytes are not needed any more


class QualityChecks:
    """Violations for batches of households, computed by a helper process when ``helper``, else here."""

    def __init__(self, *, helper: bool) -> None:
        self._executor: ProcessPoolExecutor | None = None
        if helper:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_setup_helper
            )
        self._parts: deque[_Queued | list[list[Violation]]] = deque()

    @property
    def uses_helper(self) -> bool:
        return self._executor is not None

    def add(self, batch: list[HouseholdInput], *, here: bool = False) -> None:
        """Queue a batch for the helper (or, with ``here`` or no helper, check it at once)."""
        if self._executor is None or here:
            self._parts.append(check_batch(batch))
            return
        payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._parts.append(_Queued(self._executor.submit(_check_pickled, payload), payload))
        except (BrokenProcessPool, OSError, RuntimeError) as exc:  # could not start or already dead
            self._give_up(exc)
            self._parts.append(check_batch(batch))

    def results(self, *, wait: bool = True) -> Iterator[list[Violation]]:
        """Each household's violations not yet taken, in the order the batches were added. With ``wait``
        false it stops at the first batch the helper has not finished (the caller takes the rest later)."""
        while self._parts:
            part = self._parts[0]
            if isinstance(part, _Queued):
                if not wait and not part.future.done():
                    return
                try:
                    found = part.future.result()
                except (BrokenProcessPool, CancelledError) as exc:  # the helper died; the rest was cancelled
                    self._give_up(exc)
                    assert part.payload is not None
                    found = _check_pickled(part.payload)
                part.payload = None
            else:
                found = part
            self._parts.popleft()
            yield from found

    def _give_up(self, exc: BaseException) -> None:
        if self._executor is not None:
            logger.warning("数据质量检查的辅助进程不可用（%s），改在本进程内检查", exc)
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._parts.clear()

    def __enter__(self) -> QualityChecks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
