"""HF ``tokenizer.json`` files and transformers tokenizer directories, through the ``tokenizers`` library.

Covers the four HF model types (BPE, WordPiece, Unigram, WordLevel) and the three surface conventions
of their vocabularies: GPT-2 byte-level (``Ġ``), SentencePiece-style ``▁`` with ``<0xNN>`` byte fallback
(Llama), and WordPiece ``##`` continuations. ``transformers`` is never imported: the roles of special
tokens come from ``tokenizer_config.json`` / ``special_tokens_map.json`` read as plain JSON.

Fast backend: byte-level BPE files encode through ``fastokens`` when ``backend="auto"`` and the text is
large enough to repay its build (:data:`FASTOKENS_AFTER_CHARS`, encoded so far or announced by
``expect_text``); the test suite proves its ids equal ``tokenizers``' on 31 languages, and every build
re-checks a multilingual probe so a file fastokens reads differently silently stays on ``tokenizers``
(``info.backend`` says which).

BPE dropout is switched off on load: with it every encode samples a different segmentation, so measured
numbers would change from run to run and differ from what the model sees at inference.
``info.extra["dropout_ignored"]`` keeps the file's rate.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tokensmith.errors import InputError, TokenizerFormatError
from tokensmith.tokenizers.base import (
    Tokenizer,
    TokenizerInfo,
    check_token_ids,
    file_display_name,
    flat_of_lists,
    id_list,
    lone_surrogates_named,
    ragged_of_lists,
    sha256_of_files,
    text_list,
)
from tokensmith.tokenizers.bulk_ranks import BACKEND_PROBE_TEXTS, fastokens_id_lists, fastokens_ragged
from tokensmith.tokenizers.bytemaps import (
    BYTE_FALLBACK,
    SENTENCEPIECE_SPACE,
    UTF8_BYTES,
    byte_level_to_bytes,
    byte_to_unicode,
    sentencepiece_to_bytes,
    wordpiece_to_bytes,
)
from tokensmith.tokenizers.loaded import LoadedTokenizer, check_backend
from tokensmith.tokenizers.roles import assign_roles

#: Keys of ``tokenizer_config.json`` / ``special_tokens_map.json`` that declare a role.
CONFIG_ROLE_KEYS = {
    "bos_token": "bos",
    "eos_token": "eos",
    "pad_token": "pad",
    "unk_token": "unk",
    "sep_token": "sep",
    "cls_token": "cls",
    "mask_token": "mask",
}

MODEL_KINDS = {"BPE": "bpe", "WordPiece": "wordpiece", "Unigram": "unigram", "WordLevel": "wordlevel"}

#: Longest vocabulary entry (characters) fastokens is given. Loading a file takes fastokens a time that grows
#: with the square of its longest token: 0.2 s at 4,096 characters, 10 s at 32,768, minutes beyond; BPE trained
#: on text with a long run of one character (padding, "AAAA..." in base64) learns such tokens. Real
#: vocabularies stay far below; longer ones load through tokenizers, which is not slowed.
FASTOKENS_MAX_TOKEN_CHARS = 4096

#: Characters the ``tokenizers`` library encodes before fastokens is built: fastokens encodes ~10x faster
#: but takes 0.4-1.5 s to build (GPT-2 to DeepSeek-V4), which this much text repays; loading a tokenizer
#: to encode a prompt or a word list never pays it.
FASTOKENS_AFTER_CHARS = 1_000_000


def _components(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every component (a mapping with a ``"type"``) inside a pre-tokenizer / decoder / normalizer tree."""
    if isinstance(node, Mapping):
        if isinstance(node.get("type"), str):
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for item in node:
            yield from _components(item)


def _component_types(node: Any) -> Iterator[str]:
    """Every ``"type"`` inside a pre-tokenizer / decoder / normalizer tree (Sequences included)."""
    return (component["type"] for component in _components(node))


