"""Load any tokenizer offline behind one protocol: files of six formats, or a named reference.

>>> from tokensmith.tokenizers import load_tokenizer
>>> tok = load_tokenizer("o200k")                       # a named reference (PyPI package)   # doctest: +SKIP
>>> tok = load_tokenizer("path/to/tokenizer.json")      # or any supported file / directory   # doctest: +SKIP

Format loaders are imported only when a file of their format is loaded, so importing this package stays
light.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError, TokenizerFormatError, UnknownNameError
from tokensmith.registry import Registry
from tokensmith.tokenizers.base import SpecialToken, Tokenizer, TokenizerInfo
from tokensmith.tokenizers.references import REFERENCES, ReferenceStatus, list_references, reference_name

__all__ = [
    "FORMATS",
    "ReferenceStatus",
    "SpecialToken",
    "Tokenizer",
    "TokenizerInfo",
    "detect_format",
    "list_references",
    "load_tokenizer",
]

_HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class FileFormat:
    """A tokenizer file format: how to recognise a path, and how to load it.

    ``detect(path, head)`` sees the path and the file's first 64 KiB (empty for a directory).
    ``load(path, name, backend, pattern)`` returns a Tokenizer.
    """

    name: str
    description: str
    detect: Callable[[Path, bytes], bool]
    load: Callable[[Path, str | None, str, str | None], Tokenizer]


FORMATS = Registry[FileFormat]("tokenizer file format")


def _load_transformers_dir(path: Path, name: str | None, backend: str, pattern: str | None) -> Tokenizer:
    from tokensmith.tokenizers.hf_json import load_transformers_dir

    return load_transformers_dir(path, name=name, backend=backend, pattern=pattern)


def _load_gguf(path: Path, name: str | None, backend: str, pattern: str | None) -> Tokenizer:
    from tokensmith.tokenizers.gguf_file import load_gguf

    return load_gguf(path, name=name, backend=backend)


def _load_sentencepiece(path: Path, name: str | None, backend: str, pattern: str | None) -> Tokenizer:
    from tokensmith.tokenizers.sentencepiece_model import load_sentencepiece

    return load_sentencepiece(path, name=name, backend=backend)


def _load_tiktoken(path: Path, name: str | None, backend: str, pattern: str | None) -> Tokenizer:
    from tokensmith.tokenizers.tiktoken_file import load_tiktoken

    return load_tiktoken(path, pattern=pattern, name=name, backend=backend)


def _load_tekken(path: Path, name: str | None, backend: str, pattern: str | None) -> Tokenizer:
    from tokensmith.tokenizers.tekken import load_tekken

    return load_tekken(path, name=name, backend=backend)


def _load_hf_json(path: Path, name: str | None, backend: str, pattern: str | None) -> Tokenizer:
    from tokensmith.tokenizers.hf_json import load_hf_json

    return load_hf_json(path, name=name, backend=backend)


_SENTENCEPIECE_NAME = re.compile(r"\.model(\.v\w+)?$")  # tokenizer.model, mistral's *.model.v3
_TIKTOKEN_LINE = re.compile(rb"^[A-Za-z0-9+/=]+ \d+\r?$", re.MULTILINE)
# Tekken's vocab is a list of objects carrying token_bytes; an HF vocab is an object or a list of lists.
_TEKKEN_HEAD = re.compile(rb'"vocab"\s*:\s*\[\s*\{[^}]*"token_bytes"')


def _is_json(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".json" or head.lstrip()[:1] == b"{"


def _is_sentencepiece(path: Path, head: bytes) -> bool:
    # Llama 3's original/tokenizer.model and Kimi's tiktoken.model are ranks files under this name.
    return bool(_SENTENCEPIECE_NAME.search(path.name)) and not _TIKTOKEN_LINE.match(head)


# Order matters: the first format whose detector accepts the path loads it.
for _format in (
    FileFormat("transformers-dir", "transformers tokenizer directory", lambda p, h: p.is_dir(), _load_transformers_dir),
    FileFormat("gguf", "GGUF model (vocabulary read from its metadata)", lambda p, h: h[:4] == b"GGUF"
               or p.suffix.lower() == ".gguf", _load_gguf),
    FileFormat("sentencepiece", "SentencePiece .model", _is_sentencepiece, _load_sentencepiece),
    FileFormat("tiktoken", "tiktoken ranks (.tiktoken[.gz]) + regex", lambda p, h: ".tiktoken" in p.name
               or (not _is_json(p, h) and bool(_TIKTOKEN_LINE.match(h))), _load_tiktoken),
    FileFormat("tekken", "Mistral Tekken json", lambda p, h: _is_json(p, h) and bool(_TEKKEN_HEAD.search(h)),
               _load_tekken),
    FileFormat("hf-json", "HF tokenizer.json", _is_json, _load_hf_json),
):  # fmt: skip
    FORMATS.add(_format.name, _format)


def detect_format(path: str | Path) -> FileFormat:
    """The format of a tokenizer file or directory, judged by its name and first bytes."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"tokenizer path {path} does not exist", "check the path, or use a reference name")
    head = b""
    if path.is_file():
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    for _, file_format in FORMATS.items():
        if file_format.detect(path, head):
            return file_format
    known = "; ".join(f"{fmt.description}" for _, fmt in FORMATS.items())
    raise TokenizerFormatError(f"{path} is not a tokenizer file tokensmith recognises", f"supported: {known}")


