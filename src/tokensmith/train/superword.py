"""The ``superword`` trainer: SuperBPE's two stages (Liu et al., COLM 2025).

Stage 1 is ordinary byte-level BPE (:class:`~tokensmith.train.bpe.BpeTrainer`) up to the transition
vocabulary size ``t``. Stage 2 keeps all stage-1 ids and merges, re-cuts the text with a pre-tokenizer
that only isolates digit groups, runs of two or more punctuation characters and runs of spaces before a
space - so words joined by single spaces stay in one pre-token - and continues the same merge loop from
each stage-2 pre-token as the stage-1 tokenizer encodes it. New merges can then span whitespace
(" of the", ", and").

That starting point is built cheaply (:func:`stage1_encodings`): a stage-2 pre-token is cut into its
stage-1 pieces, and each distinct piece is encoded once, instead of encoding every (long, mostly unique)
stage-2 pre-token with HF, which on 130 MB took ~200 s and 6 GB; the ids are the same. The text is read
once (:class:`StageTally`): each counting worker counts stage 1's pre-tokens and stage 2's chunks from
the same documents and then cuts its own distinct chunks, and the distinct pieces are encoded by a
compiled copy of HF's BPE loop (:func:`~tokensmith.train.merge_core.apply_merges`). For the stage-1
pre-tokenizers where it is exact (:data:`_DERIVABLE_STAGE1`) most documents are not even cut by stage 1:
their stage-1 counts are summed from the cuts of their chunks (:meth:`StageTally.finish`).

The exported tokenizer uses the stage-2 pre-tokenizer and all merges in order, as SuperBPE's own release
does; encoding can therefore differ from training segmentation in rare places where a stage-1 merge
would now apply across a former stage-1 boundary (lossless either way: round trips stay exact). For the
same reason no tiktoken ranks are written as a rule: tiktoken joins any two tokens that make a token
(" " + "%s" into " %s", learnt as " %" + "s"), where the merges do not
(:func:`~tokensmith.train.export.tiktoken_encodes_alike`).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import regex

from tokensmith.errors import InputError
from tokensmith.train.bpe import (
    BpeTrainer,
    ProgressCallback,
    TrainedBPE,
    TrainingStats,
    _check_int,
    check_run_options,
    merge_to_end,
    reopen_checkpoint,
)
from tokensmith.train.counting import PretokenCounts, PretokenTally, Tally, local_workers, make_engine
from tokensmith.train.pretokenize import PRETOKENIZER_PRESETS, Pretokenizer, _hf_byte_level
from tokensmith.train.pretokenize import SUPERBPE_STAGE2_REGEX as SUPERBPE_STAGE2_REGEX

if TYPE_CHECKING:
    from tokensmith.train.compiled_pretokenize import CompiledPretokenizer
    from tokensmith.train.text_table import CountingTable, TextTable  # (imported where used: it loads numba)


@dataclass(frozen=True)
class SuperwordTrainer(BpeTrainer):
    """SuperBPE: byte-level BPE to ``transition`` tokens, then merges that may cross whitespace.

    Args:
        transition: vocabulary size at which stage 2 starts (``None``: 90% of ``vocab_size``, SuperBPE's
            recommended t/V ratio).
        stage2_regex: the stage-2 pre-tokenization regex (HF ``Split`` isolated semantics).
        max_superword_bytes: longest stage-2 token in bytes (``None``: unlimited; ``max_token_length``, when
            given, bounds stage-2 tokens as well).
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
        self.stage2_pretokenizer()  # fails early on a bad regex

    def stage2_pretokenizer(self) -> Pretokenizer:
        """Stage 2's cut (and the exported one): ``stage2_regex``, and with ``split_digits`` every digit alone,
        as in stage 1 (else stage 2 would learn, and the export keep, tokens of up to 3 digits)."""
        return Pretokenizer.create(regex_pattern=self.stage2_regex, split_digits=self.split_digits)

    def stage2_max_bytes(self) -> int | None:
        """Longest stage-2 token in bytes: ``max_token_length`` bounds every token, stage 2's too."""
        limits = [limit for limit in (self.max_token_length, self.max_superword_bytes) if limit is not None]
        return min(limits) if limits else None

    def transition_size(self) -> int:
        minimum = len(self.initial_vocabulary().contents)
        return self.transition if self.transition is not None else max(minimum, int(0.9 * self.vocab_size))

    def train(self, documents: Iterable[str], *, progress: ProgressCallback | None = None,
              checkpoint: str | Path | None = None, checkpoint_seconds: float = 60.0,
              corpus_fingerprint: str | None = None, corpus_reading: dict | None = None) -> TrainedBPE:
        """Both stages on ``documents`` (an iterable of str, read once).

        ``checkpoint`` (and the other arguments, as in :meth:`BpeTrainer.train`): the stage-2 merge state is
        written once stage 1 ends (the counting and stage 1 are what a resume then skips), then as stage 2
        goes on; :meth:`resume` continues stage 2 from it, to the same or a larger ``vocab_size``.
        """
        from tokensmith.train import merge_core, text_table
        from tokensmith.train.bpe import InitialVocabulary, _reporting

        check_run_options(progress, checkpoint_seconds)
        stage1_config = BpeTrainer(
            vocab_size=self.transition_size(), min_frequency=self.min_frequency, special_tokens=self.special_tokens,
            pretokenizer=self.pretokenizer, regex=self.regex, split_digits=self.split_digits,
            max_token_length=self.max_token_length, engine=self.engine, workers=self.workers,
            engine_address=self.engine_address,
        )
        stage2_pretokenizer = self.stage2_pretokenizer()
        # loaded here, alone: on stage 1's thread, beside the chunk sorting, loading took 1.7 s instead of 0.2
        compile_seconds = merge_core.compile_kernels() + text_table.compile_kernels()  # before the workers fork
        started = time.perf_counter()
        # One read of the text: each worker counts stage 1's pre-tokens (exactly what BpeTrainer counts)
        # and stage 2's chunks, then cuts its distinct chunks into their stage-1 pieces.
        new_tally = partial(StageTally, stage1_config.pretokenizer_object(), stage2_pretokenizer, self.special_tokens)
        tally, n_documents = make_engine(self.engine, self.workers, self.engine_address).tally(
            _reporting(documents, progress), new_tally)
        stage1_tally = tally.stage1
        tally.stage1 = None  # the stage-1 text is no longer needed once counted
        count_seconds = time.perf_counter() - started

        learned: queue.Queue = queue.Queue()  # stage 1's merges so far, then None when it ends
        abandoned = threading.Event()  # this thread gave up (Ctrl-C, an error): stage 1 stops at its next report

        def report_merges(merges: np.ndarray) -> None:
            if abandoned.is_set():
                raise _Abandoned  # else leaving the pool below would wait for the whole of stage 1
            learned.put(merges)

        def train_stage1(counted: PretokenTally) -> TrainedBPE:
            counts = counted.counts(n_documents)
            counted.runs = []  # its only other holder let go of it at submit
            try:
                return stage1_config.train_from_counts(counts, progress=progress, count_seconds=count_seconds,
                                                       on_merges=report_merges)
            finally:
                learned.put(None)

        # Stage 1's merge loop (compiled, without the GIL) runs on a thread while this one joins the workers'
        # sorted chunks (compiled too) and then encodes their pieces with the merges learned so far: stage 2
        # needs both, and neither needs the other.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokensmith-stage1") as pool:
            stage1_run = pool.submit(train_stage1, stage1_tally)
            del stage1_tally
            try:
                chunks = tally.sorted_chunks()
                ahead = _EncodingAhead(chunks.pieces, self.special_tokens)
                ahead.follow(learned)
                stage1 = stage1_run.result()
            except BaseException:
                abandoned.set()
                raise
        del tally
        started = time.perf_counter()
        threads = local_workers(self.workers)
        symbols, offsets = _stage2_words(chunks, stage1, threads, ahead)
        corpus = {"documents": n_documents, "corpus_bytes": chunks.total_bytes, "pretokens": int(chunks.counts.sum()),
                  "distinct_pretokens": len(chunks.counts), "fingerprint": corpus_fingerprint,
                  "reading": corpus_reading}
        word_counts = chunks.counts
        del chunks
        corpus["count_seconds"] = stage1.stats.count_seconds + time.perf_counter() - started
        initial = InitialVocabulary.byte_level(self.special_tokens)
        contents = [stage1.vocab[i] if i not in stage1.special_ids else initial.contents[i]
                    for i in range(stage1.vocab_size)]
        dedup = [True] * len(contents)
        dedup[: len(initial.dedup)] = initial.dedup
        units = [len(c) for c in contents]
        # A chunk holding a special token's text holds its id, but HF cuts special tokens out before the BPE
        # model runs: a merge with one is never applied, and one with a text outside the byte alphabet (" ",
        # "🙂") would write a merge whose result the vocabulary lacks. (One that is a byte's id merges as the byte.)
        for special_id in set(stage1.special_ids) - set(initial.byte_ids.tolist()):
            units[special_id] = _NEVER_MERGED
        max_units = min(self.stage2_max_bytes() or _NEVER_MERGED, _NEVER_MERGED - 1)
        started = time.perf_counter() - stage1.stats.merge_seconds
        state = merge_core.build_state(symbols, offsets, word_counts, contents, units,
                                       dedup=dedup, max_units=max_units,
                                       pair_capacity=stage2_pair_room(symbols), threads=threads)
        stage1_record = {"merges": np.asarray(stage1.merge_ids, dtype=np.int64).ravel().tolist(),
                         "transition": self.transition_size(),
                         "compile_seconds": compile_seconds + stage1.stats.compile_seconds}
        return self._stage2(state, stage1_record, corpus, started, progress, checkpoint, checkpoint_seconds,
                            save_first=True)

    def resume(self, checkpoint: str | Path, *, progress: ProgressCallback | None = None,
               checkpoint_seconds: float = 60.0, corpus_fingerprint: str | None = None,
               corpus_reading: dict | None = None) -> TrainedBPE:
        """Continue stage 2 from a checkpoint written by :meth:`train` (same settings and transition point;
        ``vocab_size`` may grow). The result equals an uninterrupted run's, byte for byte.

        Raises:
            InputError: as :meth:`BpeTrainer.resume`, and when the transition point differs (the default,
                0.9 ``vocab_size``, moves with a larger ``vocab_size``: pass the interrupted run's).
        """
        check_run_options(progress, checkpoint_seconds)
        metadata, state, compile_seconds, started = reopen_checkpoint(
            checkpoint, self.checkpoint_settings(), vocab_size=self.vocab_size,
            corpus_fingerprint=corpus_fingerprint, corpus_reading=corpus_reading)
        stage1 = metadata["stage1"]
        # the transition asked, not the size stage 1 reached: a stage 1 that ran out of pairs stops short of it
        if stage1["transition"] != self.transition_size():
            raise InputError(
                f"checkpoint {checkpoint} continues a stage 1 whose transition point was {stage1['transition']}, "
                f"but this run's transition point is {self.transition_size()}",
                f"pass transition={stage1['transition']} (--option transition={stage1['transition']}) to go on from "
                "it; the default, 0.9 vocab_size, moves with the vocabulary size",
            )
        return self._stage2(state, {**stage1, "compile_seconds": compile_seconds}, metadata["corpus"], started,
                            progress, checkpoint, checkpoint_seconds, save_first=False)

    def checkpoint_settings(self) -> dict:
        """As :meth:`BpeTrainer.checkpoint_settings`, but for ``transition``, which :meth:`resume` compares as
        the size it gives (its default moves with ``vocab_size``)."""
        settings = super().checkpoint_settings()
        del settings["transition"]
        return settings

    def _stage2(self, state, stage1: dict, corpus: dict, started: float, progress: ProgressCallback | None,
                checkpoint: str | Path | None, checkpoint_seconds: float, *, save_first: bool) -> TrainedBPE:
        """Run stage 2's merges on ``state`` to the end and build the result; ``stage1`` records stage 1
        (its merges as flat ``(left, right, new)`` triples), as checkpoints store it."""
        initial = self.initial_vocabulary()
        stage1_merges = tuple(tuple(row) for row in np.array(stage1["merges"], dtype=np.int64).reshape(-1, 3).tolist())
        merge_to_end(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency, started=started,
                     checkpoint=checkpoint, checkpoint_seconds=checkpoint_seconds, save_first=save_first,
                     checkpoint_metadata=lambda: {"settings": self.checkpoint_settings(), "corpus": corpus,
                                                  "stage1": {"merges": stage1["merges"],
                                                             "transition": stage1["transition"]}},
                     progress=progress, progress_total=self.vocab_size - len(initial.contents),
                     merges_before=len(stage1_merges))
        vocab = [state.token(i) for i in range(state.n_tokens)]
        for text, token_id in initial.special_tokens:
            vocab[token_id] = text.encode("utf-8")
        merge_ids = stage1_merges + tuple(tuple(row) for row in state.learned_merges().tolist())
        stats = TrainingStats(
            documents=corpus["documents"], corpus_bytes=corpus["corpus_bytes"], pretokens=corpus["pretokens"],
            distinct_pretokens=corpus["distinct_pretokens"], merges=len(merge_ids), stop_reason=state.stop_reason,
            count_seconds=corpus["count_seconds"], compile_seconds=stage1["compile_seconds"],
            merge_seconds=time.perf_counter() - started,
        )
        return TrainedBPE(tuple(vocab), merge_ids, initial.special_tokens, self.stage2_pretokenizer(), stats)

