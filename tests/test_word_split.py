"""The split-word share's shortcuts are exact: vocabulary lookups instead of encoding, and folding."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.corpus import UnicodeWordSegmenter, word_segmenter
from tokensmith.metrics.word_split import WordSplit, WordSplitter, WordTally, WordTotals, single_token_texts
from tokensmith.tokenizers import load_tokenizer
from tokensmith.tokenizers.references import REFERENCES

#: References whose token bytes always spell the input (no normalizer, no added prefix space).
EXACT = ["gpt2", "cl100k", "o200k", "deepseek-v4", "mistral-tekken"]
#: References that must take the slow path: NFC normalization, SentencePiece, WordPiece.
NOT_EXACT = ["qwen2.5", "mistral-v3-sp", "minilm-wordpiece"]

MIXED = (
    "Tokenizers split words; some words stay whole. Ünïcödé façade naïve coöperate 1234567 don't "
    "Привет мир, как дела? Ελληνικά γράμματα. العربية لغة جميلة. हिन्दी भाषा। Türkçe İstanbul'da "
    "tiếng Việt có dấu. 한국어 텍스트 입니다. ﬁnance ﬂow (ligatures) e\u0301te\u0301 x\u200dy"
)


@cache
def loaded(name: str):
    reference = REFERENCES.get(name)
    if reference.locate() is None:
        pytest.skip(f"{reference.package} is not installed ({reference.pip_command})")
    return load_tokenizer(name)


def english_documentation() -> list[str]:
    """~460 kB of English prose and code that ships with Python itself (pydoc's topic texts)."""
    from pydoc_data.topics import topics

    return [line for text in topics.values() for line in text.splitlines() if line.strip()]


def slow_split(tokenizer, counts: Counter, *, spaced: bool = True) -> WordSplit:
    """Every word type encoded, no vocabulary shortcut."""
    reference = WordSplitter(tokenizer.encode_batch, leading_space=None if spaced else False)
    return reference.split(counts)


@pytest.mark.parametrize("name", EXACT)
def test_vocabulary_shortcut_equals_encoding_every_word(name):
    tokenizer = loaded(name)
    assert tokenizer.exact_spans
    counts = UnicodeWordSegmenter().count_words([*english_documentation(), MIXED])
    fast = WordSplitter.for_tokenizer(tokenizer, spaced=True)
    assert fast.split(counts) == slow_split(tokenizer, counts)
    # The shortcut is taken: only word types that are some token's text were encoded.
    assert 0 < fast.cached_types < len(counts)
    unspaced = WordSplitter.for_tokenizer(tokenizer, spaced=False)
    assert not unspaced.leading_space
    assert unspaced.split(counts) == slow_split(tokenizer, counts, spaced=False)


@pytest.mark.shared
@pytest.mark.parametrize("name", EXACT)
def test_vocabulary_shortcut_equals_encoding_on_31_languages(name, shared_data):
    tokenizer = loaded(name)
    fast = WordSplitter.for_tokenizer(tokenizer, spaced=True)
    for path in sorted((shared_data / "parallel").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()[:3000]
        segmenter = word_segmenter(path.stem, sample=lines)
        if not segmenter:
            continue
        counts = segmenter.count_words(lines)
        expected = slow_split(tokenizer, counts, spaced=segmenter.spaced)
        splitter = fast if segmenter.spaced else WordSplitter.for_tokenizer(tokenizer, spaced=False)
        assert splitter.split(counts) == expected, path.stem


@pytest.mark.parametrize("name", ["o200k", "cl100k"])
def test_a_space_the_pre_tokenizer_splits_off_belongs_to_no_word(name):
    """cl100k and o200k never join a space to digits: `` 123`` is two tokens, the number one."""
    tokenizer = loaded(name)
    text = "the cat 123 456"
    assert [tokenizer.token_bytes(i) for i in tokenizer.encode(text)] == [b"the", b" cat", b" ", b"123", b" ", b"456"]
    counts = UnicodeWordSegmenter().count_words([text] * 50)
    assert counts == Counter({"the": 50, "cat": 50, "123": 50, "456": 50})
    for splitter in (WordSplitter.for_tokenizer(tokenizer, spaced=True), WordSplitter(tokenizer.encode_batch)):
        assert splitter.leading_space
        assert splitter.split(counts) == WordSplit(200, 0)
        assert splitter.tokens_per_word(["1234567", "cat", "12"]) == {"1234567": 3, "cat": 1, "12": 1}


def test_a_sentencepiece_dummy_prefix_belongs_to_no_word():
    """Mistral's SentencePiece prefixes every text with "▁", a token of its own before a character it has no
    "▁"-piece for. A Chinese word encoded alone gets it, though in context it follows no space: every word of
    a zh text counted as split (去 is one token in 我们去); so did the Yoruba ń, whose space other tokenizers
    leave as a lone token too (qwen2.5: " ń" is " ", "ń"), where it counted as no part of the word."""
    tokenizer = loaded("mistral-v3-sp")
    assert [tokenizer.token_bytes(i) for i in tokenizer.encode("去")] == [b" ", "去".encode()]
    assert [tokenizer.token_bytes(i) for i in tokenizer.encode("我们去")][-1] == "去".encode()
    unspaced = WordSplitter.for_tokenizer(tokenizer, spaced=False)
    assert unspaced.tokens_per_word(["去", "我们"]) == {"去": 1, "我们": 2}
    assert unspaced.split(Counter({"去": 3, "我们": 1})) == WordSplit(4, 1)
    spaced = WordSplitter.for_tokenizer(tokenizer, spaced=True)
    assert spaced.tokens_per_word(["ń", "ọjà"]) == {"ń": 1, "ọjà": 2}


@pytest.mark.parametrize("name", NOT_EXACT)
def test_normalizing_tokenizers_are_not_exact(name):
    assert not loaded(name).exact_spans


def test_byte_level_prefix_space_is_not_exact(tmp_path):
    import json

    gpt2 = loaded("gpt2")
    config = json.loads(gpt2.backend_tokenizer.to_str())
    config["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    prefixed = load_tokenizer(str(path))
    assert len(prefixed.encode("hello")) == 1 and prefixed.token_bytes(prefixed.encode("hello")[0]) == b" hello"
    assert not prefixed.exact_spans


class ToyVocabulary:
    all_token_bytes = [b"a", b" a", b" ab", b"ab", b"\xe2\x82", b" \xe2\x82\xac", b" "]


def test_single_token_texts_by_hand():
    assert single_token_texts(ToyVocabulary(), leading_space=False) == {"a", " a", " ab", "ab", " €", " "}
    # With the leading space: the words w for which " " + w is a token; a partial character is no text.
    assert single_token_texts(ToyVocabulary(), leading_space=True) == {"a", "ab", "€", ""}


def test_word_tally_folds_are_additive():
    lines = english_documentation()[:4000] + [MIXED] * 3
    tokenizer = loaded("gpt2")
    segmenter = UnicodeWordSegmenter("en")
    expected = WordSplitter.for_tokenizer(tokenizer, spaced=True).split(segmenter.count_words(lines))
    for fold_units in (7, 500, 1 << 30):
        tally = WordTally(segmenter, [WordSplitter.for_tokenizer(tokenizer, spaced=True)], fold_units=fold_units)
        for start in range(0, len(lines), 300):
            tally.add(lines[start : start + 300])
        assert tally.totals() == [expected]
        assert tally.documents == len(lines)


# -- the chunk fast path of UAX #29 counting -------------------------------------------------------
#: Characters that exercise the fast path's edges: letters of several scripts, digits, marks, format
#: characters, Hebrew (WB7a/b/c), apostrophes and the punctuation around words.
EDGE_ALPHABET = "aZé5٣ßжשあア漢" + "\u0301\u0903\u200d\u200c\u00ad" + "'’\".,;:!?()[]{}«»“”‘…،؛।-_/¿¡@#²Ⅻ=+*<>|&%$~^`\\"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=EDGE_ALPHABET, min_size=1, max_size=12), min_size=1, max_size=20))
def test_chunk_fast_path_equals_full_rules(chunks):
    segmenter = UnicodeWordSegmenter()
    units = Counter(chunks)
    full = Counter()
    for chunk, n in units.items():
        for word in segmenter.words_of_chunk(chunk):
            full[word] += n
    assert segmenter.words_of_units(units) == full


