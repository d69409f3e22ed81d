"""A tiny hand-checkable Tokenizer for the vocabulary tests: greedy longest match over exact bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tokensmith.tokenizers.base import SpecialToken, Tokenizer, TokenizerInfo


class ToyTokenizer(Tokenizer):
    """Vocabulary = the given byte strings; ``encode`` takes the longest token matching at each position.

    ``blocked`` ids are never produced (an unreachable token by construction); ``fallback`` ids are
    byte-fallback tokens ``<0xNN>`` used for bytes no token covers.
    """

    def __init__(
        self,
        tokens: Sequence[bytes],
        *,
        specials: dict[int, str] | None = None,
        fallback: Iterable[int] = (),
        blocked: Iterable[int] = (),
        merges: list[tuple[bytes, bytes]] | None = None,
        model: str = "bpe",
        name: str = "toy",
    ) -> None:
        self._tokens = list(tokens)
        self.vocab_size = len(self._tokens)
        self.special_tokens = tuple(SpecialToken(i, text, "other") for i, text in sorted((specials or {}).items()))
        self._fallback = frozenset(fallback)
        self._merges = merges
        self.info = TokenizerInfo(name=name, format="toy", model=model, byte_level=True, lossless=True)
        skip = set(blocked) | set(specials or {}) | self._fallback
        self._usable = sorted(
            ((data, i) for i, data in enumerate(self._tokens) if i not in skip and data), key=lambda x: -len(x[0])
        )
        self._byte_ids = {self._tokens[i][0]: i for i in self._fallback}

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self._encode(t.encode("utf-8")) for t in texts]

    def _encode(self, data: bytes) -> list[int]:
        ids, position = [], 0
        while position < len(data):
            for token, token_id in self._usable:
                if data.startswith(token, position):
                    ids.append(token_id)
                    position += len(token)
                    break
            else:
                if data[position] in self._byte_ids:  # bytes no token covers are dropped
                    ids.append(self._byte_ids[data[position]])
                position += 1
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        return b"".join(self._tokens[i] for i in ids).decode("utf-8", "replace")

    def _raw_token_bytes(self, token_id: int) -> bytes:
        return self._tokens[token_id]

    @property
    def byte_fallback_ids(self) -> frozenset[int]:
        return self._fallback

    @property
    def merges(self):
        return self._merges
