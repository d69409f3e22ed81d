"""`tokensmith train`: train a tokenizer on corpora, save it, and say how well it compresses held-out text.

A random :data:`HOLDOUT_SHARE` of the documents (up to :data:`HOLDOUT_BYTES`, drawn with the fixed
:data:`HOLDOUT_SEED`: the same corpus always gives the same split; a document drawn that would take the
sample past the budget is trained on) is kept out of training and used for the
summary's bytes/token, next to the same figure for any ``--compare`` tokenizer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokensmith.errors import INTERRUPTED

HOLDOUT_SHARE = 0.01
HOLDOUT_BYTES = 2_000_000
HOLDOUT_SEED = 0
#: The held-out rule as a checkpoint stores it: a checkpoint learnt on other documents (all of them, as
#: ``train_from_files`` reads them, or another sample) is not resumed here.
HOLDOUT_RULE = (f"{HOLDOUT_SHARE:.0%} at random (seed {HOLDOUT_SEED}), the documents that fit in "
                f"{HOLDOUT_BYTES:,} bytes (tokensmith train)")
#: What to do when training stops short of the vocabulary size asked, by the merge loop's stop reason.
SHORT_VOCABULARY_HINTS = {
    "no pair left to merge": "more, or more varied, training text gives more",
    "the most frequent pair is below min_frequency": "a lower --min-frequency or more training text gives more",
}
#: What the trainers' progress stages count (``progress(stage, done, total)``): none of them counts bytes.
STAGE_UNITS = {"count": "documents", "merge": "merges"}


class _HoldoutSplit:
    """Streams training documents and keeps a random :data:`HOLDOUT_SHARE` of them aside (up to
    ``max_bytes``); the training text is every other document.

    The draws come from a generator seeded afresh on every read, so a split is the same each time.
    (Every 100th document was held out: a corpus cycling through 4 languages gave a sample of one.)
    """

    def __init__(self, corpora: list, max_bytes: int) -> None:
        self.corpora = corpora
        self.max_bytes = max_bytes
        self.held_out: list[str] = []
        self.held_out_bytes = 0

    def __iter__(self) -> Iterator[str]:
        self.held_out, self.held_out_bytes = [], 0
        draws = random.Random(HOLDOUT_SEED)
        for corpus in self.corpora:
            for document in corpus.iter_documents():
                drawn = draws.random() < HOLDOUT_SHARE  # drawn for every document: the budget shifts no draw
                size = len(document.encode("utf-8")) if drawn else 0
                # only a document that fits the budget: a huge one drawn went out whole, past the budget
                # (most of a corpus of a few large documents, untrained)
                if drawn and self.held_out_bytes + size <= self.max_bytes:
                    self.held_out.append(document)
                    self.held_out_bytes += size
                    continue
                yield document


def held_out_figures(tokenizer, documents: list[str]) -> tuple[float | None, float | None]:
    """``(bytes/token, share of the tokens that are UNK)`` of ``tokenizer`` on ``documents`` (both None without
    tokens). The share and :func:`_overstated_compression` say when the first is no compression."""
    from tokensmith.metrics.stats import TokenStats, VocabularyFacts

    stats = TokenStats(VocabularyFacts.of(tokenizer, with_token_lengths=False), tokenizer=tokenizer.name,
                       corpus="held-out sample")
    if documents:
        stats.add_batch(documents, tokenizer.encode_batch(documents))
    if not stats.tokens:
        return None, None  # (an empty sample has no UNK share, not a share of 0)
    return stats.bytes / stats.tokens, stats.unk_tokens / stats.tokens


def _overstated_compression(name: str, unk_rate: float | None) -> str | None:
    """The warning for a tokenizer that turns much held-out text into UNK (a WordPiece or SentencePiece
    vocabulary without a script's letters): one UNK stands for a whole word, so its bytes/token looked
    like the best compression of all."""
    from tokensmith.measure import UNK_WARNING_RATE

    if unk_rate is None or unk_rate <= UNK_WARNING_RATE:
        return None
    return (f"{name} maps {unk_rate:.1%} of its tokens on the held-out sample to UNK: an UNK stands for any "
            "amount of text, so its held-out bytes/token overstates its compression")


@contextlib.contextmanager
def checkpoint_kept_on_interrupt(checkpoint: str | Path | None, *, resume: bool) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) during `train --checkpoint`: the checkpoint this run wrote (or resumed) is kept on
    purpose, so the line says so and how to go on, instead of the usual "nothing was written"."""
    def version() -> int | None:
        return Path(checkpoint).stat().st_mtime_ns if checkpoint is not None and Path(checkpoint).is_file() else None

    before = version()
    try:
        yield
    except KeyboardInterrupt:
        now = version()
        if now is None or (now == before and not resume):  # none, or an old one this run did not touch
            raise
        print(f"interrupted; the checkpoint {checkpoint} holds the merges learnt so far (nothing else was written): "
              "run the same command with --resume to continue", file=sys.stderr)
        raise SystemExit(INTERRUPTED) from None


def run_train(
    algorithm: str,
    corpora: list[str],
    vocab_size: int | None,
    out: str | Path,
    *,
    options: dict[str, Any] | None = None,
    compare: list[str] | None = None,
    results: str | Path | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    errors: str = "strict",
    field: str = "text",
    column: str = "text",
    force: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Train, save ``out/tokenizer.json`` (+ tiktoken ranks), print and return the summary.

    The folder ``out`` appears complete or not at all: it is built in a temporary folder beside it (with
    ``results`` when that lies inside it) and renamed into place at the end; with ``force`` an existing
    ``out`` is replaced as a whole, never mixed with the new files.

    Args:
        algorithm: a trainer name (``tokensmith.train.TRAINERS``).
        corpora: corpus specs (``PATH`` or ``LANG=PATH``; any format the corpus readers take).
        vocab_size: the final vocabulary size (None: the trainer's default, e.g. char's 4096 or its preset's).
        out: output folder (refused if it exists, unless ``force``; with ``force`` refused if it holds
            anything but tokenizer files and ``results``).
        options: trainer configuration fields (``pretokenizer``, ``min_frequency``...).
        compare: tokenizers whose held-out bytes/token is shown next to the new one's.
        results: also write a results.json with a ``train`` section here.
        checkpoint: merge-state checkpoint file, written during training (every trainer but parity, which refuses it).
        resume: continue from ``checkpoint`` when it exists (to the same or a larger vocabulary, on the
            same corpus); refused without ``checkpoint``.
        errors: undecodable bytes in the corpora: ``strict`` stops with an error, ``replace`` reads them as
            U+FFFD.
        field: the JSONL field holding the text (the readers' hint for a missing field names --field).
        column: the Parquet column holding the text.
    """
    from tokensmith.corpus import open_corpus
    from tokensmith.errors import CorpusError, InputError, OutputExistsError
    from tokensmith.io import atomic_folder, check_file_writable, check_folder_writable, path_inside
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, progress_bar, warn, warn_reading
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.train import make_trainer
    from tokensmith.train.api import (
        check_outputs_spare_inputs,
        corpus_fingerprint,
        parity_summary,
        run_trainer,
        summary_head,
    )
    from tokensmith.train.export import TOKENIZER_FILES

    options = dict(options or {})
    out = Path(out)
    if out.exists() and not force:
        raise OutputExistsError(out)
    results_inside = path_inside(results, out) if results is not None else None  # written with the folder
    replaceable = (*TOKENIZER_FILES, *(results_inside.parts[:1] if results_inside else ()))
    check_folder_writable(out, force=force, replaceable=replaceable)  # refuses an --out that is a file
    if results is not None:
        check_file_writable(results, force=force)
    if not corpora:
        raise InputError("no training text given", "pass --corpus PATH (repeat for more)")
    trainer = make_trainer(algorithm, vocab_size, **options)
    if algorithm == "parity" and "dev_errors" not in options:  # dev files are read as strictly as the corpora
        trainer = dataclasses.replace(trainer, dev_errors=errors)
    specs = _language_corpora(corpora) if algorithm == "parity" else corpora
    opened = [open_corpus(spec, field=field, column=column, errors=errors) for spec in specs]
    check_outputs_spare_inputs({"--checkpoint": checkpoint, "--results": results},
                               [path for corpus in opened for path in corpus.sources])
    baselines = [load_tokenizer(spec) for spec in compare or ()]
    per_language = algorithm == "parity"  # parity balances languages: it needs text per language
    if per_language:
        splits = {c.lang: _HoldoutSplit([c], HOLDOUT_BYTES // max(1, len(opened))) for c in opened}
        if len(splits) != len(opened):
            raise InputError("parity training needs one corpus per language",
                             "pass --corpus LANG=PATH once per language")
    split = _HoldoutSplit(opened, HOLDOUT_BYTES)
    started = time.perf_counter()
    with progress_bar(quiet) as progress:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if progress is None:
                return
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total or None, unit=STAGE_UNITS.get(stage, stage))
            progress.update(tasks[stage], completed=done, total=total or None)

        trained, resumed_from = run_trainer(
            trainer, algorithm, splits if per_language else split, progress=report, checkpoint=checkpoint,
            resume=resume, force=force, fingerprint=lambda: corpus_fingerprint([p for c in opened for p in c.sources]),
            reading=_reading_options(opened, field=field, column=column, errors=errors), out=out)
        if per_language:
            split.held_out = [d for part in splits.values() for d in part.held_out]
            split.held_out_bytes = sum(part.held_out_bytes for part in splits.values())
        elif resumed_from is not None:
            for _ in split:  # the merge state came from the checkpoint; only the held-out sample is read
                pass
    if trained.stats.documents == 0:
        raise CorpusError("the training corpus is empty", "check the --corpus paths")
    with atomic_folder(out, force=force, replaceable=replaceable) as staging:
        staged = trained.save(staging)  # (the empty staging folder is itself written as a whole)
        seconds = time.perf_counter() - started
        new_tokenizer = load_tokenizer(str(staged["tokenizer.json"]))
        held_out = {"documents": len(split.held_out), "bytes": split.held_out_bytes, "bytes_per_token": {},
                    "unk_rate": {}}
        for name, tokenizer in (("trained", new_tokenizer), *((b.name, b) for b in baselines)):
            held_out["bytes_per_token"][name], held_out["unk_rate"][name] = held_out_figures(tokenizer, split.held_out)
        stats = trained.stats
        summary = {
            **summary_head(trained, algorithm, trainer.vocab_size),
            "name": out.name,
            "seconds": round(seconds, 3),
            "merges_per_second": round(stats.merges / stats.merge_seconds) if stats.merge_seconds > 0 else None,
            "held_out": held_out,
            "files": {name: str(out / path.name) for name, path in sorted(staged.items())},
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(options.items())},
            # the files read, as measure lists them: a folder's every .txt/.jsonl/.parquet (a README.txt too)
            "corpora": [{"name": c.name, "lang": c.lang, "sources": [str(p) for p in c.sources], "sha256": c.sha256(),
                         **c.read_stats.record()} for c in opened],
            **parity_summary(stats),  # (the API's summary has it too)
        }
        warn_reading(summary["corpora"])
        if trained.vocab_size < trainer.vocab_size:  # the table's "(asked N)" is not printed with --quiet
            hint = SHORT_VOCABULARY_HINTS.get(stats.stop_reason)
            warn(f"the vocabulary holds {trained.vocab_size:,} tokens, not the {trainer.vocab_size:,} asked: "
                 f"{stats.stop_reason}" + (f" ({hint})" if hint else ""))
        for name, unk_rate in held_out["unk_rate"].items():
            overstated = _overstated_compression(name, unk_rate)
            if overstated is not None:
                warn(overstated)
        if results is not None:
            parameters = {"algorithm": algorithm, "corpora": list(corpora), "vocab_size": trainer.vocab_size,
                          "options": summary["options"], "compare": list(compare or ()),
                          "field": field, "column": column}
            document = new_results("train", parameters, {"train": {"summary": summary}})
            if results_inside is not None:
                write_results(staging / results_inside, document)
    if results is not None and results_inside is None:
        write_results(results, document, force=force)
    if not quiet:
        _print_summary(console(), summary)
    return summary


def _language_corpora(corpora: list[str]) -> list[str]:
    """parity's corpora with each plain folder (no ``LANG=``) taken as its ``<lang>.txt`` files, one
    ``LANG=PATH`` each, as :func:`~tokensmith.train.api.train_from_files` and ``--dev`` read a folder (a
    folder was one corpus of language 'und')."""
    from tokensmith.corpus.parallel import language_files
    from tokensmith.corpus.readers import parse_corpus_spec
    from tokensmith.errors import InputError

    specs = []
    for spec in corpora:
        lang, path = parse_corpus_spec(spec)
        if lang is not None or not Path(path).is_dir():
            specs.append(spec)
            continue
        files = language_files(Path(path))  # a README.txt is refused, not trained as a language
        if not files:
            raise InputError(f"no <lang>.txt files in {path}",
                             "parity needs text per language: a folder of <lang>.txt files, or LANG=PATH")
        specs.extend(f"{language}={file}" for language, file in files.items())
    return specs


def _reading_options(opened: list, *, field: str, column: str, errors: str) -> dict[str, str]:
    """The reading options that shape the training text of these corpora: ``--errors`` and the held-out rule
    always, ``--field`` when a file is JSONL, ``--column`` when one is parquet (a checkpoint is resumed only
    with the same ones)."""
    from tokensmith.corpus.readers import split_suffixes

    formats = {split_suffixes(path)[2] for corpus in opened for path in corpus.sources}
    options = {"errors": errors, "held_out": HOLDOUT_RULE}
    if "jsonl" in formats:
        options["field"] = field
    if "parquet" in formats:
        options["column"] = column
    return options


def _print_summary(out, summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"Trained {summary['algorithm']} tokenizer -> {summary['files'].get('tokenizer.json', '')}",
                  title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("vocabulary", f"{summary['vocab_size']:,} (asked {summary['requested_vocab_size']:,})")
    table.add_row("merges", f"{summary['merges']:,} ({summary['stop_reason']})")
    table.add_row("training text", f"{summary['corpus_bytes'] / 1e6:.1f} MB, {summary['documents']:,} documents")
    table.add_row("time", f"{summary['seconds']:.1f} s")
    if summary["merges_per_second"] is not None:
        table.add_row("merge speed", f"{summary['merges_per_second']:,} merges/s")
    held = summary["held_out"]
    for name, value in held["bytes_per_token"].items():
        shown = f"{value:.3f}" if value is not None else "n/a"
        table.add_row(f"held-out bytes/token: {name}", shown)
    if held["documents"]:
        table.add_row("held-out sample", f"{held['bytes'] / 1e3:.0f} kB, {held['documents']:,} documents")
    else:  # a small corpus: the random 1% drew none of its documents
        table.add_row("held-out sample", f"none ({HOLDOUT_SHARE:.0%} of {summary['documents']:,} documents drew none)")
    if "parity" in summary:
        chosen = summary["parity"]["merges_by_language"]
        table.add_row("merges chosen by", ", ".join(f"{lang} {count:,}" for lang, count in chosen.items()))
    out.print(table)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``--option KEY=VALUE`` flags as trainer settings; VALUE is JSON when it parses, else a string."""
    import json

    from tokensmith.errors import InputError

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--option {pair!r} is not KEY=VALUE", "e.g. --option max_token_length=16")
        try:
            options[key.replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.replace("-", "_")] = raw
    return options
