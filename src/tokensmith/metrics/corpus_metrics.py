"""Corpus metrics: compression, fairness across languages, and the token distribution.

Each is a ratio of sums over :class:`~tokensmith.metrics.stats.TokenStats` (Σ numerator / Σ
denominator over all documents, never a mean of per-document ratios). Choices worth knowing:

* ``fertility`` and ``split_word_share`` use the word counts the caller's segmenter produced; they
  are not applicable (None with the reason) when the language has no segmenter.
* ``split_word_share`` encodes each word type in isolation (Rust et al. 2021); ``fertility`` divides
  the corpus tokens (in context) by the words.
* Efficiencies come in two flavours: ``*_efficiency`` divides by log2 of the *observed* type count
  (tokenization-scorer's default, equal to it to 1e-9); ``*_full_vocab`` by log2 of the tokenizer's
  ordinary vocabulary (all ids but special tokens), comparable across corpora of different sizes.
* ``parity_gini`` is TokEval's Tokenizer Fairness Gini with c_L = tokens per line on a line-aligned
  parallel corpus (the same text in every language, so it measures how unequally the languages are
  charged for it); ``tokens_per_byte_gini`` is the earlier TokEval form, c_L = tokens per UTF-8 byte,
  which also moves with how many bytes each script spends per character.
* ``mean_type_length_bytes`` averages over the distinct token types the corpus used (per
  occurrence, the mean is just ``bytes_per_token``).
* ``dropped_byte_rate``: a byte-level BPE whose vocabulary lacks some bytes (no UNK to stand for them)
  drops them from the text; its tokens then cover less text than ``bytes`` counts, so every per-byte
  figure flatters it. Counted where the loader lists the missing bytes (byte-level vocabularies); 0 for
  the others, whose unknown text becomes UNK (``unk_rate``).
* ``vocab_utilisation`` = used ordinary types / ordinary vocabulary (special tokens excluded from
  both; UNK counts as ordinary because ``encode`` emits it).
* MB are 10^6 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from tokensmith.errors import InputError
from tokensmith.metrics.base import (
    METRICS,
    MetricContext,
    MetricValue,
    ParamValue,
    metric,
    not_applicable,
    ratio,
)
from tokensmith.metrics.stats import TokenStats

RECORD_FIELDS = ("tokenizer", "corpus", "lang", "metric", "value", "unit", "higher_is_better", "params", "reason")

RUST_2021 = "Rust et al. 2021, How Good is Your Tokenizer? (arXiv:2012.15613)"
PETROV_2023 = "Petrov et al. 2023, Language Model Tokenizers Introduce Unfairness Between Languages (arXiv:2305.15425)"
ZOUHAR_2023 = "Zouhar et al. 2023, Tokenization and the Noiseless Channel (arXiv:2306.16842); tokenization-scorer 1.1.8"
TOKEVAL = "TokEval, swiss-ai/tokenizer-intrinsic-evals"
TOKEVAL_GINI = f"{TOKEVAL} (Tokenizer Fairness Gini)"
GOLDMAN_2024 = "Goldman et al. 2024, Unpacking Tokenization (arXiv:2403.06265)"
DROPPED = "descriptive (a byte-level BPE without UNK drops the bytes its vocabulary has no token for)"


# -- information-theoretic helpers ----------------------------------------------------------------
def _positive_counts(type_counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(type_counts)
    counts = counts[counts > 0].astype(np.float64)
    if not counts.size:  # Shannon said 0.0 and Rényi raised numpy's "zero-size array" for the same input
        raise ValueError("entropy of no tokens: every count is zero")
    return counts


def shannon_entropy_bits(type_counts: np.ndarray) -> float:
    """-Σ p log2 p over the nonzero counts (ValueError without any)."""
    counts = _positive_counts(type_counts)
    probs = counts / counts.sum()
    return float(-np.sum(probs * np.log2(probs))) + 0.0  # + 0.0: one type gives 0.0, not -0.0 in results.json


def renyi_entropy_bits(type_counts: np.ndarray, alpha: float) -> float:
    """Rényi entropy of order ``alpha``: log2(Σ p^α) / (1 - α); Shannon at α = 1 (its limit)."""
    if alpha < 0:
        raise ValueError(f"Rényi order alpha must be >= 0, got {alpha}")
    if alpha == 1:
        return shannon_entropy_bits(type_counts)
    counts = _positive_counts(type_counts)
    probs = counts / counts.sum()
    if abs(alpha - 1.0) < 0.5:
        # log2 Σ p^α and 1 - α both vanish as α -> 1, and their quotient lost digits (α = 1 + 1e-13 was 5e-4 bits
        # off Shannon): Σ p^α - 1 = Σ p (p^(α-1) - 1) through expm1, and log1p of it, keep every digit.
        log_sum = np.log1p(np.sum(probs * np.expm1((alpha - 1.0) * np.log(probs)))) / np.log(2.0)
        return float(log_sum / (1.0 - alpha)) + 0.0
    # Σ p^α underflows to 0 for a large α (0.3**1000 is 0.0), and log2(0) made the entropy inf: factor out
    # the largest p, whose own term is then 1, so the sum left is in [1, types] for any finite α. α / (1 - α)
    # is taken before it multiplies log2(max p): α · log2(max p) overflowed to -inf near the float maximum.
    top = probs.max()
    entropy = alpha / (1.0 - alpha) * np.log2(top) + np.log2(np.sum((probs / top) ** alpha)) / (1.0 - alpha)
    return float(entropy) + 0.0  # log2(1) / (1 - alpha) is -0.0 for alpha > 1


def _efficiency(stats: TokenStats, entropy: float, *, full_vocab: bool) -> MetricValue:
    if stats.tokens == 0:
        return not_applicable("no tokens")
    size = stats.vocab.ordinary_vocab_size if full_vocab else stats.observed_types
    if size < 2:
        return not_applicable(f"efficiency needs |V| >= 2, got {size}")
    # No distribution over `size` types has more than log2(size) bits; a uniform one came out a few ulps
    # above it (1.0000000000000002), a "fraction" above 1 that strict readers reject.
    return MetricValue(min(entropy / math.log2(size), 1.0))


def gini(costs: Sequence[float]) -> float:
    """TokEval's Gini: Σ_i Σ_j |c_i - c_j| / (2 n² μ) (ValueError unless the costs are some positive numbers)."""
    values = np.asarray(costs, dtype=np.float64)
    if not values.size or not np.isfinite(values).all() or (values < 0).any() or values.sum() == 0:
        raise ValueError(f"a Gini needs finite non-negative costs, not all zero; got {values.tolist()}")  # was NaN
    n, mean = values.size, values.mean()
    return float(np.abs(values[:, None] - values[None, :]).sum() / (2.0 * n * n * mean))