def _surface_convention(config: Mapping[str, Any]) -> str:
    """How vocabulary strings encode bytes: ``byte-level``, ``metaspace``, ``wordpiece`` or ``plain``."""
    model = config.get("model") or {}
    around = set(_component_types(config.get("pre_tokenizer"))) | set(_component_types(config.get("decoder")))
    if "ByteLevel" in around:
        return "byte-level"
    if model.get("type") == "WordPiece":
        return "wordpiece"
    decoder_text = json.dumps(config.get("decoder") or {}, ensure_ascii=False)  # "▁" itself, not "\\u2581"
    if "Metaspace" in around or "\u2581" in decoder_text or model.get("byte_fallback"):
        return "metaspace"
    return "plain"


def _metaspace_replacement(config: Mapping[str, Any]) -> str:
    """The character a Metaspace pre-tokenizer or decoder writes spaces as: "▁" unless it says otherwise."""
    for node in _components([config.get("pre_tokenizer"), config.get("decoder")]):
        if node["type"] == "Metaspace" and node.get("replacement"):
            return node["replacement"]
    return SENTENCEPIECE_SPACE


#: Pre-tokenizers that only split text, never drop any (unless their behavior is "removed"). Others drop
#: some: whitespace (Whitespace, WhitespaceSplit, BertPreTokenizer, UnicodeScripts' leading spaces), the
#: delimiter (CharDelimiterSplit); a type not listed here is not trusted to keep every character.
_KEEPING_PRE_TOKENIZERS = {"ByteLevel", "Sequence", "Split", "Punctuation", "Digits", "FixedLength"}
#: Decoder steps that give back exactly the bytes of byte-level tokens.
_EXACT_DECODERS = {"ByteLevel", "Fuse", "Sequence"}


def _is_lossless(config: Mapping[str, Any], convention: str, missing_bytes: Sequence[int]) -> bool:
    """Whether ``decode(encode(x)) == x`` for every x, judged from the file: a byte-level vocabulary with
    every byte, no normalizer, no step that adds or drops text, and a decoder that only maps bytes back."""
    if convention != "byte-level" or missing_bytes:
        return False
    normalizer = config.get("normalizer")
    if not (normalizer is None or (normalizer.get("type") == "Sequence" and not normalizer.get("normalizers"))):
        return False
    decoder_types = set(_component_types(config.get("decoder")))
    if "ByteLevel" not in decoder_types or not decoder_types <= _EXACT_DECODERS:
        return False
    for node in _components(config.get("pre_tokenizer")):
        if node["type"] == "ByteLevel" and node.get("add_prefix_space"):
            return False  # "word" encodes as "Ġword" and decodes as " word"
        if node["type"] not in _KEEPING_PRE_TOKENIZERS or str(node.get("behavior", "")).lower() == "removed":
            return False
    model = config.get("model") or {}
    if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        return False  # the decoder keeps BPE's word markers ("cat</w>")
    # An added token with lstrip/rstrip also takes the whitespace next to it.
    return not any(entry.get("lstrip") or entry.get("rstrip") for entry in config.get("added_tokens") or [])


def _missing_bytes(vocab: Mapping[str, int], convention: str) -> list[int]:
    """Bytes of UTF-8 text that a byte-level vocabulary has no token for: its BPE drops them from the text
    (no UNK), as a BPE trained without the byte alphabet does with every character it did not see."""
    if convention != "byte-level":
        return []
    alphabet = byte_to_unicode()
    return [b for b in UTF8_BYTES if alphabet[b] not in vocab]


def _read_config(path: Path) -> Mapping[str, Any]:
    """A transformers JSON config (tokenizer_config.json, special_tokens_map.json); empty when absent."""
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFormatError(f"{path} is not valid JSON: {err}", "fix or remove the file") from None
    if not isinstance(config, Mapping):
        raise TokenizerFormatError(f"{path} is not a JSON object", "fix or remove the file")
    return config


