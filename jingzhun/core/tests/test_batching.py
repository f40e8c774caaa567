from __future__ import annotations

import pytest

from jingzhun.core.batching import chunked


def test_chunked_takes_consecutive_lists_lazily_from_any_iterable():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
    consumed = []

    def source():
        for i in range(10):
            consumed.append(i)
            yield i

    first = next(chunked(source(), 4))
    assert first == [0, 1, 2, 3] and consumed == [0, 1, 2, 3]  # nothing read ahead


def test_chunked_refuses_an_empty_size():
    with pytest.raises(ValueError):
        next(chunked([1], 0))
