"""Vocabulary composition: hand-checked classes of a tiny vocabulary, shares summing to 100%, real vocabularies."""

from __future__ import annotations

import math

import pytest
from _vocab_toy import ToyTokenizer

from tokensmith.metrics.lexicon import Lexicon
from tokensmith.metrics.vocab_composition import (
    KINDS,
    classify_token,
    classify_vocabulary,
    compare_vocabularies,
    composition_of,
    language_distribution,
    text_script,
    vocab_composition,
)

# id: (bytes, kind, script, position), every class at least once.
HAND_CHECKED = [
    (b" the", "alphabetic", "Latin", "word_initial"),
    (b"ing", "alphabetic", "Latin", "inner"),
    (b"123", "numeric", "Common", "inner"),
    (b".", "punctuation", "Common", "inner"),
    (b"\n\n", "whitespace", "Common", "inner"),
    (b" ", "whitespace", "Common", "word_initial"),
    (b"\x00", "control", "Common", "inner"),
    (b"ab1", "mixed", "Latin", "inner"),
    (b"<|end|>", "special", "n/a", "n/a"),
    (b"\xe4\xb8", "partial_utf8", "n/a", "n/a"),
    (b"\xe4", "byte_fallback", "n/a", "n/a"),
    (" при".encode(), "alphabetic", "Cyrillic", "word_initial"),
    ("中文".encode(), "alphabetic", "Han", "inner"),
    ("aж".encode(), "alphabetic", "Mixed", "inner"),
    ("e\u0301".encode(), "alphabetic", "Latin", "inner"),  # the combining accent is Inherited, not a 2nd script
]


@pytest.fixture(scope="module")
def toy() -> ToyTokenizer:
    return ToyTokenizer([row[0] for row in HAND_CHECKED], specials={8: "<|end|>"}, fallback=[10])


def test_every_class_of_a_hand_checked_vocabulary(toy):
    classes = classify_vocabulary(toy)
    got = [(c.kind, c.script, c.position) for c in classes]
    assert got == [row[1:] for row in HAND_CHECKED]


def test_shares_sum_to_100_and_match_counts(toy):
    composition = composition_of(classify_vocabulary(toy))
    for dimension in ("kind", "script", "position"):
        assert math.isclose(sum(composition[f"{dimension}_percent"].values()), 100.0, abs_tol=1e-6)
    assert composition["kind_counts"] == {
        "alphabetic": 6, "numeric": 1, "punctuation": 1, "whitespace": 2, "control": 1, "mixed": 1,
        "special": 1, "byte_fallback": 1, "partial_utf8": 1,
    }  # fmt: skip
    assert composition["script_counts"] == {"Common": 5, "Latin": 4, "n/a": 3, "Cyrillic": 1, "Han": 1, "Mixed": 1}
    assert composition["kind_percent"]["alphabetic"] == pytest.approx(40.0)
    assert composition["mixed_script_combinations"] == {"Cyrillic+Latin": 1}
    assert composition["alphabetic_scripts_by_position"]["word_initial"] == {"Cyrillic": 1, "Latin": 1}


def test_script_of_texts():
    assert text_script("Привет") == "Cyrillic"
    assert text_script("مرحبا") == "Arabic"
    assert text_script("2024!") == "Common"
    assert text_script("テスト") == "Katakana"
    assert text_script("東京タワー") == "Mixed"
    assert text_script("नमस्ते") == "Devanagari"


def test_wordpiece_position_comes_from_continuation_flag():
    assert classify_token(0, b"ing", continuation=True).position == "inner"
    assert classify_token(0, b"play", continuation=False).position == "word_initial"


def test_language_distribution_splits_shared_tokens_and_sums_to_100(toy):
    lexicons = {
        "en": Lexicon.from_words("en", ["the", "ing"]),
        "de": Lexicon.from_words("de", ["The"]),  # case-insensitive lookup
        "ru": Lexicon.from_words("ru", ["при"]),
    }
    languages = language_distribution(classify_vocabulary(toy), lexicons)
    # 6 alphabetic tokens: the -> en/de (1/2 each), ing -> en, при -> ru, 中文 and aж -> unknown, é -> short
    assert languages["alphabetic_tokens"] == 6
    assert languages["weights"] == {"en": 1.5, "unknown": 2.0, "ru": 1.0, "de": 0.5, "short": 1.0}
    assert math.isclose(sum(languages["percent"].values()), 100.0, abs_tol=1e-6)
    assert languages["percent"]["en"] == pytest.approx(25.0)
    assert languages["in_several_lexicons"] == 1


