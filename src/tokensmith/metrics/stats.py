"""Per-cell token accounting: what every corpus metric is computed from.

A *cell* is one tokenizer measured on one corpus (one language). The measuring loop encodes text in
batches and hands each batch, with its ids, to the cell's :class:`TokenStats`; the metrics later read
nothing but these sums. Bookkeeping must stay far cheaper than encoding, so the per-token work is one
vectorised ``np.bincount`` over a buffer of ~1M ids, never a Python loop over tokens.

Typical use (the ``measure`` orchestration)::

    vocab = VocabularyFacts.of(tokenizer)
    stats = TokenStats(vocab, tokenizer=tokenizer.name, corpus="mono/de", lang="de")
    tally = WordTally(segmenter, [WordSplitter.for_tokenizer(tokenizer, spaced=True)])
    for texts in batches:
        started = time.perf_counter()
        ids = tokenizer.encode_flat(texts)
        stats.add_flat(BatchSize.of(texts), ids, encode_seconds=time.perf_counter() - started)
        tally.add(texts)                                           # word units, counted not split
    stats.add_words(tally.totals()[0], tally.documents)
    # or, when the language has no word segmenter:
    stats.mark_words_not_applicable("no word segmenter for 'xx'")
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tokensmith.corpus.language_tags import canonical_language
from tokensmith.metrics.word_split import WordSplit

#: Ids buffered before one ``np.bincount`` folds them into the type counts. Large enough that the
#: per-call cost (a vocabulary-sized array) vanishes, small enough to keep memory flat (~8 MB).
FLUSH_TOKENS = 1 << 20

#: Plain sums of a cell: added by :meth:`TokenStats.merge`, restored by :meth:`TokenStats.from_dict`.
SUMMED_COUNTS = (
    "documents", "bytes", "chars", "tokens", "words", "multi_token_words", "documents_with_words", "dropped_bytes",
)
SUMMED_SECONDS = ("encode_seconds", "bookkeeping_seconds")


@dataclass(frozen=True)
class VocabularyFacts:
    """What the accounting needs to know about a tokenizer's vocabulary.

    Attributes:
        vocab_size: number of ids (the ``Tokenizer.vocab_size``); type counts have this length.
        special_ids: control tokens; ``encode`` adds none, but HF and GGUF byte-level vocabularies give one
            for text that spells it (see :mod:`tokensmith.tokenizers.base`).
        unk_ids: ids that stand for unknown text (role ``unk``).
        byte_fallback_ids: SentencePiece-style ``<0xNN>`` tokens; empty for byte-level BPE, whose
            single-byte tokens are ordinary vocabulary.
        token_byte_lengths: UTF-8 length of every token (``len(token_bytes(id))``), or None when not
            computed; only the mean used-type length needs it.
        missing_bytes: byte values of UTF-8 text that a byte-level vocabulary has no token for (the
            loaders' ``info.extra["missing_bytes"]``); its BPE, without UNK, drops them from the text.
        unused_ids: ids no token occupies (the gaps of a tiktoken id space: o200k's 199998 and 200000-200017,
            between its ranks and its special tokens), which no text produces; found from the token bytes.
    """

    vocab_size: int
    special_ids: frozenset[int] = frozenset()
    unk_ids: frozenset[int] = frozenset()
    byte_fallback_ids: frozenset[int] = frozenset()
    token_byte_lengths: np.ndarray | None = field(default=None, compare=False, repr=False)
    missing_bytes: tuple[int, ...] = ()
    unused_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.vocab_size <= 0:
            raise ValueError(f"vocab_size must be positive, got {self.vocab_size}")
        if not all(0 <= b <= 255 for b in self.missing_bytes):
            raise ValueError(f"missing_bytes must be byte values 0-255, got {self.missing_bytes}")
        if self.token_byte_lengths is not None and len(self.token_byte_lengths) != self.vocab_size:
            raise ValueError(
                f"token_byte_lengths has {len(self.token_byte_lengths)} entries for a vocabulary of {self.vocab_size}"
            )

    @classmethod
    def of(cls, tokenizer: Any, *, with_token_lengths: bool = True) -> VocabularyFacts:
        """Facts of a loaded :class:`tokensmith.tokenizers.base.Tokenizer`.

        Args:
            tokenizer: any object with ``vocab_size``, ``special_tokens``, ``byte_fallback_ids`` and
                (when ``with_token_lengths``) ``all_token_bytes``.
            with_token_lengths: also record every token's byte length (one pass over the vocabulary,
                cached on the tokenizer and shared with the vocabulary metrics).
        """
        specials = tuple(getattr(tokenizer, "special_tokens", ()))
        lengths = None
        unused: frozenset[int] = frozenset()
        if with_token_lengths:
            lengths = np.fromiter(map(len, tokenizer.all_token_bytes), dtype=np.int64, count=tokenizer.vocab_size)
            # a real token has bytes; an empty one that is no special token is a gap in the id space
            unused = frozenset(map(int, np.flatnonzero(lengths == 0))) - {s.id for s in specials}
        extra = getattr(getattr(tokenizer, "info", None), "extra", None) or {}
        return cls(
            vocab_size=int(tokenizer.vocab_size),
            special_ids=frozenset(s.id for s in specials),
            unk_ids=frozenset(s.id for s in specials if s.role == "unk"),
            byte_fallback_ids=frozenset(getattr(tokenizer, "byte_fallback_ids", ())),
            token_byte_lengths=lengths,
            missing_bytes=tuple(int(b, 16) for b in extra.get("missing_bytes") or ()),  # "0x04" -> 4
            unused_ids=unused,
        )

    @property
    def ordinary_vocab_size(self) -> int:
        """Ids text can produce: the vocabulary minus special tokens and unused ids (the "full |V|" of the
        metrics; o200k's is its 199,998 ranks, not the 200,017 ids that are no special token).

        UNK counts as ordinary here: ``encode`` does emit it, so it belongs to the channel's alphabet.
        """
        not_produced = (self.special_ids - self.unk_ids) | self.unused_ids
        return self.vocab_size - sum(1 for i in not_produced if 0 <= i < self.vocab_size)


@dataclass(frozen=True)
class BatchSize:
    """Documents, characters and UTF-8 bytes of a batch of texts, and how often each byte value occurs
    (``byte_counts``, 256 counts) when asked for: cells of a vocabulary lacking bytes count them."""

    documents: int
    chars: int
    bytes: int
    byte_counts: np.ndarray | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, texts: Sequence[str], *, count_bytes: bool = False) -> BatchSize:
        # One join and one encode in C; the n-1 one-byte separators are taken off again.
        joined = "\n".join(texts)
        separators = max(len(texts) - 1, 0)
        data = joined.encode("utf-8", "surrogatepass")
        byte_counts = None
        if count_bytes:
            byte_counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
            byte_counts[0x0A] -= separators
        return cls(len(texts), len(joined) - separators, len(data) - separators, byte_counts)


class TokenStats:
    """Sums for one (tokenizer, corpus) cell, fed batch by batch with already-encoded ids.

    Counts are exact integers; merging shards (:meth:`merge`) gives the same sums as one pass.

    Args:
        vocab: facts about the tokenizer's vocabulary (size, UNK and byte-fallback ids).
        tokenizer: tokenizer name as reported in results.
        corpus: corpus name as reported in results (unique per cell for one tokenizer).
        lang: language tag of the corpus, or None; kept in BCP 47's canonical form (``eng_Latn`` is ``en``),
            which token premiums, lexicons and word segmenters look languages up by.
        parallel_group: name of the parallel corpus this cell belongs to (all languages of one
            line-aligned folder share it), or None for a monolingual corpus.

    Attributes:
        documents, bytes, chars, tokens: totals over every added document (bytes are UTF-8).
        words, multi_token_words: totals from the word segmenter and :class:`WordSplitter`.
        documents_with_words: documents whose batch carried word counts; fertility needs them all.
        dropped_bytes: UTF-8 bytes of the text that are ``vocab.missing_bytes``: the tokenizer drops them,
            so its tokens stand for ``bytes - dropped_bytes`` bytes only.
        dropped_by_byte: ``dropped_bytes`` by byte value (only the values that occurred).
        words_not_applicable: why words cannot be counted for this corpus, if they cannot.
        encode_seconds: encoding time the caller measured and passed in.
        bookkeeping_seconds: time spent inside :meth:`add_batch` and buffer flushes.
    """

    def __init__(
        self,
        vocab: VocabularyFacts,
        *,
        tokenizer: str,
        corpus: str,
        lang: str | None = None,
        parallel_group: str | None = None,
    ) -> None:
        self.vocab = vocab
        self.tokenizer = tokenizer
        self.corpus = corpus
        self.lang = None if lang is None else canonical_language(lang)
        self.parallel_group = parallel_group
        self.documents = 0
        self.bytes = 0
        self.chars = 0
        self.tokens = 0
        self.words = 0
        self.multi_token_words = 0
        self.documents_with_words = 0
        self.dropped_bytes = 0
        self.dropped_by_byte: dict[int, int] = {}
        self.words_not_applicable: str | None = None
        self.encode_seconds = 0.0
        self.bookkeeping_seconds = 0.0
        # Counts start sparse (ids seen, ascending, and their counts) and turn dense (one int64 per vocabulary
        # id) once a flush brings as many ids as the vocabulary has: a cell of little text never allocates
        # and scans a vocabulary-sized table (363 cells of 200k ids cost measure ~1 s).
        self._type_counts: np.ndarray | None = None
        self._sparse_ids = np.zeros(0, dtype=np.int32)
        self._sparse_counts = np.zeros(0, dtype=np.int64)
        self._pending: list[Sequence[int] | np.ndarray] = []
        self._pending_tokens = 0
        self._pending_arrays = False  # some pending sequence is a numpy array (not a list of ints)

    def __repr__(self) -> str:
        return (
            f"<TokenStats {self.tokenizer!r} on {self.corpus!r} lang={self.lang} docs={self.documents} "
            f"bytes={self.bytes} tokens={self.tokens}>"
        )

    # -- feeding ------------------------------------------------------------------------------
    def add_batch(
        self,
        texts: Sequence[str],
        ids: Sequence[Sequence[int]],
        *,
        words: WordSplit | None = None,
        encode_seconds: float = 0.0,
    ) -> None:
        """Account one batch of documents and their token ids.

        Args:
            texts: the documents exactly as encoded.
            ids: the token ids of each document (lists or 1-D numpy arrays), no special tokens added.
            words: word totals of this batch (from :meth:`WordSplitter.split`), or None.
            encode_seconds: wall time the caller spent encoding this batch.

        Raises:
            ValueError: ``texts`` and ``ids`` differ in length (a caller bug, not a user error).
        """
        started = time.perf_counter()
        if len(texts) != len(ids):
            raise ValueError(f"{len(texts)} texts but {len(ids)} id sequences")
        self._add_size(BatchSize.of(texts, count_bytes=bool(self.vocab.missing_bytes)))
        batch_tokens = sum(map(len, ids))
        self.tokens += batch_tokens
        if words is not None:
            self.words += words.words
            self.multi_token_words += words.multi_token_words
            self.documents_with_words += len(texts)
        self.encode_seconds += encode_seconds
        self._pending.extend(ids)
        self._pending_tokens += batch_tokens
        if len(ids) and isinstance(ids[0], np.ndarray):
            self._pending_arrays = True
        if self._pending_tokens >= FLUSH_TOKENS:
            self._flush()
        self.bookkeeping_seconds += time.perf_counter() - started

    def add_flat(self, size: BatchSize, ids: np.ndarray, *, encode_seconds: float = 0.0) -> None:
        """Account a batch encoded into one flat id array (``Tokenizer.encode_flat``).

        ``size`` is the batch's :meth:`BatchSize.of`, computed once for every tokenizer (with
        ``count_bytes=True`` when the vocabulary lacks bytes); words come via :meth:`add_words`.
        """
        started = time.perf_counter()
        self._add_size(size)
        self.tokens += len(ids)
        self.encode_seconds += encode_seconds
        self._pending.append(ids)
        self._pending_tokens += len(ids)
        self._pending_arrays = True
        if self._pending_tokens >= FLUSH_TOKENS:
            self._flush()
        self.bookkeeping_seconds += time.perf_counter() - started

    def _add_size(self, size: BatchSize) -> None:
        if self.vocab.missing_bytes:
            if size.byte_counts is None:
                raise ValueError(f"{self.tokenizer!r} lacks bytes: batches need BatchSize.of(texts, count_bytes=True)")
            for byte in self.vocab.missing_bytes:
                if size.byte_counts[byte]:
                    self.dropped_by_byte[byte] = self.dropped_by_byte.get(byte, 0) + int(size.byte_counts[byte])
                    self.dropped_bytes += int(size.byte_counts[byte])
        self.documents += size.documents
        self.chars += size.chars
        self.bytes += size.bytes

    def add_words(self, words: WordSplit, documents: int) -> None:
        """Add word totals counted separately from :meth:`add_batch` (e.g. by another process)."""
        self.words += words.words
        self.multi_token_words += words.multi_token_words
        self.documents_with_words += documents

    def mark_words_not_applicable(self, reason: str) -> None:
        """Record why this corpus has no word counts; fertility and split share report the reason."""
        self.words_not_applicable = reason

    def _flush(self) -> None:
        """Fold the buffered ids into the type counts (untimed: callers account the time)."""
        if not self._pending:
            return
        pending, self._pending, self._pending_tokens = self._pending, [], 0
        if self._pending_arrays:
            flat = np.concatenate([np.asarray(seq).ravel() for seq in pending]).astype(np.int64, copy=False)
        else:  # lists of Python ints: fromiter over the chain is the cheapest conversion (~25 ns/id)
            total = sum(map(len, pending))
            flat = np.fromiter(itertools.chain.from_iterable(pending), dtype=np.int64, count=total)
        self._pending_arrays = False
        if not flat.size:
            return
        if flat.min() < 0:
            raise ValueError(f"negative token id {int(flat.min())} from tokenizer {self.tokenizer!r}")
        if flat.max() >= self.vocab.vocab_size:
            raise ValueError(
                f"token id {int(flat.max())} from tokenizer {self.tokenizer!r} is outside its vocabulary "
                f"of size {self.vocab.vocab_size}"
            )
        if self._type_counts is None and flat.size + self._sparse_ids.size < self.vocab.vocab_size:
            self._add_sparse(flat)
            return
        counts = np.bincount(flat, minlength=self.vocab.vocab_size)
        if self._type_counts is None:
            counts[self._sparse_ids] += self._sparse_counts
            self._type_counts = counts
        else:
            self._type_counts += counts

    def _add_sparse(self, flat: np.ndarray) -> None:
        ids, counts = np.unique(flat, return_counts=True)
        if self._sparse_ids.size:
            every_id = np.concatenate([self._sparse_ids.astype(np.int64), ids])
            ids, where = np.unique(every_id, return_inverse=True)
            summed = np.zeros(ids.size, dtype=np.int64)
            np.add.at(summed, where, np.concatenate([self._sparse_counts, counts]))
            counts = summed
        self._sparse_ids, self._sparse_counts = ids.astype(np.int32), counts.astype(np.int64)

    # -- derived sums -------------------------------------------------------------------------
    @property
    def type_counts(self) -> np.ndarray:
        """Occurrences of every token id (int64, length ``vocab.vocab_size``)."""
        self._flush_timed()
        if self._type_counts is None:  # sparse: made dense on demand, not kept
            dense = np.zeros(self.vocab.vocab_size, dtype=np.int64)
            dense[self._sparse_ids] = self._sparse_counts
            return dense
        return self._type_counts

    def _flush_timed(self) -> None:
        if self._pending:
            started = time.perf_counter()
            self._flush()
            self.bookkeeping_seconds += time.perf_counter() - started

    def _count_of(self, ids: Iterable[int]) -> int:
        """Occurrences of the token ids ``ids``, summed (out-of-range ids count nothing)."""
        wanted = np.fromiter(ids, dtype=np.int64)
        self._flush_timed()
        if self._type_counts is None:
            return int(self._sparse_counts[np.isin(self._sparse_ids, wanted)].sum())
        wanted = wanted[(wanted >= 0) & (wanted < self._type_counts.size)]
        return int(self._type_counts[wanted].sum())

    def compact(self) -> None:
        """Keep only the token types seen, so memory grows with types used, not cells x vocabulary.

        A measurement of many corpora with a 200k vocabulary would otherwise hold a 1.6 MB array
        per cell; the dense counts are rebuilt whenever :attr:`type_counts` is read.
        """
        self._flush_timed()
        if self._type_counts is None:
            return  # sparse already
        counts = self._type_counts
        nonzero = np.flatnonzero(counts)
        self._sparse_ids = nonzero.astype(np.int32)
        self._sparse_counts = counts[nonzero]
        self._type_counts = None

    @property
    def unk_tokens(self) -> int:
        return self._count_of(self.vocab.unk_ids)

    @property
    def byte_fallback_tokens(self) -> int:
        return self._count_of(self.vocab.byte_fallback_ids)

    @property
    def used_ids(self) -> np.ndarray:
        """The token ids that occurred, ascending (read from the compact form, without densifying)."""
        if self._type_counts is None and not self._pending:
            return self._sparse_ids
        return np.flatnonzero(self.type_counts)

    @property
    def used_counts(self) -> np.ndarray:
        """Occurrences of each of :attr:`used_ids` (all positive, int64)."""
        if self._type_counts is None and not self._pending:
            return self._sparse_counts
        counts = self.type_counts
        return counts[counts > 0]

    @property
    def observed_types(self) -> int:
        """Distinct token ids that occurred at least once."""
        return int(self.used_ids.size)

    @property
    def singleton_types(self) -> int:
        """Token ids that occurred exactly once."""
        return int(np.count_nonzero(self.used_counts == 1))

    # -- combining and serialising ------------------------------------------------------------
    def merge(self, other: TokenStats) -> TokenStats:
        """Add the sums of ``other`` (a shard of the same cell) into this one; returns self.

        Raises:
            ValueError: the two shards belong to different cells or vocabularies.
        """
        mine = (self.tokenizer, self.corpus, self.lang, self.parallel_group, self.vocab)
        theirs = (other.tokenizer, other.corpus, other.lang, other.parallel_group, other.vocab)
        if mine != theirs:
            raise ValueError(f"cannot merge {other!r} into {self!r}: different cells")
        self._type_counts = self.type_counts + other.type_counts
        for name in (*SUMMED_COUNTS, *SUMMED_SECONDS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for byte, count in other.dropped_by_byte.items():
            self.dropped_by_byte[byte] = self.dropped_by_byte.get(byte, 0) + count
        # A shard without words makes any total word count partial, so "not applicable" wins.
        self.words_not_applicable = self.words_not_applicable or other.words_not_applicable
        return self

    def to_dict(self, *, include_type_counts: bool = False) -> dict[str, Any]:
        """Plain-JSON sums for results.json.

        Args:
            include_type_counts: also dump the nonzero token-type counts (sparse ``ids``/``counts``
                lists) and the vocabulary ids, enough for :meth:`from_dict`. Off by default: a
                vocabulary-sized table per cell would dwarf the results.
        """
        data: dict[str, Any] = {
            "tokenizer": self.tokenizer,
            "corpus": self.corpus,
            "lang": self.lang,
            "parallel_group": self.parallel_group,
            "vocab_size": self.vocab.vocab_size,
            "ordinary_vocab_size": self.vocab.ordinary_vocab_size,
            "documents": self.documents,
            "bytes": self.bytes,
            "chars": self.chars,
            "tokens": self.tokens,
            "unk_tokens": self.unk_tokens,
            "byte_fallback_tokens": self.byte_fallback_tokens,
            "observed_types": self.observed_types,
            "singleton_types": self.singleton_types,
            "words": self.words,
            "multi_token_words": self.multi_token_words,
            "documents_with_words": self.documents_with_words,
            "dropped_bytes": self.dropped_bytes,
            "dropped_by_byte": {f"0x{b:02X}": n for b, n in sorted(self.dropped_by_byte.items())},
            "words_not_applicable": self.words_not_applicable,
            "encode_seconds": self.encode_seconds,
            "bookkeeping_seconds": self.bookkeeping_seconds,
        }
        if include_type_counts:
            nonzero = np.flatnonzero(self.type_counts)
            data["type_counts"] = {"ids": nonzero.tolist(), "counts": self.type_counts[nonzero].tolist()}
            data["vocabulary"] = {
                "special_ids": sorted(self.vocab.special_ids),
                "unk_ids": sorted(self.vocab.unk_ids),
                "byte_fallback_ids": sorted(self.vocab.byte_fallback_ids),
                "missing_bytes": list(self.vocab.missing_bytes),
                "unused_ids": sorted(self.vocab.unused_ids),
                "token_byte_lengths": (
                    None if self.vocab.token_byte_lengths is None else self.vocab.token_byte_lengths.tolist()
                ),
            }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenStats:
        """Rebuild a cell from ``to_dict(include_type_counts=True)``.

        Raises:
            ValueError: the dict was dumped without type counts.
        """
        if "type_counts" not in data or "vocabulary" not in data:
            raise ValueError("TokenStats.from_dict needs a dump made with include_type_counts=True")
        vocabulary = data["vocabulary"]
        lengths = vocabulary["token_byte_lengths"]
        vocab = VocabularyFacts(
            vocab_size=data["vocab_size"],
            special_ids=frozenset(vocabulary["special_ids"]),
            unk_ids=frozenset(vocabulary["unk_ids"]),
            byte_fallback_ids=frozenset(vocabulary["byte_fallback_ids"]),
            token_byte_lengths=None if lengths is None else np.asarray(lengths, dtype=np.int64),
            missing_bytes=tuple(vocabulary["missing_bytes"]),
            unused_ids=frozenset(vocabulary.get("unused_ids", ())),  # absent from dumps made before it
        )
        stats = cls(
            vocab,
            tokenizer=data["tokenizer"],
            corpus=data["corpus"],
            lang=data["lang"],
            parallel_group=data["parallel_group"],
        )
        for name in (*SUMMED_COUNTS, *SUMMED_SECONDS, "words_not_applicable"):
            setattr(stats, name, data[name])
        stats.dropped_by_byte = {int(b, 16): n for b, n in data["dropped_by_byte"].items()}
        ids = np.asarray(data["type_counts"]["ids"], dtype=np.int64)
        dense = np.zeros(vocab.vocab_size, dtype=np.int64)
        dense[ids] = np.asarray(data["type_counts"]["counts"], dtype=np.int64)
        stats._type_counts = dense
        stats.compact()
        return stats
