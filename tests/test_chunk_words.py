"""The compiled chunk counting and plain-word path of UAX #29 word counting, against Python's own
``str.split`` and the regex classes they are built from. (Their words are held to the full rules per chunk
by the differential tests in test_word_split.py.)"""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.corpus import words
from tokensmith.corpus.chunk_words import (
    CORE_FIRST,
    CORE_REST,
    JOINING_SPACES,
    LEAD,
    SPACE,
    TAIL,
    ChunkCounts,
    character_classes,
)
from tokensmith.corpus.word_counts import WordCounts, decoded_strings, encoded_strings
from tokensmith.corpus.words import UnicodeWordSegmenter

#: Every code point ``str.isspace`` calls whitespace, beside letters, marks, digits and punctuation.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
ALPHABET = WHITESPACE + "ab é€😀\u0301\u200d'.,-" + "\ud800\udfff"


def is_cutting_space(character: str) -> bool:
    return character.isspace() and character not in JOINING_SPACES


def split_chunks(text: str) -> list[str]:
    """``str.split()`` but at the spaces UAX #29 joins words across."""
    return [chunk for chunk in "".join(" " if is_cutting_space(c) else c for c in text).split(" ") if chunk]


def chunk_counts(counts: ChunkCounts) -> dict[str, int]:
    table, totals = counts.total()
    return dict(zip(decoded_strings(table.text, table.offsets), totals.tolist(), strict=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=ALPHABET, max_size=30), max_size=6), max_size=4))
def test_chunks_are_str_split_counted_across_batches(batches):
    counts = ChunkCounts()
    for batch in batches:
        counts.add(batch)
    expected = Counter(chunk for batch in batches for text in batch for chunk in split_chunks(text))
    assert chunk_counts(counts) == expected
    assert len(counts) == len(expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=60), min_size=1, max_size=4), st.integers(1, 12))
def test_a_long_text_is_counted_in_pieces_cut_at_whitespace(texts, size):
    """A batch of one 50 MB document took 1 GB at once: its code points and chunk bounds are now made a piece
    at a time, each cut before a whitespace (or longer, around a chunk longer than a piece), and the counts
    are those of the text whole."""
    import tokensmith.corpus.chunk_words as chunk_words_module

    joined = "\n".join(texts)
    pieces = chunk_words_module.cut_at_whitespace(joined, size)
    assert "".join(pieces) == joined
    assert all(is_cutting_space(piece[:1]) for piece in pieces[1:])  # no chunk is cut in two
    assert not any(is_cutting_space(character) for piece in pieces for character in piece[size:])  # at the first one
    whole = ChunkCounts()
    whole.add(texts)
    seen = []
    original, chunk_words_module.ADD_CHARS = chunk_words_module.ADD_CHARS, size
    try:
        cut = ChunkCounts()
        add_text = cut._add_text
        cut._add_text = lambda piece: (seen.append(piece), add_text(piece))
        cut.add(texts)
    finally:
        chunk_words_module.ADD_CHARS = original
    assert seen == pieces
    assert list(chunk_counts(cut).items()) == list(chunk_counts(whole).items())  # counts and first-seen order


def test_space_class_is_str_isspace_on_every_code_point_but_the_spaces_uax29_joins_across():
    classes = character_classes()
    spaces = {c for c in range(0x110000) if chr(c).isspace()}
    joining = {c for c in spaces if regex.match(r"\p{WB=ExtendNumLet}", chr(c))}
    assert joining == set(map(ord, JOINING_SPACES))
    assert set(np.flatnonzero(classes & SPACE).tolist()) == spaces - joining
    assert len(spaces) == len(WHITESPACE) > 20


def test_classes_are_the_regex_classes_and_greedy_runs_are_unambiguous():
    classes = character_classes()
    for bit, pattern in ((LEAD, words.LEAD), (TAIL, words.TAIL), (CORE_FIRST, words.CORE_FIRST),
                         (CORE_REST, words.CORE_REST)):
        compiled = regex.compile(f"(?V1){pattern}")
        sample = [0x27, 0x2E, 0x41, 0x5F, 0xAB, 0x301, 0x5D0, 0x660, 0x200D, 0x3042, 0x4E00, 0x1F600]
        for code_point in sample:
            assert bool(classes[code_point] & bit) == bool(compiled.fullmatch(chr(code_point))), (pattern, code_point)
        assert np.count_nonzero(classes & bit) > 5
    # the plain-word scan takes greedy runs: the regex could backtrack into another split if these overlapped
    assert not np.any((classes & LEAD).astype(bool) & (classes & CORE_FIRST).astype(bool))
    assert not np.any((classes & CORE_REST).astype(bool) & (classes & TAIL).astype(bool))
    assert not np.any((classes & CORE_FIRST).astype(bool) & ~(classes & CORE_REST).astype(bool))


def test_plain_chunks_by_hand():
    segmenter = UnicodeWordSegmenter()
    counts = segmenter.words_of_units(Counter({"«Hello,": 2, "(world)": 1, "don't": 3, "e.g.": 1, "-": 5,
                                               "naïve…": 1, "שלום": 1, "x-y": 1, "٣٤": 1}))
    assert dict(counts) == {"Hello": 2, "world": 1, "don't": 3, "e.g": 1, "naïve": 1, "שלום": 1, "x": 1,
                            "y": 1, "٣٤": 1}
    assert counts.total() == 12


def test_word_counts_pickle_as_arrays_and_compare_as_mappings():
    counts = UnicodeWordSegmenter().words_of_units(Counter({"a.": 2, "b": 1, "a": 1}))
    assert isinstance(counts, WordCounts)
    again = pickle.loads(pickle.dumps(counts, protocol=5))
    assert again == Counter({"a": 3, "b": 1}) == counts
    assert len(again) == 2 and sorted(again) == ["a", "b"] and again["a"] == 3


@given(st.lists(st.text(alphabet="a\né€😀\ud800 ", max_size=5), max_size=6))
def test_strings_round_trip_through_arrays_with_and_without_line_breaks(strings):
    utf8, offsets = encoded_strings(strings)
    assert utf8.dtype == np.uint8 and offsets.tolist()[-1] == len(utf8)
    assert decoded_strings(utf8, offsets) == strings


def test_the_parent_reads_word_counts_without_numba():
    """measure's parent unpickles the worker's WordCounts: that must not load the compiled kernels."""
    import subprocess
    import sys

    blob = pickle.dumps(UnicodeWordSegmenter().words_of_units(Counter({"a.": 2, "b": 1})), protocol=5)
    code = ("import pickle, sys; counts = pickle.loads(sys.stdin.buffer.read()); "
            "assert dict(counts) == {'a': 2, 'b': 1}; assert 'numba' not in sys.modules, 'numba imported'")
    subprocess.run([sys.executable, "-c", code], input=blob, check=True)
