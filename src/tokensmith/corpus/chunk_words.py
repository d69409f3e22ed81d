"""Whitespace chunks counted, and turned into UAX #29 words, in compiled code.

Word counts for fertility (:class:`~tokensmith.corpus.words.UnicodeWordSegmenter`) come from whitespace-
delimited *chunks*: UAX #29 never joins across whitespace (but :data:`JOINING_SPACES`, which stay inside
chunks), so a corpus' words are the words of its distinct chunks, each weighted by the chunk's count. In
Python this was most of ``measure``'s word-counting worker (122 MB of ../shared/data, 1.8M distinct chunks):
a ``Counter`` over ~20M chunks (1.7 s) and regex passes over every distinct chunk grouped by count (~2.3 s).
Here:

* :class:`ChunkCounts` cuts each batch where ``str.split()`` does (``str.isspace``, but not at
  :data:`JOINING_SPACES`) and counts its distinct
  chunks with the trainers' hash kernel over the code points
  (:func:`~tokensmith.train.text_table.distinct_slices`), then across batches in one
  :class:`~tokensmith.train.text_table.CountingTable` (UTF-8, ``int64`` counts);
* :func:`chunk_words` finds the chunks that are one *plain* word (``LEAD* CORE_FIRST CORE_REST* TAIL*`` of
  :mod:`~tokensmith.corpus.words`: letters and digits UAX #29 never breaks, maybe behind opening and before
  closing punctuation; ~80% of distinct chunks) by a table of those character classes, built from the same
  regex classes, and sums their words' counts in compiled code; only the other chunks take the full rules;
* the result is a :class:`~tokensmith.corpus.word_counts.WordCounts` (arrays that the worker sends to the
  parent, which needs no numba to read them).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import regex
from numba import njit

from tokensmith.corpus.word_counts import WordCounts, decoded_strings, encoded_strings
from tokensmith.corpus.words import JOINING_SPACES
from tokensmith.train.text_table import CountingTable, TextTable, code_points_of, distinct_slices, utf8_of_slices

#: Bits of :func:`character_classes`.
SPACE, LEAD, TAIL, CORE_FIRST, CORE_REST, SEPARATOR = 1, 2, 4, 8, 16, 32

#: Distinct chunks a :class:`ChunkCounts` has room for before its table first grows.
INITIAL_ROWS = 1 << 16

#: Code points a :class:`ChunkCounts` cuts at a time (at a whitespace, where no chunk spans): a batch is one
#: document when the document is large (a file read whole, a JSON record without line breaks), and a 50 MB
#: one took 1 GB at once (UTF-32 code points, chunk bounds); measure's batches of lines stay in one piece.
ADD_CHARS = 1 << 23
_WHITESPACE = re.compile(rf"[^\S{JOINING_SPACES}]")  # str.isspace's characters but those: where _chunk_bounds cuts


@functools.cache
def character_classes() -> np.ndarray:
    """``uint8`` per code point (all 0x110000): the bits above, from ``str.isspace`` (less
    :data:`JOINING_SPACES`) and the regex classes of :mod:`tokensmith.corpus.words` (matched over a string
    of every code point, run by run)."""
    from tokensmith.corpus import words

    classes = np.full(0x110000, SPACE, dtype=np.uint8)
    every = "".join(map(chr, range(0x110000)))
    for run in every.split():  # each code point occurs once: a run spans its first to its last code point
        classes[ord(run[0]):ord(run[-1]) + 1] = 0
    for space in JOINING_SPACES:
        classes[ord(space)] = 0
    for bit, pattern in ((LEAD, words.LEAD), (TAIL, words.TAIL), (CORE_FIRST, words.CORE_FIRST),
                         (CORE_REST, words.CORE_REST), (SEPARATOR, words.SEPARATOR)):
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
        chunks._table.add(TextTable(*encoded_strings(list(counts))),
                          np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))
        return chunks

    def __len__(self) -> int:
        return len(self._table)

    def add(self, texts: Iterable[str]) -> None:
        """Count the chunks of ``texts`` (``str.split()`` of each, but not at :data:`JOINING_SPACES`)."""
        joined = "\n".join(texts)  # a line break is whitespace: two texts never share a chunk
        for piece in cut_at_whitespace(joined, ADD_CHARS):
            self._add_text(piece)

    def _add_text(self, joined: str) -> None:
        code_points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        starts, stops = _chunk_bounds(code_points, character_classes())
        first, counts, _ = distinct_slices(code_points, starts, stops)
        utf8, offsets, _ = utf8_of_slices(code_points, starts[first], stops[first])  # surrogates: "surrogatepass"
        self._table.add(TextTable(utf8, offsets), counts)

    def total(self) -> tuple[TextTable, np.ndarray]:
        """The distinct chunks (UTF-8, in order of first occurrence) and their counts (``int64``)."""
        return self._table.total()


def cut_at_whitespace(text: str, size: int) -> list[str]:
    """``text`` in pieces of about ``size`` code points, each cut just before a whitespace (a piece is longer
    only where a chunk is: a run without whitespace is never cut), so the pieces hold the same chunks."""
    if len(text) <= size:
        return [text]
    pieces, start = [], 0
    while len(text) - start > size:
        found = _WHITESPACE.search(text, start + size)
        cut = found.start() if found else len(text)
        pieces.append(text[start:cut])
        start = cut
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def chunk_words(chunks: ChunkCounts,
                full_rules: Callable[[list[str], list[int]], Mapping[str, int]]) -> WordCounts:
    """The word counts of ``chunks``: plain chunks here, the others by ``full_rules(chunks, counts)``."""
    table, counts = chunks.total()
    code_points, lengths = code_points_of(table.text, table.offsets, 0, len(table), np.zeros(len(table), np.bool_))
    offsets = np.zeros(len(table) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    word_rows, starts, stops = _plain_words(code_points, offsets, character_classes())
    words = CountingTable(INITIAL_ROWS)
    utf8, word_offsets, _ = utf8_of_slices(code_points, starts, stops)
    words.add(TextTable(utf8, word_offsets), counts[word_rows])
    plain = np.zeros(len(table), dtype=np.bool_)
    plain[word_rows] = True
    others = np.flatnonzero(~plain)
    if len(others):
        other_chunks = table.take(others)
        rest = full_rules(decoded_strings(other_chunks.text, other_chunks.offsets), counts[others].tolist())
        words.add(TextTable(*encoded_strings(list(rest))), np.fromiter(rest.values(), dtype=np.int64, count=len(rest)))
    table, totals = words.total()
    return WordCounts(table.text, table.offsets, totals)


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


@njit(cache=True, nogil=True)
def _plain_words(text, offsets, classes):
    """``(rows, starts, stops)``: the span of every word of the strings of code points
    ``text[offsets[r]:offsets[r + 1]]`` whose every piece between separators is ``LEAD* CORE_FIRST CORE_REST*
    TAIL*`` or punctuation only, and the string it is in; other strings give none (see :func:`_scan_row`)."""
    rows = len(offsets) - 1
    plain = np.zeros(rows, dtype=np.bool_)
    no_spans = np.zeros(0, dtype=np.int64)
    found = 0
    for row in range(rows):
        words = _scan_row(text, offsets[row], offsets[row + 1], classes, no_spans, no_spans, 0, False)
        if words >= 0:
            plain[row] = True
            found += words
    word_rows = np.empty(found, dtype=np.int64)
    starts = np.empty(found, dtype=np.int64)
    stops = np.empty(found, dtype=np.int64)
    at = 0
    for row in range(rows):
        if plain[row]:
            words = _scan_row(text, offsets[row], offsets[row + 1], classes, starts, stops, at, True)
            word_rows[at:at + words] = row
            at += words
    return word_rows, starts, stops


@njit(cache=True, nogil=True)
def _scan_row(text, position, end, classes, starts, stops, at, write):
    """How many words ``text[position:end]`` holds (their spans written from ``at`` on when ``write``), or -1
    if the full rules must read it. UAX #29 breaks on both sides of a separator (word-break class Other, which
    no rule joins; marks after it attach to it, and a piece starting with one is left to the full rules), so
    each piece between separators is read alone: one plain word, or punctuation only (no word)."""
    words = 0
    while position < end:
        if classes[text[position]] & SEPARATOR:
            position += 1
            continue
        while position < end and classes[text[position]] & LEAD and not classes[text[position]] & SEPARATOR:
            position += 1
        if position == end or classes[text[position]] & SEPARATOR:
            continue  # punctuation only
        if not classes[text[position]] & CORE_FIRST:
            return -1
        word_start = position
        position += 1
        while position < end and classes[text[position]] & CORE_REST:
            position += 1
        if write:
            starts[at + words], stops[at + words] = word_start, position
        words += 1
        while position < end and classes[text[position]] & TAIL and not classes[text[position]] & SEPARATOR:
            position += 1
        if position < end and not classes[text[position]] & SEPARATOR:
            return -1
    return words
