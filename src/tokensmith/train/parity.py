"""The ``parity`` trainer: parity-aware byte-level BPE (Foroutan et al. 2025, arXiv 2508.04796).

Classic BPE spends its merges where the *pooled* corpus is most frequent, so languages with much text,
or a cheap script, end up compressed far better than the others. Parity-aware BPE keeps pair counts per
language and, before each merge, asks which language is currently compressed worst - the one whose
multi-parallel dev set is longest in tokens - and applies that language's most frequent pair (to every
language). The hybrid learns a share of the merges as classic merges first (on the pooled counts) and
then switches to parity merges; the moving-window variant caps how many of the recent parity merges one
language may choose. The merge loop is :mod:`~tokensmith.train.parity_core`.

Input: training text per language (``{"en": lines, "de": lines, ...}``) and a line-aligned parallel
dev set with the same languages (a folder of ``<lang>.txt``, see :mod:`tokensmith.corpus.parallel`).
Pre-tokenization, special tokens, ids and export are those of :class:`~tokensmith.train.bpe.BpeTrainer`,
so the result is an ordinary byte-level BPE tokenizer.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from tokensmith.errors import CorpusError, InputError
from tokensmith.registry import Registry
from tokensmith.train.bpe import (
    _MERGES_PER_REPORT,
    BpeTrainer,
    ProgressCallback,
    TrainedBPE,
    TrainingStats,
    _check_int,
    _reporting,
    check_setting_types,
)
from tokensmith.train.counting import PretokenCounts, check_documents, count_pretokens, local_workers, make_engine


@dataclass(frozen=True)
class ParityTrainingStats(TrainingStats):
    """:class:`TrainingStats` plus what the parity rule did.

    Args:
        languages: language tags, in index order.
        merges_by_language: merges each language chose (``global`` for the hybrid's global merges).
        dev_tokens_before: dev-set length of each language in bytes (= tokens before any merge).
        dev_tokens_after: dev-set length of each language in tokens after training (as the merges
            segment the dev pre-tokens during training).
    """

    languages: tuple[str, ...] = ()
    merges_by_language: dict[str, int] | None = None
    dev_tokens_before: dict[str, int] | None = None
    dev_tokens_after: dict[str, int] | None = None


#: Parity rules by name: each gives the moving-window size the merge core uses (0 = no window).
PARITY_VARIANTS: Registry[Callable[[ParityTrainer], int]] = Registry("parity variant")
PARITY_VARIANTS.add("base", lambda trainer: 0)  # the longest language always chooses
PARITY_VARIANTS.add("window", lambda trainer: trainer.window_size)  # ... within its share of the recent merges

#: The share of global merges when neither ``global_share`` nor ``global_merges`` is given.
DEFAULT_GLOBAL_SHARE = 0.5


@dataclass(frozen=True)
class ParityTrainer(BpeTrainer):
    """Parity-aware byte-level BPE over several languages.

    The defaults are the hybrid that keeps global compression: half of the merges classic (global)
    first, then parity merges under the moving-window rule (window 100, alpha 2). Measured against
    classic BPE on the 31 languages of ../shared/data at 32k (``benchmarks/train_quality.py --mono
    parallel --no-domain``, o200k pre-tokenizer, held-out text): pure parity-aware BPE
    (``global_share=0, variant="base"``) lowers the Gini of the languages' token premiums most (-85%) but
    costs 4.7% of global bytes/token, more than the 3% issue 3 allows; the default keeps most of the
    parity gain (-69%) for 1.7% (-79% for 2.9% on 91 MB with the text of 50 more languages and the
    domain files, ``benchmarks/train_quality.py``). The global merges
    learn what all languages share (frequent ASCII, digits, punctuation, common words of the large
    languages), which pure parity learns late or never. The window stops one worst-compressed language
    from taking every merge: on 8 languages trained on non-parallel text at 8k, the base rule after the
    same global half loses 7.4% of bytes/token, the window rule 2.2% (README, "Training quality").

    Args:
        dev: folder of line-aligned ``<lang>.txt`` files (the multi-parallel dev set); may be left out
            when :meth:`train` gets ``dev_documents``.
        langs: languages to train (default: every language with training text); each needs training
            text and a dev file. A tag names the language whose tag extends it when it is the only one
            (``ko``: a folder's ``kor_Hang.txt``, ``ko-Hang``), in the training text and in the dev set alike.
        global_share: fraction (0..1) of the merges (``vocab_size`` minus the initial vocabulary) learnt
            as classic merges on the pooled counts before the parity merges start;
            ``round(global_share * merges)`` of them. Default 0.5 (when ``global_merges`` is not given
            either); 0 = pure parity-aware BPE.
        global_merges: the same as an absolute number of merges (give one of the two, not both).
        variant: the parity rule, a name from :data:`PARITY_VARIANTS`: ``base`` (the language with the
            longest dev set chooses every merge) or ``window`` (the paper's moving-window variant: the
            longest language among those that chose at most ``alpha * window_size / L`` of the last
            ``window_size`` parity merges).
        window_size: the moving window, in parity merges (``window`` only).
        alpha: how many times its fair share ``window_size / L`` of the window one language may hold
            (``window`` only; at least 1, so some language is always admitted).
        dev_errors: undecodable bytes in the ``dev`` files: ``replace`` reads them as U+FFFD (as
            :func:`~tokensmith.train.api.train_from_files` reads text), ``strict`` stops with an error
            (``tokensmith train`` passes its ``--errors``).
        (other arguments: see :class:`BpeTrainer`.)
    """

    dev: str | None = None
    langs: tuple[str, ...] | None = None
    global_share: float | None = None
    global_merges: int | None = None
    variant: str = "window"
    window_size: int = 100
    alpha: float = 2
    dev_errors: str = "replace"

    def __post_init__(self) -> None:
        from tokensmith.corpus.readers import ERRORS

        check_setting_types(self)
        if self.dev_errors not in ERRORS:
            raise InputError(f"dev_errors must be one of {', '.join(ERRORS)}, not {self.dev_errors!r}",
                             "pass dev_errors='strict' to stop at a bad byte, or 'replace' to read it as U+FFFD")
        if isinstance(self.langs, str):
            object.__setattr__(self, "langs", tuple(part for part in self.langs.replace(",", " ").split() if part))
        if self.langs is not None:
            from tokensmith.corpus.language_tags import canonical_language

            # one spelling per language, as the files' (pt_BR.txt is pt-BR)
            object.__setattr__(self, "langs", tuple(map(canonical_language, self.langs)))
            if not self.langs:
                raise InputError("langs is empty", "name at least one language, e.g. langs=('en', 'de')")
            if len(set(self.langs)) != len(self.langs):
                raise InputError(f"languages repeat in langs: {list(self.langs)}", "list each language once")
        if self.global_merges is not None and self.global_share is not None:
            raise InputError(
                f"both global_merges ({self.global_merges}) and global_share ({self.global_share}) are given",
                "give one of them: global_share is a fraction of the merges, global_merges a number")
        if self.global_merges is not None:
            _check_int("global_merges", self.global_merges, minimum=0)
        if self.global_share is not None:
            _check_fraction("global_share", self.global_share)
        PARITY_VARIANTS.get(self.variant)  # an unknown variant lists the known ones
        _check_int("window_size", self.window_size, minimum=1)
        if (isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float, np.integer, np.floating))
                or not math.isfinite(self.alpha) or self.alpha < 1):
            raise InputError(f"alpha must be a number >= 1, got {self.alpha!r}",
                             "pass alpha >= 1 (the paper uses 2): with less, no language may be admitted")
        super().__post_init__()

    def resolved_global_merges(self) -> int:
        """The number of global merges this configuration learns first."""
        if self.global_merges is not None:
            return int(self.global_merges)
        share = DEFAULT_GLOBAL_SHARE if self.global_share is None else float(self.global_share)
        merges = max(self.vocab_size - len(self.initial_vocabulary().contents), 0)
        return round(share * merges)

    def train(self, documents: Mapping[str, Iterable[str]], *, dev_documents: Mapping[str, Iterable[str]] | None = None,
              progress: ProgressCallback | None = None) -> TrainedBPE:
        """Learn one vocabulary for the languages of ``documents``.

        Args:
            documents: training text per language tag (each an iterable of str, read once).
            dev_documents: the parallel dev set per language (aligned: document i is the same segment in
                every language); default: read from the ``dev`` folder.
            progress: ``progress(stage, done, total)`` (stages ``count`` and ``merge``).

        Raises:
            InputError: not a mapping of languages, or a language without training text or dev text.
            CorpusError: a misaligned dev set, or a language whose training text is empty.
        """
        from tokensmith.train import merge_core

        if not isinstance(documents, Mapping):
            raise InputError("the parity trainer needs training text per language, not one corpus",
                             "pass {language: documents}, e.g. files as LANG=PATH")
        # one spelling per language, as langs and the CLI's files have: {"eng_Latn": ...} meets langs="en"
        documents = _by_canonical_tag(documents, "training text")
        if isinstance(dev_documents, Mapping):
            dev_documents = _by_canonical_tag(dev_documents, "dev set")
        langs = sorted(documents)
        if self.langs is not None:  # ko names the training text of ko-Hang (a folder's kor_Hang.txt)
            from tokensmith.corpus.language_tags import resolve_languages

            chosen = resolve_languages(sorted(self.langs), documents, "the training text")
            missing = [lang for lang, found in chosen.items() if found is None]
            if missing:
                raise InputError(f"no training text for {', '.join(missing)}",
                                 f"give training text for every language in langs ({' '.join(sorted(self.langs))})")
            langs = sorted(filter(None, chosen.values()))
        if len(langs) < 2:
            raise InputError(f"parity-aware training needs 2 or more languages, got {langs}",
                             "give training text for several languages (LANG=PATH each)")
        dev = self._dev_documents(langs, dev_documents)
        started = time.perf_counter()
        pretokenizer = self.pretokenizer_object()
        train_counts: list[PretokenCounts] = []
        dev_counts: list[PretokenCounts] = []
        engine = make_engine(self.engine, self.workers, self.engine_address)
        with engine.session():  # one setup for all languages (a local Ray takes seconds to start)
            # All languages in one pass: counted one by one, the many small ones each ran serially.
            counted = engine.count_languages({lang: _reporting(documents[lang], progress) for lang in langs},
                                             pretokenizer)
        for lang in langs:
            counts = counted[lang]
            if len(counts) == 0 or not counts.has_text():
                raise CorpusError(f"the training text of {lang!r} is empty or holds only whitespace",
                                  "check that language's corpus path and format (one document per line)")
            train_counts.append(counts)
            dev_counts.append(count_pretokens(dev[lang], pretokenizer, engine="serial"))
        count_seconds = time.perf_counter() - started
        compile_seconds = merge_core.compile_kernels() + _compile_parity_kernels()
        started = time.perf_counter()
        initial = self.initial_vocabulary()
        words, entry_start, entry_lang, entry_train, entry_dev = _word_table(train_counts, dev_counts)
        symbols, offsets = initial.encode_words(words)
        word_table = (entry_start, entry_lang, entry_train, entry_dev)
        dev_before = _dev_lengths(np.diff(offsets), entry_start, entry_lang, entry_dev, len(langs))
        state = self.learn_merges(symbols, offsets, word_table, len(langs), progress=progress)
        merge_seconds = time.perf_counter() - started
        chosen = np.bincount(state.chosen_by(), minlength=len(langs) + 1)
        stats = ParityTrainingStats(
            documents=sum(c.documents for c in train_counts),
            corpus_bytes=sum(c.total_bytes for c in train_counts),
            pretokens=sum(c.total for c in train_counts), distinct_pretokens=len(words), merges=state.n_merges,
            stop_reason=state.stop_reason, count_seconds=count_seconds, compile_seconds=compile_seconds,
            merge_seconds=merge_seconds, languages=tuple(langs),
            merges_by_language={**{lang: int(chosen[i]) for i, lang in enumerate(langs)}, "global": int(chosen[-1])},
            dev_tokens_before={lang: int(dev_before[i]) for i, lang in enumerate(langs)},
            dev_tokens_after={lang: int(state.dev_length[i]) for i, lang in enumerate(langs)},
        )
        return initial.result(state, pretokenizer, stats)

    def learn_merges(self, symbols: np.ndarray, offsets: np.ndarray, word_table: tuple, n_languages: int, *,
                     progress: ProgressCallback | None = None, classic_global_phase: bool = True):
        """The finished :class:`~tokensmith.train.parity_core.ParityState` of the words ``symbols, offsets``
        (initial ids) with the entries ``word_table`` (``entry_start, entry_lang, entry_train, entry_dev``,
        see :func:`_word_table`).

        With ``classic_global_phase`` the global merges are learnt by the classic loop
        (:mod:`~tokensmith.train.merge_core`, the ``bpe`` trainer's, on each word's training count summed over
        the languages; dev-only words ride along with count 0, so they are rewritten but choose nothing)
        and the parity state is built from the words as they left it. The parity loop can learn them itself
        (``False``, the same merges: tested), but it keeps per-language word lists and dev lengths current at
        every merge: on 130 MB in 81 languages its global half took ~6 s against ~4 s classic.
        """
        from tokensmith.train import parity_core

        initial = self.initial_vocabulary()
        most = max(self.vocab_size - len(initial.contents), 0)
        global_merges = self.resolved_global_merges()
        contents, units, dedup, done = initial.contents, initial.units, initial.dedup, None
        classic = (self._classic_merges(symbols, offsets, word_table[0], word_table[2], global_merges, progress, most)
                   if classic_global_phase and global_merges > 0 else None)
        if classic is not None:
            symbols, offsets, contents, units, done = classic
            dedup = list(initial.dedup) + [True] * (len(contents) - len(initial.contents))
        state = parity_core.build_parity_state(
            symbols, offsets, *word_table, n_languages, contents, units, dedup=dedup, max_units=self.max_units(),
            global_merges_done=done,
        )
        window_size = PARITY_VARIANTS.get(self.variant)(self)
        while True:
            parity_core.run_parity_merges(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                          global_merges=global_merges, window_size=window_size, alpha=self.alpha,
                                          max_merges=_MERGES_PER_REPORT)
            if progress is not None:
                progress("merge", state.n_merges, most)
            if state.stop_reason != "running":
                break
        return state

    def _classic_merges(self, symbols: np.ndarray, offsets: np.ndarray, entry_start: np.ndarray,
                        entry_train: np.ndarray, global_merges: int, progress: ProgressCallback | None, most: int):
        """The first ``global_merges`` merges by the classic loop: ``(symbols, offsets, contents, units,
        merges)``, the words as those merges leave them, every token's content and length, the merges.

        ``None`` if a merge re-created an existing token: then a pair's positions can be split over several
        position sets, which the classic loop (as HF) merges one at a time, and dev-only words may miss a
        merge, where the parity loop merges every word at once; the caller lets the parity loop learn
        the global merges instead (rare: it costs the time spent here)."""
        from tokensmith.train import merge_core

        initial = self.initial_vocabulary()
        word_total = np.add.reduceat(entry_train, entry_start[:-1]) if len(entry_train) else np.zeros(0, np.int64)
        state = merge_core.build_state(symbols, offsets, word_total, initial.contents, initial.units,
                                       dedup=initial.dedup, max_units=self.max_units(),
                                       threads=local_workers(self.workers))
        while state.n_merges < global_merges:
            run = merge_core.run_merges(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                        max_merges=min(_MERGES_PER_REPORT, global_merges - state.n_merges))
            if progress is not None:
                progress("merge", state.n_merges, most)
            if run.stop_reason != "running":
                break  # the parity loop meets the same end at its next global merge, and says why
        merges = state.learned_merges()
        if not np.array_equal(merges[:, 2], np.arange(len(merges)) + len(initial.contents)):
            return None
        lengths = state.word_len.astype(np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # symbol k of word w is at word_start[w] + k: one gather of all words' current symbols
        gather = np.repeat(state.word_start - offsets[:-1], lengths)
        gather += np.arange(len(gather), dtype=np.int64)
        n_tokens = state.n_tokens
        contents = [state.token(i) for i in range(n_tokens)]
        return state.symbols[gather], offsets, contents, state.token_units[:n_tokens].tolist(), merges

    def _dev_documents(self, langs: list[str], given: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
        """The aligned dev set of ``langs`` (checked: same number of segments in every language)."""
        if given is None:
            if self.dev is None:
                raise InputError("the parity trainer needs a parallel dev set",
                                 "pass dev=DIR (--dev DIR on the command line), a folder of line-aligned "
                                 "<lang>.txt files")
            from tokensmith.corpus.parallel import open_parallel

            parallel = open_parallel(self.dev, langs=langs, errors=self.dev_errors)
            return {lang: list(parallel.corpus(lang).iter_documents()) for lang in langs}
        from tokensmith.corpus.language_tags import resolve_languages

        named = resolve_languages(langs, given, "the dev set")  # ko names the dev set's ko-Hang
        missing = [lang for lang, found in named.items() if found is None]
        if missing:
            raise InputError(f"the dev set has no text for {', '.join(missing)}",
                             "the dev set must cover every trained language")
        for lang in langs:
            check_documents(given[named[lang]])  # a string's characters were aligned as segments
        dev = {lang: list(given[named[lang]]) for lang in langs}
        sizes = {lang: len(lines) for lang, lines in dev.items()}
        if len(set(sizes.values())) != 1:
            raise CorpusError(f"misaligned dev set: the languages differ in segment count: {sizes}",
                              "segment i must be the same text in every language")
        if not next(iter(sizes.values())):
            raise CorpusError("the dev set is empty", "give a few hundred aligned segments per language")
        return dev


def _by_canonical_tag(texts: Mapping[str, Iterable[str]], what: str) -> dict[str, Iterable[str]]:
    """``texts`` keyed by canonical language tags (``eng_Latn`` and ``eng`` are ``en``).

    Raises:
        InputError: two keys are one language.
    """
    from tokensmith.corpus.language_tags import canonical_language

    keyed: dict[str, Iterable[str]] = {}
    spelt: dict[str, str] = {}
    for tag, documents in texts.items():
        lang = canonical_language(str(tag))
        if lang in keyed:
            raise InputError(f"the {what} of {lang!r} is given twice: as {spelt[lang]!r} and {tag!r}",
                             "give each language once (join its documents into one iterable)")
        keyed[lang], spelt[lang] = documents, str(tag)
    return keyed


def _word_table(train: list[PretokenCounts], dev: list[PretokenCounts]):
    """Union of all pre-tokens (sorted) and the CSR entries (language, training count, dev count) per word."""
    n_langs = len(train)
    tables = [table for pair in zip(train, dev, strict=True) for table in pair]  # lang 0 train, lang 0 dev, ...
    pretokens = list(itertools.chain.from_iterable(table.pretokens for table in tables))
    # Every table is sorted, so sorting the concatenation only merges sorted runs (timsort), which is
    # much faster than sorting the set of distinct pre-tokens; the order also gives each pre-token's
    # word id without a dict look-up per entry.
    order = sorted(range(len(pretokens)), key=pretokens.__getitem__)
    in_order = np.empty(len(pretokens), dtype=object)
    in_order[:] = pretokens
    in_order = in_order[np.asarray(order, dtype=np.int64)]
    # one C loop of comparisons (a generator over pairs cost 0.4 s at 130 MB)
    starts_word = np.not_equal(in_order[1:], in_order[:-1], dtype=np.bool_)
    word_in_order = np.concatenate([[0], np.cumsum(starts_word)]).astype(np.int64)
    word_ids = np.empty(len(pretokens), dtype=np.int64)
    word_ids[np.asarray(order, dtype=np.int64)] = word_in_order
    words = in_order[np.concatenate([[0], np.flatnonzero(starts_word) + 1])].tolist() if len(in_order) else []
    sizes = [len(table) for table in tables]
    table_lang = np.repeat(np.arange(len(tables)) // 2, sizes)
    from_train = np.repeat(np.arange(len(tables)) % 2 == 0, sizes)
    counts = np.concatenate([table.counts.astype(np.int64) for table in tables]) if tables else np.zeros(0, np.int64)
    unique, inverse = np.unique(word_ids * n_langs + table_lang, return_inverse=True)
    entry_train = np.zeros(len(unique), dtype=np.int64)
    entry_dev = np.zeros(len(unique), dtype=np.int64)
    np.add.at(entry_train, inverse[from_train], counts[from_train])
    np.add.at(entry_dev, inverse[~from_train], counts[~from_train])
    entry_word = unique // n_langs
    entry_lang = (unique % n_langs).astype(np.int32)
    entry_start = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.bincount(entry_word, minlength=len(words)), out=entry_start[1:])
    return tuple(words), entry_start, entry_lang, entry_train, entry_dev


def _dev_lengths(word_lengths: np.ndarray, entry_start: np.ndarray, entry_lang: np.ndarray, entry_dev: np.ndarray,
                 n_languages: int) -> np.ndarray:
    """Each language's dev set in tokens when word ``w`` is ``word_lengths[w]`` tokens (``int64 (L,)``)."""
    per_entry = np.repeat(word_lengths.astype(np.int64), np.diff(entry_start)) * entry_dev
    lengths = np.zeros(n_languages, dtype=np.int64)
    np.add.at(lengths, entry_lang, per_entry)
    return lengths


def _compile_parity_kernels() -> float:
    """Compile (or load from cache) the parity kernels on a tiny input; returns seconds."""
    from tokensmith.train import parity_core

    started = time.perf_counter()
    state = parity_core.build_parity_state(
        np.array([0, 1, 0, 1, 1], dtype=np.int32), np.array([0, 2, 5], dtype=np.int64),
        np.array([0, 1, 3], dtype=np.int64), np.array([0, 0, 1], dtype=np.int32),
        np.array([2, 1, 1], dtype=np.int64), np.array([1, 0, 1], dtype=np.int64), 2, [b"a", b"b"], [1, 1],
    )
    parity_core.run_parity_merges(state, vocab_size=4, global_merges=1, window_size=2)
    return time.perf_counter() - started


def _check_fraction(name: str, value: object) -> None:
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not 0 <= value <= 1):
        raise InputError(f"{name} must be a number from 0 to 1, got {value!r}", f"pass e.g. {name}=0.5")
