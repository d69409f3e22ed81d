"""Atomic output files: written to a temp file beside the target, then renamed into place.

A crash or a refused input never leaves a partial results.json behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError, OutputExistsError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def check_writable(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse an existing output unless ``force``, and one that cannot be made (under a file, or in a
    folder this user cannot write); call before any work so nothing is wasted."""
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(target)
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write {target}: {existing} is a file, not a folder", "choose another output path")
    if not os.access(existing, os.W_OK):
        raise InputError(f"cannot write {target}: no permission to write in {existing}", "choose another output path")
    return target


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, force: bool = False) -> Path:
    target = check_writable(path, force=force)
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a folder", "give the path of a file, or choose another")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}", "choose another output path") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), force=force)


#: Nesting depth up to which JSON is indented; anything deeper (a record, a cell, a sample) is one line.
JSON_INDENTED_DEPTH = 4


def dumps_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, UTF-8 kept readable, trailing newline; indented two spaces per
    level down to :data:`JSON_INDENTED_DEPTH`, then one line per value.

    One line per record keeps a results file readable and greppable, and lets the C encoder write
    the bulk (``json.dumps`` with ``indent`` runs the pure-Python encoder: ~1 s for a 6 MB file).
    """
    parts: list[str] = []
    _dump_json_value(data, 0, parts)
    parts.append("\n")
    return "".join(parts)


def _dump_json_value(value: Any, depth: int, parts: list[str]) -> None:
    if depth >= JSON_INDENTED_DEPTH or not isinstance(value, dict | list) or not value:
        parts.append(json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False))
        return
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        parts.append("{\n")
        items = sorted(value.items())  # as json.dumps(sort_keys=True)
        for index, (key, item) in enumerate(items):
            parts.append(f"{inner}{json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False)}: ")
            _dump_json_value(item, depth + 1, parts)
            parts.append(",\n" if index < len(items) - 1 else "\n")
        parts.append(outer + "}")
    else:
        parts.append("[\n")
        for index, item in enumerate(value):
            parts.append(inner)
            _dump_json_value(item, depth + 1, parts)
            parts.append(",\n" if index < len(value) - 1 else "\n")
        parts.append(outer + "]")


def write_json_atomic(path: str | os.PathLike, data: Any, *, force: bool = False) -> Path:
    return write_text_atomic(path, dumps_json(data), force=force)
