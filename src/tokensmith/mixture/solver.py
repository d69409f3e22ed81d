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

HiGHS comes from ``highspy`` (extra ``mixture``); with ``v`` free the LP is always feasible and bounded,
so any other status is a solver failure and is reported, never turned into numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from tokensmith.errors import MissingDependencyError, TokensmithError
from tokensmith.mixture.constraints import find_violations
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
    """

    first_per_step: int = 5
    per_step: int = 10
    max_new: int = 1_000_000
    max_rounds: int = 200
    tolerance: float = 1e-4
    pair_slack: bool = True
    drop_slack_rows: bool = True


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


def _require_highspy():
    try:
        import highspy
    except ImportError:
        raise MissingDependencyError("mixture inference (the HiGHS LP solver)", ["highspy"], extra="mixture") from None
    return highspy


def solve_mixture(history: PairCountHistory, scale: np.ndarray, settings: SolverSettings | None = None,
                  progress=None) -> LpSolution:
    """Solve the LP for the categories of ``history``; ``scale[i]`` multiplies category ``i``'s counts.

    Raises:
        TokensmithError: the solver ends in a status other than optimal.
    """
    highspy = _require_highspy()
    settings = settings or SolverSettings()
    n_categories = history.n_categories
    scale = np.asarray(scale, dtype=np.float64)
    merge_counts = history.counts_at(np.arange(history.n_steps), history.merge_pair)
    active = (history.merge_pair >= 0) & (merge_counts.sum(axis=1) > 0)

    model = highspy.Highs()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("random_seed", 0)
    model.setOptionValue("threads", 1)
    infinity = highspy.kHighsInf
    for _ in range(n_categories):
        model.addCol(0.0, 0.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    model.addRow(1.0, 1.0, n_categories, np.arange(n_categories, dtype=np.int32), np.ones(n_categories))

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
        started = time.perf_counter()
        model.run()
        solver_seconds += time.perf_counter() - started
        model_status = model.getModelStatus()
        status = model.modelStatusToString(model_status)
        if model_status != highspy.HighsModelStatus.kOptimal:
            raise TokensmithError(
                f"the mixture LP ended with status {status!r} (round {rounds}, {len(row_keys)} constraints); "
                "no proportions are reported",
                "check that the categories' samples hold text the tokenizer was trained on, or lower --merges",
            )
        solution = model.getSolution()
        values = np.asarray(solution.col_value)
        objective = float(model.getInfo().objective_function_value)  # before rows go: that resets the info
        if settings.drop_slack_rows and len(row_keys):
            activity = np.asarray(solution.row_value)[1:]  # row 0 is the simplex
            dual = np.asarray(solution.row_dual)[1:]
            loose = np.flatnonzero((activity > 1e-7 * (1.0 + np.abs(activity))) & (np.abs(dual) <= 1e-12))
            if len(loose):
                model.deleteRows(len(loose), (loose + 1).astype(np.int32))
                row_keys = np.delete(row_keys, loose)
        alpha = np.clip(values[:n_categories], 0.0, None)
        alpha = alpha / alpha.sum() if alpha.sum() > 0 else np.full(n_categories, 1.0 / n_categories)
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
