"""Byte-level BPE: the ``bpe`` trainer (GPT-2 / GPT-4 style tokenizers).

Text is cut by a pre-tokenization regex (:mod:`~tokensmith.train.pretokenize`), the distinct pre-tokens
are counted (:mod:`~tokensmith.train.counting`), each pre-token becomes a sequence of its UTF-8 bytes,
and the shared merge loop (:mod:`~tokensmith.train.merge_core`) learns merges until the vocabulary
holds ``vocab_size`` tokens. All 256 bytes are in the vocabulary, so any text encodes without an
unknown token.

Ids are laid out as HF ``tokenizers`` lays them out, so that training on the same text with HF's
``BpeTrainer`` (same regex, ``initial_alphabet=ByteLevel.alphabet()``) gives the same ids and merges:
special tokens first, then the 256 bytes in code-point order of their GPT-2 characters (``!`` ... ``ÿ``,
then ``Ā`` = byte 0 ...), then merged tokens in the order they were learned.

>>> trained = BpeTrainer(vocab_size=260, special_tokens=(), min_frequency=1, engine="serial").train(
...     ["low lower lowest"] * 10)
>>> [trained.vocab[new] for _, _, new in trained.merge_ids]
[b'lo', b'low', b' low', b' lowe']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tokensmith.errors import CorpusError, InputError
from tokensmith.settings import check_setting_types
from tokensmith.tokenizers.bytemaps import byte_to_unicode, unicode_to_byte
from tokensmith.train.counting import (
    PretokenCounts,
    check_documents,
    count_pretokens,
    local_workers,
    make_engine,
)
from tokensmith.train.pretokenize import DEFAULT_PRETOKENIZER, Pretokenizer

#: Called as ``progress(stage, done, total)``; stages are ``"count"`` (documents, total 0 = unknown)
#: and ``"merge"`` (merges, total = the most merges possible).
ProgressCallback = Callable[[str, int, int], None]

#: Merges per call into the compiled loop between two progress reports.
_MERGES_PER_REPORT = 2000

#: ``kind`` in the metadata of a training checkpoint (see :meth:`BpeTrainer.resume`).
CHECKPOINT_KIND = "tokensmith-bpe-checkpoint"


@dataclass(frozen=True)
class TrainingStats:
    """What a training run saw and how long each stage took (seconds)."""

    documents: int
    corpus_bytes: int
    pretokens: int
    distinct_pretokens: int
    merges: int
    stop_reason: str
    count_seconds: float
    compile_seconds: float
    merge_seconds: float

    @property
    def total_seconds(self) -> float:
        return self.count_seconds + self.compile_seconds + self.merge_seconds


@dataclass(frozen=True)
class TrainedBPE:
    """A trained byte-level BPE tokenizer.

    Args:
        vocab: ``vocab[id]`` is the bytes of token ``id`` (a special token: its UTF-8 text).
        merge_ids: ``(left id, right id, new id)`` in the order learned (= merge priority).
        special_tokens: ``(text, id)`` of each special token.
        pretokenizer: how text is cut before merges apply.
        stats: counts and timings of the run (not part of any exported file).
    """

    vocab: tuple[bytes, ...]
    merge_ids: tuple[tuple[int, int, int], ...]
    special_tokens: tuple[tuple[str, int], ...]
    pretokenizer: Pretokenizer
    stats: TrainingStats | None = field(default=None, compare=False)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @cached_property
    def merges(self) -> tuple[tuple[bytes, bytes], ...]:
        """The merges as byte pairs, in priority order."""
        return tuple((self.vocab[left], self.vocab[right]) for left, right, _ in self.merge_ids)

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(token_id for _, token_id in self.special_tokens)

    def to_tokenizer_json(self) -> str:
        """The HF tokenizer.json text (deterministic)."""
        from tokensmith.train.export import tokenizer_json

        return tokenizer_json(self)

    def save(self, directory: str | Path, *, force: bool = False) -> dict[str, Path]:
        """Write the folder ``directory`` of ``tokenizer.json``, ``tokenizer.tiktoken`` and ``tiktoken.json``,
        as a whole: it appears complete or not at all (an existing empty folder is fine). The two tiktoken
        files are left out when tiktoken would encode otherwise (:func:`~tokensmith.train.export.save_trained`).

        Raises:
            OutputExistsError: ``directory`` is a folder that is not empty and ``force`` is false.
            InputError: with ``force``, ``directory`` holds other files than a tokenizer's (it would be
                replaced as a whole). Nothing is written in either case.
        """
        from tokensmith.train.export import save_trained

        return save_trained(self, directory, force=force)



#: Settings a checkpoint leaves out: where to stop (char's preset is a vocab_size) and how to count change nothing else.
_SIZE_AND_COUNTING = frozenset({"vocab_size", "preset", "engine", "workers", "engine_address"})


def _differing(before: dict, now: dict) -> list[str]:
    """The keys whose values differ between two settings dicts (a key one of them lacks differs)."""
    return sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))

@dataclass(frozen=True)
class BpeTrainer:
    """Configuration of a byte-level BPE training run; :meth:`train` runs it.

    Args:
        vocab_size: tokens in the final vocabulary, special tokens and the 256 bytes included.
        min_frequency: a pair seen fewer times is never merged (training stops there).
        special_tokens: control tokens, given the first ids in this order; they are never learned from
            text (a literal ``<|endoftext|>`` in the corpus is ordinary text).
        pretokenizer: a preset from ``PRETOKENIZER_PRESETS`` (gpt2, cl100k, o200k, llama3); ignored
            when ``regex`` is given.
        regex: a custom pre-tokenization regex (Python ``regex`` syntax, HF ``Split`` semantics).
        split_digits: every digit becomes its own pre-token (so numbers are spelled digit by digit).
        max_token_length: longest token in bytes (``None``: unlimited). HF's ``max_token_length=N+1``.
        engine: pre-token counting engine from ``COUNTING_ENGINES`` (``local``, ``serial``, ``ray``).
        workers: parallel counting workers (``None``: one per CPU core; for ``ray`` on a cluster, all its CPUs).
        engine_address: the cluster a distributed engine counts on (``ray``: ``host:port`` or
            ``ray://host:10001``; ``None``: the ``RAY_ADDRESS`` environment variable, else a local Ray).
    """

    vocab_size: int = 32000
    min_frequency: int = 2
    special_tokens: tuple[str, ...] = ("<|endoftext|>",)
    pretokenizer: str = DEFAULT_PRETOKENIZER
    regex: str | None = None
    split_digits: bool = False
    max_token_length: int | None = None
    engine: str = "local"
    workers: int | None = None
    engine_address: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.special_tokens, str):
            raise InputError(
                f"special_tokens must be a list of strings, not the string {self.special_tokens!r}",
                f"pass special_tokens=({self.special_tokens!r},)",
            )
        check_setting_types(self)
        _check_int("vocab_size", self.vocab_size, minimum=1, maximum=MAX_VOCAB_SIZE)
        _check_int("min_frequency", self.min_frequency, minimum=0)
        if self.max_token_length is not None:
            _check_int("max_token_length", self.max_token_length, minimum=1)
        to_byte = unicode_to_byte()
        for token in self.special_tokens:
            if not isinstance(token, str) or not token:
                raise InputError(f"special token {token!r} is not a non-empty string",
                                 "give each special token as text, e.g. '<|endoftext|>'")
            # HF's ByteLevel decoder reads a special token's text too: such a character comes back as a lone byte
            stray = next((char for char in token if char in to_byte and not char.isascii()), None)
            if stray is not None:
                raise InputError(
                    f"special token {token!r} holds {stray!r} (U+{ord(stray):04X}), a character of the byte-level "
                    f"alphabet: the tokenizer.json decoder turns it into byte 0x{to_byte[stray]:02X}, so decoding "
                    "would not give the token's text back",
                    "spell special tokens with ASCII, or with characters outside the alphabet (printable Latin-1 "
                    "and U+0100-U+0143)",
                )
        if len(set(self.special_tokens)) != len(self.special_tokens):
            raise InputError(f"special tokens repeat: {list(self.special_tokens)}", "list each special token once")
        minimum = len(self.initial_vocabulary().contents)
        if self.vocab_size < minimum:
            raise InputError(
                f"vocab_size {self.vocab_size} is below the initial vocabulary: 256 bytes + "
                f"{len(self.special_tokens)} special tokens = {minimum}",
                f"pass vocab_size {minimum} or more (a few thousand at least for useful merges)",
            )
        make_engine(self.engine, self.workers, self.engine_address)  # a bad engine setting fails here too
        self.pretokenizer_object()  # a bad preset or regex fails here, before any text is read

    def pretokenizer_object(self) -> Pretokenizer:
        """The :class:`Pretokenizer` this configuration describes."""
        if self.regex is not None:
            return Pretokenizer.create(regex_pattern=self.regex, split_digits=self.split_digits)
        return Pretokenizer.create(self.pretokenizer, split_digits=self.split_digits)

    def initial_vocabulary(self) -> InitialVocabulary:
        """Special tokens, then the 256 bytes (ids as HF lays them out)."""
        return InitialVocabulary.byte_level(self.special_tokens)

    def max_units(self) -> int | None:
        """Longest token a merge may build, in the units of :meth:`initial_vocabulary` (here bytes)."""
        return self.max_token_length

    def count(self, documents: Iterable[str]) -> PretokenCounts:
        """Count the pre-tokens of ``documents`` (the first half of :meth:`train`)."""
        return count_pretokens(documents, self.pretokenizer_object(), engine=self.engine, workers=self.workers,
                               address=self.engine_address)

    def train(self, documents: Iterable[str], *, progress: ProgressCallback | None = None,
              checkpoint: str | Path | None = None, checkpoint_seconds: float = 60.0,
              corpus_fingerprint: str | None = None, corpus_reading: dict | None = None) -> TrainedBPE:
        """Learn a vocabulary from ``documents`` (an iterable of str, read once).

        Args:
            progress: ``progress(stage, done, total)`` callback.
            checkpoint: write the merge state to this ``.npz`` file once counting is done, then at most
                every ``checkpoint_seconds`` during the merges and at the end; :meth:`resume` continues
                from it (after an interruption, or to a larger ``vocab_size``).
            checkpoint_seconds: least time between two checkpoint writes (0: after every progress step).
            corpus_fingerprint: identifies the corpus (e.g. a hash of the files); stored in the
                checkpoint so that :meth:`resume` can refuse a checkpoint of other text.
            corpus_reading: the options the files were read with (JSON-ready, e.g. ``{"field": "text",
                "errors": "strict"}``); stored too, so that :meth:`resume` can refuse other options, which
                read other text from the same files.

        Raises:
            CorpusError: the corpus is empty or holds only whitespace.
        """
        started = time.perf_counter()
        check_run_options(progress, checkpoint_seconds)
        counts = self.count(_reporting(documents, progress))
        return self.train_from_counts(counts, progress=progress, count_seconds=time.perf_counter() - started,
                                      checkpoint=checkpoint, checkpoint_seconds=checkpoint_seconds,
                                      corpus_fingerprint=corpus_fingerprint, corpus_reading=corpus_reading)

    def train_from_counts(self, counts: PretokenCounts, *, progress: ProgressCallback | None = None,
                          count_seconds: float = 0.0, checkpoint: str | Path | None = None,
                          checkpoint_seconds: float = 60.0, corpus_fingerprint: str | None = None,
                          corpus_reading: dict | None = None,
                          on_merges: Callable[[np.ndarray], None] | None = None) -> TrainedBPE:
        """Learn a vocabulary from pre-token counts (e.g. from :meth:`count` or another engine).

        ``on_merges``, if given, gets the merges learned so far (``int32 (n, 3)``, a copy) after every
        :data:`_MERGES_PER_REPORT` merges, on the training thread (superword encodes ahead with them).
        """
        from tokensmith.train import merge_core  # numba loads only when training runs

        if len(counts) == 0 or not counts.has_text():
            raise CorpusError(
                "the corpus is empty or holds only whitespace, so there is nothing to learn merges from",
                "check the corpus path and format (one document per line for .txt files)",
            )
        compile_seconds = merge_core.compile_kernels()
        initial = self.initial_vocabulary()
        symbols, offsets = initial.encode_words(counts.pretokens)
        started = time.perf_counter()
        state = merge_core.build_state(
            symbols, offsets, counts.counts, initial.contents, initial.units, dedup=initial.dedup,
            max_units=self.max_units(), threads=local_workers(self.workers),
        )
        corpus = {"documents": counts.documents, "corpus_bytes": counts.total_bytes, "pretokens": counts.total,
                  "distinct_pretokens": len(counts), "count_seconds": count_seconds,
                  "fingerprint": corpus_fingerprint, "reading": corpus_reading}
        return self._merge(state, initial, corpus, started, compile_seconds, progress, checkpoint, checkpoint_seconds,
                           on_merges=on_merges)

    def resume(self, checkpoint: str | Path, *, progress: ProgressCallback | None = None,
               checkpoint_seconds: float = 60.0, corpus_fingerprint: str | None = None,
               corpus_reading: dict | None = None) -> TrainedBPE:
        """Continue a run from a checkpoint written by :meth:`train` (same settings; ``vocab_size`` may grow).

        The result equals an uninterrupted run of this configuration on the same corpus, byte for byte.
        The checkpoint is updated as the run goes on.

        Raises:
            InputError: the file is not a checkpoint, was written with other settings (pre-tokenizer,
                special tokens, min_frequency...), for another corpus (``corpus_fingerprint`` differs) or
                one read with other options (``corpus_reading`` differs), or holds more tokens than
                ``vocab_size``. A fingerprint or reading options that either side lacks are not compared.
        """
        check_run_options(progress, checkpoint_seconds)
        metadata, state, compile_seconds, started = reopen_checkpoint(
            checkpoint, self.checkpoint_settings(), vocab_size=self.vocab_size,
            corpus_fingerprint=corpus_fingerprint, corpus_reading=corpus_reading)
        return self._merge(state, self.initial_vocabulary(), metadata["corpus"], started, compile_seconds, progress,
                           checkpoint, checkpoint_seconds, save_first=False)

    def checkpoint_settings(self) -> dict:
        """The settings a checkpoint must share with a run that resumes it (JSON-ready)."""
        settings = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _SIZE_AND_COUNTING}
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
        return {"trainer": type(self).__name__, **settings}

    def _merge(self, state, initial: InitialVocabulary, corpus: dict, started: float, compile_seconds: float,
               progress: ProgressCallback | None, checkpoint: str | Path | None,
               checkpoint_seconds: float, *, save_first: bool = True,
               on_merges: Callable[[np.ndarray], None] | None = None) -> TrainedBPE:
        """Run the merge loop to the end (reporting progress, writing checkpoints) and build the result."""
        merge_to_end(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency, started=started,
                     checkpoint=checkpoint, checkpoint_seconds=checkpoint_seconds, save_first=save_first,
                     checkpoint_metadata=lambda: {"settings": self.checkpoint_settings(), "corpus": corpus},
                     progress=progress, progress_total=max(self.vocab_size - len(initial.contents), 0),
                     on_merges=on_merges)
        merge_seconds = time.perf_counter() - started
        return initial.result(
            state, self.pretokenizer_object(),
            TrainingStats(
                documents=corpus["documents"], corpus_bytes=corpus["corpus_bytes"], pretokens=corpus["pretokens"],
                distinct_pretokens=corpus["distinct_pretokens"], merges=state.n_merges,
                stop_reason=state.stop_reason, count_seconds=corpus["count_seconds"],
                compile_seconds=compile_seconds, merge_seconds=merge_seconds,
            ),
        )


@dataclass(frozen=True)
class InitialVocabulary:
    """The ids before any merge: special tokens, then the byte alphabet, laid out as HF does.

    Args:
        contents: content bytes of each initial id, as the merge loop sees it (byte-level bytes).
        units: length of each id in bytes.
        dedup: whether a merge producing the same content reuses the id (HF looks tokens up by their
            byte-level string, so a special token such as ``<s>`` is reused if text merges into it).
        byte_ids: ``int32 (256,)``, the id of each byte.
        special_tokens: ``(text, id)``.
    """

    contents: list[bytes]
    units: list[int]
    dedup: list[bool]
    byte_ids: np.ndarray
    special_tokens: tuple[tuple[str, int], ...]

    @classmethod
    def byte_level(cls, special_tokens: tuple[str, ...], *, count_characters: bool = False) -> InitialVocabulary:
        """Special tokens then the 256 bytes. ``count_characters``: a token's length is its number of
        UTF-8 characters (lead bytes count 1, continuation bytes 0x80-0xBF count 0) instead of bytes."""
        to_byte = unicode_to_byte()
        strings: dict[str, int] = {}
        contents: list[bytes] = []
        dedup: list[bool] = []
        specials = []
        for text in special_tokens:
            in_alphabet = all(char in to_byte for char in text)
            specials.append((text, strings.setdefault(text, len(contents))))
            contents.append(bytes(to_byte[c] for c in text) if in_alphabet else text.encode("utf-8"))
            dedup.append(in_alphabet)
        byte_ids = np.zeros(256, dtype=np.int32)
        as_char = byte_to_unicode()
        for byte in sorted(range(256), key=lambda b: ord(as_char[b])):
            char = as_char[byte]
            if char not in strings:
                strings[char] = len(contents)
                contents.append(bytes([byte]))
                dedup.append(True)
            byte_ids[byte] = strings[char]
        if count_characters:
            units = [0 if len(c) == 1 and 0x80 <= c[0] <= 0xBF else len(c) for c in contents]
        else:
            units = [len(c) for c in contents]
        return cls(contents, units, dedup, byte_ids, tuple(specials))

    def encode_words(self, pretokens: tuple[bytes, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(symbols int32, offsets int64)``: every pre-token as its byte ids, back to back."""
        lengths = np.fromiter((len(p) for p in pretokens), dtype=np.int64, count=len(pretokens))
        offsets = np.zeros(len(pretokens) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.frombuffer(b"".join(pretokens), dtype=np.uint8)
        return self.byte_ids[flat], offsets

    def result(self, state, pretokenizer: Pretokenizer, stats: TrainingStats) -> TrainedBPE:
        """The :class:`TrainedBPE` of a finished merge state."""
        vocab = [state.token(i) for i in range(state.n_tokens)]
        for text, token_id in self.special_tokens:
            vocab[token_id] = text.encode("utf-8")
        merge_ids = tuple(tuple(row) for row in state.learned_merges().tolist())
        return TrainedBPE(tuple(vocab), merge_ids, self.special_tokens, pretokenizer, stats)


#: The largest vocabulary: token ids are int32 in the merge loop and its outputs.
MAX_VOCAB_SIZE = 2**31 - 1
#: The largest integer setting: they reach the compiled merge loop as int64.
_MAX_SETTING = 2**63 - 1


def _check_int(name: str, value: object, *, minimum: int, maximum: int = _MAX_SETTING) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}", f"pass {name} >= {minimum}")
    if value > maximum:
        raise InputError(f"{name} must be an integer from {minimum} to {maximum}, got {value!r}",
                         f"pass {name} <= {maximum}")


def merge_to_end(state, *, vocab_size: int, min_frequency: int, started: float, checkpoint: str | Path | None,
                 checkpoint_seconds: float, save_first: bool, checkpoint_metadata: Callable[[], dict],
                 progress: ProgressCallback | None, progress_total: int, merges_before: int = 0,
                 on_merges: Callable[[np.ndarray], None] | None = None) -> None:
    """Run the merge loop on ``state`` until it stops, reporting progress and writing ``checkpoint`` (every
    trainer's loop: bpe and char, superword's stage 2, extend).

    Args:
        started: when the merges began (``perf_counter``; earlier by the time a resumed checkpoint had run).
        save_first: write the checkpoint before the first merge (counting is the expensive part to redo).
        checkpoint_metadata: what a checkpoint stores beside the state (settings, corpus), completed here
            with its kind, the merges and tokens so far and the merge time.
        merges_before: merges learned before this state's (superword's stage 1), for progress and metadata.
    """
    from tokensmith.train import merge_core

    def save() -> None:
        metadata = {**checkpoint_metadata(), "kind": CHECKPOINT_KIND, "merges": merges_before + state.n_merges,
                    "tokens": state.n_tokens, "merge_seconds": time.perf_counter() - started}
        merge_core.save_checkpoint(state, checkpoint, metadata)

    last_saved = time.perf_counter()
    if checkpoint is not None and save_first:
        save()
    while True:
        run = merge_core.run_merges(state, vocab_size=vocab_size, min_frequency=min_frequency,
                                    max_merges=_MERGES_PER_REPORT)
        finished = run.stop_reason != "running"
        if checkpoint is not None and (finished or time.perf_counter() - last_saved >= checkpoint_seconds):
            save()
            last_saved = time.perf_counter()
        if progress is not None:
            progress("merge", merges_before + state.n_merges, progress_total)
        if on_merges is not None and not finished:
            on_merges(state.learned_merges())
        if finished:
            return


def reopen_checkpoint(checkpoint: str | Path, settings: dict, *, vocab_size: int, corpus_fingerprint: str | None,
                      corpus_reading: dict | None) -> tuple[dict, Any, float, float]:
    """What every trainer's ``resume`` starts from: ``(metadata, merge state, compile seconds, started)``, the
    checkpoint checked (:func:`checked_checkpoint`) and its state loaded and set running again (a finished run
    may go on to a larger ``vocab_size``); ``started`` is as :func:`merge_to_end` takes it, earlier by the merge
    time the checkpoint had run."""
    from tokensmith.train import merge_core

    metadata = checked_checkpoint(checkpoint, settings, vocab_size=vocab_size, corpus_fingerprint=corpus_fingerprint,
                                  corpus_reading=corpus_reading)
    compile_seconds = merge_core.compile_kernels()
    state = merge_core.load_checkpoint(checkpoint)
    state.scalars[merge_core.STOP] = merge_core.RUNNING
    return metadata, state, compile_seconds, time.perf_counter() - float(metadata.get("merge_seconds", 0.0))


def checked_checkpoint(checkpoint: str | Path, settings: dict, *, vocab_size: int, corpus_fingerprint: str | None,
                       corpus_reading: dict | None) -> dict:
    """The metadata of ``checkpoint``, checked to fit a run of ``settings`` to ``vocab_size`` on this corpus.

    Raises:
        InputError: the file is not a training checkpoint, was written with other ``settings``, for another
            corpus (fingerprint) or read with other options, or holds more tokens than ``vocab_size``. A
            fingerprint or reading options that either side lacks are not compared.
    """
    from tokensmith.train import merge_core

    metadata = merge_core.load_checkpoint_metadata(checkpoint)
    if metadata.get("kind") != CHECKPOINT_KIND:
        raise InputError(f"{checkpoint} is not a tokensmith training checkpoint",
                         "pass the checkpoint file a training run wrote (checkpoint=...)")
    # (checkpoints written before preset was left out hold it; it only ever set vocab_size)
    stored = {k: v for k, v in (metadata.get("settings") or {}).items() if k not in _SIZE_AND_COUNTING}
    if stored.get("trainer") != settings["trainer"]:
        def algorithm(trainer: object) -> str:
            return str(trainer).removesuffix("Trainer").lower()  # SuperwordTrainer: --algorithm superword

        raise InputError(
            f"checkpoint {checkpoint} was written by a {algorithm(stored.get('trainer'))} run, not a "
            f"{algorithm(settings['trainer'])} one",
            f"resume it with --algorithm {algorithm(stored.get('trainer'))} (the same trainer), or start afresh",
        )
    if stored != settings:
        differing = _differing(stored, settings)
        raise InputError(
            f"checkpoint {checkpoint} was written with other settings: {', '.join(differing)} differ",
            "resume with the settings of the interrupted run (only vocab_size may change), or start afresh",
        )
    corpus = metadata["corpus"]
    if corpus_fingerprint is not None and corpus.get("fingerprint") not in (None, corpus_fingerprint):
        raise InputError(f"checkpoint {checkpoint} was written for another corpus (other files, other contents, "
                         "or the same files in another order, which learns other merges)",
                         "resume with the same corpus files in the same order, or start afresh without resume")
    reading = corpus.get("reading")
    if corpus_reading is not None and reading is not None and reading != corpus_reading:
        def shown(value) -> str:
            return "unused" if value is None else repr(value)  # e.g. --field once a JSONL file, now text

        differing = _differing(reading, corpus_reading)
        changes = "; ".join(f"{key} {shown(reading.get(key))} then, {shown(corpus_reading.get(key))} now"
                            for key in differing)
        hint = ("resume with the reading options of the interrupted run (--field, --column, --errors) and as it "
                "ran (tokensmith train or train_from_files), or start afresh without resume")
        if "held_out" in differing:  # no option gives the held-out rule back: a user could only guess
            hint = ("the held-out documents are chosen by another rule here (tokensmith train against "
                    "train_from_files, or another tokensmith version): start afresh without resume")
        raise InputError(f"checkpoint {checkpoint} was written reading the corpus with other options: {changes}",
                         hint)
    if metadata.get("tokens", 0) > vocab_size:
        raise InputError(
            f"checkpoint {checkpoint} already holds {metadata['tokens']} tokens, more than vocab_size {vocab_size}",
            f"resume to vocab_size {metadata['tokens']} or more, or train afresh without resume",
        )
    return metadata


def check_run_options(progress: object, checkpoint_seconds: object = 0.0) -> None:
    """Refuse a ``progress`` that cannot be called and a ``checkpoint_seconds`` that is no number >= 0 before
    the corpus is read: they failed with a TypeError once counting was done, or at the first checkpoint."""
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be a function progress(stage, done, total), not {progress!r}",
                         "pass a callable, or None for no progress reports")
    seconds_kinds = int | float | np.integer | np.floating
    number = isinstance(checkpoint_seconds, seconds_kinds) and not isinstance(checkpoint_seconds, bool)
    if not number or not checkpoint_seconds >= 0:  # `not >=`: nan compares false
        raise InputError(f"checkpoint_seconds must be a number of seconds >= 0, not {checkpoint_seconds!r}",
                         "pass e.g. checkpoint_seconds=60")


