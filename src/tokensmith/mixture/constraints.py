"""Lazy constraint generation: find the pairs that beat the chosen merge under the current mixture.

The LP has one potential constraint per step ``t`` and per pair ``p`` other than the merge ``m_t``:

    sum_i alpha_i (c_i(m_t) - c_i(p)) + v_t + v_p >= 0

Far too many to write down, and almost all hold for any plausible mixture. Given the current solution
(``alpha``, ``v``), :func:`find_violations` replays the steps once: it keeps every pair's mixed count
``sum_i w_i c_i(p)`` (``w_i = alpha_i * scale_i``) in an array updated from the count changes of each
merge, and a lazy max-heap over ``mixed count - v_p``; at each step it pops the pairs above
``mixed count of m_t + v_t`` (at most ``per_step`` of them). With ``take_top`` (the first round) it takes
the ``per_step`` highest pairs of each step whether they violate or not.
"""

from __future__ import annotations

import numpy as np

from tokensmith.mixture.history import PairCountHistory

EMPTY = -1


def find_violations(history: PairCountHistory, weights: np.ndarray, step_slack: np.ndarray, pair_slack: np.ndarray,
                    active: np.ndarray, existing: np.ndarray, *, per_step: int, max_new: int, tolerance: float,
                    take_top: bool = False, only_violated: bool = False,
                    tree_levels: int = 0, step_limit: int | None = None,
                    bounds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, int]:
    """``(steps, pairs, violated)``: new constraints to add, and how many of them are violated now.

    At each step the pairs above the merge under the current mixture (``mixed count - v_p`` above the
    merge's mixed count) are taken, highest first, at most ``per_step`` of them, skipping constraints
    already in the LP (``existing``: sorted ``step * n_pairs + pair``). Taking the pairs that beat the
    merge, not only those beyond the slack ``v_t``, anticipates the next solution lowering ``v_t`` and
    saves many rounds when the categories do not explain every merge. ``violated`` counts the taken
    pairs that also exceed ``v_t``; the LP is solved when it is 0. With ``only_violated`` only those
    are taken (a constraint in the LP is then never taken again, so ``existing`` can be empty), and a
    pair taken at step ``t`` is not taken again within the largest node of a segment tree over the
    active steps (``tree_levels`` levels above the leaves) that holds ``t`` and lies inside the pair's
    interval of constant counts: the caller adds one row for that whole node (the interval
    formulation, :mod:`tokensmith.mixture.intervals`); ``step_limit`` ends the scan and the intervals
    there (no step from it on may be active); ``bounds``: :func:`interval_bounds` of ``history``, if
    the caller keeps them between calls.

    Args:
        weights: ``float64 (categories,)`` mixture weight of each category's counts.
        step_slack: ``v_t`` per step; pair_slack: ``v_p`` per pair (0 where the pair has no variable).
        active: steps that get constraints (the merge occurs in some sample).
        tolerance: a pair violates when its value exceeds the merge's by more than
            ``tolerance * (1 + |merge value|)`` (values are in counts, see ``solve_mixture``): it keeps
            satisfied constraints (within the solver's tolerance) from being found again, and stops the
            rounds from chasing violations far below one occurrence.
    """
    _compile()
    interval_start, interval_end, change_next = bounds if bounds is not None else interval_bounds(history)
    limit = history.n_steps if step_limit is None else int(step_limit)  # intervals end there
    interval_start = interval_start.copy()  # the scan moves both along
    interval_end = np.minimum(interval_end, limit)
    change_next = np.minimum(change_next, limit)
    capacity = max_new + per_step + 1
    out_steps = np.zeros(capacity, dtype=np.int64)
    out_pairs = np.zeros(capacity, dtype=np.int64)
    heap_capacity = 2 * history.n_pairs + (1 << 16)
    counters = np.zeros(2, dtype=np.int64)
    _scan(
        history.n_pairs, np.ascontiguousarray(weights, dtype=np.float64), history.initial_pair,
        history.initial_category, history.initial_count, history.change_offsets, history.change_pair,
        history.change_category, history.change_delta, history.merge_pair, active.astype(np.bool_),
        np.ascontiguousarray(step_slack, dtype=np.float64), np.ascontiguousarray(pair_slack, dtype=np.float64),
        np.ascontiguousarray(existing, dtype=np.int64), int(per_step), int(max_new), float(tolerance), bool(take_top),
        bool(only_violated), int(tree_levels), limit,
        np.concatenate([[0], np.cumsum(active, dtype=np.int64)]),
        interval_start, interval_end, change_next,
        out_steps, out_pairs, np.zeros(heap_capacity, dtype=np.float64), np.zeros(heap_capacity, dtype=np.int64),
        counters,
    )
    found = int(counters[0])
    return out_steps[:found], out_pairs[:found], int(counters[1])


