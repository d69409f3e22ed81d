"""The parity-aware merge loop (numba): per-language pair counts, one lazy heap per language.

Parity-aware BPE (Foroutan et al. 2025, arXiv 2508.04796) learns one vocabulary for L languages. Before
each merge it measures every language's dev-set length in tokens (the dev set is multi-parallel, so the
lengths compare the same content) and lets the *longest* language - the one compressed worst - choose:
the merge is that language's most frequent pair in its own training counts, applied to every word of
every language. The hybrid variant first learns ``global_merges`` merges from the summed counts
(classic BPE), then switches to parity merges.

Data layout (all flat numpy arrays, like :mod:`~tokensmith.train.merge_core`, whose hash tables and
token-content helpers this module reuses):

* **Words** are the union of every language's training and dev pre-tokens, each once. Which languages
  use a word, and how often, is a CSR list of entries ``(language, training count, dev count)``; most
  words belong to one language, so this stays close to the size of the per-language word tables.
* **Pair counts** are kept per pair (``slot_total``: all languages, for global merges) and per
  *(pair, language) cell* in a second open-addressing table (keyed ``slot << 10 | language``): only
  the combinations that occur take memory, unlike a dense pairs x languages matrix.
* **Cells only for parity merges.** Global merges choose from ``slot_total`` alone, and keeping the
  cells current costs a hash look-up per language of every rewritten word (frequent pairs live in
  words most languages share): on 130 MB in 81 languages the global half took 15 s, about 3x the same
  merges in :mod:`~tokensmith.train.merge_core`.
  So the cells are *stale* until the first parity merge: global merges leave them alone, and the first
  parity merge counts them afresh from the words as they are then (:func:`_recount_cells`) and builds
  the language heaps from them. A cell's count is the sum over the pair's current occurrences, so the
  fresh count equals what the incremental updates would have reached, and the merges are the same.
  (:class:`~tokensmith.train.parity.ParityTrainer` goes further: it learns the global merges with
  merge_core's loop and builds this state from the words they leave, ``global_merges_done``; the
  global merges here stay for other callers and as the reference it is tested against.)
* **Positions**: every pair keeps a linked list of the words it occurs in (entries may be stale after
  other merges; rewriting checks). Merging a pair rewrites *all* its words, so a merge is final: the
  pair disappears from every language at once. Dev-only words (training count 0) are in the lists too,
  so the dev lengths follow every merge exactly: a merge that shortens a word by k symbols lowers each
  language's dev length by k times the word's dev count there.
* **Heaps**: one lazy max-heap per language plus one for the global counts, each in its own region of
  a flat array. Entries are ``(count, pair)``; a pair that gains occurrences in a language is pushed
  again, a popped entry whose count is out of date is re-inserted with the current count (or dropped at
  0). Order: higher count, then the smaller pair ``(left id, right id)`` - the same tie-break as the
  classic loop.
* **Language choice**: the largest dev length among languages that still have a pair of at least
  ``min_frequency``; ties go to the lower language index (languages are sorted by tag). A language
  whose best pair falls below ``min_frequency`` is exhausted for good (a new pair never occurs more
  often than the pair it replaced) and the next-longest language chooses. (The reference code stops the
  whole run there instead; continuing lets the other languages use the remaining budget.)
* **Moving window** (the paper's ``window`` variant, ``window_size`` W > 0): a language may choose only
  while it chose at most ``quota`` of the last W parity merges, ``quota = floor(alpha * W / L)`` (the
  reference's ``count / W <= alpha / L``; global merges do not enter the window). The longest language
  within its quota chooses, so one language that stays far behind cannot take every merge while the
  others stall. If every open language is over its quota (only possible once languages are exhausted),
  the longest open language chooses anyway. The last W choices are a ring buffer in the state, so a
  run may pause and continue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from tokensmith.train.merge_core import (
    EMPTY,
    MergeLoopReadout,
    _find_pair,
    _find_token,
    _grown,
    _pair_key_at,
    _register_initial_tokens,
    _rehash_pairs,
    _rehash_vocab,
)

#: Bits for the language in a (pair slot, language) cell key.
LANG_BITS = 10
MAX_LANGUAGES = (1 << LANG_BITS) - 1

# Indices into ParityState.scalars.
# CELLS_CURRENT: 1 while the (pair, language) cells match the words (see "Cells only for parity merges").
(N_TOKENS, N_MERGES, N_SLOTS, N_CELLS, N_NODES, CONTENT_USED, ITERATION, STOP, N_PARITY, CELLS_CURRENT) = range(10)
N_SCALARS = 10

RUNNING, VOCAB_FULL, NO_PAIRS, BELOW_MIN_FREQUENCY = 0, 1, 2, 3
STOP_REASONS = {
    RUNNING: "running",
    VOCAB_FULL: "vocabulary reached vocab_size",
    NO_PAIRS: "no pair left to merge",
    BELOW_MIN_FREQUENCY: "the most frequent pair of every language is below min_frequency",
}

# _NEEDS_CELLS: a parity merge is next and the cells are stale; Python recounts them and calls again.
_DONE, _PAUSED, _NEEDS_ROOM, _NEEDS_CELLS = 0, 1, 2, 3
# Indices of the "room needed" array (besides one entry per heap after these).
_NEED_SLOTS, _NEED_CELLS, _NEED_NODES, _NEED_TOUCHED, _NEED_MERGES, _NEED_CONTENT, _NEED_TOKENS = range(7)
_N_NEEDS = 7


@dataclass
class ParityState(MergeLoopReadout):
    """All arrays of a parity-aware run (see the module docstring). Build with :func:`build_parity_state`."""

    TOKENS_AT, MERGES_AT, STOP_AT = N_TOKENS, N_MERGES, STOP
    STOP_TEXTS = STOP_REASONS

    # words
    symbols: np.ndarray  # int32
    word_start: np.ndarray  # int64 (words,)
    word_len: np.ndarray  # int32 (words,)
    word_total: np.ndarray  # int64 (words,): training count summed over languages
    entry_start: np.ndarray  # int64 (words + 1,)
    entry_lang: np.ndarray  # int32 (entries,)
    entry_train: np.ndarray  # int64 (entries,)
    entry_dev: np.ndarray  # int64 (entries,)
    # tokens
    token_units: np.ndarray
    token_offset: np.ndarray
    token_content: np.ndarray
    vocab_table_hash: np.ndarray
    vocab_table_id: np.ndarray
    merges: np.ndarray  # int32 (capacity, 3)
    merge_lang: np.ndarray  # int32 (capacity,): language that chose each merge (L = global)
    # pairs
    pair_table_key: np.ndarray
    pair_table_slot: np.ndarray
    slot_key: np.ndarray  # int64
    slot_total: np.ndarray  # int64
    slot_head: np.ndarray  # int32: first node of the pair's word list
    slot_tail: np.ndarray  # int32
    slot_mark: np.ndarray  # int64: iteration in which the slot was last touched
    # (pair, language) cells
    cell_table_key: np.ndarray
    cell_table_index: np.ndarray  # int32
    cell_key: np.ndarray  # int64: slot << LANG_BITS | language
    cell_count: np.ndarray  # int64
    cell_mark: np.ndarray  # int64
    # word lists
    node_word: np.ndarray  # int32
    node_next: np.ndarray  # int32
    # heaps: region h is [heap_base[h], heap_base[h] + heap_cap[h])
    heap_count: np.ndarray  # int64
    heap_pair: np.ndarray  # int64
    heap_base: np.ndarray  # int64 (L + 1,)
    heap_cap: np.ndarray  # int64 (L + 1,)
    heap_size: np.ndarray  # int64 (L + 1,)
    # per-language state
    dev_length: np.ndarray  # int64 (L,): dev-set tokens of each language under the merges so far
    exhausted: np.ndarray  # bool (L,)
    window_recent: np.ndarray  # int32 (W,): ring buffer of the last W parity choices (window variant)
    window_count: np.ndarray  # int64 (L,): how often each language occurs in window_recent
    # per-iteration scratch
    touched_slots: np.ndarray  # int32
    touched_cells: np.ndarray  # int32
    scalars: np.ndarray  # int64 (N_SCALARS,)
    n_languages: int
    max_units: int

    def chosen_by(self) -> np.ndarray:
        """Per merge, the index of the language that chose it (``n_languages`` = a global merge)."""
        return self.merge_lang[: self.n_merges].copy()


def build_parity_state(symbols: np.ndarray, word_offsets: np.ndarray, entry_start: np.ndarray,
                       entry_lang: np.ndarray, entry_train: np.ndarray, entry_dev: np.ndarray,
                       n_languages: int, token_contents: list[bytes], token_units: list[int], *,
                       dedup: list[bool] | None = None, max_units: int | None = None,
                       global_merges_done: np.ndarray | None = None) -> ParityState:
    """Count every pair, build the word lists, the global heap and the dev lengths.

    The per-language cells and heaps are built by the first parity merge (:func:`_recount_cells`).

    Args:
        symbols, word_offsets: the words as symbol ids back to back (as in ``merge_core.build_state``).
        entry_start: ``int64 (words + 1,)``; word ``w``'s entries are ``entry_start[w]:entry_start[w+1]``.
        entry_lang, entry_train, entry_dev: per entry, the language index (< ``n_languages``), the
            word's count in that language's training text and in its dev text.
        n_languages: L.
        token_contents, token_units, dedup, max_units: as in ``merge_core.build_state``.
        global_merges_done: ``int32 (k, 3)``, global merges learnt elsewhere (:mod:`~tokensmith.train.merge_core`)
            that made these words and tokens: they are the state's first ``k`` merges, chosen by no language,
            and count towards a run's ``global_merges``.
    """
    if not 1 <= n_languages <= MAX_LANGUAGES:
        raise ValueError(f"parity training supports 1..{MAX_LANGUAGES} languages, got {n_languages}")
    n_words = len(word_offsets) - 1
    n_initial = len(token_contents)
    total = int(word_offsets[-1]) if n_words else 0
    max_units = int(max_units) if max_units is not None else np.iinfo(np.int32).max
    entry_start = np.ascontiguousarray(entry_start, dtype=np.int64)
    entry_lang = np.ascontiguousarray(entry_lang, dtype=np.int32)
    entry_train = np.ascontiguousarray(entry_train, dtype=np.int64)
    entry_dev = np.ascontiguousarray(entry_dev, dtype=np.int64)
    word_len = np.diff(word_offsets).astype(np.int32)
    entries_per_word = np.diff(entry_start)
    word_total = np.zeros(n_words, dtype=np.int64)
    np.add.at(word_total, np.repeat(np.arange(n_words), entries_per_word), entry_train)
    content = b"".join(token_contents)
    token_offset = np.zeros(max(64, 2 * n_initial) + 1, dtype=np.int64)
    token_offset[1: n_initial + 1] = np.cumsum([len(c) for c in token_contents], dtype=np.int64)
    units = np.zeros(len(token_offset) - 1, dtype=np.int32)
    units[:n_initial] = token_units
    token_content = np.zeros(max(1024, 2 * len(content)), dtype=np.uint8)
    token_content[: len(content)] = np.frombuffer(content, dtype=np.uint8)
    # Upper bound for the first pass: pairs <= positions.
    pair_capacity = max(1024, min(total, n_initial * n_initial) + 16)
    cell_capacity = 1024  # sized when the cells are counted (_recount_cells)
    node_capacity = max(1024, total)
    state = ParityState(
        symbols=np.ascontiguousarray(symbols, dtype=np.int32),
        word_start=np.ascontiguousarray(word_offsets[:-1], dtype=np.int64),
        word_len=word_len,
        word_total=word_total,
        entry_start=entry_start, entry_lang=entry_lang, entry_train=entry_train, entry_dev=entry_dev,
        token_units=units, token_offset=token_offset, token_content=token_content,
        vocab_table_hash=np.full(1 << max(10, int(2 * n_initial).bit_length() + 1), EMPTY, dtype=np.int64),
        vocab_table_id=np.full(1 << max(10, int(2 * n_initial).bit_length() + 1), EMPTY, dtype=np.int32),
        merges=np.zeros((1024, 3), dtype=np.int32),
        merge_lang=np.zeros(1024, dtype=np.int32),
        pair_table_key=np.full(1 << max(11, int(2 * pair_capacity).bit_length()), EMPTY, dtype=np.int64),
        pair_table_slot=np.full(1 << max(11, int(2 * pair_capacity).bit_length()), EMPTY, dtype=np.int32),
        slot_key=np.zeros(pair_capacity, dtype=np.int64),
        slot_total=np.zeros(pair_capacity, dtype=np.int64),
        slot_head=np.full(pair_capacity, EMPTY, dtype=np.int32),
        slot_tail=np.full(pair_capacity, EMPTY, dtype=np.int32),
        slot_mark=np.full(pair_capacity, EMPTY, dtype=np.int64),
        cell_table_key=np.full(1 << max(11, int(2 * cell_capacity).bit_length()), EMPTY, dtype=np.int64),
        cell_table_index=np.full(1 << max(11, int(2 * cell_capacity).bit_length()), EMPTY, dtype=np.int32),
        cell_key=np.zeros(cell_capacity, dtype=np.int64),
        cell_count=np.zeros(cell_capacity, dtype=np.int64),
        cell_mark=np.full(cell_capacity, EMPTY, dtype=np.int64),
        node_word=np.zeros(node_capacity, dtype=np.int32),
        node_next=np.zeros(node_capacity, dtype=np.int32),
        heap_count=np.zeros(0, dtype=np.int64),
        heap_pair=np.zeros(0, dtype=np.int64),
        heap_base=np.zeros(n_languages + 1, dtype=np.int64),
        heap_cap=np.zeros(n_languages + 1, dtype=np.int64),
        heap_size=np.zeros(n_languages + 1, dtype=np.int64),
        dev_length=np.zeros(n_languages, dtype=np.int64),
        exhausted=np.zeros(n_languages, dtype=np.bool_),
        window_recent=np.zeros(0, dtype=np.int32),
        window_count=np.zeros(n_languages, dtype=np.int64),
        touched_slots=np.zeros(1024, dtype=np.int32),
        touched_cells=np.zeros(1024, dtype=np.int32),
        scalars=np.zeros(N_SCALARS, dtype=np.int64),
        n_languages=int(n_languages),
        max_units=max_units,
    )
    state.scalars[N_TOKENS] = n_initial
    state.scalars[CONTENT_USED] = len(content)
    if global_merges_done is not None and len(global_merges_done):
        done = len(global_merges_done)
        state.merges = _grown(state.merges, done)
        state.merge_lang = _grown(state.merge_lang, done)
        state.merges[:done] = global_merges_done
        state.merge_lang[:done] = n_languages
        state.scalars[N_MERGES] = done
    dedup_flags = np.ones(n_initial, dtype=np.bool_) if dedup is None else np.asarray(dedup, dtype=np.bool_)
    _register_initial_tokens(state.token_offset, state.token_content, state.vocab_table_hash,
                             state.vocab_table_id, dedup_flags)
    _count_pairs(state.symbols, state.word_start, state.word_len, state.word_total, state.entry_start,
                 state.entry_lang, state.entry_dev, state.token_units, max_units, state.pair_table_key,
                 state.pair_table_slot, state.slot_key, state.slot_total, state.slot_head, state.slot_tail,
                 state.node_word, state.node_next, state.dev_length, state.scalars)
    # Heaps: the global region twice its initial size, so early pushes need no growth; the language
    # regions get their size when the cells are counted.
    n_slots = int(state.scalars[N_SLOTS])
    state.heap_cap[:] = 64
    state.heap_cap[n_languages] = 2 * n_slots + 64
    state.heap_base[:] = np.concatenate([[0], np.cumsum(state.heap_cap)[:-1]])
    state.heap_count = np.zeros(int(state.heap_cap.sum()), dtype=np.int64)
    state.heap_pair = np.zeros(int(state.heap_cap.sum()), dtype=np.int64)
    _fill_global_heap(state.slot_key, state.slot_total, n_slots, state.heap_count, state.heap_pair,
                      state.heap_base, state.heap_size, n_languages)
    return state


def _recount_cells(state: ParityState) -> None:
    """Count the (pair, language) cells afresh from the words and rebuild the language heaps.

    Run once, before the first parity merge (the cells are not kept during global merges). The cell
    table is sized from the words as they are now, which global merges have shortened.
    """
    n_languages = state.n_languages
    n_words = len(state.word_start)
    entry_word = np.repeat(np.arange(n_words), np.diff(state.entry_start))
    trained_languages = np.bincount(entry_word, weights=state.entry_train > 0, minlength=n_words).astype(np.int64)
    cell_bound = int((np.maximum(state.word_len.astype(np.int64) - 1, 0) * trained_languages).sum())
    capacity = max(1024, min(cell_bound, int(state.scalars[N_SLOTS]) * n_languages) + 16)
    bits = max(11, int(2 * capacity).bit_length())
    state.cell_table_key = np.full(1 << bits, EMPTY, dtype=np.int64)
    state.cell_table_index = np.full(1 << bits, EMPTY, dtype=np.int32)
    state.cell_key = np.zeros(capacity, dtype=np.int64)
    state.cell_count = np.zeros(capacity, dtype=np.int64)
    state.cell_mark = np.full(capacity, EMPTY, dtype=np.int64)
    state.scalars[N_CELLS] = 0
    missing = _count_cells(state.symbols, state.word_start, state.word_len, state.entry_start, state.entry_lang,
                           state.entry_train, state.token_units, state.max_units, state.pair_table_key,
                           state.pair_table_slot, state.cell_table_key, state.cell_table_index, state.cell_key,
                           state.cell_count, state.scalars)
    if missing:
        raise AssertionError(f"{missing} pair occurrences have no pair slot: the pair counts are corrupt")
    # Language heaps: each region twice its size, so pushes need no growth soon; the global region
    # keeps its entries (global merges may follow in a run whose caller raised global_merges).
    n_cells = int(state.scalars[N_CELLS])
    counted = state.cell_count[:n_cells] > 0
    sizes = np.bincount((state.cell_key[:n_cells][counted] & MAX_LANGUAGES).astype(np.int64),
                        minlength=n_languages).astype(np.int64)
    global_base, global_size = int(state.heap_base[n_languages]), int(state.heap_size[n_languages])
    global_count = state.heap_count[global_base: global_base + global_size].copy()
    global_pair = state.heap_pair[global_base: global_base + global_size].copy()
    state.heap_cap[:n_languages] = 2 * sizes + 64
    state.heap_base[:] = np.concatenate([[0], np.cumsum(state.heap_cap)[:-1]])
    state.heap_count = np.zeros(int(state.heap_cap.sum()), dtype=np.int64)
    state.heap_pair = np.zeros(int(state.heap_cap.sum()), dtype=np.int64)
    base = int(state.heap_base[n_languages])
    state.heap_count[base: base + global_size] = global_count
    state.heap_pair[base: base + global_size] = global_pair
    state.heap_size[:n_languages] = 0
    _fill_language_heaps(state.slot_key, state.cell_key, state.cell_count, n_cells, state.heap_count,
                         state.heap_pair, state.heap_base, state.heap_size, n_languages)
    state.scalars[CELLS_CURRENT] = 1


def window_quota(alpha: float, window_size: int, n_languages: int) -> int:
    """Most choices a language may hold among the last ``window_size`` parity merges (window variant).

    The reference admits a language while ``count / window_size <= alpha / L``; as an integer bound that
    is ``count <= floor(alpha * window_size / L)`` (computed exactly for integer ``alpha``).
    """
    if float(alpha).is_integer():
        return int(alpha) * int(window_size) // int(n_languages)
    return int(np.floor(float(alpha) * window_size / n_languages + 1e-9))


def run_parity_merges(state: ParityState, *, vocab_size: int, min_frequency: int = 0, global_merges: int = 0,
                      window_size: int = 0, alpha: float = 2, max_merges: int | None = None) -> float:
    """Learn merges until a stop condition or ``max_merges`` more merges; returns the seconds spent.

    Args:
        global_merges: the first this-many merges of the run (counted from the start, not from this
            call) use the summed counts of all languages (hybrid parity-aware BPE).
        window_size: 0 for the base rule (the longest language chooses); W > 0 for the moving-window
            rule with quota :func:`window_quota` ``(alpha, W, L)``. Keep it the same for every call of
            one run.
        alpha: the window rule's share: a language may hold ``alpha`` times its fair share ``W / L`` of
            the window.
    """
    started = time.perf_counter()
    window_size = int(window_size)
    if window_size < 0:
        raise ValueError(f"window_size must be >= 0, got {window_size}")
    if len(state.window_recent) != window_size:
        if state.scalars[N_PARITY] > 0:
            raise ValueError("window_size changed in the middle of a run")
        state.window_recent = np.zeros(window_size, dtype=np.int32)
    quota = window_quota(alpha, window_size, state.n_languages) if window_size else 0
    before = state.n_merges
    budget = np.iinfo(np.int64).max if max_merges is None else int(max_merges)
    need = np.zeros(_N_NEEDS + state.n_languages + 1, dtype=np.int64)
    state.scalars[STOP] = RUNNING
    while True:
        status = _parity_advance(
            state.symbols, state.word_start, state.word_len, state.word_total, state.entry_start,
            state.entry_lang, state.entry_train, state.entry_dev,
            state.token_units, state.token_offset, state.token_content, state.vocab_table_hash,
            state.vocab_table_id, state.merges, state.merge_lang,
            state.pair_table_key, state.pair_table_slot, state.slot_key, state.slot_total, state.slot_head,
            state.slot_tail, state.slot_mark,
            state.cell_table_key, state.cell_table_index, state.cell_key, state.cell_count, state.cell_mark,
            state.node_word, state.node_next,
            state.heap_count, state.heap_pair, state.heap_base, state.heap_cap, state.heap_size,
            state.dev_length, state.exhausted, state.window_recent, state.window_count, state.touched_slots,
            state.touched_cells, state.scalars, state.n_languages, state.max_units, int(vocab_size),
            int(min_frequency), int(global_merges), window_size, quota, budget - (state.n_merges - before), need,
        )
        if status == _NEEDS_CELLS:
            _recount_cells(state)
        elif status == _NEEDS_ROOM:
            _grow(state, need)
        else:
            break
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------------
# growing arrays (Python side)


def _grow(state: ParityState, need: np.ndarray) -> None:
    scalars = state.scalars
    slots = int(scalars[N_SLOTS] + need[_NEED_SLOTS])
    if slots > len(state.slot_key):
        for name, fill in (("slot_key", 0), ("slot_total", 0), ("slot_head", EMPTY), ("slot_tail", EMPTY),
                           ("slot_mark", EMPTY)):
            setattr(state, name, _grown(getattr(state, name), slots, fill))
    if 2 * slots > len(state.pair_table_key):
        bits = int(4 * slots).bit_length()
        state.pair_table_key = np.full(1 << bits, EMPTY, dtype=np.int64)
        state.pair_table_slot = np.full(1 << bits, EMPTY, dtype=np.int32)
        _rehash_pairs(state.slot_key, int(scalars[N_SLOTS]), state.pair_table_key, state.pair_table_slot)
    cells = int(scalars[N_CELLS] + need[_NEED_CELLS])
    if cells > len(state.cell_key):
        for name, fill in (("cell_key", 0), ("cell_count", 0), ("cell_mark", EMPTY)):
            setattr(state, name, _grown(getattr(state, name), cells, fill))
    if 2 * cells > len(state.cell_table_key):
        bits = int(4 * cells).bit_length()
        state.cell_table_key = np.full(1 << bits, EMPTY, dtype=np.int64)
        state.cell_table_index = np.full(1 << bits, EMPTY, dtype=np.int32)
        _rehash_pairs(state.cell_key, int(scalars[N_CELLS]), state.cell_table_key, state.cell_table_index)
    nodes = int(scalars[N_NODES] + need[_NEED_NODES])
    state.node_word = _grown(state.node_word, nodes)
    state.node_next = _grown(state.node_next, nodes)
    state.touched_slots = _grown(state.touched_slots, int(need[_NEED_TOUCHED]))
    state.touched_cells = _grown(state.touched_cells, int(need[_NEED_CELLS]))
    merges = int(scalars[N_MERGES] + need[_NEED_MERGES])
    state.merges = _grown(state.merges, merges)
    state.merge_lang = _grown(state.merge_lang, merges)
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
    # Heaps: a region that is too small doubles; all regions move into a new flat array.
    heap_need = need[_N_NEEDS:]
    short = state.heap_size + heap_need > state.heap_cap
    if short.any():
        new_cap = np.where(short, np.maximum(2 * state.heap_cap, state.heap_size + heap_need), state.heap_cap)
        new_base = np.concatenate([[0], np.cumsum(new_cap)[:-1]]).astype(np.int64)
        counts = np.zeros(int(new_cap.sum()), dtype=np.int64)
        pairs = np.zeros(int(new_cap.sum()), dtype=np.int64)
        for h in range(len(new_cap)):
            old, new, size = int(state.heap_base[h]), int(new_base[h]), int(state.heap_size[h])
            counts[new: new + size] = state.heap_count[old: old + size]
            pairs[new: new + size] = state.heap_pair[old: old + size]
        state.heap_count, state.heap_pair = counts, pairs
        state.heap_base[:] = new_base
        state.heap_cap[:] = new_cap


# --------------------------------------------------------------------------------------------------
# compiled kernels


@njit(cache=True, inline="always")
def _before(count_a, pair_a, count_b, pair_b):
    """Heap order: higher count, then smaller pair."""
    if count_a != count_b:
        return count_a > count_b
    return pair_a < pair_b


@njit(cache=True)
def _heap_sift_down(counts, pairs, base, size, i):
    count, pair = counts[base + i], pairs[base + i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(counts[base + right], pairs[base + right], counts[base + child],
                                    pairs[base + child]):
            child = right
        if not _before(counts[base + child], pairs[base + child], count, pair):
            break
        counts[base + i], pairs[base + i] = counts[base + child], pairs[base + child]
        i = child
    counts[base + i], pairs[base + i] = count, pair


@njit(cache=True)
def _heap_push(counts, pairs, base, size, count, pair):
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(count, pair, counts[base + parent], pairs[base + parent]):
            break
        counts[base + i], pairs[base + i] = counts[base + parent], pairs[base + parent]
        i = parent
    counts[base + i], pairs[base + i] = count, pair


@njit(cache=True, inline="always")
def _slot_of(key, table_key, table_slot, slot_key, slot_total, slot_head, slot_tail, scalars):
    """The slot of pair ``key``, created (count 0, empty word list) if new."""
    slot, index = _find_pair(key, table_key, table_slot)
    if slot == EMPTY:
        slot = scalars[N_SLOTS]
        scalars[N_SLOTS] = slot + 1
        table_key[index] = key
        table_slot[index] = slot
        slot_key[slot] = key
        slot_total[slot] = 0
        slot_head[slot] = EMPTY
        slot_tail[slot] = EMPTY
    return slot


@njit(cache=True, inline="always")
def _cell_of(slot, lang, cell_table_key, cell_table_index, cell_key, cell_count, scalars):
    key = (np.int64(slot) << LANG_BITS) | np.int64(lang)
    cell, index = _find_pair(key, cell_table_key, cell_table_index)
    if cell == EMPTY:
        cell = scalars[N_CELLS]
        scalars[N_CELLS] = cell + 1
        cell_table_key[index] = key
        cell_table_index[index] = cell
        cell_key[cell] = key
        cell_count[cell] = 0
    return cell


@njit(cache=True, inline="always")
def _append_word(slot, word, slot_head, slot_tail, node_word, node_next, scalars):
    """Add ``word`` to the pair's word list unless it is already the last one."""
    tail = slot_tail[slot]
    if tail != EMPTY and node_word[tail] == word:
        return
    node = scalars[N_NODES]
    scalars[N_NODES] = node + 1
    node_word[node] = word
    node_next[node] = EMPTY
    if tail == EMPTY:
        slot_head[slot] = node
    else:
        node_next[tail] = node
    slot_tail[slot] = node


