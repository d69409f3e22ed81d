"""The tokenizer's own pre-tokenization, rebuilt from a loaded tokenizer.

Merges were learned inside pre-tokens, so the replay must cut the category samples exactly as the
tokenizer's trainer did. A :class:`TokenizerSplitter` is derived from the loaded object:

* ``tiktoken`` (tiktoken ranks, Tekken, Qwen): the Encoding's regex (``findall``), after the tokenizer's
  Unicode normalisation (Qwen: NFC);
* ``hf`` (tokenizer.json, transformers directories, GPT-2): the file's normalizer and
  ``pre_tokenizer.pre_tokenize_str`` through the ``tokenizers`` library;
* ``gguf``: the loader's ``tokenizer.ggml.pre`` registry rebuilt as a ``tokenizers`` pre-tokenizer;
* ``sentencepiece`` (and SentencePiece-style HF/GGUF vocabularies without a pre-tokenizer): an
  approximation of SentencePiece's training split - a piece starts at each space (``▁``), and digit
  runs are cut from letters. SentencePiece also splits by Unicode script; that is not reproduced.

Each splitter says in which units merges start: ``byte`` (byte-level BPE: every UTF-8 byte is a
symbol) or ``char`` (SentencePiece-style BPE: every character is a symbol). ``split`` returns the
pre-tokens as real text (byte-level ``Ġ`` and SentencePiece ``▁`` markers resolved), so merges given
as byte pairs (``Tokenizer.merges``) apply to their UTF-8 directly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex

from tokensmith.errors import TokenizerFormatError
from tokensmith.registry import Registry
from tokensmith.tokenizers.base import Tokenizer
from tokensmith.tokenizers.bytemaps import SENTENCEPIECE_SPACE, byte_level_to_bytes

#: SentencePiece-style training split (approximation): optional leading space + non-space run without
#: digits, digit runs, and leftover whitespace.
SENTENCEPIECE_APPROX_PATTERN = r" ?[^\s\p{N}]+|\p{N}+|\s+"


@dataclass(frozen=True)
class TokenizerSplitter:
    """Cuts text into the pre-tokens the tokenizer's trainer saw.

    Args:
        kind: registry name of the rule that built it (``tiktoken``, ``hf``, ``gguf``, ``sentencepiece``).
        units: ``"byte"`` or ``"char"``: the symbols merges start from.
        description: how the pre-tokenization was reconstructed (recorded in results.json).
        exact: False when the split is an approximation of the trainer's.
        split_function: ``text -> pre-tokens`` (real text, concatenation not necessarily the input).
    """

    kind: str
    units: str
    description: str
    exact: bool
    split_function: Callable[[str], list[str]]

    #: No compiled matcher (see :attr:`tokensmith.train.Pretokenizer.compiled`): counting calls :attr:`splitter`.
    compiled = None

    def split(self, text: str) -> list[str]:
        """The pre-tokens of ``text`` (same interface as :class:`tokensmith.train.Pretokenizer`)."""
        return self.split_function(text)

    @property
    def splitter(self) -> Callable[[str], list[str]]:
        """The function :meth:`split` calls (the counting engine calls it directly, as with a Pretokenizer)."""
        return self.split_function


@dataclass(frozen=True)
class SplitterRule:
    """Which tokenizers a rule handles, and how to build their splitter."""

    accepts: Callable[[Tokenizer], bool]
    build: Callable[[Tokenizer], TokenizerSplitter]


SPLITTER_RULES: Registry[SplitterRule] = Registry("pre-tokenization reconstruction rule")


class _RegexSplit:
    """``findall`` with an optional Unicode normalisation first (picklable, unlike a closure)."""

    def __init__(self, pattern: str, normalization: str | None = None) -> None:
        self.pattern = pattern
        self.normalization = normalization
        self._compiled = regex.compile(pattern)

    def __call__(self, text: str) -> list[str]:
        if self.normalization and not unicodedata.is_normalized(self.normalization, text):
            text = unicodedata.normalize(self.normalization, text)
        return self._compiled.findall(text)


class _HFSplit:
    """An HF normalizer + pre-tokenizer, pieces mapped back to real text."""

    def __init__(self, normalizer: Any, pre_tokenizer: Any, surface: str) -> None:
        self.normalizer = normalizer
        self.pre_tokenizer = pre_tokenizer
        self.surface = surface

    def __call__(self, text: str) -> list[str]:
        if self.normalizer is not None:
            text = self.normalizer.normalize_str(text)
        pieces = [piece for piece, _ in self.pre_tokenizer.pre_tokenize_str(text)]
        if self.surface == "byte-level":
            # A piece is a run of whole characters, so its bytes always decode.
            return [_byte_level_text(piece) for piece in pieces]
        return [piece.replace(SENTENCEPIECE_SPACE, " ") for piece in pieces]


def _byte_level_text(piece: str) -> str:
    try:
        return byte_level_to_bytes(piece).decode("utf-8")
    except (KeyError, UnicodeDecodeError):  # not byte-level mapped (e.g. a Split before ByteLevel only)
        return piece


class _SentencePieceSplit:
    """SentencePiece-style pieces: optional dummy prefix, then a new piece at each space."""

    def __init__(self, normalizer: Any = None, add_dummy_prefix: bool = False) -> None:
        self.normalizer = normalizer
        self.add_dummy_prefix = add_dummy_prefix
        self._compiled = regex.compile(SENTENCEPIECE_APPROX_PATTERN)

    def __call__(self, text: str) -> list[str]:
        if self.normalizer is not None:
            text = self.normalizer.normalize_str(text).replace(SENTENCEPIECE_SPACE, " ")
        elif self.add_dummy_prefix and text and not text.startswith(" "):
            text = " " + text
        return self._compiled.findall(text)


def _tiktoken_splitter(tokenizer: Tokenizer) -> TokenizerSplitter:
    pattern = tokenizer.info.extra["pattern"]
    normalization = tokenizer.info.extra.get("normalization")
    return TokenizerSplitter(
        "tiktoken", "byte", f"tiktoken regex{' after ' + normalization if normalization else ''}", True,
        _RegexSplit(pattern, normalization),
    )


def _hf_splitter(tokenizer: Tokenizer) -> TokenizerSplitter:
    backend = tokenizer.backend_tokenizer
    surface = tokenizer.info.extra.get("surface", "plain")
    if backend.pre_tokenizer is None:
        if surface == "byte-level":
            raise TokenizerFormatError(
                f"{tokenizer.name}: a byte-level tokenizer.json without a pre_tokenizer",
                "the pre-tokenization cannot be reconstructed; pass a tokenizer.json with its pre_tokenizer",
            )
        return TokenizerSplitter(
            "sentencepiece", "char", "SentencePiece-style split after the file's normalizer (approximation)",
            False, _SentencePieceSplit(normalizer=backend.normalizer),
        )
    units = "byte" if surface == "byte-level" else "char"
    return TokenizerSplitter(
        "hf", units, "tokenizer.json normalizer + pre_tokenizer (tokenizers.pre_tokenize_str)", True,
        _HFSplit(backend.normalizer, backend.pre_tokenizer, surface),
    )


def _gguf_splitter(tokenizer: Tokenizer) -> TokenizerSplitter:
    import tokenizers

    from tokensmith.tokenizers.gguf_file import PRE_TOKENIZERS

    if tokenizer.model_kind != "gpt2":
        return TokenizerSplitter(
            "sentencepiece", "char", "SentencePiece-style split of a GGUF llama vocabulary (approximation)",
            False, _SentencePieceSplit(add_dummy_prefix=bool(getattr(tokenizer, "add_space_prefix", True))),
        )
    pre = PRE_TOKENIZERS.get(tokenizer.pre_name).build(tokenizers)
    return TokenizerSplitter(
        "gguf", "byte", f"GGUF tokenizer.ggml.pre={tokenizer.pre_name!r} via the loader's registry", True,
        _HFSplit(None, pre, "byte-level"),
    )


def _sentencepiece_splitter(tokenizer: Tokenizer) -> TokenizerSplitter:
    return TokenizerSplitter(
        "sentencepiece", "char", "SentencePiece-style split: a piece per space, digits apart (approximation)",
        False, _SentencePieceSplit(add_dummy_prefix=bool(tokenizer.info.extra.get("add_dummy_prefix", True))),
    )


def _format_is(*formats: str) -> Callable[[Tokenizer], bool]:
    return lambda tokenizer: tokenizer.info.format in formats


SPLITTER_RULES.add("tiktoken", SplitterRule(lambda t: "pattern" in t.info.extra, _tiktoken_splitter))
SPLITTER_RULES.add("gguf", SplitterRule(_format_is("gguf"), _gguf_splitter))
SPLITTER_RULES.add("hf", SplitterRule(lambda t: hasattr(t, "backend_tokenizer"), _hf_splitter))
SPLITTER_RULES.add("sentencepiece", SplitterRule(_format_is("sentencepiece"), _sentencepiece_splitter))


def tokenizer_splitter(tokenizer: Tokenizer) -> TokenizerSplitter:
    """The pre-tokenization of a loaded tokenizer (first rule of :data:`SPLITTER_RULES` that accepts it).

    Raises:
        TokenizerFormatError: no rule knows how this tokenizer pre-tokenizes.
    """
    for _, rule in SPLITTER_RULES.items():
        if rule.accepts(tokenizer):
            return rule.build(tokenizer)
    raise TokenizerFormatError(
        f"{tokenizer.name}: cannot reconstruct the pre-tokenization of a {tokenizer.info.format} tokenizer",
        f"supported: {', '.join(SPLITTER_RULES.names())}",
    )
