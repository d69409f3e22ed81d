"""Shared fixtures. Tests on ../shared/data run whenever it is present and say clearly when it is not."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SHARED_REASON = f"../shared/data is absent ({SHARED_DATA}); these tests run on the team's corpora in CI"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The team's real corpora; tests needing them skip (with the reason shown) on a user's machine."""
    if not SHARED_DATA.is_dir():
        pytest.skip(SHARED_REASON)
    return SHARED_DATA


@pytest.fixture(scope="session")
def parallel_texts(shared_data: Path) -> dict[str, str]:
    """Each language of ../shared/data/parallel (31, line-aligned) -> its whole text."""
    files = sorted((shared_data / "parallel").glob("*.txt"))
    assert len(files) == 31, [f.name for f in files]
    return {f.stem: f.read_text(encoding="utf-8") for f in files}


@pytest.fixture(scope="session")
def parallel_lines(parallel_texts: dict[str, str]) -> dict[str, list[str]]:
    """Each parallel language -> its lines."""
    return {lang: text.splitlines() for lang, text in parallel_texts.items()}