@njit(cache=True)
def _count_pairs(symbols, word_start, word_len, word_total, entry_start, entry_lang, entry_dev, token_units,
                 max_units, table_key, table_slot, slot_key, slot_total, slot_head, slot_tail, node_word, node_next,
                 dev_length, scalars):
    """Count every pair, the dev lengths, and build each pair's word list (in word order).

    Each list is laid out as one run of consecutive nodes, not appended node by node as the words are
    read: interleaved lists spread every pair's nodes over the whole pool, and the first merges, which
    walk the longest lists twice each, then missed the cache at every node.
    """
    n_words = len(word_start)
    list_len = np.zeros(len(slot_key), dtype=np.int64)
    last_word = np.full(len(slot_key), EMPTY, dtype=np.int64)
    # Pass 1: counts, and how many distinct words hold each pair; each position's slot is kept for pass 2
    # (a hash look-up there missed the cache at every position, as in merge_core._count_initial_pairs).
    position_slot = np.empty(len(symbols), dtype=np.int32)
    for w in range(n_words):
        start = word_start[w]
        n = word_len[w]
        for e in range(entry_start[w], entry_start[w + 1]):
            dev_length[entry_lang[e]] += n * entry_dev[e]
        for i in range(start, start + n - 1):
            key = _pair_key_at(symbols, i, token_units, max_units)
            if key == EMPTY:
                position_slot[i] = EMPTY
                continue
            slot = _slot_of(key, table_key, table_slot, slot_key, slot_total, slot_head, slot_tail, scalars)
            position_slot[i] = slot
            slot_total[slot] += word_total[w]
            if last_word[slot] != w:
                last_word[slot] = w
                list_len[slot] += 1
    # Pass 2: each list gets its run of nodes; the words fill them in word order.
    n_slots = scalars[N_SLOTS]
    used = scalars[N_NODES]
    for slot in range(n_slots):
        if list_len[slot] > 0:
            slot_head[slot] = used
            slot_tail[slot] = used  # the next node to fill, until pass 2 is done
            used += list_len[slot]
        last_word[slot] = EMPTY
    for w in range(n_words):
        start = word_start[w]
        for i in range(start, start + word_len[w] - 1):
            slot = position_slot[i]
            if slot == EMPTY:
                continue
            if last_word[slot] != w:
                last_word[slot] = w
                node = slot_tail[slot]
                node_word[node] = w
                node_next[node] = node + 1
                slot_tail[slot] = node + 1
    for slot in range(n_slots):
        if list_len[slot] > 0:
            slot_tail[slot] -= 1
            node_next[slot_tail[slot]] = EMPTY
    scalars[N_NODES] = used


