"""The BPE merge loop, compiled with numba; every trainer shares it.

Input: a table of distinct words (pre-tokens) as sequences of symbol ids with ``int64`` counts, and an
initial vocabulary (id -> content bytes, length). Output: merges ``(left, right, new)`` in the order
they were learned. The loop follows HF ``tokenizers``' BpeTrainer step by step, so that the same words
give the same merges (``merge_reference.py`` is the same algorithm in plain Python, for tests):

* **Pair counts are incremental.** Merging a pair in a word only changes the pairs around each
  occurrence: ``(prev, a)`` and ``(b, next)`` lose the word's count, ``(prev, new)`` and ``(new, next)``
  gain it. Counts are ``int64`` (HF's ``i32`` overflows on large corpora).
* **Lazy max-heap.** Entries ``(count, pair, position set)`` are pushed when a pair first appears; a
  popped entry whose count is out of date is pushed back with the current count.
* **Tie-break (deterministic, HF's):** the higher count first; on equal counts the smaller pair
  ``(left id, right id)``; on an equal pair (only possible when a merge re-creates an existing token
  string, below) the older heap entry. Ids are HF's: special tokens first, then the initial alphabet
  in code-point order of GPT-2's byte-to-character map, then merged tokens in the order they appear.
* **Position sets:** each heap entry carries the words where its pair appeared when it was pushed
  (HF's ``pos``); a merge rewrites only those words.
* **Duplicate strings:** when a merge produces content that already has an id (``"ab"+"c"`` after
  ``"a"+"bc"``), the existing id is reused and the vocabulary does not grow - as in HF.
* **Stopping:** the vocabulary reaches ``vocab_size``, no pair is left, or the best count is below
  ``min_frequency`` (or below 1).
* **max_token_length** (in units: bytes for byte-level BPE, characters for character-level BPE): a
  pair is counted only if its merged token would be at most that long. (HF's parameter of the same
  name admits one unit less; ``max_token_length=N`` here equals HF's ``N + 1``.)

Memory is a handful of flat numpy arrays: open-addressing hash tables (pair -> slot, content ->
id), a binary heap, and a pool of word-id lists. Every array lives in :class:`MergeState`, so a run
can be paused (progress, checkpoints) and resumed. When an array is too small, the compiled loop
stops *before* the merge that needs more room and says how much; Python grows it and calls again.
"""

from __future__ import annotations

import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numba
import numpy as np
from numba import njit

EMPTY = -1

# Indices into MergeState.scalars (one int64 array, so compiled code can update them in place).
N_TOKENS, N_MERGES, N_SLOTS, N_SEGMENTS, POOL_USED, HEAP_SIZE, CONTENT_USED, ITERATION, STOP = range(9)
N_SCALARS = 9

# Why the loop stopped (scalars[STOP]).
RUNNING, VOCAB_FULL, NO_PAIRS, BELOW_MIN_FREQUENCY = 0, 1, 2, 3
STOP_REASONS = {
    RUNNING: "running",
    VOCAB_FULL: "vocabulary reached vocab_size",
    NO_PAIRS: "no pair left to merge",
    BELOW_MIN_FREQUENCY: "the most frequent pair is below min_frequency",
}

# Return codes of the compiled loop.
_DONE, _PAUSED, _NEEDS_ROOM = 0, 1, 2
# Indices of the "room needed" array the compiled loop fills before returning _NEEDS_ROOM.
_NEED_SLOTS, _NEED_POOL, _NEED_SEGMENTS, _NEED_HEAP, _NEED_NODES, _NEED_MERGES, _NEED_CONTENT, _NEED_TOKENS = range(8)

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


class MergeLoopReadout:
    """What Python reads from a merge loop's state (this module's and the parity loop's): the state class
    names its ``scalars`` positions (``TOKENS_AT``, ``MERGES_AT``, ``STOP_AT``) and ``STOP_TEXTS``."""

    TOKENS_AT, MERGES_AT, STOP_AT = N_TOKENS, N_MERGES, STOP
    STOP_TEXTS = STOP_REASONS

    @property
    def n_tokens(self) -> int:
        return int(self.scalars[self.TOKENS_AT])

    @property
    def n_merges(self) -> int:
        return int(self.scalars[self.MERGES_AT])

    @property
    def stop_reason(self) -> str:
        return self.STOP_TEXTS[int(self.scalars[self.STOP_AT])]

    def token(self, token_id: int) -> bytes:
        """Content of a token id."""
        return self.token_content[self.token_offset[token_id]:self.token_offset[token_id + 1]].tobytes()

    def learned_merges(self) -> np.ndarray:
        """``int32 (merges, 3)``: left id, right id, new id, in the order learned."""
        return self.merges[: self.n_merges].copy()