def _declared_role_texts(directory: Path) -> dict[str, str]:
    """``role -> token text`` from a transformers directory's JSON configs (tokenizer_config wins)."""
    declared: dict[str, str] = {}
    for filename in ("special_tokens_map.json", "tokenizer_config.json"):
        config = _read_config(directory / filename)
        for key, role in CONFIG_ROLE_KEYS.items():
            value = config.get(key)
            if isinstance(value, Mapping):
                value = value.get("content")
            if isinstance(value, str) and value:
                declared[role] = value
    return declared


#: Settings of a tokenizer_config.json a tokenizer derived from this one keeps (extend): its chat template
#: and context length (the roles are read as :func:`_declared_role_texts` reads them).
CARRIED_CONFIG_KEYS = ("chat_template", "model_max_length")


def tokenizer_folder_settings(directory: Path) -> dict[str, Any]:
    """What a transformers folder's configs say beyond tokenizer.json that a derived tokenizer keeps: each
    declared role's token text under its config key (``eos_token``...), and :data:`CARRIED_CONFIG_KEYS`
    (a chat template saved apart, as ``chat_template.jinja``, too). Empty for a folder without them."""
    roles = _declared_role_texts(directory)  # (reads the two config files: once, not once per role)
    settings: dict[str, Any] = {key: roles[role] for key, role in CONFIG_ROLE_KEYS.items() if role in roles}
    config = _read_config(directory / "tokenizer_config.json")
    settings.update({key: config[key] for key in CARRIED_CONFIG_KEYS if config.get(key) is not None})
    template = directory / "chat_template.jinja"
    if "chat_template" not in settings and template.is_file():
        settings["chat_template"] = template.read_text(encoding="utf-8")
    return settings


#: The role keys of a transformers config in the order transformers adds their tokens when missing.
_TRANSFORMERS_ROLE_ORDER = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _config_added_tokens(directory: Path) -> list[Mapping[str, Any]]:
    """The tokens tokenizer_config.json declares, in the order transformers adds those that tokenizer.json
    lacks: ``added_tokens_decoder`` by id, the role tokens, ``additional_special_tokens``. (The legacy
    special_tokens_map.json is left out: transformers 5 ignores it next to an ``added_tokens_decoder``.)"""
    config = _read_config(directory / "tokenizer_config.json")

    def entry_of(value: Any, special: bool) -> Mapping[str, Any] | None:
        value = {"content": value} if isinstance(value, str) else value
        if not isinstance(value, Mapping) or not isinstance(value.get("content"), str) or not value["content"]:
            return None
        return {"special": special, **value}

    decoder = config.get("added_tokens_decoder")
    decoder_items = decoder.items() if isinstance(decoder, Mapping) else ()
    numbered = [(int(token_id), value) for token_id, value in decoder_items if str(token_id).isdigit()]
    by_id = [entry_of(value, False) for _, value in sorted(numbered, key=lambda item: item[0])]
    roles = [entry_of(config.get(key), True) for key in _TRANSFORMERS_ROLE_ORDER]
    extra = config.get("additional_special_tokens")
    extras = [entry_of(value, True) for value in (extra if isinstance(extra, list) else ())]
    return [entry for entry in (*by_id, *roles, *extras) if entry is not None]


def _add_config_tokens(backend_tokenizer: Any, entries: Sequence[Mapping[str, Any]]) -> bool:
    """Add the config's tokens that tokenizer.json lacks, as transformers does when it loads the folder
    (each takes the next free id, whatever id the config gives it); True if any was added."""
    from tokenizers import AddedToken

    added = False
    for entry in entries:
        if backend_tokenizer.token_to_id(entry["content"]) is not None:  # in the file, or added just now
            continue
        flags = {key: bool(entry[key]) for key in ("single_word", "lstrip", "rstrip", "normalized") if key in entry}
        token = AddedToken(entry["content"], special=bool(entry.get("special")), **flags)
        (backend_tokenizer.add_special_tokens if token.special else backend_tokenizer.add_tokens)([token])
        added = True
    return added


