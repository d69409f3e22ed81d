"""Command-line interface: each subcommand is a few lines over one Python API function.

Errors a user can fix (``TokensmithError``) print one clear message and exit with code 2.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from tokensmith.errors import INTERRUPTED, TERMINATED, USER_ERROR, TokensmithError

DEFAULT_MAX_BYTES = 20_000  # bytes scored by `bpb` (token-level; the byte-level default is smaller)


#: --quiet of the commands that print a table or summary: nothing on stdout when it works (errors still
#: reach stderr); the results are in the files written.
QUIET_HELP = "Print no progress and no table (errors still go to stderr)."
#: --errors of the commands that read corpora.
ERRORS_HELP = "Non-UTF-8 input: 'strict' stops, 'replace' goes on with U+FFFD."
# How corpus files are read, declared once for every command that reads corpora (measure, train, mixture,
# adapt, bpb, ensemble, transplant), so that a JSONL or parquet corpus or a file with bad bytes is read the
# same way by each: `field: FieldOption = "text"`. (Most lacked them and could not read a JSONL corpus of
# another field.)
FieldOption = Annotated[str, typer.Option("--field", help="JSONL field holding the text (meta.text: nested).")]
ColumnOption = Annotated[str, typer.Option("--column",
                                           help="Parquet column holding the text (meta.text: in a struct).")]
ErrorsOption = Annotated[str, typer.Option("--errors", help=ERRORS_HELP)]
#: How the files of a parallel folder (--parallel, --dev) name their languages.
LANG_FILES_HELP = ("one per language, named by its BCP 47 tag; '_' separates subtags as '-' does (pt_BR.txt is "
                   "pt-BR, en_tr.txt is en-TR); a .txt file named otherwise is refused")

app = typer.Typer(
    name="tokensmith",
    help="Measure, train and transplant the tokenizers of language models - offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ls_app = typer.Typer(help="List what tokensmith knows: tokenizers, metrics.", no_args_is_help=True)
app.add_typer(ls_app, name="ls")


def _print_version(wanted: bool) -> None:
    if wanted:
        from tokensmith import __version__

        typer.echo(f"tokensmith {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print tokensmith's version and exit."),
) -> None:
    """Measure, train and transplant the tokenizers of language models - offline."""


@ls_app.command("tokenizers")
def ls_tokenizers() -> None:
    """Named offline reference tokenizers, their vocabulary size and whether each is installed."""
    from tokensmith.tables import print_references
    from tokensmith.tokenizers import list_references

    print_references(list_references())


@ls_app.command("metrics")
def ls_metrics() -> None:
    """Registered metrics with unit, direction and reference."""
    from tokensmith.metrics import METRICS
    from tokensmith.tables import print_metrics

    print_metrics(METRICS)


@app.command()
def measure(
    tokenizer: list[str] = typer.Option(..., "--tokenizer", "-t",
        help="Reference name, tokenizer file or directory; repeat for more."),
    corpus: list[str] | None = typer.Option(None, "--corpus", "-c",
        help="PATH or LANG=PATH (file, directory or glob); repeat for more."),
    # str, not Path, for the paths: Path("") is the current folder, so an empty one could not be refused
    parallel: str | None = typer.Option(None, "--parallel", metavar="<path>",
                                        help=f"Folder of line-aligned <lang>.txt files, {LANG_FILES_HELP}."),
    ref_lang: str | None = typer.Option(None, "--ref-lang",
                                        help="Reference language for token premiums (default: en)."),
    lang: list[str] | None = typer.Option(None, "--lang",
        help="Measure only these languages of --parallel (repeat, or comma-separated; default: all)."),
    baseline: str | None = typer.Option(None, "--baseline", help="Tokenizer for NSL (default: the first -t)."),
    pattern: str | None = typer.Option(None, "--pattern", help="Pre-tokenizer regex or preset for .tiktoken files."),
    backend: str = typer.Option("auto", "--backend",
                                help="'auto': the fastest encoder proven to give the same ids (fastokens where it "
                                     "can); 'reference': each format's own library only (tokenizers, tiktoken...)."),
    doc_per: str = typer.Option("line", "--doc-per", help="For .txt: one document per 'line' or per 'file'."),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    sample_bytes: int | None = typer.Option(None, "--sample-bytes",
        help="Measure a seeded sample of about this many bytes per corpus."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for --sample-bytes (default 0)."),
    alpha: float = typer.Option(2.5, "--alpha",
        help="Renyi efficiency order (the paper's 2.5; tokenization-scorer defaults to 3)."),
    lexicon: str | None = typer.Option(None, "--lexicon", metavar="<path>",
                                       help="Folder of <lang>.txt/.dic word lists: %valid."),
    morph: str | None = typer.Option(None, "--morph", metavar="<path>",
                                     help="Gold segmentations (word<TAB>morphs): MorphScore, %pure."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write results.json here."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Measure tokenizers on text: compression, fertility, premiums, parity, efficiency per language."""
    from tokensmith.errors import InputError
    from tokensmith.measure import MeasureConfig, run_measure

    if seed is not None and sample_bytes is None:
        raise InputError("--seed picks the sample of --sample-bytes; without it every document is measured",
                         "add --sample-bytes N, or drop --seed")
    config = MeasureConfig(
        tokenizers=tuple(tokenizer), corpora=tuple(corpus or ()), parallel=parallel,
        langs=tuple(tag.strip() for tags in lang for tag in tags.split(",") if tag.strip()) if lang else None,
        ref_lang=ref_lang, baseline=baseline, pattern=pattern, backend=backend, doc_per=doc_per, field=field,
        column=column, errors=errors, sample_bytes=sample_bytes, seed=seed or 0, renyi_alpha=alpha,
        lexicon=lexicon, morph=morph,
    )
    run_measure(config, out=out, force=force, quiet=quiet)


