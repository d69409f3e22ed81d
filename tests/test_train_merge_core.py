"""The compiled merge loop against its plain-Python specification, plus hand-checked tiny cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokensmith.train import merge_core
from tokensmith.train.merge_reference import reference_merges

LETTERS = [b"a", b"b", b"c", b"d"]


def compiled_merges(words, counts, contents, units, *, vocab_size, min_frequency=0, max_units=None, dedup=None,
                    pause_every=None):
    """Run the numba loop on list-of-lists words (optionally pausing every few merges, as progress does)."""
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    symbols = np.array([s for w in words for s in w], dtype=np.int32)
    state = merge_core.build_state(symbols, offsets, np.array(counts, dtype=np.int64), list(contents), list(units),
                                   dedup=dedup, max_units=max_units)
    while True:
        run = merge_core.run_merges(state, vocab_size=vocab_size, min_frequency=min_frequency,
                                    max_merges=pause_every)
        if run.stop_reason != "running":
            break
    merges = [tuple(row) for row in state.learned_merges().tolist()]
    return merges, [state.token(i) for i in range(state.n_tokens)], state.stop_reason


def test_hand_checked_repeated_pair():
    # "abab" x3 and "ab" x1: (a,b) occurs 3*2+1 = 7 times -> "ab"; then (ab,ab) occurs 3 times -> "abab".
    merges, tokens = reference_merges([[0, 1, 0, 1], [0, 1]], [3, 1], LETTERS[:2], [1, 1], vocab_size=10)
    assert merges == [(0, 1, 2), (2, 2, 3)]
    assert tokens[2:] == [b"ab", b"abab"]
    assert compiled_merges([[0, 1, 0, 1], [0, 1]], [3, 1], LETTERS[:2], [1, 1], vocab_size=10)[:2] == (merges, tokens)


def test_tie_break_prefers_the_smaller_pair():
    # (c,d) and (a,b) both occur twice: (a,b) = ids (0,1) < (2,3) is merged first, whatever the word order.
    words, counts = [[2, 3], [0, 1]], [2, 2]
    expected = [(0, 1, 4), (2, 3, 5)]
    assert reference_merges(words, counts, LETTERS, [1] * 4, vocab_size=10)[0] == expected
    assert compiled_merges(words, counts, LETTERS, [1] * 4, vocab_size=10)[0] == expected


def test_overlapping_pair_merges_left_to_right():
    # "aaa" x1: (a,a) counts 2 (overlapping occurrences); merging left to right gives [aa, a], then (aa,a).
    merges, tokens, _ = compiled_merges([[0, 0, 0]], [1], LETTERS[:1], [1], vocab_size=10)
    assert merges == [(0, 0, 1), (1, 0, 2)]
    assert tokens == [b"a", b"aa", b"aaa"]


def test_min_frequency_and_max_units_stop_merging():
    words, counts = [[0, 1, 2], [0, 1]], [3, 1]
    # (a,b)=4, (b,c)=3; min_frequency 4 allows only the first merge.
    merges, _, reason = compiled_merges(words, counts, LETTERS, [1] * 4, vocab_size=100, min_frequency=4)
    assert merges == [(0, 1, 4)] and reason == "the most frequent pair is below min_frequency"
    # max_units=2: "abc" (3 units) is never built.
    merges, tokens, reason = compiled_merges(words, counts, LETTERS, [1] * 4, vocab_size=100, max_units=2)
    # (b,c) lost all its occurrences to "ab"; a stale heap entry with count 0 ends the loop, as in HF.
    assert merges == [(0, 1, 4)] and all(len(t) <= 2 for t in tokens)
    assert merges == reference_merges(words, counts, LETTERS, [1] * 4, vocab_size=100, max_units=2)[0]


def test_merge_into_existing_content_reuses_its_id():
    # id 2 already holds "ab" (e.g. a special token in the byte alphabet): merging a+b reuses it, the vocab
    # does not grow.
    contents = [b"a", b"b", b"ab"]
    merges, tokens, _ = compiled_merges([[0, 1, 0]], [5], contents, [1, 1, 2], vocab_size=10)
    assert merges[0] == (0, 1, 2)
    assert tokens.count(b"ab") == 1
    # With dedup off for id 2, a new id is made.
    merges, tokens, _ = compiled_merges([[0, 1, 0]], [5], contents, [1, 1, 2], vocab_size=10,
                                        dedup=[True, True, False])
    assert merges[0] == (0, 1, 3)


def test_counts_beyond_int32_do_not_overflow():
    # HF's i32 pair counts wrap here (issue #2058); ours are int64.
    big = 3_000_000_000
    merges, _, _ = compiled_merges([[0, 1], [2, 3]], [big, big - 1], LETTERS, [1] * 4, vocab_size=5)
    assert merges == [(0, 1, 4)]


word_lists = st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=9), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=word_lists,
    data=st.data(),
    vocab_extra=st.integers(0, 40),
    min_frequency=st.integers(0, 3),
    max_units=st.one_of(st.none(), st.integers(2, 6)),
    pause_every=st.one_of(st.none(), st.integers(1, 3)),
)
def test_compiled_loop_equals_reference(words, data, vocab_extra, min_frequency, max_units, pause_every):
    counts = data.draw(st.lists(st.integers(1, 6), min_size=len(words), max_size=len(words)))
    expected = reference_merges(words, counts, LETTERS, [1] * 4, vocab_size=4 + vocab_extra,
                                min_frequency=min_frequency, max_units=max_units)
    merges, tokens, _ = compiled_merges(words, counts, LETTERS, [1] * 4, vocab_size=4 + vocab_extra,
                                        min_frequency=min_frequency, max_units=max_units, pause_every=pause_every)
    assert (merges, tokens) == expected


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.lists(st.integers(0, 2), min_size=2, max_size=30), min_size=1, max_size=60))
def test_compiled_loop_grows_its_arrays(words):
    # Long repetitive words over 3 letters force many new pairs and position lists: the Python-side
    # growth path (_NEEDS_ROOM) must leave results unchanged.
    counts = [1 + (i % 4) for i in range(len(words))]
    expected = reference_merges(words, counts, LETTERS[:3], [1] * 3, vocab_size=200)
    assert compiled_merges(words, counts, LETTERS[:3], [1] * 3, vocab_size=200)[:2] == expected


def test_initial_count_grows_the_pair_room():
    # More distinct pairs than the starting room (1,024 + the longest word): the first count grows its
    # arrays and the pair table between words, and the merges equal the reference's.
    rng = np.random.default_rng(3)
    alphabet = [bytes([i]) for i in range(60)]
    words = [list(rng.integers(0, 60, size=rng.integers(2, 9))) for _ in range(2000)]
    counts = list(rng.integers(1, 9, size=2000))
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    state = merge_core.build_state(np.array([s for w in words for s in w], dtype=np.int32), offsets,
                                   np.array(counts, dtype=np.int64), alphabet, [1] * 60, pair_capacity=1)
    assert state.scalars[merge_core.N_SLOTS] > 1024 + 8 and len(state.slot_key) >= state.scalars[merge_core.N_SLOTS]
    merge_core.run_merges(state, vocab_size=160)
    expected = reference_merges(words, counts, alphabet, [1] * 60, vocab_size=160)
    assert ([tuple(row) for row in state.learned_merges().tolist()], [state.token(i) for i in range(160)]) == expected


@pytest.mark.parametrize("pause_every", [None, 1, 7])
def test_pausing_does_not_change_the_result(pause_every):
    rng = np.random.default_rng(0)
    words = [list(rng.integers(0, 4, size=rng.integers(2, 12))) for _ in range(300)]
    counts = list(rng.integers(1, 50, size=300))
    expected = reference_merges(words, counts, LETTERS, [1] * 4, vocab_size=150)
    assert compiled_merges(words, counts, LETTERS, [1] * 4, vocab_size=150, pause_every=pause_every)[:2] == expected


def test_checkpoint_resume_equals_an_uninterrupted_run(tmp_path):
    rng = np.random.default_rng(1)
    words = [list(rng.integers(0, 4, size=rng.integers(2, 15))) for _ in range(400)]
    counts = list(rng.integers(1, 30, size=400))
    expected = reference_merges(words, counts, LETTERS, [1] * 4, vocab_size=120, max_units=8)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    state = merge_core.build_state(np.array([s for w in words for s in w], dtype=np.int32), offsets,
                                   np.array(counts, dtype=np.int64), LETTERS, [1] * 4, max_units=8)
    # Stop at a smaller vocabulary (a finished run), save, then resume to a larger one.
    merge_core.run_merges(state, vocab_size=60)
    merge_core.save_checkpoint(state, tmp_path / "state.npz")
    resumed = merge_core.load_checkpoint(tmp_path / "state.npz")
    del state
    merge_core.run_merges(resumed, vocab_size=120)
    merges = [tuple(row) for row in resumed.learned_merges().tolist()]
    assert (merges, [resumed.token(i) for i in range(resumed.n_tokens)]) == expected


def _state_after_merges(merges: int) -> merge_core.MergeState:
    """A state of 20,000 random words over 60 symbols after ``merges`` merges (its arrays have room to spare)."""
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 12, size=20_000)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    symbols = rng.integers(0, 60, size=int(offsets[-1])).astype(np.int32)
    alphabet = [bytes([33 + i]) for i in range(60)]
    state = merge_core.build_state(symbols, offsets, rng.integers(1, 500, size=20_000).astype(np.int64), alphabet,
                                   [1] * 60)
    merge_core.run_merges(state, vocab_size=60 + merges)
    return state


def test_a_checkpoint_is_small_and_loads_the_same_arrays(tmp_path):
    # Format 1 wrote every array whole and uncompressed: 191 MB for a 19 MB corpus.
    state = _state_after_merges(300)
    merge_core.save_checkpoint(state, tmp_path / "state.npz")
    assert (tmp_path / "state.npz").stat().st_size < sum(a.nbytes for a in state.arrays().values()) / 5
    loaded = merge_core.load_checkpoint(tmp_path / "state.npz")
    scratch = {"slot_head", "slot_tail", "node_word", "node_next", "touched"}  # rewritten before each read
    for name, array in state.arrays().items():
        kept = getattr(loaded, name)
        assert (kept.dtype, kept.shape) == (array.dtype, array.shape), name
        assert name in scratch or np.array_equal(kept, array), name
    assert loaded.max_units == state.max_units


def test_a_format_1_checkpoint_still_loads(tmp_path):
    state = _state_after_merges(100)
    np.savez(tmp_path / "old.npz", format=np.array([1], dtype=np.int64),
             max_units=np.array([state.max_units], dtype=np.int64), **state.arrays())  # as format 1 wrote it
    loaded = merge_core.load_checkpoint(tmp_path / "old.npz")
    merge_core.run_merges(loaded, vocab_size=260)
    merge_core.run_merges(state, vocab_size=260)
    assert np.array_equal(loaded.learned_merges(), state.learned_merges())


def test_a_damaged_checkpoint_is_refused_in_one_line(tmp_path):
    from tokensmith.errors import InputError

    merge_core.save_checkpoint(_state_after_merges(10), tmp_path / "state.npz")
    with np.load(tmp_path / "state.npz") as data:
        members = dict(data)
    members["pool"] = members["pool"][: len(members["pool"]) // 2]  # a cut zstd frame
    np.savez(tmp_path / "cut.npz", **members)
    with pytest.raises(InputError, match="damaged merge checkpoint"):
        merge_core.load_checkpoint(tmp_path / "cut.npz")


def test_load_checkpoint_refuses_other_files(tmp_path):
    from tokensmith.errors import InputError

    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    (tmp_path / "text.npz").write_text("not numpy")
    for name in ("other.npz", "text.npz"):
        with pytest.raises(InputError):
            merge_core.load_checkpoint(tmp_path / name)


def _state_of(words, counts, alphabet, *, threads, **options):
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    symbols = np.array([s for w in words for s in w], dtype=np.int32)
    return merge_core.build_state(symbols, offsets, np.array(counts, dtype=np.int64), alphabet, [1] * len(alphabet),
                                  threads=threads, **options)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.lists(st.integers(0, 11), min_size=1, max_size=12), min_size=1, max_size=80),
       data=st.data(), pair_capacity=st.one_of(st.none(), st.integers(1, 200)),
       max_units=st.one_of(st.none(), st.integers(2, 4)))
def test_first_count_on_two_threads_gives_the_state_of_one(words, data, pair_capacity, max_units, monkeypatch):
    """The second half of the words counted apart and joined, and filled into the position sets on a thread
    of its own: every array of the state (the pool and sizes included,
    also where one pass would grow its room in the second half) equals one pass's, and so do the merges;
    words of count 0 (parity's dev-only words) included."""
    monkeypatch.setattr(merge_core, "PARALLEL_COUNT_SYMBOLS", 0)
    counts = data.draw(st.lists(st.integers(0, 5), min_size=len(words), max_size=len(words)))
    alphabet = [bytes([i]) for i in range(12)]
    options = {"pair_capacity": pair_capacity, "max_units": max_units}
    one, two = (_state_of(words, counts, alphabet, threads=t, **options) for t in (1, 2))
    for name, array in one.arrays().items():
        assert np.array_equal(array, two.arrays()[name]), name
    for state in (one, two):
        merge_core.run_merges(state, vocab_size=60)
    assert one.learned_merges().tolist() == two.learned_merges().tolist()


def test_first_count_on_two_threads_joins_real_words(monkeypatch):
    """Words of real text (Django's catalogues, bytes): both halves hold many pairs the other lacks."""
    from pathlib import Path

    from tokensmith.demo_corpora import demo_corpora

    monkeypatch.setattr(merge_core, "PARALLEL_COUNT_SYMBOLS", 0)
    text = " ".join(path.read_text(encoding="utf-8")[:20_000]
                    for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))[:30])
    words = [list(word.encode("utf-8")) for word in text.split()]
    alphabet = [bytes([i]) for i in range(256)]
    one, two = (_state_of(words, [1 + len(w) % 3 for w in words], alphabet, threads=t) for t in (1, 2))
    assert two.scalars[merge_core.N_SLOTS] > 1000
    for name, array in one.arrays().items():
        assert np.array_equal(array, two.arrays()[name]), name


