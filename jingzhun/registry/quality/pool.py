"""The data-quality rules over many households in a helper process, while the caller goes on.

A large import spends about a quarter of its time in ``validate_household`` (64 rules per household) and
another large share writing rows the database must index. The rules are pure functions over plain data,
so a batch of households travels to a helper process as plain dicts and comes back as violations: on the
project's two-CPU machines the import plans and writes while the helper checks.

The helper is a new interpreter running ``serve`` from this module, never a fork: imports run
in the job queue's worker threads and in the web server, where forking a multi-threaded process can
deadlock, and a fork would copy the parent's hundreds of MB of parsed rows page by page as it read them.
It is not started through multiprocessing either: its "spawn" re-runs the caller's main script in the
child, and a script that imports without an ``if __name__ == "__main__"`` guard would import twice. The
helper reads length-prefixed pickled batches on its stdin and answers each on its stdout; two threads
here feed and read the pipes, so ``add`` never waits for the helper. A batch is pickled once, when it is
queued, and its bytes are dropped as soon as its result is back.

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
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from jingzhun.registry.quality.catalogue import validate_household
from jingzhun.registry.quality.facts import HouseholdFacts, YearFacts
from jingzhun.registry.quality.rule import Violation

logger = logging.getLogger(__name__)

# One household for the rules: its fields (HouseholdFacts.from_data), its members' fields (active and
# removed, in the order findings refer to them), its yearly record and the reference date for ages.
HouseholdInput = tuple[dict[str, Any], list[dict[str, Any]], YearFacts | None, dt.date]

_FRAME = struct.Struct("<Q")  # the length of the pickle that follows


def check_batch(batch: list[HouseholdInput]) -> list[list[Violation]]:
    """Every rule over each household of the batch (what the helper runs; also the inline path)."""
    return [
        validate_household(HouseholdFacts.from_data(data, members, year), as_of) for data, members, year, as_of in batch
    ]


def _check_pickled(payload: bytes) -> list[list[Violation]]:
    return check_batch(pickle.loads(payload))


class HelperGone(Exception):
    """The helper process could not start, or stopped before answering."""


class HelperTraceback(Exception):
    """The helper's traceback of a rule's exception, chained to it as its cause."""

    def __str__(self) -> str:
        return f"\n{self.args[0]}"


def _write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(_FRAME.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None  # end of stream
    (size,) = _FRAME.unpack(header)
    data = stream.read(size)
    return data if len(data) == size else None


class _Helper:
    """The helper process and the two threads that talk to it; answers arrive in the order sent."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[3])  # the directory holding the jingzhun package
        # Same interpreter, environment and working directory (settings may name relative paths).
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        env.setdefault("DJANGO_SETTINGS_MODULE", "jingzhun.settings")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HELPER_PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._waiting: deque[Future] = deque()
        self._lock = threading.Lock()
        self._gone: BaseException | None = None
        threading.Thread(target=self._send, name="quality-helper-send", daemon=True).start()
        threading.Thread(target=self._receive, name="quality-helper-receive", daemon=True).start()

    def submit(self, payload: bytes) -> Future:
        future: Future = Future()
        with self._lock:
            if self._gone is not None:
                raise HelperGone(str(self._gone))
            self._waiting.append(future)
        self._outbox.put(payload)
        return future

    def _send(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (payload := self._outbox.get()) is not None:
                _write_frame(stdin, payload)
            stdin.close()
        except OSError:  # the helper is gone: _receive sees the end of its output and fails the rest
            self.process.kill()

    def _receive(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while (frame := _read_frame(stdout)) is not None:
                ok, value, trace = pickle.loads(frame)  # may fail: the finally still fails the waiting
                with self._lock:
                    if not self._waiting:
                        break  # an answer nobody asked for: the protocol is broken, stop the helper
                    future = self._waiting.popleft()
                if ok:
                    future.set_result(value)
                else:
                    value.__cause__ = HelperTraceback(trace)  # where in the helper the rule raised
                    future.set_exception(value)  # raised here, as it would have been inline
        finally:
            # Whatever ended the loop, nobody may wait for ever (an import waits inside its transaction).
            self.process.kill()
            self._fail(HelperGone(f"数据质量检查辅助进程已退出（返回码 {self.process.wait()}）"))

    def _fail(self, exc: BaseException) -> None:
        """The helper is gone: every batch still waiting fails (QualityChecks checks them here)."""
        with self._lock:
            self._gone = self._gone or exc
            waiting, self._waiting = list(self._waiting), deque()
        for future in waiting:
            if not future.done():
                future.set_exception(HelperGone(str(exc)))

    def close(self, *, wait: bool) -> None:
        """Stop the helper: after its queued batches (``wait``), or at once."""
        self._outbox.put(None)
        if not wait:
            self.process.kill()
        self.process.wait()


class _Queued:
    """A batch sent to the helper: its future, and its bytes until the result is back."""

    __slots__ = ("future", "payload")

    def __init__(self, future: Future, payload: bytes) -> None:
        self.future = future
        self.payload: bytes | None = payload
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        if not isinstance(future.exception(), HelperGone):
            self.payload = None  # checked (or failed in a rule): the bytes are not needed any more


class QualityChecks:
    """Violations for batches of households, computed by a helper process when ``helper``, else here."""

    def __init__(self, *, helper: bool) -> None:
        self._helper: _Helper | None = None
        if helper:
            try:
                self._helper = _Helper()
            except OSError as exc:
                self._give_up(exc)
        self._parts: deque[_Queued | list[list[Violation]]] = deque()

    @property
    def uses_helper(self) -> bool:
        return self._helper is not None

    def add(self, batch: list[HouseholdInput], *, here: bool = False) -> None:
        """Queue a batch for the helper (or, with ``here`` or no helper, check it at once)."""
        if self._helper is None or here:
            self._parts.append(check_batch(batch))
            return
        payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._parts.append(_Queued(self._helper.submit(payload), payload))
        except HelperGone as exc:
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
                except HelperGone as exc:
                    self._give_up(exc)
                    assert part.payload is not None
                    found = _check_pickled(part.payload)
                part.payload = None
            else:
                found = part
            self._parts.popleft()
            yield from found

    def _give_up(self, exc: BaseException) -> None:
        if self._helper is not None:  # once: every batch still out fails the same way
            logger.warning("数据质量检查的辅助进程不可用（%s），改在本进程内检查", exc)
            self._helper.close(wait=False)
            self._helper = None

    def close(self) -> None:
        if self._helper is not None:
            # Unfinished batches (an import that failed) are not waited for.
            self._helper.close(wait=not any(isinstance(p, _Queued) for p in self._parts))
            self._helper = None
        self._parts.clear()

    def __enter__(self) -> QualityChecks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The helper's program. Its answers go to a copy of stdout, and stdout itself writes to stderr from the
# first line on, so nothing printed while Django is set up or the rules are imported can corrupt them.
# Django is set up first: the quality package's database part imports the models.
_HELPER_PROGRAM = (
    "import os; answers = os.dup(1); os.dup2(2, 1); import django; django.setup(); "
    "from jingzhun.registry.quality.pool import serve; serve(answers)"
)


def serve(answers_fd: int) -> None:
    """The helper (Django set up): check each batch read on stdin, answer on ``answers_fd``, until stdin ends."""
    answers = os.fdopen(answers_fd, "wb")
    batches = sys.stdin.buffer
    while (payload := _read_frame(batches)) is not None:
        try:
            answer = pickle.dumps((True, _check_pickled(payload), None), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # sent back, raised where the batch came from
            answer = _error_answer(exc)
        _write_frame(answers, answer)


def _error_answer(exc: Exception) -> bytes:
    trace = traceback.format_exc()
    try:
        answer = pickle.dumps((False, exc, trace), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(answer)  # some exceptions pickle but cannot be rebuilt: check here, not there
        return answer
    except Exception:  # an exception that cannot travel: its text does
        return pickle.dumps((False, RuntimeError(repr(exc)), trace), protocol=pickle.HIGHEST_PROTOCOL)