#: A Hugging Face Hub model id ("owner/name"), which a user of transformers may pass for a path.
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")

#: Display name of a trainer's result loaded before it is saved (it has no file to be named by).
TRAINED_NAME = "trained"
_TOKENIZER_FILE_SUFFIX = re.compile(r"\.(json|model|gguf|tiktoken|gz)\b")


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or bool(_TOKENIZER_FILE_SUFFIX.search(spec))


def load_tokenizer(
    spec: str | Path | Tokenizer | Any,
    *,
    pattern: str | None = None,
    name: str | None = None,
    backend: str = "auto",
) -> Tokenizer:
    """Load a tokenizer from a reference name, a file or directory, or pass a loaded one through.

    Args:
        spec: a reference name (see :func:`list_references`; tiktoken's encoding and model names such as
            ``cl100k_base`` and ``gpt-4o`` name theirs), a path (tokenizer.json, transformers
            directory, ``.tiktoken[.gz]``, SentencePiece ``.model``, ``.gguf``, Tekken ``.json``), a
            trainer's result (``TrainedBPE``, ``ExtendedBPE``: the tokenizer.json it would save, unsaved), or
            a Tokenizer (returned as is).
        pattern: the regex of a ``.tiktoken`` file (preset name or regex); ignored by other formats.
        name: display name (default: the reference name, the file's name, or "trained").
        backend: ``"auto"`` (fastest backend proven identical) or ``"reference"`` (the format's library).

    Raises:
        UnknownNameError: ``spec`` is neither a reference nor an existing path (lists the references).
        InputError: the path does not exist.
        MissingDependencyError: the reference's package is not installed (gives the pip command).
        TokenizerFormatError: the file is malformed or of no supported format.
    """
    from tokensmith.tokenizers.loaded import check_backend

    if isinstance(spec, Tokenizer):
        return _renamed(spec, name) if name and spec.name != name else spec
    if not isinstance(spec, str | os.PathLike) and not callable(getattr(spec, "to_tokenizer_json", None)):
        raise InputError(f"the tokenizer given is a {type(spec).__name__}: not a name, a path or a loaded Tokenizer",
                         "pass a reference name (see list_references()), the path of a tokenizer file or folder, "
                         "a trainer's result or a Tokenizer from load_tokenizer")
    check_backend(backend)
    if not isinstance(spec, str | os.PathLike):  # a trainer's result: its tokenizer.json, as saved
        from tokensmith.tokenizers.hf_json import load_hf_json_text

        return load_hf_json_text(spec.to_tokenizer_json(), name=name or TRAINED_NAME, backend=backend)
    text = str(spec)
    path = Path(text).expanduser()
    if isinstance(spec, Path):
        reference = None
    elif text in REFERENCES:  # a reference name wins over a folder of that name (write ./gpt2 for it)
        reference = text
    else:  # tiktoken's encoding and model names, unless a file or folder has that name
        reference = None if path.exists() else reference_name(text)
    if reference is not None:
        tokenizer = REFERENCES.get(reference).load(backend)
    elif path.exists():
        tokenizer = detect_format(path).load(path, name, backend, pattern)
    elif isinstance(spec, Path) or _looks_like_path(text):
        hint = "check the path, or use a reference name"
        owner_is_local = Path(text.split("/")[0]).exists()  # "out/bpe": a local folder, not a Hub owner
        if _HUB_ID.fullmatch(text) and not _TOKENIZER_FILE_SUFFIX.search(text) and not owner_is_local:
            hint += (f"; tokensmith downloads nothing: for the Hugging Face model {text}, pass the folder of a "
                     f"downloaded copy (huggingface-cli download {text} --local-dir DIR)")
        raise InputError(f"tokenizer path {text} does not exist", hint)
    else:
        raise UnknownNameError("tokenizer reference", text, REFERENCES.names())
    if name and tokenizer.name != name:
        from dataclasses import replace

        tokenizer.info = replace(tokenizer.info, name=name)
    return tokenizer


def _renamed(tokenizer: Tokenizer, name: str) -> Tokenizer:
    """``tokenizer`` under another name: a shallow copy (sharing the encoder), leaving the caller's object as
    it was (``name=`` was ignored for a loaded tokenizer)."""
    import copy
    from dataclasses import replace

    renamed = copy.copy(tokenizer)
    renamed.info = replace(tokenizer.info, name=name)
    return renamed
