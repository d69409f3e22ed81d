"""The byte-level commands: ``bpb --byte-level``, ``complete``, ``bytes`` and ``ensemble``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tokensmith.bytelm.beam import BeamParams, ByteLM
from tokensmith.bytelm.decoding import check_budget, complete_bytes, greedy_tokens, heal_tokens, prompt_tokens
from tokensmith.bytelm.lm import CausalTokenLM
from tokensmith.bytelm.vocab import END_OF_TEXT, vocabulary_from_tokenizer
from tokensmith.corpus.readers import CorpusReading
from tokensmith.errors import InputError

DEFAULT_BYTE_LEVEL_MAX_BYTES = 2_000  # a beam step per byte: ~0.3 model calls per byte


def open_byte_lm(model: str | Path, params: BeamParams, *, window: int | None = None) -> tuple[Any, ByteLM]:
    """Load a model (folder, .gguf, reference) and wrap it as a :class:`ByteLM` over its own tokenizer."""
    from tokensmith.transplant.models import load_model

    loaded = load_model(model)
    vocabulary = vocabulary_from_tokenizer(loaded.tokenizer)
    return loaded, ByteLM(CausalTokenLM(loaded, window=window), vocabulary, params)


def prompt_bytes(prompt: str) -> bytes:
    """UTF-8 bytes of a prompt given as text; a clear error for text that is not UTF-8."""
    try:
        return prompt.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            f"the prompt is not valid UTF-8 (character {error.start})",
            "pass text; the byte API (tokensmith.bytelm) accepts arbitrary bytes",
        ) from None


def _byte_label(outcome: int) -> str:
    if outcome == END_OF_TEXT:
        return "<end>"
    if 32 <= outcome < 127:
        return repr(chr(outcome))
    return f"0x{outcome:02X}"


def naive_next_byte_probs(byte_lm: ByteLM, prompt: bytes) -> np.ndarray:
    """What a token-level model says about the next byte after the prompt's canonical tokens: the mass of
    the tokens that start with each byte (tokenization bias included)."""
    vocabulary = byte_lm.vocabulary
    beam = byte_lm.from_tokens(prompt_tokens(vocabulary, prompt), vocabulary.text_prefix + prompt)
    return byte_lm.next_byte_probs(beam)


def run_bytes(model: str, prompt: str, top: int, params: BeamParams, exact_prompt: bool = False) -> dict[str, Any]:
    """``tokensmith bytes``: the next-byte distribution after a prompt, beside the naive token-level one."""
    from rich.table import Table

    from tokensmith.tables import console

    if top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    data = prompt_bytes(prompt)
    loaded, byte_lm = open_byte_lm(model, params)
    byte_level = byte_lm.next_byte_probs(byte_lm.beam_for_prompt(data, exact=exact_prompt))
    naive = naive_next_byte_probs(byte_lm, data) if data else byte_level
    table = Table(title=f"next byte after {prompt[-40:]!r} - {loaded.name}, K={params.beam_size}, prune {params.prune}")
    for column in ("rank", "byte-level", "p", "naive (token-level)", "p "):
        table.add_column(column, justify="right" if column.startswith("p") or column == "rank" else "left")
    byte_order = np.argsort(-byte_level, kind="stable")[:top]
    naive_order = np.argsort(-naive, kind="stable")[:top]
    for rank, (b, n) in enumerate(zip(byte_order, naive_order, strict=True), 1):
        table.add_row(str(rank), _byte_label(int(b)), f"{byte_level[b]:.4f}", _byte_label(int(n)), f"{naive[n]:.4f}")
    console().print(table)
    return {
        "byte_level": {_byte_label(int(b)): float(byte_level[b]) for b in byte_order},
        "naive": {_byte_label(int(n)): float(naive[n]) for n in naive_order},
    }


COMPLETERS = ("bytes", "greedy", "heal")


def run_complete(
    model: str,
    prompt: str,
    max_bytes: int,
    params: BeamParams,
    *,
    method: str = "bytes",
    sample: bool = False,
    temperature: float = 1.0,
    seed: int = 0,
    exact_prompt: bool = False,
    compare: bool = False,
) -> dict[str, str]:
    """``tokensmith complete``: continue a prompt byte by byte (or with a baseline); ``compare`` runs all."""
    from tokensmith.tables import console

    if method not in COMPLETERS:
        raise InputError(f"unknown completion method {method!r}", f"choose one of: {', '.join(COMPLETERS)}")
    data = prompt_bytes(prompt)
    check_budget(max_bytes)  # before the model loads
    _, byte_lm = open_byte_lm(model, params)
    chosen = COMPLETERS if compare else (method,)
    outputs: dict[str, str] = {}
    for name in chosen:
        if name == "bytes":
            completion = complete_bytes(
                byte_lm, data, max_bytes, sample=sample, temperature=temperature, seed=seed, exact_prompt=exact_prompt
            )
        else:
            baseline = greedy_tokens if name == "greedy" else heal_tokens
            completion = baseline(byte_lm.lm, byte_lm.vocabulary, data, max_bytes)
        outputs[name] = completion.text
        if compare:
            console().print(f"[bold]{name:>6}[/bold] {prompt!r} + {completion.text!r}", highlight=False)
        else:
            print(completion.text)
    return outputs


def run_byte_bpb(
    model: str,
    corpus_path: str | Path,
    params: BeamParams,
    *,
    max_bytes: int | None = DEFAULT_BYTE_LEVEL_MAX_BYTES,
    out: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    reading: CorpusReading | None = None,
    window: int | None = None,
):
    """``tokensmith bpb --byte-level``: byte-level bits per byte, beside the canonical token-level figure.

    The canonical tokens are scored with the byte-level scoring's context: ``window`` tokens at most, rolled
    by half a window (lm-eval's disjoint windows give a long document far less context, which a comparison
    would credit to the cover set).
    """
    from rich.table import Table

    from tokensmith.bytelm.scoring import byte_level_bits_per_byte
    from tokensmith.io import check_file_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, progress_bar
    from tokensmith.transplant.bpb import bits_per_byte
    from tokensmith.transplant.commands import _progress_callback, read_documents

    if out is not None:
        check_file_writable(out, force=force)
    documents, corpus_info = read_documents(corpus_path, max_bytes, reading)
    loaded, byte_lm = open_byte_lm(model, params, window=window)
    context = byte_lm.lm.window
    canonical = bits_per_byte(loaded, loaded.tokenizer, documents, window=context, stride=context // 2)
    with progress_bar(quiet) as progress:
        callback, _ = _progress_callback(progress, "byte-level scoring")
        score = byte_level_bits_per_byte(byte_lm, documents, progress=callback)
    table = Table(title=f"bits per byte - {loaded.name} on {Path(str(corpus_path)).name}")
    for column in ("scoring", "bytes", "bpb", "model calls/byte", "ms/byte"):
        table.add_column(column, justify="left" if column == "scoring" else "right")
    record = score.as_dict()
    table.add_row(
        f"byte-level (K={params.beam_size}, prune {params.prune})",
        f"{score.bytes:,}",
        f"{score.bits_per_byte:.4f}",
        f"{record['model_calls_per_byte']:.3f}",
        f"{record['ms_per_byte']:.1f}",
    )
    table.add_row("canonical tokens", f"{canonical.bytes:,}", f"{canonical.bits_per_byte:.4f}", "", "")
    if not quiet:  # (-q printed the table all the same)
        console().print(table)
    if out is not None:
        parameters = {
            "model": str(model),
            "corpus": str(corpus_path),
            "max_bytes": max_bytes,
            "window": context,
            "beam_size": params.beam_size,
            "prune": params.prune,
            "canonical": params.canonical,
        }
        section = {
            "model": loaded.name,
            "corpus": corpus_info,
            "byte_level": record,
            "canonical": canonical.as_dict(),
            "relative_difference": score.bits_per_byte / canonical.bits_per_byte - 1.0,
        }
        path = write_results(out, new_results("bpb", parameters, {"bytelm": section}), force=force)
        if not quiet:
            console().print(f"wrote {path}")
    return score, canonical


def run_ensemble(
    models: list[str],
    corpus_path: str | Path,
    params: BeamParams,
    *,
    weights: list[float] | None = None,
    max_bytes: int | None = DEFAULT_BYTE_LEVEL_MAX_BYTES,
    top: int = 10,
    out: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    reading: CorpusReading | None = None,
):
    """``tokensmith ensemble``: members' and mixture's bits per byte, and where the members disagree."""
    from rich.table import Table

    from tokensmith.bytelm.ensemble import checked_weights, ensemble_score
    from tokensmith.io import check_file_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, progress_bar
    from tokensmith.transplant.commands import _progress_callback, read_documents

    if len(models) < 2:
        raise InputError("an ensemble needs at least two models", "pass --model twice or more")
    checked_weights(weights, len(models))  # before the models load
    if top < 0:
        raise InputError(f"--top must be 0 or more, got {top}")
    if out is not None:
        check_file_writable(out, force=force)
    documents, corpus_info = read_documents(corpus_path, max_bytes, reading)
    members = []
    for spec in models:
        loaded, byte_lm = open_byte_lm(spec, params)
        name = loaded.name if all(loaded.name != n for n, _ in members) else f"{loaded.name}#{len(members) + 1}"
        members.append((name, byte_lm))
    with progress_bar(quiet) as progress:
        callback, _ = _progress_callback(progress, "ensemble scoring")
        result = ensemble_score(members, documents, weights=weights, top=top, progress=callback)
    table = Table(title=f"byte-level ensemble on {Path(str(corpus_path)).name} ({result.bytes:,} bytes)")
    table.add_column("model")
    table.add_column("bpb", justify="right")
    for name, value in result.bits_per_byte().items():
        table.add_row(name, f"{value:.4f}")
    where = Table(title=f"where they disagree most (Jensen-Shannon, bits; mean {result.mean_divergence_bits:.4f})")
    for column in ("JS", "context", *[f"{n}: top / p(actual)" for n in result.members]):
        where.add_column(column)
    for row in result.divergences:
        context = f"{row['before'][-16:]}[{row['actual']}]{row['after'][:8]}".replace("\n", "⏎")
        cells = [f"{m['top']['byte']} {m['top']['p']:.2f} / {m['p_actual']:.3f}" for m in row["members"].values()]
        where.add_row(f"{row['js_bits']:.3f}", context, *cells)
    if not quiet:
        console().print(table)
        console().print(where)
    if out is not None:
        parameters = {
            "models": models,
            "corpus": str(corpus_path),
            "max_bytes": max_bytes,
            "beam_size": params.beam_size,
            "prune": params.prune,
            "weights": result.weights,
        }
        section = {"corpus": corpus_info, **result.as_dict()}
        path = write_results(out, new_results("ensemble", parameters, {"ensemble": section}), force=force)
        if not quiet:
            console().print(f"wrote {path}")
    return result
