"""Which rows of the new vocabulary can be copied from the old model, and from where.

Ordinary tokens are matched on their canonical bytes (``token_bytes``: ``Ġ``, ``▁``, ``<0xNN>`` and ``##``
resolved), so ``Ġhello`` in a GPT-2 style vocabulary meets ``▁hello`` in a SentencePiece one. Special
tokens are matched first by text (chat markers such as ``<|im_start|>``), then by role (bos, eos, pad,
unk...), the most important role applied last so that it wins when one new token plays several roles.

When several ids share one byte string (SentencePiece's ``▁`` and ``<0x20>``), the k-th new id of the
group takes the k-th old id (byte-fallback ids last), so an identity transplant maps every id to itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tokensmith.tokenizers.base import Tokenizer

#: Roles matched between special tokens, least important first: a later role overrides an earlier one.
ROLE_ORDER = ("pad", "mask", "sep", "cls", "unk", "eos", "bos")

#: How a new id got its row (values of :attr:`TokenMapping.match_kind`).
UNMATCHED, BYTES, SPECIAL_TEXT, SPECIAL_ROLE = 0, 1, 2, 3
MATCH_KIND_NAMES = {UNMATCHED: "unmatched", BYTES: "bytes", SPECIAL_TEXT: "special-text", SPECIAL_ROLE: "special-role"}


@dataclass(frozen=True)
class TokenMapping:
    """New id -> old id whose embedding rows are copied unchanged (-1: the row must be initialised).

    Attributes:
        source_ids: int64 array of length ``new_vocab_size``.
        match_kind: int8 array, one of ``UNMATCHED``, ``BYTES``, ``SPECIAL_TEXT``, ``SPECIAL_ROLE``.
        special_new_ids: ids of the new tokenizer's special tokens (never approximated from their text).
        old_rows: rows of the source embedding matrices (old ids at or beyond it are never sources).
        roles: ``role -> (new id, old id)`` for every role matched.
    """

    source_ids: np.ndarray
    match_kind: np.ndarray
    special_new_ids: frozenset[int]
    old_rows: int
    roles: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def new_vocab_size(self) -> int:
        return int(self.source_ids.shape[0])

    @property
    def copied_ids(self) -> np.ndarray:
        """New ids whose rows are copied, ascending."""
        return np.flatnonzero(self.source_ids >= 0)

    @property
    def target_ids(self) -> np.ndarray:
        """New ids whose rows an init method must produce, ascending."""
        return np.flatnonzero(self.source_ids < 0)

    def counts(self) -> dict[str, int]:
        """How many new ids were matched each way (``bytes``, ``special-text``, ``special-role``, ``unmatched``)."""
        kinds, numbers = np.unique(self.match_kind, return_counts=True)
        found = {MATCH_KIND_NAMES[int(k)]: int(n) for k, n in zip(kinds, numbers, strict=True)}
        return {name: found.get(name, 0) for name in MATCH_KIND_NAMES.values()}

    @property
    def is_identity(self) -> bool:
        """Every new id copies the old row of the same id."""
        return bool(np.array_equal(self.source_ids, np.arange(self.new_vocab_size)))


def _byte_groups(tokenizer: Tokenizer, limit: int) -> dict[bytes, list[int]]:
    """Canonical bytes -> ordinary ids below ``limit`` spelling them (byte-fallback ids last, then by id)."""
    specials = tokenizer.special_by_id
    fallback = tokenizer.byte_fallback_ids
    groups: dict[bytes, list[int]] = {}
    for token_id in range(min(tokenizer.vocab_size, limit)):
        if token_id in specials:
            continue
        data = tokenizer.token_bytes(token_id)
        if data:  # an empty form is a hole in the id space
            groups.setdefault(data, []).append(token_id)
    for ids in groups.values():
        ids.sort(key=lambda i: (i in fallback, i))
    return groups


def build_mapping(old: Tokenizer, new: Tokenizer, *, old_rows: int | None = None) -> TokenMapping:
    """Match every id of ``new`` to an id of ``old`` whose rows can be copied.

    Args:
        old: the tokenizer the model was trained with.
        new: the tokenizer the model moves to.
        old_rows: rows of the model's embedding matrices (default ``old.vocab_size``); tokenizer ids at or
            beyond it have no row and are never copied.
    """
    old_rows = old.vocab_size if old_rows is None else old_rows
    source = np.full(new.vocab_size, -1, dtype=np.int64)
    kind = np.zeros(new.vocab_size, dtype=np.int8)

    old_groups = _byte_groups(old, old_rows)
    for data, new_ids in _byte_groups(new, new.vocab_size).items():
        old_ids = old_groups.get(data)
        if not old_ids:
            continue
        for rank, new_id in enumerate(new_ids):
            source[new_id] = old_ids[min(rank, len(old_ids) - 1)]
            kind[new_id] = BYTES

    old_special_by_text = {s.text: s.id for s in old.special_tokens if s.id < old_rows}
    for special in new.special_tokens:
        old_id = old_special_by_text.get(special.text)
        if old_id is not None:
            source[special.id] = old_id
            kind[special.id] = SPECIAL_TEXT

    roles: dict[str, tuple[int, int]] = {}
    for role in ROLE_ORDER:
        new_id, old_id = new.special_id(role), old.special_id(role)
        if new_id is None or old_id is None or old_id >= old_rows or new_id >= new.vocab_size:
            continue
        roles[role] = (new_id, old_id)
        if kind[new_id] != SPECIAL_TEXT:  # an exact text match is the most faithful source
            source[new_id] = old_id
            kind[new_id] = SPECIAL_ROLE

    special_ids = frozenset(s.id for s in new.special_tokens)
    return TokenMapping(source, kind, special_ids, old_rows, roles)
