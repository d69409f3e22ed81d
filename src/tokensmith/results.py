"""The results.json envelope shared by every command that computes figures.

One file holds a provenance block and one section per command that filled it (``measure``,
``vocab``, ``train``, ``transplant``, ``mixture``...). The report renders any set of such files, so
a section is self-describing: it never refers to state outside the file.

Layout::

    {"schema": "tokensmith-results", "schema_version": 1,
     "provenance": {...},                 # tokensmith.provenance.provenance()
     "sections": {"measure": {...}, ...}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError
from tokensmith.io import write_json_atomic
from tokensmith.provenance import RESULTS_SCHEMA_VERSION, provenance

SCHEMA_NAME = "tokensmith-results"


def new_results(command: str, parameters: dict[str, Any], sections: dict[str, Any]) -> dict[str, Any]:
    """A complete results document for one command run."""
    return {
        "schema": SCHEMA_NAME,
        "schema_version": RESULTS_SCHEMA_VERSION,
        "provenance": provenance(command, parameters),
        "sections": sections,
    }


def write_results(path: str | os.PathLike, results: dict[str, Any], *, force: bool = False) -> Path:
    """Write a results document atomically (refuses an existing file unless ``force``)."""
    return write_json_atomic(path, results, force=force)


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a results file written by any compatible tokensmith version.

    Raises:
        InputError: missing, truncated or foreign file, or an incompatible schema version.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such results file: {path}", "pass a results.json written by `tokensmith ... --out`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(f"{path} is not UTF-8 text (byte {error.start})", "pass a results.json file") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
            "the file may be truncated",
            "re-run the command that wrote it",
        ) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_NAME:
        raise InputError(f"{path} is not a tokensmith results file", "pass a results.json written by tokensmith")
    version = data.get("schema_version")
    if version != RESULTS_SCHEMA_VERSION:
        raise InputError(
            f"{path} has results schema version {version!r}; this tokensmith reads version {RESULTS_SCHEMA_VERSION}",
            "re-run the command with this tokensmith version",
        )
    if not isinstance(data.get("sections"), dict):
        raise InputError(f"{path} has no 'sections' object; the file is incomplete", "re-run the command")
    return data
