"""Results handed from workers to the parent through /dev/shm: the same objects as through the pipe."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tokensmith import handover
from tokensmith.handover import HandedOver, hand_over, handover_directory, taken_over

needs_shm = pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="this platform has no /dev/shm")


def _result() -> dict:
    rng = np.random.default_rng(3)
    return {"bytes": rng.integers(0, 256, 5_000_001, dtype=np.uint8), "ids": rng.integers(0, 9, 3, dtype=np.int64),
            "empty": np.zeros(0, dtype=np.int32), "wide": rng.random(700_001), "text": "kept in the payload"}


@needs_shm
def test_large_buffers_go_through_a_file_and_come_back_equal_aligned_and_writable():
    result = _result()
    with handover_directory() as directory:
        assert directory is not None and directory.startswith("/dev/shm/")
        handed = hand_over(result, directory)
        assert isinstance(handed, HandedOver) and len(handed.payload) < 1_000
        assert os.listdir(directory) == [Path(handed.path).name]
        back = taken_over(handed)
        assert os.listdir(directory) == []  # unlinked once mapped
    assert not Path(directory).exists()
    assert back["text"] == result["text"]
    for name in ("bytes", "ids", "empty", "wide"):
        assert back[name].dtype == result[name].dtype and np.array_equal(back[name], result[name])
        assert back[name].flags.aligned and back[name].flags.writeable
    back["bytes"][0] ^= 1  # written in the private mapping only
    assert back["bytes"][0] != result["bytes"][0]


def _equal(back: dict, result: dict) -> bool:
    return back.keys() == result.keys() and all(
        np.array_equal(back[name], value) if isinstance(value, np.ndarray) else back[name] == value
        for name, value in result.items())


def test_without_a_directory_the_result_itself_and_small_buffers_beside_it_are_sent(monkeypatch, tmp_path):
    result = _result()
    assert hand_over(result, None) is result
    assert taken_over(result) is result
    small = {"ids": np.arange(10), "keys": (b"a", b"b")}
    handed = hand_over(small, str(tmp_path))  # pickled once: the queue does not pickle the tally again
    assert isinstance(handed, HandedOver) and handed.path is None and list(tmp_path.iterdir()) == []
    back = taken_over(handed)
    assert _equal(back, small) and back["ids"].flags.writeable
    monkeypatch.setattr(handover, "_MEMORY_FILE_SYSTEM", tmp_path / "absent")
    with handover_directory() as directory:
        assert directory is None


def test_a_file_that_cannot_be_written_falls_back_to_the_pipe(tmp_path):
    result = _result()
    handed = hand_over(result, str(tmp_path / "no such directory"))
    assert isinstance(handed, HandedOver) and handed.path is None
    assert list(tmp_path.iterdir()) == []
    assert _equal(taken_over(handed), result)


@needs_shm
def test_left_over_files_are_removed_with_the_directory():
    with handover_directory() as directory:
        hand_over(_result(), directory)  # a worker stopped after writing, before the parent read it
        assert len(os.listdir(directory)) == 1
    assert not Path(directory).exists()
