"""The functions behind ``tokensmith bpb`` and ``tokensmith transplant``: load, compute, print, write.

Every check that can refuse the run (existing outputs, unknown method, unreadable corpus) happens
before the model is loaded, so a bad flag costs a second, not a minute.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokensmith.corpus.readers import CorpusReading
from tokensmith.transplant.bpb import DEFAULT_MAX_BYTES, BpbResult, bits_per_byte, take_bytes


def read_documents(corpus_path: str | Path, max_bytes: int | None,
                   reading: CorpusReading | None = None) -> tuple[list[str], dict[str, Any]]:
    """The first ``max_bytes`` of a corpus as documents (one per file, JSONL record or parquet row), read as
    ``reading`` says (default: the ``text`` field or column, strict UTF-8), plus a provenance record."""
    from tokensmith.corpus.readers import open_corpus
    from tokensmith.tables import warn_reading

    reading = reading or CorpusReading()
    corpus = open_corpus(str(corpus_path), doc_per="file", **reading.options())
    documents = take_bytes(corpus.iter_documents(), max_bytes)
    info = {
        "path": str(corpus_path),
        "sha256": corpus.sha256(),
        "max_bytes": max_bytes,
        "bytes": sum(len(d.encode("utf-8")) for d in documents),
        **reading.options(),
        **corpus.read_stats.record(),  # what reading changed (--errors replace) or skipped (empty records)
    }
    warn_reading([{"name": str(corpus_path), **info}])  # as measure, train and mixture warn of it
    return documents, info


def _model_record(model) -> dict[str, Any]:
    return {
        "name": model.name,
        "source": str(model.source),
        "format": model.format,
        "model_type": model.model_type,
        "tied": model.tied,
        "sha256": model.sha256,
        "embedding_rows": model.embedding_rows,
    }


def _tokenizer_record(tokenizer) -> dict[str, Any]:
    return {
        "name": tokenizer.name,
        "vocab_size": tokenizer.vocab_size,
        "sha256": tokenizer.sha256,
        "format": tokenizer.info.format,
    }


def _progress_callback(progress, label: str):
    if progress is None:
        return None, None
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update, task


def _score(model, tokenizer, documents, progress, label: str, window, stride) -> BpbResult:
    callback, _ = _progress_callback(progress, label)
    return bits_per_byte(model, tokenizer, documents, window=window, stride=stride, progress=callback)


def run_bpb(
    model: str | Path,
    tokenizer: str | Path | None,
    corpus_path: str | Path,
    out: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    *,
    window: int | None = None,
    stride: int | None = None,
    reading: CorpusReading | None = None,
) -> BpbResult:
    """``tokensmith bpb``: bits per byte and tokens per byte of a model on the first ``max_bytes`` of a corpus.

    Args:
        model: a model directory, a ``.gguf`` file or a reference name (``smollm2-135m``).
        tokenizer: a tokenizer spec (default: the model's own); its ids must fit the model's rows.
        corpus_path: text corpus (``.txt``/``.jsonl``/``.parquet``, possibly compressed; strict UTF-8).
        out: results.json to write (section ``bpb``).
        max_bytes: bytes of the corpus scored (None: all of it).
        reading: how the corpus files are read (``--field``, ``--column``, ``--errors``).
    """
    from rich.table import Table

    from tokensmith.io import check_file_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, progress_bar
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.transplant.models import load_model

    if out is not None:
        check_file_writable(out, force=force)
    documents, corpus_info = read_documents(corpus_path, max_bytes, reading)
    loaded = load_model(model)
    tok = loaded.tokenizer if tokenizer is None else load_tokenizer(tokenizer)
    with progress_bar(quiet) as progress:
        result = _score(loaded, tok, documents, progress, "scoring", window, stride)
    table = Table(title=f"bits per byte - {loaded.name} on {Path(str(corpus_path)).name}")
    for column in ("tokenizer", "bytes", "tokens", "bpb", "tokens/byte"):
        table.add_column(column, justify="left" if column == "tokenizer" else "right")
    table.add_row(
        tok.name,
        f"{result.bytes:,}",
        f"{result.tokens:,}",
        f"{result.bits_per_byte:.4f}",
        f"{result.tokens_per_byte:.4f}",
    )
    if not quiet:  # (-q printed the table all the same)
        console().print(table)
    if out is not None:
        parameters = {
            "model": str(model),
            "tokenizer": None if tokenizer is None else str(tokenizer),
            "corpus": str(corpus_path),
            "max_bytes": max_bytes,
            "window": result.window,
            "stride": result.stride,
        }
        section = {
            "model": _model_record(loaded),
            "tokenizer": _tokenizer_record(tok),
            "corpus": corpus_info,
            **result.as_dict(),
        }
        path = write_results(out, new_results("bpb", parameters, {"bpb": section}), force=force)
        if not quiet:
            console().print(f"wrote {path}")
    return result


def _row(method: str, report, after: BpbResult | None, before: BpbResult | None) -> dict[str, Any]:
    return {
        "method": method,
        "bpb": None if after is None else after.bits_per_byte,
        "bpb_original": None if before is None else before.bits_per_byte,
        "ratio": None if after is None or before is None else after.bits_per_byte / before.bits_per_byte,
        "tokens_per_byte": None if after is None else after.tokens_per_byte,
        "tokens_per_byte_original": None if before is None else before.tokens_per_byte,
        "copied": report.copied,
        "approximated": report.approximated,
        "fallback": report.fallback,
        "seconds": report.seconds,
    }


def _print_rows(title: str, rows: Sequence[dict[str, Any]]) -> None:
    from rich.table import Table

    from tokensmith.tables import console

    table = Table(title=title)
    columns = (
        "method",
        "bpb before",
        "bpb after",
        "ratio",
        "tokens/byte",
        "copied",
        "approximated",
        "fallback",
        "seconds",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "method" else "right")

    def number(value, digits=4):
        return "n/a" if value is None else f"{value:.{digits}f}"

    for row in rows:
        table.add_row(
            row["method"],
            number(row["bpb_original"]),
            number(row["bpb"]),
            number(row["ratio"], 3),
            number(row["tokens_per_byte"]),
            f"{row['copied']:,}",
            f"{row['approximated']:,}",
            f"{row['fallback']:,}",
            f"{row['seconds']:.1f}",
        )
    console().print(table)


def check_method_resources(method, donor, target_text) -> None:
    """Refuse a method whose donor or target text is missing, before any work."""
    from tokensmith.errors import TokensmithError

    if "donor" in method.needs and donor is None:
        raise TokensmithError(
            f"method {method.name!r} needs a donor: a model that already uses the new tokenizer",
            "pass --donor DIR (or --donor self to use the model's own FVT estimates), or use --method omp-aux",
        )
    if "target_text" in method.needs and target_text is None:
        raise TokensmithError(
            f"method {method.name!r} needs text in the new tokenizer's language or domain",
            "pass --target-text PATH (fastText is trained on it)",
        )


def _donor_argument(donor: str | Path | None):
    if donor is None or str(donor) == "self":
        return None if donor is None else "self"
    from tokensmith.transplant.models import load_model

    return load_model(donor)


def run_transplant(
    model: str | Path,
    tokenizer: str | Path,
    method: str,
    out_dir: str | Path,
    eval_path: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    donor: str | Path | None = None,
    target_text: str | Path | None = None,
    seed: int = 0,
    results_out: str | Path | None = None,
    window: int | None = None,
    stride: int | None = None,
    reading: CorpusReading | None = None,
) -> dict[str, Any]:
    """``tokensmith transplant``: move a model onto a new tokenizer, save it, and score it before and after.

    Args:
        model: model directory, ``.gguf`` or reference name.
        tokenizer: the new tokenizer (any spec ``load_tokenizer`` accepts that has an HF tokenizer.json form).
        method: init method name (``fvt``, ``tokenadapt``, ``omp-aux``...).
        out_dir: the model directory to write (refused if it exists, unless ``force``).
        eval_path: held-out text to score bits per byte on (original model + own tokenizer, then transplant).
        donor: for ``omp``: a model using the new tokenizer, or ``"self"``.
        target_text: text for ``focus`` (fastText is trained on it).
        results_out: results.json path (default ``out_dir/results.json`` when ``eval_path`` is given).
        reading: how ``eval_path`` and ``target_text`` are read (``--field``, ``--column``, ``--errors``).

    Returns:
        The ``transplant`` section written to results.json.
    """
    from tokensmith.io import check_file_writable, check_folder_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, progress_bar
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.transplant.apply import save_model_dir, transplant
    from tokensmith.transplant.methods import INIT_METHODS
    from tokensmith.transplant.models import load_model

    check_method_resources(INIT_METHODS.get(method), donor, target_text)  # fail now, not after loading the model
    check_folder_writable(out_dir, force=force)  # a file there was refused only once the model was transplanted
    if results_out is not None:
        check_file_writable(results_out, force=force)
    documents, corpus_info = read_documents(eval_path, max_bytes, reading) if eval_path is not None else (None, None)
    target_texts = None
    if target_text is not None:
        target_texts, _ = read_documents(target_text, None, reading)
    new_tokenizer = load_tokenizer(tokenizer)
    loaded = load_model(model)
    donor_model = _donor_argument(donor)
    with progress_bar(quiet) as progress:
        before = (
            _score(loaded, loaded.tokenizer, documents, progress, "original", window, stride) if documents else None
        )
        started = time.perf_counter()
        result = transplant(loaded, new_tokenizer, method, seed=seed, donor=donor_model, target_texts=target_texts)
        saved = save_model_dir(result.model, out_dir, force=force)
        result.report.seconds = round(time.perf_counter() - started, 3)
        after = (
            _score(result.model, result.tokenizer, documents, progress, "transplant", window, stride)
            if documents
            else None
        )
    row = _row(method, result.report, after, before)
    if not quiet:
        _print_rows(f"transplant {loaded.name} -> {new_tokenizer.name}", [row])
    section = {
        "model": _model_record(loaded),
        "tokenizer": _tokenizer_record(result.tokenizer),
        "corpus": corpus_info,
        "out_dir": str(saved),
        "report": result.report.as_dict(),
        "rows": [row],
    }
    parameters = {
        "model": str(model),
        "tokenizer": str(tokenizer),
        "method": method,
        "out_dir": str(out_dir),
        "eval": None if eval_path is None else str(eval_path),
        "max_bytes": max_bytes,
        "seed": seed,
        "donor": None if donor is None else str(donor),
    }
    results_path = results_out if results_out is not None else (Path(out_dir) / "results.json" if documents else None)
    if results_path is not None:
        path = write_results(results_path, new_results("transplant", parameters, {"transplant": section}), force=True)
        if not quiet:
            console().print(f"wrote {saved} and {path}")
    elif not quiet:
        console().print(f"wrote {saved}")
    return section


def run_compare(
    model: str | Path,
    tokenizer: str | Path,
    eval_path: str | Path,
    methods: Sequence[str] | None = None,
    out: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    donor: str | Path | None = None,
    target_text: str | Path | None = None,
    seed: int = 0,
    window: int | None = None,
    stride: int | None = None,
    reading: CorpusReading | None = None,
) -> dict[str, Any]:
    """``tokensmith transplant --compare``: every method on one model, tokenizer and held-out text (nothing saved
    but results.json). Methods whose resource is missing (omp without donor, focus without target text) are
    skipped with a note."""
    from tokensmith.errors import TokensmithError
    from tokensmith.io import check_file_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, progress_bar
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.transplant.apply import transplant
    from tokensmith.transplant.methods import INIT_METHODS
    from tokensmith.transplant.models import load_model

    names = list(methods) if methods else INIT_METHODS.names()
    for name in names:
        INIT_METHODS.get(name)
    if out is not None:
        check_file_writable(out, force=force)
    documents, corpus_info = read_documents(eval_path, max_bytes, reading)
    target_texts = read_documents(target_text, None, reading)[0] if target_text is not None else None
    new_tokenizer = load_tokenizer(tokenizer)
    loaded = load_model(model)
    donor_model = _donor_argument(donor)
    rows, skipped = [], {}
    # One auxiliary embedder for every method that needs it: its vectors are computed once.
    embedder = _shared_embedder(names)
    with progress_bar(quiet) as progress:
        before = _score(loaded, loaded.tokenizer, documents, progress, "original", window, stride)
        for name in names:
            try:
                result = transplant(
                    loaded,
                    new_tokenizer,
                    name,
                    seed=seed,
                    donor=donor_model,
                    target_texts=target_texts,
                    embedder=embedder,
                )
            except TokensmithError as err:
                skipped[name] = err.message
                continue
            after = _score(result.model, result.tokenizer, documents, progress, name, window, stride)
            rows.append(_row(name, result.report, after, before))
            del result
    if not quiet:
        _print_rows(f"transplant {loaded.name} -> {new_tokenizer.name} on {Path(str(eval_path)).name}", rows)
        for name, why in skipped.items():
            console().print(f"skipped {name}: {why}")
    section = {
        "model": _model_record(loaded),
        "tokenizer": _tokenizer_record(new_tokenizer),
        "corpus": corpus_info,
        "rows": rows,
        "skipped": skipped,
    }
    if out is not None:
        parameters = {
            "model": str(model),
            "tokenizer": str(tokenizer),
            "eval": str(eval_path),
            "methods": names,
            "max_bytes": max_bytes,
            "seed": seed,
            "donor": None if donor is None else str(donor),
        }
        write_results(out, new_results("transplant", parameters, {"transplant": section}), force=force)
    return section


def _shared_embedder(methods: Sequence[str]):
    """The auxiliary embedder, loaded once when any of ``methods`` needs it."""
    from tokensmith.transplant.methods import INIT_METHODS

    if any("embedder" in INIT_METHODS.get(name).needs for name in methods):
        from tokensmith.transplant.embedder import TransformerEmbedder

        return TransformerEmbedder()
    return None
