"""`tokensmith adapt`: from diagnosis to a transplanted model in one command.

1. split the user's text into training text and a held-out sample (one document of every
   :data:`HOLDOUT_EVERY`, at a seeded random position in each block, up to ``eval_bytes``);
2. train a new tokenizer on the training text (the model's special tokens kept, so chat markers and
   roles survive);
3. measure the model's tokenizer and the new one on the held-out text;
4. transplant the model onto the new tokenizer with the best available init method
   (:data:`METHOD_PREFERENCE`) and score bits per byte before and after on the held-out text;
5. write the model folder, ``results.json`` (measure + train + transplant sections), ``report.html``,
   and print a verdict: tokens saved per byte, and the bits-per-byte ratio.
"""

from __future__ import annotations

import importlib.util
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokensmith.errors import CorpusError, InputError, OutputExistsError, TokensmithError

HOLDOUT_EVERY = 20
#: Seed of the held-out draws: the same corpus always gives the same split.
HOLDOUT_SEED = 0
#: Tried in order; the first whose dependencies are installed is used ("best available").
METHOD_PREFERENCE = ("tokenadapt", "fvt")


@dataclass(frozen=True)
class AdaptConfig:
    """Everything `adapt` needs; CLI flags mirror these fields."""

    model: str
    corpus: str
    out: str
    lang: str | None = None
    algorithm: str = "bpe"
    vocab_size: int | None = None  # None: the model's own vocabulary size
    method: str | None = None  # None: the first available of METHOD_PREFERENCE
    eval_bytes: int = 20_000
    train_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    # how the corpus files are read, as measure and train read theirs
    field: str = "text"
    column: str = "text"
    errors: str = "strict"


def best_method() -> str:
    """The first method of :data:`METHOD_PREFERENCE` whose optional dependencies are installed."""
    for method in METHOD_PREFERENCE:
        if method == "tokenadapt":
            from tokensmith.transplant.embedder import default_embedder_dir

            try:
                default_embedder_dir()
            except Exception:  # noqa: BLE001 - no embedder package: fall back to the next method
                continue
        return method
    return METHOD_PREFERENCE[-1]


def _split(corpus, every: int, eval_bytes: int) -> tuple[list[str], list[str]]:
    """One document of every block of ``every`` held out, at a position drawn for each block: the 20th of
    each block gave a corpus cycling through languages or sources (with a period dividing ``every``) a
    sample of one of them."""
    training, held_out, held_bytes = [], [], 0
    draws = random.Random(HOLDOUT_SEED)
    chosen = 0
    for index, document in enumerate(corpus.iter_documents()):
        if index % every == 0:
            chosen = index + draws.randrange(every)
        head = ""
        if index == chosen and held_bytes < eval_bytes:
            # a long document is cut, not skipped: by bytes, as --eval-bytes counts, at a character boundary
            head = document.encode("utf-8")[: eval_bytes - held_bytes].decode("utf-8", errors="ignore")
        if head:
            held_out.append(head)
            held_bytes += len(head.encode("utf-8"))
        else:
            training.append(document)
    return training, held_out