class _Abandoned(Exception):
    """Ends stage 1's thread once the thread waiting for it has given up."""


#: Length given to special tokens in stage 2, above any token a merge may make, so that none joins them.
_NEVER_MERGED = 1 << 20

#: Distinct stage-1 words per HF encoding, and encodings per ``encode_batch`` call (bounds HF's memory).
_WORDS_PER_BATCH = 1 << 13
_BATCHES_PER_CALL = 8


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
    (Training cuts in the counting workers instead, see :class:`StageTally`; this is the same cut and
    encoding for a given list of chunks.)
    """
    pieces, occurrence, chunk_pieces = _cut_chunks(chunks, stage1, workers)
    return _encode_cut(pieces, occurrence, chunk_pieces, stage1)


def _stage2_words(chunks: StageChunks, stage1: TrainedBPE, threads: int = 1,
                  ahead: _EncodingAhead | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(symbols int32, offsets int64)``: each chunk as the stage-1 tokenizer encodes it (its stage-2 word);
    the pieces are encoded on ``threads`` threads (going on from ``ahead``'s encoding, if given)."""
    return _encode_cut(chunks.pieces, chunks.occurrence, chunks.chunk_pieces, stage1, threads, ahead)


def _stage2_words_reference(chunks: StageChunks, stage1: TrainedBPE) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_stage2_words` the direct way: every chunk's text (its pieces joined) encoded whole with HF
    (:func:`stage1_encodings_reference`; slow, for tests)."""
    texts = [piece if isinstance(piece, str) else piece[0] for piece in _Pieces.of(chunks.pieces)]
    ends = np.cumsum(chunks.chunk_pieces)
    chunk_texts = tuple("".join(texts[i] for i in chunks.occurrence[end - n:end]).encode("utf-8")
                        for n, end in zip(chunks.chunk_pieces.tolist(), ends.tolist(), strict=True))
    return stage1_encodings_reference(chunk_texts, stage1)


def _encode_cut(pieces: list | _Pieces, occurrence: np.ndarray, chunk_pieces: np.ndarray,
                stage1: TrainedBPE, threads: int = 1,
                ahead: _EncodingAhead | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stage1_encodings` of chunks already cut (see :func:`_cut_chunks` for the arguments)."""
    from tokensmith.train.merge_core import concatenate_pieces

    piece_symbols, piece_lengths = _encode_pieces(pieces, stage1, threads, ahead)
    piece_offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum(piece_lengths, out=piece_offsets[1:])
    return concatenate_pieces(piece_symbols, piece_offsets, occurrence, chunk_pieces)


def _encode_pieces(pieces: list | _Pieces, stage1: TrainedBPE, threads: int = 1,
                   ahead: _EncodingAhead | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(symbols int32, lengths int64)``: each piece (str) as stage 1's BPE model encodes it alone, and each
    ``(chunk text,)`` as the whole stage-1 tokenizer encodes it (special tokens matched first), back to back.

    The pieces go through :func:`merge_core.apply_merges` (HF's BPE loop, compiled), unless stage 1's merges
    re-create a string (then it defers to HF); chunks holding a special token's text go to HF.
    """
    from tokensmith.train import merge_core

    pieces = _Pieces.of(pieces)
    whole = np.flatnonzero(pieces.whole)
    merges = np.array(stage1.merge_ids, dtype=np.int64).reshape(-1, 3)
    result = ahead.finish(merges, threads) if ahead is not None else None
    if result is None:
        symbols, offsets = _ordinary_pieces_bytes(pieces, tuple(text for text, _ in stage1.special_tokens))
        result = merge_core.apply_merges(symbols, offsets, merges, threads)
    if result is None:
        word_symbols, word_lengths = _hf_encode_words(_ordinary_pieces(pieces).decoded(), stage1)
    else:
        word_symbols, word_offsets = result
        word_lengths = np.diff(word_offsets)
    if not len(whole):
        return word_symbols, word_lengths

    from tokenizers import Tokenizer

    encoder = Tokenizer.from_str(stage1.to_tokenizer_json())
    rows = [np.array(encoder.encode(text, add_special_tokens=False).ids, dtype=np.int32)
            for text in pieces.texts.take(whole).decoded()]
    lengths = np.zeros(len(pieces), dtype=np.int64)
    lengths[~pieces.whole] = word_lengths
    lengths[whole] = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    symbols = np.empty(int(lengths.sum()), dtype=np.int32)
    of_words = np.repeat(~pieces.whole, lengths)  # which symbols are the words' (in piece order, as theirs)
    symbols[of_words] = word_symbols
    symbols[~of_words] = np.concatenate(rows)
    return symbols, lengths


