"""New embedding rows as weighted sums of old rows, and the old-tokenizer pieces of a new token.

Most init methods decide *weights* over old token ids (FVT: equal weights on the pieces; TokenAdapt:
softmax weights; OMP: least-squares coefficients). The weights do not depend on which matrix they are
applied to, so one :class:`Combination` serves the input embeddings and the output head alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tokensmith.tokenizers.base import Tokenizer


@dataclass(frozen=True)
class Combination:
    """Per target, a weighted list of old ids (CSR layout); a target with no entries has no estimate.

    Attributes:
        indptr: int64, length ``targets + 1``; target ``i`` uses entries ``indptr[i]:indptr[i+1]``.
        indices: int64 old ids.
        weights: float64 weights, same length as ``indices``.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray

    @classmethod
    def from_lists(cls, entries: Sequence[tuple[Sequence[int], Sequence[float]] | None]) -> Combination:
        """Build from one ``(old ids, weights)`` pair (or None for no estimate) per target."""
        indptr = np.zeros(len(entries) + 1, dtype=np.int64)
        ids: list[int] = []
        weights: list[float] = []
        for i, entry in enumerate(entries):
            if entry is not None:
                ids.extend(int(x) for x in entry[0])
                weights.extend(float(w) for w in entry[1])
            indptr[i + 1] = len(ids)
        return cls(indptr, np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64))

    @property
    def targets(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def has_estimate(self) -> np.ndarray:
        """Boolean mask of targets with at least one entry."""
        return np.diff(self.indptr) > 0

    def apply(self, source: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        """Rows ``Σ w_j source[id_j]`` per target (float64 sums, float32 result); ``fallback`` rows elsewhere."""
        out = np.array(fallback, dtype=np.float32, copy=True)
        for i in np.flatnonzero(self.has_estimate):
            start, end = self.indptr[i], self.indptr[i + 1]
            out[i] = self.weights[start:end] @ source[self.indices[start:end]].astype(np.float64)
        return out

    @staticmethod
    def blend(parts: Sequence[tuple[float, Combination]]) -> Combination:
        """``Σ λ_p · part_p`` target by target, the λ of parts without an estimate for a target renormalised."""
        targets = parts[0][1].targets
        entries: list[tuple[list[int], list[float]] | None] = []
        for i in range(targets):
            present = [(lam, c) for lam, c in parts if c.indptr[i + 1] > c.indptr[i]]
            total = sum(lam for lam, _ in present)
            if not present or total <= 0:
                entries.append(None)
                continue
            ids: list[int] = []
            weights: list[float] = []
            for lam, c in present:
                start, end = c.indptr[i], c.indptr[i + 1]
                ids.extend(c.indices[start:end].tolist())
                weights.extend((c.weights[start:end] * (lam / total)).tolist())
            entries.append((ids, weights))
        return Combination.from_lists(entries)


class OldPieces:
    """Splits byte strings into tokens of the old vocabulary (the pieces FVT and TokenAdapt average).

    A new token's bytes are encoded by the old tokenizer when they are valid UTF-8 and the encoding spells
    exactly those bytes with ordinary tokens that have rows; otherwise (partial UTF-8 characters, a
    normaliser that changes the text) the bytes are split greedily into the longest old tokens.
    """

    def __init__(self, old: Tokenizer, old_rows: int, max_token_bytes: int | None = None) -> None:
        self.old = old
        self.old_rows = old_rows
        specials = old.special_by_id
        self._by_bytes: dict[bytes, int] = {}
        fallback = old.byte_fallback_ids
        for token_id in range(min(old.vocab_size, old_rows)):
            if token_id in specials:
                continue
            data = old.token_bytes(token_id)
            if data and (data not in self._by_bytes or self._by_bytes[data] in fallback):
                self._by_bytes[data] = token_id
        self._longest = max_token_bytes or max((len(b) for b in self._by_bytes), default=1)

    def _usable(self, ids: Sequence[int], data: bytes) -> bool:
        specials = self.old.special_by_id
        if any(i >= self.old_rows or i in specials for i in ids):
            return False
        return b"".join(self.old.token_bytes(i) for i in ids) == data

    def greedy(self, data: bytes) -> list[int] | None:
        """Longest-match split of ``data``; None if some byte has no old token."""
        pieces = []
        position = 0
        while position < len(data):
            for length in range(min(self._longest, len(data) - position), 0, -1):
                token_id = self._by_bytes.get(data[position : position + length])
                if token_id is not None:
                    pieces.append(token_id)
                    position += length
                    break
            else:
                return None
        return pieces

    def split_many(self, items: Sequence[bytes]) -> list[list[int] | None]:
        """Old-token pieces of each byte string (None when it cannot be spelled with old tokens)."""
        texts: list[str] = []
        where: list[int] = []
        for i, data in enumerate(items):
            try:
                texts.append(data.decode("utf-8"))
                where.append(i)
            except UnicodeDecodeError:
                pass
        encoded = dict(zip(where, self.old.encode_batch(texts), strict=True)) if texts else {}
        result: list[list[int] | None] = []
        for i, data in enumerate(items):
            if not data:
                result.append(None)
                continue
            ids = encoded.get(i)
            result.append(list(ids) if ids and self._usable(ids, data) else self.greedy(data))
        return result
