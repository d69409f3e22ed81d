"""The ``superword`` trainer: SuperBPE's two stages (Liu et al., COLM 2025).

Stage 1 is ordinary byte-level BPE (:class:`~tokensmith.train.bpe.BpeTrainer`) up to the transition
vocabulary size ``t``. Stage 2 keeps all stage-1 ids and merges, re-cuts the text with a pre-tokenizer
that only isolates digit groups, runs of two or more punctuation characters and runs of spaces before a
space - so words joined by single spaces stay in one pre-token - and continues the same merge loop from
each stage-2 pre-token as the stage-1 tokenizer encodes it. New merges can then span whitespace
(" of the", ", and").

That starting point is built cheaply (:func:`stage1_encodings`): a stage-2 pre-token is cut into its
stage-1 pieces, and each distinct piece is encoded once, instead of encoding every (long, mostly unique)
stage-2 pre-token with HF, which on 130 MB took ~200 s and 6 GB; the ids are the same.

The exported tokenizer uses the stage-2 pre-tokenizer and all merges in order, as SuperBPE's own release
does; encoding can therefore differ from training segmentation in rare places where a stage-1 merge
would now apply across a former stage-1 boundary (lossless either way: round trips stay exact).
"""

from __future__ import annotations

import json
import os
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

import numpy as np

from tokensmith.errors import InputError
from tokensmith.train.bpe import (
    _MERGES_PER_REPORT,
    BpeTrainer,
    ProgressCallback,
    TrainedBPE,
    TrainingStats,
    _check_int,
)
from tokensmith.train.counting import count_pretokens
from tokensmith.train.pretokenize import Pretokenizer, _hf_byte_level

#: SuperBPE's stage-2 regex (digit groups, punctuation runs, space runs); text between matches is a pre-token.
SUPERBPE_STAGE2_REGEX = r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"


