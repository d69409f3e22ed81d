"""Merge replay: apply a tokenizer's first N merges to one category's word table, logging pair counts.

The word table is the category sample's distinct pre-tokens with their counts (counted once by
:func:`tokensmith.train.count_pretokens`); the text itself is not kept. Each word is a sequence of
symbol ids (its bytes, or its characters for SentencePiece-style BPE). Merge ``t`` rewrites every word
that holds its pair, left to right and without overlaps, as the trainer did.

Pair counts are incremental: a rewritten word gives back the counts of all its old pairs and adds
those of its new pairs, so only the pairs around a merge change. What is recorded:

* ``initial``: every pair's count before merge 0 (step 0);
* a log of ``(pair, new count)`` for every pair whose count changed while merge ``t`` was applied,
  i.e. the counts in effect at step ``t + 1``; ``step_end[t]`` delimits merge ``t``'s entries.

So the count of any pair at any step is its last logged value at or before that step - the sparse form
of the paper's per-step pair counts ``c_{i,p}^{(t)}``. Pairs are ``left << 32 | right`` keys of token
ids shared by every category (ids come from the merge list, see :func:`merge_table`).

Words holding a token are found through a per-token list of words (stale entries are skipped), so a
merge touches only the words it can change. The compiled loop stops before a step that needs more room
than its arrays have; Python grows them and calls again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EMPTY = -1
_DONE, _NEEDS_ROOM = 0, 1


@dataclass(frozen=True)
class MergeTable:
    """The merge list as ids: ``merges[t] = (left, right, new)``; ``contents[id]`` is a token's bytes.

    Initial symbols take ids first (bytes 0-255 are ids 0-255 for byte units); a merge whose result
    already has an id (the same bytes built another way) reuses it, as BPE trainers do.
    """

    merges: np.ndarray  # int32 (T, 3)
    contents: list[bytes]
    ids: dict[bytes, int]
    units: str

    @property
    def n_tokens(self) -> int:
        return len(self.contents)

    def symbol_id(self, content: bytes) -> int:
        """Id of an initial symbol (registered on first sight)."""
        found = self.ids.get(content)
        if found is None:
            found = self.ids[content] = len(self.contents)
            self.contents.append(content)
        return found


def merge_table(merges: Sequence[tuple[bytes, bytes]], units: str) -> MergeTable:
    """Ids for a merge list given as byte pairs (``Tokenizer.merges``), in rank order."""
    contents: list[bytes] = [bytes([b]) for b in range(256)] if units == "byte" else []
    ids = {content: i for i, content in enumerate(contents)}
    table = MergeTable(np.zeros((len(merges), 3), dtype=np.int32), contents, ids, units)
    for t, (left, right) in enumerate(merges):
        table.merges[t, 0] = table.symbol_id(left)
        table.merges[t, 1] = table.symbol_id(right)
        table.merges[t, 2] = table.symbol_id(left + right)
    return table


@dataclass(frozen=True)
class WordTable:
    """Distinct pre-tokens as symbol ids: word ``w`` is ``symbols[offsets[w]:offsets[w+1]]``."""

    symbols: np.ndarray  # int32
    offsets: np.ndarray  # int64 (words + 1,)
    counts: np.ndarray  # int64 (words,)


def word_table(pretokens: Sequence[bytes], counts: np.ndarray, table: MergeTable) -> WordTable:
    """Encode pre-tokens (UTF-8 bytes) into symbol ids of ``table`` (bytes or characters)."""
    if table.units == "byte":
        lengths = np.fromiter((len(p) for p in pretokens), dtype=np.int64, count=len(pretokens))
        symbols = np.frombuffer(b"".join(pretokens), dtype=np.uint8).astype(np.int32)
    else:
        lengths = np.zeros(len(pretokens), dtype=np.int64)
        flat: list[int] = []
        for w, piece in enumerate(pretokens):
            chars = piece.decode("utf-8")
            lengths[w] = len(chars)
            flat.extend(table.symbol_id(char.encode("utf-8")) for char in chars)
        symbols = np.asarray(flat, dtype=np.int32)
    offsets = np.zeros(len(pretokens) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return WordTable(symbols, offsets, np.ascontiguousarray(counts, dtype=np.int64))


@dataclass(frozen=True)
class ReplayLog:
    """Pair counts of one category through the replayed merges (see the module docstring).

    Attributes:
        keys: ``int64``, the pair key of each slot (``left << 32 | right``).
        initial_slots, initial_counts: counts at step 0 (pairs with a positive count).
        log_slots, log_counts: new counts, merge after merge.
        step_end: ``int64 (T,)``, end of merge ``t``'s entries in the log.
        pair_occurrences: total pair count at step 0 (the paper's ``pairs_i``).
    """

    keys: np.ndarray
    initial_slots: np.ndarray
    initial_counts: np.ndarray
    log_slots: np.ndarray
    log_counts: np.ndarray
    step_end: np.ndarray
    pair_occurrences: int


def replay_merges(words: WordTable, table: MergeTable, n_merges: int | None = None) -> ReplayLog:
    """Apply the first ``n_merges`` merges of ``table`` to ``words`` (not modified), logging pair counts."""
    compile_kernels()
    merges = np.ascontiguousarray(table.merges[: table.merges.shape[0] if n_merges is None else n_merges])
    n_steps = merges.shape[0]
    n_tokens = max(table.n_tokens, int(words.symbols.max(initial=-1)) + 1)
    symbols = words.symbols.copy()
    word_start = np.ascontiguousarray(words.offsets[:-1])
    word_len = np.diff(words.offsets).astype(np.int32)
    total = max(len(symbols), 1)

    slot_capacity = max(1024, total)
    bits = int(2 * slot_capacity).bit_length() + 1
    arrays = {
        "table_key": np.full(1 << bits, EMPTY, dtype=np.int64),
        "table_slot": np.full(1 << bits, EMPTY, dtype=np.int32),
        "slot_key": np.zeros(slot_capacity, dtype=np.int64),
        "slot_count": np.zeros(slot_capacity, dtype=np.int64),
        "slot_before": np.zeros(slot_capacity, dtype=np.int64),
        "slot_mark": np.full(slot_capacity, EMPTY, dtype=np.int64),
        "log_slots": np.zeros(max(1024, total), dtype=np.int32),
        "log_counts": np.zeros(max(1024, total), dtype=np.int64),
    }
    touched = np.zeros(slot_capacity, dtype=np.int32)
    # Per-token word lists: each merge application adds at most one node, and shortens a word by one.
    node_capacity = 2 * total + 16
    head = np.full(n_tokens, EMPTY, dtype=np.int32)
    list_len = np.zeros(n_tokens, dtype=np.int64)
    node_word = np.zeros(node_capacity, dtype=np.int32)
    node_next = np.zeros(node_capacity, dtype=np.int32)
    word_mark = np.full(len(word_len), EMPTY, dtype=np.int64)
    scalars = np.zeros(4, dtype=np.int64)  # slots used, log used, nodes used, next step
    step_end = np.zeros(n_steps, dtype=np.int64)

    _initialise(symbols, word_start, word_len, words.counts, head, list_len, node_word, node_next,
                arrays["table_key"], arrays["table_slot"], arrays["slot_key"], arrays["slot_count"], scalars)
    n_initial = int(scalars[0])
    initial_counts = arrays["slot_count"][:n_initial].copy()
    positive = np.flatnonzero(initial_counts > 0)
    need = np.zeros(2, dtype=np.int64)
    while True:
        if len(touched) < len(arrays["slot_key"]):
            touched = np.zeros(len(arrays["slot_key"]), dtype=np.int32)
        status = _replay(merges, symbols, word_start, word_len, words.counts, head, list_len, node_word, node_next,
                         word_mark, arrays["table_key"], arrays["table_slot"], arrays["slot_key"], arrays["slot_count"],
                         arrays["slot_before"], arrays["slot_mark"], touched, arrays["log_slots"], arrays["log_counts"],
                         step_end, scalars, need)
        if status == _DONE:
            break
        _grow(arrays, scalars, need)
    n_slots, log_used = int(scalars[0]), int(scalars[1])
    return ReplayLog(
        keys=arrays["slot_key"][:n_slots].copy(),
        initial_slots=positive.astype(np.int32),
        initial_counts=initial_counts[positive],
        log_slots=arrays["log_slots"][:log_used].copy(),
        log_counts=arrays["log_counts"][:log_used].copy(),
        step_end=step_end,
        pair_occurrences=int(initial_counts.sum()),
    )


def _grow(arrays: dict[str, np.ndarray], scalars: np.ndarray, need: np.ndarray) -> None:
    slots = int(scalars[0] + need[0])
    if slots > len(arrays["slot_key"]):
        size = max(slots, 2 * len(arrays["slot_key"]))
        for name, fill in (("slot_key", 0), ("slot_count", 0), ("slot_before", 0), ("slot_mark", EMPTY)):
            bigger = np.full(size, fill, dtype=arrays[name].dtype)
            bigger[: len(arrays[name])] = arrays[name]
            arrays[name] = bigger
    if 2 * slots > len(arrays["table_key"]):
        bits = int(4 * slots).bit_length()
        keys = np.full(1 << bits, EMPTY, dtype=np.int64)
        table_slots = np.full(1 << bits, EMPTY, dtype=np.int32)
        _rehash(arrays["slot_key"], int(scalars[0]), keys, table_slots)
        arrays["table_key"], arrays["table_slot"] = keys, table_slots
    entries = int(scalars[1] + need[1])
    if entries > len(arrays["log_slots"]):
        size = max(entries, 2 * len(arrays["log_slots"]))
        for name in ("log_slots", "log_counts"):
            bigger = np.zeros(size, dtype=arrays[name].dtype)
            bigger[: len(arrays[name])] = arrays[name]
            arrays[name] = bigger


# --------------------------------------------------------------------------------------------------
# kernels: plain Python here, compiled with numba on first use (`import tokensmith.mixture` stays light)


def _find_py(key, table_key, table_slot):
    mask = len(table_key) - 1
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    i = np.int64((h ^ (h >> np.uint64(29))) & np.uint64(mask))
    while True:
        stored = table_key[i]
        if stored == key:
            return table_slot[i], i
        if stored == EMPTY:
            return EMPTY, i
        i = (i + 1) & mask


def _rehash_py(slot_key, n_slots, table_key, table_slot):
    for slot in range(n_slots):
        _, index = _find(slot_key[slot], table_key, table_slot)
        table_key[index] = slot_key[slot]
        table_slot[index] = slot


def _add_pair_py(key, delta, table_key, table_slot, slot_key, slot_count, scalars):
    slot, index = _find(key, table_key, table_slot)
    if slot == EMPTY:
        slot = scalars[0]
        scalars[0] = slot + 1
        table_key[index] = key
        table_slot[index] = slot
        slot_key[slot] = key
        slot_count[slot] = 0
    slot_count[slot] += delta
    return slot


def _initialise_py(symbols, word_start, word_len, word_count, head, list_len, node_word, node_next,
                   table_key, table_slot, slot_key, slot_count, scalars):
    last_word = np.full(len(head), EMPTY, dtype=np.int64)
    nodes = 0
    for w in range(len(word_start)):
        start = word_start[w]
        n = word_len[w]
        for i in range(start, start + n):
            symbol = symbols[i]
            if last_word[symbol] != w:
                last_word[symbol] = w
                node_word[nodes] = w
                node_next[nodes] = head[symbol]
                head[symbol] = nodes
                list_len[symbol] += 1
                nodes += 1
            if i + 1 < start + n:
                key = (np.int64(symbol) << 32) | np.int64(symbols[i + 1])
                _add_pair(key, word_count[w], table_key, table_slot, slot_key, slot_count, scalars)
    scalars[2] = nodes


def _touch_py(key, delta, table_key, table_slot, slot_key, slot_count, slot_before, slot_mark, touched, step,
              scalars, counters):
    slot, index = _find(key, table_key, table_slot)
    if slot == EMPTY:
        slot = scalars[0]
        scalars[0] = slot + 1
        table_key[index] = key
        table_slot[index] = slot
        slot_key[slot] = key
        slot_count[slot] = 0
        slot_mark[slot] = EMPTY
    if slot_mark[slot] != step:
        slot_mark[slot] = step
        slot_before[slot] = slot_count[slot]
        touched[counters[0]] = slot
        counters[0] += 1
    slot_count[slot] += delta


def _replay_py(merges, symbols, word_start, word_len, word_count, head, list_len, node_word, node_next, word_mark,
               table_key, table_slot, slot_key, slot_count, slot_before, slot_mark, touched, log_slots, log_counts,
               step_end, scalars, need):
    counters = np.zeros(1, dtype=np.int64)
    for t in range(scalars[3], merges.shape[0]):
        left, right, new = merges[t, 0], merges[t, 1], merges[t, 2]
        key = (np.int64(left) << 32) | np.int64(right)
        slot, _ = _find(key, table_key, table_slot)
        if slot == EMPTY or slot_count[slot] <= 0:
            step_end[t] = scalars[1]
            scalars[3] = t + 1
            continue
        # Walk the shorter word list of the two symbols; every word holding the pair is on both.
        source = left if list_len[left] <= list_len[right] else right
        bound = 0
        node = head[source]
        while node != EMPTY:
            bound += word_len[node_word[node]]
            node = node_next[node]
        if (scalars[0] + 2 * bound > len(slot_key) or 2 * (scalars[0] + 2 * bound) > len(table_key)
                or scalars[1] + 2 * bound > len(log_slots) or 2 * bound > len(touched)):
            need[0] = 2 * bound
            need[1] = 2 * bound
            return _NEEDS_ROOM
        counters[0] = 0
        node = head[source]
        while node != EMPTY:
            w = node_word[node]
            node = node_next[node]
            if word_mark[w] == t:
                continue
            word_mark[w] = t
            start = word_start[w]
            n = word_len[w]
            found = False
            for i in range(start, start + n - 1):
                if symbols[i] == left and symbols[i + 1] == right:
                    found = True
                    break
            if not found:
                continue
            count = word_count[w]
            for i in range(start, start + n - 1):
                _touch((np.int64(symbols[i]) << 32) | np.int64(symbols[i + 1]), -count, table_key, table_slot,
                       slot_key, slot_count, slot_before, slot_mark, touched, t, scalars, counters)
            read = 0
            write = 0
            while read < n:
                symbol = symbols[start + read]
                if symbol == left and read + 1 < n and symbols[start + read + 1] == right:
                    symbols[start + write] = new
                    read += 2
                else:
                    symbols[start + write] = symbol
                    read += 1
                write += 1
            word_len[w] = write
            for i in range(start, start + write - 1):
                _touch((np.int64(symbols[i]) << 32) | np.int64(symbols[i + 1]), count, table_key, table_slot,
                       slot_key, slot_count, slot_before, slot_mark, touched, t, scalars, counters)
            nodes = scalars[2]
            node_word[nodes] = w
            node_next[nodes] = head[new]
            head[new] = nodes
            list_len[new] += 1
            scalars[2] = nodes + 1
        used = scalars[1]
        for k in range(counters[0]):
            s = touched[k]
            if slot_count[s] != slot_before[s]:
                log_slots[used] = s
                log_counts[used] = slot_count[s]
                used += 1
        scalars[1] = used
        step_end[t] = used
        scalars[3] = t + 1
    return _DONE


# Kernels call each other by these names; compiled together on first use.
_find = _find_py
_rehash = _rehash_py
_add_pair = _add_pair_py
_initialise = _initialise_py
_touch = _touch_py
_replay = _replay_py


def compile_kernels() -> None:
    """Swap the Python kernels for numba-compiled ones (once per process; call it before starting threads
    that replay)."""
    global _find, _rehash, _add_pair, _initialise, _touch, _replay
    if getattr(compile_kernels, "done", False):
        return
    from numba import njit

    _find = njit(cache=True, inline="always")(_find_py)
    # nogil: categories are replayed on threads (see infer_mixture)
    _rehash = njit(cache=True, nogil=True)(_rehash_py)
    _add_pair = njit(cache=True, inline="always")(_add_pair_py)
    _touch = njit(cache=True, inline="always")(_touch_py)
    _initialise = njit(cache=True, nogil=True)(_initialise_py)
    _replay = njit(cache=True, nogil=True)(_replay_py)
    compile_kernels.done = True