@app.command()
def report(
    results: list[Path] = typer.Argument(..., help="results.json files (from --out); several are merged."),
    out: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    title: str | None = typer.Option(None, "--title", help="Page heading."),
) -> None:
    """Render results files as one self-contained HTML page: charts, tables, token viewer, provenance."""
    from tokensmith.report import write_report

    typer.echo(f"wrote {write_report(results, out, force=force, title=title)}")


@app.command()
def train(
    corpus: list[str] = typer.Option(..., "--corpus", "-c", help="Training text: PATH or LANG=PATH; repeat for more."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for tokenizer.json and tiktoken ranks."),
    algorithm: str = typer.Option("bpe", "--algorithm", "-a", help="bpe, char, superword, parity or extend."),
    vocab_size: int | None = typer.Option(None, "--vocab-size", "-v",
        help="Final vocabulary size (default: the trainer's, 32000; char: 4096, or its --option preset's)."),
    pretokenizer: str | None = typer.Option(None, "--pretokenizer", help="Preset: gpt2, cl100k, o200k, llama3."),
    regex: str | None = typer.Option(None, "--regex", help="Custom pre-tokenizer regex (instead of a preset)."),
    split_digits: bool = typer.Option(False, "--split-digits", help="One token per digit."),
    min_frequency: int | None = typer.Option(None, "--min-frequency", help="Minimum pair count to merge."),
    special: list[str] | None = typer.Option(None, "--special", help="Special token; repeat for more."),
    base: str | None = typer.Option(None, "--base",
        help="extend: the BPE tokenizer to extend, a reference name or path (every id kept)."),
    option: list[str] | None = typer.Option(None, "--option", help="Other trainer setting KEY=VALUE (JSON value)."),
    compare: list[str] | None = typer.Option(None, "--compare", help="Tokenizer to compare on held-out text."),
    dev: Path | None = typer.Option(None, "--dev",
                                    help=f"parity: folder of line-aligned <lang>.txt dev text, {LANG_FILES_HELP}."),
    global_merges: int | None = typer.Option(None, "--global-merges", help="parity: classic merges first."),
    global_share: float | None = typer.Option(None, "--global-share",
        help="parity: fraction of the merges learnt as classic merges first (default 0.5; not with --global-merges)."),
    variant: str | None = typer.Option(None, "--variant", help="parity: base or window (the default)."),
    window_size: int | None = typer.Option(None, "--window-size", help="parity window: merges in the window (100)."),
    alpha: float | None = typer.Option(None, "--alpha", help="parity window: share of the window per language (2)."),
    engine: str | None = typer.Option(None, "--engine",
        help="Pre-token counting engine: local (processes, the default), serial or ray."),
    workers: int | None = typer.Option(None, "--workers", help="Counting workers (default: one per core)."),
    engine_address: str | None = typer.Option(None, "--engine-address",
        help="Ray cluster for --engine ray: host:port or ray://host:10001 (default: $RAY_ADDRESS, else a local Ray)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint",
                                           help="Merge-state checkpoint file (every trainer but parity)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from --checkpoint if it exists."),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    results: Path | None = typer.Option(None, "--results", help="Also write results.json (train section)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out / --results."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Train a tokenizer (byte-level BPE and variants) and save a tokenizer.json transformers loads."""
    from tokensmith.errors import InputError
    from tokensmith.train_command import checkpoint_kept_on_interrupt, parse_options, run_train

    options = parse_options(option or [])
    given = {"pretokenizer": pretokenizer, "regex": regex, "min_frequency": min_frequency, "base": base,
             "special_tokens": tuple(special) if special else None, "split_digits": split_digits or None,
             "dev": str(dev) if dev else None, "global_merges": global_merges, "global_share": global_share,
             "variant": variant, "window_size": window_size, "alpha": alpha,
             "engine": engine, "workers": workers, "engine_address": engine_address}
    flagged = {key: value for key, value in given.items() if value is not None}
    twice = sorted(set(flagged) & set(options))
    if twice:
        raise InputError(f"{twice[0]} is given twice: as --option {twice[0]}=... and by its own flag",
                         "give it once")
    options.update(flagged)
    with checkpoint_kept_on_interrupt(checkpoint, resume=resume):
        run_train(algorithm, list(corpus), vocab_size, out, options=options, compare=list(compare or ()),
                  results=results, checkpoint=checkpoint, resume=resume, errors=errors, field=field, column=column,
                  force=force, quiet=quiet)


@app.command()
def vocab(
    tokenizer: list[str] = typer.Option(..., "--tokenizer", "-t", help="Reference name or tokenizer path; repeat."),
    lexicon: Path | None = typer.Option(None, "--lexicon", help="Folder of <lang>.txt/.dic word lists."),
    morph: Path | None = typer.Option(None, "--morph", help="Gold segmentations (word<TAB>morphs) for MorphScore."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write results.json here."),
    force: bool = typer.Option(False, "--force"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """What vocabularies are made of: scripts, kinds, languages, overlap, under-trained tokens."""
    from tokensmith.vocab_command import run_vocab

    run_vocab(list(tokenizer), str(lexicon) if lexicon else None, str(morph) if morph else None, out, force, quiet)


@app.command()
def bpb(
    model: str = typer.Option(..., "--model", "-m", help="Model folder, .gguf file or reference (smollm2-135m)."),
    corpus: Path = typer.Option(..., "--corpus", "-c", help="Raw documents to score (one per line)."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", "-t", help="Tokenizer (default: the model's own)."),
    max_bytes: int = typer.Option(DEFAULT_MAX_BYTES, "--max-bytes", help="Score the first N bytes of the corpus."),
    window: int | None = typer.Option(None, "--window", help="Context window in tokens (default: the model's)."),
    stride: int | None = typer.Option(None, "--stride", help="Window stride in tokens."),
    byte_level: bool = typer.Option(False, "--byte-level",
        help="Score by next-byte probabilities (tokenizer-independent); --max-bytes defaults to 2000."),
    beam: int = typer.Option(5, "--beam", "-k", help="--byte-level: beam size K."),
    prune: float = typer.Option(0.05, "--prune", help="--byte-level: drop states under this share of the mass."),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    out: Path | None = typer.Option(None, "--out", "-o", help="Write results.json here."),
    force: bool = typer.Option(False, "--force"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Bits per byte (and tokens per byte) of a model on raw text, lm-eval's definition."""
    from tokensmith.corpus.readers import CorpusReading

    reading = CorpusReading(field, column, errors)
    if byte_level:
        from tokensmith.bytelm import BeamParams
        from tokensmith.bytelm.commands import DEFAULT_BYTE_LEVEL_MAX_BYTES, run_byte_bpb
        from tokensmith.errors import InputError

        if tokenizer is not None:
            raise InputError("--byte-level scores the model through its own tokenizer; --tokenizer is not used",
                             "leave out --tokenizer (or --byte-level)")
        if stride is not None:
            raise InputError("--byte-level rolls its context by half a --window; --stride is not used",
                             "leave out --stride; set the context with --window")
        budget = DEFAULT_BYTE_LEVEL_MAX_BYTES if max_bytes == DEFAULT_MAX_BYTES else max_bytes
        run_byte_bpb(model, corpus, BeamParams(beam, prune), max_bytes=budget, out=out, force=force, quiet=quiet,
                     reading=reading, window=window)
        return
    from tokensmith.transplant.commands import run_bpb

    run_bpb(model, tokenizer, corpus, out, force, quiet, max_bytes, window=window, stride=stride, reading=reading)


@app.command()
def complete(
    model: str = typer.Option(..., "--model", "-m", help="Model folder, .gguf file or reference (smollm2-135m)."),
    prompt: str = typer.Option(..., "--prompt", "-p", help="Text to continue; may end mid-token or in a space."),
    max_bytes: int = typer.Option(64, "--max-bytes", "-n", help="Bytes to generate at most."),
    method: str = typer.Option("bytes", "--method", help="bytes (no tokenization bias), greedy or heal."),
    compare: bool = typer.Option(False, "--compare", help="Run all three methods and print each."),
    sample: bool = typer.Option(False, "--sample", help="Sample bytes (seeded) instead of greedy."),
    temperature: float = typer.Option(1.0, "--temperature"),
    seed: int = typer.Option(0, "--seed"),
    beam: int = typer.Option(5, "--beam", "-k", help="Beam size K."),
    prune: float = typer.Option(0.05, "--prune", help="Drop beam states under this share of the mass."),
    exact_prompt: bool = typer.Option(False, "--exact-prompt", help="Read the whole prompt byte by byte."),
) -> None:
    """Continue a prompt byte by byte from exact next-byte probabilities (or a token-level baseline)."""
    from tokensmith.bytelm import BeamParams
    from tokensmith.bytelm.commands import run_complete

    run_complete(model, prompt, max_bytes, BeamParams(beam, prune), method=method, sample=sample,
                 temperature=temperature, seed=seed, exact_prompt=exact_prompt, compare=compare)


@app.command("bytes")
def next_bytes(
    model: str = typer.Option(..., "--model", "-m", help="Model folder, .gguf file or reference (smollm2-135m)."),
    prompt: str = typer.Option(..., "--prompt", "-p", help="Text before the byte to predict (may be empty)."),
    top: int = typer.Option(10, "--top", help="Bytes to list."),
    beam: int = typer.Option(5, "--beam", "-k", help="Beam size K."),
    prune: float = typer.Option(0.05, "--prune", help="Drop beam states under this share of the mass."),
    exact_prompt: bool = typer.Option(False, "--exact-prompt", help="Read the whole prompt byte by byte."),
) -> None:
    """The next-byte distribution after a prompt, beside what the token-level model naively says."""
    from tokensmith.bytelm import BeamParams
    from tokensmith.bytelm.commands import run_bytes

    run_bytes(model, prompt, top, BeamParams(beam, prune), exact_prompt=exact_prompt)


@app.command()
def ensemble(
    model: list[str] = typer.Option(..., "--model", "-m", help="A model; repeat (tokenizers may differ)."),
    corpus: Path = typer.Option(..., "--corpus", "-c", help="Raw documents to score (one per line)."),
    weight: list[float] | None = typer.Option(None, "--weight", "-w", help="Mixture weight per --model."),
    max_bytes: int = typer.Option(2_000, "--max-bytes", help="Score the first N bytes of the corpus."),
    top: int = typer.Option(10, "--top", help="Disagreements to list."),
    beam: int = typer.Option(5, "--beam", "-k", help="Beam size K."),
    prune: float = typer.Option(0.05, "--prune", help="Drop beam states under this share of the mass."),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    out: Path | None = typer.Option(None, "--out", "-o", help="Write results.json here."),
    force: bool = typer.Option(False, "--force"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Average models' next-byte distributions; bits per byte of each and of the mix, and where they disagree."""
    from tokensmith.bytelm import BeamParams
    from tokensmith.bytelm.commands import run_ensemble
    from tokensmith.corpus.readers import CorpusReading

    run_ensemble(list(model), corpus, BeamParams(beam, prune), weights=weight or None, max_bytes=max_bytes, top=top,
                 out=out, force=force, quiet=quiet, reading=CorpusReading(field, column, errors))


@app.command()
def transplant(
    model: str = typer.Option(..., "--model", "-m", help="Model folder, .gguf file or reference (smollm2-135m)."),
    tokenizer: str = typer.Option(..., "--tokenizer", "-t", help="The new tokenizer."),
    method: str = typer.Option("fvt", "--method", help="Init method: mean, random, multivariate, fvt, tokenadapt, "
                               "omp, omp-aux, focus."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Model folder to write (not with --compare)."),
    eval_path: Path | None = typer.Option(None, "--eval", help="Held-out text: bits per byte before and after."),
    compare: bool = typer.Option(False, "--compare", help="Run every method on --eval and print one table."),
    max_bytes: int = typer.Option(20_000, "--max-bytes", help="Bytes of --eval text to score."),
    donor: str | None = typer.Option(None, "--donor", help="omp: a model that uses the new tokenizer."),
    target_text: Path | None = typer.Option(None, "--target-text", help="focus: text to train fastText on."),
    seed: int = typer.Option(0, "--seed"),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    results: Path | None = typer.Option(None, "--results", help="results.json path (default: OUT/results.json)."),
    force: bool = typer.Option(False, "--force"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Move a model onto a new tokenizer without training and prove what it kept, in bits per byte."""
    from tokensmith.corpus.readers import CorpusReading
    from tokensmith.errors import InputError
    from tokensmith.transplant.commands import run_compare, run_transplant

    reading = CorpusReading(field, column, errors)  # of --eval and --target-text
    if compare:
        if eval_path is None:
            raise InputError("--compare needs held-out text", "pass --eval PATH")
        run_compare(model, tokenizer, eval_path, None, results, force, quiet, max_bytes=max_bytes, donor=donor,
                    target_text=target_text, seed=seed, reading=reading)
        return
    if out is None:
        raise InputError("no output folder", "pass --out DIR (or --compare to only score the methods)")
    run_transplant(model, tokenizer, method, out, eval_path, force, quiet, max_bytes=max_bytes, donor=donor,
                   target_text=target_text, seed=seed, results_out=results, reading=reading)


@app.command()
def mixture(
    tokenizer: str = typer.Option(..., "--tokenizer", "-t", help="A BPE tokenizer (reference or path)."),
    category: list[str] = typer.Option(..., "--category", help="NAME=PATH sample text of one category; repeat."),
    merges: int | None = typer.Option(None, "--merges", help="Replay the first N merges (default: the solver's)."),
    sample_bytes: int | None = typer.Option(None, "--sample-bytes", help="Bytes sampled per category."),
    seed: int = typer.Option(0, "--seed"),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    out: Path | None = typer.Option(None, "--out", "-o", help="Write results.json here."),
    force: bool = typer.Option(False, "--force"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Infer the proportions of languages / domains in a tokenizer's training data from its merges."""
    from tokensmith.corpus.readers import CorpusReading
    from tokensmith.errors import InputError
    from tokensmith.mixture.command import DEFAULT_SAMPLE_BYTES, run_mixture

    categories = {}
    for item in category:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--category {item!r} is not NAME=PATH", "e.g. --category en=english.txt")
        if name in categories:
            raise InputError(f"--category {name!r} is given twice ({categories[name]} and {path})",
                             "give each category its own NAME (one path may be a directory or a glob)")
        categories[name] = path
    # None, not 0, means "not given": 0 must reach run_mixture's check and be refused.
    run_mixture(tokenizer, categories, merges, DEFAULT_SAMPLE_BYTES if sample_bytes is None else sample_bytes,
                out, force, quiet, seed=seed, reading=CorpusReading(field, column, errors))


@app.command()
def adapt(
    model: str = typer.Option(..., "--model", "-m", help="Model folder, .gguf file or reference (smollm2-135m)."),
    corpus: str = typer.Option(..., "--corpus", "-c", help="Text of the target language or domain: PATH or LANG=PATH."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the model, tokenizer, results.json, report.html."),
    lang: str | None = typer.Option(None, "--lang", help="Language tag of the text."),
    algorithm: str = typer.Option("bpe", "--algorithm", "-a", help="Trainer for the new tokenizer."),
    vocab_size: int | None = typer.Option(None, "--vocab-size", "-v", help="Default: the model's vocabulary size."),
    method: str | None = typer.Option(None, "--method", help="Init method (default: best available)."),
    eval_bytes: int = typer.Option(20_000, "--eval-bytes", help="Held-out text scored in bits per byte."),
    option: list[str] | None = typer.Option(None, "--option", help="Trainer setting KEY=VALUE; repeat."),
    field: FieldOption = "text",
    column: ColumnOption = "text",
    errors: ErrorsOption = "strict",
    force: bool = typer.Option(False, "--force", help="Overwrite --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Measure, train a new tokenizer, transplant the model onto it, score it and write a report."""
    from tokensmith.adapt import AdaptConfig, run_adapt
    from tokensmith.train_command import parse_options

    config = AdaptConfig(model=model, corpus=corpus, out=str(out), lang=lang, algorithm=algorithm,
                         vocab_size=vocab_size, method=method, eval_bytes=eval_bytes,
                         train_options=parse_options(option or []), field=field, column=column, errors=errors)
    run_adapt(config, force=force, quiet=quiet)


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", "-o",
        help="Folder for results.json (the demo's own, rewritten)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
) -> None:
    """Embedded default: measure the references on Django catalogues + Python stdlib, adapt SmolLM2, report."""
    from tokensmith.demo import run_demo

    run_demo(out, quiet=quiet)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM (kill, timeout, a job scheduler) ends a command as Ctrl-C does: the output being built is
    removed and one line says so. Python's default ended the process at once, leaving the half-built
    ``.NAME.tmp-XXXX`` folder beside ``--out``. Yields the signals received (empty if none)."""
    received: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # main() called outside the main thread, where no handler can be set
        yield received
        return
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into one message and exit code 2."""
    with _terminate_as_interrupt() as terminated:
        return _run(argv, terminated)


def _run(argv: list[str] | None, terminated: list[int]) -> int:
    try:
        code = app(args=argv, standalone_mode=False)
    except TokensmithError as error:
        typer.echo(f"error: {error}", err=True)
        return USER_ERROR
    except KeyboardInterrupt:
        code = INTERRUPTED
    except SystemExit as exit_:  # a command that said itself why it stopped (train: its checkpoint is kept)
        code = int(exit_.code or 0)
        return TERMINATED if code == INTERRUPTED and terminated else code
    except Exception as error:
        # Usage errors arrive here in non-standalone mode. Typer may bundle its own copy of click,
        # so they are recognised by behaviour, not by class.
        if hasattr(error, "show") and hasattr(error, "exit_code"):
            error.show()
            return USER_ERROR
        if type(error).__name__ == "Abort":
            return 1
        raise
    if code == INTERRUPTED:  # Typer turns Ctrl-C into this exit code, returned (not raised) here
        typer.echo("interrupted; nothing was written", err=True)
        return TERMINATED if terminated else INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
