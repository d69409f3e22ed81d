"""Word counts as arrays: what the word-counting worker sends ``measure``'s parent.

A dict of ~1M words pickles and unpickles object by object; :class:`WordCounts` travels as three arrays
(UTF-8 bytes, offsets, counts) and becomes a dict when first read. This module needs no numba, so the
parent reads the worker's counts without loading the compiled kernels that made them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

import numpy as np


class WordCounts(Mapping):
    """Word -> count: word ``i`` is ``utf8[offsets[i]:offsets[i + 1]]`` and occurs ``counts[i]`` times."""

    def __init__(self, utf8: np.ndarray, offsets: np.ndarray, counts: np.ndarray) -> None:
        self._utf8, self._offsets, self._counts = utf8, offsets, counts

    def __reduce__(self):
        return WordCounts, (self._utf8, self._offsets, self._counts)

    @functools.cached_property
    def _dict(self) -> dict[str, int]:
        return dict(zip(decoded_strings(self._utf8, self._offsets), self._counts.tolist(), strict=True))

    def __getitem__(self, word: str) -> int:
        return self._dict[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._counts)

    def keys(self):
        return self._dict.keys()

    def values(self):
        return self._dict.values()

    def items(self):
        return self._dict.items()

    def total(self) -> int:
        """All words counted (the sum of the counts)."""
        return int(self._counts.sum())


def decoded_strings(utf8: np.ndarray, offsets: np.ndarray) -> list[str]:
    """The strings ``utf8[offsets[i]:offsets[i + 1]]``: one decode of them joined by line breaks where none
    holds one (chunks and words never do), else one decode each. Lone surrogates as ``surrogatepass``."""
    if len(offsets) < 2:
        return []
    if np.any(utf8 == 0x0A):
        joined, bounds = utf8.tobytes(), offsets.tolist()
        return [joined[start:stop].decode("utf-8", "surrogatepass")
                for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
    lines = np.insert(utf8, offsets[1:-1], np.uint8(0x0A))
    return lines.tobytes().decode("utf-8", "surrogatepass").split("\n")


def encoded_strings(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(utf8, offsets)`` of ``strings``: one encode of them joined by line breaks where none holds one."""
    utf8 = np.frombuffer("\n".join(strings).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    breaks = np.flatnonzero(utf8 == 0x0A)
    offsets = np.empty(len(strings) + 1, dtype=np.int64)
    offsets[0] = 0
    if len(breaks) != max(len(strings) - 1, 0):  # a string holds a line break: one encode each
        pieces = [string.encode("utf-8", "surrogatepass") for string in strings]
        np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)), out=offsets[1:])
        return np.frombuffer(b"".join(pieces), dtype=np.uint8), offsets
    offsets[1:] = np.append(breaks, len(utf8)) - np.arange(len(strings))  # the breaks taken out
    return np.delete(utf8, breaks), offsets
