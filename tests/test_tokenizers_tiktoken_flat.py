"""tiktoken's ``encode_flat`` joins a batch with a private control token and encodes it in one call; the
ids must equal encoding every document alone, whatever the documents' edges hold (spaces, newlines,
punctuation, control-token texts, the break's own text)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tokenizers_loaders import SHORT_TEXTS, loaded

from tokensmith.tokenizers.tiktoken_file import _DOCUMENT_BREAK

# Every named reference that tiktoken encodes: plain (cl100k, o200k), NFC-normalising (qwen), offset
# ids with control tokens first (tekken).
TIKTOKEN_REFERENCES = ["cl100k", "o200k", "qwen2.5", "mistral-tekken"]

EDGE_DOCUMENTS = [
    "", " ", "ends in a space ", "ends in a full stop.", "line\n", "\n", "\n\n  x", "  ", "tab\t", "!!!",
    "<|endoftext|>", "text <|endoftext|> inside", "'s", "123", "x" * 3000, "e\u0301 NFD", "\u00e9 NFC",
]


def test_lone_surrogates_get_tiktokens_repair():
    tokenizer = loaded("o200k")
    documents = ["ok", "bad \ud800 half", "\udfff"]
    np.testing.assert_array_equal(tokenizer.encode_flat(documents), one_by_one(tokenizer, documents))


def one_by_one(tokenizer, texts: list[str]) -> np.ndarray:
    return np.array([i for text in texts for i in tokenizer.encode(text)], dtype=np.int64)


@pytest.mark.parametrize("name", TIKTOKEN_REFERENCES)
def test_flat_ids_equal_encoding_each_document_alone(name):
    tokenizer = loaded(name)
    assert tokenizer.info.backend == "tiktoken"
    documents = SHORT_TEXTS + EDGE_DOCUMENTS + list(reversed(EDGE_DOCUMENTS))
    flat = tokenizer.encode_flat(documents)
    assert flat.dtype == np.int64
    np.testing.assert_array_equal(flat, one_by_one(tokenizer, documents))
    assert tokenizer.encode_flat([]).size == 0


@pytest.mark.parametrize("name", ["cl100k", "qwen2.5"])
def test_a_document_that_spells_the_break_is_still_exact(name):
    tokenizer = loaded(name)
    documents = ["before", f"a {_DOCUMENT_BREAK} b", _DOCUMENT_BREAK, "after"]
    np.testing.assert_array_equal(tokenizer.encode_flat(documents), one_by_one(tokenizer, documents))
    assert tokenizer._document_break_id not in tokenizer.encode(_DOCUMENT_BREAK)


def test_the_break_is_private():
    tokenizer = loaded("o200k")
    assert tokenizer._document_break_id == tokenizer.vocab_size
    assert all(special.text != _DOCUMENT_BREAK for special in tokenizer.special_tokens)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=8))
def test_flat_ids_on_generated_documents(documents):
    for name in ("o200k", "qwen2.5"):
        tokenizer = loaded(name)
        np.testing.assert_array_equal(tokenizer.encode_flat(documents), one_by_one(tokenizer, documents))


@pytest.mark.shared
@pytest.mark.parametrize("name", ["o200k", "cl100k"])
def test_flat_ids_on_all_31_languages(name, shared_data):
    tokenizer = loaded(name)
    paths = sorted((shared_data / "parallel").glob("*.txt"))
    assert len(paths) == 31
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        flat = tokenizer.encode_flat(lines)
        expected = np.fromiter((i for ids in tokenizer.encode_batch(lines) for i in ids), dtype=np.int64)
        assert np.array_equal(flat, expected), f"{name}, {path.stem}: flat ids differ"


@pytest.mark.parametrize("name", ["o200k", "mistral-tekken"])
def test_a_million_mixed_whitespace_characters_are_encoded(name):
    # fancy-regex gives up on this run under o200k-style patterns: tiktoken panics or raises ValueError
    tokenizer = loaded(name)
    run = " \t" * 500_000
    documents = ["before", run + "after", "\t x"]
    ids = tokenizer.encode(documents[1])
    assert tokenizer.decode(ids) == documents[1]
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == documents[1].encode()
    np.testing.assert_array_equal(tokenizer.encode_flat(documents), one_by_one(tokenizer, documents))
    assert tokenizer.encode_batch(documents)[1] == ids
    tail = tokenizer.encoding.encode_ordinary(" \t" * 1000 + "after")[-1]  # tiktoken ends the short run alike
    assert ids[-1] == tail
