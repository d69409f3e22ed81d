"""`tokensmith measure`: every tokenizer on every corpus, in one streaming pass per corpus.

Each corpus is read once, in batches. Every batch is encoded by each tokenizer through its fastest exact
backend, each tokenizer on its own thread (the Rust encoders release the GIL for the whole batch), and
counted into word units by a forked worker process (Python work that would otherwise hold the GIL the
encoders need). The worker sends back word counts, which the parent splits per tokenizer. Per-cell
accumulators keep sums only, so memory stays flat as the corpus grows; metrics are computed from the
sums at the end, as ratios of sums.
"""

from __future__ import annotations

import collections
import itertools
import math
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError
from tokensmith.tokenizers.loaded import BACKEND_CHOICES

#: Documents are handed to the encoders in batches of about this many UTF-8 bytes: large enough for
#: the backends' thread pools to pay off, small enough to keep memory flat.
BATCH_BYTES = 4 << 20

#: Sentences kept per corpus for the report's token viewer, and their length bounds (characters).
VIEWER_SAMPLES = 3
VIEWER_MIN_CHARS, VIEWER_MAX_CHARS = 20, 240

#: UNK share of a cell's tokens above which measure warns that its compression figures mislead.
UNK_WARNING_RATE = 0.01
#: Corpora a warning names (highest rate first) before "and N more".
MAX_NAMED_CORPORA = 8

#: Token premiums' reference language when --ref-lang is not given.
DEFAULT_REF_LANG = "en"

#: Metrics shown in the terminal tables (all of them go to results.json).
HEADLINE_METRICS = ("bytes_per_token", "fertility", "token_premium")
SUMMARY_METRICS = ("parity_gini", "tokens_per_byte_gini")


@dataclass(frozen=True)
class MeasureConfig:
    """Everything `measure` needs; CLI flags mirror these fields and their defaults."""

    tokenizers: tuple[str, ...]
    corpora: tuple[str, ...] = ()
    parallel: str | None = None
    ref_lang: str | None = None  # token premiums' reference language; None: en (n/a, with why, if absent)
    baseline: str | None = None
    pattern: str | None = None
    backend: str = "auto"  # "reference": encode with each format's own library only
    doc_per: str = "line"
    field: str = "text"
    column: str = "text"
    errors: str = "strict"
    sample_bytes: int | None = None
    seed: int = 0
    renyi_alpha: float = 2.5
    langs: tuple[str, ...] | None = None  # languages of the parallel corpus to measure (None: all); --lang
    lexicon: str | None = None  # folder of <lang>.txt / .dic word lists -> %valid per language
    morph: str | None = None  # gold segmentations word<TAB>morphs -> MorphScore, %pure

    def __post_init__(self) -> None:
        # From Python, paths come as Path objects and a lone tokenizer as a string: held as given, a Path
        # failed to parse as a corpus spec or to be written to results.json after the whole measurement,
        # and "o200k" was read as the tokenizers "o", "2", "0"...
        for name in ("tokenizers", "corpora", "langs"):
            value = getattr(self, name)
            if value is not None:
                items = (value,) if isinstance(value, str | os.PathLike) else value
                object.__setattr__(self, name, tuple(map(_as_text, items)))
        for name in ("parallel", "baseline", "pattern", "lexicon", "morph"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _as_text(value))

    def validate(self) -> None:
        from tokensmith.settings import check_setting_types
        from tokensmith.tokenizers.base import Tokenizer

        # from Python a setting may be of any type: sample_bytes="100" or renyi_alpha="2" failed with a bare
        # TypeError, sample_bytes=10.5 was taken, a corpus given as bytes failed deep in the reader
        check_setting_types(self, unchecked=("tokenizers",))
        wrong = next((spec for spec in self.tokenizers or () if not isinstance(spec, str | Tokenizer)
                      and not callable(getattr(spec, "to_tokenizer_json", None))), None)  # or a trainer's result
        if wrong is not None:
            raise InputError(f"a tokenizer is given as {wrong!r} ({type(wrong).__name__})",
                             "give each tokenizer as a reference name, a path, a trainer's result or a loaded "
                             "Tokenizer")
        if not self.tokenizers:
            raise InputError("no tokenizer given", "pass at least one -t NAME|PATH (see `tokensmith ls tokenizers`)")
        if isinstance(self.parallel, str) and not self.parallel.strip():  # Path("") is the current folder
            raise InputError("--parallel names no folder (an empty path)", "give the folder of <lang>.txt files")
        if not self.corpora and not self.parallel:
            raise InputError("no text to measure on", "pass --corpus PATH and/or --parallel DIR")
        for flag, path in (("--lexicon", self.lexicon), ("--morph", self.morph)):
            if isinstance(path, str) and not path.strip():
                raise InputError(f"{flag} names no file or folder (an empty path)")
            if path is not None and not Path(path).exists():
                raise InputError(f"{flag} {path}: no such file or folder")
        if self.errors not in ("strict", "replace"):
            raise InputError(f"--errors must be 'strict' or 'replace', not {self.errors!r}")
        if self.backend not in BACKEND_CHOICES:
            raise InputError(f"--backend must be one of {', '.join(BACKEND_CHOICES)}, not {self.backend!r}")
        if self.doc_per not in ("line", "file"):
            raise InputError(f"--doc-per must be 'line' or 'file', not {self.doc_per!r}")
        if self.sample_bytes is not None and self.sample_bytes <= 0:
            raise InputError(f"--sample-bytes must be positive, not {self.sample_bytes}")
        if not self.renyi_alpha > 0 or math.isinf(self.renyi_alpha):  # `not >`: nan compares false
            raise InputError(f"--alpha must be a positive finite number, not {self.renyi_alpha}")
        if len({spec if isinstance(spec, str) else id(spec) for spec in self.tokenizers}) != len(self.tokenizers):
            raise InputError("the same tokenizer is given twice", "pass each -t once")
        if self.langs is not None and not self.parallel:  # it picks languages of the parallel corpus only
            raise InputError(f"langs (--lang) {list(self.langs)} is given without a parallel corpus, which it "
                             "selects from", "add parallel=DIR (--parallel DIR), or drop langs (a corpus' language "
                             "is its LANG= tag)")
        if self.langs is not None and not self.langs:  # --lang "," or an empty shell variable
            raise InputError("langs (--lang) names no language",
                             "give the languages to measure (--lang de,en), or drop it to measure all of them")
        if self.ref_lang is not None and not self.parallel:
            raise InputError(f"--ref-lang {self.ref_lang} is given without --parallel",
                             "token premiums compare languages of a parallel corpus: add --parallel DIR, "
                             "or drop --ref-lang")

    def parameters(self) -> dict[str, Any]:
        """The configuration as recorded in provenance (a tokenizer given as an object by its name)."""
        recorded = {item.name: getattr(self, item.name) for item in fields(self)}  # asdict deep-copied tokenizers
        recorded["tokenizers"] = [_spec_text(spec) for spec in self.tokenizers]
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in recorded.items()}