def run_adapt(config: AdaptConfig, *, force: bool = False, quiet: bool = False) -> dict[str, Any]:
    """Run the whole pipeline; returns the verdict and where everything was written."""
    from tokensmith.corpus import open_corpus
    from tokensmith.io import write_text_atomic
    from tokensmith.measure import MeasureConfig, measure
    from tokensmith.report import render_report
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, print_measure, warn_reading
    from tokensmith.train import make_trainer
    from tokensmith.transplant.commands import check_method_resources, run_transplant
    from tokensmith.transplant.methods import INIT_METHODS
    from tokensmith.transplant.models import load_model

    out = Path(config.out)
    if out.exists() and not force:
        raise OutputExistsError(out)
    if config.eval_bytes <= 0:
        raise InputError(f"--eval-bytes must be positive, not {config.eval_bytes}")
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        from tokensmith.errors import MissingDependencyError

        raise MissingDependencyError("adapt (model transplant)", ("torch", "transformers"), "models")
    method = config.method or best_method()
    try:  # adapt has no donor model or target text to give: a method needing one fails now, not after training
        check_method_resources(INIT_METHODS.get(method), None, None)
    except TokensmithError as error:
        raise InputError(error.message, "choose another --method, or run `tokensmith transplant --method "
                         f"{method}` with --donor / --target-text on adapt's tokenizer") from None
    started = time.perf_counter()
    say = (lambda *_: None) if quiet else console().print
    corpus = open_corpus(config.corpus, lang=config.lang, field=config.field, column=config.column,
                         errors=config.errors)
    training, held_out = _split(corpus, HOLDOUT_EVERY, config.eval_bytes)
    warn_reading([{"name": corpus.name, **corpus.read_stats.record()}])  # as every command reading text does
    if not held_out or not training:
        raise CorpusError(f"{config.corpus} is too small to split into training and held-out text",
                          f"give at least {HOLDOUT_EVERY} documents (lines)")

    say(f"[bold]1/4[/bold] loading {config.model}")
    model = load_model(config.model)
    old_tokenizer = model.tokenizer
    options = dict(config.train_options)
    options.setdefault("special_tokens", tuple(s.text for s in old_tokenizer.special_tokens))
    # a char preset sizes the vocabulary itself; else the model's size is the default
    vocab_size = config.vocab_size or (None if options.get("preset") else old_tokenizer.vocab_size)
    trainer = make_trainer(config.algorithm, vocab_size, **options)
    vocab_size = trainer.vocab_size

    say(f"[bold]2/4[/bold] training a {config.algorithm} tokenizer ({vocab_size:,} tokens) on "
        f"{sum(len(d) for d in training) / 1e6:.1f} MB of {corpus.name}")
    out.mkdir(parents=True, exist_ok=True)
    train_started = time.perf_counter()
    trained = trainer.train(training)
    tokenizer_dir = out / "tokenizer"
    files = trained.save(tokenizer_dir, force=True)
    train_seconds = time.perf_counter() - train_started
    eval_file = out / "held_out.txt"
    write_text_atomic(eval_file, "\n".join(held_out) + "\n", force=True)

    say("[bold]3/4[/bold] measuring both tokenizers on the held-out text")
    new_spec = str(files.get("tokenizer.json", tokenizer_dir / "tokenizer.json"))
    from tokensmith.tokenizers import load_tokenizer

    new_tokenizer = load_tokenizer(new_spec, name=f"new-{config.algorithm}-{corpus.name}")
    measured = measure(MeasureConfig(tokenizers=(old_tokenizer, new_tokenizer),
                                     corpora=(f"{corpus.lang}={eval_file}",)))
    if not quiet:
        print_measure(measured)

    say(f"[bold]4/4[/bold] transplanting {model.name} onto the new tokenizer ({method}) and scoring bits per byte")
    model_dir = out / "model"
    transplant_section = run_transplant(config.model, new_spec, method, model_dir, eval_path=eval_file, force=True,
                                        quiet=quiet, max_bytes=config.eval_bytes, seed=config.seed,
                                        results_out=out / "transplant.json")
    row = transplant_section["rows"][0]
    tokens_per_byte = {t["name"]: measured.value("bytes_per_token", t["name"]) for t in measured.tokenizers}
    old_name, new_name = measured.tokenizers[0]["name"], measured.tokenizers[1]["name"]
    old_tpb, new_tpb = 1 / tokens_per_byte[old_name], 1 / tokens_per_byte[new_name]
    verdict = {
        "model": model.name,
        "method": method,
        "tokens_per_byte_before": old_tpb,
        "tokens_per_byte_after": new_tpb,
        "tokens_saved_per_byte": old_tpb - new_tpb,
        "tokens_saved_share": 1 - new_tpb / old_tpb,
        "bpb_before": row.get("bpb_original"),
        "bpb_after": row.get("bpb"),
        "bpb_ratio": row.get("ratio"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    train_summary = {
        "algorithm": config.algorithm, "name": "adapted", "vocab_size": trained.vocab_size,
        "requested_vocab_size": vocab_size, "merges": trained.stats.merges, "stop_reason": trained.stats.stop_reason,
        "documents": trained.stats.documents, "corpus_bytes": trained.stats.corpus_bytes,
        "seconds": round(train_seconds, 3),
        "held_out": {"documents": len(held_out), "bytes": sum(len(d.encode("utf-8")) for d in held_out),
                     "bytes_per_token": {"trained": tokens_per_byte[new_name], old_name: tokens_per_byte[old_name]}},
        "files": {name: str(path) for name, path in sorted(files.items())},
    }
    parameters = {"model": config.model, "corpus": config.corpus, "lang": corpus.lang, "algorithm": config.algorithm,
                  "vocab_size": vocab_size, "method": method, "eval_bytes": config.eval_bytes, "seed": config.seed,
                  "field": config.field, "column": config.column, "errors": config.errors}
    results = new_results("adapt", parameters, {
        "measure": measured.section(),
        "train": {"summary": train_summary},
        "transplant": {**transplant_section, "verdict": verdict},
    })
    # Render first: a results file that cannot be rendered must not be left behind half-done.
    page = render_report([results], title=f"adapt {model.name}", sources=[str(out / "results.json")])
    results_path = write_results(out / "results.json", results, force=True)
    report_path = write_text_atomic(out / "report.html", page, force=True)
    verdict.update({"results": str(results_path), "report": str(report_path), "model_dir": str(model_dir)})
    if not quiet:
        print_verdict(verdict)
    return verdict


def print_verdict(verdict: dict[str, Any]) -> None:
    from tokensmith.tables import console

    out = console()
    saved = verdict["tokens_saved_share"]
    out.print(f"[bold]verdict[/bold]: the new tokenizer uses {verdict['tokens_per_byte_after']:.3f} tokens/byte "
              f"instead of {verdict['tokens_per_byte_before']:.3f} ({100 * saved:+.1f}% tokens saved).")
    if verdict.get("bpb_ratio") is not None:
        out.print(f"bits per byte on held-out text: {verdict['bpb_before']:.3f} -> {verdict['bpb_after']:.3f} "
                  f"(ratio {verdict['bpb_ratio']:.2f}; {verdict['method']} init, no training). "
                  "A ratio above 1 is the quality the transplant costs before any fine-tuning.")
    out.print(f"model: {verdict['model_dir']}")
    out.print(f"report: {verdict['report']}")