@njit(cache=True)
def _count_cells(symbols, word_start, word_len, entry_start, entry_lang, entry_train, token_units, max_units,
                 table_key, table_slot, cell_table_key, cell_table_index, cell_key, cell_count, scalars):
    """Add every pair occurrence to its (pair, language) cells; returns occurrences without a pair slot
    (always 0 when the pair table is intact: every occurrence got its slot when it appeared)."""
    missing = 0
    for w in range(len(word_start)):
        trained = False
        for e in range(entry_start[w], entry_start[w + 1]):
            trained = trained or entry_train[e] > 0
        if not trained:  # dev-only words count for no language's choice
            continue
        start = word_start[w]
        for i in range(start, start + word_len[w] - 1):
            key = _pair_key_at(symbols, i, token_units, max_units)
            if key == EMPTY:
                continue
            slot, _ = _find_pair(key, table_key, table_slot)
            if slot == EMPTY:
                missing += 1
                continue
            for e in range(entry_start[w], entry_start[w + 1]):
                if entry_train[e] > 0:
                    cell = _cell_of(slot, entry_lang[e], cell_table_key, cell_table_index, cell_key, cell_count,
                                    scalars)
                    cell_count[cell] += entry_train[e]
    return missing


@njit(cache=True)
def _fill_global_heap(slot_key, slot_total, n_slots, heap_count, heap_pair, heap_base, heap_size, n_languages):
    base = heap_base[n_languages]
    for slot in range(n_slots):
        if slot_total[slot] > 0:
            heap_count[base + heap_size[n_languages]] = slot_total[slot]
            heap_pair[base + heap_size[n_languages]] = slot_key[slot]
            heap_size[n_languages] += 1
    for i in range(heap_size[n_languages] // 2 - 1, -1, -1):
        _heap_sift_down(heap_count, heap_pair, base, heap_size[n_languages], i)


@njit(cache=True)
def _fill_language_heaps(slot_key, cell_key, cell_count, n_cells, heap_count, heap_pair, heap_base, heap_size,
                         n_languages):
    for cell in range(n_cells):
        if cell_count[cell] > 0:
            lang = cell_key[cell] & MAX_LANGUAGES
            slot = cell_key[cell] >> LANG_BITS
            base = heap_base[lang]
            heap_count[base + heap_size[lang]] = cell_count[cell]
            heap_pair[base + heap_size[lang]] = slot_key[slot]
            heap_size[lang] += 1
    for h in range(n_languages):
        for i in range(heap_size[h] // 2 - 1, -1, -1):
            _heap_sift_down(heap_count, heap_pair, heap_base[h], heap_size[h], i)


@njit(cache=True, inline="always")
def _change(key, sign, w, iteration, word_total, entry_start, entry_lang, entry_train,
            table_key, table_slot, slot_key, slot_total, slot_head, slot_tail, slot_mark,
            cell_table_key, cell_table_index, cell_key, cell_count, cell_mark, node_word, node_next,
            touched_slots, touched_cells, scalars, counters, track_cells):
    """One occurrence of pair ``key`` in word ``w`` appears (sign +1) or disappears (-1).

    counters: [touched slots, touched cells] in this iteration.
    track_cells: whether the (pair, language) cells are current and so must follow (not during global
    merges, see the module docstring).
    """
    slot = _slot_of(key, table_key, table_slot, slot_key, slot_total, slot_head, slot_tail, scalars)
    slot_total[slot] += sign * word_total[w]
    if sign > 0:
        _append_word(slot, w, slot_head, slot_tail, node_word, node_next, scalars)
        if slot_mark[slot] != iteration:
            slot_mark[slot] = iteration
            touched_slots[counters[0]] = slot
            counters[0] += 1
    if not track_cells:
        return
    for e in range(entry_start[w], entry_start[w + 1]):
        count = entry_train[e]
        if count == 0:
            continue
        cell = _cell_of(slot, entry_lang[e], cell_table_key, cell_table_index, cell_key, cell_count, scalars)
        if sign > 0:
            cell_count[cell] += count
            if cell_mark[cell] != iteration:
                cell_mark[cell] = iteration
                touched_cells[counters[1]] = cell
                counters[1] += 1
        else:
            cell_count[cell] -= count


@njit(cache=True)
def _current_count(pair, h, n_languages, table_key, table_slot, slot_total, cell_table_key, cell_table_index,
                   cell_count):
    slot, _ = _find_pair(pair, table_key, table_slot)
    if slot == EMPTY:
        return 0
    if h == n_languages:
        return slot_total[slot]
    cell, _ = _find_pair((np.int64(slot) << LANG_BITS) | np.int64(h), cell_table_key, cell_table_index)
    return 0 if cell == EMPTY else cell_count[cell]


@njit(cache=True)
def _parity_advance(symbols, word_start, word_len, word_total, entry_start, entry_lang, entry_train, entry_dev,
                    token_units, token_offset, token_content, vocab_table_hash, vocab_table_id, merges, merge_lang,
                    table_key, table_slot, slot_key, slot_total, slot_head, slot_tail, slot_mark,
                    cell_table_key, cell_table_index, cell_key, cell_count, cell_mark, node_word, node_next,
                    heap_count, heap_pair, heap_base, heap_cap, heap_size, dev_length, exhausted,
                    window_recent, window_count, touched_slots, touched_cells, scalars, n_languages, max_units,
                    vocab_size, min_frequency, global_merges, window_size, quota, budget, need):
    counters = np.zeros(2, dtype=np.int64)
    threshold = max(1, min_frequency)
    done = 0
    while True:
        if scalars[N_TOKENS] >= vocab_size:
            scalars[STOP] = VOCAB_FULL
            return _DONE
        if done >= budget:
            return _PAUSED
        # Who chooses: the global counts during the first global_merges merges, then the language with
        # the longest dev set among those not yet exhausted (window rule: and within its quota).
        if scalars[N_MERGES] < global_merges:
            h = n_languages
        else:
            h = -1
            if window_size > 0:
                for lang in range(n_languages):
                    if (not exhausted[lang] and window_count[lang] <= quota
                            and (h == -1 or dev_length[lang] > dev_length[h])):
                        h = lang
            if h == -1:
                for lang in range(n_languages):
                    if not exhausted[lang] and (h == -1 or dev_length[lang] > dev_length[h]):
                        h = lang
            if h == -1:  # every language is exhausted: by a pair below min_frequency, or by running out
                scalars[STOP] = NO_PAIRS
                for lang in range(n_languages):
                    if heap_size[lang] > 0:
                        scalars[STOP] = BELOW_MIN_FREQUENCY
                return _DONE
            if scalars[CELLS_CURRENT] == 0:  # the first parity merge: count the cells first
                return _NEEDS_CELLS
        track_cells = scalars[CELLS_CURRENT] != 0
        base = heap_base[h]
        size = heap_size[h]
        if size == 0:
            if h == n_languages:
                scalars[STOP] = NO_PAIRS
                return _DONE
            exhausted[h] = True
            continue
        count, pair = heap_count[base], heap_pair[base]
        current = _current_count(pair, h, n_languages, table_key, table_slot, slot_total, cell_table_key,
                                 cell_table_index, cell_count)
        if current != count:
            if current <= 0:  # gone (merged, or lost all occurrences): drop the entry
                size -= 1
                heap_count[base], heap_pair[base] = heap_count[base + size], heap_pair[base + size]
                heap_size[h] = size
            else:
                heap_count[base] = current
            if size > 0:
                _heap_sift_down(heap_count, heap_pair, base, size, 0)
            continue
        if count < threshold:
            if h == n_languages:
                scalars[STOP] = BELOW_MIN_FREQUENCY
                return _DONE
            exhausted[h] = True
            continue
        slot, _ = _find_pair(pair, table_key, table_slot)
        # Room check before anything changes: each occurrence in a word of length n creates at most
        # two pairs (slots, nodes) and, per language of the word, two cells and heap entries; and a word
        # gains at most 2 * (n_tokens + 1) distinct pairs, each the new token beside one of n_tokens + 1 ids
        # (so a single word of millions of symbols does not size the room by its length).
        n_tokens = scalars[N_TOKENS]
        per_word_cap = 2 * (n_tokens + 1)
        for k in range(n_languages + 1):
            need[7 + k] = 0
        bound = 0
        cell_bound = 0
        node = slot_head[slot]
        while node != EMPTY:
            w = node_word[node]
            n = min(np.int64(word_len[w]), per_word_cap)
            bound += n
            if track_cells:
                for e in range(entry_start[w], entry_start[w + 1]):
                    if entry_train[e] > 0:
                        cell_bound += n
                        need[7 + entry_lang[e]] += n
            node = node_next[node]
        need[7 + n_languages] = bound
        left = np.int32(pair >> 32)
        right = np.int32(pair & 0xFFFFFFFF)
        content_len = (token_offset[left + 1] - token_offset[left]) + (token_offset[right + 1] - token_offset[right])
        short = (
            scalars[N_SLOTS] + 2 * bound > len(slot_key)
            or 2 * (scalars[N_SLOTS] + 2 * bound) > len(table_key)
            or scalars[N_CELLS] + 2 * cell_bound > len(cell_key)
            or 2 * (scalars[N_CELLS] + 2 * cell_bound) > len(cell_table_key)
            or scalars[N_NODES] + 2 * bound > len(node_word)
            or 2 * bound > len(touched_slots)
            or 2 * cell_bound > len(touched_cells)
            or scalars[N_MERGES] + 1 > len(merges)
            or scalars[CONTENT_USED] + content_len > len(token_content)
            or n_tokens + 2 > len(token_offset)
            or 2 * (n_tokens + 1) > len(vocab_table_hash)
        )
        for k in range(n_languages + 1):
            if heap_size[k] + 2 * need[7 + k] > heap_cap[k]:
                short = True
        if short:
            need[_NEED_SLOTS] = 2 * bound
            need[_NEED_CELLS] = 2 * cell_bound
            need[_NEED_NODES] = 2 * bound
            need[_NEED_TOUCHED] = 2 * bound
            need[_NEED_MERGES] = 1
            need[_NEED_CONTENT] = content_len
            need[_NEED_TOKENS] = 1
            for k in range(n_languages + 1):
                need[7 + k] *= 2
            return _NEEDS_ROOM
        # Take the entry off its heap (entries for this pair in other heaps go stale and drop later).
        size -= 1
        heap_count[base], heap_pair[base] = heap_count[base + size], heap_pair[base + size]
        heap_size[h] = size
        if size > 0:
            _heap_sift_down(heap_count, heap_pair, base, size, 0)
        # The new token: reuse the id of identical content, else append one.
        used = scalars[CONTENT_USED]
        for k in range(token_offset[left], token_offset[left + 1]):
            token_content[used] = token_content[k]
            used += 1
        for k in range(token_offset[right], token_offset[right + 1]):
            token_content[used] = token_content[k]
            used += 1
        new, index, hashed = _find_token(token_content, scalars[CONTENT_USED], used, token_offset, token_content,
                                         vocab_table_hash, vocab_table_id)
        if new == EMPTY:
            new = n_tokens
            token_offset[new + 1] = used
            token_units[new] = token_units[left] + token_units[right]
            vocab_table_hash[index] = hashed
            vocab_table_id[index] = new
            scalars[CONTENT_USED] = used
            scalars[N_TOKENS] = n_tokens + 1
        m = scalars[N_MERGES]
        merges[m, 0], merges[m, 1], merges[m, 2] = left, right, new
        merge_lang[m] = h
        scalars[N_MERGES] = m + 1
        if h < n_languages:  # a parity merge: it enters the moving window (if any)
            if window_size > 0:
                position = scalars[N_PARITY] % window_size
                if scalars[N_PARITY] >= window_size:
                    window_count[window_recent[position]] -= 1
                window_recent[position] = h
                window_count[h] += 1
            scalars[N_PARITY] += 1
        iteration = scalars[ITERATION] + 1
        scalars[ITERATION] = iteration
        new_units = token_units[new]
        # Rewrite every word of the pair's list (all of them: the pair disappears everywhere).
        counters[0] = 0
        counters[1] = 0
        node = slot_head[slot]
        slot_head[slot] = EMPTY
        slot_tail[slot] = EMPTY
        while node != EMPTY:
            w = node_word[node]
            node = node_next[node]
            start = word_start[w]
            n = word_len[w]
            read = 0
            write = 0
            while read < n:
                symbol = symbols[start + read]
                if symbol == left and read + 1 < n and symbols[start + read + 1] == right:
                    if write > 0:
                        before = symbols[start + write - 1]
                        if token_units[before] + token_units[left] <= max_units:
                            _change((np.int64(before) << 32) | np.int64(left), -1, w, iteration, word_total,
                                    entry_start, entry_lang, entry_train, table_key, table_slot, slot_key,
                                    slot_total, slot_head, slot_tail, slot_mark, cell_table_key, cell_table_index,
                                    cell_key, cell_count, cell_mark, node_word, node_next, touched_slots,
                                    touched_cells, scalars, counters, track_cells)
                        if token_units[before] + new_units <= max_units:
                            _change((np.int64(before) << 32) | np.int64(new), 1, w, iteration, word_total,
                                    entry_start, entry_lang, entry_train, table_key, table_slot, slot_key,
                                    slot_total, slot_head, slot_tail, slot_mark, cell_table_key, cell_table_index,
                                    cell_key, cell_count, cell_mark, node_word, node_next, touched_slots,
                                    touched_cells, scalars, counters, track_cells)
                    if read + 2 < n:
                        after = symbols[start + read + 2]
                        if token_units[right] + token_units[after] <= max_units:
                            _change((np.int64(right) << 32) | np.int64(after), -1, w, iteration, word_total,
                                    entry_start, entry_lang, entry_train, table_key, table_slot, slot_key,
                                    slot_total, slot_head, slot_tail, slot_mark, cell_table_key, cell_table_index,
                                    cell_key, cell_count, cell_mark, node_word, node_next, touched_slots,
                                    touched_cells, scalars, counters, track_cells)
                        if new_units + token_units[after] <= max_units:
                            _change((np.int64(new) << 32) | np.int64(after), 1, w, iteration, word_total,
                                    entry_start, entry_lang, entry_train, table_key, table_slot, slot_key,
                                    slot_total, slot_head, slot_tail, slot_mark, cell_table_key, cell_table_index,
                                    cell_key, cell_count, cell_mark, node_word, node_next, touched_slots,
                                    touched_cells, scalars, counters, track_cells)
                    symbols[start + write] = new
                    read += 2
                else:
                    symbols[start + write] = symbol
                    read += 1
                write += 1
            if write != n:
                word_len[w] = write
                for e in range(entry_start[w], entry_start[w + 1]):
                    dev_length[entry_lang[e]] -= (n - write) * entry_dev[e]
        # The merged pair itself is gone from every word and every language (it can come back only
        # through a later merge whose content repeats an existing token; its counts then restart at 0).
        slot_total[slot] = 0
        for lang in range(n_languages if track_cells else 0):
            cell, _ = _find_pair((np.int64(slot) << LANG_BITS) | np.int64(lang), cell_table_key, cell_table_index)
            if cell != EMPTY:
                cell_count[cell] = 0
        # Push the pairs that gained: on the global heap while global merges remain, and per language.
        if scalars[N_MERGES] < global_merges:
            hb = heap_base[n_languages]
            for t in range(counters[0]):
                s = touched_slots[t]
                if slot_total[s] > 0:
                    _heap_push(heap_count, heap_pair, hb, heap_size[n_languages], slot_total[s], slot_key[s])
                    heap_size[n_languages] += 1
        for t in range(counters[1]):
            cell = touched_cells[t]
            if cell_count[cell] > 0:
                lang = cell_key[cell] & MAX_LANGUAGES
                s = cell_key[cell] >> LANG_BITS
                _heap_push(heap_count, heap_pair, heap_base[lang], heap_size[lang], cell_count[cell], slot_key[s])
                heap_size[lang] += 1
        done += 1


def state_arrays(state: ParityState) -> dict[str, np.ndarray]:
    """All arrays by field name (debugging, tests)."""
    return {f.name: getattr(state, f.name) for f in fields(state) if isinstance(getattr(state, f.name), np.ndarray)}
