"""Whitespace chunks counted, and turned into UAX #29 words, in compiled code.

Word counts for fertility (:class:`~tokensmith.corpus.words.UnicodeWordSegmenter`) come from whitespace-
delimited *chunks*: UAX #29 never joins across whitespace, so a corpus' words are the words of its distinct
chunks, each weighted by the chunk's count. In Python this was most of ``measure``'s word-counting worker
(122 MB of ../shared/data, 1.8M distinct chunks): a ``Counter`` over ~20M chunks (1.7 s) and regex passes
over every distinct chunk grouped by count (~2.3 s). Here:

* :class:`ChunkCounts` cuts each batch where ``str.split()`` does (``str.isspace``) and counts its distinct
  chunks in a hash table over the code points (a table sized by the distinct chunks, grown by doubling,
  measured slower), then across batches in one
  :class:`~tokensmith.train.text_table.CountingTable` (UTF-8, ``int64`` counts);
* :func:`chunk_words` finds the chunks that are one *plain* word (``LEAD* CORE_FIRST CORE_REST* TAIL*`` of
  :mod:`~tokensmith.corpus.words`: letters and digits UAX #29 never breaks, maybe behind opening and before
  closing punctuation; ~80% of distinct chunks) by a table of those character classes, built from the same
  regex classes, and sums their words' counts in compiled code; only the other chunks take the full rules;
* :class:`WordCounts`, the result, is a read-only mapping word -> count that pickles as two arrays (the
  worker sends it to the parent) and becomes a dict on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import regex
from numba import njit

from tokensmith.train.text_table import CountingTable, TextTable, distinct_slices, take_slices, utf8_of_slices

#: Bits of :func:`character_classes`.
SPACE, LEAD, TAIL, CORE_FIRST, CORE_REST = 1, 2, 4, 8, 16

#: Distinct chunks a :class:`ChunkCounts` has room for before its table first grows.
INITIAL_ROWS = 1 << 16


@functools.cache
def character_classes() -> np.ndarray:
    """``uint8`` per code point (all 0x110000): the bits above, from ``str.isspace`` and the regex classes
    of :mod:`tokensmith.corpus.words` (matched over a string of every code point, run by run)."""
    from tokensmith.corpus import words

    classes = np.full(0x110000, SPACE, dtype=np.uint8)
    every = "".join(map(chr, range(0x110000)))
    for run in every.split():  # each code point occurs once: a run spans its first to its last code point
        classes[ord(run[0]):ord(run[-1]) + 1] = 0
    for bit, pattern in ((LEAD, words.LEAD), (TAIL, words.TAIL), (CORE_FIRST, words.CORE_FIRST),
                         (CORE_REST, words.CORE_REST)):
        for run in regex.finditer(f"(?V1){pattern}+", every):
            classes[run.start():run.end()] |= bit
    return classes


class ChunkCounts:
    """Distinct whitespace-delimited chunks and how often each occurs, added batch by batch."""

    def __init__(self) -> None:
        self._table = CountingTable(INITIAL_ROWS)

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> ChunkCounts:
        """Chunks counted elsewhere (``chunk -> count``), taken as they are."""
        chunks = cls()
        texts = TextTable.from_bytes([chunk.encode("utf-8", "surrogatepass") for chunk in counts])
        chunks._table.add(texts, np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))
        return chunks

    def __len__(self) -> int:
        return len(self._table)

    def add(self, texts: Iterable[str]) -> None:
        """Count the chunks of ``texts`` (``str.split()`` of each)."""
        joined = "\n".join(texts)  # a line break is whitespace: two texts never share a chunk
        code_points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        starts, stops = _chunk_bounds(code_points, character_classes())
        first, counts, _ = distinct_slices(code_points, starts, stops)
        utf8, offsets, _ = utf8_of_slices(code_points, starts[first], stops[first])  # surrogates: "surrogatepass"
        self._table.add(TextTable(utf8, offsets), counts)

    def total(self) -> tuple[TextTable, np.ndarray]:
        """The distinct chunks (UTF-8, in order of first occurrence) and their counts (``int64``)."""
        return self._table.total()


def chunk_words(chunks: ChunkCounts,
                full_rules: Callable[[list[str], list[int]], Mapping[str, int]]) -> WordCounts:
    """The word counts of ``chunks``: plain chunks here, the others by ``full_rules(chunks, counts)``."""
    table, counts = chunks.total()
    starts, stops = _plain_words(table.text, table.offsets, character_classes())
    plain = starts >= 0
    words = CountingTable(INITIAL_ROWS)
    words.add(TextTable(*take_slices(table.text, starts[plain], stops[plain])), counts[plain])
    others = np.flatnonzero(~plain)
    if len(others):
        rest = full_rules(_decoded(table.take(others)), counts[others].tolist())
        words.add(_encoded(list(rest)), np.fromiter(rest.values(), dtype=np.int64, count=len(rest)))
    return WordCounts(*words.total())


class WordCounts(Mapping):
    """Word -> count, held as a :class:`~tokensmith.train.text_table.TextTable` and ``int64`` counts (what
    pickles), decoded into a dict when first read."""

    def __init__(self, words: TextTable, counts: np.ndarray) -> None:
        self._words, self._counts = words, counts

    def __reduce__(self):
        return WordCounts, (self._words, self._counts)

    @functools.cached_property
    def _dict(self) -> dict[str, int]:
        return dict(zip(_decoded(self._words), self._counts.tolist(), strict=True))

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


def _decoded(table: TextTable) -> list[str]:
    """The strings of ``table``: one decode of them joined by line breaks where none holds one (chunks and
    words never do), else one decode each."""
    if not len(table):
        return []
    if np.any(table.text == 0x0A):
        joined, bounds = table.text.tobytes(), table.offsets.tolist()
        return [joined[start:stop].decode("utf-8", "surrogatepass")
                for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
    lines = np.insert(table.text, table.offsets[1:-1], np.uint8(0x0A))
    return lines.tobytes().decode("utf-8", "surrogatepass").split("\n")


def _encoded(strings: list[str]) -> TextTable:
    """``strings`` as a UTF-8 table: one encode of them joined by line breaks where none holds one."""
    utf8 = np.frombuffer("\n".join(strings).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    breaks = np.flatnonzero(utf8 == 0x0A)
    if len(breaks) != max(len(strings) - 1, 0):
        return TextTable.from_bytes([string.encode("utf-8", "surrogatepass") for string in strings])
    offsets = np.empty(len(strings) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = np.append(breaks, len(utf8)) - np.arange(len(strings))  # the breaks taken out
    return TextTable(np.delete(utf8, breaks), offsets)


@njit(cache=True, nogil=True)
def _chunk_bounds(text, classes):
    """``(starts, stops)`` of every run of non-space code points of ``text``."""
    starts = np.empty(len(text) // 2 + 1, dtype=np.int64)  # at most this many runs; pages never written cost nothing
    stops = np.empty(len(text) // 2 + 1, dtype=np.int64)
    chunk = 0
    inside = False
    for position in range(len(text)):
        space = classes[text[position]] & SPACE
        if space and inside:
            stops[chunk] = position
            chunk += 1
        elif not space and not inside:
            starts[chunk] = position
        inside = not space
    if inside:
        stops[chunk] = len(text)
        chunk += 1
    return starts[:chunk], stops[:chunk]


@njit(cache=True, nogil=True, inline="always")
def _code_point_at(utf8, position):
    """``(code point, bytes)`` of the UTF-8 (or ``surrogatepass``) sequence at ``position``."""
    lead = np.int64(utf8[position])
    if lead < 0x80:
        return lead, 1
    if lead < 0xE0:
        return ((lead & 0x1F) << 6) | (np.int64(utf8[position + 1]) & 0x3F), 2
    if lead < 0xF0:
        return (((lead & 0x0F) << 12) | ((np.int64(utf8[position + 1]) & 0x3F) << 6)
                | (np.int64(utf8[position + 2]) & 0x3F)), 3
    return (((lead & 0x07) << 18) | ((np.int64(utf8[position + 1]) & 0x3F) << 12)
            | ((np.int64(utf8[position + 2]) & 0x3F) << 6) | (np.int64(utf8[position + 3]) & 0x3F)), 4


@njit(cache=True, nogil=True)
def _plain_words(utf8, offsets, classes):
    """``(starts, stops)``: the byte span of the word of every string that is ``LEAD* CORE_FIRST CORE_REST*
    TAIL*`` (-1, -1 for any other). Greedy runs give the regex's match: LEAD and CORE_FIRST share no
    character, nor do CORE_REST and TAIL (a test checks both)."""
    rows = len(offsets) - 1
    starts = np.full(rows, -1, dtype=np.int64)
    stops = np.full(rows, -1, dtype=np.int64)
    for row in range(rows):
        position, end = offsets[row], offsets[row + 1]
        while position < end:
            code_point, size = _code_point_at(utf8, position)
            if not classes[code_point] & LEAD:
                break
            position += size
        if position == end:
            continue
        code_point, size = _code_point_at(utf8, position)
        if not classes[code_point] & CORE_FIRST:
            continue
        word_start = position
        position += size
        while position < end:
            code_point, size = _code_point_at(utf8, position)
            if not classes[code_point] & CORE_REST:
                break
            position += size
        word_stop = position
        while position < end:
            code_point, size = _code_point_at(utf8, position)
            if not classes[code_point] & TAIL:
                break
            position += size
        if position == end:
            starts[row], stops[row] = word_start, word_stop
    return starts, stops