def test_overlap_on_byte_forms():
    a = ToyTokenizer([b"a", b" the", b"<s>", "ж".encode()], specials={2: "<s>"}, name="a")
    b = ToyTokenizer([b" the", b"b", b"a", b"<s>"], specials={3: "<s>"}, name="b")
    overlap = compare_vocabularies(a, b)
    assert (overlap["forms_a"], overlap["forms_b"], overlap["shared"], overlap["union"]) == (3, 3, 2, 4)
    assert overlap["jaccard"] == pytest.approx(0.5)
    assert overlap["shared_by_script"] == {"Latin": 2}
    assert overlap["scripts"]["Cyrillic"] == {"a": 1, "b": 0}


# -- real vocabularies --------------------------------------------------------------------------------


def _load(name):
    from tokensmith.tokenizers import load_tokenizer

    return load_tokenizer(name)


def test_gpt2_is_mostly_latin_and_shares_sum_to_100():
    composition = vocab_composition(_load("gpt2"))
    assert composition["script_percent"]["Latin"] > 50
    assert math.isclose(sum(composition["kind_percent"].values()), 100.0, abs_tol=1e-6)
    assert composition["kind_counts"]["special"] == 1
    # GPT-2's byte alphabet: 128 single bytes >= 0x80 plus multi-byte fragments are not UTF-8 alone
    assert composition["kind_counts"]["partial_utf8"] >= 128
    assert sum(composition["kind_counts"][k] for k in KINDS) == 50257


def test_qwen_has_cjk_and_o200k_smollm2_sane():
    qwen = vocab_composition(_load("qwen2.5"))
    assert qwen["script_counts"]["Han"] > 10000
    assert qwen["script_counts"].get("Hangul", 0) > 1000
    for name in ("o200k", "smollm2"):
        composition = vocab_composition(_load(name))
        assert math.isclose(sum(composition["script_percent"].values()), 100.0, abs_tol=1e-6)
        assert composition["script_percent"]["Latin"] > 30
        assert composition["position_counts"]["word_initial"] > 0.2 * composition["tokens"]


def test_sentencepiece_byte_fallback_and_wordpiece_positions():
    mistral = vocab_composition(_load("mistral-v3-sp"))
    assert mistral["kind_counts"]["byte_fallback"] == 256
    minilm = _load("minilm-wordpiece")
    classes = classify_vocabulary(minilm)
    continuation = {c.id for c in classes if c.position == "inner" and c.kind == "alphabetic"}
    # "tokenization" -> "token", "##ization": a word-initial piece, then continuations
    ids = minilm.encode("tokenization")
    assert len(ids) >= 2
    assert ids[0] not in continuation
    assert set(ids[1:]) <= continuation


def test_bpe_continuing_subword_prefix_positions(tmp_path):
    # token_bytes drops a BPE's "##" as WordPiece's: the position comes from the marker, not a leading space
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    from tokensmith.tokenizers import load_tokenizer

    backend = tokenizers.Tokenizer(models.BPE(continuing_subword_prefix="##"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    text = "the photographer photographs the cats of a photographic studio"
    trainer = trainers.BpeTrainer(vocab_size=80, continuing_subword_prefix="##", show_progress=False)
    backend.train_from_iterator([text] * 10, trainer)
    backend.save(str(tmp_path / "marked.json"))
    tokenizer = load_tokenizer(tmp_path / "marked.json")
    positions = {c.id: c.position for c in classify_vocabulary(tokenizer)}
    marked = {i for token, i in backend.get_vocab().items() if token.startswith("##")}
    assert marked and {i for i, position in positions.items() if position == "inner"} == marked
    ids = tokenizer.encode("photographs cats")
    assert [positions[i] for i in ids] == ["word_initial"] + ["inner"] * (len(ids) - 2) + ["word_initial"]


def test_language_distribution_on_shared_lexicons(shared_data):
    composition = vocab_composition(_load("gpt2"), shared_data / "lexicon")
    languages = composition["languages"]
    assert math.isclose(sum(languages["percent"].values()), 100.0, abs_tol=1e-6)
    assert max(languages["percent"], key=languages["percent"].get) == "en"
    assert languages["percent"]["zh-CN"] < 1.0
