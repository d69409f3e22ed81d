"""The data-mixture linear program (Hayase et al. 2024), solved with HiGHS and lazy constraints.

Variables: ``alpha`` on the simplex (one per category), a slack ``v_t >= 0`` per step and ``v_p >= 0`` per
pair. Minimise ``sum v_t + sum v_p`` subject to, for every step ``t`` and pair ``p != m_t``,

    sum_i alpha_i * scale_i * (c_i(m_t) - c_i(p)) + v_t + v_p >= 0

i.e. under the mixture, the merge chosen at step ``t`` was (up to slack) the most frequent pair. The
counts are normalised per category (``scale_i``), so ``alpha`` is a share of bytes or of pairs (see
:func:`solve_mixture`). Constraints are generated lazily: the first round takes the top ``per_step``
pairs of every step under the uniform mixture, then each round adds the violated ones
(:func:`~tokensmith.mixture.constraints.find_violations`) and re-solves from the previous basis,
until none is violated.

That is the ``pairs`` formulation (one row per ``(step, pair)``). The default ``intervals`` formulation
(:mod:`tokensmith.mixture.intervals`) writes the same LP with one row per pair and tree node of steps
over which the pair's counts are constant, solves the first ``T/16`` and ``T/4`` steps before all of
them, and re-solves the rounds that add many rows with the interior point method (o200k, 30,000 merges
x 10 categories of 1 MB: about 55 s, where the per-step rows had not finished in 13 min at 300 kB), at
the same optimum.

HiGHS comes from ``highspy`` (extra ``mixture``); with ``v`` free the LP is always feasible and bounded,
so any other status is a solver failure and is reported, never turned into numbers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tokensmith.errors import InputError, MissingDependencyError, TokensmithError
from tokensmith.mixture.constraints import find_violations, interval_bounds
from tokensmith.mixture.history import PairCountHistory


@dataclass(frozen=True)
class SolverSettings:
    """Knobs of the lazy LP solve.

    Args:
        first_per_step: pairs per step in the first round (the top ones under the uniform mixture).
        per_step: most violated pairs added per step in later rounds (the paper: 10).
        max_new: most constraints added per round (the paper: 100 with Gurobi; HiGHS re-solves cost more
            than rows, so a round here sweeps every step).
        max_rounds: give up after this many rounds (reported as not converged).
        tolerance: relative margin of a violation (see ``find_violations``); coefficients are on the
            scale of raw counts, so 1e-4 ignores violations below a ten-thousandth of the merge's count.
        pair_slack: give each pair its own slack ``v_p`` (the paper). It absorbs pairs whose sample count is
            off (one variable instead of slack at every step they beat), but when the categories leave
            many merges unexplained (a real tokenizer, few categories) the optimum needs very many
            active constraints and the solve takes minutes; without it only ``v_t`` remains and a few
            rounds suffice.
        drop_slack_rows: delete the constraints that do not bind after each re-solve.
        formulation: ``intervals`` (default): one row per pair and interval of steps over which its
            counts are constant, through a segment tree over the steps
            (:mod:`tokensmith.mixture.intervals`); ``pairs``: one row per ``(step, pair)``. The same LP
            over ``(alpha, v)``, so the same optimum; ``intervals`` needs far fewer rows and rounds.
        ipm_rows, ipm_growth: (intervals) a round that adds more rows than ``ipm_rows`` and more than
            ``ipm_growth`` times the LP's other rows (tree rows included) is re-solved by the interior point method
            (with crossover): on such a change it is several times faster than dual simplex from the
            previous basis, which the other rounds keep using (o200k, 30,000 merges x 10 categories of
            1 MB: 35k rows added to 6k, interior point 6 s against 24 s; 22k added to 92k, 22 s against
            15 s).
        prefix_factor, first_prefix: (intervals) solve for the first ``T / f^k`` steps first
            (``k`` down to 0, prefixes of at least ``first_prefix`` steps), each from the previous
            one's solution and rows: the early steps, with the largest counts, settle ``alpha``, so
            the later rounds add few rows that do not bind at the optimum. The last phase is the
            whole LP, solved to the same convergence test.
        highs_options: HiGHS options set on the model after tokensmith's own, e.g. ``{"time_limit": 600}``
            to give up on a long solve; a solve stopped by a limit is reported as an error, never as
            proportions.
    """

    first_per_step: int = 5
    per_step: int = 10
    max_new: int = 1_000_000
    max_rounds: int = 200
    tolerance: float = 1e-4
    pair_slack: bool = True
    drop_slack_rows: bool = True
    formulation: str = "intervals"
    ipm_rows: int = 10_000
    ipm_growth: float = 0.5
    prefix_factor: int = 4
    first_prefix: int = 500
    highs_options: Mapping[str, bool | int | float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class LpSolution:
    """The LP's answer and how it was reached."""

    alpha: np.ndarray
    status: str
    objective: float
    constraints: int
    pair_variables: int
    rounds: int
    converged: bool
    solver_seconds: float
    scan_seconds: float
    active_steps: int
    round_log: list[dict] = field(default_factory=list)


