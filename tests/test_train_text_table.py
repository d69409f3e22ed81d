"""The compiled string-table kernels (superword's chunk tables) against Python's own bytes ordering."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.train.text_table import CountingTable, TextTable, take_segments

#: Short strings over bytes that matter to the order: 0 (the padding of the 8-byte keys), 0xFF (unsigned), and
#: prefixes of one another; long ones share their first 8 bytes, so runs of equal keys are sorted byte by byte.
BYTES = st.lists(st.sampled_from([b"\x00", b"\x01", b"a", b"b", b"\xff"]), max_size=4).map(b"".join)
STRINGS = st.lists(st.one_of(BYTES, BYTES.map(lambda tail: b"prefix8_" + tail), st.binary(max_size=12)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(STRINGS)
def test_sorted_order_is_pythons_stable_sort(items):
    table = TextTable.from_bytes(items)
    order = table.sorted_order()
    assert order.tolist() == sorted(range(len(items)), key=items.__getitem__)
    taken = table.take(order)
    assert [taken[i] for i in range(len(taken))] == sorted(items)
    assert table.repeats(order).tolist() == [i > 0 and items[order[i]] == items[order[i - 1]]
                                             for i in range(len(items))]


@settings(max_examples=200, deadline=None)
@given(STRINGS, st.integers(1, 5))
def test_merged_runs_are_one_stable_sort(items, n_runs):
    runs = [sorted(range(run, len(items), n_runs), key=items.__getitem__) for run in range(n_runs)]
    bounds = np.cumsum([0] + [len(run) for run in runs])
    table = TextTable.from_bytes(items)
    order = table.merge_order(bounds, np.array([i for run in runs for i in run], dtype=np.int64))
    # equal strings: the earlier run's first, each run's in its own order
    rank = {i: (run_index, position) for run_index, run in enumerate(runs) for position, i in enumerate(run)}
    assert order.tolist() == sorted(range(len(items)), key=lambda i: (items[i], rank[i]))
    flat = [items[i] for run in runs for i in run]
    assert TextTable.from_bytes(flat).merge_order(bounds).tolist() == sorted(range(len(flat)),
                                                                             key=flat.__getitem__)


@settings(max_examples=200, deadline=None)
@given(STRINGS, STRINGS)
def test_distinct_and_concatenate(first_items, second_items):
    items = first_items + second_items
    table = TextTable.concatenate([TextTable.from_bytes(first_items), TextTable.from_bytes(second_items)])
    assert [table[i] for i in range(len(table))] == items
    first, ids = table.distinct()
    assert [items[i] for i in first] == list(dict.fromkeys(items))
    assert [items[first[i]] for i in ids] == items


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.one_of(BYTES, st.binary(max_size=40)), st.integers(0, 2**40)), max_size=30),
                max_size=6),
       st.sampled_from([1, 3, 4096]))
def test_counting_table_sums_as_a_counter_in_order_of_first_addition(tables, first_rows):
    # first_rows 1 and 3: the buffers grow and the slots are rehashed on nearly every add
    expected: dict[bytes, int] = {}
    counting = CountingTable(first_rows)
    for rows in tables:
        for item, count in rows:
            expected[item] = expected.get(item, 0) + count
        counting.add(TextTable.from_bytes([item for item, _ in rows]),
                     np.array([count for _, count in rows], dtype=np.int64))
        assert len(counting) == len(expected)
    texts, counts = counting.total()
    assert [texts[i] for i in range(len(texts))] == list(expected)
    assert counts.dtype == np.int64 and counts.tolist() == list(expected.values())
    assert counting.counts().tolist() == counts.tolist()


def test_counting_table_of_many_strings_equals_a_counter():
    rng = np.random.default_rng(5)
    words = [bytes(rng.integers(97, 100, size=rng.integers(0, 9)).tolist()) for _ in range(60_000)]
    counting = CountingTable(1)
    for start in range(0, len(words), 7_000):
        part = words[start:start + 7_000]
        counting.add(TextTable.from_bytes(part), np.ones(len(part), dtype=np.int64))
    texts, counts = counting.total()
    expected = Counter(words)
    assert dict(zip([texts[i] for i in range(len(texts))], counts.tolist(), strict=True)) == expected
    assert [texts[i] for i in range(len(texts))] == list(expected)  # a Counter keeps first insertion too


def test_take_segments_keeps_the_type_and_may_leave_segments_out():
    values = np.arange(10, dtype=np.int32)
    taken, offsets = take_segments(values, np.array([0, 3, 3, 7, 10]), np.array([3, 0, 1]))
    assert taken.dtype == np.int32 and taken.tolist() == [7, 8, 9, 0, 1, 2] and offsets.tolist() == [0, 3, 6, 6]


def _fnv1a_folded(values) -> int:
    """FNV-1a, 64 bits, one step per value, the high bits then folded in: the hash the tables probe with."""
    digest = 14695981039346656037
    for value in values:
        digest = ((digest ^ value) * 1099511628211) % 2**64
    return digest ^ (digest >> 29)


@settings(max_examples=100, deadline=None)
@given(STRINGS)
def test_one_segment_hash_serves_the_byte_table_and_the_code_point_pieces(items):
    from tokensmith.train.compiled_pretokenize import _distinct_pieces
    from tokensmith.train.text_table import segment_hash

    table = TextTable.from_bytes(items)
    for i, item in enumerate(items):
        assert segment_hash(table.text, table.offsets[i], table.offsets[i + 1]) == _fnv1a_folded(item)
    code_points = np.frombuffer("".join(map(chr, table.text.tolist())).encode("utf-32-le"), dtype=np.uint32)
    assert segment_hash(code_points, 0, len(code_points)) == _fnv1a_folded(table.text.tolist())
    # the superword cut's pieces (ends, not offsets) and the table find the same distinct strings
    first, ids = table.distinct()
    starts, piece_first, counts, piece_ids = _distinct_pieces(table.text, table.offsets[1:])
    assert starts.tolist() == table.offsets[:-1].tolist()
    assert piece_first.tolist() == first.tolist() and piece_ids.tolist() == ids.tolist()
    assert counts.tolist() == [items.count(items[i]) for i in first]
