"""SentencePiece ``.model`` files, encoded through the ``sentencepiece`` library.

The library answers encode/decode; the few facts it does not expose (model type, byte fallback, the
normaliser and its whitespace options, user-defined pieces) are read from the serialised ``ModelProto``
with a minimal protobuf reader, so the ``protobuf`` package is not needed.

Round trips, precisely. With ``escape_whitespaces`` (the default) SentencePiece writes spaces as ``▁``
(U+2581) and decodes every ``▁`` back as a space, so a ``▁`` in the input comes back as a space: no
SentencePiece model is lossless on every string, and :attr:`TokenizerInfo.lossless` is False for all of
them. ``info.extra["lossless_without_u2581"]`` says whether ``decode(encode(x)) == x`` holds for every
``x`` free of U+2581: it needs byte fallback (no UNK), the identity normaliser and kept whitespace. The
dummy prefix does not break round trips: ``encode`` prepends ``▁`` and ``decode`` drops it again (but with
``treat_whitespace_as_suffix`` it is a ``▁`` appended, which ``decode`` keeps: ``"a"`` -> ``"a "``). It
shows in :meth:`token_bytes`, which gives the bytes a piece stands for (``▁`` -> space), so with a dummy
prefix the concatenated ``token_bytes`` of ``encode(x)`` are ``b" "`` + ``x``'s UTF-8 (for non-empty x).

Long documents (``--doc-per file``): the library's time grows faster than a text's length (5M characters
3.7 s, 20M 22.8 s; in 50k pieces 1.3-2.3 s for 5M) and it holds ~45 bytes per character. Where that gives
the same ids, a text longer than :data:`CUT_DOCUMENT_CHARS` is encoded in pieces cut at single spaces
between letters or digits (:attr:`SentencePieceSpec.cuts_exactly`): the space starts the next piece's
first token either way.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import regex

from tokensmith.errors import InputError, MissingDependencyError, TokenizerFormatError
from tokensmith.tokenizers.base import (
    TokenizerInfo,
    file_display_name,
    flat_of_lists,
    id_list,
    lone_surrogates_named,
    sha256_of_files,
    text_list,
)
from tokensmith.tokenizers.bytemaps import SENTENCEPIECE_SPACE, sentencepiece_to_bytes
from tokensmith.tokenizers.loaded import LoadedTokenizer, check_backend
from tokensmith.tokenizers.roles import assign_roles

# SentencePiece.Type values of sentencepiece_model.proto.
PIECE_NORMAL, PIECE_UNKNOWN, PIECE_CONTROL, PIECE_USER_DEFINED, PIECE_UNUSED, PIECE_BYTE = 1, 2, 3, 4, 5, 6
#: TrainerSpec.ModelType values.
MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}

#: Texts longer than this are encoded in pieces where that gives the same ids (module docstring).
CUT_DOCUMENT_CHARS = 50_000
#: Pieces of a long text per library call (~1.6M characters: ~70 MB of the library's memory).
PIECES_PER_CALL = 32
#: Where a long text may be cut: a single space between two letters or digits, which the normalisers
#: below keep as one space (a letter NFKC turns into a space and a mark, U+037A, is tested) and which no
#: piece spans unless it holds a "▁" after another character.
_CUT_SPACE = regex.compile(r"(?<=[\p{L}\p{N}]) (?=[\p{L}\p{N}])")
#: Normalisers that rewrite characters one at a time (NFKC and case folding; identity).
_LOCAL_NORMALIZERS = frozenset({"identity", "nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf"})


class _ProtoError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _ProtoError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _ProtoError("varint longer than 10 bytes")


def _proto_fields(data: bytes) -> Iterable[tuple[int, int, object]]:
    """``(field number, wire type, value)`` of each field of one message; values are int or bytes."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        field_number, wire_type = key >> 3, key & 7
        if field_number == 0:
            raise _ProtoError("field number 0")
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > end:
                raise _ProtoError("length-delimited field runs past the end")
            value, pos = data[pos : pos + length], pos + length
        elif wire_type == 5:
            if pos + 4 > end:
                raise _ProtoError("truncated 32-bit field")
            value, pos = data[pos : pos + 4], pos + 4
        elif wire_type == 1:
            if pos + 8 > end:
                raise _ProtoError("truncated 64-bit field")
            value, pos = data[pos : pos + 8], pos + 8
        else:
            raise _ProtoError(f"unsupported wire type {wire_type}")
        yield field_number, wire_type, value


_FLOAT = struct.Struct("<f")


