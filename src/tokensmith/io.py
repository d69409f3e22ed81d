"""Atomic output files: written to a temp file beside the target, then renamed into place.

A crash or a refused input never leaves a partial results.json behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tokensmith.errors import OutputExistsError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def check_writable(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse an existing output unless ``force``; call before any work so nothing is wasted."""
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(target)
    return target


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, force: bool = False) -> Path:
    target = check_writable(path, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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


def dumps_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, fixed indentation, UTF-8 kept readable, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: str | os.PathLike, data: Any, *, force: bool = False) -> Path:
    return write_text_atomic(path, dumps_json(data), force=force)
