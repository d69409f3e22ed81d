"""The `bpe` trainer against HF tokenizers' BpeTrainer on real text: same pre-tokenizer, same merges.

The merge loop follows HF's algorithm and tie-break (higher count, then smaller pair of ids), and the
initial ids are laid out as HF lays them out, so on the same pre-token counts the merge lists, the
vocabularies and even the ids must be identical. If a future HF version changes its tie-break, the
test prints the first difference and still requires a vocabulary overlap of 99.5%.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokensmith.errors import CorpusError, InputError, UnknownNameError
from tokensmith.train import BpeTrainer

tokenizers = pytest.importorskip("tokenizers")

#: ~7.6 MB: English, German, Russian, Japanese, Arabic prose, Python code and licence texts.
CORPUS_FILES = ["mono/en.txt", "mono/de.txt", "mono/ru.txt", "mono/ja.txt", "mono/ar.txt",
                "domain/code_python.txt"]
MIN_CORPUS_BYTES = 5_000_000


@pytest.fixture(scope="module")
def corpus_lines(shared_data: Path) -> list[str]:
    lines: list[str] = []
    for name in CORPUS_FILES:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()
    assert sum(len(line.encode("utf-8")) for line in lines) >= MIN_CORPUS_BYTES
    return lines


def hf_train(config: BpeTrainer, lines: list[str], pre_tokenizer: dict) -> dict:
    """Train HF's BpeTrainer with the same settings and pre-tokenizer; returns its tokenizer.json as a dict."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    spec = json.loads(Tokenizer(models.BPE()).to_str())
    spec["pre_tokenizer"] = pre_tokenizer
    tokenizer = Tokenizer.from_str(json.dumps(spec))
    trainer = trainers.BpeTrainer(
        vocab_size=config.vocab_size,
        min_frequency=config.min_frequency,
        special_tokens=list(config.special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        # HF admits merged tokens strictly shorter than its max_token_length (see merge_core).
        max_token_length=None if config.max_token_length is None else config.max_token_length + 1,
        show_progress=False,
    )
    tokenizer.train_from_iterator(lines, trainer)
    return json.loads(tokenizer.to_str())


def compare_with_hf(config: BpeTrainer, lines: list[str]) -> int:
    """Assert identical merges and ids; returns the vocabulary size reached."""
    ours = json.loads(config.train(lines).to_tokenizer_json())
    theirs = hf_train(config, lines, ours["pre_tokenizer"])
    our_merges = [tuple(pair) for pair in ours["model"]["merges"]]
    their_merges = [tuple(pair) if isinstance(pair, list) else tuple(pair.split(" ", 1))
                    for pair in theirs["model"]["merges"]]
    our_vocab, their_vocab = ours["model"]["vocab"], theirs["model"]["vocab"]
    overlap = len(our_vocab.keys() & their_vocab.keys()) / len(their_vocab)
    first_difference = next((i for i, (a, b) in enumerate(zip(our_merges, their_merges, strict=False)) if a != b), None)
    assert overlap >= 0.995, f"vocabulary overlap {overlap:.4f}, first merge difference at {first_difference}"
    assert first_difference is None and len(our_merges) == len(their_merges), (
        f"merges differ from HF at rank {first_difference}: ours {our_merges[first_difference]!r}, "
        f"HF {their_merges[first_difference]!r} (vocabulary overlap {overlap:.4%})"
    )
    assert our_vocab == their_vocab  # same ids too
    return len(our_vocab)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        BpeTrainer(vocab_size=32000, pretokenizer="cl100k"),
        BpeTrainer(vocab_size=12000, pretokenizer="gpt2", split_digits=True, special_tokens=()),
        BpeTrainer(vocab_size=12000, pretokenizer="o200k", min_frequency=5,
                   special_tokens=("<|endoftext|>", "<|pad|>")),
        BpeTrainer(vocab_size=12000, pretokenizer="llama3", max_token_length=6, special_tokens=("<s>", "</s>")),
        BpeTrainer(vocab_size=12000, regex=r" ?[\p{L}\p{M}\p{Nd}\p{Pc}]+| ?[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+",
                   min_frequency=3),
    ],
    ids=["cl100k-32k", "gpt2-digits", "o200k-minfreq", "llama3-maxlen", "custom-regex-gaps"],
)
def test_same_merges_as_hf_on_real_text(config, corpus_lines):
    assert compare_with_hf(config, corpus_lines) == config.vocab_size


def test_special_token_reached_by_merges_matches_hf():
    # "lo" is a special token whose characters are in the byte alphabet: HF reuses its id when l+o merges.
    lines = ["low lower lowest slow blow"] * 20 + ["hello yellow"] * 7
    config = BpeTrainer(vocab_size=275, min_frequency=1, special_tokens=("lo", "<|endoftext|>"), engine="serial")
    assert compare_with_hf(config, lines) > 258
    assert (config.train(lines).merge_ids[0][2]) == 0  # l+o -> the special token's id


def test_special_tokens_must_decode_to_their_text():
    # HF's ByteLevel decoder reads added tokens too: '<|año|>' came back as '<|a\ufffdo|>', 'Ġhello' as ' hello'
    from tokenizers import Tokenizer

    for special in ("<|año|>", "<|język|>", "Ġhello", "·"):
        with pytest.raises(InputError, match="byte-level alphabet"):
            BpeTrainer(vocab_size=300, special_tokens=(special,))
    # ASCII and characters outside the alphabet are kept as they are
    specials = ("<|endoftext|>", "<|ሀ|>", "<｜begin▁of▁sentence｜>", " ", "\n", "a")
    trained = BpeTrainer(vocab_size=300, min_frequency=1, special_tokens=specials, engine="serial").train(
        ["ሀለ a b\tc 👍🏽 año"] * 5)
    encoder = Tokenizer.from_str(trained.to_tokenizer_json())
    text = "x " + "y".join(specials) + " año ሀ"
    assert encoder.decode(encoder.encode(text).ids, skip_special_tokens=False) == text


def test_doctest_example_and_layout():
    trained = BpeTrainer(vocab_size=262, special_tokens=("<|endoftext|>",), min_frequency=1,
                         engine="serial").train(["low lower lowest"] * 10)
    assert trained.vocab_size == 262
    assert trained.vocab[0] == b"<|endoftext|>"
    assert sorted(trained.vocab[1:257]) == [bytes([b]) for b in range(256)]  # full byte alphabet
    assert [trained.vocab[new] for _, _, new in trained.merge_ids] == [b"lo", b"low", b" low", b" lowe", b"st"]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"vocab_size": 100}, InputError),
        ({"min_frequency": -1}, InputError),
        ({"regex": "(unclosed"}, InputError),
        ({"pretokenizer": "gpt5"}, UnknownNameError),
        ({"special_tokens": "<s>"}, InputError),
        ({"special_tokens": ("<s>", "<s>")}, InputError),
        ({"max_token_length": 0}, InputError),
        ({"engine": "spark"}, UnknownNameError),
    ],
)
def test_bad_configuration_is_refused_before_reading_text(kwargs, error):
    with pytest.raises(error):
        BpeTrainer(**kwargs)


@pytest.mark.parametrize("documents", [[], ["", "   ", "\n\t"]])
def test_empty_or_whitespace_corpus_is_refused(documents):
    with pytest.raises(CorpusError, match="empty or holds only whitespace"):
        BpeTrainer(vocab_size=300, engine="serial").train(documents)