def interval_bounds(history: PairCountHistory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's first interval of constant counts ``[0, end)``, and for each count change (merge
    ``t``, in effect from step ``t + 1``) the step of the pair's next change (``n_steps`` if none)."""
    span = history.n_steps + 1
    group = history.lookup_key // span
    keys = np.unique((group // history.n_categories) * span + (history.lookup_key - group * span))

    def next_change(pairs: np.ndarray, steps: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(keys, pairs * span + steps, side="right"), max(len(keys) - 1, 0))
        found = keys[at] if len(keys) else np.zeros(len(pairs), dtype=np.int64)
        same = (found // span == pairs) & (found > pairs * span + steps)
        return np.where(same, found - pairs * span, history.n_steps).astype(np.int64)

    pairs = np.arange(history.n_pairs, dtype=np.int64)
    interval_end = next_change(pairs, np.zeros(history.n_pairs, dtype=np.int64))
    steps = np.repeat(np.arange(1, history.n_steps + 1, dtype=np.int64), np.diff(history.change_offsets))
    change_next = next_change(history.change_pair.astype(np.int64), steps)
    return np.zeros(history.n_pairs, dtype=np.int64), interval_end, change_next


def _sift_down_py(values, pairs, size, i):
    value, pair = values[i], pairs[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and values[child + 1] > values[child]:
            child += 1
        if values[child] <= value:
            break
        values[i], pairs[i] = values[child], pairs[child]
        i = child
    values[i], pairs[i] = value, pair


def _push_py(values, pairs, size, value, pair):
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if values[parent] >= value:
            break
        values[i], pairs[i] = values[parent], pairs[parent]
        i = parent
    values[i], pairs[i] = value, pair


def _doubled_py(array, used):
    """A copy of ``array`` twice as long, its first ``used`` entries kept."""
    grown = np.zeros(2 * len(array), dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


def _rebuild_py(raw, penalty, values, pairs):
    size = 0
    for p in range(len(raw)):
        if raw[p] > 0:
            values[size] = raw[p] - penalty[p]
            pairs[size] = p
            size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(values, pairs, size, i)
    return size


def _scan_py(n_pairs, weights, initial_pair, initial_category, initial_count, offsets, change_pair, change_category,
             change_delta, merge_pair, active, step_slack, penalty, existing, per_step, max_new, tolerance, take_top,
             only_violated, tree_levels, scan_steps, position, interval_start, interval_end, change_next, out_steps,
             out_pairs, values, pairs, counters):
    raw = np.zeros(n_pairs, dtype=np.float64)
    for i in range(len(initial_pair)):
        raw[initial_pair[i]] += weights[initial_category[i]] * initial_count[i]
    size = _rebuild(raw, penalty, values, pairs)
    seen = np.full(n_pairs, EMPTY, dtype=np.int64)
    covered_until = np.zeros(n_pairs, dtype=np.int64)
    stash_values = np.zeros(per_step + 2, dtype=np.float64)
    stash_pairs = np.zeros(per_step + 2, dtype=np.int64)
    found = 0
    violated = 0
    # A pair inside the tree node of a row just added is skipped until the node ends (covered_until, a
    # position). Popping it again at every step costs most of a scan after a large jump in steps, so it
    # is parked in the bucket of the position where its cover ends and pushed back there.
    bucket_head = np.full(position[scan_steps] + 2, EMPTY, dtype=np.int64)
    parked_pair = np.zeros(1024, dtype=np.int64)
    parked_next = np.zeros(1024, dtype=np.int64)
    n_parked = 0
    for t in range(scan_steps):
        if active[t]:
            entry = bucket_head[position[t]]
            bucket_head[position[t]] = EMPTY
            while entry != EMPTY:
                pair = parked_pair[entry]
                entry = parked_next[entry]
                if raw[pair] > 0 and covered_until[pair] <= position[t]:
                    if size >= len(values):
                        size = _rebuild(raw, penalty, values, pairs)
                    else:
                        _push(values, pairs, size, raw[pair] - penalty[pair], pair)
                        size += 1
        if active[t] and merge_pair[t] >= 0:
            merge = merge_pair[t]
            merge_value = raw[merge]
            margin = tolerance * (1.0 + abs(merge_value))
            beats = merge_value + margin
            cutoff = merge_value + step_slack[t] + margin
            if only_violated:
                beats = cutoff
            # constraints of this step already in the LP
            lo = np.searchsorted(existing, t * n_pairs)
            hi = np.searchsorted(existing, (t + 1) * n_pairs)
            taken = 0
            stashed = 0
            while size > 0 and taken < per_step:
                value, pair = values[0], pairs[0]
                size -= 1
                values[0], pairs[0] = values[size], pairs[size]
                if size > 0:
                    _sift_down(values, pairs, size, 0)
                if seen[pair] == t or value != raw[pair] - penalty[pair]:
                    continue  # an out-of-date entry (the pair has a newer one) or a duplicate
                seen[pair] = t
                if stashed == len(stash_values):
                    stash_values, stash_pairs = _doubled(stash_values, stashed), _doubled(stash_pairs, stashed)
                stash_values[stashed], stash_pairs[stashed] = value, pair
                stashed += 1
                if pair == merge:
                    continue
                if not (take_top or value > beats):
                    break
                if covered_until[pair] > position[t]:
                    stashed -= 1  # parked instead
                    if n_parked == len(parked_pair):
                        parked_pair, parked_next = _doubled(parked_pair, n_parked), _doubled(parked_next, n_parked)
                    parked_pair[n_parked] = pair
                    parked_next[n_parked] = bucket_head[covered_until[pair]]
                    bucket_head[covered_until[pair]] = n_parked
                    n_parked += 1
                    continue
                if hi > lo:
                    at = lo + np.searchsorted(existing[lo:hi], t * n_pairs + pair)
                    if at < hi and existing[at] == t * n_pairs + pair:
                        continue
                out_steps[found], out_pairs[found] = t, pair
                found += 1
                taken += 1
                if value > cutoff:
                    violated += 1
                if only_violated:  # the largest tree node inside the pair's interval holding t
                    at = position[t]
                    lowest, highest = position[interval_start[pair]], position[interval_end[pair]]
                    level = 0
                    while level < tree_levels:
                        start = (at >> (level + 1)) << (level + 1)
                        if start < lowest or start + (1 << (level + 1)) > highest:
                            break
                        level += 1
                    covered_until[pair] = ((at >> level) << level) + (1 << level)
            for k in range(stashed):
                _push(values, pairs, size, stash_values[k], stash_pairs[k])
                size += 1
            if found >= max_new:
                break
        for e in range(offsets[t], offsets[t + 1]):
            pair = change_pair[e]
            raw[pair] += weights[change_category[e]] * change_delta[e]
            interval_start[pair] = t + 1
            interval_end[pair] = change_next[e]
            if raw[pair] > 0:
                if size >= len(values):
                    size = _rebuild(raw, penalty, values, pairs)
                else:
                    _push(values, pairs, size, raw[pair] - penalty[pair], pair)
                    size += 1
    counters[0] = found
    counters[1] = violated


_sift_down = _sift_down_py
_push = _push_py
_doubled = _doubled_py
_rebuild = _rebuild_py
_scan = _scan_py


def _compile() -> None:
    """Swap the Python kernels for numba-compiled ones (once per process)."""
    global _sift_down, _push, _doubled, _rebuild, _scan
    if getattr(_compile, "done", False):
        return
    from numba import njit

    _sift_down = njit(cache=True)(_sift_down_py)
    _push = njit(cache=True)(_push_py)
    _doubled = njit(cache=True)(_doubled_py)
    _rebuild = njit(cache=True)(_rebuild_py)
    _scan = njit(cache=True)(_scan_py)
    _compile.done = True
