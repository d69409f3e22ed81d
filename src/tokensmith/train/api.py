"""The trainer registry and :func:`train_from_files`, the one call a command line needs.

Each trainer is a frozen dataclass (its configuration) with ``train(documents, progress=None)`` returning
a trained result that has ``save(directory)``, ``vocab_size`` and ``stats``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

from tokensmith.errors import InputError, OutputExistsError
from tokensmith.registry import Registry
from tokensmith.train.bpe import BpeTrainer, CharTrainer, ProgressCallback
from tokensmith.train.extend import ExtendTrainer
from tokensmith.train.superword import SuperwordTrainer

TRAINERS: Registry[type] = Registry("training algorithm")
TRAINERS.add("bpe", BpeTrainer)
TRAINERS.add("char", CharTrainer)
TRAINERS.add("extend", ExtendTrainer)
TRAINERS.add("superword", SuperwordTrainer)


def make_trainer(algorithm: str, vocab_size: int, **options) -> object:
    """The configuration object of ``algorithm``; unknown options are an :class:`InputError`."""
    trainer_class = TRAINERS.get(algorithm)
    known = {f.name for f in dataclasses.fields(trainer_class)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(
            f"the {algorithm} trainer has no option {', '.join(map(repr, unknown))}",
            f"its options are: {', '.join(sorted(known - {'vocab_size'}))}",
        )
    return trainer_class(vocab_size=vocab_size, **options)


def read_lines(paths: list[str | Path]) -> Iterator[str]:
    """Every non-empty line of the UTF-8 text files, without its line break, one document each.

    (A stand-in until the corpus readers are wired in; undecodable bytes become U+FFFD.)
    """
    for path in paths:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if line:
                    yield line


def train_from_files(algorithm: str, paths: list[str], vocab_size: int, out_dir: str, *,
                     force: bool = False, progress: ProgressCallback | None = None, **options) -> dict:
    """Train ``algorithm`` on text files and save the result into ``out_dir``.

    Args:
        algorithm: a name from :data:`TRAINERS` (``bpe``, ``char``, ``extend``, ``superword``).
        paths: UTF-8 text files, one document per line.
        vocab_size: size of the final vocabulary.
        out_dir: output directory; must not exist yet unless ``force``.
        force: overwrite the files in an existing ``out_dir``.
        progress: ``progress(stage, done, total)`` callback (stages ``count`` and ``merge``).
        **options: fields of the trainer's configuration (e.g. ``pretokenizer="gpt2"``, ``min_frequency=5``,
            ``special_tokens=[...]``, ``base="old/tokenizer.json"`` for extend).

    Returns:
        A JSON-ready summary: algorithm, vocab size reached, merges, stop reason, corpus size, seconds per
        stage and the files written.

    Raises:
        InputError: unknown algorithm or option, a bad setting, a missing input file, an existing output
            directory, or an empty corpus - all before anything is written.
    """
    out = Path(out_dir)
    if out.exists() and not force:
        raise OutputExistsError(out)
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if not paths or missing:
        raise InputError(f"corpus file(s) not found: {', '.join(missing) or '(none given)'}",
                         "pass one or more existing UTF-8 text files")
    trainer = make_trainer(algorithm, vocab_size, **options)
    started = time.perf_counter()
    trained = trainer.train(read_lines(paths), progress=progress)
    files = trained.save(out, force=force)
    stats = trained.stats
    return {
        "algorithm": algorithm,
        "vocab_size": trained.vocab_size,
        "requested_vocab_size": vocab_size,
        "merges": stats.merges,
        "stop_reason": stats.stop_reason,
        "documents": stats.documents,
        "corpus_bytes": stats.corpus_bytes,
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
