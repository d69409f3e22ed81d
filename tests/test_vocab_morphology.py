"""MorphScore and boundary P/R/F1 on hand-made cases; segmentation parsing and skip counts; real files."""

from __future__ import annotations

import pytest
from _vocab_toy import ToyTokenizer

from tokensmith.errors import InputError
from tokensmith.metrics.morphology import (
    morph_boundaries,
    morph_score,
    parse_segmentation_lines,
    read_segmentations,
    score_segmentations,
    token_boundaries_of,
)

GOLD = ["kitaplar\tkitap lar", "evler\tev ler", "için\tiçin, iç in", "kitaplarım\tkitap lar ım"]
TOY = ToyTokenizer([b" kitap", b"lar", b" evl", b"er", " için".encode(), "larım".encode(), "ım".encode(), b" "])


def test_boundaries():
    assert morph_boundaries(("kitap", "lar", "ı")) == {5, 8}
    assert morph_boundaries(("ev",)) == frozenset()
    # a token boundary inside the 2-byte "ç" cannot be a morpheme boundary
    assert token_boundaries_of([b" \xc3", b"\xa7ay"], "çay") == frozenset()
    assert token_boundaries_of([b" ki", b"tap"], "kitap") == {2}
    # a normalising tokenizer (lower-cased, accent stripped) is aligned by characters
    assert token_boundaries_of([b" ca", b"y"], "Çay") == {2}
    assert token_boundaries_of([b" cays"], "Çay") is None


def test_hand_made_morph_score_and_f1():
    words = parse_segmentation_lines(GOLD).words
    result = score_segmentations(
        words, [(2, frozenset({5})), (2, frozenset({3})), (1, frozenset()), (2, frozenset({5}))]
    )
    # kitap|lar hits 1/1, ev|ler misses (0/1), için is one token (excluded), kitap|lar|ım hits 1/2
    assert result["morph_score"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert (result["morph_score_words"], result["excluded_single_token"]) == (3, 1)
    # TP: kitaplar 1, kitaplarım 1; FP: evler 1; FN: evler 1, kitaplarım 1 ("için" fits its 1-morph analysis)
    assert (result["true_positives"], result["false_positives"], result["false_negatives"]) == (2, 1, 2)
    assert result["boundary_precision"] == pytest.approx(2 / 3)
    assert result["boundary_recall"] == pytest.approx(0.5)
    assert result["boundary_f1"] == pytest.approx(2 / (2 + 1.5))


def test_best_of_several_analyses_counts():
    words = parse_segmentation_lines(["için\tiçin, iç in"]).words
    split = score_segmentations(words, [(2, frozenset({2}))])
    assert split["morph_score"] == 1.0 and split["boundary_f1"] == 1.0


def test_morph_score_through_a_tokenizer():
    result = morph_score(TOY, parse_segmentation_lines(GOLD), leading_space=True)
    assert result["morph_score"] == pytest.approx(0.5)
    assert result["boundary_f1"] == pytest.approx(2 / 3.5)
    assert result["unalignable"] == 0


def test_bad_segmentation_lines_are_skipped_and_counted(tmp_path):
    parsed = parse_segmentation_lines(["evler\tev lar", "notab", "kitap\tki tap, kit ap x", "ev\tev", "ev\tev"])
    assert [w.word for w in parsed.words] == ["kitap", "ev"]
    assert parsed.words[0].analyses == (("ki", "tap"),)
    assert dict(parsed.skipped) == {
        "morphs_do_not_concatenate": 2, "no_valid_analysis": 1, "no_tab": 1, "duplicate_word": 1,
    }  # fmt: skip
    (tmp_path / "bad.tsv").write_text("evler\tev lar\n", encoding="utf-8")
    with pytest.raises(InputError, match="no usable line"):
        read_segmentations(tmp_path / "bad.tsv")
    (tmp_path / "latin1.tsv").write_bytes("çay\tçay\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_segmentations(tmp_path / "latin1.tsv")


def test_real_segmentations(shared_data):
    from tokensmith.tokenizers import load_tokenizer

    tr = read_segmentations(shared_data / "morph" / "tr.tsv")
    ru = read_segmentations(shared_data / "morph" / "ru.tsv")
    assert len(tr.words) > 27000 and len(ru.words) > 50000
    gpt2 = load_tokenizer("gpt2")
    for segmentations in (tr, ru):
        result = morph_score(gpt2, segmentations, limit=3000)
        assert 0.05 < result["morph_score"] <= 1
        assert 0 < result["boundary_f1"] < 1
        assert result["unalignable"] == 0
    # GPT-2 cuts Cyrillic words into many byte-level pieces: most gold boundaries are hit, most cuts are not
    assert result["boundary_recall"] > result["boundary_precision"]