def _spec_text(spec: Any) -> str:
    """How provenance names a tokenizer spec: as given, or a loaded Tokenizer's name, or a trainer's result's kind."""
    if isinstance(spec, str):
        return spec
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) else f"{type(spec).__name__} (in memory)"


def _as_text(value: Any) -> Any:
    """A path as the string it names; anything else unchanged (validation reports it)."""
    return os.fspath(value) if isinstance(value, os.PathLike) else value


@dataclass
class MeasureResult:
    """What `measure` computed: flat metric records plus what they were computed on.

    Attributes:
        records: one dict per (tokenizer, corpus, metric), keys of ``tokensmith.metrics.RECORD_FIELDS``.
        cells: the per-(tokenizer, corpus) sums, as plain dicts.
        tokenizers: name, format, vocabulary size, backend and sha256 of each tokenizer.
        corpora: name, language, sources, sha256 and size of each corpus.
        samples: sentences per corpus with each tokenizer's tokens (ids and bytes), for the viewer.
        seconds: wall time of the whole measurement.
        warnings: what makes figures mean less than they seem (text a tokenizer dropped), one sentence each.
    """

    records: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    tokenizers: list[dict[str, Any]]
    corpora: list[dict[str, Any]]
    samples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def section(self) -> dict[str, Any]:
        """The ``measure`` section of results.json."""
        from tokensmith.metrics import describe_metrics

        used = {record["metric"] for record in self.records}
        return {
            "tokenizers": self.tokenizers,
            "corpora": self.corpora,
            # what each metric divides, its reference and defaults: the file explains its figures on its own
            "metrics": [entry for entry in describe_metrics() if entry["name"] in used],
            "records": self.records,
            "cells": self.cells,
            "samples": self.samples,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }

    def value(self, metric: str, tokenizer: str, corpus: str | None = None) -> float | None:
        """One metric value (``corpus=None``: the metric's only record for ``tokenizer``, e.g. one over the
        whole parallel group).

        Raises:
            UnknownNameError: (a ``KeyError`` too) no record has that metric, tokenizer or corpus; the
                error lists the names there are.
            InputError: ``corpus`` is None and the metric has records on several corpora.
        """
        from tokensmith.errors import UnknownNameError

        for key, wanted in (("metric", metric), ("tokenizer", tokenizer)):
            known = sorted({record[key] for record in self.records})
            if wanted not in known:
                raise UnknownNameError(key, wanted, known)
        found = [record for record in self.records if record["metric"] == metric and record["tokenizer"] == tokenizer]
        corpora = [record["corpus"] for record in found]
        if corpus is None and len(found) > 1:  # the first corpus' value was returned for any
            raise InputError(f"{metric!r} of {tokenizer!r} has a value on each of {len(found)} corpora",
                             f"name the corpus: value({metric!r}, {tokenizer!r}, corpus) with corpus one of "
                             f"{', '.join(map(repr, corpora))}")
        if corpus is not None and corpus not in corpora:
            raise UnknownNameError("corpus", corpus, corpora)  # the corpora this metric has a value on
        return found[corpora.index(corpus) if corpus is not None else 0]["value"]

    def to_pandas(self):
        """The records as a pandas DataFrame (needs pandas: ``pip install tokensmith[dataframes]``)."""
        pandas = _optional_import("pandas", "a pandas DataFrame")
        return pandas.DataFrame.from_records(self.records)

    def to_polars(self):
        """The records as a polars DataFrame (needs polars: ``pip install tokensmith[dataframes]``)."""
        polars = _optional_import("polars", "a polars DataFrame")
        return polars.DataFrame(self.records, infer_schema_length=None)


