"""The BPE merge loop in plain Python: slow, short, and the specification of ``merge_core``.

Same algorithm, same tie-break and same results as the compiled loop in ``merge_core.py`` (read its
docstring for the rules); tests run both on small inputs and compare them merge by merge. Use it to
read or to debug the algorithm, never for real corpora (about 30x slower).

>>> words = [[0, 1, 0, 1], [0, 1]]  # "abab" x3, "ab" x1 over the alphabet a=0, b=1
>>> merges, tokens = reference_merges(words, [3, 1], [b"a", b"b"], [1, 1], vocab_size=4)
>>> merges, tokens[2:]
([(0, 1, 2), (2, 2, 3)], [b'ab', b'abab'])
"""

from __future__ import annotations

import heapq
from collections import defaultdict


def reference_merges(words: list[list[int]], counts: list[int], token_contents: list[bytes],
                     token_units: list[int], *, vocab_size: int, min_frequency: int = 0,
                     max_units: int | None = None,
                     dedup: list[bool] | None = None) -> tuple[list[tuple[int, int, int]], list[bytes]]:
    """Learn merges on ``words`` (symbol-id lists) with ``counts``.

    Args:
        words: each distinct word as a list of initial token ids.
        counts: occurrences of each word.
        token_contents: content of each initial id.
        token_units: length of each initial id (bytes or characters).
        vocab_size: stop when this many distinct tokens exist.
        min_frequency: stop when the best pair occurs fewer times.
        max_units: longest token a merge may create (``None``: unlimited).
        dedup: per initial id, whether merges producing the same content reuse it (default: all).

    Returns:
        ``(merges, contents)``: ``(left, right, new)`` triples in order, and the content of every id.
    """
    limit = max_units if max_units is not None else float("inf")
    words = [list(word) for word in words]
    contents = list(token_contents)
    units = list(token_units)
    flags = dedup if dedup is not None else [True] * len(contents)
    id_of: dict[bytes, int] = {}
    for token, content in enumerate(contents):
        if flags[token]:
            id_of.setdefault(content, token)

    def fits(left: int, right: int) -> bool:
        return units[left] + units[right] <= limit

    pair_counts: dict[tuple[int, int], int] = defaultdict(int)
    positions: dict[tuple[int, int], set[int]] = defaultdict(set)
    for w, word in enumerate(words):
        for pair in zip(word, word[1:], strict=False):
            if fits(*pair):
                pair_counts[pair] += counts[w]
                positions[pair].add(w)
    # Heap entries: (-count, left, right, entry number, word set); entry numbers only order entries of
    # the same pair, which come from different merges, so the initial numbering does not matter.
    heap = [(-pair_counts[pair], *pair, n, frozenset(ws)) for n, (pair, ws) in enumerate(sorted(positions.items()))]
    heapq.heapify(heap)
    next_entry = len(heap)
    merges: list[tuple[int, int, int]] = []
    while len(contents) < vocab_size and heap:
        negative, left, right, entry, entry_words = heap[0]
        current = pair_counts[(left, right)]
        if -negative != current:
            heapq.heapreplace(heap, (-current, left, right, entry, entry_words))
            continue
        if current < 1 or current < min_frequency:
            break
        heapq.heappop(heap)
        content = contents[left] + contents[right]
        new = id_of.get(content)
        if new is None:
            new = len(contents)
            contents.append(content)
            units.append(units[left] + units[right])
            id_of[content] = new
        merges.append((left, right, new))
        gained: dict[tuple[int, int], set[int]] = defaultdict(set)

        def change(pair: tuple[int, int], delta: int, w: int, gained: dict = gained) -> None:
            if not fits(*pair):
                return
            pair_counts[pair] += delta * counts[w]
            if delta > 0:
                gained[pair].add(w)

        for w in sorted(entry_words):
            word = words[w]
            out: list[int] = []
            i = 0
            while i < len(word):
                if word[i] == left and i + 1 < len(word) and word[i + 1] == right:
                    if out:
                        change((out[-1], left), -1, w)
                        change((out[-1], new), +1, w)
                    if i + 2 < len(word):
                        change((right, word[i + 2]), -1, w)
                        change((new, word[i + 2]), +1, w)
                    out.append(new)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            words[w] = out
        for pair in sorted(gained):
            if pair_counts[pair] > 0:
                heapq.heappush(heap, (-pair_counts[pair], *pair, next_entry, frozenset(gained[pair])))
                next_entry += 1
    return merges, contents