def _parse_piece(data: bytes) -> tuple[str | None, float, int]:
    """``(piece, score, type)`` of one SentencePiece message; a fast path for the common layout."""
    # Pieces are small messages whose keys and lengths fit in one byte: decode those inline and fall
    # back to the general reader for anything else (hundreds of thousands of pieces per model).
    piece, score, piece_type = None, 0.0, PIECE_NORMAL
    pos, end = 0, len(data)
    while pos < end:
        key = data[pos]
        if key == 0x0A and pos + 1 < end and data[pos + 1] < 0x80:  # field 1, length < 128
            length = data[pos + 1]
            if pos + 2 + length > end:
                raise _ProtoError("piece text runs past the end")
            piece = data[pos + 2 : pos + 2 + length].decode("utf-8")
            pos += 2 + length
        elif key == 0x15 and pos + 5 <= end:  # field 2, fixed32
            score = _FLOAT.unpack_from(data, pos + 1)[0]
            pos += 5
        elif key == 0x18 and pos + 1 < end and data[pos + 1] < 0x80:  # field 3, small varint
            piece_type = data[pos + 1]
            pos += 2
        else:
            for field_number, wire_type, value in _proto_fields(data[pos:]):
                if field_number == 1 and wire_type == 2:
                    piece = value.decode("utf-8")
                elif field_number == 2 and wire_type == 5:
                    score = _FLOAT.unpack(value)[0]
                elif field_number == 3 and wire_type == 0:
                    piece_type = value
            break
    return piece, score, piece_type