def _ordinary_pieces(pieces: _Pieces) -> TextTable:
    """The texts of the pieces that are not chunks kept whole (those the BPE model encodes alone)."""
    return pieces.texts.take(np.flatnonzero(~pieces.whole)) if pieces.whole.any() else pieces.texts


def _ordinary_pieces_bytes(pieces: _Pieces, special_tokens: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(symbols int32, offsets int64)``: :func:`_ordinary_pieces` as byte-level ids, before any merge."""
    from tokensmith.train.bpe import InitialVocabulary

    words = _ordinary_pieces(pieces)
    return InitialVocabulary.byte_level(tuple(special_tokens)).byte_ids[words.text], words.offsets


class _EncodingAhead:
    """Stage 1's pieces encoded with the merges stage 1 has learned so far, while it learns the rest.

    HF's BPE model merges the pair of lowest rank first, and every pair a merge creates ranks after it (a
    token is merged only once it exists), so encoding with the first ``k`` merges and then going on with the
    others gives what all of them give at once (:func:`~tokensmith.train.merge_core.apply_merges`, as long
    as no merge re-creates a string: checked on the whole list at the end). The thread that would wait for
    stage 1 does most of the encoding meanwhile; 0.8 s after stage 1 on 130 MB became 0.3 s.
    """

    def __init__(self, pieces: list | _Pieces, special_tokens: tuple[str, ...]) -> None:
        self.symbols, self.offsets = _ordinary_pieces_bytes(_Pieces.of(pieces), special_tokens)
        self.applied = np.zeros((0, 3), dtype=np.int64)  # the merges the encoding has taken, in order
        self.failed = False

    def follow(self, learned: queue.Queue) -> None:
        """Take the latest merges from ``learned`` whenever stage 1 reports, until it sends None."""
        from tokensmith.train import merge_core

        ended = False
        while not ended:
            latest = learned.get()
            ended = latest is None
            while not ended and not learned.empty():  # skip to the latest report
                reported = learned.get()
                ended = reported is None
                latest = latest if ended else reported
            if latest is None or self.failed:
                continue
            merges = np.asarray(latest, dtype=np.int64)
            result = merge_core.apply_merges(self.symbols, self.offsets, merges[len(self.applied):])
            if result is None:
                self.failed = True  # a string made twice: encode the usual way at the end
                continue
            self.symbols, self.offsets = result
            self.applied = merges

    def finish(self, merges: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The pieces encoded with all of ``merges`` (stage 1's), or None to encode them the usual way."""
        from tokensmith.train import merge_core

        done = len(self.applied)
        if (self.failed or not done or not np.array_equal(merges[:done], self.applied)
                or not merge_core.merges_are_distinct(merges)):
            return None
        return merge_core.apply_merges(self.symbols, self.offsets, merges[done:], threads)


