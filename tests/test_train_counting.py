"""Pre-token counting: the multiprocessing engine gives exactly the single-process counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tokensmith.errors import InputError, UnknownNameError
from tokensmith.train import counting
from tokensmith.train.counting import count_pretokens
from tokensmith.train.pretokenize import Pretokenizer


@pytest.fixture(scope="module")
def mixed_lines(shared_data: Path) -> list[str]:
    lines: list[str] = []
    for name in ["mono/en.txt", "mono/ja.txt", "parallel/ar.txt", "domain/code_rust.txt"]:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()
    return lines


@pytest.mark.parametrize("workers", [2, 3])
def test_local_engine_equals_single_process(mixed_lines, workers, monkeypatch):
    # Small batches so that every worker gets many of them, in an interleaving that varies run to run.
    monkeypatch.setattr(counting, "BATCH_CHARS", 50_000)
    pretokenizer = Pretokenizer.create("cl100k")
    serial = count_pretokens(mixed_lines, pretokenizer, engine="serial")
    local = count_pretokens(iter(mixed_lines), pretokenizer, engine="local", workers=workers)
    assert local.pretokens == serial.pretokens
    assert local.counts.dtype == np.int64
    assert np.array_equal(local.counts, serial.counts)
    assert local.documents == serial.documents == len(mixed_lines)
    # And both equal a plain Counter over regex.findall, the definition of the count.
    expected = Counter(piece for line in mixed_lines[:3000] for piece in pretokenizer.split(line))
    small = count_pretokens(mixed_lines[:3000], pretokenizer, engine="serial")
    assert small.as_dict() == {text.encode("utf-8"): n for text, n in expected.items()}
    assert serial.total_bytes == sum(len(line.encode("utf-8")) for line in mixed_lines)


def test_small_input_falls_back_to_serial_with_same_result():
    pretokenizer = Pretokenizer.create("gpt2")
    docs = ["the cat", "the dog", "the  end "]
    assert count_pretokens(docs, pretokenizer, engine="local", workers=2).as_dict() == {
        b"the": 3, b" cat": 1, b" dog": 1, b" ": 2, b" end": 1
    }


def test_bad_inputs():
    pretokenizer = Pretokenizer.create("gpt2")
    with pytest.raises(InputError, match="not text"):
        count_pretokens([b"bytes"], pretokenizer, engine="serial")
    with pytest.raises(UnknownNameError):
        count_pretokens(["x"], pretokenizer, engine="spark")
    with pytest.raises(InputError):
        count_pretokens(["x"], pretokenizer, workers=0)
