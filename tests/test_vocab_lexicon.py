"""%valid / %pure: hand-pinned shares over unique tokens and over occurrences, lexicon reading, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from _vocab_toy import ToyTokenizer

from tokensmith.errors import InputError
from tokensmith.metrics.lexicon import (
    Lexicon,
    fold_case,
    hunspell_stems,
    lexicon_share,
    load_lexicon_dir,
    pure_share,
    read_lexicon,
    valid_word_share,
)

TOKENS = [b" kitap", b"lar", b"ev", b".", b"xq", b"<s>", b" "]


@pytest.fixture(scope="module")
def toy() -> ToyTokenizer:
    return ToyTokenizer(TOKENS, specials={5: "<s>"})


WORDS = Lexicon.from_words("tr", ["kitap", "ev", "kitaplar"])
MORPHS = Lexicon.from_words("tr", ["kitap", "lar", "ev"], kind="morphemes")


def test_valid_share_pinned_over_unique_and_occurrences(toy):
    counts = np.array([3, 2, 1, 4, 0, 7, 0])  # the special token's 7 never counts
    valid = lexicon_share(toy.all_token_bytes, WORDS, counts=counts, exclude_ids=[5])
    assert (valid["unique_tokens"], valid["unique_found"]) == (4, 2)
    assert valid["unique_percent"] == pytest.approx(50.0)
    assert (valid["occurrences"], valid["occurrences_found"]) == (10, 4)
    assert valid["occurrences_percent"] == pytest.approx(40.0)
    pure = lexicon_share(toy.all_token_bytes, MORPHS, counts=counts, exclude_ids=[5])
    assert pure["unique_percent"] == pytest.approx(75.0)
    assert pure["occurrences_percent"] == pytest.approx(60.0)


def test_vocabulary_scope_and_corpus_texts(toy):
    vocabulary = valid_word_share(toy, WORDS)
    assert vocabulary["scope"] == "vocabulary"
    assert (vocabulary["unique_tokens"], vocabulary["unique_found"]) == (6, 2)
    assert vocabulary["occurrences_percent"] is None
    # " kitaplar ev." -> " kitap" "lar" " " "ev" "."
    corpus = valid_word_share(toy, WORDS, texts=[" kitaplar ev."])
    assert (corpus["unique_tokens"], corpus["unique_found"], corpus["occurrences"]) == (5, 2, 5)
    assert pure_share(toy, MORPHS, texts=[" kitaplar ev."])["occurrences_found"] == 3


def test_turkic_casing_and_lexicon_folders_know_every_spelling_of_the_language(tmp_path):
    """Turkish casing (I -> ı, İ -> i) was keyed on 'tr' as written: a lexicon tagged 'tur' (ISO 639-3) or
    FLORES-200's azj_Latn folded ILIK to 'ilik', and a folder's tr.txt was not found for langs=['tur']."""
    from tokensmith.metrics.lexicon import resolve_lexicon

    assert fold_case("ISPARTA", "tur") == fold_case("ISPARTA", "tr") == "ısparta"
    assert fold_case("ILIK İZMİR", "azj_Latn") == "ılık izmir"
    assert fold_case("ISPARTA", "eng") == "isparta"
    turkish = Lexicon.from_words("tur", ["ılık", "İzmir"])
    assert turkish.contains("ILIK") and turkish.contains("IZMIR") is False and turkish.contains("izmir")
    (tmp_path / "tr.txt").write_text("ılık\nkitap\n", encoding="utf-8")
    (tmp_path / "en.txt").write_text("book\n", encoding="utf-8")
    assert list(load_lexicon_dir(tmp_path, langs=["tur"])) == ["tr"]
    assert resolve_lexicon(tmp_path, lang="tur").contains("ILIK")


def test_letters_only_drops_punctuation_and_spaces(toy):
    result = lexicon_share(toy.all_token_bytes, WORDS, exclude_ids=[5], letters_only=True)
    assert (result["unique_tokens"], result["unique_found"]) == (4, 2)


def test_case_folding_handles_turkish_i():
    assert fold_case("İSTANBUL", "tr") == "istanbul"
    assert fold_case("ISPARTA", "tr") == "ısparta"
    assert fold_case("ISPARTA", "en") == "isparta"
    lexicon = Lexicon.from_words("tr", ["İstanbul", "ılık"])
    assert lexicon.contains(" istanbul") and lexicon.contains("ILIK") and not lexicon.contains("ilik")
    exact = Lexicon.from_words("tr", ["İstanbul"], case_sensitive=True)
    assert exact.contains("İstanbul") and not exact.contains("istanbul")


def test_hunspell_dic_with_declared_encoding(tmp_path):
    (tmp_path / "tr.aff").write_bytes(b"SET ISO8859-9\n")
    (tmp_path / "tr.dic").write_bytes("3\nçay/AB\nşeker po:noun\nyol\\/lar/X\n".encode("iso-8859-9"))
    lexicon = read_lexicon(tmp_path / "tr.dic")
    assert (
        lexicon.entries == 3 and lexicon.contains("Çay") and lexicon.contains("şeker") and lexicon.contains("yol/lar")
    )
    assert hunspell_stems("2\nab/X\n\tcomment\ncd\n") == ["ab", "cd"]


def test_folder_of_lexicons_and_keep(tmp_path):
    (tmp_path / "en.txt").write_text("the\nhouse\n", encoding="utf-8")
    (tmp_path / "de.txt").write_text("Haus\n", encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a lexicon\n", encoding="utf-8")
    lexicons = load_lexicon_dir(tmp_path, keep={"house", "haus"})
    assert sorted(lexicons) == ["de", "en"]
    assert lexicons["en"].words == frozenset({"house"}) and lexicons["en"].entries == 2
    with pytest.raises(InputError, match="no lexicon for fr"):
        load_lexicon_dir(tmp_path, langs=["fr"])


def test_bad_lexicons_are_refused(tmp_path):
    (tmp_path / "tr.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_lexicon(tmp_path / "tr.txt")
    (tmp_path / "de.txt").write_bytes("Straße\n".encode("latin-1"))
    with pytest.raises(InputError, match="not valid utf-8"):
        read_lexicon(tmp_path / "de.txt")
    with pytest.raises(InputError, match="no such lexicon"):
        read_lexicon(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="no <lang>.txt"):
        load_lexicon_dir(tmp_path / "..")


def test_turkish_valid_share_on_real_lexicon(shared_data):
    from tokensmith.tokenizers import load_tokenizer

    lexicon = read_lexicon(shared_data / "lexicon" / "tr.txt")
    texts = (shared_data / "parallel" / "tr.txt").read_text(encoding="utf-8").splitlines()
    results = {name: valid_word_share(load_tokenizer(name), lexicon, texts=texts) for name in ("gpt2", "o200k")}
    for result in results.values():
        assert 10 < result["unique_percent"] < 90
        assert 10 < result["occurrences_percent"] < 90
        assert result["unique_percent"] != pytest.approx(result["occurrences_percent"])
    # o200k was trained on far more Turkish than GPT-2: more of its tokens are Turkish words
    assert results["o200k"]["unique_percent"] > results["gpt2"]["unique_percent"]


def test_unk_tokens_count_in_the_denominators_and_are_never_valid():
    """The module's rule: UNK is produced from text, so it counts and is never valid; it was left out with the
    control tokens, so text a WordPiece cannot spell raised its %valid (Ge'ez and Cherokee become [UNK])."""
    from tokensmith.metrics import TokenStats, VocabularyFacts
    from tokensmith.metrics.lexicon import lexicon_metric_values
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("minilm-wordpiece")
    text = "ya ሰላም ᏣᎳᎩ ya"
    pieces = [tokenizer.token_bytes(i) for i in tokenizer.encode(text)]
    assert pieces == [b"ya", b"[UNK]", b"[UNK]", b"ya"]
    swahili = Lexicon.from_words("sw", ["ya", "habari"])
    shares = valid_word_share(tokenizer, swahili, texts=[text])
    assert (shares["unique_tokens"], shares["unique_found"]) == (2, 1)
    assert (shares["occurrences"], shares["occurrences_found"]) == (4, 2)
    cell = TokenStats(VocabularyFacts.of(tokenizer), tokenizer=tokenizer.name, corpus="sw", lang="sw")
    cell.add_batch([text], [tokenizer.encode(text)])
    values = lexicon_metric_values(cell, tokenizer.all_token_bytes, swahili)
    assert values["valid_share_unique"].value == pytest.approx(1 / 2)
    assert values["valid_share_occurrences"].value == pytest.approx(2 / 4)
    vocabulary = valid_word_share(tokenizer, swahili)  # every ordinary id once: [UNK] too, not [CLS] or [PAD]
    assert vocabulary["unique_tokens"] == tokenizer.vocab_size - len(tokenizer.special_tokens) + 1


def test_vocabulary_scope_counts_tokens_not_unused_ids():
    # o200k's 19 unused ids (199998, 200000-200017) counted as tokens of the vocabulary, never valid
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("o200k")
    shares = valid_word_share(tokenizer, Lexicon.from_words("sw", ["habari", "ya"]))
    assert shares["unique_tokens"] == 199_998 and shares["unique_found"] >= 1
