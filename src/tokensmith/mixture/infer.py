"""Data-mixture inference end to end: samples -> pre-token counts -> merge replay -> LP -> byte shares.

A category's documents are consumed once, batch by batch, into pre-token counts; only the counts are
kept, so with a streaming sample (:func:`tokensmith.mixture.sample_category`) memory follows the
number of distinct pre-tokens, not the size of the sample.

>>> result = infer_mixture(load_tokenizer("gpt2"), {"en": en_docs, "code": code_docs})   # doctest: +SKIP
>>> result.proportions                                                                    # doctest: +SKIP
{'en': 0.71, 'code': 0.29}
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tokensmith.errors import InputError, TokenizerFormatError
from tokensmith.mixture.history import build_history
from tokensmith.mixture.pretokenize import TokenizerSplitter, tokenizer_splitter
from tokensmith.mixture.replay import compile_kernels, merge_table, replay_merges, word_table
from tokensmith.mixture.solver import LpSolution, SolverSettings, solve_mixture
from tokensmith.registry import Registry
from tokensmith.tokenizers.base import Tokenizer

#: Merges replayed when the caller names no number (the paper's T).
DEFAULT_MERGES = 30000

#: How category counts are made comparable before the LP: ``pairs`` divides by the sample's pair
#: occurrences (the paper's text; the shares are then rescaled to bytes), ``bytes`` by its UTF-8 bytes
#: (the reference code's default ``byte_count``; alpha is then the byte share directly).
NORMALIZATIONS: Registry[str] = Registry("count normalisation")
NORMALIZATIONS.add("pairs", "counts / pair occurrences, shares rescaled by bytes / pairs")
NORMALIZATIONS.add("bytes", "counts / sample bytes")


@dataclass(frozen=True)
class CategoryStats:
    """What one category's sample held."""

    name: str
    sample_bytes: int
    documents: int
    pretokens: int
    distinct_pretokens: int
    pair_occurrences: int


@dataclass(frozen=True)
class MixtureResult:
    """Inferred byte shares of each category in the tokenizer's training data.

    Attributes:
        proportions: category -> share of training bytes (sums to 1).
        alpha: the LP's raw weights (share of pairs or of bytes, see ``normalization``).
    """

    tokenizer: str
    proportions: dict[str, float]
    alpha: dict[str, float]
    categories: list[CategoryStats]
    merges_used: int
    merges_available: int
    normalization: str
    pretokenizer: dict[str, Any]
    solution: LpSolution
    seconds: dict[str, float] = field(default_factory=dict)

    def section(self) -> dict[str, Any]:
        """The ``mixture`` section of results.json."""
        solution = self.solution
        return {
            "tokenizer": self.tokenizer,
            "categories": [
                {"name": c.name, "proportion": self.proportions[c.name], "alpha": self.alpha[c.name],
                 "sample_bytes": c.sample_bytes, "documents": c.documents, "pretokens": c.pretokens,
                 "distinct_pretokens": c.distinct_pretokens, "pair_occurrences": c.pair_occurrences}
                for c in self.categories
            ],
            "merges_used": self.merges_used,
            "merges_available": self.merges_available,
            "normalization": self.normalization,
            "pretokenizer": self.pretokenizer,
            "solver": {
                "name": "HiGHS (highspy)",
                "status": solution.status,
                "converged": solution.converged,
                "objective": solution.objective,
                "constraints": solution.constraints,
                "pair_variables": solution.pair_variables,
                "active_steps": solution.active_steps,
                "rounds": solution.rounds,
                "solver_seconds": round(solution.solver_seconds, 3),
                "scan_seconds": round(solution.scan_seconds, 3),
            },
            "seconds": {name: round(value, 3) for name, value in self.seconds.items()},
        }


def tokenizer_merges(tokenizer: Tokenizer) -> list[tuple[bytes, bytes]]:
    """The tokenizer's merges, or a clear error for models without them (WordPiece, Unigram).

    Raises:
        TokenizerFormatError: the tokenizer has no merge list.
    """
    merges = tokenizer.merges if tokenizer.info.model == "bpe" else None
    if not merges:
        raise TokenizerFormatError(
            f"{tokenizer.name} is a {tokenizer.info.model} tokenizer without BPE merges; mixture inference "
            "reads the training data's statistics from the order of BPE merges",
            "use a BPE tokenizer (tokenizer.json with model.type BPE, tiktoken ranks, Tekken, GGUF gpt2)",
        )
    return list(merges)


#: Categories replayed at once (threads; each holds one category's pair table).
REPLAY_THREADS = 2


def _replay_category(counts, table, n_merges: int):
    """One category's :class:`~tokensmith.mixture.replay.ReplayLog` (run on a replay thread)."""
    return replay_merges(word_table(counts.pretokens, counts.counts, table), table, n_merges)


class _MeasuredDocuments:
    """Passes documents on to the counting engine, adding up their UTF-8 bytes as they go by (so the
    sample's size is known without keeping the documents)."""

    def __init__(self, documents: Iterable[str]) -> None:
        self.documents = documents
        self.utf8_bytes = 0

    def __iter__(self) -> Iterator[str]:
        for document in self.documents:
            if isinstance(document, str):  # anything else is refused by the counting engine
                self.utf8_bytes += len(document.encode("utf-8"))
            yield document


