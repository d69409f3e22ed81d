"""The vocabulary as a byte trie: which tokens start with a byte string, and how much mass they carry.

Token byte strings are sorted once. The tokens that start with a prefix ``p`` then form one contiguous
range of that order, found by two bisections, so the next-token probability mass of "every token that
starts with ``p``" is a sum over a slice, and the mass per next byte is one ``np.add.reduceat`` over it.
Nodes (prefixes) are built on first use and cached: a text only ever visits a few of them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tokensmith.errors import InputError

END_OF_TEXT = 256  # index of the end-of-text outcome in a next-byte distribution
OUTCOMES = 257  # 256 byte values plus end of text


@dataclass(frozen=True)
class TrieNode:
    """The tokens whose bytes start with ``prefix``: sorted positions ``[start, stop)``.

    Positions ``[start, exact_stop)`` hold the tokens equal to ``prefix``; the rest extend it. ``child_bytes``
    are the distinct next bytes and ``child_offsets`` where each one's run begins, relative to ``exact_stop``.
    """

    prefix: bytes
    start: int
    exact_stop: int
    stop: int
    child_bytes: np.ndarray
    child_offsets: np.ndarray

    @property
    def has_extensions(self) -> bool:
        return self.stop > self.exact_stop


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string that starts with ``prefix`` (None: no bound)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


class ByteVocabulary:
    """Token ids with their bytes, sorted for prefix queries, plus the ids that play special parts.

    Args:
        token_bytes: bytes of every ordinary token, indexed by id (``None`` or ``b""`` for ids that never
            stand for text: special tokens, unused slots).
        start_id: the token every sequence is conditioned on (bos, else eos), never scored.
        end_ids: ids whose probability is the probability that the text ends here.
        text_prefix: bytes a tokenizer puts before every text (SentencePiece's dummy-prefix space); they are
            conditioned on, never scored.
        encode: canonical token ids of stream bytes (text prefix included), for canonical-only beams and
            prompt shortcuts.
    """

    def __init__(
        self,
        token_bytes: Sequence[bytes | None],
        *,
        start_id: int,
        end_ids: Sequence[int] = (),
        text_prefix: bytes = b"",
        encode: Callable[[bytes], list[int]] | None = None,
        name: str = "vocabulary",
    ) -> None:
        ordinary = [(data, token_id) for token_id, data in enumerate(token_bytes) if data]
        ordinary.sort()
        self.name = name
        self.size = len(token_bytes)
        self.keys: list[bytes] = [data for data, _ in ordinary]
        self.sorted_ids = np.array([token_id for _, token_id in ordinary], dtype=np.int64)
        self.token_bytes: list[bytes] = [data or b"" for data in token_bytes]
        self.start_id = int(start_id)
        self.end_ids = tuple(int(i) for i in end_ids)
        self.text_prefix = bytes(text_prefix)
        self.encode = encode
        self.producible = frozenset(b"".join(self.keys))  # bytes some token contains
        self._nodes: dict[bytes, TrieNode | None] = {}
        self.root = self.node(b"")
        if self.root is None:
            raise InputError(f"{name} has no token that stands for text", "use the model's own tokenizer")

    def node(self, prefix: bytes) -> TrieNode | None:
        """The trie node of ``prefix``, or None when no token starts with it."""
        cached = self._nodes.get(prefix, False)
        if cached is not False:
            return cached
        keys = self.keys
        start = bisect_left(keys, prefix)
        bound = _successor(prefix) if prefix else None
        stop = len(keys) if bound is None else bisect_left(keys, bound, start)
        if start == stop:
            self._nodes[prefix] = None
            return None
        exact_stop = bisect_right(keys, prefix, start, stop)
        depth = len(prefix)
        child_bytes: list[int] = []
        child_offsets: list[int] = []
        position = exact_stop
        while position < stop:
            byte = keys[position][depth]
            child_bytes.append(byte)
            child_offsets.append(position - exact_stop)
            position = stop if byte == 255 else bisect_left(keys, prefix + bytes([byte + 1]), position, stop)
        node = TrieNode(
            prefix,
            start,
            exact_stop,
            stop,
            np.array(child_bytes, dtype=np.int64),
            np.array(child_offsets, dtype=np.int64),
        )
        self._nodes[prefix] = node
        return node

    def exact_ids(self, node: TrieNode) -> np.ndarray:
        """Ids of the tokens whose bytes equal the node's prefix."""
        return self.sorted_ids[node.start : node.exact_stop]

    def ordinary_mask(self) -> np.ndarray:
        """True for ids that stand for text or end it: the outcomes a next-token distribution keeps."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.sorted_ids] = True
        mask[list(self.end_ids)] = True
        return mask

    def is_canonical(self, tokens: Sequence[int], window: int) -> bool:
        """Whether re-encoding the text of the last ``window`` tokens gives back those tokens.

        A local test: the tokens before the window are taken as given (with a text prefix, the whole
        sequence is re-encoded, since the prefix only appears at the start). The window stretches back to
        a UTF-8 character boundary; a sequence whose text ends inside a character cannot be re-encoded as
        text and is kept.
        """
        if self.encode is None:
            raise InputError(f"{self.name} has no encoder, so canonical tokenizations cannot be checked")
        ordinary = [t for t in tokens if self.token_bytes[t]]
        take = len(ordinary) if self.text_prefix else min(window, len(ordinary))
        while True:
            tail = ordinary[len(ordinary) - take :]
            data = b"".join(self.token_bytes[t] for t in tail)
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as error:
                if error.end >= len(data) and error.reason == "unexpected end of data":
                    return True
                if take < len(ordinary):
                    take += 1
                    continue
                return True
            return self.encode(data) == tail


def vocabulary_from_tokenizer(tokenizer) -> ByteVocabulary:
    """The byte trie of a tokensmith :class:`~tokensmith.tokenizers.base.Tokenizer`.

    Raises:
        InputError: the tokenizer is not byte-level (some text has no tokens: WordPiece, Unigram without
            byte fallback), or it cannot start a text (no bos or eos).
    """
    from tokensmith.transplant.bpb import document_start_id

    if not tokenizer.info.byte_level:
        raise InputError(
            f"tokenizer {tokenizer.name!r} ({tokenizer.info.model}) is not byte-level: some bytes have no token, "
            "so next-byte probabilities are not defined",
            "use a model whose tokenizer is byte-level BPE or has byte fallback",
        )
    start_id = document_start_id(tokenizer)
    specials = tokenizer.special_by_id
    token_bytes = [None if i in specials else data for i, data in enumerate(tokenizer.all_token_bytes)]
    end_ids = [s.id for s in tokenizer.special_tokens if s.role == "eos"]
    # SentencePiece-style tokenizers put a space before every text; find it by encoding one letter.
    probe = b"".join(tokenizer.token_bytes(i) for i in tokenizer.encode("a"))
    text_prefix = probe[:-1] if probe.endswith(b"a") else b""

    def encode(data: bytes) -> list[int]:
        """Canonical tokens of stream bytes (the text prefix, where there is one, comes from the tokenizer)."""
        if text_prefix and data.startswith(text_prefix):
            data = data[len(text_prefix) :]
        return tokenizer.encode(data.decode("utf-8"))

    return ByteVocabulary(
        token_bytes, start_id=start_id, end_ids=end_ids, text_prefix=text_prefix, encode=encode, name=tokenizer.name
    )
