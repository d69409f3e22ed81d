"""The one Tokenizer protocol every format loader implements.

A loader wraps the format's reference library (HF ``tokenizers``, ``tiktoken``, ``sentencepiece``...)
and adds what tokensmith needs on top of it: the exact bytes each token stands for, the special tokens
with their roles, the merges where the model has them, and provenance (name, sha256 of the sources).

Encoding conventions, the same for every format:

* ``encode`` adds no special tokens (no BOS/EOS, no post-processor template) - it measures text, not
  prompts. Text that spells a special token (``"<|endoftext|>"``) is read as each format's library reads
  it: as that token by HF ``tokenizers`` (tokenizer.json, transformers folders) and GGUF byte-level
  vocabularies, as ordinary text by tiktoken, Tekken, SentencePiece and GGUF ``llama`` vocabularies;
* ``token_bytes(id)`` gives the UTF-8 bytes the token contributes to decoded text, with byte-level
  markers resolved (``Ġ`` -> space, ``▁`` -> space, ``<0x0A>`` -> newline, ``##`` dropped).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

#: Roles a special token can play; ``chat`` covers turn markers such as ``<|im_start|>``.
SPECIAL_ROLES = ("bos", "eos", "pad", "unk", "mask", "sep", "cls", "chat", "other")


@dataclass(frozen=True)
class SpecialToken:
    """A control token: metrics leave it out of vocabulary statistics (see the module docstring for when
    ``encode`` produces one from text that spells it)."""

    id: int
    text: str
    role: str = "other"


@dataclass(frozen=True)
class TokenizerInfo:
    """Static facts about a loaded tokenizer, recorded in results.json provenance."""

    name: str
    format: str  # "hf-json", "transformers-dir", "tiktoken", "sentencepiece", "gguf", "tekken"
    model: str  # "bpe", "unigram", "wordpiece", "wordlevel"
    byte_level: bool  # every UTF-8 string is encodable without UNK (byte-level BPE or byte fallback)
    lossless: bool  # decode(encode(x)) == x for every string x
    sources: tuple[str, ...] = ()
    sha256: str = ""
    backend: str = ""  # library that actually encodes ("tiktoken", "tokenizers", "fastokens"...)
    extra: dict = field(default_factory=dict)


class Tokenizer(ABC):
    """Protocol + shared behaviour of every loaded tokenizer.

    Subclasses implement :meth:`encode_batch`, :meth:`decode`, :meth:`_raw_token_bytes` and fill
    :attr:`info`, :attr:`vocab_size` and :attr:`special_tokens` in ``__init__``.
    """

    info: TokenizerInfo
    vocab_size: int
    special_tokens: tuple[SpecialToken, ...] = ()

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def sha256(self) -> str:
        return self.info.sha256

    # -- encoding -----------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, without special tokens added."""
        return self.encode_batch([text])[0]

    @abstractmethod
    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text; implementations use the backend's parallel batch call (after
        :func:`text_list`: any iterable of str is taken, one string in place of the batch is refused)."""

    def encode_flat(self, texts: Sequence[str]) -> np.ndarray:
        """The ids of all ``texts``, concatenated in one integer array (for counting, not for decoding).

        Backends with a flat batch call override this to skip per-token Python objects.
        """
        return flat_of_lists(self.encode_batch(texts))

    def encode_ragged(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, offsets)``: the ids of all ``texts`` back to back (``int64``) and where each text's start,
        and the end (``int64``, ``len(texts) + 1``): many short texts (word types) without a list per text.

        Backends with a flat batch call override this.
        """
        return ragged_of_lists(self.encode_batch(texts))

    def expect_text(self, total_bytes: int) -> None:
        """A hint that about ``total_bytes`` of text will go through :meth:`encode_flat`: a backend may
        start building a faster encoder that pays for its start-up cost only on that much text."""
        return  # most backends have nothing to prepare

    @abstractmethod
    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids`` as the reference library decodes it (after :func:`id_list`: an id outside the
        vocabulary is an ``IndexError``, as in :meth:`token_bytes`, whatever the library does with it)."""

    # -- vocabulary ---------------------------------------------------------------------------
    @abstractmethod
    def _raw_token_bytes(self, token_id: int) -> bytes:
        """Bytes of one ordinary (non-special) token."""

    def token_bytes(self, token_id: int) -> bytes:
        """The exact UTF-8 bytes token ``token_id`` stands for in decoded text.

        Special tokens give the UTF-8 of their text. Raises ``IndexError`` outside the vocabulary.
        """
        token_id = _as_id(token_id)
        if not 0 <= token_id < self.vocab_size:
            raise IndexError(f"token id {token_id} outside vocabulary of size {self.vocab_size}")
        special = self.special_by_id.get(token_id)
        if special is not None:
            return special.text.encode("utf-8")
        return self._raw_token_bytes(token_id)

    @cached_property
    def all_token_bytes(self) -> list[bytes]:
        """``token_bytes`` of every id, computed once (used by vocabulary metrics)."""
        return [self.token_bytes(i) for i in range(self.vocab_size)]

    @property
    def exact_spans(self) -> bool:
        """Whether the ``token_bytes`` of ``encode(x)`` always concatenate to exactly ``x``'s UTF-8.

        True only where the format guarantees it (no normalizer, no added prefix space, no added token
        that swallows whitespace); metrics then know, for instance, that a text which is no token's
        text cannot be encoded as one token.
        """
        return False

    @cached_property
    def special_by_id(self) -> dict[int, SpecialToken]:
        return {s.id: s for s in self.special_tokens}

    def special_id(self, role: str) -> int | None:
        """Id of the first special token with ``role``, or None."""
        return next((s.id for s in self.special_tokens if s.role == role), None)

    @property
    def unk_id(self) -> int | None:
        return self.special_id("unk")

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        """Ids of ``<0xNN>`` byte-fallback tokens (SentencePiece/Llama style); empty otherwise."""
        return frozenset()

    @property
    def merges(self) -> list[tuple[bytes, bytes]] | None:
        """BPE merges in rank order as byte pairs, or None for models without merges."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} vocab={self.vocab_size} backend={self.info.backend}>"


