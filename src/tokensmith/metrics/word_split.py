"""Words a tokenizer splits into two or more tokens: the numerator of the split-word share.

Following Rust et al. (2021, arXiv:2012.15613) each word is tokenized in isolation; in spaced scripts a
mid-sentence word is preceded by a space, so it is encoded as ``" " + word`` when the tokenizer folds
that space into the word's token (GPT-2 ``Ġword``, SentencePiece ``▁word``). Where the pre-tokenizer splits
the space off instead (numbers under cl100k and o200k: `` 123`` is ``" "``, ``"123"``), the leading token
that is only the space belongs to no word and is not counted.

Two costs are kept off the per-token path:

* :class:`WordSplitter` encodes each word *type* once. For a tokenizer whose token bytes always
  concatenate to the input (``Tokenizer.exact_spans``), a word can only be one token if its text is
  some token's text, so only the types in :func:`single_token_texts` are encoded at all; every other
  type takes 2+ tokens by that argument.
* :class:`WordTally` counts a corpus' segmentation units (whitespace chunks for UAX #29) across
  batches and turns them into words and splits once per distinct unit, folding whenever the table
  grows past a bound so memory stays flat however large the corpus.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tokensmith.tokenizers.base import ragged_of_lists

#: Word types encoded per ``encode_batch`` call by :class:`WordSplitter`.
WORD_BATCH = 4096

#: Frequent words used to probe whether a tokenizer folds a leading space into the word's token.
SPACE_PROBE_WORDS = ("the", "of", "and", "to", "in")

#: Distinct units a :class:`WordTally` holds before it folds them into word totals (~150 MB at most).
FOLD_UNITS = 1 << 20


@dataclass(frozen=True)
class WordSplit:
    """Word counts of one batch: all words, and those a tokenizer splits into 2+ tokens."""

    words: int
    multi_token_words: int

    def __add__(self, other: WordSplit) -> WordSplit:
        return WordSplit(self.words + other.words, self.multi_token_words + other.multi_token_words)


def single_token_texts(tokenizer: Any, *, leading_space: bool) -> frozenset[str]:
    """Texts that are exactly one token of ``tokenizer`` (its ``all_token_bytes`` that are UTF-8).

    With ``leading_space`` only tokens that start with a space count, and the space is dropped: the
    result is then the set of words ``w`` for which ``" " + w`` is a token.
    """
    texts = set()
    for raw in tokenizer.all_token_bytes:
        if leading_space:
            if raw[:1] != b" ":
                continue
            raw = raw[1:]
        try:
            texts.add(raw.decode("utf-8"))
        except UnicodeDecodeError:  # a partial character is no word's whole text
            continue
    return frozenset(texts)


class WordSplitter:
    """Counts words a tokenizer splits into two or more tokens, each word *type* encoded once.

    Token counts per type are cached, so a corpus costs one encode per distinct word, not per word.

    Args:
        encode_batch: a tokenizer's ``encode_batch`` (texts -> id lists, no special tokens).
        leading_space: prefix each word with a space. ``None`` probes the tokenizer
            (:func:`folds_leading_space`); pass ``False`` for scripts written without spaces
            (zh, ja, th), whose words do not follow a space.
        single_token_texts: only for a tokenizer with exact spans: every word that may take one token
            (:func:`single_token_texts`: with ``leading_space``, the words ``w`` for which ``" " + w`` or
            ``w`` is a token). Words outside it are counted as split without encoding them.
        encode_ragged: the tokenizer's ``encode_ragged`` (texts -> flat ids and offsets), which encodes many
            word types without a list each; by default made from ``encode_batch``.
        space_ids: ids of the tokens that are only a space (``▁``); one of them leading a word's 2+ tokens
            is the word boundary and not counted. By default the id of ``encode(" ")`` when it is one token,
            with ``leading_space`` only.
    """

    def __init__(
        self,
        encode_batch: Callable[[Sequence[str]], Sequence[Sequence[int]]],
        *,
        leading_space: bool | None = None,
        single_token_texts: frozenset[str] | None = None,
        encode_ragged: Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]] | None = None,
        space_ids: Iterable[int] | None = None,
    ) -> None:
        self._encode_ragged = encode_ragged or (lambda texts: ragged_of_lists(encode_batch(texts)))
        self.leading_space = folds_leading_space(encode_batch) if leading_space is None else leading_space
        self._single_token_texts = single_token_texts
        if space_ids is not None:
            self._space_ids = np.array(sorted(space_ids), dtype=np.int64)
        else:
            self._space_ids = _bare_space_ids(encode_batch) if self.leading_space else np.zeros(0, dtype=np.int64)
        self._tokens_per_type: dict[str, int] = {}
        self._one_token_types: set[str] = set()  # the encoded types that took exactly one token
        self._lock = threading.Lock()  # one splitter may serve several corpora folding on different threads
        self.seconds = 0.0

    @classmethod
    def for_tokenizer(cls, tokenizer: Any, *, spaced: bool) -> WordSplitter:
        """The splitter for a loaded tokenizer, using its token texts when its spans are exact.

        Args:
            tokenizer: a :class:`tokensmith.tokenizers.base.Tokenizer`.
            spaced: the words come from a script written with spaces (probe the leading space).
        """
        leading_space = folds_leading_space(tokenizer.encode_batch) if spaced else False
        texts = None
        if tokenizer.exact_spans:
            texts = single_token_texts(tokenizer, leading_space=leading_space)
            if leading_space:  # a word whose space the pre-tokenizer splits off is one token if it is a token
                texts = texts | single_token_texts(tokenizer, leading_space=False)
        return cls(tokenizer.encode_batch, leading_space=leading_space, single_token_texts=texts,
                   encode_ragged=tokenizer.encode_ragged, space_ids=space_token_ids(tokenizer))

    @property
    def single_token_texts(self) -> frozenset[str] | None:
        """The texts that are one token (prefix included), known for exact-span tokenizers only."""
        return self._single_token_texts

    @property
    def cached_types(self) -> int:
        return len(self._tokens_per_type)

    def tokens_per_word(self, words: Iterable[str]) -> dict[str, int]:
        """Token count of each word in isolation (cached)."""
        wanted = list(dict.fromkeys(words))
        with self._lock:
            self._encode_missing(wanted)
            return {w: self._tokens_per_type[w] for w in wanted}

    def split(self, word_counts: Mapping[str, int]) -> WordSplit:
        """Total words and words of 2+ tokens, from a word-type -> occurrences mapping (a Counter)."""
        with self._lock:
            return self._split(word_counts)

    def _split(self, word_counts: Mapping[str, int]) -> WordSplit:
        words = sum(word_counts.values())
        if self._single_token_texts is None:
            self._encode_missing(word_counts)
            lengths = self._tokens_per_type
            return WordSplit(words, sum(n for word, n in word_counts.items() if lengths[word] >= 2))
        # Exact spans: a one-token word's text is that token's text, so only those types can be whole.
        # Set operations keep the per-type work in C; the splitter never encodes more types than tokens.
        # (``set.intersection(keys)`` probes the set once per key; ``keys & frozenset`` would walk the
        # whole frozenset instead.)
        self._encode_missing(self._single_token_texts.intersection(word_counts.keys()))
        whole = sum(map(word_counts.__getitem__, self._one_token_types.intersection(word_counts.keys())))
        return WordSplit(words, words - whole)

    def _encode_missing(self, words: Iterable[str]) -> None:
        started = time.perf_counter()
        missing = [w for w in words if w not in self._tokens_per_type]
        prefix = " " if self.leading_space else ""
        for start in range(0, len(missing), WORD_BATCH):
            chunk = missing[start : start + WORD_BATCH]
            ids, offsets = self._encode_ragged([prefix + w for w in chunk])
            lengths = np.diff(offsets)
            if len(self._space_ids) and len(ids):  # a leading lone space token is no part of the word
                first = ids[np.minimum(offsets[:-1], len(ids) - 1)]
                lengths -= (lengths > 1) & np.isin(first, self._space_ids)
            lengths = lengths.tolist()
            self._tokens_per_type.update(zip(chunk, lengths, strict=True))
            self._one_token_types.update(w for w, n in zip(chunk, lengths, strict=True) if n == 1)
        self.seconds += time.perf_counter() - started


#: Per tokenizer, the ids of its tokens that are only a space (a vocabulary scan; measure asks once per corpus).
_SPACE_TOKEN_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def space_token_ids(tokenizer: Any) -> tuple[int, ...]:
    """Ids of the tokens whose bytes are one space, found by their bytes rather than by encoding " ":
    SentencePiece reads " " as "▁▁" after its dummy prefix, and that prefix leads even a zh word encoded
    alone ("去" is "▁", "去"), which follows no space in context; it is no more part of the word than the
    space a splitter prefixes."""
    try:
        return _SPACE_TOKEN_IDS[tokenizer]
    except (KeyError, TypeError):  # TypeError: an object that cannot be a weak key, scanned every time
        token_bytes = tokenizer.all_token_bytes
        found = tuple(itertools.compress(range(len(token_bytes)), map(b" ".__eq__, token_bytes)))
    with contextlib.suppress(TypeError):
        _SPACE_TOKEN_IDS[tokenizer] = found
    return found


def _bare_space_ids(encode_batch: Callable[[Sequence[str]], Sequence[Sequence[int]]]) -> np.ndarray:
    """The id of a lone space (``int64``, none unless it is one token): a word encoded after a space that
    starts with it did not take the space in (the pre-tokenizer split it off)."""
    ids = list(encode_batch([" "])[0])
    return np.array(ids if len(ids) == 1 else [], dtype=np.int64)


def folds_leading_space(encode_batch: Callable[[Sequence[str]], Sequence[Sequence[int]]]) -> bool:
    """Whether ``" word"`` is as short as ``"word"`` for frequent words, i.e. the space joins the word.

    True for GPT-2-style byte-level BPE, tiktoken, SentencePiece (which normalises the space into
    ``▁``) and WordPiece (which drops it). False for tokenizers that emit a separate token for a
    leading space, such as a Metaspace pre-tokenizer that also prepends its own ``▁``: encoding
    ``" " + word`` there would count every word as split.
    """
    bare = encode_batch(list(SPACE_PROBE_WORDS))
    spaced = encode_batch([" " + w for w in SPACE_PROBE_WORDS])
    return sum(map(len, spaced)) <= sum(map(len, bare))


class UnitCounter:
    """The segmenter's half of a :class:`WordTally`: counts units, turns them into word counts.

    Args:
        segmenter: the corpus' :class:`tokensmith.corpus.words.WordSegmenter`.
        fold_units: distinct units held before :meth:`add` hands back their words (memory bound;
            default :data:`FOLD_UNITS`).
    """

    def __init__(self, segmenter: Any, *, fold_units: int | None = None) -> None:
        self._segmenter = segmenter
        self._fold_units = FOLD_UNITS if fold_units is None else fold_units
        self._units = segmenter.new_units()

    def add(self, texts: Sequence[str]) -> Mapping[str, int] | None:
        """Count the units of a batch; when the table is full, return its words and start afresh."""
        self._segmenter.count_units(texts, self._units)
        return self.flush() if len(self._units) >= self._fold_units else None

    def flush(self) -> Mapping[str, int]:
        """Word counts of the units counted since the last flush."""
        if not len(self._units):
            return Counter()
        units, self._units = self._units, self._segmenter.new_units()
        return self._segmenter.words_of_units(units)


def one_token_candidates(splitters: Sequence[WordSplitter]) -> frozenset[str] | None:
    """Every word that may be one token for some of ``splitters`` (the union of their single-token
    texts), or None unless all of them know theirs (exact spans); any other word is split by all."""
    texts = [splitter.single_token_texts for splitter in splitters]
    if not texts or any(t is None for t in texts):
        return None
    return frozenset().union(*texts)


class WordTotals:
    """The tokenizers' half of a :class:`WordTally`: word totals per tokenizer from word counts.

    Args:
        splitters: one :class:`WordSplitter` per tokenizer.
        candidates: :func:`one_token_candidates` of ``splitters`` (computed here if not given; pass it when
            many totals share the splitters). Only the words among them are split per tokenizer, so the
            word table is walked once instead of twice per tokenizer.
    """

    def __init__(self, splitters: Sequence[WordSplitter], *, candidates: frozenset[str] | None = None) -> None:
        self._splitters = list(splitters)
        self._candidates = one_token_candidates(self._splitters) if candidates is None else candidates
        self._totals = [WordSplit(0, 0)] * len(self._splitters)

    def add(self, words: Mapping[str, int] | None) -> list[WordSplit]:
        """Split ``words`` per tokenizer and add them; returns the totals so far (``splitters`` order)."""
        if not words:
            return list(self._totals)
        if self._candidates is None:
            self._totals = [total + splitter.split(words)
                            for total, splitter in zip(self._totals, self._splitters, strict=True)]
            return list(self._totals)
        count = sum(words.values())
        maybe_whole = {word: words[word] for word in self._candidates.intersection(words.keys())}
        for index, splitter in enumerate(self._splitters):
            part = splitter.split(maybe_whole)  # every word outside maybe_whole takes 2+ tokens
            whole = part.words - part.multi_token_words
            self._totals[index] = self._totals[index] + WordSplit(count, count - whole)
        return list(self._totals)


class WordTally:
    """Word totals of one corpus for several tokenizers: segmented once, split per tokenizer.

    Args:
        segmenter: the corpus' :class:`tokensmith.corpus.words.WordSegmenter`.
        splitters: one :class:`WordSplitter` per tokenizer.
        fold_units: distinct units held before they are folded into totals (memory bound).
    """

    def __init__(self, segmenter: Any, splitters: Sequence[WordSplitter], *, fold_units: int | None = None) -> None:
        self._units = UnitCounter(segmenter, fold_units=fold_units)
        self._totals = WordTotals(splitters)
        self.documents = 0

    def add(self, texts: Sequence[str]) -> None:
        """Count the units of a batch of documents (folding when the table is full)."""
        self._totals.add(self._units.add(texts))
        self.documents += len(texts)

    def fold(self) -> None:
        """Turn the units counted so far into words, split them per tokenizer, and forget them."""
        self._totals.add(self._units.flush())

    def totals(self) -> list[WordSplit]:
        """Word totals per tokenizer (in ``splitters`` order) over everything added."""
        return self._totals.add(self._units.flush())
