"""SentencePiece on long texts: a text longer than CUT_DOCUMENT_CHARS is encoded in pieces cut at spaces
where that gives the library's own ids for the whole text (`SentencePieceSpec.cuts_exactly`). Checked
against `sentencepiece` on the whole text, with the cut size made tiny so that every few words are a cut,
for models trained here with each whitespace and normaliser option and for the reference models."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokensmith.tokenizers.sentencepiece_model as sentencepiece_model
from tokensmith.tokenizers import load_tokenizer
from tokensmith.tokenizers.references import REFERENCES

sentencepiece = pytest.importorskip("sentencepiece")

TRAINING_TEXT = [
    "the cat sat on the mat and the photographer photographs the cats",
    "Über größere Straßen fahren große Wagen, ﬁnal ﬂights",
    "Все люди рождаются свободными и равными в своём достоинстве",
    "Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι",
    "Tüm insanlar hür, haysiyet ve haklar bakımından eşit doğarlar",
    "Tất cả mọi người sinh ra đều được tự do và bình đẳng",
    "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है",
    "すべての人間は、生まれながらにして自由であり ｶﾀｶﾅ ＡＢＣ",
] * 30

#: Text around the cut points a normaliser or a merge could see across: letters NFKC rewrites (ͺ becomes
#: a space and a mark, ﬁ two letters, half-width kana), marks, "▁" itself, runs of spaces, tabs, newlines.
TRICKY = ("the cat ͺsat ¨on ß ﬁne ｶﾀ  ＡＢ e\u0301t\u00e9 ▁the ▁ cat\tsat\non the\r\nmat 12 345 "
          "Все люди ὅ ά ñ 한국어 텍스트 ᄀ ᅡ 中文 文本 x\u200dy 🙂 ok")

SPACED = " ".join(TRAINING_TEXT[:8]) + " " + TRICKY

#: (name, trainer options, whether cutting is exact by the model's options and pieces)
TRAINED = [
    ("bpe-nfkc", {"model_type": "bpe"}, True),
    ("unigram-nfkc", {"model_type": "unigram"}, True),
    ("unigram-nfkc-cf", {"model_type": "unigram", "normalization_rule_name": "nmt_nfkc_cf"}, True),
    ("bpe-identity-kept-spaces", {"model_type": "bpe", "normalization_rule_name": "identity",
                                  "remove_extra_whitespaces": False, "byte_fallback": True}, True),
    ("unigram-no-prefix-kept-spaces", {"model_type": "unigram", "add_dummy_prefix": False,
                                       "remove_extra_whitespaces": False}, True),
    ("bpe-no-prefix", {"model_type": "bpe", "add_dummy_prefix": False}, False),  # " cat" would lose its space
    ("unigram-across-spaces", {"model_type": "unigram", "split_by_whitespace": False}, False),  # "▁the▁cat"
    ("bpe-suffix", {"model_type": "bpe", "treat_whitespace_as_suffix": True}, True),
    ("unigram-suffix-no-prefix-kept-spaces", {"model_type": "unigram", "treat_whitespace_as_suffix": True,
                                              "add_dummy_prefix": False, "remove_extra_whitespaces": False}, True),
    ("unigram-suffix-across-spaces", {"model_type": "unigram", "treat_whitespace_as_suffix": True,
                                      "split_by_whitespace": False}, False),
]


@pytest.fixture(scope="module")
def trained_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spm")
    paths = {}
    for name, options, _ in TRAINED:
        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(TRAINING_TEXT), model_writer=model, vocab_size=400, hard_vocab_limit=False,
            character_coverage=1.0, minloglevel=2, **options,
        )  # fmt: skip
        paths[name] = folder / f"{name}.model"
        paths[name].write_bytes(model.getvalue())
    return paths


@pytest.fixture(scope="module")
def models(trained_models):
    """(name, tokenizer, whether cutting is exact) of every model trained here and of the references."""
    loaded = [(name, load_tokenizer(trained_models[name]), exact) for name, _, exact in TRAINED]
    for name, exact in (("mistral-v3-sp", True), ("j2-sp", False)):  # J2 has pieces such as "▁of▁the"
        if REFERENCES.get(name).locate() is not None:
            loaded.append((name, load_tokenizer(name), exact))
    return loaded


def _assert_library_ids(tokenizer, texts: list[str]) -> None:
    whole = tokenizer._processor.encode(texts, out_type=int)
    assert tokenizer.encode_batch(texts) == whole
    assert tokenizer.encode_flat(texts).tolist() == [i for ids in whole for i in ids]


def test_cut_texts_give_the_librarys_ids_for_the_whole_text(models, monkeypatch):
    monkeypatch.setattr(sentencepiece_model, "CUT_DOCUMENT_CHARS", 12)
    for name, tokenizer, exact in models:
        assert tokenizer.spec.cuts_exactly is exact, name
        pieces = list(tokenizer._pieces(SPACED))
        assert len(pieces) > 25, name  # the text is really cut, many times, so the comparisons mean something
        cut_ids = [i for ids in tokenizer._processor.encode(pieces, out_type=int) for i in ids]
        assert (cut_ids == tokenizer._processor.encode(SPACED, out_type=int)) is exact, name  # why the flag is needed
        _assert_library_ids(tokenizer, [SPACED, "short", TRICKY * 3, "", TRICKY])


_ALPHABET = st.sampled_from(list("abc xyz  ͺ¨ßﬁｶ\u0301é▁\t\nВсеὅ한가中文🙂12") + ["the ", " cat", "▁the"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(_ALPHABET, max_size=80).map("".join))
def test_cut_texts_equal_the_library_on_generated_text(models, monkeypatch, text):
    monkeypatch.setattr(sentencepiece_model, "CUT_DOCUMENT_CHARS", 3)
    for name, tokenizer, exact in models:
        if exact:
            assert tokenizer.encode_batch([text, text[::-1]]) == tokenizer._processor.encode([text, text[::-1]]), name


@pytest.mark.shared
def test_a_long_document_at_the_default_cut_size(shared_data):
    if REFERENCES.get("mistral-v3-sp").locate() is None:
        pytest.skip("mistral-common is not installed")
    tokenizer = load_tokenizer("mistral-v3-sp")
    document = (shared_data / "domain" / "legal.txt").read_text(encoding="utf-8")[:400_000]
    assert len(list(tokenizer._pieces(document))) >= 7
    _assert_library_ids(tokenizer, [document, "a line", document[::-1]])
