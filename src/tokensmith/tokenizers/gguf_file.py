"""The tokenizer stored in a GGUF model file, rebuilt as an HF ``tokenizers`` pipeline.

Only the metadata section is read (a small streaming parser; tensors are never touched), so loading a
GGUF takes well under a second whatever the size of the weights. The vocabulary keys are llama.cpp's:

* ``tokenizer.ggml.model``: ``"gpt2"`` (byte-level BPE) or ``"llama"`` (SentencePiece-style BPE with
  ``▁`` spaces, piece scores and ``<0xNN>`` byte fallback);
* ``tokenizer.ggml.tokens`` / ``token_type`` / ``scores`` / ``merges``;
* ``tokenizer.ggml.{bos,eos,unknown,padding,...}_token_id``: declared roles;
* ``tokenizer.ggml.pre``: the pre-tokenizer's name, looked up in :data:`PRE_TOKENIZERS`.

The GGUF itself stores no regex, only the name, so an unknown ``pre`` is refused rather than guessed.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tokensmith.errors import InputError, MissingDependencyError, TokenizerFormatError
from tokensmith.registry import Registry
from tokensmith.tokenizers.base import TokenizerInfo, id_list, lone_surrogates_named, sha256_of_files, text_list
from tokensmith.tokenizers.bytemaps import (
    SENTENCEPIECE_SPACE,
    UTF8_BYTES,
    byte_level_to_bytes,
    bytes_to_byte_level,
    sentencepiece_to_bytes,
)
from tokensmith.tokenizers.loaded import LoadedTokenizer, check_backend
from tokensmith.tokenizers.roles import assign_roles, guess_role

GGUF_MAGIC = b"GGUF"

# llama.cpp's llama_token_type values in tokenizer.ggml.token_type.
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6

#: GGUF scalar value types -> struct format (little-endian files only, as llama.cpp writes them).
_SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9

#: GGUF key -> role of the token it names.
ROLE_KEYS = {
    "tokenizer.ggml.bos_token_id": "bos",
    "tokenizer.ggml.eos_token_id": "eos",
    "tokenizer.ggml.unknown_token_id": "unk",
    "tokenizer.ggml.padding_token_id": "pad",
    "tokenizer.ggml.seperator_token_id": "sep",  # llama.cpp's spelling
    "tokenizer.ggml.separator_token_id": "sep",
    "tokenizer.ggml.cls_token_id": "cls",
    "tokenizer.ggml.mask_token_id": "mask",
}


class _Truncated(ValueError):
    pass


class _MetadataReader:
    """Sequential reader of GGUF metadata values over a memory map."""

    def __init__(self, buffer: mmap.mmap | bytes) -> None:
        self.buffer = buffer
        self.pos = 0

    def unpack(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.buffer):
            raise _Truncated(f"file ends inside a value at byte {self.pos}")
        value = struct.unpack_from("<" + fmt, self.buffer, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        (length,) = self.unpack("Q")
        end = self.pos + length
        if end > len(self.buffer):
            raise _Truncated(f"string of {length} bytes at byte {self.pos} runs past the end of the file")
        raw = self.buffer[self.pos : end]
        self.pos = end
        return raw.decode("utf-8")

    def value(self, value_type: int):
        if value_type == _STRING:
            return self.string()
        if value_type == _ARRAY:
            item_type, count = self.unpack("IQ")
            if item_type == _STRING:
                return [self.string() for _ in range(count)]
            if item_type in _SCALAR_FORMATS:
                fmt = _SCALAR_FORMATS[item_type]
                if count * struct.calcsize(fmt) > len(self.buffer) - self.pos:
                    raise _Truncated(f"array of {count} values at byte {self.pos} runs past the end of the file")
                return list(self.unpack(f"{count}{fmt}"))
            return [self.value(item_type) for _ in range(count)]  # nested arrays
        if value_type in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[value_type])[0]
        raise ValueError(f"unknown metadata value type {value_type} at byte {self.pos}")


def read_gguf_metadata(path: str | Path) -> dict[str, object]:
    """Every metadata key/value of a GGUF file (versions 2 and 3), without reading tensors.

    Raises:
        TokenizerFormatError: wrong magic, unsupported version, truncated or malformed metadata.
    """
    path = Path(path)
    expected = "a GGUF file (magic b'GGUF', version 2 or 3) as written by llama.cpp's converters"
    with open(path, "rb") as handle:
        size = path.stat().st_size
        if size < 24:
            raise TokenizerFormatError(f"{path} is too short ({size} bytes) to be a GGUF file", f"expected {expected}")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            reader = _MetadataReader(buffer)
            magic = bytes(buffer[:4])
            if magic != GGUF_MAGIC:
                raise TokenizerFormatError(f"{path} is not a GGUF file (magic {magic!r})", f"expected {expected}")
            reader.pos = 4
            (version,) = reader.unpack("I")
            if version not in (2, 3):
                raise TokenizerFormatError(f"{path}: unsupported GGUF version {version}", f"expected {expected}")
            metadata: dict[str, object] = {}
            try:
                _tensor_count, kv_count = reader.unpack("QQ")
                if kv_count > size:  # each entry takes several bytes: a huge count means garbage
                    raise ValueError(f"implausible metadata count {kv_count}")
                for _ in range(kv_count):
                    key = reader.string()
                    (value_type,) = reader.unpack("I")
                    metadata[key] = reader.value(value_type)
            except _Truncated as error:
                raise TokenizerFormatError(f"{path} is truncated: {error}", f"expected {expected}") from None
            except (ValueError, UnicodeDecodeError, struct.error, MemoryError, OverflowError) as error:
                raise TokenizerFormatError(
                    f"{path} has malformed GGUF metadata: {error}", f"expected {expected}"
                ) from None
    return metadata


# -- pre-tokenizers by tokenizer.ggml.pre name -----------------------------------------------------

#: GPT-2's split: contractions, letters, numbers, other symbols, each optionally after one space.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
#: Llama 3 (identical to cl100k_base): numbers in runs of up to three digits.
LLAMA3_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
#: Qwen2: as Llama 3 but every digit alone.
QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
#: DeepSeek-V3: three regex splits in sequence (numbers, CJK runs, then words/punctuation/spaces).
DEEPSEEK_V3_PATTERNS = (
    r"\p{N}{1,3}",
    r"[一-龥぀-ゟ゠-ヿ]+",
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"""
    r"""| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
)


@dataclass(frozen=True)
class PreTokenizerSpec:
    """How llama.cpp pre-tokenises for one ``tokenizer.ggml.pre`` value."""

    patterns: tuple[str, ...]  # regex splits applied in order ("isolated"), before byte-level mapping
    individual_digits: bool = False  # a Digits(individual_digits=True) split first (SmolLM2, StarCoder)
    ignore_merges: bool = False  # llama.cpp takes a whole pre-token that is in the vocabulary (Llama 3)

    def build(self, tokenizers_module):
        pre = tokenizers_module.pre_tokenizers
        steps = [pre.Digits(individual_digits=True)] if self.individual_digits else []
        if self.patterns == (GPT2_PATTERN,):
            steps.append(pre.ByteLevel(add_prefix_space=False, use_regex=True))  # the built-in GPT-2 regex
        else:
            steps += [pre.Split(tokenizers_module.Regex(pattern), behavior="isolated") for pattern in self.patterns]
            steps.append(pre.ByteLevel(add_prefix_space=False, use_regex=False))
        return steps[0] if len(steps) == 1 else pre.Sequence(steps)


#: tokenizer.ggml.pre name -> how to pre-tokenise; add entries to support more GGUF files.
PRE_TOKENIZERS: Registry[PreTokenizerSpec] = Registry("GGUF pre-tokenizer (tokenizer.ggml.pre)")

for _names, _spec in (
    (("default", "gpt2", "gpt-2"), PreTokenizerSpec((GPT2_PATTERN,))),
    # llama.cpp: "\p{N}" then the GPT-2 regex, as SmolLM2's tokenizer.json does with Digits + ByteLevel.
    (("smollm", "starcoder", "refact"), PreTokenizerSpec((GPT2_PATTERN,), individual_digits=True)),
    (("llama-bpe", "llama3", "llama-v3"), PreTokenizerSpec((LLAMA3_PATTERN,), ignore_merges=True)),
    (("qwen2",), PreTokenizerSpec((QWEN2_PATTERN,))),
    (("deepseek-v3",), PreTokenizerSpec(DEEPSEEK_V3_PATTERNS)),
):
    for _name in _names:
        PRE_TOKENIZERS.add(_name, _spec)


def _pre_tokenizer_spec(pre_name: str, path: Path) -> PreTokenizerSpec:
    if pre_name not in PRE_TOKENIZERS:
        raise TokenizerFormatError(
            f"{path}: GGUF pre-tokenizer {pre_name!r} (tokenizer.ggml.pre) is not supported yet",
            f"supported: {', '.join(PRE_TOKENIZERS.names())}",
        )
    return PRE_TOKENIZERS.get(pre_name)


# -- the tokenizer -----------------------------------------------------------------------------------


def _looks_like_control(text: str) -> bool:
    """Whether an added token's text is a control token's: llama.cpp's converter types such added tokens
    CONTROL even when not marked special (``<|...|>``, ``<pad>``, ``<unused0>``...), and :func:`guess_role`
    knows its role."""
    return (
        text in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
        or (len(text) > 3 and text.startswith(("<|", "<\uff5c")) and text.endswith(("|>", "\uff5c>")))
        or (text.startswith("<unused") and text.endswith(">"))
        or guess_role(text) != "other"
    )


def _require_tokenizers():
    try:
        import tokenizers
    except ImportError as error:
        raise MissingDependencyError("reading GGUF tokenizers", ["tokenizers"]) from error
    return tokenizers


def _field(metadata: dict, key: str, kind: type, path: Path, *, required: bool = True, default=None):
    value = metadata.get(key, default)
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        state = "missing" if key not in metadata else f"a {type(value).__name__}"
        raise TokenizerFormatError(
            f"{path}: GGUF key {key!r} is {state}, expected a {kind.__name__}",
            "the file must carry llama.cpp's tokenizer.ggml.* keys (convert it with a recent llama.cpp)",
        )
    return value


class GGUFTokenizer(LoadedTokenizer):
    """The vocabulary of a GGUF file, encoded by an HF ``tokenizers`` pipeline built from it."""

    def __init__(self, path: str | Path, *, name: str | None = None, backend: str = "auto") -> None:
        check_backend(backend)
        path = Path(path)
        if not path.is_file():
            raise InputError(f"GGUF file {path} does not exist", "check the path")
        metadata = read_gguf_metadata(path)
        model_kind = _field(metadata, "tokenizer.ggml.model", str, path)
        tokens = _field(metadata, "tokenizer.ggml.tokens", list, path)
        if not tokens or not all(isinstance(token, str) for token in tokens):
            raise TokenizerFormatError(f"{path}: tokenizer.ggml.tokens is empty or not a list of strings")
        token_types = _field(metadata, "tokenizer.ggml.token_type", list, path, required=False)
        if token_types is None:
            token_types = [TOKEN_NORMAL] * len(tokens)
        if len(token_types) != len(tokens):
            raise TokenizerFormatError(
                f"{path}: {len(token_types)} token types for {len(tokens)} tokens", "the file is inconsistent"
            )
        self.tokens: list[str] = tokens
        self.token_types: list[int] = [int(t) for t in token_types]
        self.model_kind = model_kind
        self.pre_name = str(metadata.get("tokenizer.ggml.pre", "default"))
        self.vocab_size = len(tokens)

        declared = {}
        for key, role in ROLE_KEYS.items():
            token_id = metadata.get(key)
            if isinstance(token_id, int) and 0 <= token_id < self.vocab_size:
                declared.setdefault(role, token_id)
        # llama.cpp reads a USER_DEFINED (added) token as text: tokenize splits it out of any text, special
        # tokens parsed or not, and detokenize writes its text back verbatim. Special tokens are the control
        # and unknown ones, plus a user-defined token the file names for a role or spelled like a control
        # token: converters older than the CONTROL type for special added tokens typed '<|im_end|>' 4 too.
        role_token_ids = set(declared.values())
        controls = [
            (i, tokens[i])
            for i, kind in enumerate(self.token_types)
            if kind in (TOKEN_UNKNOWN, TOKEN_CONTROL)
            or (kind == TOKEN_USER_DEFINED and (i in role_token_ids or _looks_like_control(tokens[i])))
        ]
        self.special_tokens, self.role_ids = assign_roles(controls, declared)

        tokenizers = _require_tokenizers()
        if model_kind == "gpt2":
            merges = _field(metadata, "tokenizer.ggml.merges", list, path)
            self._backend = self._build_byte_level(tokenizers, path, merges)
            # A byte missing from the vocabulary is silently dropped by the BPE (there is no UNK), so the
            # tokenizer is lossless only when every byte that occurs in UTF-8 text has its token.
            alphabet = set(tokens)
            missing_bytes = [b for b in UTF8_BYTES if bytes_to_byte_level(bytes([b])) not in alphabet]
            model, lossless, byte_level = "bpe", not missing_bytes, True
        elif model_kind == "llama":
            missing_bytes = []
            scores = _field(metadata, "tokenizer.ggml.scores", list, path)
            if len(scores) != len(tokens):
                raise TokenizerFormatError(f"{path}: {len(scores)} scores for {len(tokens)} tokens")
            self.add_space_prefix = bool(metadata.get("tokenizer.ggml.add_space_prefix", True))
            self._backend = self._build_sentencepiece_style(tokenizers, scores)
            byte_level = TOKEN_BYTE in self.token_types
            # Like SentencePiece: a "▁" in the input decodes as a space, so never lossless on every string.
            model, lossless = "bpe", False
        else:
            raise TokenizerFormatError(
                f"{path}: GGUF tokenizer model {model_kind!r} is not supported yet",
                "supported tokenizer.ggml.model values: gpt2 (byte-level BPE), llama (SentencePiece-style BPE)",
            )
        self.info = TokenizerInfo(
            name=name or path.stem,
            format="gguf",
            model=model,
            byte_level=byte_level,
            lossless=lossless,
            sources=(str(path),),
            sha256=sha256_of_files([path]),
            backend="tokenizers",
            extra={
                "ggml_model": model_kind,
                "ggml_pre": self.pre_name if model_kind == "gpt2" else None,
                "general_name": metadata.get("general.name"),
                "architecture": metadata.get("general.architecture"),
                "missing_bytes": [f"0x{b:02X}" for b in missing_bytes],  # bytes of UTF-8 text it drops
            },
        )

    # -- construction -----------------------------------------------------------------------------
    def _added_tokens(self, tokenizers):
        """Control and unknown tokens as special added tokens, user-defined ones as plain added tokens."""
        added = []
        for token_id, text in enumerate(self.tokens):
            kind = self.token_types[token_id]
            if kind in (TOKEN_CONTROL, TOKEN_UNKNOWN, TOKEN_USER_DEFINED):
                special = kind != TOKEN_USER_DEFINED
                added.append(tokenizers.AddedToken(text, special=special, normalized=False))
        return added

    def _build_byte_level(self, tokenizers, path: Path, merge_lines: list) -> object:
        pre = _pre_tokenizer_spec(self.pre_name, path)
        vocab: dict[str, int] = {}
        for token_id, token in enumerate(self.tokens):
            vocab.setdefault(token, token_id)  # a duplicated string keeps its first id, as a dict must
        merges = []
        for rank, line in enumerate(merge_lines):
            parts = line.split(" ") if isinstance(line, str) else []
            if len(parts) != 2 or parts[0] not in vocab or parts[1] not in vocab:
                raise TokenizerFormatError(
                    f"{path}: merge {rank} ({line!r}) is not two vocabulary tokens separated by one space"
                )
            merges.append((parts[0], parts[1]))
        model = tokenizers.models.BPE(vocab=vocab, merges=merges, ignore_merges=pre.ignore_merges)
        backend = tokenizers.Tokenizer(model)
        backend.pre_tokenizer = pre.build(tokenizers)
        backend.decoder = tokenizers.decoders.ByteLevel()
        backend.add_tokens(self._added_tokens(tokenizers))
        self._merge_pairs = merges
        return backend

    def _build_sentencepiece_style(self, tokenizers, scores: list) -> object:
        from tokensmith.tokenizers.sentencepiece_model import merges_from_scores

        mergeable = [kind == TOKEN_NORMAL for kind in self.token_types]
        merges = merges_from_scores(self.tokens, [float(s) for s in scores], mergeable)
        vocab: dict[str, int] = {}
        for token_id, token in enumerate(self.tokens):
            vocab.setdefault(token, token_id)
        unk_id = self.role_ids.get("unk")
        model = tokenizers.models.BPE(
            vocab=vocab,
            merges=merges,
            unk_token=self.tokens[unk_id] if unk_id is not None else None,
            fuse_unk=True,
            byte_fallback=True,
        )
        backend = tokenizers.Tokenizer(model)
        norm, dec = tokenizers.normalizers, tokenizers.decoders
        steps = [norm.Prepend(SENTENCEPIECE_SPACE)] if self.add_space_prefix else []
        backend.normalizer = norm.Sequence([*steps, norm.Replace(" ", SENTENCEPIECE_SPACE)])
        decoders = [dec.Replace(SENTENCEPIECE_SPACE, " "), dec.ByteFallback(), dec.Fuse()]
        if self.add_space_prefix:
            decoders.append(dec.Strip(" ", 1, 0))
        backend.decoder = dec.Sequence(decoders)
        backend.add_tokens(self._added_tokens(tokenizers))
        # SentencePiece and llama.cpp (without parse_special) read control-token text as ordinary text.
        backend.encode_special_tokens = True
        self._merge_pairs = merges
        return backend

    @property
    def backend_tokenizer(self) -> object:
        """The ``tokenizers.Tokenizer`` this vocabulary was rebuilt into (it does all the encoding)."""
        return self._backend

    # -- encoding ---------------------------------------------------------------------------------
    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        texts = text_list(texts)
        with lone_surrogates_named(texts):
            encodings = self._backend.encode_batch(texts, add_special_tokens=False)
        return [encoding.ids for encoding in encodings]

    def decode(self, ids: Iterable[int]) -> str:
        ids = id_list(ids, self.vocab_size)
        if self.model_kind == "gpt2":
            # llama.cpp's detokenize: each token's bytes (a user-defined token's text verbatim, where the
            # ByteLevel decoder would read 'Würde' as byte-level characters), then UTF-8 with replacement.
            return b"".join(map(self.token_bytes, ids)).decode("utf-8", "replace")
        return self._backend.decode(ids, skip_special_tokens=False)

    # -- vocabulary -------------------------------------------------------------------------------
    def _token_text_bytes(self, text: str) -> bytes:
        if self.model_kind == "gpt2":
            try:
                return byte_level_to_bytes(text)
            except KeyError:  # not byte-level encoded (a raw added token): its text is what decodes
                return text.encode("utf-8")
        return text.replace(SENTENCEPIECE_SPACE, " ").encode("utf-8")

    @cached_property
    def _bytes_table(self) -> list[bytes]:
        fallback = self.byte_fallback_ids
        verbatim = self.model_kind == "gpt2"  # a user-defined token holds its text, not byte-level characters
        return [
            sentencepiece_to_bytes(token)
            if token_id in fallback
            else token.encode("utf-8")
            if verbatim and kind == TOKEN_USER_DEFINED
            else self._token_text_bytes(token)
            for token_id, (token, kind) in enumerate(zip(self.tokens, self.token_types, strict=True))
        ]

    def _raw_token_bytes(self, token_id: int) -> bytes:
        return self._bytes_table[token_id]

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        if self.model_kind != "llama":
            return frozenset()
        return frozenset(i for i, kind in enumerate(self.token_types) if kind == TOKEN_BYTE)

    @cached_property
    def _merges(self) -> list[tuple[bytes, bytes]]:
        return [(self._token_text_bytes(left), self._token_text_bytes(right)) for left, right in self._merge_pairs]

    @property
    def merges(self) -> list[tuple[bytes, bytes]]:
        """The file's merges (gpt2), or merges derived from piece scores (llama), as byte pairs."""
        return self._merges


def load_gguf(path: str | Path, *, name: str | None = None, backend: str = "auto") -> GGUFTokenizer:
    """Load the tokenizer of a GGUF model file (metadata only; the weights are not read).

    Args:
        path: the ``.gguf`` file.
        name: display name (default: the file's stem).
        backend: ``"auto"`` or ``"reference"``; both encode through HF ``tokenizers``.

    Raises:
        TokenizerFormatError: not a GGUF file, truncated, or a tokenizer model / pre-tokenizer not
            supported yet (the message lists the supported ones).
        InputError: the file does not exist.
    """
    return GGUFTokenizer(path, name=name, backend=backend)