#: Largest token id a loader accepts. Tables indexed by id (token bytes, counts) are allocated up to the largest
#: id, so a corrupt id such as 10**9 would take gigabytes (or overflow tiktoken's 32-bit ranks) before any error;
#: the largest real vocabularies hold ~262k tokens.
MAX_TOKEN_ID = (1 << 24) - 1


def check_token_ids(ids: Iterable[int], source: str) -> None:
    """Refuse a vocabulary with no ids, or with an id below 0 or above :data:`MAX_TOKEN_ID`."""
    from tokensmith.errors import TokenizerFormatError

    ids = list(ids)
    if not ids:
        raise TokenizerFormatError(f"{source} holds no tokens", "the vocabulary is empty: check the file")
    lowest, highest = min(ids), max(ids)
    if lowest < 0 or highest > MAX_TOKEN_ID:
        wrong = lowest if lowest < 0 else highest
        raise TokenizerFormatError(
            f"{source}: token id {wrong} is outside 0..{MAX_TOKEN_ID}", "the file is corrupt, or not a vocabulary"
        )


def sha256_of_files(paths: Iterable[str | Path]) -> str:
    """One sha256 over the bytes of every file, in the order given (streamed, 1 MiB at a time)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def text_list(texts: Iterable[str]) -> list[str]:
    """``texts`` as a list, checked: every backend then reads a generator (read once) alike, and a string or
    bytes given for the batch, or an item that is not a str, is one :class:`~tokensmith.errors.InputError`
    instead of each library's own TypeError, or of a batch of single characters."""
    from tokensmith.errors import InputError

    if isinstance(texts, str | bytes | bytearray):
        raise InputError(f"encode_batch takes a list of texts, not one {type(texts).__name__}",
                         "pass [text] (or call encode(text) for one text)")
    texts = list(texts)
    if not all(isinstance(text, str) for text in texts):
        wrong = next(text for text in texts if not isinstance(text, str))
        raise InputError(f"a text to encode is a {type(wrong).__name__}, not a str",
                         "decode bytes first (bytes.decode('utf-8')); pass text as str")
    return texts


#: A UTF-16 surrogate code point standing alone in a str (from bytes decoded with errors="surrogateescape").
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@contextlib.contextmanager
def lone_surrogates_named(texts: Sequence[str]) -> Iterator[None]:
    """Around a backend's encode of ``texts``: when it fails as libraries with no UTF-8 for a lone surrogate
    do (their own TypeError or UnicodeEncodeError), raise the :class:`~tokensmith.errors.InputError` naming
    the first one instead; any other failure goes on as it was (tiktoken alone repairs such text, as U+FFFD)."""
    from tokensmith.errors import lone_surrogate_error

    try:
        yield
    except (TypeError, UnicodeEncodeError):
        for text in texts:
            found = _LONE_SURROGATE.search(text)
            if found:
                raise lone_surrogate_error(text, found.start()) from None
        raise


def id_list(ids: Iterable[int], vocab_size: int) -> list[int]:
    """``ids`` as a list of Python ints, checked: the libraries behind :meth:`Tokenizer.decode` answered an id
    outside the vocabulary each their own way (HF with an empty string, tiktoken with a KeyError, a negative
    one with an OverflowError) and read a string of digits as ids; here it is an ``IndexError`` (as
    :meth:`Tokenizer.token_bytes` raises) or an :class:`~tokensmith.errors.InputError`."""
    from tokensmith.errors import InputError

    if isinstance(ids, str | bytes | bytearray):
        raise InputError(f"decode takes token ids, not a {type(ids).__name__}", "pass a list of ints (from encode)")
    ids = [_as_id(token_id) for token_id in ids]
    if ids and not (min(ids) >= 0 and max(ids) < vocab_size):
        wrong = min(ids) if min(ids) < 0 else max(ids)
        raise IndexError(f"token id {wrong} outside vocabulary of size {vocab_size}")
    return ids


def _as_id(token_id: object) -> int:
    """A token id as a Python int (numpy integers too); a str, float or None is an InputError."""
    try:
        return operator.index(token_id)
    except TypeError:
        from tokensmith.errors import InputError

        raise InputError(f"a token id is {token_id!r}, a {type(token_id).__name__}, not an integer",
                         "pass token ids as ints (from encode)") from None


def flat_of_lists(lists: Sequence[Sequence[int]]) -> np.ndarray:
    """Id lists back to back in one ``int64`` array."""
    return np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=sum(map(len, lists)))


def ragged_of_lists(lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, offsets)`` of per-text id lists (see :meth:`Tokenizer.encode_ragged`)."""
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)), out=offsets[1:])
    return np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=int(offsets[-1])), offsets


def lists_of_ragged(ids: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    """Per-text id lists of ``(ids, offsets)``: one ``tolist`` and list slices, not a numpy slice per text."""
    flat, bounds = ids.tolist(), offsets.tolist()
    return [flat[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def file_display_name(path: Path) -> str:
    """A tokenizer file's default name: its name before the first dot, or its folder's name when that is the
    generic ``tokenizer`` (``out/tokenizer.json`` and ``out/tokenizer.tiktoken`` are both ``out``)."""
    stem = path.name.split(".")[0]
    return path.parent.name if stem == "tokenizer" and path.parent.name else stem