@pytest.mark.parametrize(("repetitive", "diverse"), [(3000, 1500), (200, 2800)])
def test_first_count_on_two_threads_where_one_pass_grows_its_room(repetitive, diverse, monkeypatch):
    """More distinct pairs than the starting room: one pass grows it only in the second half (3,000
    words over 3 letters, then diverse ones: the second half is counted again as one pass) or already in
    the first; the two-thread count gives the same sizes either way."""
    monkeypatch.setattr(merge_core, "PARALLEL_COUNT_SYMBOLS", 0)
    rng = np.random.default_rng(5)
    alphabet = [bytes([i]) for i in range(60)]
    words = [list(rng.integers(0, 3, size=4)) for _ in range(repetitive)]
    words += [list(rng.integers(0, 60, size=rng.integers(2, 9))) for _ in range(diverse)]
    counts = list(rng.integers(0, 9, size=len(words)))
    one, two = (_state_of(words, counts, alphabet, threads=t, pair_capacity=1) for t in (1, 2))
    assert len(one.slot_key) > 1024 + 16 + 8  # one pass grew
    for name, array in one.arrays().items():
        assert np.array_equal(array, two.arrays()[name]), name


def test_piece_totals_sum_each_words_count_over_its_pieces_exactly():
    from tokensmith.train.merge_core import concatenate_pieces, piece_totals

    rng = np.random.default_rng(11)
    word_pieces = rng.integers(0, 6, size=500)
    occurrence = rng.integers(0, 40, size=int(word_pieces.sum())).astype(np.int32)
    word_counts = rng.integers(0, 1_000, size=500)
    expected = np.zeros(40, dtype=np.int64)
    at = 0
    for pieces, count in zip(word_pieces.tolist(), word_counts.tolist(), strict=True):
        for piece in occurrence[at: at + pieces].tolist():
            expected[piece] += count
        at += pieces
    assert piece_totals(occurrence, word_pieces, word_counts, 40).tolist() == expected.tolist()
    # past 2**53 a float sum would round; the words here are the layout concatenate_pieces reads too
    huge = piece_totals(np.array([0, 1, 0], dtype=np.int32), np.array([2, 1]), np.array([2**53 + 1, 1]), 2)
    assert huge.tolist() == [2**53 + 2, 2**53 + 1]
    symbols, offsets = concatenate_pieces(np.array([7, 8, 9], dtype=np.int32), np.array([0, 2, 3]),
                                          np.array([0, 1, 0]), np.array([2, 1]))
    assert symbols.tolist() == [7, 8, 9, 7, 8] and offsets.tolist() == [0, 3, 5]


def test_one_very_long_word_does_not_size_the_pair_room_by_its_length():
    """A DNA sequence of 100,000 bases as one pre-token (no space or punctuation to cut it): it holds at most
    16 distinct pairs at first and each merge adds at most two per id, so the pair room stays near that; sized
    by the word's length (as it was), a 5 MB line took 1.4 GB. The merges still equal the reference's."""
    rng = np.random.default_rng(11)
    bases = [b"A", b"C", b"G", b"T"]
    words = [list(rng.integers(0, 4, size=100_000)), [0, 1, 2, 3], [3, 3]]
    counts = [1, 5, 2]
    state = _state_of(words, counts, bases, threads=1)
    merge_core.run_merges(state, vocab_size=24)
    assert len(state.slot_key) < 10_000 and len(state.pair_table_key) < 40_000
    assert len(state.pool) < 200_000  # the positions: a word id per pair, not per symbol
    expected = reference_merges(words, counts, bases, [1] * 4, vocab_size=24)
    assert ([tuple(row) for row in state.learned_merges().tolist()], [state.token(i) for i in range(24)]) == expected
