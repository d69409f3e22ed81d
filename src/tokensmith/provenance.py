"""Provenance recorded in every results.json: versions, git commit, machine, time."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

import tokensmith

#: Distributions whose versions change figures; recorded when installed.
TRACKED_DISTRIBUTIONS = (
    "tokenizers", "tiktoken", "sentencepiece", "fastokens", "gguf", "numpy", "regex", "numba",
    "rjieba", "fugashi", "unidic-lite", "pythainlp", "nlpo3", "torch", "transformers", "mistral-common",
)

RESULTS_SCHEMA_VERSION = 1


def distribution_versions(names: tuple[str, ...] = TRACKED_DISTRIBUTIONS) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def git_commit() -> str | None:
    """Commit of the tokensmith checkout, or None when installed from a wheel / git is absent."""
    source_dir = Path(tokensmith.__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(source_dir), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(source_dir), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, timeout=5,
    ).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def provenance(command: str, parameters: dict) -> dict:
    """The provenance block of a results file."""
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "tool": "tokensmith",
        "tokensmith_version": tokensmith.__version__,
        "git_commit": git_commit(),
        "command": command,
        "parameters": parameters,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": distribution_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
