"""``run_mixture``: what the ``tokensmith mixture`` command calls (samples, inference, table, results.json).

Everything that can fail on bad input fails before any output is written: the output path is checked
first, then the tokenizer's merges, then every category is read once to choose its sample (keeping only
sizes); the samples are read again only to be counted. results.json is written atomically only once
the LP has an optimal solution.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokensmith.corpus.readers import CorpusReading
from tokensmith.errors import InputError
from tokensmith.mixture.infer import DEFAULT_MERGES, MixtureResult, infer_mixture, tokenizer_merges
from tokensmith.mixture.samples import sample_categories
from tokensmith.mixture.solver import SolverSettings
from tokensmith.tokenizers.base import Tokenizer

#: Default sample per category (UTF-8 bytes). The paper used 1 GB; see the README for the error vs size.
DEFAULT_SAMPLE_BYTES = 1_000_000


def run_mixture(
    tokenizer: str | Path | Tokenizer,
    categories: Mapping[str, str | Path],
    merges: int | None = None,
    sample_bytes: int = DEFAULT_SAMPLE_BYTES,
    out: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    *,
    seed: int = 0,
    normalization: str = "pairs",
    settings: SolverSettings | None = None,
    reading: CorpusReading = CorpusReading(),
) -> MixtureResult:
    """Infer the training-data mixture of ``tokenizer`` over ``categories`` and report it.

    Args:
        tokenizer: a reference name, a tokenizer path, or a loaded Tokenizer.
        categories: category name -> text path (file, directory or glob; any corpus format).
        merges: merges to replay (default: the first 30,000, or all if fewer).
        sample_bytes: UTF-8 bytes sampled per category (seeded).
        out: results.json path (``None``: print only).
        force: overwrite ``out``.
        quiet: no table, no progress.
        seed: sampling seed.
        normalization: ``pairs`` (the paper) or ``bytes`` (see ``NORMALIZATIONS``).
        reading: how the category files are read (``--field``, ``--column``, ``--errors``).

    Raises:
        InputError: fewer than two categories, an empty, binary or non-UTF-8 category, ``merges`` beyond the
            merge list, a tokenizer without merges, or ``out`` exists without ``force``.
        TokensmithError: the LP solver does not reach an optimal solution.
    """
    from tokensmith.io import check_file_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import warn_reading
    from tokensmith.tokenizers import load_tokenizer

    if out is not None:
        check_file_writable(out, force=force)
    if len(categories) < 2:
        raise InputError(f"mixture inference needs at least two categories, got {len(categories)}",
                         "pass --category NAME=PATH at least twice")
    if isinstance(sample_bytes, bool) or not isinstance(sample_bytes, int) or sample_bytes < 1:
        raise InputError(f"--sample-bytes must be a positive integer, got {sample_bytes!r}", "pass e.g. 1000000")
    loaded = load_tokenizer(tokenizer)
    available = len(tokenizer_merges(loaded))
    if merges is not None and (isinstance(merges, bool) or not isinstance(merges, int) or not 1 <= merges <= available):
        raise InputError(f"--merges {merges} is outside 1..{available} (the merges {loaded.name} has)",
                         f"pass --merges {min(DEFAULT_MERGES, available)} or fewer")
    samples = sample_categories(categories, sample_bytes, seed, reading)
    warn_reading({"name": name, **sample.read_stats} for name, sample in samples.items())
    result = infer_mixture(loaded, samples, merges=merges, normalization=normalization, settings=settings)
    if not quiet:
        print_mixture(result)
    if out is not None:
        parameters: dict[str, Any] = {
            "tokenizer": str(tokenizer) if not isinstance(tokenizer, Tokenizer) else loaded.name,
            "categories": {name: str(path) for name, path in categories.items()},
            "merges": result.merges_used,
            "sample_bytes": sample_bytes,
            "seed": seed,
            "normalization": normalization,
            "field": reading.field,
            "column": reading.column,
            "errors": reading.errors,
        }
        section = result.section()
        section["categories"] = [dict(entry, path=str(categories[entry["name"]])) for entry in section["categories"]]
        write_results(out, new_results("mixture", parameters, {"mixture": section}), force=force)
    return result


def print_mixture(result: MixtureResult) -> None:
    """The inferred shares as a rich table, with the solver's status underneath."""
    from rich.table import Table

    from tokensmith.tables import console

    table = Table(title=f"Inferred training mixture of {result.tokenizer} ({result.merges_used:,} merges)")
    table.add_column("category")
    table.add_column("share of bytes", justify="right")
    table.add_column("sample", justify="right")
    for stats in sorted(result.categories, key=lambda c: -result.proportions[c.name]):
        table.add_row(stats.name, f"{100 * result.proportions[stats.name]:.2f}%", f"{stats.sample_bytes:,} B")
    solution = result.solution
    table.caption = (
        f"HiGHS: {solution.status}{'' if solution.converged else ' (not converged)'}, "
        f"{solution.constraints:,} constraints, {solution.rounds} rounds, "
        f"{solution.solver_seconds + solution.scan_seconds:.1f} s; slack {solution.objective:.4g}; "
        f"pre-tokenization: {result.pretokenizer['description']}"
    )
    console().print(table)
