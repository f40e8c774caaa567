"""Keeping a large import's memory in check: the cycle collector paused, freed heap pages handed back."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
from collections.abc import Callable, Iterator


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None


def return_freed_memory() -> None:
    """Hand the heap pages freed so far back to the operating system.

    A loaded sheet lives in calamine's own (Rust) memory and its cells in many small Python objects;
    once parsed they are freed, but glibc keeps the pages for reuse, so the process would stay as large
    as at its peak for the rest of the import (about 120 MB more at 50,000 households)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while an import runs.

    An import builds millions of small containers that all stay alive until it ends (rows, values,
    audit changes). Each full collection walks every one of them, and allocation keeps triggering
    collections: measured on 50,000 households, about a third of the run went to the collector and
    freed nothing. Reference counting still frees everything the import drops; the import's own
    structures form no cycles, and the collector runs as usual once it is re-enabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