@dataclass
class MergeState(MergeLoopReadout):
    """Everything the merge loop reads and writes, as numpy arrays (see the module docstring).

    Build it with :func:`build_state`; advance it with :func:`run_merges`.
    """

    # words
    symbols: np.ndarray  # int32 (total symbols,): every word's symbol ids, words back to back
    word_start: np.ndarray  # int64 (words,)
    word_len: np.ndarray  # int32 (words,): current length, shrinks as merges apply
    word_count: np.ndarray  # int64 (words,)
    # tokens
    token_units: np.ndarray  # int32 (token capacity,): length in units (bytes or characters)
    token_offset: np.ndarray  # int64 (token capacity + 1,): content of id i = content[offset[i]:offset[i+1]]
    token_content: np.ndarray  # uint8 (content capacity,)
    vocab_table_hash: np.ndarray  # int64 (power of two,): content hash, or EMPTY
    vocab_table_id: np.ndarray  # int32: token id for that hash slot
    merges: np.ndarray  # int32 (merge capacity, 3): left, right, new id
    # pairs
    pair_table_key: np.ndarray  # int64 (power of two,): left << 32 | right, or EMPTY
    pair_table_slot: np.ndarray  # int32
    slot_key: np.ndarray  # int64 (slot capacity,)
    slot_count: np.ndarray  # int64
    slot_mark: np.ndarray  # int64: iteration that last gave the pair a new position
    slot_head: np.ndarray  # int32: first node of this iteration's new positions
    slot_tail: np.ndarray  # int32
    # position sets and heap
    segment_start: np.ndarray  # int64 (segment capacity,)
    segment_len: np.ndarray  # int64
    pool: np.ndarray  # int32 (pool capacity,): word ids of all segments
    heap_count: np.ndarray  # int64 (heap capacity,)
    heap_pair: np.ndarray  # int64
    heap_segment: np.ndarray  # int64
    # per-iteration scratch
    node_word: np.ndarray  # int32
    node_next: np.ndarray  # int32
    touched: np.ndarray  # int32: slots that got new positions in this iteration
    # counters and settings
    scalars: np.ndarray  # int64 (N_SCALARS,)
    max_units: int

    def arrays(self) -> dict[str, np.ndarray]:
        """All arrays by field name (for checkpoints)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}


@dataclass(frozen=True)
class MergeRunStats:
    """What a call to :func:`run_merges` did."""

    merges: int
    seconds: float
    stop_reason: str


def build_state(symbols: np.ndarray, word_offsets: np.ndarray, word_counts: np.ndarray,
                token_contents: list[bytes], token_units: list[int], *, dedup: list[bool] | None = None,
                max_units: int | None = None, pair_capacity: int | None = None, threads: int = 1) -> MergeState:
    """Set up the merge loop: count every adjacent pair, build position sets and the heap.

    Args:
        symbols: ``int32``, the symbol ids of all words back to back.
        word_offsets: ``int64 (words + 1,)``, word ``w`` is ``symbols[word_offsets[w]:word_offsets[w+1]]``.
        word_counts: ``int64 (words,)``, occurrences of each word. A word of count 0 adds nothing to any
            pair's count but is rewritten by every merge of a pair it holds, as long as each pair has one
            position set, i.e. no merge re-creates an existing token (parity's dev-only words ride along so).
        token_contents: content of each initial id (specials, alphabet, or an existing vocabulary).
        token_units: length of each initial id in units (bytes or characters).
        dedup: per initial id, whether a merge producing the same content reuses this id (default:
            all). Special tokens whose text cannot occur in the byte alphabet pass ``False``.
        max_units: longest token a merge may create, in units (``None``: unlimited).
        pair_capacity: room for this many distinct pairs at the start (``None``: the symbol count or all
            pairs of the initial ids, at most 2**20); the count grows the room when the words hold more,
            and the loop as merges need it.
        threads: count the pairs of the two halves of the words on two threads when above 1 (from
            :data:`PARALLEL_COUNT_SYMBOLS` symbols on; the same state as one thread gives).
    """
    n_words = len(word_counts)
    n_initial = len(token_contents)
    total = int(word_offsets[-1]) if n_words else 0
    max_units = int(max_units) if max_units is not None else np.iinfo(np.int32).max
    content = b"".join(token_contents)
    token_offset = np.zeros(max(64, 2 * n_initial) + 1, dtype=np.int64)
    token_offset[1: n_initial + 1] = np.cumsum([len(c) for c in token_contents], dtype=np.int64)
    units = np.zeros(len(token_offset) - 1, dtype=np.int32)
    units[:n_initial] = token_units
    token_content = np.zeros(max(1024, 2 * len(content)), dtype=np.uint8)
    token_content[: len(content)] = np.frombuffer(content, dtype=np.uint8)
    vocab_bits = max(10, int(2 * n_initial).bit_length() + 1)
    word_len = np.diff(word_offsets).astype(np.int32)
    if pair_capacity is None:
        pair_capacity = min(total, n_initial * n_initial, 1 << 20)
    # + the longest word: the count makes room before a word that might not fit, so an exact capacity
    # would grow near the end
    pair_capacity = max(1024, int(pair_capacity) + 16 + min(int(word_len.max(initial=0)), n_initial * n_initial))
    pair_bits = max(11, int(2 * pair_capacity).bit_length())
    no_room = np.zeros(0, dtype=np.int64)  # arrays sized once the pairs are counted
    state = MergeState(
        symbols=np.ascontiguousarray(symbols, dtype=np.int32),
        word_start=np.ascontiguousarray(word_offsets[:-1], dtype=np.int64),
        word_len=word_len,
        word_count=np.ascontiguousarray(word_counts, dtype=np.int64),
        token_units=units,
        token_offset=token_offset,
        token_content=token_content,
        vocab_table_hash=np.full(1 << vocab_bits, EMPTY, dtype=np.int64),
        vocab_table_id=np.full(1 << vocab_bits, EMPTY, dtype=np.int32),
        merges=np.zeros((1024, 3), dtype=np.int32),
        pair_table_key=np.full(1 << pair_bits, EMPTY, dtype=np.int64),
        pair_table_slot=np.full(1 << pair_bits, EMPTY, dtype=np.int32),
        slot_key=np.zeros(pair_capacity, dtype=np.int64),
        slot_count=np.zeros(pair_capacity, dtype=np.int64),
        slot_mark=np.full(pair_capacity, EMPTY, dtype=np.int64),
        slot_head=no_room.astype(np.int32),
        slot_tail=no_room.astype(np.int32),
        segment_start=no_room,
        segment_len=np.zeros(pair_capacity, dtype=np.int64),
        pool=np.zeros(max(1024, total), dtype=np.int32),
        heap_count=no_room,
        heap_pair=no_room,
        heap_segment=no_room,
        node_word=np.zeros(1024, dtype=np.int32),
        node_next=np.zeros(1024, dtype=np.int32),
        touched=np.zeros(1024, dtype=np.int32),
        scalars=np.zeros(N_SCALARS, dtype=np.int64),
        max_units=max_units,
    )
    state.scalars[N_TOKENS] = n_initial
    state.scalars[CONTENT_USED] = len(content)
    dedup_flags = np.ones(n_initial, dtype=np.bool_) if dedup is None else np.asarray(dedup, dtype=np.bool_)
    _register_initial_tokens(state.token_offset, state.token_content, state.vocab_table_hash,
                             state.vocab_table_id, dedup_flags)
    # Pass 1 (counts), growing the pair room whenever the next word might not fit, then pass 2 (positions).
    position_slot = np.empty(len(state.symbols), dtype=np.int32)
    split, first_half_segments = _count_initial_pairs(state, position_slot, threads)
    room = len(state.slot_key)
    state.slot_head = np.full(room, EMPTY, dtype=np.int32)
    state.slot_tail = np.full(room, EMPTY, dtype=np.int32)
    state.segment_start = np.zeros(room, dtype=np.int64)
    state.heap_count = np.zeros(room, dtype=np.int64)
    state.heap_pair = np.zeros(room, dtype=np.int64)
    state.heap_segment = np.zeros(room, dtype=np.int64)
    _fill_positions(state, position_slot, split, first_half_segments)
    return state


def _fill_positions(state: MergeState, position_slot: np.ndarray, split: int,
                    first_half_segments: np.ndarray | None) -> None:
    """Pass 2: every pair's words into its position set (segment) in the pool, and the heap. Where pass 1
    split the words (``first_half_segments``: how many words before ``split`` hold each pair), the words
    from ``split`` on are filled on a second thread, each pair's after its first-half words: the same pool."""
    n_slots = int(state.scalars[N_SLOTS])
    pool_used = _start_segments(state.segment_len, state.segment_start, state.slot_mark, state.slot_head, n_slots)
    if first_half_segments is None:
        _fill_words(0, len(state.word_len), state.word_start, state.word_len, position_slot, state.slot_mark,
                    state.slot_head, state.segment_start, state.pool)
    else:
        later_last_word = np.full(n_slots, EMPTY, dtype=np.int64)
        later_fill = np.zeros(n_slots, dtype=np.int32)
        later_fill[: len(first_half_segments)] = first_half_segments
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokensmith-positions") as pool:
            later = pool.submit(_fill_words, split, len(state.word_len), state.word_start, state.word_len,
                                position_slot, later_last_word, later_fill, state.segment_start, state.pool)
            _fill_words(0, split, state.word_start, state.word_len, position_slot, state.slot_mark,
                        state.slot_head, state.segment_start, state.pool)
            later.result()
    _build_heap(state.slot_key, state.slot_count, state.slot_mark, state.slot_head, state.heap_count,
                state.heap_pair, state.heap_segment, state.scalars)
    state.scalars[POOL_USED] = pool_used


#: Fewest symbols whose first pair count is split over two threads (below, a thread costs more than it saves).
PARALLEL_COUNT_SYMBOLS = 1 << 20


@dataclass
class _PairRoom:
    """The arrays pass 1 fills (:func:`_count_pairs_from`), named as in :class:`MergeState`: a second set
    counts the second half of the words on another thread."""

    pair_table_key: np.ndarray
    pair_table_slot: np.ndarray
    slot_key: np.ndarray
    slot_count: np.ndarray
    slot_mark: np.ndarray
    segment_len: np.ndarray
    scalars: np.ndarray

    @classmethod
    def like(cls, state: MergeState) -> _PairRoom:
        """Empty arrays of the same size as ``state``'s."""
        slots, table = len(state.slot_key), len(state.pair_table_key)
        return cls(np.full(table, EMPTY, dtype=np.int64), np.full(table, EMPTY, dtype=np.int32),
                   np.zeros(slots, dtype=np.int64), np.zeros(slots, dtype=np.int64),
                   np.full(slots, EMPTY, dtype=np.int64), np.zeros(slots, dtype=np.int64),
                   np.zeros(N_SCALARS, dtype=np.int64))


def _count_initial_pairs(state: MergeState, position_slot: np.ndarray,
                         threads: int) -> tuple[int, np.ndarray | None]:
    """Pass 1 over all words into ``state``; returns ``(split, first_half_segments)`` for pass 2 (see
    :func:`_fill_positions`; ``None``: counted as one pass). On two threads, the second half of the words is
    counted into a :class:`_PairRoom` of its own and then joined: its pairs that the first half lacks get the
    next slots in the order they first occur, as one pass in word order gives them, so the state is the same.
    Where that one pass would have grown its room during the second half, the second half is counted again
    on ``state`` instead (the join cannot tell at which word it would have grown, which sets the sizes)."""
    n_words = len(state.word_len)
    n_ids = int(state.scalars[N_TOKENS])
    pairs_of_ids = n_ids * n_ids  # no word adds more distinct pairs than the ids make, however long it is
    split = n_words
    if threads > 1 and len(state.symbols) >= PARALLEL_COUNT_SYMBOLS:
        split = int(np.searchsorted(state.word_start, len(state.symbols) // 2))

    def count(room: MergeState | _PairRoom, first: int, stop: int) -> None:
        while first >= 0:
            first = _count_pairs_from(
                first, stop, state.symbols, state.word_start, state.word_len, state.word_count,
                state.token_units, state.max_units, room.pair_table_key, room.pair_table_slot, room.slot_key,
                room.slot_count, room.slot_mark, room.segment_len, position_slot, room.scalars, pairs_of_ids)
            if first >= 0:
                _grow_initial_pairs(room, int(room.scalars[N_SLOTS]) + min(int(state.word_len[first]), pairs_of_ids))

    if split in (0, n_words):
        count(state, 0, n_words)
        return n_words, None
    second = _PairRoom.like(state)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokensmith-pairs") as pool:
        later = pool.submit(count, second, split, n_words)
        count(state, 0, split)
        later.result()
    second_slots = int(second.scalars[N_SLOTS])
    union = int(state.scalars[N_SLOTS]) + _count_new_pairs(second.slot_key, second_slots, state.pair_table_key,
                                                          state.pair_table_slot)
    longest = min(int(state.word_len[split:].max()), pairs_of_ids)
    if union + longest > len(state.slot_key) or 2 * (union + longest) > len(state.pair_table_key):
        count(state, split, n_words)  # one pass would have grown: go on as one pass
        return n_words, None
    first_half_segments = state.segment_len[: int(state.scalars[N_SLOTS])].astype(np.int32)
    slot_of = np.empty(second_slots, dtype=np.int32)
    _join_pair_counts(second.slot_key, second.slot_count, second.segment_len, second_slots, state.pair_table_key,
                      state.pair_table_slot, state.slot_key, state.slot_count, state.segment_len, slot_of,
                      state.scalars)
    _renumber_positions(position_slot, state.word_start, state.word_len, split, slot_of)
    return split, first_half_segments


def _grow_initial_pairs(state: MergeState | _PairRoom, slots: int) -> None:
    """Room for ``slots`` pairs in the arrays the initial count fills (doubling, at least)."""
    for name, fill in (("slot_key", 0), ("slot_count", 0), ("slot_mark", EMPTY), ("segment_len", 0)):
        setattr(state, name, _grown(getattr(state, name), slots, fill))
    slots = len(state.slot_key)
    if 2 * slots > len(state.pair_table_key):
        bits = int(2 * slots).bit_length()
        state.pair_table_key = np.full(1 << bits, EMPTY, dtype=np.int64)
        state.pair_table_slot = np.full(1 << bits, EMPTY, dtype=np.int32)
        _rehash_pairs(state.slot_key, int(state.scalars[N_SLOTS]), state.pair_table_key, state.pair_table_slot)


def run_merges(state: MergeState, *, vocab_size: int, min_frequency: int = 0,
               max_merges: int | None = None) -> MergeRunStats:
    """Learn merges until a stop condition (or ``max_merges`` more merges, to report progress).

    Args:
        state: from :func:`build_state` (or an earlier call); updated in place.
        vocab_size: stop when this many distinct tokens exist (initial ids included).
        min_frequency: stop when the best pair occurs fewer times.
        max_merges: pause after this many merges (``None``: run to the end).
    """
    started = time.perf_counter()
    before = state.n_merges
    budget = np.iinfo(np.int64).max if max_merges is None else int(max_merges)
    need = np.zeros(8, dtype=np.int64)
    while True:
        done = state.n_merges - before
        status = _advance(
            state.symbols, state.word_start, state.word_len, state.word_count,
            state.token_units, state.token_offset, state.token_content, state.vocab_table_hash,
            state.vocab_table_id, state.merges,
            state.pair_table_key, state.pair_table_slot, state.slot_key, state.slot_count, state.slot_mark,
            state.slot_head, state.slot_tail,
            state.segment_start, state.segment_len, state.pool, state.heap_count, state.heap_pair,
            state.heap_segment, state.node_word, state.node_next, state.touched, state.scalars,
            state.max_units, int(vocab_size), int(min_frequency), budget - done, need,
        )
        if status != _NEEDS_ROOM:
            break
        _grow(state, need)
    return MergeRunStats(state.n_merges - before, time.perf_counter() - started, state.stop_reason)


#: Format tag stored in every checkpoint; bump when MergeState's fields change meaning. Format 1 stored every
#: array whole and uncompressed (a 19 MB corpus gave 191 MB); format 2 stores what :data:`_STORED` says.
CHECKPOINT_FORMAT = 2


@dataclass(frozen=True)
class _Stored:
    """How a checkpoint (format 2) keeps one :class:`MergeState` array: only its used part (the rest of its
    room is ``fill``, as the loop never reads it), in the narrowest integer type that holds the values,
    zstd-compressed; ``delta``: as differences of neighbours (rising word ids and offsets shrink to small
    numbers); ``scratch``: not at all, only its length (rewritten in every merge before it is read, or the
    pair table, rebuilt from ``slot_key``)."""

    dtype: type
    used_at: int | None = None  # index into scalars of the used length (None: the whole array)
    extra: int = 0  # added to that length
    fill: int = 0
    delta: bool = False
    scratch: bool = False


_STORED = {
    "symbols": _Stored(np.int32),
    "word_start": _Stored(np.int64, delta=True),
    "word_len": _Stored(np.int32),
    "word_count": _Stored(np.int64),
    "token_units": _Stored(np.int32, N_TOKENS),
    "token_offset": _Stored(np.int64, N_TOKENS, extra=1),
    "token_content": _Stored(np.uint8, CONTENT_USED),
    "vocab_table_hash": _Stored(np.int64),
    "vocab_table_id": _Stored(np.int32),
    "merges": _Stored(np.int32, N_MERGES),
    "pair_table_key": _Stored(np.int64, fill=EMPTY, scratch=True),
    "pair_table_slot": _Stored(np.int32, fill=EMPTY, scratch=True),
    "slot_key": _Stored(np.int64, N_SLOTS),
    "slot_count": _Stored(np.int64, N_SLOTS),
    "slot_mark": _Stored(np.int64, N_SLOTS, fill=EMPTY),
    "slot_head": _Stored(np.int32, fill=EMPTY, scratch=True),
    "slot_tail": _Stored(np.int32, fill=EMPTY, scratch=True),
    "segment_start": _Stored(np.int64, N_SEGMENTS, delta=True),
    "segment_len": _Stored(np.int64, N_SEGMENTS),
    "pool": _Stored(np.int32, POOL_USED, delta=True),
    "heap_count": _Stored(np.int64, HEAP_SIZE),
    "heap_pair": _Stored(np.int64, HEAP_SIZE),
    "heap_segment": _Stored(np.int64, HEAP_SIZE),
    "node_word": _Stored(np.int32, scratch=True),
    "node_next": _Stored(np.int32, scratch=True),
    "touched": _Stored(np.int32, scratch=True),
    "scalars": _Stored(np.int64),
}

#: zstd level of the checkpoint arrays: level 3 halved level 1's time on a 19 MB corpus's state (0.4 s) for
#: a fifth less size; numpy's zlib (savez_compressed) took 6 s for more.
_ZSTD_LEVEL = 3


def _narrowest(values: np.ndarray) -> np.ndarray:
    """``values`` in the smallest signed integer type that holds them (itself when none is smaller)."""
    if values.size == 0 or values.dtype == np.uint8:
        return values
    low, high = int(values.min()), int(values.max())
    for kind in (np.int8, np.int16, np.int32):
        if kind().itemsize < values.itemsize and np.iinfo(kind).min <= low and high <= np.iinfo(kind).max:
            return values.astype(kind)
    return values


def save_checkpoint(state: MergeState, path, metadata: dict | None = None) -> None:
    """Write the merge state to an ``.npz`` file (numpy arrays only, no pickle), atomically.

    A run resumed from it with :func:`load_checkpoint` and :func:`run_merges` learns exactly the merges
    the uninterrupted run would have learned (to the same or a larger ``vocab_size``). The arrays are kept
    as :data:`_STORED` says (a few MB per 10 MB of training text), each its own member, so that the
    metadata is read without the rest.

    Args:
        metadata: JSON-ready data stored beside the arrays (as UTF-8 bytes); read it back with
            :func:`load_checkpoint_metadata`.
    """
    import io
    import json

    import zstandard

    from tokensmith.io import write_bytes_atomic

    compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
    layout, members = {}, {}
    for name, stored in _STORED.items():
        array = getattr(state, name)
        layout[name] = {"length": len(array)}
        if stored.scratch:
            continue
        used = len(array) if stored.used_at is None else int(state.scalars[stored.used_at]) + stored.extra
        values = array[:used]
        if stored.delta:
            values = np.diff(values, prepend=values.dtype.type(0))
        values = np.ascontiguousarray(_narrowest(values))
        layout[name].update(used=used, dtype=values.dtype.str, shape=list(values.shape))
        members[name] = np.frombuffer(compressor.compress(values.tobytes()), dtype=np.uint8)
    extra = {"layout_json": np.frombuffer(json.dumps(layout).encode("utf-8"), dtype=np.uint8)}
    if metadata is not None:
        text = json.dumps(metadata, sort_keys=True, ensure_ascii=False)
        extra["metadata_json"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, format=np.array([CHECKPOINT_FORMAT], dtype=np.int64),
             max_units=np.array([state.max_units], dtype=np.int64), **members, **extra)
    write_bytes_atomic(path, buffer.getvalue(), force=True)


def load_checkpoint_metadata(path) -> dict:
    """The ``metadata`` given to :func:`save_checkpoint` (``{}`` if none), without loading the arrays.

    Raises:
        InputError: the file is not a readable ``.npz``.
    """
    import json

    arrays = _checkpoint_arrays(path, ("metadata_json",))
    if "metadata_json" not in arrays:
        return {}
    return json.loads(arrays["metadata_json"].tobytes().decode("utf-8"))


def load_checkpoint(path) -> MergeState:
    """The :class:`MergeState` saved by :func:`save_checkpoint` (or by a tokensmith that wrote format 1).

    Raises:
        InputError: the file is not a tokensmith merge checkpoint of a format this version reads, or is
            damaged.
    """
    import zstandard

    from tokensmith.errors import InputError

    arrays = _checkpoint_arrays(path)
    written = int(arrays["format"][0]) if arrays.get("format", np.zeros(0)).size == 1 else None
    names = set(_STORED)
    if written == 1 and names <= arrays.keys():
        return MergeState(max_units=int(arrays["max_units"][0]), **{name: arrays[name] for name in names})
    if written != CHECKPOINT_FORMAT or "layout_json" not in arrays:
        raise InputError(f"{path} is not a merge checkpoint of format 1 or {CHECKPOINT_FORMAT}",
                         "resume only from a checkpoint written by this tokensmith version, or train afresh")
    try:
        return MergeState(max_units=int(arrays["max_units"][0]), **_unpacked_arrays(arrays))
    except (KeyError, TypeError, ValueError, zstandard.ZstdError) as exc:
        raise InputError(f"{path} is a damaged merge checkpoint ({type(exc).__name__}: {exc})",
                         "resume from an intact checkpoint, or train afresh without resume") from None


def _unpacked_arrays(members: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The :class:`MergeState` arrays of a format-2 checkpoint's ``members`` (see :data:`_STORED`), each of
    its saved length and type, the pair table rebuilt from the slots."""
    import json

    import zstandard

    layout = json.loads(members["layout_json"].tobytes().decode("utf-8"))
    decompressor = zstandard.ZstdDecompressor()
    state = {}
    for name, stored in _STORED.items():
        saved = layout[name]
        shape = (int(saved["length"]), *saved.get("shape", [0])[1:])
        array = np.full(shape, stored.fill, dtype=stored.dtype) if stored.fill else np.zeros(shape, stored.dtype)
        if not stored.scratch:
            kept = np.dtype(saved["dtype"])
            if kept.kind not in "iu" or kept.itemsize > np.dtype(stored.dtype).itemsize:
                raise ValueError(f"{name} is stored as {kept}, not as an integer type that fits {stored.dtype}")
            raw = decompressor.decompress(members[name].tobytes())
            values = np.frombuffer(raw, dtype=kept).reshape(saved["shape"]).astype(stored.dtype)
            array[: int(saved["used"])] = np.cumsum(values, dtype=stored.dtype) if stored.delta else values
        state[name] = array
    _rehash_pairs(state["slot_key"], int(state["scalars"][N_SLOTS]), state["pair_table_key"],
                  state["pair_table_slot"])
    return state


def _checkpoint_arrays(path, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The arrays ``names`` (None: all) of the ``.npz`` file ``path`` (those it holds).

    Raises:
        InputError: ``path`` is no readable ``.npz`` (numpy's own reason for a text file was advice to load
            it with pickle).
    """
    from tokensmith.errors import InputError

    def refused(reason: str) -> InputError:
        return InputError(f"{path} is not a merge checkpoint: {reason}",
                          "pass the checkpoint file a training run wrote (--checkpoint), or train afresh without "
                          "resume")

    try:
        if not zipfile.is_zipfile(path):
            raise refused("not an .npz (zip) file")
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files if names is None or name in names}
    except OSError as exc:
        raise refused(exc.strerror or str(exc)) from None
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise refused(str(exc)) from None


#: Fewest words per thread of :func:`apply_merges` worth a thread.
_WORDS_PER_THREAD = 10_000


def compile_kernels() -> float:
    """Compile (or load from numba's on-disk cache) the kernels on a tiny input; returns seconds."""
    started = time.perf_counter()
    symbols = np.array([0, 1, 0, 1, 1], dtype=np.int32)
    state = build_state(symbols, np.array([0, 2, 5], dtype=np.int64), np.array([2, 1], dtype=np.int64),
                        [b"a", b"b"], [1, 1])
    room = _PairRoom.like(state)  # the two-thread count's kernels, on nothing to join
    _count_new_pairs(room.slot_key, 0, state.pair_table_key, state.pair_table_slot)
    _join_pair_counts(room.slot_key, room.slot_count, room.segment_len, 0, state.pair_table_key,
                      state.pair_table_slot, state.slot_key, state.slot_count, state.segment_len,
                      np.empty(0, dtype=np.int32), state.scalars)
    _renumber_positions(np.zeros(len(symbols), dtype=np.int32), state.word_start, state.word_len, len(state.word_len),
                        np.empty(0, dtype=np.int32))
    run_merges(state, vocab_size=4)
    apply_merges(symbols, np.array([0, 2, 5], dtype=np.int64), state.learned_merges())
    piece_totals(np.zeros(2, dtype=np.int32), np.array([2]), np.array([1]), 1)  # superword's counting workers
    return time.perf_counter() - started


def merges_are_distinct(merges: np.ndarray) -> bool:
    """Whether every pair and every new id occurs once in ``merges`` (``(n, 3)``), as :func:`apply_merges` needs."""
    merges = np.asarray(merges, dtype=np.int64).reshape(-1, 3)
    keys = (merges[:, 0] << 32) | merges[:, 1]
    return len(np.unique(merges[:, 2])) == len(merges) and len(np.unique(keys)) == len(keys)


def apply_merges(symbols: np.ndarray, word_offsets: np.ndarray, merges: np.ndarray,
                 threads: int = 1) -> tuple[np.ndarray, np.ndarray] | None:
    """Encode words with learned merges as HF's BPE model does: ``(symbols int32, offsets int64)``.

    HF's ``Word::merge_all`` repeatedly merges the adjacent pair of lowest rank (merge index), the
    leftmost of equal ones, through a heap with lazily dropped stale entries; this is the same loop.
    HF tells a stale entry by the pair's new id, which equals telling it by rank only while every pair
    and every new id occurs once in ``merges``; otherwise (a merge re-creating an existing string)
    this returns ``None`` and the caller encodes with HF itself.

    Args:
        symbols: ``int32``, the initial ids of all words back to back.
        word_offsets: ``int64 (words + 1,)``, word ``w`` is ``symbols[word_offsets[w]:word_offsets[w + 1]]``.
        merges: ``int (merges, 3)``, ``(left, right, new)`` in rank order (e.g. ``MergeState.learned_merges``).
        threads: encode blocks of words on this many threads (fewer for few words).
    """
    merges = np.asarray(merges, dtype=np.int64).reshape(-1, 3)
    if not merges_are_distinct(merges):
        return None
    keys = (merges[:, 0] << 32) | merges[:, 1]
    # rank of a pair by an open-addressing table (a binary search over the sorted keys took ~3x as long)
    rank_key = np.full(1 << max(4, int(4 * len(keys)).bit_length()), EMPTY, dtype=np.int64)
    rank_of = np.full(len(rank_key), EMPTY, dtype=np.int32)
    _rehash_pairs(keys, len(keys), rank_key, rank_of)
    new_ids = merges[:, 2].astype(np.int32)
    word_offsets = np.asarray(word_offsets, dtype=np.int64)
    n_words = len(word_offsets) - 1
    threads = max(1, min(threads, n_words // _WORDS_PER_THREAD))
    # contiguous blocks of words with about the same number of symbols, one per thread (the kernel
    # releases the GIL); each block's words are encoded exactly as alone, so the blocks join back to back
    bounds = np.searchsorted(word_offsets, np.linspace(0, word_offsets[-1], threads + 1)[1:-1]).tolist()
    blocks = list(zip([0, *bounds], [*bounds, n_words], strict=True))

    def encode_block(block: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        first, last = block
        start = word_offsets[first]
        offsets = word_offsets[first:last + 1] - start
        out = np.empty(int(offsets[-1]), dtype=np.int32)
        out_offsets = np.zeros(len(offsets), dtype=np.int64)
        _apply_merges(symbols[start:word_offsets[last]], offsets, rank_key, rank_of, new_ids, out, out_offsets)
        return out[: out_offsets[-1]], out_offsets

    if len(blocks) == 1:
        parts = [encode_block(blocks[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(blocks), thread_name_prefix="tokensmith-apply-merges") as pool:
            parts = list(pool.map(encode_block, blocks))
    out_offsets = np.zeros(len(word_offsets), dtype=np.int64)
    written = 0
    for (first, last), (_, offsets) in zip(blocks, parts, strict=True):
        out_offsets[first + 1:last + 1] = offsets[1:] + written
        written += int(offsets[-1])
    return np.concatenate([out for out, _ in parts]), out_offsets


def concatenate_pieces(piece_symbols: np.ndarray, piece_offsets: np.ndarray, occurrence: np.ndarray,
                       word_pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Words made of encoded pieces: ``(symbols int32, offsets int64)``.

    Piece ``p`` is ``piece_symbols[piece_offsets[p]:piece_offsets[p + 1]]``; ``occurrence`` lists the pieces
    of every word, words back to back, ``word_pieces[w]`` of them for word ``w``.
    """
    occurrence = np.asarray(occurrence, dtype=np.int64)
    word_pieces = np.asarray(word_pieces, dtype=np.int64)
    ends = np.zeros(len(occurrence) + 1, dtype=np.int64)  # where each piece occurrence ends
    np.cumsum(np.diff(piece_offsets)[occurrence], out=ends[1:])
    last = np.zeros(len(word_pieces) + 1, dtype=np.int64)  # each word's pieces end at occurrence last[w + 1]
    np.cumsum(word_pieces, out=last[1:])
    offsets = ends[last]
    symbols = np.empty(int(offsets[-1]), dtype=np.int32)
    _concatenate_pieces(piece_symbols, piece_offsets, occurrence, symbols)
    return symbols, offsets


@njit(cache=True, nogil=True)
def _concatenate_pieces(piece_symbols, piece_offsets, occurrence, out):
    written = 0
    for piece in occurrence:
        for k in range(piece_offsets[piece], piece_offsets[piece + 1]):
            out[written] = piece_symbols[k]
            written += 1


def piece_totals(occurrence: np.ndarray, word_pieces: np.ndarray, word_counts: np.ndarray, n_pieces: int) -> np.ndarray:
    """``int64 (n_pieces,)``: how often each piece occurs in words of ``word_counts`` occurrences (pieces of
    words laid out as in :func:`concatenate_pieces`), summed exactly (a float ``bincount`` is not, past 2**53)."""
    totals = np.zeros(n_pieces, dtype=np.int64)
    _piece_totals(np.asarray(occurrence), np.asarray(word_pieces, dtype=np.int64),
                  np.asarray(word_counts, dtype=np.int64), totals)
    return totals


@njit(cache=True, nogil=True)
def _piece_totals(occurrence, word_pieces, word_counts, totals):
    at = 0
    for word in range(len(word_pieces)):
        count = word_counts[word]
        for k in range(at, at + word_pieces[word]):
            totals[occurrence[k]] += count
        at += word_pieces[word]


# --------------------------------------------------------------------------------------------------
# growing arrays (Python side; rare, amortised by doubling)


def _grown(array: np.ndarray, size: int, fill: int = 0) -> np.ndarray:
    if size <= len(array):
        return array
    size = max(size, 2 * len(array))
    # zeros come from calloc (pages mapped on first write), so only the copied part and a non-zero fill
    # are written here: growing the large pool and slot arrays cost ~1 s per superword run with np.full
    bigger = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    bigger[: len(array)] = array
    if fill:
        bigger[len(array):] = fill
    return bigger


def _grow(state: MergeState, need: np.ndarray) -> None:
    scalars = state.scalars
    slots = int(scalars[N_SLOTS] + need[_NEED_SLOTS])
    if slots > len(state.slot_key):
        for name, fill in (("slot_key", 0), ("slot_count", 0), ("slot_mark", EMPTY), ("slot_head", EMPTY),
                           ("slot_tail", EMPTY)):
            setattr(state, name, _grown(getattr(state, name), slots, fill))
    if 2 * slots > len(state.pair_table_key):
        bits = int(4 * slots).bit_length()
        keys = np.full(1 << bits, EMPTY, dtype=np.int64)
        table_slots = np.full(1 << bits, EMPTY, dtype=np.int32)
        _rehash_pairs(state.slot_key, int(scalars[N_SLOTS]), keys, table_slots)
        state.pair_table_key, state.pair_table_slot = keys, table_slots
    state.pool = _grown(state.pool, int(scalars[POOL_USED] + need[_NEED_POOL]))
    segments = int(scalars[N_SEGMENTS] + need[_NEED_SEGMENTS])
    state.segment_start = _grown(state.segment_start, segments)
    state.segment_len = _grown(state.segment_len, segments)
    heap = int(scalars[HEAP_SIZE] + need[_NEED_HEAP])
    state.heap_count = _grown(state.heap_count, heap)
    state.heap_pair = _grown(state.heap_pair, heap)
    state.heap_segment = _grown(state.heap_segment, heap)
    state.node_word = _grown(state.node_word, int(need[_NEED_NODES]))
    state.node_next = _grown(state.node_next, int(need[_NEED_NODES]))
    state.touched = _grown(state.touched, int(need[_NEED_NODES]))
    state.merges = _grown(state.merges, int(scalars[N_MERGES] + need[_NEED_MERGES]))
    state.token_content = _grown(state.token_content, int(scalars[CONTENT_USED] + need[_NEED_CONTENT]))
    tokens = int(scalars[N_TOKENS] + need[_NEED_TOKENS])
    if tokens + 1 > len(state.token_offset):
        state.token_offset = _grown(state.token_offset, tokens + 1)
        state.token_units = _grown(state.token_units, len(state.token_offset) - 1)
    if 2 * tokens > len(state.vocab_table_hash):
        bits = int(4 * tokens).bit_length()
        hashes = np.full(1 << bits, EMPTY, dtype=np.int64)
        ids = np.full(1 << bits, EMPTY, dtype=np.int32)
        _rehash_vocab(state.vocab_table_hash, state.vocab_table_id, hashes, ids)
        state.vocab_table_hash, state.vocab_table_id = hashes, ids


# --------------------------------------------------------------------------------------------------
# compiled kernels


@njit(cache=True, inline="always")
def _mix(key: np.int64) -> np.uint64:
    h = np.uint64(key) * _MULTIPLIER
    return h ^ (h >> np.uint64(29))


@njit(cache=True, inline="always")
def _content_hash(content: np.ndarray, start: np.int64, stop: np.int64) -> np.int64:
    h = _FNV_OFFSET
    for i in range(start, stop):
        h = (h ^ np.uint64(content[i])) * _FNV_PRIME
    # Non-negative, so EMPTY (-1) never collides with a real hash.
    return np.int64(h >> np.uint64(1))


@njit(cache=True, inline="always")
def _pair_key_at(symbols, i, token_units, max_units):
    """Key (``left << 32 | right``) of the pair at positions ``i, i + 1``, or EMPTY when its merged token
    would be longer than ``max_units`` (such pairs are never counted)."""
    left, right = symbols[i], symbols[i + 1]
    if token_units[left] + token_units[right] > max_units:
        return EMPTY
    return (np.int64(left) << 32) | np.int64(right)


@njit(cache=True)
def _find_pair(key, table_key, table_slot):
    """(slot or EMPTY, table index where the key is or would go)."""
    mask = np.uint64(len(table_key) - 1)
    i = np.int64(_mix(key) & mask)
    while True:
        stored = table_key[i]
        if stored == key:
            return table_slot[i], i
        if stored == EMPTY:
            return EMPTY, i
        i = (i + 1) & np.int64(mask)


@njit(cache=True, nogil=True)
def _rehash_pairs(slot_key, n_slots, table_key, table_slot):
    for slot in range(n_slots):
        _, index = _find_pair(slot_key[slot], table_key, table_slot)
        table_key[index] = slot_key[slot]
        table_slot[index] = slot


@njit(cache=True, nogil=True)
def _rehash_vocab(old_hash, old_id, table_hash, table_id):
    mask = len(table_hash) - 1
    for j in range(len(old_hash)):
        if old_hash[j] == EMPTY:
            continue
        i = np.int64(_mix(old_hash[j]) & np.uint64(mask))
        while table_hash[i] != EMPTY:
            i = (i + 1) & mask
        table_hash[i] = old_hash[j]
        table_id[i] = old_id[j]


@njit(cache=True)
def _find_token(content, start, stop, token_offset, token_content, table_hash, table_id):
    """(id of a token with exactly content[start:stop] or EMPTY, table index to insert at, hash)."""
    h = _content_hash(content, start, stop)
    mask = len(table_hash) - 1
    i = np.int64(_mix(h) & np.uint64(mask))
    length = stop - start
    while table_hash[i] != EMPTY:
        if table_hash[i] == h:
            candidate = table_id[i]
            c_start = token_offset[candidate]
            if token_offset[candidate + 1] - c_start == length:
                same = True
                for k in range(length):
                    if token_content[c_start + k] != content[start + k]:
                        same = False
                        break
                if same:
                    return candidate, i, h
        i = (i + 1) & mask
    return EMPTY, i, h


@njit(cache=True, nogil=True)
def _register_initial_tokens(token_offset, token_content, table_hash, table_id, dedup):
    for token in range(len(dedup)):
        if not dedup[token]:
            continue
        found, index, h = _find_token(token_content, token_offset[token], token_offset[token + 1],
                                      token_offset, token_content, table_hash, table_id)
        if found == EMPTY:
            table_hash[index] = h
            table_id[index] = token


@njit(cache=True, inline="always")
def _before(count_a, pair_a, segment_a, count_b, pair_b, segment_b):
    """Heap order: higher count, then smaller pair, then older entry."""
    if count_a != count_b:
        return count_a > count_b
    if pair_a != pair_b:
        return pair_a < pair_b
    return segment_a < segment_b


@njit(cache=True)
def _sift_down(heap_count, heap_pair, heap_segment, size, i):
    count, pair, segment = heap_count[i], heap_pair[i], heap_segment[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(heap_count[right], heap_pair[right], heap_segment[right],
                                    heap_count[child], heap_pair[child], heap_segment[child]):
            child = right
        if not _before(heap_count[child], heap_pair[child], heap_segment[child], count, pair, segment):
            break
        heap_count[i], heap_pair[i], heap_segment[i] = heap_count[child], heap_pair[child], heap_segment[child]
        i = child
    heap_count[i], heap_pair[i], heap_segment[i] = count, pair, segment


@njit(cache=True)
def _push(heap_count, heap_pair, heap_segment, size, count, pair, segment):
    """Insert at index ``size`` (the caller bumps the size)."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(count, pair, segment, heap_count[parent], heap_pair[parent], heap_segment[parent]):
            break
        heap_count[i], heap_pair[i], heap_segment[i] = heap_count[parent], heap_pair[parent], heap_segment[parent]
        i = parent
    heap_count[i], heap_pair[i], heap_segment[i] = count, pair, segment


@njit(cache=True, nogil=True)
def _count_pairs_from(first, stop, symbols, word_start, word_len, word_count, token_units, max_units,
                      table_key, table_slot, slot_key, slot_count, slot_last_word, segment_len, position_slot,
                      scalars, pairs_of_ids):
    """Pass 1 over words ``first`` to ``stop - 1``: pair counts, how many distinct words hold each pair, and
    each position's slot (so pass 2 needs no hash look-up: each missed the cache, half of the time on
    superword's stage 2). Returns -1, or the word before which it stopped because that word might not fit in
    the pair room (``pairs_of_ids``: the most distinct pairs a word can add)."""
    n_slots = scalars[N_SLOTS]
    for w in range(first, stop):
        start = word_start[w]
        n = word_len[w]
        room = min(n, pairs_of_ids)
        if n_slots + room > len(slot_key) or 2 * (n_slots + room) > len(table_key):
            scalars[N_SLOTS] = n_slots
            return w
        for i in range(start, start + n - 1):
            key = _pair_key_at(symbols, i, token_units, max_units)
            if key == EMPTY:
                position_slot[i] = EMPTY
                continue
            slot, n_slots = _slot_of_pair(key, n_slots, table_key, table_slot, slot_key)
            position_slot[i] = slot
            slot_count[slot] += word_count[w]
            if slot_last_word[slot] != w:
                slot_last_word[slot] = w
                segment_len[slot] += 1
    scalars[N_SLOTS] = n_slots
    return -1


@njit(cache=True, inline="always")
def _slot_of_pair(key, n_slots, table_key, table_slot, slot_key):
    """``(slot, n_slots)``: the pair's slot, a new one (the next) if the table lacks it."""
    slot, index = _find_pair(key, table_key, table_slot)
    if slot == EMPTY:
        slot = n_slots
        n_slots += 1
        table_key[index] = key
        table_slot[index] = slot
        slot_key[slot] = key
    return slot, n_slots


@njit(cache=True, nogil=True)
def _count_new_pairs(other_key, other_slots, table_key, table_slot):
    """How many of another pass 1's pairs this one's table lacks."""
    new = 0
    for other in range(other_slots):
        slot, _ = _find_pair(other_key[other], table_key, table_slot)
        new += slot == EMPTY
    return new


@njit(cache=True, nogil=True)
def _join_pair_counts(other_key, other_count, other_segment_len, other_slots, table_key, table_slot, slot_key,
                      slot_count, segment_len, slot_of, scalars):
    """Add another pass 1's pairs (of later words) to this one's, new pairs as new slots in their order;
    ``slot_of[s]`` is the slot here of the other's slot ``s``."""
    n_slots = scalars[N_SLOTS]
    for other in range(other_slots):
        slot, n_slots = _slot_of_pair(other_key[other], n_slots, table_key, table_slot, slot_key)
        slot_of[other] = slot
        slot_count[slot] += other_count[other]
        segment_len[slot] += other_segment_len[other]  # the words of the two passes are distinct
    scalars[N_SLOTS] = n_slots


@njit(cache=True, nogil=True)
def _renumber_positions(position_slot, word_start, word_len, first, slot_of):
    """Words from ``first`` on: each pair position's slot through ``slot_of`` (a word's last position holds
    no pair and is left alone, as pass 2 never reads it)."""
    for w in range(first, len(word_start)):
        start = word_start[w]
        for i in range(start, start + word_len[w] - 1):
            if position_slot[i] != EMPTY:
                position_slot[i] = slot_of[position_slot[i]]


@njit(cache=True, nogil=True)
def _start_segments(segment_len, segment_start, slot_last_word, slot_fill, n_slots):
    """One position set (segment) per pair in the pool, in slot order; returns the pool size they take."""
    used = 0
    for slot in range(n_slots):
        segment_start[slot] = used
        used += segment_len[slot]
        slot_last_word[slot] = EMPTY
        slot_fill[slot] = 0
    return used


@njit(cache=True, nogil=True)
def _fill_words(first, stop, word_start, word_len, position_slot, slot_last_word, slot_fill, segment_start, pool):
    """Words ``first`` to ``stop - 1`` into the position sets of their pairs (once per word)."""
    for w in range(first, stop):
        start = word_start[w]
        for i in range(start, start + word_len[w] - 1):
            slot = position_slot[i]
            if slot == EMPTY:
                continue
            if slot_last_word[slot] != w:
                slot_last_word[slot] = w
                pool[segment_start[slot] + slot_fill[slot]] = w
                slot_fill[slot] += 1


@njit(cache=True, nogil=True)
def _build_heap(slot_key, slot_count, slot_last_word, slot_fill, heap_count, heap_pair, heap_segment, scalars):
    n_slots = scalars[N_SLOTS]
    for slot in range(n_slots):
        slot_last_word[slot] = EMPTY
        slot_fill[slot] = EMPTY
        heap_count[slot] = slot_count[slot]
        heap_pair[slot] = slot_key[slot]
        heap_segment[slot] = slot
    for i in range(n_slots // 2 - 1, -1, -1):
        _sift_down(heap_count, heap_pair, heap_segment, n_slots, i)
    scalars[N_SLOTS] = n_slots
    scalars[N_SEGMENTS] = n_slots
    scalars[HEAP_SIZE] = n_slots


@njit(cache=True, inline="always")
def _change(key, delta, gain, word, iteration, table_key, table_slot, slot_key, slot_count, slot_mark,
            slot_head, slot_tail, node_word, node_next, touched, scalars, counters):
    """Apply one pair-count change; a gain also records the word as a new position of the pair (told by
    ``gain``, not by the sign of ``delta``: a word of count 0 gains positions too, see :func:`build_state`).

    counters: [nodes used, touched used] for this iteration.
    """
    slot, index = _find_pair(key, table_key, table_slot)
    if slot == EMPTY:
        slot = scalars[N_SLOTS]
        scalars[N_SLOTS] = slot + 1
        table_key[index] = key
        table_slot[index] = slot
        slot_key[slot] = key
        slot_count[slot] = 0
        slot_mark[slot] = EMPTY
    slot_count[slot] += delta
    if gain:
        if slot_mark[slot] != iteration:
            slot_mark[slot] = iteration
            touched[counters[1]] = slot
            counters[1] += 1
            node = counters[0]
            counters[0] += 1
            node_word[node] = word
            node_next[node] = EMPTY
            slot_head[slot] = node
            slot_tail[slot] = node
        elif node_word[slot_tail[slot]] != word:
            node = counters[0]
            counters[0] += 1
            node_word[node] = word
            node_next[node] = EMPTY
            node_next[slot_tail[slot]] = node
            slot_tail[slot] = node


@njit(cache=True, nogil=True)
def _advance(symbols, word_start, word_len, word_count,
             token_units, token_offset, token_content, vocab_table_hash, vocab_table_id, merges,
             table_key, table_slot, slot_key, slot_count, slot_mark, slot_head, slot_tail,
             segment_start, segment_len, pool, heap_count, heap_pair, heap_segment,
             node_word, node_next, touched, scalars, max_units, vocab_size, min_frequency, budget, need):
    counters = np.zeros(2, dtype=np.int64)
    done = 0
    while True:
        if scalars[N_TOKENS] >= vocab_size:
            scalars[STOP] = VOCAB_FULL
            return _DONE
        size = scalars[HEAP_SIZE]
        if size == 0:
            scalars[STOP] = NO_PAIRS
            return _DONE
        if done >= budget:
            return _PAUSED
        count, pair, segment = heap_count[0], heap_pair[0], heap_segment[0]
        slot, _ = _find_pair(pair, table_key, table_slot)
        current = slot_count[slot]
        if current != count:
            # Out of date: put it back with today's count (HF re-pushes even a count of 0).
            heap_count[0] = current
            _sift_down(heap_count, heap_pair, heap_segment, size, 0)
            continue
        if count < 1:  # the best entry is a pair that no longer occurs: none is left to merge
            scalars[STOP] = NO_PAIRS
            return _DONE
        if count < min_frequency:
            scalars[STOP] = BELOW_MIN_FREQUENCY
            return _DONE
        # Room check before anything changes: a merge in a word of length n adds at most n
        # positions, n new pairs with a gain and n with a loss; and at most 2 * (n_tokens + 1) of each,
        # as every pair it gains holds the new token beside one of n_tokens + 1 ids (without this cap a
        # single word of millions of symbols, a DNA or base64 line, sized the pair room by its length).
        n_tokens = scalars[N_TOKENS]
        per_word_cap = 2 * (n_tokens + 1)
        seg_from = segment_start[segment]
        seg_to = seg_from + segment_len[segment]
        bound = 0
        for k in range(seg_from, seg_to):
            bound += min(word_len[pool[k]], per_word_cap)
        left = np.int32(pair >> 32)
        right = np.int32(pair & 0xFFFFFFFF)
        content_len = (token_offset[left + 1] - token_offset[left]) + (token_offset[right + 1] - token_offset[right])
        short = (
            scalars[N_SLOTS] + 2 * bound > len(slot_key)
            or 2 * (scalars[N_SLOTS] + 2 * bound) > len(table_key)
            or scalars[POOL_USED] + bound > len(pool)
            or scalars[N_SEGMENTS] + bound > len(segment_start)
            or size + bound > len(heap_count)
            or bound > len(node_word)
            or scalars[N_MERGES] + 1 > len(merges)
            or scalars[CONTENT_USED] + content_len > len(token_content)
            or n_tokens + 2 > len(token_offset)
            or 2 * (n_tokens + 1) > len(vocab_table_hash)
        )
        if short:
            need[_NEED_SLOTS] = 2 * bound
            need[_NEED_POOL] = bound
            need[_NEED_SEGMENTS] = bound
            need[_NEED_HEAP] = bound
            need[_NEED_NODES] = bound
            need[_NEED_MERGES] = 1
            need[_NEED_CONTENT] = content_len
            need[_NEED_TOKENS] = 1
            return _NEEDS_ROOM
        # Pop the top entry.
        size -= 1
        heap_count[0], heap_pair[0], heap_segment[0] = heap_count[size], heap_pair[size], heap_segment[size]
        scalars[HEAP_SIZE] = size
        if size > 0:
            _sift_down(heap_count, heap_pair, heap_segment, size, 0)
        # The new token: reuse the id of identical content, else append one.
        used = scalars[CONTENT_USED]
        a_from, a_to = token_offset[left], token_offset[left + 1]
        for k in range(a_from, a_to):
            token_content[used] = token_content[k]
            used += 1
        b_from, b_to = token_offset[right], token_offset[right + 1]
        for k in range(b_from, b_to):
            token_content[used] = token_content[k]
            used += 1
        new, index, h = _find_token(token_content, scalars[CONTENT_USED], used, token_offset, token_content,
                                    vocab_table_hash, vocab_table_id)
        if new == EMPTY:
            new = n_tokens
            token_offset[new + 1] = used
            token_units[new] = token_units[left] + token_units[right]
            vocab_table_hash[index] = h
            vocab_table_id[index] = new
            scalars[CONTENT_USED] = used
            scalars[N_TOKENS] = n_tokens + 1
        m = scalars[N_MERGES]
        merges[m, 0], merges[m, 1], merges[m, 2] = left, right, new
        scalars[N_MERGES] = m + 1
        iteration = scalars[ITERATION] + 1
        scalars[ITERATION] = iteration
        new_units = token_units[new]
        # Rewrite every word of the position set, left to right, like HF's Word::merge.
        counters[0] = 0
        counters[1] = 0
        for k in range(seg_from, seg_to):
            w = pool[k]
            start = word_start[w]
            n = word_len[w]
            read = 0
            write = 0
            freq = word_count[w]
            while read < n:
                symbol = symbols[start + read]
                if symbol == left and read + 1 < n and symbols[start + read + 1] == right:
                    if write > 0:
                        before = symbols[start + write - 1]
                        if token_units[before] + token_units[left] <= max_units:
                            _change((np.int64(before) << 32) | np.int64(left), -freq, False, w, iteration,
                                    table_key, table_slot, slot_key, slot_count, slot_mark, slot_head,
                                    slot_tail, node_word, node_next, touched, scalars, counters)
                        if token_units[before] + new_units <= max_units:
                            _change((np.int64(before) << 32) | np.int64(new), freq, True, w, iteration,
                                    table_key, table_slot, slot_key, slot_count, slot_mark, slot_head,
                                    slot_tail, node_word, node_next, touched, scalars, counters)
                    if read + 2 < n:
                        after = symbols[start + read + 2]
                        if token_units[right] + token_units[after] <= max_units:
                            _change((np.int64(right) << 32) | np.int64(after), -freq, False, w, iteration,
                                    table_key, table_slot, slot_key, slot_count, slot_mark, slot_head,
                                    slot_tail, node_word, node_next, touched, scalars, counters)
                        if new_units + token_units[after] <= max_units:
                            _change((np.int64(new) << 32) | np.int64(after), freq, True, w, iteration,
                                    table_key, table_slot, slot_key, slot_count, slot_mark, slot_head,
                                    slot_tail, node_word, node_next, touched, scalars, counters)
                    symbols[start + write] = new
                    read += 2
                else:
                    symbols[start + write] = symbol
                    read += 1
                write += 1
            word_len[w] = write
        # Push the pairs that gained positions, each with its new position set (HF's where_to_update).
        pool_used = scalars[POOL_USED]
        n_segments = scalars[N_SEGMENTS]
        for t in range(counters[1]):
            slot = touched[t]
            if slot_count[slot] <= 0:
                continue
            first = pool_used
            node = slot_head[slot]
            while node != EMPTY:
                pool[pool_used] = node_word[node]
                pool_used += 1
                node = node_next[node]
            segment_start[n_segments] = first
            segment_len[n_segments] = pool_used - first
            _push(heap_count, heap_pair, heap_segment, size, slot_count[slot], slot_key[slot], n_segments)
            size += 1
            n_segments += 1
        scalars[POOL_USED] = pool_used
        scalars[N_SEGMENTS] = n_segments
        scalars[HEAP_SIZE] = size
        done += 1


NUMBA_VERSION = numba.__version__


# --------------------------------------------------------------------------------------------------
# encoding words with learned merges (apply_merges)


@njit(cache=True)
def _merge_rank(left, right, rank_key, rank_of):
    """Rank of the merge of ``(left, right)``, or EMPTY (``rank_key, rank_of``: a pair table of the merges)."""
    rank, _ = _find_pair((np.int64(left) << 32) | np.int64(right), rank_key, rank_of)
    return np.int64(rank)


@njit(cache=True)
def _heap_push(heap, size, entry):
    i = size
    heap[i] = entry
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= heap[i]:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    return size + 1


@njit(cache=True)
def _heap_pop(heap, size):
    top = heap[0]
    size -= 1
    heap[0] = heap[size]
    i = 0
    while True:
        smallest = i
        for child in (2 * i + 1, 2 * i + 2):
            if child < size and heap[child] < heap[smallest]:
                smallest = child
        if smallest == i:
            break
        heap[smallest], heap[i] = heap[i], heap[smallest]
        i = smallest
    return top, size


@njit(cache=True, nogil=True)
def _apply_merges(symbols, word_offsets, rank_key, rank_of, new_ids, out, out_offsets):
    longest = 0
    for w in range(len(word_offsets) - 1):
        longest = max(longest, word_offsets[w + 1] - word_offsets[w])
    current = np.empty(longest, dtype=np.int32)
    following = np.empty(longest, dtype=np.int64)
    preceding = np.empty(longest, dtype=np.int64)
    alive = np.empty(longest, dtype=np.bool_)
    # Each merge pushes at most two entries: 3 per symbol is room enough. An entry is rank << 32 | position,
    # so the smallest is the lowest rank, then the leftmost position (HF's order).
    heap = np.empty(3 * longest + 1, dtype=np.int64)
    written = 0
    for w in range(len(word_offsets) - 1):
        start = word_offsets[w]
        n = word_offsets[w + 1] - start
        size = 0
        for i in range(n):
            current[i] = symbols[start + i]
            following[i] = i + 1 if i + 1 < n else EMPTY
            preceding[i] = i - 1
            alive[i] = True
        for i in range(n - 1):
            rank = _merge_rank(current[i], current[i + 1], rank_key, rank_of)
            if rank != EMPTY:
                size = _heap_push(heap, size, (rank << 32) | i)
        while size > 0:
            entry, size = _heap_pop(heap, size)
            rank = entry >> 32
            position = entry & 0xFFFFFFFF
            nxt = following[position]
            if not alive[position] or nxt == EMPTY:
                continue
            if _merge_rank(current[position], current[nxt], rank_key, rank_of) != rank:
                continue  # stale: the pair here changed since the entry was pushed
            current[position] = new_ids[rank]
            alive[nxt] = False
            following[position] = following[nxt]
            if following[nxt] != EMPTY:
                preceding[following[nxt]] = position
            before = preceding[position]
            if before >= 0:
                pair_rank = _merge_rank(current[before], current[position], rank_key, rank_of)
                if pair_rank != EMPTY:
                    size = _heap_push(heap, size, (pair_rank << 32) | before)
            after = following[position]
            if after != EMPTY:
                pair_rank = _merge_rank(current[position], current[after], rank_key, rank_of)
                if pair_rank != EMPTY:
                    size = _heap_push(heap, size, (pair_rank << 32) | position)
        i = 0 if n > 0 else EMPTY
        while i != EMPTY:
            out[written] = current[i]
            written += 1
            i = following[i]
        out_offsets[w + 1] = written