class HFTokenizer(LoadedTokenizer):
    """A ``tokenizers.Tokenizer`` with exact token bytes, roles, merges and an optional fast backend.

    Args:
        backend_tokenizer: the ``tokenizers.Tokenizer`` (padding and truncation are switched off).
        config: the parsed tokenizer.json (``json.loads(backend_tokenizer.to_str())`` when built in code).
        name: display name.
        fmt: ``TokenizerInfo.format`` value.
        sources: files it was read from (hashed for provenance).
        declared_roles: ``role -> token text`` a config declares; they win over guessed roles.
        backend: ``"auto"`` (fastokens where proven identical) or ``"reference"`` (always ``tokenizers``).
    """

    def __init__(
        self,
        backend_tokenizer: Any,
        config: Mapping[str, Any],
        *,
        name: str,
        fmt: str = "hf-json",
        sources: Sequence[str | Path] = (),
        declared_roles: Mapping[str, str] | None = None,
        backend: str = "auto",
        sha256: str | None = None,
    ) -> None:
        check_backend(backend)
        self._tokenizer = backend_tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        model = config.get("model") or {}
        if "type" not in model:  # tokenizers reads a model without "type" (older files) by its fields
            model = {**model, "type": type(backend_tokenizer.model).__name__}
            config = {**config, "model": model}
        dropout = model.get("dropout")
        if dropout:  # encode deterministically: the segmentation the model is run with
            backend_tokenizer.model.dropout = None
            model = {**model, "dropout": None}
            config = {**config, "model": model}
        self._config = config
        model_type = model.get("type")
        if model_type not in MODEL_KINDS:
            raise TokenizerFormatError(
                f"{name}: tokenizer.json model type {model_type!r} is not supported",
                f"supported model types: {', '.join(MODEL_KINDS)}",
            )
        self._convention = _surface_convention(config)
        self._space_marker = _metaspace_replacement(config)
        self._wordpiece_prefix = model.get("continuing_subword_prefix") or "##"
        # BPE may mark word-inner pieces with a prefix ("##ing") or word-final ones with a suffix
        # ("cat</w>", CLIP); token_bytes drops the marker as it drops WordPiece's "##".
        is_bpe = model_type == "BPE"
        self._bpe_prefix = (model.get("continuing_subword_prefix") or "") if is_bpe else ""
        self._bpe_suffix = (model.get("end_of_word_suffix") or "") if is_bpe else ""

        vocab = backend_tokenizer.get_vocab(with_added_tokens=True)
        check_token_ids(vocab.values(), str(sources[0]) if sources else name)
        self.vocab_size = max(vocab.values()) + 1
        self._id_to_token: list[str | None] = [None] * self.vocab_size
        for token, token_id in vocab.items():
            self._id_to_token[token_id] = token
        model_vocab = backend_tokenizer.get_vocab(with_added_tokens=False)
        self._model_vocab_ids = set(model_vocab.values())

        added = config.get("added_tokens") or []
        controls = {entry["id"]: entry["content"] for entry in added if entry.get("special")}
        self._added_text = {entry["id"]: entry["content"] for entry in added if not entry.get("special")}
        declared_ids: dict[str, int] = {}
        for role, text in (declared_roles or {}).items():
            token_id = backend_tokenizer.token_to_id(text)
            if token_id is not None:
                declared_ids[role] = token_id
                controls.setdefault(token_id, text)  # a declared role makes a token a control token
        unk_text = model.get("unk_token")
        if model_type == "Unigram" and isinstance(model.get("unk_id"), int):  # Unigram names its unk by id
            unk_text = backend_tokenizer.id_to_token(model["unk_id"])
        if isinstance(unk_text, str) and "unk" not in declared_ids:
            unk_id = backend_tokenizer.token_to_id(unk_text)
            if unk_id is not None:
                declared_ids["unk"] = unk_id
                controls.setdefault(unk_id, unk_text)
        self.special_tokens, self.role_ids = assign_roles(controls.items(), declared_ids)

        # byte_fallback spells a character by its <0xNN> tokens only where the vocabulary has them (else UNK):
        # transformers' Llama converter sets the flag on SentencePiece models trained without byte pieces.
        has_byte_tokens = all(f"<0x{b:02X}>" in model_vocab for b in UTF8_BYTES)
        byte_level = self._convention == "byte-level" or (bool(model.get("byte_fallback")) and has_byte_tokens)
        missing_bytes = _missing_bytes(model_vocab, self._convention)
        self._fast = None
        self._fast_pending = backend == "auto" and self._fast_backend_eligible(model)
        self._fast_lock = threading.Lock()
        self._chars_encoded = 0
        paths = [str(Path(p)) for p in sources]
        self.info = TokenizerInfo(
            name=name,
            format=fmt,
            model=MODEL_KINDS[model_type],
            byte_level=byte_level,
            lossless=_is_lossless(config, self._convention, missing_bytes) and self._added_tokens_decode_as_text(),
            sources=tuple(paths),
            sha256=sha256 if sha256 is not None else (sha256_of_files(paths) if paths else ""),
            backend="tokenizers",  # "fastokens" once built (see _fast_encoder)
            extra={
                "surface": self._convention,
                **({"dropout_ignored": dropout} if dropout else {}),
                **({"missing_bytes": [f"0x{b:02X}" for b in missing_bytes]} if missing_bytes else {}),
            },
        )

    @property
    def exact_spans(self) -> bool:
        # Lossless here means a byte-level vocabulary whose decoder maps tokens back to their bytes, with
        # nothing added to the text (prefix space, lstrip/rstrip): encode(x)'s token bytes spell x.
        return self.info.lossless

    def _added_tokens_decode_as_text(self) -> bool:
        """Whether every non-special added token decodes to its own text. The ByteLevel decoder reads an
        added token's text as byte-level characters too, so "Würde" comes back as "W\ufffdrde"."""
        return all(self.decode([token_id]) == text for token_id, text in self._added_text.items())

    # -- fast backend -------------------------------------------------------------------------
    def _fast_backend_eligible(self, model: Mapping[str, Any]) -> bool:
        """fastokens is proven identical (tests) on byte-level BPE without dropout or byte fallback."""
        return (
            model.get("type") == "BPE"
            and self._convention == "byte-level"
            and not model.get("dropout")
            and not model.get("byte_fallback")
            and max(map(len, model.get("vocab") or ()), default=0) <= FASTOKENS_MAX_TOKEN_CHARS
        )

    def expect_text(self, total_bytes: int) -> None:
        if total_bytes >= FASTOKENS_AFTER_CHARS:
            self._build_fastokens()

    def _fast_encoder(self, texts: Sequence[str]) -> Any | None:
        """fastokens, once the text encoded so far (with ``texts``) repays its build, else None."""
        if self._fast_pending:
            self._chars_encoded += sum(map(len, texts))
            if self._chars_encoded >= FASTOKENS_AFTER_CHARS:
                self._build_fastokens()
        return self._fast

    def _build_fastokens(self) -> None:
        with self._fast_lock:  # encoding threads (measure's lanes) may get here together
            if not self._fast_pending:
                return
            self._fast = self._try_fastokens()
            self._fast_pending = False
            if self._fast is not None:
                self.info = replace(self.info, backend="fastokens")

    def _try_fastokens(self) -> Any | None:
        try:
            import fastokens
        except ImportError:
            return None
        try:
            fast = fastokens.Tokenizer.from_json_str(self._tokenizer.to_str())
            fast.no_padding()
            fast.no_truncation()
        except Exception:  # noqa: BLE001 - a file fastokens cannot read stays on the reference library
            return None
        probe = list(BACKEND_PROBE_TEXTS)
        reference = [e.ids for e in self._tokenizer.encode_batch(probe, add_special_tokens=False)]
        try:
            same = fastokens_id_lists(fast, probe) == reference
        except Exception:  # noqa: BLE001 - fastokens refuses text tokenizers encodes (a byte without a token)
            return None
        return fast if same else None

    # -- protocol -----------------------------------------------------------------------------
    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        texts = text_list(texts)
        return self._id_lists(texts, self._fast_encoder(texts))

    def encode_ragged(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        texts = text_list(texts)
        fast = self._fast_encoder(texts)
        if fast is None:
            return ragged_of_lists(self._id_lists(texts, None))
        return fastokens_ragged(fast, texts)

    def encode_flat(self, texts: Sequence[str]) -> Any:
        texts = text_list(texts)
        fast = self._fast_encoder(texts)
        if fast is None or not texts:
            return flat_of_lists(self._id_lists(texts, None))
        ids_buffer, _ = fast.encode_batch_flat(texts, add_special_tokens=False)
        return np.frombuffer(ids_buffer, dtype="<u4")

    def _id_lists(self, texts: list[str], fast: Any | None) -> list[list[int]]:
        """Per-text ids from fastokens (``fast``), else the reference library (the text already counted
        towards fastokens' build by the caller)."""
        with lone_surrogates_named(texts):
            if fast is not None:
                return fastokens_id_lists(fast, texts)
            return [encoding.ids for encoding in self._tokenizer.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: Iterable[int]) -> str:
        return self._tokenizer.decode(id_list(ids, self.vocab_size), skip_special_tokens=False)

    def _raw_token_bytes(self, token_id: int) -> bytes:
        token = self._id_to_token[token_id]
        if token is None:  # a hole in the id space
            return b""
        if token_id in self._added_text and token_id not in self._model_vocab_ids:
            return token.encode("utf-8")  # added tokens hold literal text, not vocabulary surface forms
        return self._surface_to_bytes(token)

    def _surface_to_bytes(self, token: str) -> bytes:
        if self._bpe_prefix and token.startswith(self._bpe_prefix) and len(token) > len(self._bpe_prefix):
            token = token[len(self._bpe_prefix) :]
        if self._bpe_suffix and token.endswith(self._bpe_suffix) and len(token) > len(self._bpe_suffix):
            token = token[: -len(self._bpe_suffix)]
        if self._convention == "byte-level":
            try:
                return byte_level_to_bytes(token)
            except KeyError:  # a character outside the byte alphabet: the decoder keeps it as text
                return token.encode("utf-8")
        if self._convention == "metaspace":
            return sentencepiece_to_bytes(token, self._space_marker)
        if self._convention == "wordpiece":
            return wordpiece_to_bytes(token, self._wordpiece_prefix)
        return token.encode("utf-8")

    @cached_property
    def continuation_ids(self) -> frozenset[int] | None:
        """Ids of the word-inner pieces a prefix marks (WordPiece's ``##``, a BPE's continuing_subword_prefix),
        a position their token_bytes no longer show; None when the vocabulary marks none this way."""
        prefix = self._bpe_prefix or (self._wordpiece_prefix if self._convention == "wordpiece" else "")
        if not prefix:
            return None
        specials = self.special_by_id
        return frozenset(
            i
            for i, token in enumerate(self._id_to_token)
            if token is not None and i not in specials and i not in self._added_text
            and token.startswith(prefix) and len(token) > len(prefix)
        )  # fmt: skip

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        if not (self._config.get("model") or {}).get("byte_fallback"):
            return frozenset()
        return frozenset(
            i for i, token in enumerate(self._id_to_token) if token is not None and BYTE_FALLBACK.match(token)
        )

    @cached_property
    def _merges(self) -> list[tuple[bytes, bytes]] | None:
        model = self._config.get("model") or {}
        if model.get("type") != "BPE":
            return None
        merges = []
        for entry in model.get("merges") or []:
            left, right = entry.split(" ", 1) if isinstance(entry, str) else entry
            merges.append((self._surface_to_bytes(left), self._surface_to_bytes(right)))
        return merges

    @property
    def merges(self) -> list[tuple[bytes, bytes]] | None:
        return self._merges

    @property
    def backend_tokenizer(self) -> Any:
        """The underlying ``tokenizers.Tokenizer`` (reference library)."""
        return self._tokenizer


def _read_json(path: Path) -> Any:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise TokenizerFormatError(f"{path} is not UTF-8 text ({err})", "expected an HF tokenizer.json") from None
    except json.JSONDecodeError as err:
        raise TokenizerFormatError(
            f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})",
            "expected an HF tokenizer.json; the file may be truncated",
        ) from None
    return config