def _peak_rss_mb() -> float:
    """Peak resident memory (MB) of this process plus that of its largest finished child (the word
    worker), recorded to show memory stays flat. The sum bounds the two peaks from above."""
    import resource

    kilobytes = sum(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 2**20


def _optional_import(module: str, feature: str):
    import importlib

    from tokensmith.errors import MissingDependencyError

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(feature, (module,), "dataframes") from None


@dataclass
class _Source:
    """One corpus to read, with the cells (one per tokenizer) it feeds."""

    corpus: Any
    name: str
    lang: str | None
    parallel_group: str | None
    documents: Any  # callable -> iterator of document batches


def _corpus_names(specs: Sequence[str]) -> list[str | None]:
    """Each corpus' name: None (the file stem, folder name or glob) unless two corpora share it; those are
    named by as many of their last path parts as tell them apart (``my=my/django.txt`` and
    ``km=km/django.txt``: ``my/django``, ``km/django``), short enough for a table column; files that differ
    only in their suffixes by their file names (``de.txt``, ``de.txt.gz``)."""
    from tokensmith.corpus.readers import parse_corpus_spec, split_suffixes

    paths = [Path(parse_corpus_spec(spec)[1].rstrip("/\\")) for spec in specs]
    folders = [list(path.parent.parts[1 if path.anchor else 0:]) for path in paths]  # no root "/"
    by_stem = [[*within, split_suffixes(path)[0]] for within, path in zip(folders, paths, strict=True)]
    # files that differ only in their suffixes (de.txt, de.txt.gz) are told apart by their file names
    parts = [[*within, path.name] if by_stem.count(stem) > 1 else stem
             for within, path, stem in zip(folders, paths, by_stem, strict=True)]
    names: list[str | None] = [None] * len(specs)
    for index, own in enumerate(parts):
        clashing = [other for position, other in enumerate(parts) if position != index and other[-1] == own[-1]]
        if not clashing and own == by_stem[index]:
            continue
        depth = 1
        while depth < len(own) and any(other[-depth:] == own[-depth:] for other in clashing):
            depth += 1
        names[index] = "/".join(own[-depth:])
    return names


def _open_sources(config: MeasureConfig) -> tuple[list[_Source], list[str]]:
    """The corpora to read, and warnings about them (parallel segments left out)."""
    from tokensmith.corpus import open_corpus, open_parallel, sample_documents, sample_parallel

    sources: list[_Source] = []
    warnings: list[str] = []
    for spec, name in zip(config.corpora, _corpus_names(config.corpora), strict=True):
        corpus = open_corpus(
            spec, name=name, doc_per=config.doc_per, field=config.field, column=config.column, errors=config.errors
        )
        if config.sample_bytes:
            sample = sample_documents(corpus, config.sample_bytes, config.seed)
            batches = _batched_list(sample)
        else:
            batches = _corpus_batches(corpus)
        sources.append(_Source(corpus, corpus.name, corpus.lang, None, batches))
    if config.parallel:
        parallel = open_parallel(config.parallel, langs=config.langs, errors=config.errors)
        if parallel.skipped_lines:
            warnings.append(_skipped_segments_warning(parallel))
        samples = sample_parallel(parallel, config.sample_bytes, config.seed) if config.sample_bytes else None
        for corpus in parallel.corpora:
            batches = _batched_list(samples.texts[corpus.lang]) if samples is not None else _corpus_batches(corpus)
            # group/lang keeps a parallel file apart from a monolingual corpus of the same language
            sources.append(_Source(corpus, f"{parallel.name}/{corpus.lang}", corpus.lang, parallel.name, batches))
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        clashing = [source for source in sources if source.name == duplicates[0]]
        if len({source.corpus.sources for source in clashing}) == 1:
            raise InputError(f"the same corpus is passed twice ({clashing[0].corpus.sources[0]}, as "
                             f"{' and '.join(repr(s.lang) for s in clashing)})",
                             "pass each file once, with one language tag")
        raise InputError(f"two corpora share the name {duplicates[0]!r}", "pass each corpus once")
    return sources, warnings


def _skipped_segments_warning(parallel) -> str:
    """Segments blank in one language are left out of all (premiums compare the same text), so every
    language's figures, its bytes/token too, describe fewer lines than its file holds: say so."""
    blank = ", ".join(f"{lang} {count:,}" for lang, count in
                      sorted(parallel.blank_counts.items(), key=lambda item: (-item[1], item[0])) if count)
    return (f"{len(parallel.skipped_lines):,} of the {parallel.total_lines:,} segments of {parallel.name} are blank in "
            f"some language (blank lines: {blank}) and are left out of every language: each language's figures "
            f"describe {parallel.kept_lines:,} of its {parallel.total_lines:,} lines (leave a mostly blank language "
            "out with --lang)")


def _ref_lang(config: MeasureConfig, sources: Sequence[_Source]) -> str | None:
    """The measured language token premiums are relative to: the one --ref-lang names (``ko``: the folder's
    ``ko-Hang``), else the one the default (en) names; None without --parallel, or when the default names none or
    several (its premiums are then n/a with the reason). A --ref-lang the parallel corpus lacks, or one naming
    several of its languages, is a mistake to report."""
    from tokensmith.corpus.language_tags import basic_filter, resolve_language
    from tokensmith.corpus.parallel import language_files

    if not config.parallel:
        return None
    parallel_langs = sorted(source.lang for source in sources if source.parallel_group is not None)
    if config.ref_lang is None:
        matches = basic_filter(DEFAULT_REF_LANG, parallel_langs)
        return matches[0] if len(matches) == 1 else None
    where = f"the parallel corpus {config.parallel}"
    ref_lang = resolve_language(config.ref_lang, parallel_langs, where, "--ref-lang")
    if ref_lang is not None:
        return ref_lang
    if config.langs is not None and basic_filter(config.ref_lang, language_files(Path(config.parallel))):
        raise InputError(f"--ref-lang {config.ref_lang} is not one of the languages --lang chooses "
                         f"({' '.join(parallel_langs)})", "add it to --lang, or choose one of them as --ref-lang")
    raise InputError(f"--ref-lang {config.ref_lang}: the parallel corpus {config.parallel} has no such language",
                     f"choose one of: {' '.join(parallel_langs)}")


def _expected_bytes(sources: Sequence[_Source], sample_bytes: int | None) -> int:
    """About how much text measure will encode (files' sizes on disk; compressed files count less)."""
    sizes = [source.corpus.size_bytes for source in sources]
    return sum(min(size, sample_bytes) for size in sizes) if sample_bytes else sum(sizes)


def _corpus_batches(corpus):
    return lambda: iter(corpus.iter_batches(BATCH_BYTES))


def _batched_list(documents: Sequence[str]):
    from tokensmith.corpus import batch_documents

    return lambda: iter(batch_documents(documents, BATCH_BYTES))


def _load_tokenizers(config: MeasureConfig) -> list:
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.tokenizers.references import REFERENCES

    loaded = [load_tokenizer(spec, pattern=config.pattern, backend=config.backend) for spec in config.tokenizers]
    if config.pattern is not None and not any(
            t.info.format == "tiktoken" and spec not in REFERENCES for t, spec in zip(loaded, config.tokenizers,
                                                                                    strict=True)):
        raise InputError(f"--pattern {config.pattern!r} applies to .tiktoken ranks files only, and no tokenizer "
                         "given is one (the others carry their own pre-tokenizer)", "drop --pattern")
    _name_apart(loaded, config.tokenizers)
    return loaded


def _name_apart(loaded: Sequence[Any], specs: Sequence[str]) -> None:
    """Give tokenizers that share a name (a folder's tokenizer.json and tokenizer.tiktoken, both called by the
    folder; two runs' ``out/tok``) the shortest tails of their paths that tell them apart; refuse a tokenizer
    given twice (a reference name, or the same file under two spellings)."""
    from dataclasses import replace

    paths = [Path(spec).expanduser().resolve() if isinstance(spec, str) and Path(spec).expanduser().exists()
             else None for spec in specs]  # a spec may also be a loaded Tokenizer (the Python API)
    names = [t.name for t in loaded]
    for position, name in enumerate(names):
        sharing = [i for i, other in enumerate(names) if other == name]
        if len(sharing) < 2 or position != sharing[0]:
            continue
        renamed = [i for i in sharing if paths[i] is not None]
        distinct_files = len({paths[i] for i in renamed}) == len(renamed)
        objects = [i for i in sharing if not isinstance(specs[i], str)]  # loaded or trained in Python: no path
        if len(objects) > 1 and len({id(specs[i]) for i in objects}) > 1:
            raise InputError(f"{len(objects)} different tokenizers given from Python are all named {name!r}",
                             "name them apart: load_tokenizer(tokenizer, name='...')")
        if len(sharing) - len(renamed) > 1 or not distinct_files:
            given = " and -t ".join(str(specs[i]) for i in sharing)
            raise InputError(f"the tokenizer {name!r} is given twice (-t {given})", "give each tokenizer once")
        for depth in range(2, max(len(paths[i].parts) for i in renamed) + 1):
            tails = {i: "/".join(paths[i].parts[-depth:]).lstrip("/") for i in renamed}
            if len(set(tails.values())) == len(renamed) and not set(tails.values()) & set(names):
                break
        for i, tail in tails.items():
            loaded[i].info = replace(loaded[i].info, name=tail)
            names[i] = tail


def measure(config: MeasureConfig, *, progress: Any = None) -> MeasureResult:
    """Measure every tokenizer of ``config`` on every corpus; the Python API behind the CLI.

    Args:
        config: what to measure (see :class:`MeasureConfig`).
        progress: a ``rich.progress.Progress`` to report characters read, or None.

    Raises:
        TokensmithError: any input problem, before any output is written.
    """
    from tokensmith.metrics import VocabularyFacts, compute_all
    from tokensmith.metrics.word_process import WordCountingProcess

    config.validate()
    if progress is not None and not (hasattr(progress, "add_task") and hasattr(progress, "update")):
        raise InputError(f"progress must be a rich.progress.Progress (or None), not {progress!r}",
                         "pass progress=None, or a Progress you started (with Progress() as progress: ...)")
    started = time.perf_counter()
    sources, source_warnings = _open_sources(config)
    ref_lang = _ref_lang(config, sources)
    if config.lexicon is not None or config.morph is not None:
        from tokensmith.metrics.linguistic_records import check_linguistic_inputs

        check_linguistic_inputs(config.lexicon, config.morph, [source.lang for source in sources])
    word_counting = WordCountingProcess(sources)  # forks now (before any thread) and starts counting
    try:
        tokenizers = _load_tokenizers(config)
        expected_bytes = _expected_bytes(sources, config.sample_bytes)
        for tokenizer in tokenizers:
            tokenizer.expect_text(expected_bytes)
        baseline = _baseline_name(config, [t.name for t in tokenizers])
        vocabularies = [VocabularyFacts.of(t) for t in tokenizers]
        cells, corpora, samples = _measure_sources(sources, tokenizers, vocabularies, word_counting, progress)
    finally:
        word_counting.close()
    records = compute_all(
        cells,
        baseline=baseline,
        ref_lang=ref_lang,
        params={"renyi_efficiency": {"alpha": config.renyi_alpha},
                "renyi_efficiency_full_vocab": {"alpha": config.renyi_alpha}},
    )
    if config.lexicon is not None or config.morph is not None:
        from tokensmith.metrics.linguistic_records import lexicon_records

        records += lexicon_records(cells, tokenizers, config.lexicon, config.morph)
    return MeasureResult(
        records=records,
        cells=[c.to_dict() for c in cells],
        tokenizers=[_describe_tokenizer(t) for t in tokenizers],
        corpora=corpora,
        samples=samples,
        seconds=time.perf_counter() - started,
        warnings=source_warnings + _dropped_text_warnings(cells),
    )


def _dropped_text_warnings(cells) -> list[str]:
    """A warning per cell whose tokenizer dropped text it has no byte token for (its token counts cover
    only the rest, and UNK rate says 0), and per tokenizer that turned much of some corpus into UNK (one line
    naming the corpora: a WordPiece vocabulary on 100 languages gave a dozen lines)."""
    warnings = []
    unk_rates: dict[str, list[tuple[float, str]]] = {}
    for stats in cells:
        if stats.dropped_bytes:
            dropped = sorted(stats.dropped_by_byte.items(), key=lambda item: (-item[1], item[0]))
            named = ", ".join(f"0x{b:02X} x{n:,}" for b, n in dropped[:8])
            if len(dropped) > 8:
                named += f" and {len(dropped) - 8} more"
            warnings.append(
                f"{stats.tokenizer} dropped {stats.dropped_bytes:,} of {stats.bytes:,} bytes of {stats.corpus} "
                f"({stats.dropped_bytes / stats.bytes:.2%}), bytes its vocabulary has no token for ({named}): "
                "its tokens cover only the rest of the text (dropped_byte_rate in results.json)"
            )
        if stats.tokens and stats.unk_tokens / stats.tokens > UNK_WARNING_RATE:
            unk_rates.setdefault(stats.tokenizer, []).append((stats.unk_tokens / stats.tokens, stats.corpus))
    for tokenizer, rates in unk_rates.items():
        rates.sort(key=lambda item: (-item[0], item[1]))
        if len(rates) == 1:
            where = f"{rates[0][0]:.1%} of its tokens on {rates[0][1]}"
        else:
            named = ", ".join(f"{corpus} {rate:.1%}" for rate, corpus in rates[:MAX_NAMED_CORPORA])
            more = f" and {len(rates) - MAX_NAMED_CORPORA} more" if len(rates) > MAX_NAMED_CORPORA else ""
            where = f"over {UNK_WARNING_RATE:.0%} of its tokens on {len(rates)} corpora ({named}{more})"
        warnings.append(f"{tokenizer} maps {where} to UNK: an UNK stands for any amount of text, so its "
                        "bytes/token and fertility there overstate compression (unk_rate in results.json; "
                        "premiums and Ginis are n/a above 10%)")
    return warnings


def _baseline_name(config: MeasureConfig, names: list[str]) -> str | None:
    """The tokenizer NSL divides by: --baseline (a spec or a loaded name), else the first of several."""
    if config.baseline is None:
        return names[0] if len(names) > 1 else None
    if config.baseline in names:
        return config.baseline
    if config.baseline in config.tokenizers:
        return names[config.tokenizers.index(config.baseline)]
    wanted = Path(config.baseline).expanduser()
    for name, spec in zip(names, config.tokenizers, strict=True):  # the same file, spelled another way
        if wanted.exists() and Path(spec).expanduser().exists() and Path(spec).expanduser().samefile(wanted):
            return name
    raise InputError(f"--baseline {config.baseline!r} is not one of the -t tokenizers",
                     f"pass one of them: {', '.join(names)}")


#: Batches read ahead of the slowest lane: enough that no lane waits for another, few enough that
#: memory stays flat (each batch is ~BATCH_BYTES of text plus its ids).
BATCHES_IN_FLIGHT = 4


class _Lanes:
    """One worker thread per tokenizer, each encoding the batches in order.

    Encoders release the GIL, so the tokenizers encode side by side (and beside the word-counting
    process); no lane waits for the others at the end of a batch, only when it is BATCHES_IN_FLIGHT ahead.
    """

    def __init__(self, tokenizers: Sequence[Any]) -> None:
        self.tokenizers = list(tokenizers)
        self._encoders = [ThreadPoolExecutor(1, thread_name_prefix=f"encode-{i}") for i in range(len(tokenizers))]

    def encode(self, batch: list[str]) -> list[Future]:
        return [lane.submit(_timed_encode, t, batch) for lane, t in zip(self._encoders, self.tokenizers, strict=True)]

    def close(self) -> None:
        for lane in self._encoders:
            lane.shutdown(wait=True, cancel_futures=True)


def _timed_encode(tokenizer, batch):
    started = time.perf_counter()
    ids = tokenizer.encode_flat(batch)
    return ids, time.perf_counter() - started


@dataclass
class _SourceInProgress:
    """A corpus whose batches are still being encoded: its cells, what is left."""

    source: _Source
    cells: list
    viewer_sentences: list[str] = field(default_factory=list)
    batches_left: int = 0
    read: bool = False


def _measure_sources(sources, tokenizers, vocabularies, word_counting, progress):
    from tokensmith.corpus import NotApplicable
    from tokensmith.errors import CorpusError
    from tokensmith.metrics import TokenStats
    from tokensmith.metrics.stats import BatchSize

    task = progress.add_task("measuring", total=None) if progress is not None else None
    splitters = _SplitterCache()
    word_counting.start_splitting(lambda spaced: splitters.totals(tokenizers, spaced=spaced))
    lanes = _Lanes(tokenizers)
    count_bytes = any(vocab.missing_bytes for vocab in vocabularies)  # a cell counts the bytes it drops
    in_flight: collections.deque = collections.deque()  # (source, size, encode futures)
    open_sources: collections.deque[_SourceInProgress] = collections.deque()
    done: list[tuple[_SourceInProgress, dict[str, Any], dict[str, Any]]] = []  # in corpus order

    def consume_one() -> None:
        current, size, encoded = in_flight.popleft()
        for stats, future in zip(current.cells, encoded, strict=True):
            ids, seconds = future.result()
            stats.add_flat(size, ids, encode_seconds=seconds)
        current.batches_left -= 1
        while open_sources and open_sources[0].read and open_sources[0].batches_left == 0:
            ready = open_sources.popleft()
            done.append((ready, *_finish_source(ready, tokenizers)))

    try:
        for source in sources:
            current = _SourceInProgress(source, [
                TokenStats(vocab, tokenizer=t.name, corpus=source.name, lang=source.lang,
                           parallel_group=source.parallel_group)
                for t, vocab in zip(tokenizers, vocabularies, strict=True)
            ])
            open_sources.append(current)
            if progress is not None:
                progress.update(task, description=f"measuring {source.name}")
            for batch in source.documents():
                if len(current.viewer_sentences) < VIEWER_SAMPLES:
                    wanted = VIEWER_SAMPLES - len(current.viewer_sentences)
                    current.viewer_sentences.extend(_viewer_candidates(batch, wanted))
                in_flight.append((current, BatchSize.of(batch, count_bytes=count_bytes), lanes.encode(batch)))
                current.batches_left += 1
                while len(in_flight) > BATCHES_IN_FLIGHT:
                    consume_one()
                if progress is not None:
                    progress.update(task, advance=sum(map(len, batch)))
            if current.batches_left == 0 and not current.cells[0].documents:
                raise CorpusError(f"corpus {source.name!r} has no documents", "check the path, --field or --column")
            current.read = True
        while in_flight:
            consume_one()
        for key, (current, description, _) in enumerate(done):
            words = word_counting.words(key)  # the worker counts the corpora in this same order
            description["word_segmenter"] = word_counting.segmenter(key)  # what fertility's words are
            if isinstance(words, NotApplicable):
                for stats in current.cells:
                    stats.mark_words_not_applicable(words.reason)
            else:
                for stats, split in zip(current.cells, words, strict=True):
                    stats.add_words(split, stats.documents)
    finally:
        lanes.close()
    cells = [stats for current, _, _ in done for stats in current.cells]
    return cells, [corpus for _, corpus, _ in done], [sample for _, _, sample in done]


def _finish_source(current: _SourceInProgress, tokenizers):
    """A corpus whose batches are all encoded: compact cells, description, viewer sample."""
    for stats in current.cells:
        stats.compact()
    return (_describe_corpus(current.source, current.cells[0]),
            _viewer_sample(current.source, current.viewer_sentences, tokenizers))


class _SplitterCache:
    """One :class:`WordSplitter` per tokenizer and kind of script, kept across corpora when bounded.

    A splitter caches the token count of every word type it encodes. With exact spans it only encodes
    types that are some token's text, so its cache is bounded by the vocabulary and is worth sharing;
    otherwise it would hold every type of every corpus, so each corpus gets a fresh one.
    """

    def __init__(self) -> None:
        self._shared: dict[tuple[int, bool], Any] = {}
        self._candidates: dict[bool, frozenset[str] | None] = {}

    def totals(self, tokenizers, *, spaced: bool):
        """Empty word totals for one corpus, with the candidates of one-token words computed once."""
        from tokensmith.metrics.word_split import WordTotals, one_token_candidates

        splitters = [self.get(t, spaced=spaced) for t in tokenizers]
        if spaced not in self._candidates:
            self._candidates[spaced] = one_token_candidates(splitters)
        return WordTotals(splitters, candidates=self._candidates[spaced])

    def get(self, tokenizer, *, spaced: bool):
        from tokensmith.metrics import WordSplitter

        if not tokenizer.exact_spans:
            return WordSplitter.for_tokenizer(tokenizer, spaced=spaced)
        key = (id(tokenizer), spaced)
        if key not in self._shared:
            self._shared[key] = WordSplitter.for_tokenizer(tokenizer, spaced=spaced)
        return self._shared[key]


def _viewer_candidates(batch: Sequence[str], wanted: int) -> list[str]:
    # lazily: the first batch of a corpus is most of it, and a full scan per corpus cost ~2 s on 122 MB
    chosen = list(itertools.islice((d for d in batch if VIEWER_MIN_CHARS <= len(d) <= VIEWER_MAX_CHARS), wanted))
    if not chosen:
        chosen = list(itertools.islice((d[:VIEWER_MAX_CHARS] for d in batch if d.strip()), wanted))
    return chosen


def _viewer_sample(source: _Source, sentences: list[str], tokenizers: list) -> dict[str, Any]:
    segmentations = {}
    for tokenizer in tokenizers:
        token_bytes = tokenizer.all_token_bytes  # computed for the vocabulary facts; a call per token cost 0.8 s
        # one batch call: a call per sentence waits for the GIL behind the encoding lanes each time
        segmentations[tokenizer.name] = [
            [[token_id, token_bytes[token_id].hex()] for token_id in ids]
            for ids in (tokenizer.encode_batch(sentences) if sentences else [])
        ]
    return {"corpus": source.name, "lang": source.lang, "sentences": sentences, "tokens": segmentations}


def _describe_tokenizer(tokenizer) -> dict[str, Any]:
    info = tokenizer.info
    return {
        "name": info.name,
        "format": info.format,
        "model": info.model,
        "byte_level": info.byte_level,
        "lossless": info.lossless,
        **({"missing_bytes": list(info.extra["missing_bytes"])} if info.extra.get("missing_bytes") else {}),
        "vocab_size": tokenizer.vocab_size,
        "special_tokens": len(tokenizer.special_tokens),
        "backend": info.backend,
        "sources": list(info.sources),
        "sha256": info.sha256,
    }


def _describe_corpus(source: _Source, stats) -> dict[str, Any]:
    from tokensmith.corpus.readers import ReadStats

    corpus = source.corpus
    return {
        "name": source.name,
        "lang": source.lang,
        "parallel_group": source.parallel_group,
        "sources": [str(p) for p in corpus.sources],
        "sha256": corpus.sha256(),
        "documents": stats.documents,
        "bytes": stats.bytes,
        **({"skipped_segments": len(corpus.skipped)} if source.parallel_group is not None else {}),
        **getattr(corpus, "read_stats", ReadStats()).record(),
    }


def _refuse_replacing_an_input(config: MeasureConfig, out: str | Path) -> None:
    """Refuse an existing --out that is one of the corpus or tokenizer files (--force would replace it)."""
    from tokensmith.corpus.parallel import language_files
    from tokensmith.corpus.readers import parse_corpus_spec, resolve_sources

    target = Path(out)
    if not target.is_file():
        return
    inputs = [path for spec in config.corpora for path in resolve_sources(parse_corpus_spec(spec)[1])]
    if config.parallel is not None and Path(config.parallel).is_dir():
        inputs += language_files(Path(config.parallel)).values()
    inputs += [Path(spec) for spec in config.tokenizers if isinstance(spec, str) and Path(spec).is_file()]
    if any(path.exists() and target.samefile(path) for path in inputs):
        raise InputError(f"--out {out} is one of the inputs: --force would replace it with the results",
                         "choose another output path")


def run_measure(
    config: MeasureConfig, *, out: str | Path | None = None, force: bool = False, quiet: bool = False
) -> MeasureResult:
    """The `tokensmith measure` command: measure, print the tables (not when ``quiet``), write results.json."""
    from tokensmith.io import check_file_writable
    from tokensmith.results import new_results, write_results
    from tokensmith.tables import console, print_measure, progress_bar, warn, warn_reading

    config.validate()
    if out is not None:
        check_file_writable(out, force=force)  # refuse before an hour of work, not after
        _refuse_replacing_an_input(config, out)
    with progress_bar(quiet) as progress:
        result = measure(config, progress=progress)
    warn_reading(result.corpora)
    if not quiet:
        print_measure(result)
    for warning in result.warnings:  # even when quiet: the figures of these cells are not what they seem
        warn(warning)
    if out is not None:
        results = new_results("measure", config.parameters(), {"measure": result.section()})
        path = write_results(out, results, force=force)
        if not quiet:
            console().print(f"wrote {path}")
    return result