def _hf_encode_words(words: list[str], stage1: TrainedBPE) -> tuple[np.ndarray, np.ndarray]:
    """``(symbols int32, lengths int64)``: each word as stage 1's BPE model (HF) encodes it alone."""
    from tokenizers import Tokenizer

    spec = json.loads(stage1.to_tokenizer_json())
    # the BPE model alone on each piece: bytes to GPT-2 characters, no cut, no added tokens
    spec["pre_tokenizer"], spec["added_tokens"] = _hf_byte_level(use_regex=False), []
    word_encoder = Tokenizer.from_str(json.dumps(spec))
    # Many words to an HF call: one pre-tokenized sequence per batch, whose word_ids say where each word's
    # ids end (HF runs the model on every word alone, as when it encodes the word by itself).
    word_lengths = np.zeros(len(words), dtype=np.int64)
    word_ids = []
    for start in range(0, len(words), _WORDS_PER_BATCH * _BATCHES_PER_CALL):
        stop = min(start + _WORDS_PER_BATCH * _BATCHES_PER_CALL, len(words))
        batches = [words[at:min(at + _WORDS_PER_BATCH, stop)] for at in range(start, stop, _WORDS_PER_BATCH)]
        encoded = word_encoder.encode_batch(batches, is_pretokenized=True, add_special_tokens=False)
        at = start
        for batch, encoding in zip(batches, encoded, strict=True):
            word_ids.append(np.array(encoding.ids, dtype=np.int32))
            word_lengths[at:at + len(batch)] = np.bincount(np.array(encoding.word_ids, dtype=np.int64),
                                                           minlength=len(batch))
            at += len(batch)
    return (np.concatenate(word_ids) if word_ids else np.zeros(0, dtype=np.int32)), word_lengths


#: Symbols of the stage-2 words per distinct pair they hold, about (9 on the benchmark's 130 MB).
_SYMBOLS_PER_PAIR = 8


def stage2_pair_room(symbols: np.ndarray) -> int:
    """The merge loop's starting room for the stage-2 words' distinct pairs: a hint (the pair count grows the
    room when the words hold more). Stage-2 words are few distinct pairs over a large vocabulary, so merge_core's
    default room would be grown twice; counting them exactly (a sort of all pairs) cost more than that."""
    return len(symbols) // _SYMBOLS_PER_PAIR


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


#: Stage-1 regexes whose pre-tokens of a document are its stage-2 chunks' pre-tokens, each chunk cut on its
#: own, when the stage-2 regex is :data:`SUPERBPE_STAGE2_REGEX` and the document has no
#: :data:`_CONTEXT_DEPENDENT_WHITESPACE`. Why, for each (the tests check it on the team corpora and on
#: generated text): stage 2 matches digit groups, runs of 2+ characters outside ``\s\p{L}\p{N}`` and runs
#: of spaces, so every chunk boundary is next to a digit, such a run or a space.
#:
#: * Digits: these regexes cut every digit run into ``\p{N}{1,3}`` groups from its start (or single digits),
#:   as stage 2 does, and no other alternative takes a digit (gpt2 does, `` ?\p{N}+``: not listed).
#: * Runs of 2+ such characters, with the space before: each is one pre-token (`` ?[^\s\p{L}\p{N}]+``, tried
#:   before the whitespace alternatives; the letter alternative takes one such character only, and its
#:   trailing ``[\r\n]*`` or stage 2's ``[\r\n/]*`` needs a line break).
#: * Spaces: a run of spaces before a non-space is cut by ``\s+(?!\S)`` into all but its last space, as by
#:   stage 2's `` +(?!\S)``, and that run alone is still one pre-token (``\s+(?!\S)`` or cl100k's
#:   ``\s++$``). The last space, or a single whitespace character, is a pre-token of its own or starts
#:   the next one, in the document and at the end of a chunk alone.
#: * The rest of a chunk is cut alike in the document and alone: a pre-token's match only looks past the
#:   chunk's end at the character that starts the next chunk, a digit, a space or such a character, which
#:   ends a letter run as the chunk's end does.
#:
#: What breaks it is whitespace: at a chunk's end a run of 2+ whitespace characters is one pre-token
#: (``\s+(?!\S)`` at the end of the text) where the document cuts it in two (``"a\t\t12"``), runs mixing
#: spaces with other whitespace are cut elsewhere by stage 2 (``"\t  x"``), and a line break joins the
#: spaces before it (cl100k ``"  \n"``) or lets stage 2's run take a ``/`` after it; hence such documents
#: are counted directly. o200k is not listed: its words take combining marks (``\p{M}``), which stage 2 cuts
#: out where two meet (a vowel sign next to a virama, common in Indic and Tibetan words), whatever the whitespace.
_DERIVABLE_STAGE1 = frozenset(
    [PRETOKENIZER_PRESETS.get(name).pattern for name in ("cl100k", "llama3")]
    + [PRETOKENIZER_PRESETS.get(name).digit_pattern for name in ("cl100k", "llama3", "gpt2")])

