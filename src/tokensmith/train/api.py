"""The trainer registry and :func:`train_from_files`, the one call a command line needs.

Each trainer is a frozen dataclass (its configuration) with ``train(documents, progress=None)`` returning
a trained result that has ``save(directory)``, ``vocab_size`` and ``stats``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import time
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError, OutputExistsError
from tokensmith.io import check_file_writable, check_folder_writable, path_inside
from tokensmith.registry import Registry
from tokensmith.settings import UNFIT, described_kinds, fitted_setting
from tokensmith.train.bpe import BpeTrainer, CharTrainer, ProgressCallback
from tokensmith.train.export import TOKENIZER_FILES
from tokensmith.train.extend import ExtendTrainer
from tokensmith.train.parity import ParityTrainer
from tokensmith.train.superword import SuperwordTrainer

TRAINERS: Registry[type] = Registry("training algorithm")
TRAINERS.add("bpe", BpeTrainer)
TRAINERS.add("char", CharTrainer)
TRAINERS.add("extend", ExtendTrainer)
TRAINERS.add("superword", SuperwordTrainer)
TRAINERS.add("parity", ParityTrainer)

#: Trainers whose runs can write a checkpoint and resume from it.
RESUMABLE = ("bpe", "char", "superword", "extend")

#: A language tag before ``=`` in a ``LANG=PATH`` corpus argument (BCP-47-like: en, pt-BR, zh-Hant, sr_Latn).
_LANG_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")


def make_trainer(algorithm: str, vocab_size: int | None, /, **options) -> object:
    """The configuration object of ``algorithm``; unknown options are an :class:`InputError`.

    ``vocab_size`` None leaves it to the trainer (its default, or what its options imply, e.g. char's preset).
    """
    trainer_class = TRAINERS.get(algorithm)
    known = {f.name for f in dataclasses.fields(trainer_class)}
    if "vocab_size" in options:
        raise InputError("the vocabulary size is not an option", "give it as --vocab-size N (vocab_size=N in Python)")
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(
            f"the {algorithm} trainer has no option {', '.join(map(repr, unknown))}",
            f"its options are: {', '.join(sorted(known - {'vocab_size'}))}",
        )
    hints = typing.get_type_hints(trainer_class)
    checked = {name: _checked_option(algorithm, name, value, hints[name]) for name, value in options.items()}
    sized = {} if vocab_size is None else {"vocab_size": vocab_size}
    return trainer_class(**sized, **checked)


#: What a setting of each Python type is called, for the error that names it.
_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string (in JSON quotes "
               "if it looks like a number)", tuple: "a list of strings"}


def _checked_option(algorithm: str, name: str, value: Any, hint: Any) -> Any:
    """``value`` held as the type ``hint`` of the trainer's field (a list stands for a tuple of strings, ``3.0``
    for 3), else an :class:`InputError`: an option given as the wrong JSON type (``split_digits="no"``,
    ``engine=5``) must not be misread or crash deep inside the trainer."""
    held = fitted_setting(value, hint, whole_floats=True)
    if held is UNFIT:
        raise InputError(f"the {algorithm} trainer's option {name} must be {described_kinds(hint, _TYPE_NAMES)}, "
                         f"not {value!r}", f"e.g. --option {name}=... with a JSON value")
    return held


#: How :func:`train_from_files` reads its files, as its checkpoints store it (``tokensmith train`` reads
#: them otherwise and holds documents out: neither resumes the other's checkpoint).
LINES_READING = {"errors": "replace", "held_out": "none (train_from_files)"}


def read_lines(paths: list[str | Path]) -> Iterator[str]:
    """Every non-empty line of the UTF-8 text files, without its line break, one document each.

    (A stand-in until the corpus readers are wired in; undecodable bytes become U+FFFD; ``.gz``, ``.zst``,
    ``.xz`` and ``.bz2`` files are decompressed; a byte order mark at the start is dropped, as the corpus
    readers drop it.)
    """
    import io

    from tokensmith.corpus.readers import open_binary

    for path in paths:
        with io.TextIOWrapper(open_binary(Path(path)), encoding="utf-8-sig", errors="replace", newline="") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if line:
                    yield line


def language_paths(paths: list[str]) -> dict[str, list[Path]]:
    """Training files per language for the parity trainer.

    Each item is ``LANG=PATH`` (a file), or a folder whose ``<lang>.txt`` files each give one language
    (e.g. ``/data/mono``; restrict it with the trainer's ``langs``).

    Raises:
        InputError: an item is neither, or a file is missing.
    """
    from tokensmith.corpus.language_tags import canonical_language
    from tokensmith.corpus.parallel import language_files

    found: dict[str, list[Path]] = {}
    for item in paths:
        tag, sep, rest = str(item).partition("=")
        if sep and _LANG_TAG.fullmatch(tag):
            path = Path(rest)
            if not path.is_file():
                raise InputError(f"corpus file not found: {rest} (for language {tag})",
                                 "give each language as LANG=PATH to an existing UTF-8 text file")
            found.setdefault(canonical_language(tag), []).append(path)
        elif Path(item).is_dir():
            # as --dev and --parallel folders: pt_BR.txt is pt-BR, a README.txt is refused, not a language
            files = language_files(Path(item))
            if not files:
                raise InputError(f"no <lang>.txt files in {item}", "give a folder of <lang>.txt files or LANG=PATH")
            for lang, path in files.items():
                found.setdefault(lang, []).append(path)
        else:
            raise InputError(
                f"the parity trainer needs the language of every corpus file, got {item!r}",
                "give each file as LANG=PATH (e.g. de=/data/mono/de.txt) or a folder of <lang>.txt files",
            )
    return found


def check_outputs_spare_inputs(outputs: dict[str, str | Path | None], corpus_files: Iterable[str | Path]) -> None:
    """Refuse an output file (``{flag: path}``, e.g. the checkpoint) that is one of the corpus files or another
    output, before anything is read: written once training is done, it replaced the corpus (with force) or
    the other output.

    Raises:
        InputError: naming both.
    """
    def same(path: str | Path) -> Path:
        return Path(path).expanduser().resolve()

    corpus = {same(path): path for path in corpus_files}
    seen: dict[Path, str] = {}
    for flag, path in outputs.items():
        if path is None:
            continue
        if same(path) in corpus:
            raise InputError(f"{flag} {path} is the corpus file {corpus[same(path)]}: writing it would replace "
                             "the training text", f"give {flag} another path")
        if same(path) in seen:
            raise InputError(f"{seen[same(path)]} and {flag} are the same file {path}: one would replace the other",
                             f"give {flag} another path")
        seen[same(path)] = flag


def corpus_fingerprint(paths: list[Path]) -> str:
    """sha256 over the files' contents in order (what a checkpoint remembers of its corpus)."""
    from tokensmith.corpus.readers import file_sha256

    return hashlib.sha256("\n".join(file_sha256(Path(p)) for p in paths).encode()).hexdigest()


def run_trainer(trainer, algorithm: str, documents, *, progress: ProgressCallback | None = None,
                checkpoint: str | Path | None = None, resume: bool = False, force: bool = False,
                checkpoint_seconds: float = 60.0, fingerprint: Callable[[], str] | None = None,
                reading: dict | None = None, out: str | Path | None = None) -> tuple:
    """Run ``trainer`` on ``documents``, writing or resuming ``checkpoint``: the one place that guards them.

    Both :func:`train_from_files` and ``tokensmith train`` come through here, so a checkpoint request is
    refused the same way wherever it is made.

    Args:
        trainer: the configuration object of ``algorithm`` (:func:`make_trainer`).
        documents: what ``trainer.train`` reads; not read at all when resuming from an existing checkpoint.
        fingerprint: computes the corpus fingerprint stored in (and checked against) the checkpoint;
            called only when a checkpoint is used.
        reading: the options the corpus files are read with (``--field``, ``--column``, ``--errors``),
            stored in and checked against the checkpoint as well: the same files read otherwise are
            other text.
        out: the output folder the result is saved to; a checkpoint inside it is refused (the folder is
            written as a whole once training ends, and replaced as a whole with ``force``).

    Returns:
        ``(trained, resumed_from)``: the trained result, and the merges the checkpoint held when the run
        resumed from one (else None).

    Raises:
        InputError: ``resume`` without ``checkpoint``; a checkpoint for a trainer not in :data:`RESUMABLE`;
            a checkpoint inside ``out``; an existing checkpoint when neither resuming nor forcing; a checkpoint
            of other settings, another corpus or other reading options - all before any training.
    """
    if resume and checkpoint is None:
        raise InputError("resume needs the checkpoint to continue from",
                         "pass checkpoint=PATH (--checkpoint PATH) as well")
    if checkpoint is None:
        return trainer.train(documents, progress=progress), None
    if algorithm not in RESUMABLE:
        raise InputError(f"the {algorithm} trainer cannot write checkpoints or resume",
                         f"checkpoints work with: {', '.join(RESUMABLE)}")
    if out is not None and path_inside(checkpoint, out) is not None:
        raise InputError(f"checkpoint {checkpoint} is inside the output folder {out}, which is written as a whole",
                         "put the checkpoint outside the output folder")
    # a folder, a device or a place that cannot be written, refused now rather than at the first save, minutes
    # into the training (an existing file is dealt with below)
    check_file_writable(checkpoint, force=True)
    corpus_id = fingerprint() if fingerprint is not None else None
    if resume and Path(checkpoint).is_file():
        from tokensmith.train.merge_core import load_checkpoint_metadata

        resumed_from = load_checkpoint_metadata(checkpoint).get("merges")
        trained = trainer.resume(checkpoint, progress=progress, checkpoint_seconds=checkpoint_seconds,
                                 corpus_fingerprint=corpus_id, corpus_reading=reading)
        return trained, resumed_from
    if Path(checkpoint).exists() and not force and not resume:
        raise InputError(f"checkpoint {checkpoint} already exists",
                         "pass resume=True (--resume) to continue from it, force=True (--force) to start "
                         "afresh, or choose another checkpoint path")
    trained = trainer.train(documents, progress=progress, checkpoint=checkpoint, checkpoint_seconds=checkpoint_seconds,
                            corpus_fingerprint=corpus_id, corpus_reading=reading)
    return trained, None


def summary_head(trained, algorithm: str, vocab_size: int) -> dict:
    """What every training summary starts with: the trainer, the vocabulary reached and asked for (the
    trainer's ``vocab_size``: a char preset's, not a default it replaced), the merges and why they
    stopped, and the training text."""
    stats = trained.stats
    return {"algorithm": algorithm, "vocab_size": trained.vocab_size, "requested_vocab_size": vocab_size,
            "merges": stats.merges, "stop_reason": stats.stop_reason, "documents": stats.documents,
            "corpus_bytes": stats.corpus_bytes}


def parity_summary(stats) -> dict:
    """``{"parity": ...}``, what the parity rule did (languages, merges each chose, dev-set lengths before
    and after), for the summaries of a parity run; ``{}`` for the other trainers."""
    if not getattr(stats, "languages", ()):
        return {}
    return {"parity": {"languages": list(stats.languages), "merges_by_language": stats.merges_by_language,
                       "dev_tokens_before": stats.dev_tokens_before, "dev_tokens_after": stats.dev_tokens_after}}


def train_from_files(algorithm: str, paths: Iterable[str | Path] | str | Path, vocab_size: int | None, out_dir: str, *,
                     force: bool = False, progress: ProgressCallback | None = None,
                     checkpoint: str | None = None, resume: bool = False, checkpoint_seconds: float = 60.0,
                     **options) -> dict:
    """Train ``algorithm`` on text files and save the result into ``out_dir``.

    Args:
        algorithm: a name from :data:`TRAINERS` (``bpe``, ``char``, ``extend``, ``superword``, ``parity``).
        paths: UTF-8 text files, one document per line (one path alone is taken too). For ``parity``:
            ``LANG=PATH`` items or folders of ``<lang>.txt`` files (see :func:`language_paths`).
        vocab_size: size of the final vocabulary (None: the trainer's default, or its char preset's).
        out_dir: output directory; must not exist yet unless ``force``.
        force: replace an existing ``out_dir`` that holds only tokenizer files, as a whole (and overwrite an
            existing ``checkpoint`` when not resuming).
        progress: ``progress(stage, done, total)`` callback (stages ``count`` and ``merge``).
        checkpoint: ``bpe``/``char`` only: a ``.npz`` file for the merge state, written after counting,
            every ``checkpoint_seconds`` and at the end.
        resume: continue from ``checkpoint`` if it exists (same corpus and settings; ``vocab_size`` may be
            larger than the checkpoint's); without one, train from the start and write it.
        checkpoint_seconds: least time between two checkpoint writes.
        **options: fields of the trainer's configuration (e.g. ``pretokenizer="gpt2"``, ``min_frequency=5``,
            ``special_tokens=[...]``, ``base="old/tokenizer.json"`` for extend, ``dev="parallel/"``,
            ``langs="en,de"``, ``global_share=0.5`` (or ``global_merges=2000``), ``variant="window"``,
            ``window_size=100`` and ``alpha=2`` for parity).

    Returns:
        A JSON-ready summary: algorithm, vocab size reached, merges, stop reason, corpus size, seconds per
        stage and the files written (for parity also merges chosen per language and dev-set lengths).

    Raises:
        InputError: unknown algorithm or option, a bad setting, a missing input file, an existing output
            directory or checkpoint, a checkpoint of other settings or another corpus, or an empty corpus
            - all before anything is written.
    """
    # read more than once below (checked, read, fingerprinted): a generator came back empty the second time,
    # and a lone path was read as its characters, each a missing file
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out = Path(out_dir)
    if out.exists() and not force:
        raise OutputExistsError(out)
    check_folder_writable(out, force=force, replaceable=TOKENIZER_FILES)
    trainer = make_trainer(algorithm, vocab_size, **options)
    if algorithm == "parity":
        by_language = language_paths(paths)
        documents: object = {lang: read_lines(files) for lang, files in by_language.items()}
        all_paths = [p for files in by_language.values() for p in files]
    else:
        missing = [str(p) for p in paths if not Path(p).is_file()]
        if not paths or missing:
            raise InputError(f"corpus file(s) not found: {', '.join(missing) or '(none given)'}",
                             "pass one or more existing UTF-8 text files")
        documents = read_lines(paths)
        all_paths = [Path(p) for p in paths]
    check_outputs_spare_inputs({"checkpoint": checkpoint}, all_paths)
    started = time.perf_counter()
    trained, resumed_from = run_trainer(
        trainer, algorithm, documents, progress=progress, checkpoint=checkpoint, resume=resume, force=force,
        checkpoint_seconds=checkpoint_seconds, fingerprint=lambda: corpus_fingerprint(all_paths), reading=LINES_READING,
        out=out)
    files = trained.save(out, force=force)
    stats = trained.stats
    extra: dict = {}
    if checkpoint is not None:
        extra["checkpoint"] = {"path": str(checkpoint), "resumed": resumed_from is not None,
                               "resumed_from_merges": resumed_from}
    extra.update(parity_summary(stats))
    summary = {
        **summary_head(trained, algorithm, trainer.vocab_size),
        "distinct_pretokens": stats.distinct_pretokens,
        "seconds": {
            "count": round(stats.count_seconds, 3),
            "compile": round(stats.compile_seconds, 3),
            "merge": round(stats.merge_seconds, 3),
            "total": round(time.perf_counter() - started, 3),
        },
        "merges_per_second": round(stats.merges / stats.merge_seconds) if stats.merge_seconds > 0 else None,
        "files": {name: str(path) for name, path in files.items()},
        "options": {key: (list(value) if isinstance(value, tuple) else value) for key, value in options.items()},
    }
    return {**summary, **extra}
