"""Pair counts of every category at every step, in one sparse table with shared pair indices.

Built from the per-category :class:`~tokensmith.mixture.replay.ReplayLog`s. Each entry says "from step
``s`` on, pair ``p`` occurs ``count`` times in category ``c``" (step 0 = before any merge, step ``t+1`` =
after merge ``t``). Two views of the same entries:

* sorted by ``(pair, category, step)``: the count of any pair at any step by binary search
  (:meth:`PairCountHistory.counts_at`), used for the coefficients of LP constraints;
* sorted by step, as count *changes*: what the constraint scan applies, merge after merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tokensmith.mixture.replay import ReplayLog


@dataclass(frozen=True)
class PairCountHistory:
    """Sparse ``count[category, pair, step]`` for the replayed merges (see the module docstring).

    Attributes:
        n_categories, n_steps: shape of the problem (``n_steps`` = merges replayed).
        keys: ``int64 (pairs,)`` sorted pair keys (``left << 32 | right``); a pair's index is its position.
        merge_pair: ``int64 (steps,)`` index of merge ``t``'s pair, ``-1`` if it never occurs in any sample.
        initial_pair, initial_category, initial_count: counts at step 0.
        change_offsets: ``int64 (steps + 1,)``; entries ``change_offsets[t]:change_offsets[t+1]`` are the
            changes made by merge ``t`` (in effect from step ``t + 1``).
        change_pair, change_category, change_delta: those changes.
        lookup_key, lookup_count: entries sorted by ``(pair * n_categories + category) * (steps + 1) + step``.
    """

    n_categories: int
    n_steps: int
    keys: np.ndarray
    merge_pair: np.ndarray
    initial_pair: np.ndarray
    initial_category: np.ndarray
    initial_count: np.ndarray
    change_offsets: np.ndarray
    change_pair: np.ndarray
    change_category: np.ndarray
    change_delta: np.ndarray
    lookup_key: np.ndarray
    lookup_count: np.ndarray

    @property
    def n_pairs(self) -> int:
        return len(self.keys)

    @property
    def n_entries(self) -> int:
        return len(self.lookup_key)

    def counts_at(self, steps: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """``int64 (len(steps), n_categories)``: the count of ``pairs[j]`` at ``steps[j]`` in every category.

        A pair index of ``-1`` counts 0.
        """
        steps = np.asarray(steps, dtype=np.int64)[:, None]
        pairs = np.asarray(pairs, dtype=np.int64)[:, None]
        group = pairs * self.n_categories + np.arange(self.n_categories, dtype=np.int64)[None, :]
        query = group * (self.n_steps + 1) + steps
        index = np.searchsorted(self.lookup_key, query, side="right") - 1
        safe = np.maximum(index, 0)
        valid = (index >= 0) & (self.lookup_key[safe] // (self.n_steps + 1) == group) & (pairs >= 0)
        return np.where(valid, self.lookup_count[safe], 0)


def build_history(logs: Sequence[ReplayLog], merges: np.ndarray) -> PairCountHistory:
    """Combine the replay logs of all categories (same merge table) into one :class:`PairCountHistory`."""
    n_categories = len(logs)
    n_steps = int(merges.shape[0])
    keys = np.unique(np.concatenate([log.keys for log in logs])) if logs else np.zeros(0, dtype=np.int64)
    pair_parts, category_parts, step_parts, count_parts = [], [], [], []
    for category, log in enumerate(logs):
        global_index = np.searchsorted(keys, log.keys)
        entries_per_step = np.diff(np.concatenate([[0], log.step_end]))
        pair_parts += [global_index[log.initial_slots], global_index[log.log_slots]]
        step_parts += [np.zeros(len(log.initial_slots), dtype=np.int64),
                       np.repeat(np.arange(1, n_steps + 1, dtype=np.int64), entries_per_step)]
        count_parts += [log.initial_counts, log.log_counts]
        category_parts.append(np.full(len(log.initial_slots) + len(log.log_slots), category, dtype=np.int64))
    pair = np.concatenate(pair_parts).astype(np.int64)
    category = np.concatenate(category_parts)
    step = np.concatenate(step_parts)
    count = np.concatenate(count_parts).astype(np.int64)
    del pair_parts, category_parts, step_parts, count_parts

    group = pair * n_categories + category
    lookup_key = group * (n_steps + 1) + step
    order = np.argsort(lookup_key, kind="stable")
    lookup_key = lookup_key[order]
    lookup_count = count[order]
    sorted_group = group[order]
    previous = np.zeros_like(lookup_count)
    same_group = sorted_group[1:] == sorted_group[:-1]
    previous[1:][same_group] = lookup_count[:-1][same_group]
    delta_sorted = lookup_count - previous
    sorted_step = step[order]
    is_initial = sorted_step == 0
    changes = np.flatnonzero(~is_initial)
    by_step = changes[np.argsort(sorted_step[changes], kind="stable")]
    change_offsets = np.zeros(n_steps + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_step[by_step] - 1, minlength=n_steps), out=change_offsets[1:])

    merge_keys = (merges[:, 0].astype(np.int64) << 32) | merges[:, 1].astype(np.int64)
    position = np.searchsorted(keys, merge_keys)
    found = (position < len(keys)) & (keys[np.minimum(position, max(len(keys) - 1, 0))] == merge_keys)
    merge_pair = np.where(found, position, -1).astype(np.int64)
    initial = np.flatnonzero(is_initial)
    return PairCountHistory(
        n_categories=n_categories,
        n_steps=n_steps,
        keys=keys,
        merge_pair=merge_pair,
        initial_pair=(sorted_group[initial] // n_categories),
        initial_category=(sorted_group[initial] % n_categories),
        initial_count=lookup_count[initial].astype(np.float64),
        change_offsets=change_offsets,
        change_pair=(sorted_group[by_step] // n_categories),
        change_category=(sorted_group[by_step] % n_categories),
        change_delta=delta_sorted[by_step].astype(np.float64),
        lookup_key=lookup_key,
        lookup_count=lookup_count,
    )
