"""Plain BPE on lists of byte pieces, for tests that check the fast replay against a from-scratch rewrite."""

from __future__ import annotations


def apply_merge(pieces: list[bytes], left: bytes, right: bytes) -> list[bytes]:
    """``pieces`` with every non-overlapping ``left, right`` pair (scanned left to right) joined."""
    merged, i = [], 0
    while i < len(pieces):
        if i + 1 < len(pieces) and pieces[i] == left and pieces[i + 1] == right:
            merged.append(left + right)
            i += 2
        else:
            merged.append(pieces[i])
            i += 1
    return merged