@pytest.mark.shared
def test_chunk_fast_path_equals_full_rules_on_every_language(shared_data):
    segmenter = UnicodeWordSegmenter()
    paths = sorted((shared_data / "mono").glob("*.txt")) + sorted((shared_data / "parallel").glob("*.txt"))
    assert len(paths) > 100
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()[:2000]
        units = segmenter.new_units()
        segmenter.count_units(lines, units)
        chunks = Counter(chunk for line in lines for chunk in line.split())
        assert len(units) == len(chunks), path.name
        full = Counter()
        for chunk, n in chunks.items():
            for word in segmenter.words_of_chunk(chunk):
                full[word] += n
        assert segmenter.words_of_units(units) == full, path.name


@pytest.mark.parametrize("names", [("gpt2", "o200k", "deepseek-v4"), ("o200k", "minilm-wordpiece")])
def test_word_totals_split_only_candidates_yet_equal_splitting_every_word(names):
    """WordTotals splits only the union of the tokenizers' one-token texts; totals must equal splitting
    every word with every tokenizer (with a tokenizer without exact spans, every word is split)."""
    lines = english_documentation()[:3000] + [MIXED] * 3
    words = UnicodeWordSegmenter("en").count_words(lines)
    tokenizers = [loaded(name) for name in names]
    expected = [WordSplitter.for_tokenizer(t, spaced=True).split(words) for t in tokenizers]
    totals = WordTotals([WordSplitter.for_tokenizer(t, spaced=True) for t in tokenizers])
    half = dict(list(words.items())[: len(words) // 2])
    totals.add(half)
    got = totals.add({w: n for w, n in words.items() if w not in half})
    assert got == expected
    assert all(0 < split.multi_token_words < split.words for split in got)
    if all(t.exact_spans for t in tokenizers):
        assert totals._candidates is not None
    else:
        assert totals._candidates is None