def load_hf_json(
    path: str | Path,
    *,
    name: str | None = None,
    backend: str = "auto",
    declared_roles: Mapping[str, str] | None = None,
    fmt: str = "hf-json",
    extra_sources: Sequence[Path] = (),
    config_added_tokens: Sequence[Mapping[str, Any]] = (),
) -> Tokenizer:
    """Load an HF ``tokenizer.json`` (or a Mistral Tekken json, whose vocabulary a detector reading the head
    of the file did not reach).

    Args:
        path: the tokenizer.json file.
        name: display name (default: the parent directory's name, or the file stem).
        backend: ``"auto"`` or ``"reference"``.
        declared_roles: ``role -> token text`` from a config, if any.
        config_added_tokens: ``added_tokens_decoder`` entries of a tokenizer_config.json; those the file
            lacks are added, as transformers adds them.
    """
    from tokenizers import Tokenizer as BackendTokenizer

    path = Path(path)
    if not path.is_file():
        raise InputError(f"tokenizer file {path} does not exist", "check the path")
    config = _read_json(path)
    from tokensmith.tokenizers.tekken import load_tekken, looks_like_tekken

    if looks_like_tekken(config):  # its vocab starts beyond the head format detection reads
        return load_tekken(path, name=name, backend=backend)
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise TokenizerFormatError(
            f"{path} has no 'model' object", "expected an HF tokenizer.json (keys model, added_tokens, ...)"
        )
    try:
        backend_tokenizer = BackendTokenizer.from_file(str(path))
    except Exception as err:  # noqa: BLE001 - the library's message says which field is wrong
        raise TokenizerFormatError(
            f"{path} is not a tokenizer.json the tokenizers library can read: {err}",
            "expected an HF tokenizer.json written by tokenizers or transformers",
        ) from None
    if _add_config_tokens(backend_tokenizer, config_added_tokens):
        config = json.loads(backend_tokenizer.to_str())
    default_name = file_display_name(path)
    return HFTokenizer(
        backend_tokenizer,
        config,
        name=name or default_name,
        fmt=fmt,
        sources=[path, *extra_sources],
        declared_roles=declared_roles,
        backend=backend,
    )


