"""fastokens encodes tiktoken ranks tables in bulk only because it gives tiktoken's ids: proven here
against tiktoken's own path (``backend="reference"``) on edge documents, generated Unicode and every line
and whole document of all 31 languages, for every named reference tiktoken encodes."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tokenizers_loaders import SHORT_TEXTS
from test_tokenizers_tiktoken_flat import EDGE_DOCUMENTS, TIKTOKEN_REFERENCES

from tokensmith.tokenizers import bulk_ranks, load_tokenizer
from tokensmith.tokenizers.base import lists_of_ragged
from tokensmith.tokenizers.bulk_ranks import MIN_BULK_BYTES
from tokensmith.tokenizers.tiktoken_file import BULK_BACKEND_NAME

pytest.importorskip("fastokens", reason="fastokens is part of the refs extra")


@functools.cache
def bulk_and_reference(name: str):
    """The reference loaded twice: told to expect much text (fastokens built), and tiktoken only."""
    bulk = load_tokenizer(name)
    bulk.expect_text(10 * MIN_BULK_BYTES)
    assert bulk._bulk.wait() is not None, bulk._bulk.failure
    return bulk, load_tokenizer(name, backend="reference")


def reference_flat(tokenizer, texts) -> np.ndarray:
    return np.array([i for text in texts for i in tokenizer.encode(text)], dtype=np.int64)


@pytest.mark.parametrize("name", TIKTOKEN_REFERENCES)
def test_bulk_ids_equal_tiktoken_on_edge_documents(name):
    bulk, reference = bulk_and_reference(name)
    documents = SHORT_TEXTS + EDGE_DOCUMENTS + list(reversed(EDGE_DOCUMENTS)) + ["<|endoftext|>", "[INST]", "<s>"]
    flat = bulk.encode_flat(documents)
    assert bulk.info.backend == BULK_BACKEND_NAME
    assert flat.dtype == np.int64
    np.testing.assert_array_equal(flat, reference_flat(reference, documents))
    np.testing.assert_array_equal(flat, reference.encode_flat(documents))
    assert bulk.encode_flat([]).size == 0
    assert bulk.encode_batch(documents) == [reference.encode(text) for text in documents]  # fastokens' lists
    assert bulk._bulk.ragged(documents) is not None
    ids, offsets = bulk.encode_ragged(documents)
    assert ids.dtype == offsets.dtype == np.int64
    assert lists_of_ragged(ids, offsets) == [reference.encode(text) for text in documents]
    ids, offsets = reference.encode_ragged(documents)  # tiktoken's own, from its lists
    assert lists_of_ragged(ids, offsets) == [reference.encode(text) for text in documents]
    assert [a.tolist() for a in bulk.encode_ragged([])] == [[], [0]]
    assert reference.info.backend == "tiktoken" and reference._bulk is None


def test_lone_surrogates_go_to_tiktokens_repair():
    bulk, reference = bulk_and_reference("o200k")
    documents = ["ok", "bad \ud800 half", "\udfff"]
    np.testing.assert_array_equal(bulk.encode_flat(documents), reference_flat(reference, documents))
    assert bulk.encode_batch(documents) == [reference.encode(text) for text in documents]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=60), max_size=8))
def test_bulk_ids_on_generated_documents(documents):
    for name in ("o200k", "mistral-tekken"):
        bulk, reference = bulk_and_reference(name)
        np.testing.assert_array_equal(bulk.encode_flat(documents), reference_flat(reference, documents))
        assert bulk.encode_batch(documents) == [reference.encode(text) for text in documents]
        assert lists_of_ragged(*bulk.encode_ragged(documents)) == [reference.encode(text) for text in documents]


def test_nothing_is_built_for_little_text_or_the_reference_backend():
    small = load_tokenizer("cl100k")
    small.expect_text(MIN_BULK_BYTES - 1)
    assert small._bulk is None
    reference = load_tokenizer("cl100k", backend="reference")
    reference.expect_text(10 * MIN_BULK_BYTES)
    assert reference._bulk is None


def test_a_table_fastokens_cannot_read_stays_on_tiktoken():
    tokenizer = load_tokenizer("qwen3.5")  # tokens BPE cannot build from two parts: fastokens refuses it
    tokenizer.expect_text(10 * MIN_BULK_BYTES)
    assert tokenizer._bulk.wait() is None and tokenizer._bulk.failure
    documents = SHORT_TEXTS[:5]
    np.testing.assert_array_equal(tokenizer.encode_flat(documents), reference_flat(tokenizer, documents))
    assert tokenizer.encode_batch(documents) == [tokenizer.encode(text) for text in documents]
    assert tokenizer.info.backend == "tiktoken"


def test_an_encoder_that_disagrees_on_the_probe_is_not_used(monkeypatch):
    monkeypatch.setattr(bulk_ranks, "fastokens_id_lists", lambda encoder, texts: [[0] for _ in texts])
    tokenizer = load_tokenizer("cl100k")
    tokenizer.expect_text(10 * MIN_BULK_BYTES)
    assert tokenizer._bulk.wait() is None
    assert "other ids" in tokenizer._bulk.failure
    assert tokenizer.encode_flat(["Hello world"]).tolist() == tokenizer.encode("Hello world")


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", TIKTOKEN_REFERENCES)
def test_bulk_ids_equal_tiktoken_on_all_31_languages(name, parallel_texts, parallel_lines):
    bulk, reference = bulk_and_reference(name)
    for lang, lines in parallel_lines.items():
        assert np.array_equal(bulk.encode_flat(lines), reference.encode_flat(lines)), f"{name}, {lang}"
    documents = list(parallel_texts.values())
    np.testing.assert_array_equal(bulk.encode_flat(documents), reference_flat(reference, documents))


@pytest.mark.shared
@pytest.mark.slow
def test_bulk_ids_equal_tiktoken_on_monolingual_and_code_text(shared_data):
    """Other text than the parallel set: the first 400 lines of every monolingual and domain file."""
    paths = sorted((shared_data / "mono").glob("*.txt")) + sorted((shared_data / "domain").glob("*.txt"))
    assert len(paths) > 80
    for name in ("o200k", "cl100k"):
        bulk, reference = bulk_and_reference(name)
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                lines = [line.rstrip("\n") for _, line in zip(range(400), handle, strict=False)]
            assert np.array_equal(bulk.encode_flat(lines), reference.encode_flat(lines)), f"{name}, {path.name}"


def test_a_build_still_running_when_python_exits_is_waited_for(tmp_path):
    """A daemon build thread still inside fastokens when the interpreter finalized aborted `measure` after
    it had written its results (exit code 134, "FATAL: exception not rethrown"): it happened when 30 MB
    were measured before a build slowed by a busy machine. Python must wait for the build instead."""
    import subprocess
    import sys

    finished = tmp_path / "finished"
    script = f"""
import time
from tokensmith.tokenizers import bulk_ranks, load_tokenizer
build = bulk_ranks.BackgroundBulkEncoder._built_and_checked
def slow_build(self):
    time.sleep(1.5)  # a build on a busy machine, outlasting the run
    encoder = build(self)
    open({str(finished)!r}, "w").close()
    return encoder
bulk_ranks.BackgroundBulkEncoder._built_and_checked = slow_build
load_tokenizer("o200k").expect_text(10**9)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert finished.exists(), "the interpreter exited while the build thread was still running"
