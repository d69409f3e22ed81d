"""Tables of byte strings in one buffer, sorted, merged and de-duplicated by compiled kernels.

A :class:`TextTable` holds ``n`` byte strings (UTF-8 text) back to back in one ``uint8`` array, with ``int64``
offsets; a :class:`CountingTable` counts such strings batch by batch (every counting worker's pre-tokens). A
TextTable is what the ``superword`` counting workers send their distinct chunks and pieces in: it pickles as
two buffers, where a dict or list of ~1M str is pickled and unpickled object by object (~1 s a worker on
130 MB, the unpickling serial in the parent), and the kernels here sort, merge and de-duplicate it without
the GIL and without a Python object per string.

Strings compare as Python compares ``bytes`` (unsigned bytes, a prefix first): the canonical order of
:class:`~tokensmith.train.counting.PretokenCounts`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class TextTable:
    """``n`` byte strings: string ``i`` is ``text[offsets[i]:offsets[i + 1]]``.

    Args:
        text: ``uint8``, the strings back to back.
        offsets: ``int64 (n + 1,)``, where each string starts, and the end.
    """

    text: np.ndarray
    offsets: np.ndarray

    @classmethod
    def empty(cls) -> TextTable:
        return cls(np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))

    @classmethod
    def from_bytes(cls, items: list[bytes]) -> TextTable:
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, items), dtype=np.int64, count=len(items)), out=offsets[1:])
        # writable (a bytearray), as an unpickled array is: numba compiles a kernel once per kind of array
        return cls(np.frombuffer(bytearray().join(items), dtype=np.uint8), offsets)

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> TextTable:
        """The UTF-8 encodings of ``strings``."""
        return cls.from_bytes([string.encode("utf-8") for string in strings])

    @classmethod
    def concatenate(cls, tables: list[TextTable]) -> TextTable:
        """The strings of all ``tables`` back to back."""
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        starts = np.cumsum([0] + [len(table.text) for table in tables])
        offsets = np.concatenate([tables[0].offsets[:1]] + [table.offsets[1:] + start
                                                            for table, start in zip(tables, starts, strict=False)])
        return cls(np.concatenate([table.text for table in tables]), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self.text[self.offsets[index]:self.offsets[index + 1]].tobytes()

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def decoded(self) -> list[str]:
        """Every string as UTF-8 text."""
        stops = self.offsets[1:].tolist()
        joined = self.text.tobytes()
        return [joined[start:stop].decode("utf-8") for start, stop in zip(self.offsets[:-1].tolist(), stops,
                                                                          strict=True)]

    def take(self, indices: np.ndarray) -> TextTable:
        """The strings ``indices`` (``int64``), in that order."""
        return TextTable(*take_segments(self.text, self.offsets, indices))

    def sorted_order(self) -> np.ndarray:
        """``int64`` indices of the strings in sorted order (equal strings in index order).

        Sorted by their first 8 bytes as one number (numpy), then each run of equal first bytes by comparing
        the rest: a comparison sort over the strings themselves reads the text at random ~20 times a string.
        """
        keys = _prefix_keys(self.text, self.offsets)
        order = np.argsort(keys, kind="stable")
        _sort_ties(self.text, self.offsets, keys[order], order)
        return order

    def merge_order(self, bounds: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """``int64`` indices of the strings in sorted order, when the runs ``order[bounds[k]:bounds[k + 1]]``
        (``bounds``: from 0 to ``len(self)``; ``order``: a permutation, by default the identity) are each
        sorted already (equal strings: the earlier run's first)."""
        if order is None:
            order = np.arange(len(self), dtype=np.int64)
        return _merge_runs(self.text, self.offsets, np.asarray(bounds, dtype=np.int64),
                           np.array(order, dtype=np.int64))

    def repeats(self, order: np.ndarray) -> np.ndarray:
        """Per position of ``order`` (bool): whether its string equals the one at the position before."""
        return _repeats(self.text, self.offsets, np.asarray(order, dtype=np.int64))

    def distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """``(first, ids)``: the index of the first occurrence of each distinct string (``int64``, in order of
        first occurrence), and the distinct index of every string (``int64``)."""
        first, _, ids = distinct_slices(self.text, self.offsets[:-1], self.offsets[1:])
        return first, ids


class CountingTable:
    """Distinct byte strings and their counts, added table by table: an open-addressing hash table
    (:func:`segment_hash`) over buffers that grow by doubling, so a string met in many tables is stored once
    and its counts are summed as it comes, in compiled code (no re-hashing of everything so far per sum)."""

    def __init__(self, rows: int = 1 << 12) -> None:
        """Room for ``rows`` strings (of 16 bytes on average) before the buffers first grow."""
        self._text = np.empty(16 * rows, dtype=np.uint8)
        self._offsets = np.zeros(rows + 1, dtype=np.int64)
        self._counts = np.zeros(rows, dtype=np.int64)
        self._hashes = np.zeros(rows, dtype=np.uint64)
        self._slots = np.full(_power_of_two(2 * rows), -1, dtype=np.int64)
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def add(self, texts: TextTable, counts: np.ndarray) -> None:
        """Count the strings of ``texts``, ``counts[i]`` (``int64``) times string ``i``; strings not met before
        go last, in their order."""
        rows = self._rows + len(texts)
        if rows > len(self._counts):
            size = max(rows, 2 * len(self._counts))
            self._offsets = _grown(self._offsets, size + 1)
            self._counts = _grown(self._counts, size)
            self._hashes = _grown(self._hashes, size)
        text_bytes = int(self._offsets[self._rows]) + len(texts.text)
        if text_bytes > len(self._text):
            self._text = _grown(self._text, max(text_bytes, 2 * len(self._text)))
        if 2 * rows > len(self._slots):  # at most half full: probes stay short
            self._slots = _rehashed(self._hashes, self._rows, _power_of_two(2 * rows))
        self._rows = _add_counted(texts.text, texts.offsets, np.asarray(counts, dtype=np.int64), self._text,
                                  self._offsets, self._counts, self._hashes, self._slots, self._rows)

    def counts(self) -> np.ndarray:
        """The counts so far (``int64``, a copy), in order of first addition."""
        return self._counts[: self._rows].copy()

    def total(self) -> tuple[TextTable, np.ndarray]:
        """The distinct strings in order of first addition, and their counts (``int64``): copies, exactly sized."""
        rows = self._rows
        return (TextTable(self._text[: self._offsets[rows]].copy(), self._offsets[: rows + 1].copy()),
                self._counts[:rows].copy())


def _power_of_two(at_least: int) -> int:
    return 1 << max(0, at_least - 1).bit_length()


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros(size, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


@njit(cache=True, nogil=True)
def _rehashed(hashes, rows, size):
    mask = size - 1
    slots = np.full(size, -1, dtype=np.int64)
    for row in range(rows):
        slot = np.int64(hashes[row] & np.uint64(mask))
        while slots[slot] >= 0:
            slot = (slot + 1) & mask
        slots[slot] = row
    return slots


@njit(cache=True, nogil=True)
def _add_counted(text, offsets, counts, store, store_offsets, store_counts, hashes, slots, rows):
    """:meth:`CountingTable.add` into buffers with room enough; returns the rows now stored."""
    mask = len(slots) - 1
    for i in range(len(offsets) - 1):
        start, stop = offsets[i], offsets[i + 1]
        digest = segment_hash(text, start, stop)
        slot = np.int64(digest & np.uint64(mask))
        while True:
            known = slots[slot]
            if known < 0:
                at = store_offsets[rows]
                for k in range(stop - start):
                    store[at + k] = text[start + k]
                store_offsets[rows + 1] = at + stop - start
                store_counts[rows] = counts[i]
                hashes[rows] = digest
                slots[slot] = rows
                rows += 1
                break
            if (hashes[known] == digest and store_offsets[known + 1] - store_offsets[known] == stop - start
                    and _same_run(store, store_offsets[known], text, start, stop - start)):
                store_counts[known] += counts[i]
                break
            slot = (slot + 1) & mask
    return rows


def take_segments(values: np.ndarray, offsets: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, offsets)`` of the segments ``indices`` (``int64``) of ``values`` (segment ``i`` is
    ``values[offsets[i]:offsets[i + 1]]``), back to back in that order."""
    indices = np.asarray(indices, dtype=np.int64)
    return take_slices(values, offsets[indices], offsets[indices + 1])


def take_slices(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, offsets)`` of the slices ``values[starts[i]:stops[i]]`` (``int64`` bounds), back to back."""
    starts = np.asarray(starts, dtype=np.int64)
    taken_offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(np.asarray(stops, dtype=np.int64) - starts, out=taken_offsets[1:])
    taken = np.empty(int(taken_offsets[-1]), dtype=values.dtype)
    _gather(values, starts, taken_offsets, taken)
    return taken, taken_offsets


def compile_kernels() -> float:
    """Compile (or load from numba's on-disk cache) the kernels on a tiny input; returns seconds."""
    started = time.perf_counter()
    table = TextTable.from_bytes([b"b", b"a", b"ab", b"a"])
    order = table.sorted_order()
    table.merge_order(np.array([0, 2, 4]), order)
    table.repeats(order)
    table.take(order)
    table.distinct()
    counting = CountingTable()
    counting.add(table, np.ones(len(table), dtype=np.int64))
    take_segments(np.arange(4, dtype=np.int32), table.offsets, order)  # a cut's occurrence (superword)
    return time.perf_counter() - started


@njit(cache=True, inline="always")
def _not_after(text, offsets, a, b, skip=0):
    """Whether string ``a`` sorts before string ``b`` or equals it (their first ``skip`` bytes are equal)."""
    start_a, start_b = offsets[a], offsets[b]
    length_a, length_b = offsets[a + 1] - start_a, offsets[b + 1] - start_b
    for k in range(min(skip, length_a, length_b), min(length_a, length_b)):
        x, y = text[start_a + k], text[start_b + k]
        if x != y:
            return x < y
    return length_a <= length_b


@njit(cache=True, inline="always")
def _equal(text, offsets, a, b):
    length = offsets[a + 1] - offsets[a]
    return offsets[b + 1] - offsets[b] == length and _same_run(text, offsets[a], text, offsets[b], length)


@njit(cache=True, inline="always")
def _same_run(text_a, start_a, text_b, start_b, length):
    """Whether ``text_a[start_a:start_a + length]`` equals ``text_b[start_b:start_b + length]``."""
    for k in range(length):  # noqa: SIM110 - a loop that returns early, compiled (no generator)
        if text_a[start_a + k] != text_b[start_b + k]:
            return False
    return True


@njit(cache=True, inline="always")
def _merge_two(text, offsets, order, low, middle, high, spare, out, skip):
    """Merge the sorted runs ``order[low:middle]`` and ``order[middle:high]`` into ``spare`` from ``out`` on
    (stable: the left first on a tie; their strings' first ``skip`` bytes are equal); returns the end."""
    left, right = low, middle
    while left < middle and right < high:
        if _not_after(text, offsets, order[left], order[right], skip):
            spare[out] = order[left]
            left += 1
        else:
            spare[out] = order[right]
            right += 1
        out += 1
    while left < middle:
        spare[out] = order[left]
        left += 1
        out += 1
    while right < high:
        spare[out] = order[right]
        right += 1
        out += 1
    return out


@njit(cache=True, inline="always")
def segment_hash(text, start, stop):
    """FNV-1a of ``text[start:stop]`` (any unsigned integer array: bytes, code points), its high bits folded
    into the low ones, which pick an open-addressing slot."""
    digest = np.uint64(14695981039346656037)
    for position in range(start, stop):
        digest = (digest ^ np.uint64(text[position])) * np.uint64(1099511628211)
    return digest ^ (digest >> np.uint64(29))


@njit(cache=True, nogil=True)
def code_points_of(utf8, offsets, first, stop, blank):
    """``(code points uint32, lengths int64)`` of the valid UTF-8 strings ``first..stop-1`` back to back (a
    ``blank`` string gives none)."""
    lengths = np.zeros(stop - first, dtype=np.int64)
    out = np.empty(offsets[stop] - offsets[first], dtype=np.uint32)
    at = 0
    for row in range(first, stop):
        if blank[row]:
            continue
        position, end = offsets[row], offsets[row + 1]
        begin = at
        while position < end:
            lead = np.uint32(utf8[position])
            if lead < 0x80:
                out[at] = lead
                position += 1
            elif lead < 0xE0:
                out[at] = ((lead & 0x1F) << 6) | (np.uint32(utf8[position + 1]) & 0x3F)
                position += 2
            elif lead < 0xF0:
                out[at] = (((lead & 0x0F) << 12) | ((np.uint32(utf8[position + 1]) & 0x3F) << 6)
                           | (np.uint32(utf8[position + 2]) & 0x3F))
                position += 3
            else:
                out[at] = (((lead & 0x07) << 18) | ((np.uint32(utf8[position + 1]) & 0x3F) << 12)
                           | ((np.uint32(utf8[position + 2]) & 0x3F) << 6) | (np.uint32(utf8[position + 3]) & 0x3F))
                position += 4
            at += 1
        lengths[row - first] = at - begin
    return out[:at], lengths


@njit(cache=True, nogil=True)
def utf8_of_slices(text, starts, stops):
    """``(utf8 uint8, offsets int64, surrogate)``: the UTF-8 of the code points ``text[starts[p]:stops[p]]`` of
    every slice ``p`` back to back, and the first slice holding a lone surrogate (-1: none; a surrogate is
    written as ``"surrogatepass"`` writes it)."""
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    size = 0
    for p in range(len(starts)):
        for i in range(starts[p], stops[p]):
            code_point = text[i]
            size += 1 if code_point < 0x80 else 2 if code_point < 0x800 else 3 if code_point < 0x10000 else 4
        offsets[p + 1] = size
    out = np.empty(size, dtype=np.uint8)
    surrogate = -1
    at = 0
    for p in range(len(starts)):
        for i in range(starts[p], stops[p]):
            code_point = text[i]
            if code_point < 0x80:
                out[at] = code_point
                at += 1
            elif code_point < 0x800:
                out[at] = 0xC0 | (code_point >> 6)
                out[at + 1] = 0x80 | (code_point & 0x3F)
                at += 2
            elif code_point < 0x10000:
                if 0xD800 <= code_point <= 0xDFFF and surrogate < 0:
                    surrogate = p
                out[at] = 0xE0 | (code_point >> 12)
                out[at + 1] = 0x80 | ((code_point >> 6) & 0x3F)
                out[at + 2] = 0x80 | (code_point & 0x3F)
                at += 3
            else:
                out[at] = 0xF0 | (code_point >> 18)
                out[at + 1] = 0x80 | ((code_point >> 12) & 0x3F)
                out[at + 2] = 0x80 | ((code_point >> 6) & 0x3F)
                out[at + 3] = 0x80 | (code_point & 0x3F)
                at += 4
    return out, offsets, surrogate


@njit(cache=True, nogil=True)
def _merge_runs(text, offsets, bounds, order):
    """Merge sort from sorted runs of ``order`` (overwritten): merges neighbouring runs pairwise until one is
    left (stable)."""
    n = len(order)
    spare = np.empty(n, dtype=np.int64)
    runs = bounds
    while len(runs) > 2:
        n_runs = len(runs) - 1
        merged_runs = np.empty((n_runs + 1) // 2 + 1, dtype=np.int64)
        for pair in range(0, n_runs, 2):
            low = runs[pair]
            merged_runs[pair // 2] = low
            if pair + 1 == n_runs:  # an odd run out: copied as it is
                spare[low:runs[pair + 1]] = order[low:runs[pair + 1]]
                continue
            _merge_two(text, offsets, order, low, runs[pair + 1], runs[pair + 2], spare, low, 0)
        merged_runs[-1] = n
        runs = merged_runs
        order, spare = spare, order
    return order


_KEY_BYTES = 8


@njit(cache=True, nogil=True)
def _prefix_keys(text, offsets):
    """Each string's first 8 bytes as a big-endian ``uint64`` (zeros past its end)."""
    n = len(offsets) - 1
    keys = np.zeros(n, dtype=np.uint64)
    for i in range(n):
        start = offsets[i]
        key = np.uint64(0)
        for k in range(_KEY_BYTES):
            key <<= np.uint64(8)
            if start + k < offsets[i + 1]:
                key |= np.uint64(text[start + k])
        keys[i] = key
    return keys


@njit(cache=True, nogil=True)
def _sort_ties(text, offsets, keys, order):
    """Sort each run of equal ``keys`` (aligned with ``order``) of ``order`` in place by the whole strings
    (stable: a merge sort of the run, insertion into sorted blocks of 8 first)."""
    n = len(order)
    spare = np.empty(0, dtype=np.int64)
    low = 0
    while low < n:
        high = low + 1
        while high < n and keys[high] == keys[low]:
            high += 1
        if high - low > 1:
            for block in range(low, high, 8):  # insertion sort of blocks of 8
                for i in range(block + 1, min(block + 8, high)):
                    item = order[i]
                    j = i
                    while j > block and not _not_after(text, offsets, order[j - 1], item, _KEY_BYTES):
                        order[j] = order[j - 1]
                        j -= 1
                    order[j] = item
            if high - low > 8 and len(spare) < high - low:
                spare = np.empty(high - low, dtype=np.int64)
            width = 8
            while width < high - low:  # merge neighbouring blocks, copying through spare
                for left_start in range(low, high, 2 * width):
                    stop = min(left_start + 2 * width, high)
                    out = _merge_two(text, offsets, order, left_start, min(left_start + width, high), stop, spare,
                                     0, _KEY_BYTES)
                    order[left_start:stop] = spare[:out]
                width *= 2
        low = high


@njit(cache=True, nogil=True)
def _repeats(text, offsets, order):
    repeated = np.zeros(len(order), dtype=np.bool_)
    for i in range(1, len(order)):
        repeated[i] = _equal(text, offsets, order[i - 1], order[i])
    return repeated


@njit(cache=True, nogil=True)
def _gather(text, starts, out_offsets, out):
    for i in range(len(starts)):
        start = starts[i]
        at = out_offsets[i]
        for k in range(out_offsets[i + 1] - at):
            out[at + k] = text[start + k]


@njit(cache=True, nogil=True)
def distinct_slices(text, starts, stops):
    """``(first, counts, ids)``: the index of the first occurrence of every distinct slice
    ``text[starts[i]:stops[i]]`` (in order of first occurrence), how often each occurs, and the distinct index
    of every slice (``int64``), by an open-addressing table over :func:`segment_hash`."""
    n = len(starts)
    size = 1
    while size < 2 * n:
        size *= 2
    mask = size - 1
    slots = np.full(size, -1, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    hashes = np.empty(n, dtype=np.uint64)
    counts = np.zeros(n, dtype=np.int64)
    ids = np.empty(n, dtype=np.int64)
    distinct = 0
    for i in range(n):
        start, length = starts[i], stops[i] - starts[i]
        digest = segment_hash(text, start, stops[i])
        slot = np.int64(digest & np.uint64(mask))
        while True:
            known = slots[slot]
            if known < 0:
                slots[slot] = distinct
                first[distinct] = i
                hashes[distinct] = digest
                counts[distinct] = 1
                ids[i] = distinct
                distinct += 1
                break
            other = first[known]
            if (hashes[known] == digest and stops[other] - starts[other] == length
                    and _same_run(text, starts[other], text, start, length)):
                counts[known] += 1
                ids[i] = known
                break
            slot = (slot + 1) & mask
    return first[:distinct], counts[:distinct], ids
