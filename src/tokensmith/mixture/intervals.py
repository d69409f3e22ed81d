"""The mixture LP's constraints grouped over steps where a pair's counts do not change.

The constraint of pair ``p`` at step ``t`` (see :mod:`tokensmith.mixture.solver`) reads

    u_t >= x_p(t),   u_t = v_t + sum_i w_i c_i(m_t, t),   x_p(t) = sum_i w_i c_i(p, t) - v_p

(``w_i = alpha_i * scale_i``; for ``p = m_t`` it is ``v_t + v_p >= 0``, always true, so every pair can
be included). A pair's counts change only at the steps where a merge touches it, so over an interval
``I = [a, b)`` of steps between two such changes ``x_p`` is one linear expression ``x_{p,I}`` and the
constraints of all the steps of ``I`` say ``min_{t in I} u_t >= x_{p,I}``.

The minimum is kept by a segment tree over the active steps: a free variable ``y_n`` per inner node
``n`` with ``y_n <= y_child`` for both children, where a leaf's ``y`` is ``u_t`` itself (no variable),
so ``y_n <= min u`` over the node's steps, and ``min_{t in I} u_t >= x`` holds iff ``x <= y_n`` can
hold for the O(log T) nodes that tile ``I``. Conversely ``y_n = min u`` satisfies every row, so the LP
over ``(alpha, v)`` is exactly the one of the per-step rows (same optimum, same proportions); a
constraint that binds over many steps is one row instead of one per step.

Rows are generated lazily, as for the per-step formulation: a violated ``(t, p)`` found by the scan
becomes the row ``x_{p,I} <= y_n`` of the largest tree node ``n`` inside ``I`` that holds ``t``, and
the tree rows under ``n`` are added the first time ``n`` is used (a used node's whole subtree is in
the LP). A row on a leaf is the per-step row itself.
"""

from __future__ import annotations

import numpy as np

from tokensmith.mixture.history import PairCountHistory


class SegmentTree:
    """The active steps (those with constraints), in order, as the leaves of a perfect binary tree.

    Node ``1`` is the root, node ``n`` has children ``2n`` and ``2n+1``, leaf ``size + r`` is the
    ``r``-th active step (its *position*). Steps without constraints take no leaf, so a run of
    active steps between two inactive ones is still one range of positions.
    """

    def __init__(self, n_steps: int, active: np.ndarray):
        self.position = np.concatenate([[0], np.cumsum(active, dtype=np.int64)])  # active steps before s
        self.steps = np.flatnonzero(active).astype(np.int64)  # the step at each position
        self.n_active = len(self.steps)
        self.levels = max(1, int(self.n_active - 1).bit_length())
        self.size = 1 << self.levels

    def node_range(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[first, end)`` positions of each node."""
        nodes = np.asarray(nodes, dtype=np.int64)
        level = self.levels - (np.floor(np.log2(nodes)).astype(np.int64))  # 0 for leaves
        first = (nodes - (self.size >> level)) << level
        return first, first + (np.int64(1) << level)

    def has_active(self, nodes: np.ndarray) -> np.ndarray:
        """Whether the node holds a position (the last ones of the padded tree are empty)."""
        return self.node_range(nodes)[0] < self.n_active

    def leaf_step(self, nodes: np.ndarray) -> np.ndarray:
        return self.steps[np.asarray(nodes, dtype=np.int64) - self.size]

    def largest_node(self, steps: np.ndarray, first: np.ndarray, end: np.ndarray) -> np.ndarray:
        """For each (active) step, the largest node holding it whose steps all lie in ``[first, end)``."""
        at = self.position[np.asarray(steps, dtype=np.int64)]
        lowest, highest = self.position[first], self.position[end]
        best = self.size + at  # the leaf always fits
        for level in range(1, self.levels + 1):
            start = (at >> level) << level
            fits = (start >= lowest) & (start + (np.int64(1) << level) <= highest)
            best = np.where(fits, (self.size >> level) + (at >> level), best)
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