#: LP formulations (``SolverSettings.formulation``).
FORMULATIONS = ("intervals", "pairs")


def _require_highspy():
    try:
        import highspy
    except ImportError:
        raise MissingDependencyError("mixture inference (the HiGHS LP solver)", ["highspy"], extra="mixture") from None
    return highspy


def _quiet_highs(highspy):
    """A new ``Highs`` object. HiGHS prints its banner to the process's stdout (file descriptor 1, from
    C) when the first one is made, before ``output_flag`` can be turned off; that would land in the
    CLI's table or in a user's piped output, so descriptor 1 points at the null device meanwhile."""
    import contextlib
    import ctypes
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            model = highspy.Highs()
            # C stdio may still hold the banner in its buffer; without a C library handle (Windows) skip it
            with contextlib.suppress(OSError, AttributeError, TypeError):
                ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return model


def _new_model(highspy, n_categories: int, options: Mapping[str, bool | int | float | str]):
    """A HiGHS model holding ``alpha`` (columns ``0..n-1``, in ``[0, 1]``) and the simplex row (row 0),
    with the caller's ``options`` (:attr:`SolverSettings.highs_options`) set last.

    Raises:
        InputError: HiGHS refuses an option (unknown name, or a value of the wrong type or range).
    """
    model = _quiet_highs(highspy)
    model.setOptionValue("output_flag", False)
    model.setOptionValue("random_seed", 0)
    model.setOptionValue("threads", 1)
    # Devex pricing for the dual simplex: the warm re-solves after a round adds rows take more iterations
    # than with HiGHS' default (dual steepest edge) but each is about half the cost on these long LPs;
    # o200k, 30,000 merges x 10 categories of 1 MB: 20-30% less CPU in those re-solves.
    model.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    for option, value in options.items():
        if model.setOptionValue(option, value) != highspy.HighsStatus.kOk:
            raise InputError(f"HiGHS refuses the option {option}={value!r}",
                             "see the HiGHS options reference (https://ergo-code.github.io/HiGHS/stable/options/definitions/)")
    for _ in range(n_categories):
        model.addCol(0.0, 0.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    model.addRow(1.0, 1.0, n_categories, np.arange(n_categories, dtype=np.int32), np.ones(n_categories))
    return model


def _run(model, highspy, rounds: int, constraints: int, method: str = "simplex") -> float:
    """Re-solve with ``method`` (``simplex``: from the previous basis; ``ipm``: interior point, then
    crossover to a basis); the seconds it took.

    Raises:
        TokensmithError: the status is not optimal.
    """
    model.setOptionValue("solver", method)
    started = time.perf_counter()
    if method == "ipm":
        model.clearSolver()  # with a basis HiGHS skips presolve, which makes IPM several times faster
    model.run()
    seconds = time.perf_counter() - started
    model_status = model.getModelStatus()
    if model_status != highspy.HighsModelStatus.kOptimal:
        status = model.modelStatusToString(model_status)
        # A time or iteration limit only comes from SolverSettings.highs_options, so say which knob it is.
        hint = ("raise the limit in SolverSettings.highs_options, or lower --merges" if "limit" in status.lower()
                else "check that the categories' samples hold text the tokenizer was trained on, or lower --merges")
        raise TokensmithError(
            f"the mixture LP ended with status {status!r} (round {rounds}, {constraints} constraints); "
            "no proportions are reported",
            hint,
        )
    return seconds


def _loose_rows(solution) -> np.ndarray:
    """Rows (counted after the simplex row 0) that hold with room to spare and have no dual value."""
    activity = np.asarray(solution.row_value)[1:]
    dual = np.asarray(solution.row_dual)[1:]
    return np.flatnonzero((activity > 1e-7 * (1.0 + np.abs(activity))) & (np.abs(dual) <= 1e-12))


def _normalised(alpha: np.ndarray) -> np.ndarray:
    alpha = np.clip(alpha, 0.0, None)
    return alpha / alpha.sum() if alpha.sum() > 0 else np.full(len(alpha), 1.0 / len(alpha))


def solve_mixture(history: PairCountHistory, scale: np.ndarray, settings: SolverSettings | None = None,
                  progress=None) -> LpSolution:
    """Solve the LP for the categories of ``history``; ``scale[i]`` multiplies category ``i``'s counts.

    Raises:
        TokensmithError: the solver ends in a status other than optimal.
    """
    highspy = _require_highspy()
    settings = settings or SolverSettings()
    if settings.formulation not in FORMULATIONS:
        raise TokensmithError(f"unknown LP formulation {settings.formulation!r}",
                              f"use one of {', '.join(FORMULATIONS)}")
    n_categories = history.n_categories
    scale = np.asarray(scale, dtype=np.float64)
    merge_counts = history.counts_at(np.arange(history.n_steps), history.merge_pair)
    active = (history.merge_pair >= 0) & (merge_counts.sum(axis=1) > 0)
    model = _new_model(highspy, n_categories, settings.highs_options)
    if settings.formulation == "intervals":
        return _solve_intervals(model, highspy, history, scale, settings, active, progress)
    infinity = highspy.kHighsInf

    step_column: dict[int, int] = {}
    pair_column: dict[int, int] = {}
    row_keys = np.zeros(0, dtype=np.int64)  # step * n_pairs + pair of each constraint, in row order (row r + 1)
    alpha = np.full(n_categories, 1.0 / n_categories)
    step_slack = np.zeros(history.n_steps)
    pair_slack = np.zeros(history.n_pairs)
    solver_seconds = scan_seconds = 0.0
    rounds = 0
    converged = False
    status = "not solved"
    objective = 0.0
    round_log: list[dict] = []
    for rounds in range(1, settings.max_rounds + 1):
        started = time.perf_counter()
        steps, pairs, violated = find_violations(
            history, alpha * scale, step_slack, pair_slack, active, np.sort(row_keys),
            per_step=settings.first_per_step if rounds == 1 else settings.per_step,
            max_new=settings.max_new, tolerance=settings.tolerance, take_top=rounds == 1,
        )
        scan_seconds += time.perf_counter() - started
        if rounds > 1 and violated == 0:
            converged = True
            break
        if len(steps):
            _add_constraints(model, history, scale, steps, pairs, step_column,
                             pair_column if settings.pair_slack else None, infinity)
            row_keys = np.concatenate([row_keys, steps * history.n_pairs + pairs])
        solver_seconds += _run(model, highspy, rounds, len(row_keys))
        status = "Optimal"
        solution = model.getSolution()
        values = np.asarray(solution.col_value)
        objective = float(model.getInfo().objective_function_value)  # before rows go: that resets the info
        if settings.drop_slack_rows and len(row_keys):
            loose = _loose_rows(solution)
            if len(loose):
                model.deleteRows(len(loose), (loose + 1).astype(np.int32))
                row_keys = np.delete(row_keys, loose)
        alpha = _normalised(values[:n_categories])
        step_slack[:] = 0.0
        for t, column in step_column.items():
            step_slack[t] = values[column]
        pair_slack[:] = 0.0
        for p, column in pair_column.items():
            pair_slack[p] = values[column]
        round_log.append({"round": rounds, "added": len(steps), "violated": violated, "constraints": len(row_keys),
                          "objective": objective, "solver_seconds": solver_seconds, "scan_seconds": scan_seconds,
                          "alpha": alpha.tolist()})
        if progress is not None:
            progress(rounds, len(row_keys), objective)
    return LpSolution(
        alpha=alpha,
        status=status,
        objective=objective,
        constraints=len(row_keys),
        pair_variables=len(pair_column),
        rounds=rounds,
        converged=converged,
        solver_seconds=solver_seconds,
        scan_seconds=scan_seconds,
        active_steps=int(active.sum()),
        round_log=round_log,
    )


def _add_constraints(model, history: PairCountHistory, scale: np.ndarray, steps: np.ndarray, pairs: np.ndarray,
                     step_column: dict[int, int], pair_column: dict[int, int] | None, infinity: float) -> None:
    """Add the rows (and new slack columns) for constraints ``(steps[j], pairs[j])``; ``pair_column``
    None: no pair slack."""
    n_categories = history.n_categories
    merge_counts = history.counts_at(steps, history.merge_pair[steps])
    pair_counts = history.counts_at(steps, pairs)
    coefficients = (merge_counts - pair_counts) * scale[None, :]
    new_columns = 0
    first_new = model.getNumCol()
    for t in dict.fromkeys(steps.tolist()):
        if t not in step_column:
            step_column[t] = first_new + new_columns
            new_columns += 1
    for p in dict.fromkeys(pairs.tolist()) if pair_column is not None else ():
        if p not in pair_column:
            pair_column[p] = first_new + new_columns
            new_columns += 1
    if new_columns:
        model.addCols(new_columns, np.ones(new_columns), np.zeros(new_columns), np.full(new_columns, infinity),
                      0, np.zeros(new_columns, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    n_rows = len(steps)
    width = n_categories + (2 if pair_column is not None else 1)
    indices = np.empty((n_rows, width), dtype=np.int32)
    indices[:, :n_categories] = np.arange(n_categories, dtype=np.int32)[None, :]
    indices[:, n_categories] = [step_column[t] for t in steps.tolist()]
    if pair_column is not None:
        indices[:, n_categories + 1] = [pair_column[p] for p in pairs.tolist()]
    values = np.empty((n_rows, width), dtype=np.float64)
    values[:, :n_categories] = coefficients
    values[:, n_categories:] = 1.0
    starts = np.arange(n_rows, dtype=np.int32) * width
    model.addRows(n_rows, np.zeros(n_rows), np.full(n_rows, infinity), n_rows * width, starts,
                  indices.ravel(), values.ravel())


def _solve_intervals(model, highspy, history: PairCountHistory, scale: np.ndarray, settings: SolverSettings,
                     active: np.ndarray, progress) -> LpSolution:
    """The lazy solve over interval rows (:mod:`tokensmith.mixture.intervals`).

    Columns: ``alpha``, then ``v_t``, ``v_p`` and the tree's ``y_n`` as they are first needed. Rows after
    the simplex: tree rows (kept) and interval rows ``y_n + v_p - sum_i w_i c_i(p) >= 0`` (keyed
    ``p * 2 * size + n``; dropped when loose, added again if violated again).
    """
    from tokensmith.mixture.intervals import SegmentTree, constant_interval, pair_change_steps

    n_categories, n_steps = history.n_categories, history.n_steps
    tree = SegmentTree(n_steps, active)
    change_keys = pair_change_steps(history)
    bounds = interval_bounds(history)
    lp = _IntervalLp(model, highspy.kHighsInf, history, scale, tree, settings.pair_slack)
    alpha = np.full(n_categories, 1.0 / n_categories)
    step_slack = np.zeros(n_steps)
    pair_slack = np.zeros(history.n_pairs)
    no_rows = np.zeros(0, dtype=np.int64)
    solver_seconds = scan_seconds = objective = 0.0
    converged = False
    status = "not solved"
    round_log: list[dict] = []
    rounds = 0
    limits = _prefixes(n_steps, settings.prefix_factor, settings.first_prefix)
    phase = 0
    for rounds in range(1, settings.max_rounds + 1):
        started = time.perf_counter()
        while True:  # the first phase with a violation (the last phase ends the solve)
            limit = limits[phase]
            steps, pairs, violated = find_violations(
                history, alpha * scale, step_slack, pair_slack, active & (np.arange(n_steps) < limit), no_rows,
                per_step=settings.first_per_step if rounds == 1 else settings.per_step, max_new=settings.max_new,
                tolerance=settings.tolerance, only_violated=True, tree_levels=tree.levels, step_limit=limit,
                bounds=bounds,
            )
            if violated or phase == len(limits) - 1:
                break
            phase += 1
        added = 0
        if len(steps):
            first, end = constant_interval(change_keys, n_steps, steps, pairs)
            added = lp.add_interval_rows(steps, pairs, tree.largest_node(steps, first, np.minimum(end, limit)))
        scan_seconds += time.perf_counter() - started
        if rounds > 1 and violated == 0:
            converged = True
            break
        growth = added > settings.ipm_growth * (len(lp.row_keys) - added)  # the round's tree rows count as other
        method = "ipm" if added > settings.ipm_rows and growth else "simplex"
        solver_seconds += _run(model, highspy, rounds, lp.n_interval_rows, method)
        status = "Optimal"
        solution = model.getSolution()
        values = np.asarray(solution.col_value)
        objective = float(model.getInfo().objective_function_value)
        if settings.drop_slack_rows:
            lp.drop(_loose_rows(solution))
        alpha = _normalised(values[:n_categories])
        step_slack = lp.step_values(values)
        pair_slack = lp.pair_values(values)
        round_log.append({"round": rounds, "steps": limit, "added": added, "violated": violated, "method": method,
                          "constraints": lp.n_interval_rows, "tree_rows": lp.n_tree_rows, "objective": objective,
                          "solver_seconds": solver_seconds, "scan_seconds": scan_seconds, "alpha": alpha.tolist()})
        if progress is not None:
            progress(rounds, lp.n_interval_rows, objective)
    return LpSolution(
        alpha=alpha,
        status=status,
        objective=objective,
        constraints=lp.n_interval_rows,
        pair_variables=int((lp.pair_column >= 0).sum()),
        rounds=rounds,
        converged=converged,
        solver_seconds=solver_seconds,
        scan_seconds=scan_seconds,
        active_steps=int(active.sum()),
        round_log=round_log,
    )


def _prefixes(n_steps: int, factor: int, smallest: int) -> list[int]:
    """Step counts of the solve's phases, increasing, the last ``n_steps``."""
    limits = [n_steps]
    while factor > 1 and limits[-1] // factor >= max(smallest, 1):
        limits.append(limits[-1] // factor)
    return limits[::-1]


class _IntervalLp:
    """The rows and columns of the interval formulation in a HiGHS model (see ``_solve_intervals``)."""

    def __init__(self, model, infinity: float, history: PairCountHistory, scale: np.ndarray, tree,
                 pair_slack: bool):
        self.model, self.infinity, self.history, self.scale, self.tree = model, infinity, history, scale, tree
        self.pair_slack = pair_slack
        self.step_column = np.full(history.n_steps, -1, dtype=np.int64)
        self.pair_column = np.full(history.n_pairs, -1, dtype=np.int64)
        self.node_column = np.full(2 * tree.size, -1, dtype=np.int64)
        self.row_keys = np.zeros(0, dtype=np.int64)  # per row after the simplex: -1 tree row, else the key
        self.present: set[int] = set()

    @property
    def n_interval_rows(self) -> int:
        return len(self.present)

    @property
    def n_tree_rows(self) -> int:
        return len(self.row_keys) - len(self.present)

    def _new_columns(self, count: int, lower: float) -> np.ndarray:
        """Add ``count`` columns (cost 1 if ``lower`` is 0: slack; else free with cost 0)."""
        first = self.model.getNumCol()
        cost = 1.0 if lower == 0.0 else 0.0
        self.model.addCols(count, np.full(count, cost), np.full(count, lower), np.full(count, self.infinity), 0,
                           np.zeros(count, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        return np.arange(first, first + count, dtype=np.int64)

    def _add_rows(self, indices: list[np.ndarray], values: list[np.ndarray], keys: np.ndarray) -> None:
        """Rows ``sum values * columns >= 0``; ``indices[r]``, ``values[r]`` as equal-width 2-D blocks."""
        if not len(keys):
            return
        starts, index_parts, value_parts, offset = [], [], [], 0
        for block_indices, block_values in zip(indices, values, strict=True):
            n_rows, width = block_indices.shape
            starts.append(offset + np.arange(n_rows, dtype=np.int64) * width)
            offset += n_rows * width
            index_parts.append(block_indices.ravel())
            value_parts.append(block_values.ravel())
        n_rows = len(keys)
        self.model.addRows(n_rows, np.zeros(n_rows), np.full(n_rows, self.infinity), offset,
                           np.concatenate(starts).astype(np.int32), np.concatenate(index_parts).astype(np.int32),
                           np.concatenate(value_parts))
        self.row_keys = np.concatenate([self.row_keys, keys])

    def _step_terms(self, steps: np.ndarray, pairs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Columns and coefficients of ``u_t = v_t + sum_i w_i c_i(m_t)`` (minus ``sum_i w_i c_i(p)``)."""
        missing = np.unique(steps[self.step_column[steps] < 0])
        if len(missing):
            self.step_column[missing] = self._new_columns(len(missing), 0.0)
        n_categories = self.history.n_categories
        counts = self.history.counts_at(steps, self.history.merge_pair[steps])
        if pairs is not None:
            counts = counts - self.history.counts_at(steps, pairs)
        index = np.empty((len(steps), n_categories + 1), dtype=np.int64)
        index[:, :n_categories] = np.arange(n_categories)
        index[:, n_categories] = self.step_column[steps]
        value = np.empty_like(index, dtype=np.float64)
        value[:, :n_categories] = counts * self.scale[None, :]
        value[:, n_categories] = 1.0
        return index, value

    def _ensure_nodes(self, nodes: np.ndarray) -> None:
        """Give the inner nodes among ``nodes`` (and the inner nodes under them) a column and their tree
        rows ``y_child - y_n >= 0`` (``u_t - y_n >= 0`` for a leaf child)."""
        tree = self.tree
        frontier = np.unique(nodes[(nodes < tree.size) & (self.node_column[nodes] < 0)])
        created = []
        while len(frontier):
            created.append(frontier)
            children = np.concatenate([2 * frontier, 2 * frontier + 1])
            children = children[(children < tree.size) & tree.has_active(children)]
            frontier = np.unique(children[self.node_column[children] < 0])
        if not created:
            return
        new = np.unique(np.concatenate(created))  # a requested node may lie under another one
        self.node_column[new] = self._new_columns(len(new), -self.infinity)
        parents = np.concatenate([new, new])
        children = np.concatenate([2 * new, 2 * new + 1])
        keep = tree.has_active(children)
        parents, children = parents[keep], children[keep]
        inner = children < tree.size
        blocks_i = [np.stack([self.node_column[children[inner]], self.node_column[parents[inner]]], axis=1)]
        blocks_v = [np.tile([1.0, -1.0], (int(inner.sum()), 1))]
        index, value = self._step_terms(tree.leaf_step(children[~inner]))
        blocks_i.append(np.concatenate([index, self.node_column[parents[~inner]][:, None]], axis=1))
        blocks_v.append(np.concatenate([value, np.full((len(index), 1), -1.0)], axis=1))
        self._add_rows(blocks_i, blocks_v, np.full(len(parents), -1, dtype=np.int64))

    def add_interval_rows(self, steps: np.ndarray, pairs: np.ndarray, nodes: np.ndarray) -> int:
        """Rows ``y_n + v_p - sum_i w_i c_i(p, t) >= 0`` for new ``(pair, node)`` (on a leaf, ``y_n`` is
        ``u_t``); how many were added."""
        keys = pairs * (2 * self.tree.size) + nodes
        keys, first = np.unique(keys, return_index=True)
        fresh = np.array([key not in self.present for key in keys.tolist()], dtype=bool)
        keys, steps, pairs, nodes = keys[fresh], steps[first[fresh]], pairs[first[fresh]], nodes[first[fresh]]
        if not len(keys):
            return 0
        self._ensure_nodes(nodes)
        n_categories = self.history.n_categories
        if self.pair_slack:
            missing = np.unique(pairs[self.pair_column[pairs] < 0])
            if len(missing):
                self.pair_column[missing] = self._new_columns(len(missing), 0.0)
        leaf = nodes >= self.tree.size
        blocks_i, blocks_v = [], []
        for rows in (np.flatnonzero(~leaf), np.flatnonzero(leaf)):
            if rows is not None and leaf[rows].all() and len(rows):
                index, value = self._step_terms(steps[rows], pairs[rows])
            else:
                index = np.empty((len(rows), n_categories + 1), dtype=np.int64)
                index[:, :n_categories] = np.arange(n_categories)
                index[:, n_categories] = self.node_column[nodes[rows]]
                value = np.empty_like(index, dtype=np.float64)
                value[:, :n_categories] = -self.history.counts_at(steps[rows], pairs[rows]) * self.scale[None, :]
                value[:, n_categories] = 1.0
            if self.pair_slack:
                index = np.concatenate([index, self.pair_column[pairs[rows]][:, None]], axis=1)
                value = np.concatenate([value, np.ones((len(rows), 1))], axis=1)
            blocks_i.append(index)
            blocks_v.append(value)
        self._add_rows(blocks_i, blocks_v, np.concatenate([keys[~leaf], keys[leaf]]))
        self.present.update(keys.tolist())
        return len(keys)

    def drop(self, loose: np.ndarray) -> None:
        """Delete the loose interval rows among ``loose`` (row numbers after the simplex row)."""
        loose = loose[self.row_keys[loose] >= 0]
        if len(loose):
            self.model.deleteRows(len(loose), (loose + 1).astype(np.int32))
            self.present.difference_update(self.row_keys[loose].tolist())
            self.row_keys = np.delete(self.row_keys, loose)

    def step_values(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.step_column))
        has = self.step_column >= 0
        out[has] = values[self.step_column[has]]
        return out

    def pair_values(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.pair_column))
        has = self.pair_column >= 0
        out[has] = values[self.pair_column[has]]
        return out