def load_hf_json_text(text: str, *, name: str, backend: str = "auto") -> Tokenizer:
    """A tokenizer.json held in memory (a trainer's result before it is saved), loaded as the file would be."""
    import hashlib

    from tokenizers import Tokenizer as BackendTokenizer

    return HFTokenizer(BackendTokenizer.from_str(text), json.loads(text), name=name, backend=backend,
                       sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


#: Files a model folder may hold its tokenizer in instead of tokenizer.json: SentencePiece or tiktoken ranks
#: (Llama 3's original/ folder) as tokenizer.model, Mistral's Tekken json (models served by mistral_common).
SINGLE_FILE_TOKENIZERS = ("tokenizer.model", "tekken.json")

#: Files of slow transformers tokenizers -> the fast class that writes their tokenizer.json. A SentencePiece
#: file other than tokenizer.model is not loaded as it is: T5 appends <extra_id_N> tokens, XLM-R and Pegasus
#: shift every id, so its own ids are not the model's.
SLOW_TOKENIZER_FILES = {
    "vocab.txt": "BertTokenizerFast",  # WordPiece
    "vocab.json": "GPT2TokenizerFast",  # byte-level BPE, with merges.txt
    "spiece.model": "T5TokenizerFast",  # T5, ALBERT, XLNet, Pegasus...
    "sentencepiece.bpe.model": "XLMRobertaTokenizerFast",  # XLM-R, CamemBERT, mBART...
}


def _declared_fast_class(directory: Path) -> str | None:
    """The fast class of the ``tokenizer_class`` a folder's tokenizer_config.json names, if any."""
    path = directory / "tokenizer_config.json"
    try:
        declared = json.loads(path.read_text(encoding="utf-8")).get("tokenizer_class")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(declared, str) or not declared.isidentifier():
        return None
    return declared if declared.endswith("Fast") else declared + "Fast"


def load_transformers_dir(
    path: str | Path, *, name: str | None = None, backend: str = "auto", pattern: str | None = None
) -> Tokenizer:
    """Load the tokenizer of a transformers model directory without importing transformers.

    Uses ``tokenizer.json`` (roles from ``tokenizer_config.json`` / ``special_tokens_map.json``); else a
    ``tokenizer.model`` (SentencePiece, or tiktoken ranks whose regex ``pattern`` gives, as in Llama 3's
    ``original/`` folder) or a ``tekken.json`` (Mistral), loaded by its format's loader.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise InputError(f"tokenizer directory {directory} does not exist", "check the path")
    tokenizer_json = directory / "tokenizer.json"
    if tokenizer_json.is_file():
        configs = [directory / f for f in ("tokenizer_config.json", "special_tokens_map.json")]
        return load_hf_json(
            tokenizer_json,
            name=name or directory.name,
            backend=backend,
            declared_roles=_declared_role_texts(directory),
            fmt="transformers-dir",
            extra_sources=[p for p in configs if p.is_file()],
            config_added_tokens=_config_added_tokens(directory),
        )
    for filename in SINGLE_FILE_TOKENIZERS:
        single_file = directory / filename
        if single_file.is_file():
            from tokensmith.tokenizers import detect_format

            return detect_format(single_file).load(single_file, name or directory.name, backend, pattern)
    for filename, fast_class in SLOW_TOKENIZER_FILES.items():
        if (directory / filename).is_file():
            found = "vocab.json and merges.txt" if (directory / "merges.txt").is_file() else filename
            fast_class = _declared_fast_class(directory) or fast_class
            converter = f"from transformers import {fast_class}; {fast_class}.from_pretrained(D).save_pretrained(D)"
            raise TokenizerFormatError(
                f"{directory} holds only the files of a slow transformers tokenizer ({found}), no tokenizer.json",
                f"write its tokenizer.json with transformers, offline: D = {str(directory)!r}; {converter} "
                "(the model's own tokenizer class, or AutoTokenizer when the folder has its config.json)",
            )
    candidates = sorted(
        p.name for p in directory.iterdir() if p.suffix in (".gguf", ".tiktoken", ".model") or p.name.endswith(".gz")
    )
    raise TokenizerFormatError(
        f"{directory} holds none of tokenizer.json, {', '.join(SINGLE_FILE_TOKENIZERS)}",
        f"point at a tokenizer file in it ({', '.join(candidates)})" if candidates
        else "point at a transformers model directory, or at a tokenizer file directly",
    )


def from_backend_tokenizer(
    backend_tokenizer: Any,
    *,
    name: str,
    fmt: str,
    sources: Sequence[str | Path] = (),
    backend: str = "auto",
    sha256: str | None = None,
) -> HFTokenizer:
    """Wrap a ``tokenizers.Tokenizer`` built in code (GPT-2 from encoder.json + vocab.bpe, GGUF vocabularies)."""
    config = json.loads(backend_tokenizer.to_str())
    return HFTokenizer(backend_tokenizer, config, name=name, fmt=fmt, sources=sources, backend=backend, sha256=sha256)
