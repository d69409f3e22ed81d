"""Mistral Tekken tokenizer files (``tekken_*.json``), read without ``mistral_common``.

Layout (as mistral_common's ``Tekkenizer`` reads it): ``config`` holds the regex ``pattern``,
``default_vocab_size`` and ``default_num_special_tokens``; ``vocab`` lists ``{rank, token_bytes (base64),
token_str}``. Ids ``0 .. num_special-1`` are control tokens (from ``special_tokens`` when the file has it,
else Mistral's fixed early list, the rest ``<SPECIAL_i>``); ordinary rank ``r`` has id ``r + num_special``,
and only the first ``vocab_size - num_special`` ranks are used.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError, TokenizerFormatError
from tokensmith.tokenizers.loaded import check_backend
from tokensmith.tokenizers.tiktoken_file import TiktokenTokenizer

#: Control tokens of Tekken files that predate the ``special_tokens`` key, in id order
#: (mistral_common ``Tekkenizer.DEPRECATED_SPECIAL_TOKENS``).
LEGACY_SPECIAL_TOKENS = (
    "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
    "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]",
)  # fmt: skip
FILLER_TEMPLATE = "<SPECIAL_{id}>"
_EXPECTED = "expected a Mistral Tekken json (config.pattern, config.default_vocab_size, vocab[{rank, token_bytes}])"


def looks_like_tekken(config: Any) -> bool:
    """True for a parsed JSON object shaped like a Tekken file."""
    if not isinstance(config, dict):
        return False
    vocab = config.get("vocab")
    return (
        isinstance(config.get("config"), dict)
        and isinstance(vocab, list)
        and bool(vocab)
        and isinstance(vocab[0], dict)
        and "token_bytes" in vocab[0]
    )


def _control_tokens(data: dict, num_special: int, path: Path) -> dict[str, int]:
    declared = data.get("special_tokens")
    if declared is None:
        texts = list(LEGACY_SPECIAL_TOKENS[:num_special])
    else:
        try:
            texts = [entry["token_str"] for entry in sorted(declared, key=lambda entry: entry["rank"])]
        except (TypeError, KeyError):
            raise TokenizerFormatError(f"{path}: malformed special_tokens list", _EXPECTED) from None
    if len(texts) > num_special or len(set(texts)) != len(texts):
        raise TokenizerFormatError(f"{path}: special_tokens are repeated or exceed {num_special}", _EXPECTED)
    texts += [FILLER_TEMPLATE.format(id=i) for i in range(len(texts), num_special)]
    return {text: i for i, text in enumerate(texts)}


def load_tekken(path: str | Path, *, name: str | None = None, backend: str = "auto") -> TiktokenTokenizer:
    """Load a Mistral Tekken json into a tiktoken-backed tokenizer with Mistral's ids."""
    check_backend(backend)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"tokenizer file {path} does not exist", "check the path")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFormatError(f"{path} is not valid JSON ({err})", _EXPECTED) from None
    if not looks_like_tekken(data):
        raise TokenizerFormatError(f"{path} is not a Tekken file", _EXPECTED)
    config = data["config"]
    try:
        pattern = config["pattern"]
        num_special = int(config["default_num_special_tokens"])
        vocab_size = int(config.get("default_vocab_size") or len(data["vocab"]) + num_special)
        inner_size = vocab_size - num_special
        entries = data["vocab"][:inner_size]
        if len(entries) < inner_size:
            raise ValueError(f"vocab lists {len(entries)} tokens, config needs {inner_size}")
        ranks: dict[bytes, int] = {}
        for index, entry in enumerate(entries):
            if entry["rank"] != index:
                raise ValueError(f"vocab entry {index} has rank {entry['rank']}")
            ranks[base64.b64decode(entry["token_bytes"], validate=True)] = index
    except (KeyError, TypeError, ValueError, binascii.Error) as err:
        raise TokenizerFormatError(f"{path}: malformed Tekken data ({err})", _EXPECTED) from None
    if any(ranks.get(bytes([b])) != b for b in range(256)):
        raise TokenizerFormatError(f"{path}: ranks 0-255 must be the 256 single bytes", _EXPECTED)
    specials = _control_tokens(data, num_special, path)
    return TiktokenTokenizer(
        ranks,
        pattern,
        specials,
        name=name or path.stem,
        fmt="tekken",
        sources=[path],
        id_offset=num_special,
        extra={"version": config.get("version"), "num_special_tokens": num_special},
        backend=backend,
    )