@dataclass(frozen=True)
class SentencePieceSpec:
    """What a ``.model`` file says about its pieces, trainer and normaliser (proto defaults applied)."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    types: tuple[int, ...]
    model_type: str = "unigram"
    byte_fallback: bool = False
    normalizer: str = ""
    has_normalization_rules: bool = False  # a precompiled charsmap or rule TSV rewrites the text
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True
    treat_whitespace_as_suffix: bool = False

    @property
    def identity_normalizer(self) -> bool:
        return self.normalizer == "identity" or not self.has_normalization_rules

    @property
    def lossless_without_u2581(self) -> bool:
        """``decode(encode(x)) == x`` for every x without U+2581 (see the module docstring)."""
        # With whitespace as suffix the dummy "prefix" is a "▁" appended to the text, which decode keeps.
        suffix_space = self.treat_whitespace_as_suffix and self.add_dummy_prefix
        kept_text = self.identity_normalizer and not self.remove_extra_whitespaces and not suffix_space
        return self.byte_fallback and kept_text

    @cached_property
    def cuts_exactly(self) -> bool:
        """Whether ``encode(left + " " + right)`` is ``encode(left) + encode(right)`` when the space is between
        two letters or digits (without the dummy prefix the space stays, with ``right``, or with ``left``
        when whitespace is a suffix): the space becomes the "▁" that starts the next token (ends the last
        one), as the dummy prefix (suffix) does, if no piece holds a "▁" after (before) another character
        (J2's "▁of▁the" does) and a "▁" can never be merged into a run of unknown characters."""
        if not self.escape_whitespaces or not (self.add_dummy_prefix or not self.remove_extra_whitespaces):
            return False  # without a dummy prefix, the kept space of a piece would be removed
        if not (self.identity_normalizer or self.normalizer in _LOCAL_NORMALIZERS):
            return False
        known_space = self.byte_fallback or any(
            piece == SENTENCEPIECE_SPACE and kind in (PIECE_NORMAL, PIECE_USER_DEFINED)
            for piece, kind in zip(self.pieces, self.types, strict=True))
        space, other = SENTENCEPIECE_SPACE, f"[^{SENTENCEPIECE_SPACE}]"
        spanning = regex.compile(space + other if self.treat_whitespace_as_suffix else other + space)
        return known_space and not any(spanning.search(piece) for piece in self.pieces)


def parse_sentencepiece_model(data: bytes) -> SentencePieceSpec:
    """Read the pieces and the options tokensmith needs from a serialised ``ModelProto``.

    Raises ``ValueError`` when the bytes are not a ModelProto with at least one piece.
    """
    pieces: list[str] = []
    scores: list[float] = []
    types: list[int] = []
    options: dict[str, object] = {}
    for field_number, wire_type, value in _proto_fields(data):
        if field_number == 1 and wire_type == 2:  # repeated SentencePiece pieces
            piece, score, piece_type = _parse_piece(value)
            if piece is None:
                raise _ProtoError(f"piece {len(pieces)} has no text")
            pieces.append(piece)
            scores.append(score)
            types.append(piece_type)
        elif field_number == 2 and wire_type == 2:  # TrainerSpec
            for sub_number, sub_wire, sub_value in _proto_fields(value):
                if sub_number == 3 and sub_wire == 0:
                    options["model_type"] = MODEL_TYPES.get(sub_value, f"type-{sub_value}")
                elif sub_number == 24 and sub_wire == 0:
                    options["treat_whitespace_as_suffix"] = bool(sub_value)
                elif sub_number == 35 and sub_wire == 0:
                    options["byte_fallback"] = bool(sub_value)
        elif field_number == 3 and wire_type == 2:  # NormalizerSpec
            for sub_number, sub_wire, sub_value in _proto_fields(value):
                if sub_number == 1 and sub_wire == 2:
                    options["normalizer"] = sub_value.decode("utf-8")
                elif sub_number in (2, 6) and sub_wire == 2 and sub_value:
                    options["has_normalization_rules"] = True
                elif sub_number == 3 and sub_wire == 0:
                    options["add_dummy_prefix"] = bool(sub_value)
                elif sub_number == 4 and sub_wire == 0:
                    options["remove_extra_whitespaces"] = bool(sub_value)
                elif sub_number == 5 and sub_wire == 0:
                    options["escape_whitespaces"] = bool(sub_value)
    if not pieces:
        raise _ProtoError("no pieces")
    return SentencePieceSpec(tuple(pieces), tuple(scores), tuple(types), **options)


def merges_from_scores(
    pieces: Sequence[str], scores: Sequence[float], mergeable: Sequence[bool]
) -> list[tuple[str, str]]:
    """Merges of a score-ranked BPE vocabulary (SentencePiece BPE, llama.cpp's SPM), best first.

    SentencePiece BPE never stores merges: at encode time it joins the adjacent pair whose concatenation
    is a piece with the highest score. The equivalent merge list pairs every split ``(left, right)`` of
    each mergeable piece with both halves mergeable pieces, ranked by the merged piece's score (higher
    first), then by the ids of the merged piece, left and right (the order HF's converter uses).
    """
    piece_ids = {piece: i for i, piece in enumerate(pieces) if mergeable[i]}
    candidates = []
    for merged, merged_id in piece_ids.items():
        for cut in range(1, len(merged)):
            left_id = piece_ids.get(merged[:cut])
            right_id = piece_ids.get(merged[cut:])
            if left_id is not None and right_id is not None:
                candidates.append((-scores[merged_id], merged_id, left_id, right_id))
    candidates.sort()
    return [(pieces[left], pieces[right]) for _, _, left, right in candidates]


def _require_sentencepiece():
    try:
        import sentencepiece
    except ImportError as error:
        raise MissingDependencyError("reading SentencePiece .model files", ["sentencepiece"]) from error
    return sentencepiece


class SentencePieceTokenizer(LoadedTokenizer):
    """A SentencePiece model; ``encode`` never adds BOS/EOS and never samples."""

    def __init__(self, path: str | Path, *, name: str | None = None, backend: str = "auto") -> None:
        check_backend(backend)
        path = Path(path)
        if not path.is_file():
            raise InputError(f"SentencePiece model {path} does not exist", "check the path")
        data = path.read_bytes()
        expected = "a SentencePiece ModelProto (the .model file written by spm_train)"
        try:
            spec = parse_sentencepiece_model(data)
        except (ValueError, UnicodeDecodeError, struct.error) as error:
            raise TokenizerFormatError(
                f"{path} is not a valid SentencePiece model ({error})", f"expected {expected}"
            ) from None
        sentencepiece = _require_sentencepiece()
        try:
            processor = sentencepiece.SentencePieceProcessor(model_proto=data)
        except RuntimeError as error:  # the library reports every parse/validation failure this way
            raise TokenizerFormatError(f"sentencepiece cannot load {path}: {error}", f"expected {expected}") from None
        if processor.get_piece_size() != len(spec.pieces):
            raise TokenizerFormatError(f"{path}: piece count disagrees with the library", f"expected {expected}")
        self._processor = processor
        self.spec = spec
        self.vocab_size = len(spec.pieces)

        # User-defined pieces are text: encode produces them from their text wherever it occurs (J2's ","),
        # and decode gives it back, as for any piece. Only control and unknown pieces are special, as in
        # sentencepiece's own is_control / is_unknown.
        special_types = (PIECE_UNKNOWN, PIECE_CONTROL)
        controls = [
            (i, piece)
            for i, (piece, kind) in enumerate(zip(spec.pieces, spec.types, strict=True))
            if kind in special_types
        ]
        declared = {
            role: token_id
            for role, token_id in (
                ("bos", processor.bos_id()),
                ("eos", processor.eos_id()),
                ("unk", processor.unk_id()),
                ("pad", processor.pad_id()),
            )
            if 0 <= token_id < self.vocab_size
        }
        self.special_tokens, self.role_ids = assign_roles(controls, declared)
        self._byte_ids = frozenset(i for i, kind in enumerate(spec.types) if kind == PIECE_BYTE)
        self.info = TokenizerInfo(
            name=name or file_display_name(path),
            format="sentencepiece",
            model=spec.model_type,
            byte_level=spec.byte_fallback,
            lossless=False,  # U+2581 in the input decodes as a space (module docstring)
            sources=(str(path),),
            sha256=sha256_of_files([path]),
            backend="sentencepiece",
            extra={
                "byte_fallback": spec.byte_fallback,
                "normalizer": spec.normalizer or ("custom" if spec.has_normalization_rules else "identity"),
                "add_dummy_prefix": spec.add_dummy_prefix,
                "remove_extra_whitespaces": spec.remove_extra_whitespaces,
                "escape_whitespaces": spec.escape_whitespaces,
                "lossless_without_u2581": spec.lossless_without_u2581,
            },
        )

    # -- encoding -----------------------------------------------------------------------------
    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        texts = text_list(texts)
        if not self._cuts_some(texts):
            return self._library_encode(texts)
        return [list(itertools.chain.from_iterable(itertools.chain.from_iterable(self._piece_calls(text))))
                if len(text) > CUT_DOCUMENT_CHARS else self._library_encode([text])[0] for text in texts]

    def encode_flat(self, texts: Sequence[str]) -> np.ndarray:
        texts = text_list(texts)
        if not self._cuts_some(texts):
            return super().encode_flat(texts)
        parts, short = [], []  # runs of short texts in one call; each call's ids an array at once
        for text in texts:
            if len(text) <= CUT_DOCUMENT_CHARS:
                short.append(text)
                continue
            if short:
                parts.append(flat_of_lists(self._library_encode(short)))
                short = []
            parts.extend(flat_of_lists(ids) for ids in self._piece_calls(text))
        if short:
            parts.append(flat_of_lists(self._library_encode(short)))
        return np.concatenate(parts)

    def _cuts_some(self, texts: list[str]) -> bool:
        return any(len(text) > CUT_DOCUMENT_CHARS for text in texts) and self.spec.cuts_exactly

    def _piece_calls(self, text: str) -> Iterator[list[list[int]]]:
        """The ids of a long ``text``'s pieces, PIECES_PER_CALL pieces per library call (memory stays flat)."""
        pieces = self._pieces(text)
        while group := list(itertools.islice(pieces, PIECES_PER_CALL)):
            yield self._library_encode(group)

    def _pieces(self, text: str) -> Iterator[str]:
        """``text`` cut into pieces of about CUT_DOCUMENT_CHARS at spaces ``spec.cuts_exactly`` allows; the
        space goes with the piece its "▁" joins (the next, or with whitespace as suffix the last) unless the
        dummy prefix stands for it."""
        dummy, suffix = self.spec.add_dummy_prefix, self.spec.treat_whitespace_as_suffix
        start = 0
        while len(text) - start > CUT_DOCUMENT_CHARS:
            cut = _CUT_SPACE.search(text, start + CUT_DOCUMENT_CHARS)
            if cut is None:
                break
            yield text[start : cut.end() if suffix and not dummy else cut.start()]
            start = cut.start() if not (dummy or suffix) else cut.end()
        yield text[start:]

    def _library_encode(self, texts: list[str]) -> list[list[int]]:
        with lone_surrogates_named(texts):
            return self._processor.encode(texts, out_type=int, add_bos=False, add_eos=False)

    def decode(self, ids: Iterable[int]) -> str:
        return self._processor.decode(id_list(ids, self.vocab_size))

    # -- vocabulary ---------------------------------------------------------------------------
    def _raw_token_bytes(self, token_id: int) -> bytes:
        if token_id in self._byte_ids:
            return sentencepiece_to_bytes(self.spec.pieces[token_id])
        piece = self.spec.pieces[token_id]
        return (piece.replace(SENTENCEPIECE_SPACE, " ") if self.spec.escape_whitespaces else piece).encode("utf-8")

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        return self._byte_ids

    @cached_property
    def _merges(self) -> list[tuple[bytes, bytes]] | None:
        if self.spec.model_type != "bpe":
            return None
        mergeable = [kind == PIECE_NORMAL for kind in self.spec.types]
        pairs = merges_from_scores(self.spec.pieces, self.spec.scores, mergeable)
        space = SENTENCEPIECE_SPACE
        return [(left.replace(space, " ").encode(), right.replace(space, " ").encode()) for left, right in pairs]

    @property
    def merges(self) -> list[tuple[bytes, bytes]] | None:
        """For BPE models, merges derived from piece scores (:func:`merges_from_scores`); None for unigram."""
        return self._merges


def load_sentencepiece(path: str | Path, *, name: str | None = None, backend: str = "auto") -> SentencePieceTokenizer:
    """Load a SentencePiece ``.model`` file.

    Args:
        path: the ``.model`` file.
        name: display name (default: the file's stem).
        backend: ``"auto"`` or ``"reference"``; both encode through ``sentencepiece``.

    Raises:
        TokenizerFormatError: the file is not a SentencePiece model (garbage, truncated...).
        InputError: the file does not exist.
    """
    return SentencePieceTokenizer(path, name=name, backend=backend)
