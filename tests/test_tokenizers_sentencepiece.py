"""SentencePiece loader: differential against the sentencepiece library on real models and text.

Fixtures: Mistral's v3 BPE model (identity normaliser, dummy prefix, byte fallback; from mistral-common)
and AI21's J2 unigram model (nmt_nfkc normaliser, no dummy prefix; from ai21-tokenizer). The packages
are only located, never imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokensmith.errors import InputError, TokenizerFormatError
from tokensmith.tokenizers.sentencepiece_model import (
    PIECE_CONTROL,
    PIECE_UNKNOWN,
    PIECE_USER_DEFINED,
    load_sentencepiece,
    merges_from_scores,
)

spm = pytest.importorskip("sentencepiece")

U2581 = "\u2581"


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates without running the package's __init__
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (pip install tokensmith[refs])")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        pytest.skip(f"{path} is missing from the installed {package}")
    return path


@pytest.fixture(scope="module")
def mistral_v3_path() -> Path:
    return _package_file("mistral_common", "data/mistral_instruct_tokenizer_240323.model.v3")


@pytest.fixture(scope="module")
def j2_path() -> Path:
    return _package_file("ai21_tokenizer", "resources/j2-tokenizer/j2-tokenizer.model")


@pytest.fixture(scope="module")
def mistral_v3(mistral_v3_path):
    return load_sentencepiece(mistral_v3_path, name="mistral-v3-sp")


@pytest.fixture(scope="module")
def mistral_v3_sp(mistral_v3_path):
    return spm.SentencePieceProcessor(model_file=str(mistral_v3_path))


@pytest.fixture(scope="module")
def j2(j2_path):
    return load_sentencepiece(j2_path)


@pytest.fixture(scope="module")
def j2_sp(j2_path):
    return spm.SentencePieceProcessor(model_file=str(j2_path))


def _concat_bytes(tokenizer, ids) -> bytes:
    return b"".join(tokenizer.token_bytes(i) for i in ids)


# -- facts read from the proto -------------------------------------------------------------------


def test_model_facts(mistral_v3, j2):
    assert (mistral_v3.info.model, j2.info.model) == ("bpe", "unigram")
    assert mistral_v3.info.format == j2.info.format == "sentencepiece"
    assert mistral_v3.vocab_size == 32768 and j2.vocab_size == 262144
    assert mistral_v3.info.extra["normalizer"] == "identity" and mistral_v3.info.extra["add_dummy_prefix"]
    assert j2.info.extra["normalizer"] == "nmt_nfkc" and not j2.info.extra["add_dummy_prefix"]
    assert mistral_v3.info.byte_level and j2.info.byte_level  # both have the 256 byte pieces
    assert len(mistral_v3.info.sha256) == 64 and mistral_v3.name == "mistral-v3-sp"


def test_piece_types_agree_with_library(mistral_v3, mistral_v3_sp):
    sp = mistral_v3_sp
    assert list(mistral_v3.spec.pieces) == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    assert [t == PIECE_CONTROL for t in mistral_v3.spec.types] == [sp.is_control(i) for i in range(sp.get_piece_size())]
    assert [t == PIECE_UNKNOWN for t in mistral_v3.spec.types] == [sp.is_unknown(i) for i in range(sp.get_piece_size())]
    scores = [sp.get_score(i) for i in range(sp.get_piece_size())]
    assert list(mistral_v3.spec.scores) == pytest.approx(scores)


# -- lossless: what holds, per model ---------------------------------------------------------------


def test_lossless_flags_are_honest(mistral_v3, j2):
    # U+2581 in the input decodes as a space in every SentencePiece model, so none is lossless.
    assert mistral_v3.decode(mistral_v3.encode(f"a{U2581}b")) == "a b"
    assert not mistral_v3.info.lossless and not j2.info.lossless
    assert mistral_v3.info.extra["lossless_without_u2581"] is True
    # J2 normalises (NFKC, newline -> space): lossy even without U+2581.
    assert j2.info.extra["lossless_without_u2581"] is False
    assert j2.decode(j2.encode("ｆｕｌｌ")) == "full"
    assert j2.decode(j2.encode("a\nb")) != "a\nb"


# -- differential ids on all 31 languages -----------------------------------------------------------


@pytest.mark.parametrize("model", ["mistral_v3", "j2"])
def test_ids_equal_sentencepiece_on_parallel(model, request, parallel_lines):
    tokenizer = request.getfixturevalue(model)
    processor = request.getfixturevalue(f"{model}_sp")
    for lang, lines in parallel_lines.items():
        assert tokenizer.encode_batch(lines) == processor.encode(lines), lang
    assert tokenizer.encode(lines[0]) == processor.encode(lines[0])


def test_mistral_v3_round_trips_parallel(mistral_v3, parallel_lines):
    for lang, lines in parallel_lines.items():
        assert not any(U2581 in line for line in lines), f"{lang} contains U+2581; the round trip would not hold"
        assert [mistral_v3.decode(ids) for ids in mistral_v3.encode_batch(lines)] == lines, lang


@pytest.mark.parametrize("model", ["mistral_v3", "j2"])
def test_token_bytes_concatenate_to_normalised_text(model, request, parallel_lines):
    """Concatenated token_bytes == the library's normalised text with ▁ as space, as UTF-8.

    For Mistral v3 that is exactly b" " + the line's UTF-8 (identity normaliser, dummy prefix).
    """
    tokenizer = request.getfixturevalue(model)
    processor = request.getfixturevalue(f"{model}_sp")
    for lang, lines in parallel_lines.items():
        for line, ids in zip(lines, tokenizer.encode_batch(lines), strict=True):
            expected = processor.normalize(line).replace(U2581, " ").encode("utf-8")
            assert _concat_bytes(tokenizer, ids) == expected, (lang, line)
            if model == "mistral_v3" and line:
                assert expected == b" " + line.encode("utf-8")


def test_byte_fallback_reaches_the_bytes(mistral_v3, parallel_lines):
    used = {i for lines in parallel_lines.values() for ids in mistral_v3.encode_batch(lines) for i in ids}
    assert used & mistral_v3.byte_fallback_ids, "the parallel corpus should need some byte-fallback pieces"
    assert mistral_v3.unk_id not in used


# -- hypothesis round trips --------------------------------------------------------------------------

no_u2581 = st.text(alphabet=st.characters(exclude_characters=U2581, exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=no_u2581)
def test_mistral_v3_round_trip_hypothesis(mistral_v3, mistral_v3_sp, text):
    ids = mistral_v3.encode(text)
    assert ids == mistral_v3_sp.encode(text)
    assert mistral_v3.decode(ids) == text
    assert _concat_bytes(mistral_v3, ids) == ((" " + text).encode("utf-8") if text else b"")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_u2581_becomes_space_hypothesis(mistral_v3, text):
    assert mistral_v3.decode(mistral_v3.encode(text)) == text.replace(U2581, " ")


# -- vocabulary: byte pieces, specials, roles -------------------------------------------------------


def test_byte_pieces_give_their_byte(mistral_v3, mistral_v3_sp):
    expected_ids = {i for i in range(mistral_v3_sp.get_piece_size()) if mistral_v3_sp.is_byte(i)}
    assert mistral_v3.byte_fallback_ids == expected_ids and len(expected_ids) == 256
    assert sorted(mistral_v3.token_bytes(i) for i in expected_ids) == [bytes([b]) for b in range(256)]
    newline_id = mistral_v3_sp.piece_to_id("<0x0A>")
    assert mistral_v3.token_bytes(newline_id) == b"\n"
    assert mistral_v3.token_bytes(mistral_v3_sp.piece_to_id(f"{U2581}the")) == b" the"


@pytest.mark.parametrize("model", ["mistral_v3", "j2"])
def test_roles_follow_the_processor(model, request):
    tokenizer = request.getfixturevalue(model)
    processor = request.getfixturevalue(f"{model}_sp")
    for role, library_id in (
        ("bos", processor.bos_id()),
        ("eos", processor.eos_id()),
        ("unk", processor.unk_id()),
        ("pad", processor.pad_id()),
    ):
        assert tokenizer.special_id(role) == (library_id if library_id >= 0 else None), role
    special_ids = set(tokenizer.special_by_id)
    n = processor.get_piece_size()
    assert {i for i in range(n) if processor.is_control(i) or processor.is_unknown(i)} <= special_ids


def test_mistral_v3_specials(mistral_v3):
    by_text = {s.text: s for s in mistral_v3.special_tokens}
    assert (by_text["<s>"].role, by_text["</s>"].role, by_text["<unk>"].role) == ("bos", "eos", "unk")
    assert by_text["[INST]"].role == "chat" and by_text["<s>"].id == 1
    user_defined = [
        p for p, t in zip(mistral_v3.spec.pieces, mistral_v3.spec.types, strict=True) if t == PIECE_USER_DEFINED
    ]
    # user-defined pieces are text that encode produces (mistral_common's special ids are the control ones)
    assert "[REFERENCE_DOC_0]" in user_defined and "[REFERENCE_DOC_0]" not in by_text
    reference_doc = mistral_v3.spec.pieces.index("[REFERENCE_DOC_0]")
    assert mistral_v3.encode("[REFERENCE_DOC_0]")[-1] == reference_doc
    assert mistral_v3.token_bytes(reference_doc) == b"[REFERENCE_DOC_0]"
    assert mistral_v3.token_bytes(1) == b"<s>"
    with pytest.raises(IndexError):
        mistral_v3.token_bytes(mistral_v3.vocab_size)


# -- merges -----------------------------------------------------------------------------------------


def test_merges_from_scores_hand_case():
    pieces = ["a", "b", "c", "ab", "abc", "bc"]
    scores = [0.0, 0.0, 0.0, -1.0, -2.0, -3.0]  # ties on a merged piece: by left id, then right id
    assert merges_from_scores(pieces, scores, [True] * 6) == [("a", "b"), ("a", "bc"), ("ab", "c"), ("b", "c")]
    assert merges_from_scores(pieces, scores, [True, True, True, False, True, True]) == [("a", "bc"), ("b", "c")]


def test_merges(mistral_v3, j2):
    assert j2.merges is None
    merges = mistral_v3.merges
    piece_bytes = {mistral_v3.token_bytes(i) for i in range(mistral_v3.vocab_size)}
    assert merges and all(left + right in piece_bytes for left, right in merges)
    assert merges[0] == (b" ", b"t")  # "▁t" is Mistral's best-scored merge


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00" * 7, b"this is not a sentencepiece model " * 20, "text ▁ with pieces".encode() * 3],
    ids=["empty", "zeros", "text", "utf8"],
)
def test_malformed_file(tmp_path, content):
    path = tmp_path / "bad.model"
    path.write_bytes(content)
    with pytest.raises(TokenizerFormatError) as error:
        load_sentencepiece(path)
    assert str(path) in error.value.message and "SentencePiece" in error.value.hint


def test_truncated_file(tmp_path, mistral_v3_path):
    data = mistral_v3_path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 3):
        path = tmp_path / f"cut{cut}.model"
        path.write_bytes(data[:cut])
        with pytest.raises(TokenizerFormatError, match="cut"):
            load_sentencepiece(path)


def test_missing_file_and_bad_backend(tmp_path, mistral_v3_path):
    with pytest.raises(InputError, match="does not exist"):
        load_sentencepiece(tmp_path / "absent.model")
    with pytest.raises(InputError, match="unknown backend"):
        load_sentencepiece(mistral_v3_path, backend="turbo")
