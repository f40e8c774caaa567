"""Splitting work into batches (IN lists within the database's limits, bulk writes, streamed exports)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last one shorter), taken lazily from any iterable, so a
    database iterator is never read whole."""
    if size < 1:
        raise ValueError("size must be at least 1")
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