# -- compression ----------------------------------------------------------------------------------
@metric("bytes_per_token", pretty_name="Bytes/token", unit="bytes/token", higher_is_better=True, reference=GOLDMAN_2024)
def bytes_per_token(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ UTF-8 bytes / Σ tokens."""
    return ratio(stats.bytes, stats.tokens, what="tokens")


@metric("chars_per_token", pretty_name="Chars/token", unit="chars/token", higher_is_better=True, reference=GOLDMAN_2024)
def chars_per_token(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ Unicode code points (not grapheme clusters) / Σ tokens."""
    return ratio(stats.chars, stats.tokens, what="tokens")


def _words_problem(stats: TokenStats) -> str | None:
    if stats.words_not_applicable:
        return stats.words_not_applicable
    if stats.documents_with_words != stats.documents:
        return f"word counts cover {stats.documents_with_words} of {stats.documents} documents"
    if stats.words == 0:
        return "no words were counted in this corpus"
    return None


@metric(
    "fertility",
    pretty_name="Fertility (tokens/word)",
    unit="tokens/word",
    higher_is_better=False,
    reference=f"{RUST_2021}; Ali et al. 2024 (arXiv:2310.08754)",
    requires=("corpus", "words"),
)
def fertility(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ tokens / Σ words, words from the language's word segmenter."""
    problem = _words_problem(stats)
    return not_applicable(problem) if problem else ratio(stats.tokens, stats.words, what="words")


@metric(
    "split_word_share",
    pretty_name="Words split (2+ tokens)",
    unit="fraction",
    higher_is_better=False,
    reference=f"{RUST_2021} (proportion of continued words)",
    requires=("corpus", "words"),
)
def split_word_share(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ words tokenized into 2+ tokens (each word type in isolation) / Σ words."""
    problem = _words_problem(stats)
    return not_applicable(problem) if problem else ratio(stats.multi_token_words, stats.words, what="words")


# -- comparisons with other cells -----------------------------------------------------------------
@metric(
    "nsl",
    pretty_name="NSL vs baseline",
    unit="ratio",
    higher_is_better=False,
    reference="Dagan et al. 2024, Getting the most out of your tokenizer (arXiv:2402.01035)",
    requires=("corpus", "baseline"),
)
def normalised_sequence_length(
    stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]
) -> MetricValue:
    """Σ tokens / Σ tokens of the baseline tokenizer on the same corpus."""
    assert context.baseline is not None  # compute_all leaves the metric out otherwise
    base = context.cell(context.baseline, stats.corpus)
    if base is None:
        return not_applicable(f"baseline {context.baseline!r} was not measured on corpus {stats.corpus!r}")
    if (base.documents, base.bytes) != (stats.documents, stats.bytes):
        return not_applicable(
            f"baseline {context.baseline!r} saw different text on {stats.corpus!r} "
            f"({base.documents} docs / {base.bytes} bytes vs {stats.documents} / {stats.bytes})"
        )
    return ratio(stats.tokens, base.tokens, what="baseline tokens")


def _unk_rate(stats: TokenStats) -> float:
    return stats.unk_tokens / stats.tokens if stats.tokens else 0.0


@metric(
    "token_premium",
    pretty_name="Token premium vs ref",
    unit="ratio",
    higher_is_better=False,
    reference=PETROV_2023,
    requires=("corpus", "parallel"),
    params={"ref_lang": "en", "max_unk_rate": 0.1},
)
def token_premium(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ tokens in this language / Σ tokens in the reference language, on line-aligned parallel text."""
    from tokensmith.corpus.language_tags import basic_filter, canonical_language

    ref_lang = canonical_language(str(params["ref_lang"]))  # as the cells hold tags: "EN" is en, "pt_BR" pt-BR
    max_unk = float(params["max_unk_rate"])
    group = {c.lang: c for c in context.cells
             if c.tokenizer == stats.tokenizer and c.parallel_group == stats.parallel_group and c.lang is not None}
    named = basic_filter(ref_lang, group)  # ko names the group's ko-Hang
    if len(named) > 1:  # only the default gets here: compute_all refuses a ref_lang given so
        return not_applicable(f"{ref_lang!r} names {len(named)} languages of the parallel corpus "
                              f"{stats.parallel_group!r}: {', '.join(named)}; choose one as --ref-lang")
    if not named:
        return not_applicable(
            f"no {ref_lang!r} text was measured in the parallel corpus {stats.parallel_group!r}; choose another "
            f"--ref-lang (or keep {ref_lang!r} in --lang)"
        )
    ref = group[named[0]]
    if ref.documents != stats.documents:
        return not_applicable(f"{stats.lang!r} has {stats.documents} lines but {ref_lang!r} has {ref.documents}")
    blanked = _too_much_unk((stats, ref), max_unk)
    return blanked if blanked is not None else ratio(stats.tokens, ref.tokens, what="reference tokens")


def _too_much_unk(cells: Sequence[TokenStats], max_unk: float) -> MetricValue | None:
    """Not applicable where a language loses more than ``max_unk`` of its tokens to UNK (Petrov et al. blank
    such language pairs: an UNK stands for any amount of text, so token counts compare nothing), else None."""
    for side in cells:
        if _unk_rate(side) > max_unk:
            return not_applicable(f"UNK rate {_unk_rate(side):.1%} on {side.lang!r} exceeds {max_unk:.0%}")
    return None


def _parallel_costs(cells: Sequence[TokenStats], per: str, max_unk: float) -> MetricValue | np.ndarray:
    if len(cells) < 2:
        return not_applicable(f"needs 2+ languages, the parallel corpus has {len(cells)}")
    blanked = _too_much_unk(cells, max_unk)
    if blanked is not None:
        return blanked
    lines = {c.documents for c in cells}
    if len(lines) != 1:
        return not_applicable(f"languages differ in line count ({sorted(lines)}); the corpus is not aligned")
    denominators = np.array([getattr(c, per) for c in cells], dtype=np.float64)
    if (denominators == 0).any():
        return not_applicable(f"a language has no {per}")
    costs = np.array([c.tokens for c in cells], dtype=np.float64) / denominators
    if costs.sum() == 0:
        return not_applicable("no tokens in any language")
    return costs


@metric(
    "parity_gini",
    pretty_name="Parity Gini (tokens/line)",
    unit="gini",
    higher_is_better=False,
    reference=TOKEVAL_GINI,
    requires=("corpus", "parallel"),
    scope="parallel_group",
    params={"max_unk_rate": 0.1},
)
def parity_gini(cells: Sequence[TokenStats], context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Gini of c_L = Σ tokens_L / Σ lines_L across the languages of a parallel corpus (0 = parity)."""
    costs = _parallel_costs(cells, "documents", float(params["max_unk_rate"]))
    return costs if isinstance(costs, MetricValue) else MetricValue(gini(costs))


@metric(
    "tokens_per_byte_gini",
    pretty_name="Gini (tokens/byte)",
    unit="gini",
    higher_is_better=False,
    reference=TOKEVAL_GINI,
    requires=("corpus", "parallel"),
    scope="parallel_group",
    params={"max_unk_rate": 0.1},
)
def tokens_per_byte_gini(
    cells: Sequence[TokenStats], context: MetricContext, params: Mapping[str, ParamValue]
) -> MetricValue:
    """Gini of c_L = Σ tokens_L / Σ UTF-8 bytes_L across the languages of a parallel corpus."""
    costs = _parallel_costs(cells, "bytes", float(params["max_unk_rate"]))
    return costs if isinstance(costs, MetricValue) else MetricValue(gini(costs))


# -- lost text ------------------------------------------------------------------------------------
@metric("unk_rate", pretty_name="UNK rate", unit="fraction", higher_is_better=False, reference=PETROV_2023)
def unk_rate(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ UNK tokens / Σ tokens (0 without an UNK token; a byte-level BPE lacking bytes drops text instead)."""
    return ratio(stats.unk_tokens, stats.tokens, what="tokens")


@metric("dropped_byte_rate", pretty_name="Text dropped", unit="fraction", higher_is_better=False, reference=DROPPED)
def dropped_byte_rate(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ UTF-8 bytes the byte-level vocabulary has no token for, dropped by its BPE / Σ UTF-8 bytes."""
    return ratio(stats.dropped_bytes, stats.bytes, what="bytes")


@metric(
    "byte_fallback_rate",
    pretty_name="Byte-fallback rate",
    unit="fraction",
    higher_is_better=False,
    reference="Kudo & Richardson 2018, SentencePiece (arXiv:1808.06226), byte_fallback option",
)
def byte_fallback_rate(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ <0xNN> byte-fallback tokens / Σ tokens."""
    if not stats.vocab.byte_fallback_ids:
        return not_applicable("the vocabulary has no <0xNN> byte-fallback tokens")
    return ratio(stats.byte_fallback_tokens, stats.tokens, what="tokens")


# -- the unigram token distribution ---------------------------------------------------------------
@metric(
    "unigram_entropy_bits", pretty_name="Unigram entropy", unit="bits", higher_is_better=None, reference=ZOUHAR_2023
)
def unigram_entropy_bits(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Shannon entropy -Σ p log2 p of the token unigram distribution, p = count / Σ tokens."""
    if stats.tokens == 0:
        return not_applicable("no tokens")
    return MetricValue(shannon_entropy_bits(stats.used_counts))


@metric(
    "shannon_efficiency",
    pretty_name="Shannon eff. (observed |V|)",
    unit="fraction",
    higher_is_better=True,
    reference=ZOUHAR_2023,
)
def shannon_efficiency(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Unigram entropy / log2(observed token types)."""
    return _efficiency(stats, shannon_entropy_bits(stats.used_counts) if stats.tokens else 0.0, full_vocab=False)


@metric(
    "shannon_efficiency_full_vocab",
    pretty_name="Shannon eff. (full |V|)",
    unit="fraction",
    higher_is_better=True,
    reference=ZOUHAR_2023,
)
def shannon_efficiency_full_vocab(
    stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]
) -> MetricValue:
    """Unigram entropy / log2(ordinary vocabulary size)."""
    return _efficiency(stats, shannon_entropy_bits(stats.used_counts) if stats.tokens else 0.0, full_vocab=True)


@metric(
    "renyi_efficiency",
    pretty_name="Rényi eff. (observed |V|)",
    unit="fraction",
    higher_is_better=True,
    reference=ZOUHAR_2023,
    params={"alpha": 2.5},
)
def renyi_efficiency(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Rényi entropy of order alpha / log2(observed token types)."""
    entropy = renyi_entropy_bits(stats.used_counts, float(params["alpha"])) if stats.tokens else 0.0
    return _efficiency(stats, entropy, full_vocab=False)


@metric(
    "renyi_efficiency_full_vocab",
    pretty_name="Rényi eff. (full |V|)",
    unit="fraction",
    higher_is_better=True,
    reference=ZOUHAR_2023,
    params={"alpha": 2.5},
)
def renyi_efficiency_full_vocab(
    stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]
) -> MetricValue:
    """Rényi entropy of order alpha / log2(ordinary vocabulary size)."""
    entropy = renyi_entropy_bits(stats.used_counts, float(params["alpha"])) if stats.tokens else 0.0
    return _efficiency(stats, entropy, full_vocab=True)


@metric(
    "vocab_utilisation",
    pretty_name="Vocab used",
    unit="fraction",
    higher_is_better=None,
    reference=f"{TOKEVAL} (vocabulary utilisation)",
)
def vocab_utilisation(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Distinct ordinary token types used / ordinary vocabulary size (special tokens excluded)."""
    not_ordinary = np.fromiter(stats.vocab.special_ids - stats.vocab.unk_ids, dtype=np.int64)
    used = int(np.count_nonzero(~np.isin(stats.used_ids, not_ordinary)))
    return ratio(used, stats.vocab.ordinary_vocab_size, what="ordinary vocabulary")


@metric(
    "mean_type_length_bytes",
    pretty_name="Mean used-type length",
    unit="bytes",
    higher_is_better=None,
    reference="descriptive (token length statistics)",
    requires=("corpus", "vocab"),
)
def mean_type_length_bytes(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Mean UTF-8 length of the distinct token types the corpus used (each type counted once; UNK left out)."""
    lengths = stats.vocab.token_byte_lengths
    if lengths is None:
        return not_applicable("token byte lengths were not computed for this tokenizer")
    # UNK stands for text of any length; its own spelling ("[UNK]", 5 bytes) is no text of the corpus
    used = stats.used_ids[~np.isin(stats.used_ids, np.fromiter(stats.vocab.unk_ids, dtype=np.int64))]
    if stats.used_ids.size and not used.size:
        return not_applicable("every token is UNK")
    return ratio(int(lengths[used].sum()), int(used.size), what="token types")


# -- speed ----------------------------------------------------------------------------------------
@metric(
    "encode_throughput_mb_s",
    pretty_name="Encode MB/s",
    unit="MB/s",
    higher_is_better=True,
    reference="wall time of the encode calls (MB = 10^6 bytes)",
    requires=("corpus", "timing"),
)
def encode_throughput_mb_s(stats: TokenStats, context: MetricContext, params: Mapping[str, ParamValue]) -> MetricValue:
    """Σ UTF-8 bytes / 10^6 / Σ encode seconds."""
    if stats.encode_seconds <= 0:
        return not_applicable("encode time was not recorded")
    return MetricValue(stats.bytes / 1e6 / stats.encode_seconds)


# -- evaluation -----------------------------------------------------------------------------------
#: The optional inputs (base.OPTIONAL_INPUTS) as a user knows them, and how compute_all is given each.
_INPUT_NAMES = {"baseline": "a baseline tokenizer", "parallel": "cells of a parallel corpus"}
_INPUT_HINTS = {"baseline": "baseline=NAME", "parallel": "TokenStats with parallel_group"}


def _check_ref_lang_names_one(context: MetricContext, ref_lang: str) -> None:
    """A reference language the caller gave that names several languages of a parallel corpus (``zh``: its
    ``zh-Hans`` and ``zh-Hant``) is a mistake to report; one it lacks leaves the premiums n/a, with why."""
    from tokensmith.corpus.language_tags import resolve_language

    langs: dict[str, list[str]] = {}
    for stats in context.cells:
        if stats.parallel_group is not None and stats.lang is not None:
            langs.setdefault(stats.parallel_group, []).append(stats.lang)
    for group, group_langs in langs.items():
        resolve_language(ref_lang, group_langs, f"the parallel corpus {group!r}", "ref_lang")


def compute_all(
    cells: Iterable[TokenStats],
    *,
    baseline: str | None = None,
    ref_lang: str | None = None,
    metrics: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, ParamValue]] | None = None,
) -> list[dict[str, Any]]:
    """Every requested metric on every cell, as flat records (one per value).

    Metrics needing an input the user did not supply (a baseline, a parallel corpus) are left out;
    metrics that do not apply to one cell give ``value=None`` and a ``reason``.

    Args:
        cells: one :class:`TokenStats` per (tokenizer, corpus); shards must be merged first.
        baseline: tokenizer name that NSL divides by.
        ref_lang: reference language of token premiums (shortcut for
            ``params={"token_premium": {"ref_lang": ...}}``).
        metrics: names to compute, in registry order when None (all of them).
        params: per-metric parameter overrides, e.g. ``{"renyi_efficiency": {"alpha": 3.0}}``.

    Returns:
        Records with the keys of :data:`RECORD_FIELDS`; cell metrics first (cell by cell), then
        parallel-group metrics with ``corpus`` = the parallel corpus and ``lang`` = None.

    Raises:
        UnknownNameError: a metric name is not registered.
        InputError: the baseline was not measured, or a parameter name is unknown.
        ValueError: two cells share (tokenizer, corpus) (merge shards first).
    """
    context = MetricContext(tuple(cells), baseline=baseline)
    if baseline is not None and not any(c.tokenizer == baseline for c in context.cells):
        known = sorted({c.tokenizer for c in context.cells})
        raise InputError(
            f"baseline {baseline!r} is not among the measured tokenizers", f"choose one of: {', '.join(known)}"
        )
    overrides = {name: dict(values) for name, values in (params or {}).items()}
    if ref_lang is not None:
        overrides.setdefault("token_premium", {})["ref_lang"] = ref_lang
    chosen = [METRICS.get(name) for name in (metrics if metrics is not None else METRICS.names())]
    for name in overrides:
        METRICS.get(name)  # an override for an unknown metric is a typo worth reporting
    resolved = {m.name: m.resolve_params(overrides.get(m.name)) for m in chosen}
    if "ref_lang" in overrides.get("token_premium", {}) and "token_premium" in resolved:
        _check_ref_lang_names_one(context, str(resolved["token_premium"]["ref_lang"]))
    if metrics is not None:  # asked for by name, a metric left out for want of its input gave no record, silently
        for m in chosen:
            lacking = sorted(r for r in m.requires if not context.has(r))
            if lacking:
                raise InputError(f"metric {m.name!r} needs {' and '.join(map(_INPUT_NAMES.get, lacking))}",
                                 f"supply it ({', '.join(map(_INPUT_HINTS.get, lacking))}) or drop {m.name!r}")
    chosen = [m for m in chosen if all(context.has(r) for r in m.requires)]

    records: list[dict[str, Any]] = []

    def record(m: Any, tokenizer: str, corpus: str, lang: str | None, result: MetricValue) -> None:
        shown = dict(resolved[m.name])
        if "baseline" in m.requires:
            shown["baseline"] = context.baseline
        records.append(
            {
                "tokenizer": tokenizer,
                "corpus": corpus,
                "lang": lang,
                "metric": m.name,
                "value": result.value,
                "unit": m.unit,
                "higher_is_better": m.higher_is_better,
                "params": shown,
                "reason": result.reason,
            }
        )

    for stats in context.cells:
        for m in chosen:
            if m.scope != "cell" or ("parallel" in m.requires and stats.parallel_group is None):
                continue
            record(m, stats.tokenizer, stats.corpus, stats.lang, m.compute(stats, context, resolved[m.name]))
    for (tokenizer, group), group_cells in context.parallel_groups().items():
        for m in chosen:
            if m.scope == "parallel_group":
                record(m, tokenizer, group, None, m.compute(group_cells, context, resolved[m.name]))
    return records