#: A line break, or whitespace other than a space next to whitespace: a document holding one is cut by
#: stage 1 directly (see :data:`_DERIVABLE_STAGE1`; about 1.5% of the text of the team corpora, as lines).
_CONTEXT_DEPENDENT_WHITESPACE = regex.compile(r"[^\S ](?:(?<=[\r\n])|(?<=\s[^\S ])|(?=\s))")


def derivable_stage1(stage1: Pretokenizer, stage2: Pretokenizer) -> bool:
    """Whether stage 1's pre-tokens can be derived from stage 2's chunks (see :data:`_DERIVABLE_STAGE1`)."""
    return (stage2.pattern == SUPERBPE_STAGE2_REGEX and not stage2.isolate_digits
            and stage1.pattern in _DERIVABLE_STAGE1 and not stage1.isolate_digits)


#: Partial tallies :meth:`StageTally.combine` may leave unjoined (2 counting workers leave 1).
_PENDING_PARTIALS = 4


class StageTally(Tally):
    """Both stages' counts from one read of each document (what :meth:`SuperwordTrainer.train` collects).

    ``stage1`` counts stage 1's pre-tokens exactly as :class:`BpeTrainer` counts them; ``chunks`` counts the
    stage-2 pre-tokens; :meth:`finish` cuts the distinct chunks into their stage-1 pieces (``cut``), in the
    worker that counted them, so cutting runs in parallel without sending the chunks anywhere. A chunk
    counted by two workers is cut by both; :meth:`join_pending` keeps one cut, and the cut of a chunk does
    not depend on where it was made.

    :meth:`finish` also packs the chunks and the cut's pieces into
    :class:`~tokensmith.train.text_table.TextTable` buffers (``table``, ``chunks`` then None): a finished
    tally pickles as a few large buffers, and joining partials sorts each (in the canonical order, by UTF-8
    bytes) and merges the sorted runs in compiled code. (On 130 MB with 2 workers the join takes ~1.5 s
    without the GIL beside stage 1's merge loop, against 3.3 s of Python, which slowed that loop by a third;
    the workers sorted their own chunks before, 0.2 s each in the counting, where both cores are busy.)

    With ``derive_stage1`` (default: where :func:`derivable_stage1` allows it) the stage-1 regex runs only
    on documents holding :data:`_CONTEXT_DEPENDENT_WHITESPACE`; the others' stage-1 counts are the pieces of
    their chunks' cuts times the chunks' counts, added in :meth:`finish` (the same counts, see
    :data:`_DERIVABLE_STAGE1`, at a fraction of a regex pass over the text).
    """

    def __init__(self, stage1: Pretokenizer, stage2: Pretokenizer, special_tokens: tuple[str, ...],
                 derive_stage1: bool | None = None) -> None:
        from tokensmith.train.text_table import CountingTable

        self.stage1 = PretokenTally(stage1)
        self.stage2 = stage2
        self.special_tokens = special_tokens
        # Each batch's distinct chunks (UTF-8) go into a compiled hash table that sums the counts of chunks met
        # before: no Python string per chunk. (A ``Counter`` of str cost ~1.1 s a worker on 65 MB and ~0.4 s
        # more to encode its keys; summing the batches' tables whenever they outgrew the last sum, 1.2 s.)
        self.chunks: CountingTable | None = CountingTable()  # until finished; then in table
        self.table: _ChunkTable | None = None
        self.cut: _Cut | None = None
        self.pending: list[StageTally] = []  # partials whose chunks are not joined yet (see combine)
        if derive_stage1 is None:
            derive_stage1 = derivable_stage1(stage1, stage2)
        # chunks of the documents stage 1 cuts directly (all of them, unless derived)
        self.direct_chunks: CountingTable | None = CountingTable() if derive_stage1 else None

    def add(self, batch: list[str]) -> None:
        if self.direct_chunks is None:
            self.stage1.add(batch)
            self._count_chunks(self.chunks, batch)
            return
        from tokensmith.train.compiled_pretokenize import whitespace_next_to_whitespace

        direct, derived = [], []
        # _CONTEXT_DEPENDENT_WHITESPACE.search of each document, in one compiled call
        for document, context_dependent in zip(batch, whitespace_next_to_whitespace(batch).tolist(), strict=True):
            (direct if context_dependent else derived).append(document)
        self._count_chunks(self.chunks, derived)
        self.stage1.add(direct)
        self._count_chunks(self.direct_chunks, direct)

    def _count_chunks(self, into: CountingTable, documents: list[str]) -> None:
        compiled = self.stage2.compiled
        if compiled is not None:
            into.add(*compiled.count_utf8(documents))
            return
        counter: Counter[str] = Counter()
        split, update = self.stage2.split, counter.update
        for document in documents:
            update(split(document))
        into.add(*_counter_table(counter))

    def finish(self) -> None:
        if self.direct_chunks is None:
            texts, counts = self.chunks.total()
            self.cut = self._cut_chunks(texts)
            self.stage1.finish()
        else:
            # the derived documents' chunk counts weigh the cut; the direct ones' chunks join them for stage 2
            # (new chunks go last, with weight 0)
            weights = self.chunks.counts()
            self.chunks.add(*self.direct_chunks.total())
            self.direct_chunks = None
            texts, counts = self.chunks.total()
            weights = np.concatenate([weights, np.zeros(len(counts) - len(weights), dtype=np.int64)])
            self.cut = self._cut_chunks(texts)
            self._pack_pieces()
            derived = self._derived_stage1(weights)
            self.stage1.finish()
            self.stage1.runs.append(derived)
        self._pack(texts, counts)

    def _pack_pieces(self) -> None:
        """The cut's pieces packed (:class:`_Pieces`), encoded once: the derived stage-1 counts and stage 2
        both read them so."""
        from tokensmith.train.counting import lone_surrogate_error

        try:
            self.cut = _Cut(_Pieces.of(self.cut.pieces), self.cut.occurrence, self.cut.chunk_pieces)
        except UnicodeEncodeError as exc:
            raise lone_surrogate_error(exc) from None

    def _pack(self, texts: TextTable, counts: np.ndarray) -> None:
        """The chunks into ``table`` (sorted where they are joined, beside stage 1's merge loop), the cut's
        pieces packed."""
        self.table = _ChunkTable(texts, counts, None)
        self.cut = _Cut(_Pieces.of(self.cut.pieces), self.cut.occurrence, self.cut.chunk_pieces)
        self.chunks = None

    def _cut_chunks(self, texts: TextTable) -> _Cut:
        compiled = self.stage1.pretokenizer.compiled
        if compiled is not None:
            return _compiled_cut_table(texts, compiled, self.special_tokens)
        return _cut_texts(texts.decoded(), len(texts), self.stage1.pretokenizer, self.special_tokens)

    def _derived_stage1(self, chunk_weights: np.ndarray) -> PretokenCounts:
        """The stage-1 counts of the derived documents: ``chunk_weights[i]`` times the pieces of chunk ``i``'s
        cut, as one canonical run (sorted from the packed pieces, no str per piece). A chunk kept whole for
        a special token's text is counted as text, cut by the regex, into the direct counts instead."""
        from tokensmith.train.merge_core import piece_totals

        pieces = self.cut.pieces
        piece_counts = piece_totals(self.cut.occurrence, self.cut.chunk_pieces, chunk_weights, len(pieces))
        for index in np.flatnonzero(pieces.whole & (piece_counts > 0)).tolist():
            for text in self.stage1.pretokenizer.split(pieces[index][0]):
                self.stage1.counter[text] += int(piece_counts[index])
        counted = np.flatnonzero(~pieces.whole & (piece_counts > 0))
        return PretokenCounts.from_table(pieces.texts.take(counted), piece_counts[counted])

    @classmethod
    def combine(cls, partials: list[StageTally]) -> StageTally:
        """Stage 1's counts combined; the other partials' chunks wait in ``pending`` (joined by
        :meth:`sorted_chunks`, which :meth:`SuperwordTrainer.train` runs while stage 1 trains), unless more
        than :data:`_PENDING_PARTIALS` wait (the Ray engine combines one batch's tally at a time)."""
        total = max(partials, key=lambda tally: len(tally.table.counts))
        total.stage1 = PretokenTally.combine([tally.stage1 for tally in partials])
        others = [tally for tally in partials if tally is not total]
        pending = [waiting for tally in partials for waiting in tally.pending] + others
        for tally in others:
            tally.stage1, tally.pending = None, []
        total.pending = pending
        if len(pending) > _PENDING_PARTIALS:
            total.join_pending()
        return total

    def join_pending(self) -> None:
        """Add the chunks (counts and cuts) of the partials waiting in ``pending`` to this tally's."""
        if not self.pending:
            return
        texts, _, counts, self.cut = self._joined(keep_texts=True)
        self.table, self.pending = _ChunkTable(texts, counts, np.arange(len(counts), dtype=np.int64)), []

    def sorted_chunks(self) -> StageChunks:
        """The distinct chunks in the canonical order (by UTF-8 bytes, as :class:`PretokenCounts`), with
        their counts and cuts."""
        _, lengths, counts, cut = self._joined(keep_texts=False)
        return StageChunks(cut.pieces, cut.occurrence, cut.chunk_pieces, counts, int(lengths @ counts))

    def _joined(self, keep_texts: bool) -> tuple[TextTable | None, np.ndarray, np.ndarray, _Cut]:
        """``(texts, lengths, counts, cut)``: the chunks of this tally and of the partials in ``pending``, in
        canonical order (``texts`` only if ``keep_texts``): their sorted orders merged, the counts of equal
        chunks summed and the first one's cut kept."""
        from tokensmith.train.text_table import TextTable

        parts = [self, *self.pending]
        if len(parts) == 1:
            pieces, occurrence = self.cut.pieces, self.cut.occurrence
        else:
            pieces, piece_ids = _Pieces.union([part.cut.pieces for part in parts])
            occurrence = np.concatenate([ids[part.cut.occurrence] for ids, part in zip(piece_ids, parts, strict=True)])
        joined = _Cut(pieces, occurrence, np.concatenate([part.cut.chunk_pieces for part in parts]))
        texts = TextTable.concatenate([part.table.texts for part in parts])
        counts = np.concatenate([part.table.counts for part in parts])
        bounds = np.cumsum([0] + [len(part.table.counts) for part in parts])
        runs = [part.table.sorted_order() + bound for part, bound in zip(parts, bounds.tolist(), strict=False)]
        order = texts.merge_order(bounds, np.concatenate(runs))
        starts = np.flatnonzero(~texts.repeats(order))  # where each distinct chunk's run of equals starts
        kept = order[starts]
        counts = np.add.reduceat(counts[order], starts) if len(order) else counts
        cut = _Cut(pieces, *joined.reordered(kept))
        return (texts.take(kept) if keep_texts else None), texts.lengths()[kept], counts, cut


