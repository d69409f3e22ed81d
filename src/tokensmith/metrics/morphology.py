"""Morpheme alignment: do token boundaries fall on gold morpheme boundaries?

Gold segmentations come in the Morpho-Challenge style of ``../shared/data/morph``: one word per line,
``word<TAB>seg1[, seg2...]``, each analysis a space-separated list of morphs that concatenate to the
word. A word may have several analyses (``için	için, iç in``); each word is scored against the
analysis that fits the tokenization best, so an ambiguous word is not penalised for the reading the
tokenizer did not pick.

Boundaries are character offsets inside the word: ``kitap lar ı`` -> {5, 8}. A tokenization's
boundaries are the offsets between its tokens, after the space the tokenizer folds into the first
token is removed; a token boundary inside a multi-byte character (byte-level BPE) cannot coincide
with a morpheme boundary and is ignored.

Two figures:

* **MorphScore** (Arnett & Bergen 2025, "Why do language models perform worse for morphologically
  complex languages?", arXiv:2411.14198; catherinearnett/morphscore): per word, the share of its
  gold boundaries that are also token boundaries, averaged over words. The original data has one
  boundary per item and scores 1 if a token boundary falls on it, which this reduces to. As in the
  original, words the tokenizer keeps as a single token are excluded (``exclude_single_token``), and
  words with no gold boundary cannot be scored.
* **Boundary precision / recall / F1** (micro-averaged over every alignable word, monomorphemic
  and single-token words included): TP = token boundaries on a gold boundary, FP = other token
  boundaries, FN = gold boundaries without a token boundary; F1 = TP / (TP + (FP + FN) / 2), as in
  the Greed benchmark (Uzan et al. 2024).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError

#: Skipped lines whose text is kept as examples in the report.
MAX_SKIP_EXAMPLES = 5


@dataclass(frozen=True)
class SegmentedWord:
    """A word and its gold analyses (each a tuple of morphs concatenating to the word)."""

    word: str
    analyses: tuple[tuple[str, ...], ...]

    def boundary_sets(self) -> list[frozenset[int]]:
        """Gold boundaries (character offsets) of each analysis."""
        return [morph_boundaries(morphs) for morphs in self.analyses]


@dataclass
class Segmentations:
    """A parsed segmentation file.

    Attributes:
        words: the usable words, in file order (a repeated word keeps its first line).
        skipped: reason -> number of lines or analyses left out.
        skip_examples: a few of the skipped lines, for the report.
        source: the file read.
    """

    words: list[SegmentedWord]
    skipped: Counter = field(default_factory=Counter)
    skip_examples: list[str] = field(default_factory=list)
    source: str = ""

    def morphemes(self) -> set[str]:
        """Every morph of every analysis (the morpheme inventory used by %pure)."""
        return {morph for w in self.words for analysis in w.analyses for morph in analysis}

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "words": len(self.words),
            "skipped": dict(sorted(self.skipped.items())),
            "skip_examples": list(self.skip_examples),
        }


def morph_boundaries(morphs: Sequence[str]) -> frozenset[int]:
    """Inner boundaries of a segmentation: ``("kitap", "lar", "ı")`` -> {5, 8}."""
    offsets, position = [], 0
    for morph in morphs[:-1]:
        position += len(morph)
        offsets.append(position)
    return frozenset(offsets)


def parse_segmentation_lines(lines: Iterable[str], *, source: str = "") -> Segmentations:
    """Parse ``word<TAB>seg1[, seg2...]`` lines; bad lines and analyses are skipped and counted.

    Reasons counted: ``no_tab`` (no tab or empty field), ``morphs_do_not_concatenate`` (an analysis
    whose morphs do not spell the word; the word is kept if another analysis does),
    ``no_valid_analysis`` (every analysis of the word failed), ``duplicate_word``.
    """
    result = Segmentations(words=[], source=source)
    seen: set[str] = set()

    def skip(reason: str, line: str) -> None:
        result.skipped[reason] += 1
        if len(result.skip_examples) < MAX_SKIP_EXAMPLES:
            result.skip_examples.append(f"{reason}: {line}")

    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        word, tab, rest = line.partition("\t")
        word = word.strip()
        if not tab or not word or not rest.strip():
            skip("no_tab", line)
            continue
        analyses = []
        for analysis in rest.split(","):
            morphs = tuple(analysis.split())
            if not morphs:
                continue
            if "".join(morphs) != word:
                skip("morphs_do_not_concatenate", line)
                continue
            if morphs not in analyses:
                analyses.append(morphs)
        if not analyses:
            skip("no_valid_analysis", line)
            continue
        if word in seen:
            skip("duplicate_word", line)
            continue
        seen.add(word)
        result.words.append(SegmentedWord(word, tuple(analyses)))
    return result


def read_segmentations(path: str | os.PathLike) -> Segmentations:
    """Read a segmentation file (UTF-8, ``word<TAB>seg1[, seg2...]``).

    Raises:
        InputError: missing file, not UTF-8, or no usable line at all.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such segmentation file: {path}", "pass a file of lines word<TAB>morph morph[, ...]")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"segmentation file {path} is not UTF-8 (byte {error.start})", "convert it with iconv -t UTF-8"
        ) from None
    result = parse_segmentation_lines(text.splitlines(), source=str(path))
    if not result.words:
        raise InputError(
            f"segmentation file {path} has no usable line ({sum(result.skipped.values())} skipped)",
            "each line must be word<TAB>morph morph[, morph morph] with morphs spelling the word",
        )
    return result


