"""``tokensmith vocab``: vocabulary composition, overlap, morpheme alignment and under-trained tokens.

The CLI wiring calls :func:`run_vocab`; everything it prints is also written to results.json (section
``vocab``, see :mod:`tokensmith.metrics.vocab_section`).
"""

from __future__ import annotations

import os
from typing import Any

#: Rows shown in the script table (the rest are summed into "other scripts").
SCRIPT_ROWS = 12
#: Under-trained candidates shown per tokenizer.
CANDIDATE_ROWS = 20


def run_vocab(
    tokenizers: list[str],
    lexicon: str | None,
    morph: str | None,
    out: str | os.PathLike | None,
    force: bool,
    quiet: bool,
) -> dict[str, Any]:
    """Analyse the vocabularies of ``tokenizers``, print tables, write results.json to ``out``.

    Args:
        tokenizers: reference names or paths (see ``tokensmith.tokenizers.load_tokenizer``).
        lexicon: lexicon folder (``<lang>.txt``/``<lang>.dic``) for the language distribution, or None.
        morph: segmentation file (``word<TAB>seg1[, seg2...]``) for MorphScore, or None.
        out: results.json path, or None to only print.
        force: overwrite ``out``.
        quiet: print nothing.

    Returns:
        The results document (also written to ``out``).
    """
    from tokensmith.errors import InputError
    from tokensmith.io import check_file_writable
    from tokensmith.metrics.vocab_section import build_vocab_section
    from tokensmith.results import new_results, write_results
    from tokensmith.tokenizers import load_tokenizer

    if not tokenizers:
        raise InputError("no tokenizer given", "pass -t NAME (repeatable), e.g. -t gpt2 -t o200k")
    if out is not None:
        check_file_writable(out, force=force)  # refuse before any work
    loaded = [load_tokenizer(spec) for spec in tokenizers]
    section = build_vocab_section(loaded, lexicon_dir=lexicon, morph=morph)
    parameters = {"tokenizers": list(tokenizers), "lexicon": lexicon, "morph": morph}
    results = new_results("vocab", parameters, {"vocab": section})
    if not quiet:
        print_vocab(section)
    if out is not None:
        path = write_results(out, results, force=force)
        if not quiet:
            from tokensmith.tables import console

            console().print(f"wrote {path}")
    return results


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def print_vocab(section: dict[str, Any]) -> None:
    """Rich tables of a ``vocab`` section: kinds, scripts, languages, overlap, morphology, candidates."""
    from rich.table import Table

    from tokensmith.metrics.vocab_composition import KINDS, POSITIONS
    from tokensmith.tables import console

    out = console()
    entries = section["tokenizers"]
    names = list(entries)

    table = Table(title="Token kinds (% of vocabulary)")
    table.add_column("kind")
    for name in names:
        table.add_column(name, justify="right")
    table.add_row("vocabulary size", *(f"{entries[n]['composition']['vocab_size']:,}" for n in names))
    for kind in KINDS:
        table.add_row(kind, *(_pct(entries[n]["composition"]["kind_percent"][kind]) for n in names))
    for position in POSITIONS:
        table.add_row(
            f"position: {position}", *(_pct(entries[n]["composition"]["position_percent"][position]) for n in names)
        )
    out.print(table)

    totals: dict[str, float] = {}
    for name in names:
        for script, count in entries[name]["composition"]["script_counts"].items():
            totals[script] = totals.get(script, 0) + count
    shown = sorted(totals, key=lambda s: (-totals[s], s))[:SCRIPT_ROWS]
    table = Table(title="Tokens per script (count, % of vocabulary)")
    table.add_column("script")
    for name in names:
        table.add_column(name, justify="right")
    for script in shown:
        cells = []
        for name in names:
            composition = entries[name]["composition"]
            count = composition["script_counts"].get(script, 0)
            cells.append(f"{count:,} ({composition['script_percent'].get(script, 0.0):.1f}%)")
        table.add_row(script, *cells)
    rest = [s for s in totals if s not in shown]
    if rest:
        cells = []
        for name in names:
            composition = entries[name]["composition"]
            count = sum(composition["script_counts"].get(s, 0) for s in rest)
            cells.append(f"{count:,} ({sum(composition['script_percent'].get(s, 0.0) for s in rest):.1f}%)")
        table.add_row(f"other scripts ({len(rest)})", *cells)
    out.print(table)

    if all("languages" in entries[n]["composition"] for n in names):
        languages = sorted(
            {lang for n in names for lang in entries[n]["composition"]["languages"]["percent"]},
            key=lambda lang: (
                -sum(entries[n]["composition"]["languages"]["percent"].get(lang, 0) for n in names),
                lang,
            ),
        )
        table = Table(title="Languages of alphabetic tokens (% of alphabetic tokens, from lexicons)")
        table.add_column("language")
        for name in names:
            table.add_column(name, justify="right")
        for lang in languages:
            table.add_row(lang, *(_pct(entries[n]["composition"]["languages"]["percent"].get(lang)) for n in names))
        out.print(table)

    if section["overlap"]:
        table = Table(title="Vocabulary overlap (exact byte forms, special tokens excluded)")
        for column in ("a", "b", "|A|", "|B|", "shared", "Jaccard", "A in B", "B in A"):
            table.add_column(column, justify="right" if column[0] in "|sJAB" else "left")
        for pair in section["overlap"]:
            table.add_row(
                pair["a"], pair["b"], f"{pair['forms_a']:,}", f"{pair['forms_b']:,}", f"{pair['shared']:,}",
                f"{pair['jaccard']:.3f}", f"{100 * pair['share_of_a_in_b']:.1f}%",
                f"{100 * pair['share_of_b_in_a']:.1f}%",
            )  # fmt: skip
        out.print(table)

    if any("morphology" in entries[n] for n in names):
        table = Table(title="Morpheme alignment")
        for column in ("tokenizer", "MorphScore", "words", "boundary P", "R", "F1", "%pure (vocab)", "unalignable"):
            table.add_column(column, justify="left" if column == "tokenizer" else "right")
        for name in names:
            morph = entries[name].get("morphology")
            if morph is None:
                continue
            pure = entries[name].get("pure_vocabulary", {}).get("unique_percent")
            table.add_row(
                name,
                "n/a" if morph["morph_score"] is None else f"{morph['morph_score']:.3f}",
                f"{morph['morph_score_words']:,}",
                *(
                    "n/a" if morph[k] is None else f"{morph[k]:.3f}"
                    for k in ("boundary_precision", "boundary_recall", "boundary_f1")
                ),
                _pct(pure),
                f"{morph['unalignable']:,}",
            )
        out.print(table)
        skipped = next((entries[n]["morphology"]["segmentation"] for n in names if "morphology" in entries[n]), None)
        if skipped and skipped["skipped"]:
            out.print(f"segmentation lines skipped: {skipped['skipped']}")

    for name in names:
        under = entries[name].get("undertrained")
        if under is None:
            continue
        counts = under["counts"]
        table = Table(
            title=f"Under-trained candidates: {name} ({counts['candidates']:,}: {counts['impossible_utf8']} impossible "
            f"UTF-8, {counts['unreachable']} unreachable, {counts['leftover_merge']} leftover merges)"
        )
        for column in ("id", "token", "reason"):
            table.add_column(column)
        for candidate in under["candidates"][:CANDIDATE_ROWS]:
            table.add_row(str(candidate["id"]), repr(candidate["text"]), candidate["reasons"][0])
        out.print(table)