def _counter_table(counter: Counter[str]) -> tuple[TextTable, np.ndarray]:
    """The chunks counted in a ``Counter`` (the pre-tokenizers without a compiled matcher) as UTF-8 and counts."""
    from tokensmith.train.counting import lone_surrogate_error
    from tokensmith.train.text_table import TextTable

    counter.pop("", None)  # as PretokenCounts drops it (no pre-tokenizer yields it)
    try:
        texts = TextTable.from_strings(counter)
    except UnicodeEncodeError as exc:
        raise lone_surrogate_error(exc) from None
    return texts, np.fromiter(counter.values(), dtype=np.int64, count=len(counter))


@dataclass(frozen=True)
class _ChunkTable:
    """Distinct chunks: ``texts`` their UTF-8 bytes, ``counts`` (``int64``) their occurrences, ``order``
    (``int64``) their indices in the canonical order (by UTF-8 bytes; None: not sorted yet)."""

    texts: TextTable
    counts: np.ndarray
    order: np.ndarray | None

    def sorted_order(self) -> np.ndarray:
        return self.texts.sorted_order() if self.order is None else self.order


@dataclass(frozen=True)
class _Pieces:
    """Distinct pieces packed (a list of pieces as :class:`_Cut` has them, but one buffer): ``texts`` the UTF-8
    text of each, ``whole`` (bool) whether it is a chunk kept whole (``(text,)`` in the list)."""

    texts: TextTable
    whole: np.ndarray

    @classmethod
    def of(cls, pieces: list | _Pieces) -> _Pieces:
        from tokensmith.train.text_table import TextTable

        if isinstance(pieces, _Pieces):
            return pieces
        whole = np.fromiter((not isinstance(piece, str) for piece in pieces), dtype=bool, count=len(pieces))
        return cls(TextTable.from_strings(piece if isinstance(piece, str) else piece[0] for piece in pieces), whole)

    @classmethod
    def union(cls, parts: list[_Pieces]) -> tuple[_Pieces, list[np.ndarray]]:
        """The distinct pieces of all ``parts``, and the index (``int32``) in them of each part's pieces."""
        from tokensmith.train.text_table import TextTable

        texts = TextTable.concatenate([part.texts for part in parts])
        first, ids = texts.distinct()
        # Equal texts are the same piece: one kept whole holds a special token's text, which a piece cut
        # by stage 1 never does (it would have been cut from a chunk holding that text, which is kept whole).
        whole = np.concatenate([part.whole for part in parts])[first]
        bounds = np.cumsum([0] + [len(part) for part in parts]).tolist()
        ids = ids.astype(np.int32)
        return cls(texts.take(first), whole), [ids[start:stop] for start, stop in zip(bounds[:-1], bounds[1:],
                                                                                      strict=True)]

    def __len__(self) -> int:
        return len(self.whole)

    def __getitem__(self, index: int) -> str | tuple[str]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        text = self.texts[index].decode("utf-8")
        return (text,) if self.whole[index] else text

    def __iter__(self):
        for text, whole in zip(self.texts.decoded(), self.whole.tolist(), strict=True):
            yield (text,) if whole else text