# -- token boundaries -------------------------------------------------------------------------------


def token_boundaries_of(pieces: Sequence[bytes], word: str) -> frozenset[int] | None:
    """Character offsets between tokens inside ``word``, or None when the tokens do not spell it.

    ``pieces`` are the token byte strings of the encoded word (possibly with a leading space folded
    into the first token, or a SentencePiece dummy prefix). Tokenizers that normalise the text
    (lower-casing, accent stripping) are aligned by characters when each token decodes on its own
    and the character count matches the word's.
    """
    joined = b"".join(pieces)
    lead = len(joined) - len(joined.lstrip(b" "))
    word_bytes = word.encode("utf-8")
    if joined[lead:] == word_bytes:
        char_at = {}
        chars = 0
        for index in range(len(word_bytes) + 1):
            if index == len(word_bytes) or (word_bytes[index] & 0xC0) != 0x80:
                char_at[index] = chars
                chars += 1
        offsets, position = set(), -lead
        for piece in pieces[:-1]:
            position += len(piece)
            if 0 < position < len(word_bytes) and position in char_at:
                offsets.add(char_at[position])
        return frozenset(offsets)
    try:
        texts = [piece.decode("utf-8") for piece in pieces]
    except UnicodeDecodeError:
        return None
    text_lead = len("".join(texts)) - len("".join(texts).lstrip(" "))
    if len("".join(texts)) - text_lead != len(word):
        return None
    offsets, position = set(), -text_lead
    for text in texts[:-1]:
        position += len(text)
        if 0 < position < len(word):
            offsets.add(position)
    return frozenset(offsets)


def tokenize_words(
    tokenizer: Any, words: Sequence[str], *, leading_space: bool | None = None, batch: int = 4096
) -> list[tuple[int, frozenset[int] | None]]:
    """(token count, token boundaries or None if unalignable) of each word encoded in isolation.

    Args:
        leading_space: encode ``" " + word`` (the form a mid-sentence word has in spaced scripts).
            None probes whether the tokenizer folds a leading space into the word
            (:func:`tokensmith.metrics.word_split.folds_leading_space`), as the split-word share does.
    """
    from tokensmith.metrics.word_split import folds_leading_space

    if leading_space is None:
        leading_space = folds_leading_space(tokenizer.encode_batch)
    prefix = " " if leading_space else ""
    out = []
    for start in range(0, len(words), batch):
        chunk = words[start : start + batch]
        for word, ids in zip(chunk, tokenizer.encode_batch([prefix + w for w in chunk]), strict=True):
            pieces = [tokenizer.token_bytes(i) for i in ids]
            # A lone leading-space token is not part of the word.
            count = len(ids) - (1 if pieces and pieces[0].strip() == b"" and len(pieces) > 1 else 0)
            out.append((count, token_boundaries_of(pieces, word)))
    return out


