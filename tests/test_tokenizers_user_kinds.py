"""Tokenizer kinds users bring beyond the named references: HF tokenizer.json options and SentencePiece
trainer options, built in the test (hand-made vocabularies or the formats' own trainers on text written
here), checked against the reference library.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tokensmith.tokenizers import load_tokenizer

tokenizers = pytest.importorskip("tokenizers")


def _save(backend, path: Path) -> Path:
    backend.save(str(path))
    return path


def test_bpe_dropout_is_switched_off_so_measures_repeat(tmp_path):
    from tokenizers import models

    vocab = {"a": 0, "b": 1, "ab": 2, "abab": 3}
    # dropout 1.0 drops every merge: the file's own library encodes "abab" letter by letter
    backend = tokenizers.Tokenizer(models.BPE(vocab, [("a", "b"), ("ab", "ab")], dropout=1.0))
    assert backend.encode("abab").ids == [0, 1, 0, 1]
    tokenizer = load_tokenizer(_save(backend, tmp_path / "dropout.json"))
    assert tokenizer.encode("abab") == [3]  # the segmentation the model runs with
    assert tokenizer.encode_batch(["abab", "ab"]) == [[3], [2]]
    assert tokenizer.info.extra["dropout_ignored"] == 1.0
