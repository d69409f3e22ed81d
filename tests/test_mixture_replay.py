"""Merge replay and the LP on small inputs: pair counts against a brute-force recount, exact recovery."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from _bpe_brute_force import apply_merge

from tokensmith.mixture.history import build_history
from tokensmith.mixture.replay import merge_table, replay_merges, word_table


def _brute_force_counts(words: dict[bytes, int], merges: list[tuple[bytes, bytes]]) -> list[Counter]:
    """Pair counts before each merge and after the last, by rewriting every word from scratch."""
    split = {word: [bytes([b]) for b in word] for word in words}
    snapshots = []
    for step in range(len(merges) + 1):
        counts: Counter = Counter()
        for word, pieces in split.items():
            for left, right in zip(pieces, pieces[1:], strict=False):
                counts[(left, right)] += words[word]
        snapshots.append(+counts)
        if step == len(merges):
            break
        left, right = merges[step]
        for word, pieces in split.items():
            split[word] = apply_merge(pieces, left, right)
    return snapshots


def _replayed_counts(words: dict[bytes, int], merges: list[tuple[bytes, bytes]]) -> list[Counter]:
    table = merge_table(merges, "byte")
    pretokens = sorted(words)
    log = replay_merges(word_table(pretokens, np.array([words[w] for w in pretokens]), table), table)
    history = build_history([log], table.merges)
    snapshots = []
    for step in range(len(merges) + 1):
        counts = history.counts_at(np.full(history.n_pairs, step), np.arange(history.n_pairs))[:, 0]
        snapshot = Counter()
        for index in np.flatnonzero(counts):
            key = int(history.keys[index])
            snapshot[(table.contents[key >> 32], table.contents[key & 0xFFFFFFFF])] = int(counts[index])
        snapshots.append(snapshot)
    return snapshots


def test_replay_counts_match_brute_force_on_hand_made_words():
    words = {b"aaab": 3, b"abab": 2, b"ba": 5, b"aaaa": 1, b"b": 7}
    merges = [(b"a", b"a"), (b"a", b"b"), (b"aa", b"ab"), (b"b", b"a"), (b"aa", b"aa"), (b"x", b"y")]
    assert _replayed_counts(words, merges) == _brute_force_counts(words, merges)


def test_replay_counts_match_brute_force_on_random_text():
    rng = random.Random(7)
    alphabet = b"abcab "
    words = Counter(bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 9))) for _ in range(400))
    # merges as a greedy BPE would pick them, plus some that never occur
    merges, snapshot = [], _brute_force_counts(dict(words), [])[0]
    for _ in range(25):
        if not snapshot:
            break
        best = max(snapshot, key=lambda pair: (snapshot[pair], pair))
        merges.append(best)
        snapshot = _brute_force_counts(dict(words), merges)[-1]
    merges.insert(5, (b"zz", b"q"))
    assert _replayed_counts(dict(words), merges) == _brute_force_counts(dict(words), merges)


def test_tiny_hand_made_mixture_is_recovered_exactly():
    """Two categories; a greedy BPE on their 1:3 mixture; the LP finds exactly 1:3.

    Ties pin the ratio: under 1:3, "yz" (60 x 1) ties "gh" (20 x 3) and wins the tie-break, so
    alpha_2 <= 3 alpha_1; later "cd" (10 x 3) ties "ab" (30 x 1) and wins, so alpha_2 >= 3 alpha_1.
    """
    pytest.importorskip("highspy")
    from tokensmith.mixture.solver import solve_mixture

    first = {b"ab": 30, b"yz": 60}
    second = {b"cd": 10, b"gh": 20}
    share = np.array([1.0, 3.0])
    mixed = Counter()
    for weight, words in zip(share, (first, second), strict=True):
        for word, count in words.items():
            mixed[word] += int(weight) * count
    merges, snapshot = [], _brute_force_counts(dict(mixed), [])[0]
    for _ in range(4):
        best = max(snapshot, key=lambda pair: (snapshot[pair], pair))
        merges.append(best)
        snapshot = _brute_force_counts(dict(mixed), merges)[-1]
    table = merge_table(merges, "byte")
    logs = []
    for words in (first, second):
        pretokens = sorted(words)
        logs.append(replay_merges(word_table(pretokens, np.array([words[w] for w in pretokens]), table), table))
    history = build_history(logs, table.merges)
    assert merges == [(b"y", b"z"), (b"g", b"h"), (b"c", b"d"), (b"a", b"b")]
    solution = solve_mixture(history, np.ones(2))
    assert solution.converged and solution.objective == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(solution.alpha, share / share.sum(), atol=1e-9)