@dataclass(frozen=True)
class StageChunks:
    """Stage 2's distinct chunks, sorted, cut into stage-1 pieces (see :func:`_cut_chunks` for the first three;
    the pieces are packed, :class:`_Pieces`).

    Args:
        counts: ``int64``, occurrences of each chunk.
        total_bytes: UTF-8 bytes of all chunk occurrences (the corpus size).
    """

    pieces: _Pieces
    occurrence: np.ndarray
    chunk_pieces: np.ndarray
    counts: np.ndarray
    total_bytes: int


@dataclass(frozen=True)
class _Cut:
    """Chunks cut into stage-1 pieces: ``pieces`` the distinct pieces (str) and ``(text,)`` for a chunk that
    holds a special token's text (kept whole), as a list or packed (:class:`_Pieces`); ``occurrence``
    (int32) the index into ``pieces`` of every piece of every chunk, chunks back to back; ``chunk_pieces``
    (int64) how many pieces each chunk has."""

    pieces: list | _Pieces
    occurrence: np.ndarray
    chunk_pieces: np.ndarray

    def reordered(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(occurrence, chunk_pieces)`` with chunk ``order[i]`` as chunk ``i`` (``order`` may leave chunks out)."""
        from tokensmith.train.text_table import take_segments

        offsets = np.zeros(len(self.chunk_pieces) + 1, dtype=np.int64)
        np.cumsum(self.chunk_pieces, out=offsets[1:])
        occurrence, new_offsets = take_segments(self.occurrence, offsets, order)
        return occurrence, np.diff(new_offsets)


#: Fewest chunks per worker process worth starting one for.
_CHUNKS_PER_WORKER = 50_000

#: What forked cutting processes read: (chunks, stage-1 tokenizer); set only while they run.
_CUT_INPUT: tuple | None = None


def _cut_chunks(chunks: tuple[bytes, ...], stage1: TrainedBPE,
                workers: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Cut every chunk into its stage-1 pieces: ``(pieces, occurrence, chunk_pieces)`` (see :class:`_Cut`).

    ``workers`` processes (forked, where the platform can) cut a contiguous share each.
    """
    global _CUT_INPUT
    from tokensmith.processes import process_context, start_worker

    workers = max(1, min(workers, len(chunks) // _CHUNKS_PER_WORKER))
    bounds = [len(chunks) * i // workers for i in range(workers + 1)]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    context = process_context()
    if workers == 1 or context.get_start_method() != "fork":
        parts = [_cut_span(chunks, stage1, start, stop) for start, stop in spans]
    else:
        _CUT_INPUT = (chunks, stage1)
        try:
            with context.Pool(workers, initializer=start_worker) as pool:
                parts = pool.map(_cut_forked, spans)
        finally:
            _CUT_INPUT = None
    cut = _join_cuts(parts)
    return cut.pieces, cut.occurrence, cut.chunk_pieces


def _cut_forked(span: tuple[int, int]) -> _Cut:
    chunks, stage1 = _CUT_INPUT
    return _cut_span(chunks, stage1, *span)


def _cut_span(chunks: tuple[bytes, ...], stage1: TrainedBPE, start: int, stop: int) -> _Cut:
    """The cut of ``chunks[start:stop]``."""
    texts = (chunks[n].decode("utf-8") for n in range(start, stop))
    return _cut_texts(texts, stop - start, stage1.pretokenizer,
                      tuple(text for text, _ in stage1.special_tokens))


def _cut_texts(texts: Iterable[str], n_texts: int, stage1: Pretokenizer, special_tokens: tuple[str, ...]) -> _Cut:
    """The cut of ``n_texts`` chunks by stage 1's pre-tokenizer."""
    # one C call per chunk (a generator over the special tokens cost 0.4 us per chunk)
    holds_special = regex.compile("|".join(map(regex.escape, special_tokens))).search if special_tokens else None
    if stage1.compiled is not None:
        return _compiled_cut(texts, stage1.compiled, special_tokens)
    split = stage1.splitter
    pieces = _Index()  # piece (str), or (chunk text,) for a chunk HF must encode whole -> index
    occurrences = array("i")
    counts = np.empty(n_texts, dtype=np.int64)
    for n, text in enumerate(texts):
        before = len(occurrences)
        if holds_special is not None and holds_special(text):
            occurrences.append(pieces[(text,)])
        else:
            occurrences.extend(map(pieces.__getitem__, split(text)))
        counts[n] = len(occurrences) - before
    return _Cut(list(pieces), np.frombuffer(occurrences, dtype=np.int32), counts)


def _compiled_cut(texts: Iterable[str], compiled: CompiledPretokenizer, special_tokens: tuple[str, ...]) -> _Cut:
    """:func:`_cut_texts` by a compiled pre-tokenizer: a chunk holding a special token's text is cut as an
    empty text, then given its one piece ``(text,)``."""
    texts = list(texts)
    special = _holding_special(texts, special_tokens)
    whole = _Index()
    kept = [whole[(texts[n],)] for n in special]
    for n in special:
        texts[n] = ""
    from tokensmith.train.counting import lone_surrogate_error
    from tokensmith.train.text_table import TextTable

    if not special:
        return _with_whole_chunks(compiled.cut_utf8(texts), [], [], TextTable.empty())
    try:
        whole_utf8 = TextTable.from_strings(text for text, in whole)
    except UnicodeEncodeError as exc:
        raise lone_surrogate_error(exc) from None
    return _with_whole_chunks(compiled.cut_utf8(texts), special, kept, whole_utf8)


def _compiled_cut_table(texts: TextTable, compiled: CompiledPretokenizer, special_tokens: tuple[str, ...]) -> _Cut:
    """:func:`_compiled_cut` of distinct chunks given as UTF-8 (no Python string per chunk)."""
    special = _holding_special_utf8(texts, special_tokens)
    blank = np.zeros(len(texts), dtype=np.bool_)
    blank[special] = True
    return _with_whole_chunks(compiled.cut_table(texts, blank), special, list(range(len(special))),
                              texts.take(np.array(special, dtype=np.int64)))


def _with_whole_chunks(cut: tuple[TextTable, np.ndarray, np.ndarray], special: list[int], kept: list[int],
                       whole_utf8: TextTable) -> _Cut:
    """The compiled cut ``(pieces, occurrence, chunk_pieces)`` with chunk ``special[k]`` (cut as an empty text)
    made the one piece ``(text,)`` of whole text ``kept[k]`` of ``whole_utf8``."""
    from tokensmith.train.text_table import TextTable

    texts_utf8, occurrence, chunk_pieces = cut
    is_whole = np.zeros(len(texts_utf8), dtype=bool)
    if special:
        starts = np.concatenate([[0], np.cumsum(chunk_pieces)])[special]
        occurrence = np.insert(occurrence, starts, np.array(kept, dtype=np.int32) + len(texts_utf8))
        chunk_pieces[special] = 1
        texts_utf8 = TextTable.concatenate([texts_utf8, whole_utf8])
        is_whole = np.concatenate([is_whole, np.ones(len(whole_utf8), dtype=bool)])
    return _Cut(_Pieces(texts_utf8, is_whole), occurrence, chunk_pieces)


def _holding_special_utf8(texts: TextTable, special_tokens: tuple[str, ...]) -> list[int]:
    """The indices of the strings of ``texts`` that hold a special token's text: every occurrence of each
    token's UTF-8 in the buffer (UTF-8 matches only at character starts), kept where it lies in one string."""
    buffer, offsets = texts.text.tobytes(), texts.offsets
    found: set[int] = set()
    for token in special_tokens:
        needle = token.encode("utf-8")
        at = buffer.find(needle) if needle else -1
        while at >= 0:
            row = int(np.searchsorted(offsets, at, side="right")) - 1
            if at + len(needle) <= offsets[row + 1]:
                found.add(row)
            at = buffer.find(needle, at + 1)
    return sorted(found)


def _holding_special(texts: list[str], special_tokens: tuple[str, ...]) -> list[int]:
    """The indices of the texts that hold a special token's text, by one search over all of them joined
    with a character no special token holds (so no match spans two texts); a search per text cost more."""
    if not special_tokens:
        return []
    separator = next(chr(code) for code in range(0x110000) if all(chr(code) not in token for token in special_tokens))
    joined = separator.join(texts)
    text_starts = np.cumsum([0] + [len(text) + 1 for text in texts[:-1]])
    found = regex.compile("|".join(map(regex.escape, special_tokens)))
    matches = [match.start() for match in found.finditer(joined)]
    return sorted(set((np.searchsorted(text_starts, matches, side="right") - 1).tolist()))


def _join_cuts(cuts: list[_Cut]) -> _Cut:
    """The chunks of all ``cuts`` back to back, over one list of distinct pieces."""
    if len(cuts) == 1:
        return cuts[0]
    pieces = _Index()
    occurrence = np.concatenate([
        np.fromiter(map(pieces.__getitem__, cut.pieces), dtype=np.int32, count=len(cut.pieces))[cut.occurrence]
        for cut in cuts])
    return _Cut(list(pieces), occurrence, np.concatenate([cut.chunk_pieces for cut in cuts]))


class _Index(dict):
    """key -> its index in order of first use (``index[key]`` adds a new key)."""

    def __missing__(self, key):
        value = self[key] = len(self)
        return value
