"""Atomic outputs: a file written to a temp file beside the target, a folder built in a temp folder
beside the target, then renamed into place.

A crash, an interrupt or a refused input never leaves a partial results.json or tokenizer folder behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError, OutputExistsError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()

#: What a write that cannot go on says: no room on the disk or in the quota, a file larger than allowed, a
#: read-only file system. Anything written inside :func:`atomic_folder` failing so is the output's fault.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class CannotWriteError(InputError, OSError):
    """An output file or folder could not be written (a full disk gave a traceback, minutes into a training
    run); ``path`` is the output the user named, ``reason`` the system's words. An ``OSError`` too (with the
    system's ``errno``), as the error was before, for callers of the API that catch that."""

    def __init__(self, path: Path, cause: OSError) -> None:
        self.path, self.reason = path, cause.strerror or str(cause)
        InputError.__init__(self, f"cannot write {path}: {self.reason}",
                            "make room on its disk (or lift the file size limit), or choose another output path")
        self.errno, self.strerror, self.filename = cause.errno, self.reason, str(path)


def check_writable(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse an existing output unless ``force``, and one that cannot be made (under a file, or in a
    folder this user cannot write); call before any work so nothing is wasted."""
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(target)
    if target.exists() and not target.is_file() and not target.is_dir():
        # the output replaces the path by renaming a file onto it: --out /dev/null --force made
        # /dev/null a regular file, breaking every program that writes to it
        raise InputError(f"cannot write {target}: it is a device, pipe or socket, not a file",
                         "give the path of a file, or choose another")
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write {target}: {existing} is a file, not a folder", "choose another output path")
    if not os.access(existing, os.W_OK):
        raise InputError(f"cannot write {target}: no permission to write in {existing}", "choose another output path")
    return target


def check_file_writable(path: str | os.PathLike, *, force: bool = False) -> Path:
    """:func:`check_writable` for an output that is one file: a folder there is refused even with ``force``
    (which :func:`check_writable` lets through, as an output folder may be replaced)."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a folder", "give the path of a file, or choose another")
    return check_writable(target, force=force)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, force: bool = False) -> Path:
    target = check_file_writable(path, force=force)
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
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CannotWriteError(target, exc) from None
        raise
    return target


def path_inside(path: str | os.PathLike, folder: str | os.PathLike) -> Path | None:
    """``path`` relative to ``folder`` when it lies inside it (symbolic links resolved), else None."""
    try:
        relative = Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return None
    return relative if relative.parts else None


def check_folder_writable(path: str | os.PathLike, *, force: bool = False,
                          replaceable: Collection[str] | None = None) -> Path:
    """Refuse an output folder that :func:`atomic_folder` could not put in place; call before any work.

    Refused: a file at ``path``; an existing folder that is not empty, unless ``force``; with ``force``,
    a folder holding an entry not in ``replaceable`` (``None``: any entry may go), or the current folder;
    a parent that cannot be made or written.
    """
    target = Path(path)
    if target.is_dir():
        entries = sorted(entry.name for entry in target.iterdir())
        if entries and not force:
            raise OutputExistsError(target)
        others = [name for name in entries if name not in replaceable] if replaceable is not None else []
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise InputError(f"cannot replace {target}: it holds {shown}, which this output does not write",
                             "the folder is replaced as a whole: move those elsewhere, or choose another output")
        here = Path.cwd().resolve()
        if target.resolve() in (here, *here.parents):
            raise InputError(f"cannot replace {target} as a whole: it is (or holds) the current folder",
                             "run from another folder, or choose another output")
    elif target.exists() or target.is_symlink():
        raise InputError(f"cannot write {target}: it is a file, not a folder", "choose another output path")
    return check_writable(target, force=True)  # a parent that cannot be made or written


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, *, force: bool = False,
                  replaceable: Collection[str] | None = ()) -> Iterator[Path]:
    """Build an output folder as a whole: yields a fresh temporary folder beside ``path``
    (``.NAME.tmp-XXXX``, same file system) to write into, and renames it to ``path`` once the block ends.

    An exception or an interrupt in the block removes the temporary folder: ``path`` is left as it was.
    ``path`` may exist as an empty folder; any other folder is refused unless ``force``, which replaces
    it if it holds nothing but entries of the new folder and ``replaceable`` (older outputs the new one
    lacks; ``None``: whatever it holds), checked when the block ends (:func:`check_folder_writable`).
    """
    target = Path(path)
    check_folder_writable(target, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}", "choose another output path") from None
    aside: Path | None = None
    try:
        yield staging
        allowed = None if replaceable is None else {*replaceable, *(entry.name for entry in staging.iterdir())}
        check_folder_writable(target, force=force, replaceable=allowed)
        os.chmod(staging, 0o777 & ~_UMASK)  # mkdtemp makes 0700; outputs get the usual permissions
        if target.exists():
            # The old folder is moved aside, and deleted only once the new one is in place: a process
            # killed in between leaves it whole, as .NAME.old-XXXX/NAME beside the output.
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, aside / target.name)
        os.replace(staging, target)
    except BaseException as exc:
        if aside is not None:
            _put_back(aside, target)
        shutil.rmtree(staging, ignore_errors=True)
        # a file of the folder that could not be written is the folder that could not be: named so, not the
        # temporary folder
        if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
            raise CannotWriteError(target, exc) from None
        written_here = isinstance(exc, CannotWriteError) and (
            Path(exc.path).resolve() == staging.resolve() or path_inside(exc.path, staging) is not None)
        if written_here:
            raise CannotWriteError(target, exc) from None
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def _put_back(aside: Path, target: Path) -> None:
    """Move the old folder :func:`atomic_folder` set aside back to ``target`` if the new one did not take its place."""
    old = aside / target.name
    if old.exists() and not target.exists():
        os.replace(old, target)
    with contextlib.suppress(OSError):
        aside.rmdir()  # only once empty: an old folder that could not go back stays there


def write_text_atomic(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), force=force)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

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
    text = "".join(parts)
    # A lone surrogate (a file name that is not UTF-8, as Python decodes it) has no UTF-8 form; JSON's
    # \uXXXX escape keeps it, and reads back as the same string.
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


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