@dataclass(frozen=True)
class SuperwordTrainer(BpeTrainer):
    """SuperBPE: byte-level BPE to ``transition`` tokens, then merges that may cross whitespace.

    Args:
        transition: vocabulary size at which stage 2 starts (``None``: 90% of ``vocab_size``, SuperBPE's
            recommended t/V ratio).
        stage2_regex: the stage-2 pre-tokenization regex (HF ``Split`` isolated semantics).
        max_superword_bytes: longest stage-2 token in bytes (``None``: unlimited).
        (other arguments: see :class:`BpeTrainer`; they configure stage 1 and the shared settings.)
    """

    transition: int | None = None
    stage2_regex: str = SUPERBPE_STAGE2_REGEX
    max_superword_bytes: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        minimum = len(self.initial_vocabulary().contents)
        if self.transition is not None:
            _check_int("transition", self.transition, minimum=minimum)
            if self.transition >= self.vocab_size:
                raise InputError(f"transition {self.transition} must be below vocab_size {self.vocab_size}",
                                 "pass a transition point t < vocab_size (SuperBPE uses t = 0.9 V)")
        if self.max_superword_bytes is not None:
            _check_int("max_superword_bytes", self.max_superword_bytes, minimum=2)
        Pretokenizer.create(regex_pattern=self.stage2_regex)  # fails early on a bad regex

    def transition_size(self) -> int:
        minimum = len(self.initial_vocabulary().contents)
        return self.transition if self.transition is not None else max(minimum, int(0.9 * self.vocab_size))

    def _local_workers(self) -> int:
        """Processes for the work of stage 2 done on this machine (1 with the serial engine)."""
        if self.engine == "serial":
            return 1
        return self.workers or os.cpu_count() or 1

    def train(self, documents: Iterable[str], *, progress: ProgressCallback | None = None) -> TrainedBPE:
        """Both stages on ``documents`` (kept in memory: stage 2 reads them again)."""
        from tokensmith.train import merge_core
        from tokensmith.train.bpe import InitialVocabulary

        documents = list(documents)
        stage1_config = BpeTrainer(
            vocab_size=self.transition_size(), min_frequency=self.min_frequency, special_tokens=self.special_tokens,
            pretokenizer=self.pretokenizer, regex=self.regex, split_digits=self.split_digits,
            max_token_length=self.max_token_length, engine=self.engine, workers=self.workers,
            engine_address=self.engine_address,
        )
        stage1 = stage1_config.train(documents, progress=progress)
        started = time.perf_counter()
        stage2_pretokenizer = Pretokenizer.create(regex_pattern=self.stage2_regex)
        counts = count_pretokens(documents, stage2_pretokenizer, engine=self.engine, workers=self.workers,
                                 address=self.engine_address)
        del documents  # read for the last time
        symbols, offsets = stage1_encodings(counts.pretokens, stage1, workers=self._local_workers())
        corpus = {"documents": counts.documents, "corpus_bytes": counts.total_bytes, "pretokens": counts.total,
                  "distinct_pretokens": len(counts)}
        word_counts = counts.counts
        del counts  # the stage-2 pre-tokens' text is no longer needed
        count_seconds = stage1.stats.count_seconds + time.perf_counter() - started
        initial = InitialVocabulary.byte_level(self.special_tokens)
        contents = [stage1.vocab[i] if i not in stage1.special_ids else initial.contents[i]
                    for i in range(stage1.vocab_size)]
        dedup = [True] * len(contents)
        dedup[: len(initial.dedup)] = initial.dedup
        started = time.perf_counter()
        state = merge_core.build_state(symbols, offsets, word_counts, contents, [len(c) for c in contents],
                                       dedup=dedup, max_units=self.max_superword_bytes,
                                       pair_capacity=distinct_pairs(symbols, offsets))
        while True:
            run = merge_core.run_merges(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                        max_merges=_MERGES_PER_REPORT)
            if progress is not None:
                progress("merge", stage1.stats.merges + state.n_merges, self.vocab_size - len(initial.contents))
            if run.stop_reason != "running":
                break
        merge_seconds = stage1.stats.merge_seconds + time.perf_counter() - started
        vocab = list(stage1.vocab) + [state.token(i) for i in range(stage1.vocab_size, state.n_tokens)]
        merge_ids = stage1.merge_ids + tuple(tuple(row) for row in state.learned_merges().tolist())
        stats = TrainingStats(
            **corpus, merges=len(merge_ids), stop_reason=state.stop_reason,
            count_seconds=count_seconds, compile_seconds=stage1.stats.compile_seconds, merge_seconds=merge_seconds,
        )
        return TrainedBPE(tuple(vocab), merge_ids, stage1.special_tokens, stage2_pretokenizer, stats)


#: Distinct stage-1 words per HF encoding, and encodings per ``encode_batch`` call (bounds HF's memory).
_WORDS_PER_BATCH = 1 << 13
_BATCHES_PER_CALL = 8

#: Pieces per numpy gather of their symbols (bounds the temporary index arrays).
_PIECES_PER_GATHER = 1 << 18