# -- scoring ----------------------------------------------------------------------------------------


def _f1(tp: int, fp: int, fn: int) -> float:
    return 1.0 if tp + fp + fn == 0 else tp / (tp + 0.5 * (fp + fn))


def best_analysis(gold: Sequence[frozenset[int]], predicted: frozenset[int]) -> frozenset[int]:
    """The gold boundary set that best fits ``predicted``: highest F1, then most hits, then first."""
    return max(
        gold,
        key=lambda g: (_f1(len(g & predicted), len(predicted - g), len(g - predicted)), len(g & predicted)),
    )


def score_segmentations(
    words: Sequence[SegmentedWord],
    tokenized: Sequence[tuple[int, frozenset[int] | None]],
    *,
    exclude_single_token: bool = True,
) -> dict[str, Any]:
    """MorphScore and boundary P/R/F1 of tokenizations against gold analyses.

    Args:
        words: gold words.
        tokenized: (token count, token boundaries or None) per word, as :func:`tokenize_words` gives.
        exclude_single_token: leave single-token words out of MorphScore (Arnett & Bergen's default).
    """
    if len(words) != len(tokenized):
        raise ValueError(f"{len(words)} words but {len(tokenized)} tokenizations")
    morph_sum = 0.0
    morph_words = single_token = monomorphemic = unalignable = 0
    tp = fp = fn = 0
    for item, (count, predicted) in zip(words, tokenized, strict=True):
        if predicted is None:
            unalignable += 1
            continue
        gold = item.boundary_sets()
        best = best_analysis(gold, predicted)
        tp += len(best & predicted)
        fp += len(predicted - best)
        fn += len(best - predicted)
        segmented = [g for g in gold if g]
        if not segmented:
            monomorphemic += 1
            continue
        if exclude_single_token and count <= 1:
            single_token += 1
            continue
        morph_sum += max(len(g & predicted) / len(g) for g in segmented)
        morph_words += 1
    aligned = len(words) - unalignable
    return {
        "morph_score": morph_sum / morph_words if morph_words else None,
        "morph_score_words": morph_words,
        "boundary_precision": tp / (tp + fp) if tp + fp else None,
        "boundary_recall": tp / (tp + fn) if tp + fn else None,
        "boundary_f1": _f1(tp, fp, fn) if aligned else None,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "words": len(words),
        "aligned_words": aligned,
        "excluded_single_token": single_token,
        "excluded_monomorphemic": monomorphemic,
        "unalignable": unalignable,
        "exclude_single_token": exclude_single_token,
    }


def morph_score(
    tokenizer: Any,
    segmentations: Segmentations | str | os.PathLike,
    *,
    leading_space: bool | None = None,
    exclude_single_token: bool = True,
    limit: int | None = None,
) -> dict[str, Any]:
    """MorphScore and boundary precision/recall/F1 of ``tokenizer`` on a segmentation file.

    Args:
        tokenizer: a loaded :class:`tokensmith.tokenizers.base.Tokenizer`.
        segmentations: a parsed :class:`Segmentations` or a path to read.
        leading_space: see :func:`tokenize_words`.
        exclude_single_token: see :func:`score_segmentations`.
        limit: score only the first ``limit`` words (files list frequent words first).

    Returns:
        The figures of :func:`score_segmentations` plus the file's skip counts (``segmentation``).
    """
    if not isinstance(segmentations, Segmentations):
        segmentations = read_segmentations(segmentations)
    words = segmentations.words[:limit] if limit else segmentations.words
    tokenized = tokenize_words(tokenizer, [w.word for w in words], leading_space=leading_space)
    result = score_segmentations(words, tokenized, exclude_single_token=exclude_single_token)
    result["segmentation"] = segmentations.describe()
    return result