def _reporting(documents: Iterable[str], progress: ProgressCallback | None) -> Iterable[str]:
    check_documents(documents)  # before the generator below hides a string from the counting's own check
    check_run_options(progress)
    if progress is None:
        return documents

    def counted() -> Iterable[str]:
        for n, document in enumerate(documents, 1):
            if n % 10000 == 0:
                progress("count", n, 0)
            yield document

    return counted()


#: KL3M's character-level vocabulary sizes (kl3m-004-char-{4k,8k,16k}).
CHAR_PRESETS = {"4k": 4096, "8k": 8192, "16k": 16384}


@dataclass(frozen=True)
class CharTrainer(BpeTrainer):
    """Character-level BPE in the KL3M style: byte-level BPE whose tokens hold at most ``max_chars``
    characters, so the vocabulary is spent on short, reusable pieces (e.g. for OCR-noisy or legal text).

    Lengths are counted in characters, not bytes: a merge is allowed only if the merged token has at most
    ``max_chars`` UTF-8 lead bytes, so Cyrillic or CJK pieces get the same budget as ASCII ones. All 256
    bytes stay in the vocabulary (no unknown token); the export is the same as :class:`BpeTrainer`'s.

    Args:
        vocab_size: tokens in the final vocabulary (``None``: the preset's size, else 4096).
        max_chars: most characters per token (KL3M uses 3).
        preset: ``"4k"``, ``"8k"`` or ``"16k"`` sets ``vocab_size`` to 4096, 8192 or 16384 (a ``vocab_size``
            given with it must be the same).
        (other arguments: see :class:`BpeTrainer`; ``max_token_length`` is refused: lengths are ``max_chars``.)
    """

    vocab_size: int | None = None
    max_chars: int = 3
    preset: str | None = None

    def __post_init__(self) -> None:
        check_setting_types(self)
        if self.preset is not None:
            if self.preset not in CHAR_PRESETS:
                from tokensmith.errors import UnknownNameError

                raise UnknownNameError("char-level preset", self.preset, sorted(CHAR_PRESETS))
            size = CHAR_PRESETS[self.preset]
            if self.vocab_size is not None and self.vocab_size != size:
                raise InputError(f"preset {self.preset} is a vocabulary of {size} tokens, but vocab_size "
                                 f"{self.vocab_size} is given too",
                                 f"give the preset alone, or vocab_size alone (--vocab-size {self.vocab_size})")
            object.__setattr__(self, "vocab_size", size)
        elif self.vocab_size is None:
            object.__setattr__(self, "vocab_size", CHAR_PRESETS["4k"])
        _check_int("max_chars", self.max_chars, minimum=1)
        if self.max_token_length is not None:
            raise InputError("the char trainer limits tokens in characters (max_chars), not bytes",
                             "pass max_chars=N instead of max_token_length")
        super().__post_init__()

    def initial_vocabulary(self) -> InitialVocabulary:
        return InitialVocabulary.byte_level(self.special_tokens, count_characters=True)

    def max_units(self) -> int | None:
        return self.max_chars