def stage1_encodings(chunks: tuple[bytes, ...], stage1: TrainedBPE,
                     workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(symbols int32, offsets int64)``: each stage-2 pre-token as the stage-1 tokenizer encodes it.

    Equal to HF ``encode`` of every chunk with the stage-1 tokenizer.json (:func:`stage1_encodings_reference`),
    built the way HF builds it but with each distinct word encoded once: HF cuts a chunk with the stage-1
    pre-tokenizer and runs the BPE model on every piece alone, so a chunk's ids are its pieces' ids back to
    back. The cut here is :meth:`Pretokenizer.split`, which cuts as the exported ``pre_tokenizer`` does (the
    premise stage 1's own counting rests on) at a third of the cost of HF's ``pre_tokenize_str``. Distinct
    pieces are far fewer than distinct chunks (146k against 302k on 20 MB, 2.7M pieces in all). A chunk
    holding a special token's text is the one exception (HF matches added tokens before pre-tokenizing,
    so stage 2 sees a special id there): it is encoded whole, as before.

    Note that the chunk is cut on its own, not as part of its document: ``"word\\n 12"`` is cut by
    cl100k into ``"word", "\\n", " ", "12"``, but its chunk ``"word\\n "`` into ``"word", "\\n "``.

    ``workers`` processes (forked, where the platform can) cut the chunks, each a contiguous share.
    """
    from tokenizers import Tokenizer

    keys, occurrence, chunk_words = _cut_chunks(chunks, stage1, workers)
    spec_text = stage1.to_tokenizer_json()
    encoder = Tokenizer.from_str(spec_text)
    spec = json.loads(spec_text)
    # the BPE model alone on each piece: bytes to GPT-2 characters, no cut, no added tokens
    spec["pre_tokenizer"], spec["added_tokens"] = _hf_byte_level(use_regex=False), []
    word_encoder = Tokenizer.from_str(json.dumps(spec))

    # Distinct words, many to an HF call: one pre-tokenized sequence per batch, whose word_ids say where
    # each word's ids end (HF runs the model on every word alone, as when it encodes the word by itself).
    word_lengths = np.zeros(len(keys), dtype=np.int64)
    word_ids = []
    for start in range(0, len(keys), _WORDS_PER_BATCH * _BATCHES_PER_CALL):
        stop = min(start + _WORDS_PER_BATCH * _BATCHES_PER_CALL, len(keys))
        batches = [keys[at:min(at + _WORDS_PER_BATCH, stop)] for at in range(start, stop, _WORDS_PER_BATCH)]
        encoded = word_encoder.encode_batch([[key for key in batch if isinstance(key, str)] for batch in batches],
                                            is_pretokenized=True, add_special_tokens=False)
        at = start
        for batch, encoding in zip(batches, encoded, strict=True):
            if all(isinstance(key, str) for key in batch):
                word_ids.append(np.array(encoding.ids, dtype=np.int32))
                word_lengths[at:at + len(batch)] = np.bincount(np.array(encoding.word_ids, dtype=np.int64),
                                                               minlength=len(batch))
            else:  # a chunk HF encodes whole is among them: encode this batch word by word
                rows = [encoder.encode(key[0], add_special_tokens=False).ids if isinstance(key, tuple)
                        else word_encoder.encode([key], is_pretokenized=True, add_special_tokens=False).ids
                        for key in batch]
                word_ids.append(np.fromiter(chain.from_iterable(rows), dtype=np.int32))
                word_lengths[at:at + len(batch)] = [len(row) for row in rows]
            at += len(batch)
    word_symbols = np.concatenate(word_ids) if word_ids else np.zeros(0, dtype=np.int32)
    word_starts = np.zeros(len(keys), dtype=np.int64)
    np.cumsum(word_lengths[:-1], out=word_starts[1:])

    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    ends = np.cumsum(word_lengths[occurrence])  # the end of every piece in the symbols
    if len(occurrence):
        offsets[1:] = ends[chunk_words[1:] - 1]
    symbols = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.int32)
    # symbol k of a piece is word_symbols[word_starts[word] + k]: gathered a block of pieces at a time
    for start in range(0, len(occurrence), _PIECES_PER_GATHER):
        words = occurrence[start:start + _PIECES_PER_GATHER]
        lengths = word_lengths[words]
        first = int(ends[start] - lengths[0])
        last = int(ends[start + len(words) - 1])
        shift = np.repeat(word_starts[words] - (ends[start:start + len(words)] - lengths - first), lengths)
        shift += np.arange(len(shift), dtype=np.int64)
        symbols[first:last] = word_symbols[shift]
    return symbols, offsets


def distinct_pairs(symbols: np.ndarray, offsets: np.ndarray) -> int:
    """How many distinct adjacent pairs the words hold (the merge loop's starting room: stage-2 words are
    few distinct pairs over a large vocabulary, and the default bound, one per symbol, costs GBs)."""
    if len(symbols) < 2:
        return 0
    keys = symbols[:-1].astype(np.int64)
    keys <<= 32
    keys |= symbols[1:]
    keys[offsets[1:-1] - 1] = -1  # a word's last symbol and the next word's first are no pair
    keys.sort()
    return int(np.count_nonzero(keys[1:] != keys[:-1])) + 1 - int(keys[0] == -1)


def stage1_encodings_reference(chunks: tuple[bytes, ...], stage1: TrainedBPE,
                               workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stage1_encodings` the direct way, HF ``encode_batch`` of every chunk (slow, memory-hungry;
    for tests)."""
    from tokenizers import Tokenizer

    encoder = Tokenizer.from_str(stage1.to_tokenizer_json())
    pieces = [piece.decode("utf-8") for piece in chunks]
    encoded = [encoding.ids for encoding in encoder.encode_batch(pieces, add_special_tokens=False)]
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum([len(ids) for ids in encoded], out=offsets[1:])
    symbols = np.fromiter((i for ids in encoded for i in ids), dtype=np.int32, count=int(offsets[-1]))
    return symbols, offsets


#: Fewest chunks per worker process worth starting one for.
_CHUNKS_PER_WORKER = 50_000

#: What forked cutting processes read: (chunks, stage-1 tokenizer); set only while they run.
_CUT_INPUT: tuple | None = None


def _cut_chunks(chunks: tuple[bytes, ...], stage1: TrainedBPE,
                workers: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Cut every chunk into its stage-1 pieces: ``(words, occurrence, chunk_words)``.

    ``words`` are the distinct pieces (str), plus ``(text,)`` for each chunk that holds a special token's
    text (it stays whole); ``occurrence`` (int32) the index into ``words`` of every piece of every chunk,
    chunks back to back; chunk ``i``'s pieces are ``occurrence[chunk_words[i]:chunk_words[i + 1]]``.
    """
    global _CUT_INPUT
    from tokensmith.processes import process_context

    workers = max(1, min(workers, len(chunks) // _CHUNKS_PER_WORKER))
    bounds = [len(chunks) * i // workers for i in range(workers + 1)]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    context = process_context()
    if workers == 1 or context.get_start_method() != "fork":
        parts = [_cut_span(chunks, stage1, start, stop) for start, stop in spans]
    else:
        _CUT_INPUT = (chunks, stage1)
        try:
            with context.Pool(workers) as pool:
                parts = pool.map(_cut_forked, spans)
        finally:
            _CUT_INPUT = None
    if len(parts) == 1:
        keys, occurrence, counts = parts[0]
        occurrence = np.frombuffer(occurrence, dtype=np.int32)
    else:
        words = _Index()
        occurrence = np.concatenate([
            np.fromiter(map(words.__getitem__, keys), dtype=np.int32, count=len(keys))[
                np.frombuffer(part, dtype=np.int32)]
            for keys, part, _ in parts])
        keys = list(words)
        counts = np.concatenate([part_counts for _, _, part_counts in parts])
    chunk_words = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(counts, out=chunk_words[1:])
    return keys, occurrence, chunk_words


def _cut_forked(span: tuple[int, int]) -> tuple[list, bytes, np.ndarray]:
    chunks, stage1 = _CUT_INPUT
    return _cut_span(chunks, stage1, *span)


def _cut_span(chunks: tuple[bytes, ...], stage1: TrainedBPE, start: int,
              stop: int) -> tuple[list, bytes, np.ndarray]:
    """``_cut_chunks`` of ``chunks[start:stop]``, with the pieces per chunk instead of their offsets."""
    split = stage1.pretokenizer.split
    specials = [text for text, _ in stage1.special_tokens]
    words = _Index()  # piece (str), or (chunk text,) for a chunk HF must encode whole -> index
    occurrences = array("i")
    counts = np.empty(stop - start, dtype=np.int64)
    for n in range(start, stop):
        text = chunks[n].decode("utf-8")
        before = len(occurrences)
        if any(special in text for special in specials):
            occurrences.append(words[(text,)])
        else:
            occurrences.extend(map(words.__getitem__, split(text)))
        counts[n - start] = len(occurrences) - before
    return list(words), occurrences.tobytes(), counts


class _Index(dict):
    """key -> its index in order of first use (``index[key]`` adds a new key)."""

    def __missing__(self, key):
        value = self[key] = len(self)
        return value
