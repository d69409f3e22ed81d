"""The mixture LP's constraints grouped over steps where a pair's counts do not change.

The constraint of pair ``p`` at step ``t`` (see :mod:`tokensmith.mixture.solver`) reads

    u_t >= x_p(t),   u_t = v_t + sum_i w_i c_i(m_t, t),   x_p(t) = sum_i w_i c_i(p, t) - v_p

(``w_i = alpha_i * scale_i``; for ``p = m_t`` it is ``v_t + v_p >= 0``, always true, so every pair can
be included). A pair's counts change only at the steps where a merge touches it, so over an interval
``I = [a, b)`` of steps between two such changes ``x_p`` is one linear expression ``x_{p,I}`` and the
constraints of all the steps of ``I`` say ``min_{t in I} u_t >= x_{p,I}``.

The minimum is kept by a segment tree over the steps: a free variable ``y_n`` per node ``n`` with

    y_n <= y_child (both children),   y_leaf(t) <= u_t (active steps only; other leaves stay unbounded),

so ``y_n <= min u`` over the node's steps, and ``min_{t in I} u_t >= x`` holds iff ``x <= y_n`` can
hold for the O(log T) nodes that tile ``I``. Conversely ``y_n = min u`` satisfies every row, so the LP
over ``(alpha, v)`` is exactly the one of the per-step rows (same optimum, same proportions); a
constraint that binds over many steps is one row instead of one per step.

Rows are generated lazily, as for the per-step formulation: a violated ``(t, p)`` found by the scan
becomes the row ``x_{p,I} <= y_n`` of the largest tree node ``n`` inside ``I`` that holds ``t``, and
the tree rows under ``n`` are added the first time ``n`` is used (a used node's whole subtree is in
the LP).
"""

from __future__ import annotations

import numpy as np

from tokensmith.mixture.history import PairCountHistory


class SegmentTree:
    """Steps ``0..T-1`` as the leaves of a perfect binary tree; node ``1`` is the root, node ``n`` has
    children ``2n`` and ``2n+1``, leaf ``size + t`` is step ``t``."""

    def __init__(self, n_steps: int, active: np.ndarray):
        self.levels = max(1, int(n_steps - 1).bit_length())
        self.size = 1 << self.levels
        padded = np.zeros(self.size, dtype=np.int64)
        padded[:n_steps] = active
        self.active_before = np.concatenate([[0], np.cumsum(padded)])  # active steps in [0, s)

    def node_range(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[first, end)`` steps of each node."""
        nodes = np.asarray(nodes, dtype=np.int64)
        level = self.levels - (np.floor(np.log2(nodes)).astype(np.int64))  # 0 for leaves
        first = (nodes - (self.size >> level)) << level
        return first, first + (np.int64(1) << level)

    def has_active(self, nodes: np.ndarray) -> np.ndarray:
        first, end = self.node_range(nodes)
        return self.active_before[end] > self.active_before[first]

    def largest_node(self, steps: np.ndarray, first: np.ndarray, end: np.ndarray) -> np.ndarray:
        """For each step, the largest node holding it whose steps all lie in ``[first, end)``."""
        steps = np.asarray(steps, dtype=np.int64)
        best = self.size + steps  # the leaf always fits
        for level in range(1, self.levels + 1):
            start = (steps >> level) << level
            fits = (start >= first) & (start + (np.int64(1) << level) <= end)
            best = np.where(fits, (self.size >> level) + (steps >> level), best)
        return best


def pair_change_steps(history: PairCountHistory) -> np.ndarray:
    """Sorted unique ``pair * (T + 1) + step`` of every step at which some category's count of the pair
    takes a new value (step 0 included where the pair occurs at the start)."""
    span = history.n_steps + 1
    group = history.lookup_key // span
    step = history.lookup_key - group * span
    return np.unique((group // history.n_categories) * span + step)


def constant_interval(change_keys: np.ndarray, n_steps: int, steps: np.ndarray,
                      pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[first, end)``: the steps around ``steps[j]`` over which ``pairs[j]``'s counts stay the same."""
    span = n_steps + 1
    steps = np.asarray(steps, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64)
    query = pairs * span + steps
    at = np.searchsorted(change_keys, query, side="right")  # first change after the step
    before = change_keys[np.maximum(at - 1, 0)]
    first = np.where((at > 0) & (before // span == pairs), before - pairs * span, 0)
    safe = np.minimum(at, len(change_keys) - 1)
    after = change_keys[safe]
    end = np.where((at < len(change_keys)) & (after // span == pairs), after - pairs * span, n_steps)
    return first, np.minimum(end, n_steps)