def infer_mixture(tokenizer: Tokenizer, samples: Mapping[str, Iterable[str]], *, merges: int | None = None,
                  normalization: str = "pairs", settings: SolverSettings | None = None,
                  splitter: TokenizerSplitter | None = None, engine: str = "local",
                  workers: int | None = None, progress=None) -> MixtureResult:
    """Infer the byte shares of ``samples``' categories in ``tokenizer``'s training data.

    Args:
        tokenizer: a loaded BPE tokenizer (any format with merges).
        samples: category name -> its sample documents (at least two categories): a list, or any iterable
            read once, such as a :class:`~tokensmith.mixture.CategorySample` that streams from the files.
        merges: replay the first ``merges`` merges (default: up to :data:`DEFAULT_MERGES`).
        normalization: a name from :data:`NORMALIZATIONS`.
        settings: LP knobs (:class:`SolverSettings`).
        splitter: override the pre-tokenization derived from the tokenizer.
        engine, workers: pre-token counting engine (``tokensmith.train.count_pretokens``).
        progress: ``progress(stage, done, total)`` with stages ``count``, ``replay``, ``solve``.

    Raises:
        InputError: fewer than two categories, an empty sample, ``merges`` out of range.
        TokenizerFormatError: no merges, or a pre-tokenization that cannot be reconstructed.
        TokensmithError: the LP solver fails.
    """
    from tokensmith.train.counting import count_pretokens

    NORMALIZATIONS.get(normalization)
    if len(samples) < 2:
        raise InputError(f"mixture inference needs at least two categories, got {len(samples)}",
                         "pass --category NAME=PATH at least twice")
    all_merges = tokenizer_merges(tokenizer)
    n_merges = min(DEFAULT_MERGES, len(all_merges)) if merges is None else merges
    if isinstance(n_merges, bool) or not isinstance(n_merges, int) or not 1 <= n_merges <= len(all_merges):
        raise InputError(f"--merges {merges} is outside 1..{len(all_merges)} (the merges {tokenizer.name} has)",
                         f"pass --merges from 1 to {len(all_merges)} (without it: "
                         f"{min(DEFAULT_MERGES, len(all_merges))})")
    splitter = splitter or tokenizer_splitter(tokenizer)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    table = merge_table(all_merges[:n_merges], splitter.units)
    stats, logs = [], []
    compile_kernels()  # before the threads use them
    # Replays run on threads (their kernels release the GIL) while the next category is counted; only
    # counts wait in the queue, never text.
    pool = ThreadPoolExecutor(max_workers=REPLAY_THREADS)
    try:
        pending = []
        for name, documents in samples.items():
            t0 = time.perf_counter()
            measured = _MeasuredDocuments(documents)
            counts = count_pretokens(measured, splitter, engine=engine, workers=workers)
            seconds["count"] = seconds.get("count", 0.0) + time.perf_counter() - t0
            if counts.total == 0:
                raise InputError(f"category {name!r} has no text", "point the category at a non-empty text file")
            pending.append((name, measured.utf8_bytes, counts.documents, counts.total, len(counts),
                            pool.submit(_replay_category, counts, table, n_merges)))
            del counts
        t0 = time.perf_counter()
        for position, (name, utf8_bytes, documents, total, distinct, replay) in enumerate(pending):
            log = replay.result()
            logs.append(log)
            stats.append(CategoryStats(name, utf8_bytes, documents, total, distinct, log.pair_occurrences))
            if progress is not None:
                progress("replay", position + 1, len(samples))
        seconds["replay"] = time.perf_counter() - t0  # the replays still running after the last count
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    t0 = time.perf_counter()
    history = build_history(logs, table.merges[:n_merges])
    del logs
    seconds["history"] = time.perf_counter() - t0
    sample_bytes = np.array([max(c.sample_bytes, 1) for c in stats], dtype=np.float64)
    pair_totals = np.array([max(c.pair_occurrences, 1) for c in stats], dtype=np.float64)
    denominators = pair_totals if normalization == "pairs" else sample_bytes
    scale = denominators.mean() / denominators  # keeps coefficients on the scale of raw counts
    t0 = time.perf_counter()
    solution = solve_mixture(history, scale, settings,
                             progress=None if progress is None else lambda r, c, o: progress("solve", r, 0))
    seconds["solve"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    alpha = solution.alpha
    shares = alpha * sample_bytes / pair_totals if normalization == "pairs" else alpha.copy()
    shares = shares / shares.sum()
    names = [c.name for c in stats]
    return MixtureResult(
        tokenizer=tokenizer.name,
        proportions={name: float(v) for name, v in zip(names, shares, strict=True)},
        alpha={name: float(v) for name, v in zip(names, alpha, strict=True)},
        categories=stats,
        merges_used=n_merges,
        merges_available=len(all_merges),
        normalization=normalization,
        pretokenizer={"kind": splitter.kind, "units": splitter.units, "exact": splitter.exact,
                      "description": splitter.description},
        solution=solution,
        seconds=seconds,
    )
