"""Corpus metrics: hand-computed toy cells, tokenization-scorer equality, compute_all records."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tokenization_scorer
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenization_scorer.metrics import get_metric

from tokensmith.errors import InputError, UnknownNameError
from tokensmith.io import dumps_json
from tokensmith.metrics import (
    METRICS,
    RECORD_FIELDS,
    MetricContext,
    MetricValue,
    TokenStats,
    VocabularyFacts,
    WordSplit,
    compute_all,
    describe_metrics,
    gini,
)
from tokensmith.metrics.base import REQUIREMENTS
from tokensmith.metrics.corpus_metrics import renyi_entropy_bits, shannon_entropy_bits

VOCAB = VocabularyFacts(
    vocab_size=10,
    special_ids=frozenset({0, 9}),
    unk_ids=frozenset({0}),
    byte_fallback_ids=frozenset({1, 2}),
    token_byte_lengths=np.array([5, 1, 1, 2, 3, 4, 4, 4, 4, 13]),
)


def toy_cell() -> TokenStats:
    """8 bytes, 7 chars, 5 tokens (1 UNK, 1 byte fallback), types {0:1, 1:1, 3:2, 4:1}, 4 words (1 split)."""
    cell = TokenStats(VOCAB, tokenizer="toy", corpus="c", lang="fr")
    cell.add_batch(["héllo", "ab"], [[3, 4, 0], [1, 3]], words=WordSplit(4, 1), encode_seconds=0.5)
    return cell


def value(name: str, cell: TokenStats, *, context: MetricContext | None = None, **params) -> MetricValue:
    m = METRICS.get(name)
    return m.compute(cell, context or MetricContext((cell,)), m.resolve_params(params))


H_TOY = -(3 * 0.2 * math.log2(0.2) + 0.4 * math.log2(0.4))  # p = .2, .2, .4, .2

HAND_COMPUTED = {
    "bytes_per_token": 8 / 5,
    "chars_per_token": 7 / 5,
    "fertility": 5 / 4,
    "split_word_share": 1 / 4,
    "unk_rate": 1 / 5,
    "byte_fallback_rate": 1 / 5,
    "dropped_byte_rate": 0.0,  # the vocabulary lacks no byte
    "unigram_entropy_bits": H_TOY,
    "shannon_efficiency": H_TOY / 2,  # log2(4 observed types)
    "shannon_efficiency_full_vocab": H_TOY / math.log2(9),  # 10 ids minus special id 9 (UNK stays)
    "vocab_utilisation": 4 / 9,
    "mean_type_length_bytes": (1 + 2 + 3) / 3,  # UNK (id 0) left out: its 5 bytes spell no corpus text
    "encode_throughput_mb_s": 8 / 1e6 / 0.5,
}


@pytest.mark.parametrize("name", sorted(HAND_COMPUTED))
def test_single_cell_metrics_by_hand(name):
    result = value(name, toy_cell())
    assert result.reason is None
    assert result.value == pytest.approx(HAND_COMPUTED[name], rel=1e-12)


def test_renyi_by_hand():
    renyi_2 = -math.log2(3 * 0.2**2 + 0.4**2)  # order 2: -log2 Σ p²
    assert value("renyi_efficiency", toy_cell(), alpha=2).value == pytest.approx(renyi_2 / 2, rel=1e-12)
    assert value("renyi_efficiency_full_vocab", toy_cell(), alpha=2).value == pytest.approx(
        renyi_2 / math.log2(9), rel=1e-12
    )
    # α = 1 is the Shannon limit; the default α is 2.5.
    assert value("renyi_efficiency", toy_cell(), alpha=1.0).value == pytest.approx(H_TOY / 2, rel=1e-12)
    assert METRICS.get("renyi_efficiency").params["alpha"] == 2.5


@pytest.mark.parametrize("costs", [[], [0.0, 0.0], [1.0, math.nan], [2.0, -1.0]])
def test_gini_refuses_costs_it_cannot_divide(costs):
    with pytest.raises(ValueError, match="Gini needs"):  # returned NaN
        gini(costs)


def test_entropies_of_no_tokens_are_refused_alike():
    for entropy in (shannon_entropy_bits, lambda counts: renyi_entropy_bits(counts, 2.5)):
        with pytest.raises(ValueError, match="entropy of no tokens"):  # Shannon said 0.0, Rényi a numpy error
            entropy(np.zeros(5, dtype=np.int64))


def test_renyi_of_a_large_order_approaches_the_min_entropy():
    # p^α underflows to 0 for α = 2000; the entropy must stay finite, near -log2(max p) = -log2(0.4)
    entropy = renyi_entropy_bits(np.array([1, 1, 2, 1]), 2000.0)
    assert math.isfinite(entropy) and entropy == pytest.approx(-math.log2(0.4) * 2000 / 1999, rel=1e-9)
    assert renyi_entropy_bits(np.array([1, 1, 2, 1]), 2.0) == pytest.approx(-math.log2(3 * 0.2**2 + 0.4**2))


@pytest.mark.parametrize("offset", [1e-13, -1e-13, 1e-9, 1e-6])
def test_renyi_of_an_order_near_one_approaches_shannon(offset):
    # log2 Σ p^α and 1 - α both vanish as α -> 1: their plain quotient lost digits (α = 1 + 1e-13 was 5e-4 off)
    counts = np.array([5, 3, 3, 2, 1, 1, 1, 7, 20])
    shannon = shannon_entropy_bits(counts)
    assert renyi_entropy_bits(counts, 1.0 + offset) == pytest.approx(shannon, abs=10 * abs(offset) * shannon)


def parallel_cells(tokenizer: str, tokens: dict[str, int], *, byte_counts=None, lines: int = 2) -> list[TokenStats]:
    """One cell per language of group "par"; each has ``lines`` documents of ASCII text."""
    cells = []
    for lang, n_tokens in tokens.items():
        n_bytes = (byte_counts or {}).get(lang, 10)
        cell = TokenStats(VOCAB, tokenizer=tokenizer, corpus=f"par/{lang}", lang=lang, parallel_group="par")
        texts = ["x" * (n_bytes // lines)] * (lines - 1) + ["x" * (n_bytes - (n_bytes // lines) * (lines - 1))]
        ids = [[3] * (n_tokens // lines)] * (lines - 1) + [[4] * (n_tokens - (n_tokens // lines) * (lines - 1))]
        cell.add_batch(texts, ids)
        cells.append(cell)
    return cells


def by_key(records) -> dict[tuple[str, str, str], dict]:
    return {(r["tokenizer"], r["corpus"], r["metric"]): r for r in records}


def test_premium_gini_and_nsl_on_a_three_language_toy():
    t1 = parallel_cells("t1", {"en": 10, "de": 15, "fr": 20}, byte_counts={"en": 10, "de": 10, "fr": 20})
    t2 = parallel_cells("t2", {"en": 20, "de": 30, "fr": 40})
    records = by_key(compute_all([*t1, *t2], baseline="t1", ref_lang="en"))
    assert records[("t1", "par/en", "token_premium")]["value"] == 1.0
    assert records[("t1", "par/de", "token_premium")]["value"] == 1.5
    assert records[("t1", "par/fr", "token_premium")]["value"] == 2.0
    assert records[("t1", "par/fr", "token_premium")]["params"] == {"ref_lang": "en", "max_unk_rate": 0.1}
    # tokens per line 5, 7.5, 10: Σ|c_i - c_j| = 2·(2.5 + 5 + 2.5) = 20, 2·n²·μ = 2·9·7.5 = 135
    assert records[("t1", "par", "parity_gini")]["value"] == pytest.approx(20 / 135, rel=1e-12)
    assert records[("t1", "par", "parity_gini")]["lang"] is None
    # tokens per byte 1, 1.5, 1: Σ|c_i - c_j| = 4·0.5 = 2, 2·n²·μ = 2·9·(3.5/3) = 21
    assert records[("t1", "par", "tokens_per_byte_gini")]["value"] == pytest.approx(2 / 21, rel=1e-12)
    # t2 doubles every count: same parity, twice the baseline's sequence length.
    assert records[("t2", "par", "parity_gini")]["value"] == pytest.approx(20 / 135, rel=1e-12)
    assert records[("t2", "par/de", "nsl")]["value"] == 2.0
    assert records[("t1", "par/de", "nsl")]["value"] == 1.0
    assert records[("t2", "par/de", "nsl")]["params"] == {"baseline": "t1"}
    # from Python the tag may come as written elsewhere ("EN"): premiums were n/a, the cells holding "en"
    shouted = by_key(compute_all([*t1, *t2], ref_lang="EN"))
    assert shouted[("t1", "par/de", "token_premium")]["value"] == 1.5


def test_premiums_from_python_on_cells_tagged_as_flores_200_names_its_files():
    """compute_all(cells, ref_lang="en") on cells whose lang is FLORES-200's eng_Latn, zho_Hans...: every
    premium was n/a ("no 'en' text was measured"). Cells keep their language in canonical form (en, zh-Hans),
    so the premiums are those of the o200k token counts, and the records show the canonical tags."""
    import tiktoken
    from _flores_text import CANONICAL, SENTENCES
    from bpe_openai import registry

    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("o200k")
    vocab = VocabularyFacts.of(tokenizer)
    cells = []
    for name, lines in SENTENCES.items():
        cell = TokenStats(vocab, tokenizer="o200k", corpus=f"flores/{name}", lang=name, parallel_group="flores")
        cell.add_batch(lines, tokenizer.encode_batch(lines))
        cells.append(cell)
    premiums = {r["lang"]: r["value"] for r in compute_all(cells, ref_lang="en", metrics=["token_premium"])}
    encoding = tiktoken.Encoding(**registry.o200k_base())
    tokens = {CANONICAL[name]: sum(map(len, encoding.encode_ordinary_batch(lines)))
              for name, lines in SENTENCES.items()}
    assert premiums == pytest.approx({lang: count / tokens["en"] for lang, count in tokens.items()}, rel=1e-12)


def test_gini_by_hand():
    assert gini([1, 2, 3]) == pytest.approx(8 / 36)
    assert gini([4, 4, 4, 4]) == 0.0
    assert gini([0, 0, 0, 1]) == pytest.approx(3 / 4)  # one language pays everything: (n - 1) / n


def test_premium_not_applicable_paths():
    cells = parallel_cells("t", {"en": 10, "de": 15})
    context = MetricContext(tuple(cells))
    missing_ref = value("token_premium", cells[1], context=context, ref_lang="sw")
    assert missing_ref.value is None and "no 'sw' text" in missing_ref.reason

    misaligned = parallel_cells("t", {"en": 10}) + parallel_cells("t", {"de": 15}, lines=3)
    result = value("token_premium", misaligned[1], context=MetricContext(tuple(misaligned)))
    assert result.value is None and "3 lines but 'en' has 2" in result.reason

    unk_heavy = parallel_cells("t", {"en": 10})
    de = TokenStats(VOCAB, tokenizer="t", corpus="par/de", lang="de", parallel_group="par")
    de.add_batch(["a", "b"], [[0, 3, 3, 3, 3], [3, 3, 3, 3, 3]])  # UNK id 0: 10% is allowed
    assert value("token_premium", de, context=MetricContext((*unk_heavy, de))).value == 1.0
    de.add_batch(["c"], [[0]])
    both = MetricContext((*parallel_cells("t", {"en": 11}, lines=3), de))
    blanked = value("token_premium", de, context=both)
    assert blanked.value is None and "UNK rate 18.2% on 'de' exceeds 10%" in blanked.reason


def test_nsl_not_applicable_paths():
    base = parallel_cells("base", {"en": 10})
    other_text = parallel_cells("t", {"en": 10}, byte_counts={"en": 12})
    context = MetricContext((*base, *other_text), baseline="base")
    different = value("nsl", other_text[0], context=context)
    assert different.value is None and "saw different text" in different.reason
    unmeasured = TokenStats(VOCAB, tokenizer="t", corpus="elsewhere")
    unmeasured.add_batch(["a"], [[3]])
    missing = value("nsl", unmeasured, context=MetricContext((*base, unmeasured), baseline="base"))
    assert missing.value is None and "not measured on corpus 'elsewhere'" in missing.reason


def test_gini_not_applicable_paths():
    for name in ("parity_gini", "tokens_per_byte_gini"):
        metric = METRICS.get(name)
        defaults = metric.resolve_params({})
        single = parallel_cells("t", {"en": 10})
        result = metric.compute(single, MetricContext(tuple(single)), defaults)
        assert result.value is None and "2+ languages" in result.reason
        misaligned = parallel_cells("t", {"en": 10}) + parallel_cells("t", {"de": 15}, lines=3)
        result = metric.compute(misaligned, MetricContext(tuple(misaligned)), defaults)
        assert result.value is None and "not aligned" in result.reason
        # as token_premium: a language whose text went to UNK has token counts that compare nothing
        de = TokenStats(VOCAB, tokenizer="t", corpus="par/de", lang="de", parallel_group="par")
        de.add_batch(["a", "b"], [[0, 3, 3, 3, 3], [3, 3, 3, 3, 3]])  # UNK id 0: 10% is allowed
        cells = (*parallel_cells("t", {"en": 10}), de)
        assert metric.compute(cells, MetricContext(cells), defaults).value is not None
        de.add_batch(["c"], [[0]])
        cells = (*parallel_cells("t", {"en": 11}, lines=3), de)
        result = metric.compute(cells, MetricContext(cells), defaults)
        assert result.value is None and "UNK rate 18.2% on 'de' exceeds 10%" in result.reason
        loose = metric.compute(cells, MetricContext(cells), metric.resolve_params({"max_unk_rate": 0.5}))
        assert loose.value is not None


def test_words_not_applicable_paths():
    unsegmented = TokenStats(VOCAB, tokenizer="toy", corpus="zh", lang="zh")
    unsegmented.add_batch(["你好"], [[3, 4]])
    unsegmented.mark_words_not_applicable("no word segmenter for 'zh': pip install rjieba")
    for name in ("fertility", "split_word_share"):
        result = value(name, unsegmented)
        assert result.value is None and result.reason == "no word segmenter for 'zh': pip install rjieba"

    partial = toy_cell()
    partial.add_batch(["more"], [[3]])  # a batch without word counts
    assert "cover 2 of 3 documents" in value("fertility", partial).reason

    never_counted = TokenStats(VOCAB, tokenizer="toy", corpus="c")
    never_counted.add_batch(["x"], [[3]])
    assert "cover 0 of 1 documents" in value("fertility", never_counted).reason

    wordless = TokenStats(VOCAB, tokenizer="toy", corpus="c")
    wordless.add_batch(["   "], [[3]], words=WordSplit(0, 0))
    assert value("split_word_share", wordless).reason == "no words were counted in this corpus"


def test_vocabulary_and_timing_not_applicable_paths():
    bare = VocabularyFacts(vocab_size=10)
    cell = TokenStats(bare, tokenizer="byte-level", corpus="c")
    cell.add_batch(["ab"], [[3, 4]])
    assert "no <0xNN> byte-fallback tokens" in value("byte_fallback_rate", cell).reason
    assert value("unk_rate", cell).value == 0.0  # no UNK token
    lacking = TokenStats(VocabularyFacts(vocab_size=10, missing_bytes=(0xE2,)), tokenizer="lacking", corpus="c")
    lacking.add_batch(["a€"], [[3]])  # € is E2 82 AC: the BPE kept only 82 AC
    assert value("dropped_byte_rate", lacking).value == 1 / 4 and value("unk_rate", lacking).value == 0.0
    assert "byte lengths were not computed" in value("mean_type_length_bytes", cell).reason
    assert value("encode_throughput_mb_s", cell).reason == "encode time was not recorded"


def test_empty_and_single_type_cells():
    empty = TokenStats(VOCAB, tokenizer="toy", corpus="empty")
    for name in ("bytes_per_token", "unk_rate", "unigram_entropy_bits", "shannon_efficiency", "renyi_efficiency"):
        result = value(name, empty)
        assert result.value is None and result.reason, name
    one_type = TokenStats(VOCAB, tokenizer="toy", corpus="c")
    one_type.add_batch(["aaa"], [[3, 3, 3]])
    assert "|V| >= 2, got 1" in value("shannon_efficiency", one_type).reason
    # one type: zero entropy and efficiency, written 0.0 in results.json (it was -0.0)
    for name in ("unigram_entropy_bits", "shannon_efficiency_full_vocab", "renyi_efficiency_full_vocab"):
        zero = value(name, one_type).value
        assert zero == 0.0 and math.copysign(1.0, zero) == 1.0, (name, zero)


# -- equality with tokenization-scorer 1.1.8 ------------------------------------------------------
def scorer_lines(streams: list[list[int]]) -> list[list[str]]:
    return [[str(i) for i in ids] for ids in streams if ids]


def cell_of(streams: list[list[int]], vocab_size: int) -> TokenStats:
    cell = TokenStats(VocabularyFacts(vocab_size=vocab_size), tokenizer="t", corpus="c")
    cell.add_batch(["."] * len(streams), streams)
    return cell


def assert_matches_scorer(streams: list[list[int]], vocab_size: int) -> None:
    cell, lines = cell_of(streams, vocab_size), scorer_lines(streams)
    assert value("shannon_efficiency", cell).value == pytest.approx(
        tokenization_scorer.score(lines, metric="shannon_efficiency"), abs=1e-9
    )
    assert value("shannon_efficiency_full_vocab", cell).value == pytest.approx(
        tokenization_scorer.score(lines, metric="shannon_efficiency", vocab=vocab_size), abs=1e-9
    )
    assert value("unigram_entropy_bits", cell).value == pytest.approx(
        tokenization_scorer.score(lines, metric="shannon_entropy"), abs=1e-9
    )
    for alpha in (2.5, 3.0):
        ours = value("renyi_efficiency", cell, alpha=alpha).value
        assert ours == pytest.approx(tokenization_scorer.score(lines, metric="renyi", power=alpha), abs=1e-9)
        ours_full = value("renyi_efficiency_full_vocab", cell, alpha=alpha).value
        theirs_full = tokenization_scorer.score(lines, metric="renyi", power=alpha, vocab=vocab_size)
        assert ours_full == pytest.approx(theirs_full, abs=1e-9)
    # α = 1: `score()` hands the metric a one-shot generator, so its Shannon fallback sees an empty
    # stream and returns 0.0 in 1.1.8 (the α = 1 path of its PR #1); call the metric on a list instead.
    renyi = get_metric("renyi")
    assert value("renyi_efficiency", cell, alpha=1.0).value == pytest.approx(renyi(lines, power=1.0), abs=1e-9)
    assert value("renyi_efficiency_full_vocab", cell, alpha=1.0).value == pytest.approx(
        renyi(lines, power=1.0, vocab=vocab_size), abs=1e-9
    )


token_streams = st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=30), min_size=1, max_size=20).filter(
    lambda streams: len({i for ids in streams for i in ids}) >= 2
)


@settings(max_examples=40, deadline=None)
@given(streams=token_streams)
def test_efficiencies_equal_tokenization_scorer(streams):
    assert_matches_scorer(streams, vocab_size=41)


def test_efficiencies_equal_tokenization_scorer_on_zipfian_stream():
    rng = np.random.default_rng(7)
    streams = [(rng.zipf(1.3, size=200) % 5000).tolist() for _ in range(100)]
    assert_matches_scorer(streams, vocab_size=5000)


# -- compute_all ----------------------------------------------------------------------------------
def test_compute_all_records_are_flat_and_json_clean():
    cell = toy_cell()
    records = compute_all([cell])
    assert all(tuple(r) == RECORD_FIELDS for r in records)
    names = [r["metric"] for r in records]
    # no baseline and no parallel corpus: NSL, premiums and Gini are left out, not filled with N/A
    assert not {"nsl", "token_premium", "parity_gini", "tokens_per_byte_gini"} & set(names)
    assert set(HAND_COMPUTED) <= set(names)
    renyi = next(r for r in records if r["metric"] == "renyi_efficiency")
    assert renyi["params"] == {"alpha": 2.5} and renyi["unit"] == "fraction" and renyi["higher_is_better"] is True
    dumps_json(records)  # no NaN or infinity, plain types only


def test_compute_all_selects_and_overrides():
    records = compute_all([toy_cell()], metrics=["renyi_efficiency"], params={"renyi_efficiency": {"alpha": 2}})
    assert [(r["metric"], r["params"]) for r in records] == [("renyi_efficiency", {"alpha": 2})]
    assert records[0]["value"] == pytest.approx(-math.log2(0.28) / 2)


def test_compute_all_bad_arguments():
    with pytest.raises(UnknownNameError, match="did you mean 'bytes_per_token'"):
        compute_all([toy_cell()], metrics=["bytes_per_tokens"])
    with pytest.raises(UnknownNameError):
        compute_all([toy_cell()], params={"renyi": {"alpha": 2}})
    with pytest.raises(InputError, match="no parameter beta"):
        compute_all([toy_cell()], params={"renyi_efficiency": {"beta": 2}})
    with pytest.raises(InputError, match="baseline 'gpt2' is not among"):
        compute_all([toy_cell()], baseline="gpt2")
    with pytest.raises(ValueError, match="merge them first"):
        compute_all([toy_cell(), toy_cell()])


def gpt2_cell() -> TokenStats:
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("gpt2")
    cell = TokenStats(VocabularyFacts.of(tokenizer), tokenizer="gpt2", corpus="sw", lang="sw")
    texts = ["Habari ya asubuhi, rafiki yangu.", "Watoto hutembea kwenda shule."]
    cell.add_batch(texts, tokenizer.encode_batch(texts))
    return cell


def test_mean_type_length_leaves_unk_out():
    # minilm spells its UNK "[UNK]": a cell of Ge'ez and Cherokee, all UNK, had a mean type length of 5 bytes
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("minilm-wordpiece")
    texts = ["ሰላም ᏣᎳᎩ", "habari ሰላም"]
    ids = tokenizer.encode_batch(texts)
    assert [[tokenizer.token_bytes(i) for i in seq] for seq in ids] == [[b"[UNK]", b"[UNK]"],
                                                                       [b"ha", b"bari", b"[UNK]"]]
    mixed = TokenStats(VocabularyFacts.of(tokenizer), tokenizer="minilm", corpus="sw", lang="sw")
    mixed.add_batch(texts, ids)
    assert value("mean_type_length_bytes", mixed).value == (2 + 4) / 2
    only_unk = TokenStats(VocabularyFacts.of(tokenizer), tokenizer="minilm", corpus="am", lang="am")
    only_unk.add_batch(texts[:1], ids[:1])
    assert value("mean_type_length_bytes", only_unk).reason == "every token is UNK"


def test_efficiencies_of_a_uniform_stream_are_exactly_one():
    # each of gpt2's tokens below occurs once: Rényi and Shannon entropy are log2(types), and the efficiency
    # came out 1.0000000000000004 for alpha 2.5 on these 6 (a fraction above 1)
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("gpt2")
    texts = ["Mto", " hufurika"]
    ids = tokenizer.encode_batch(texts)
    cell = TokenStats(VocabularyFacts.of(tokenizer), tokenizer="gpt2", corpus="sw", lang="sw")
    cell.add_batch(texts, ids)
    assert len({i for seq in ids for i in seq}) == sum(map(len, ids))  # every token once: uniform
    for name in ("shannon_efficiency", "renyi_efficiency"):
        for alpha in ((2.5, 3.0, 0.7) if name.startswith("renyi") else (None,)):
            params = {} if alpha is None else {"alpha": alpha}
            assert value(name, cell, **params).value == pytest.approx(1.0, abs=1e-12)
            assert value(name, cell, **params).value <= 1.0, (name, alpha)


@pytest.mark.parametrize(("metric", "name", "bad"), [
    ("renyi_efficiency", "alpha", math.nan),  # gave a NaN record, which results.json cannot hold
    ("renyi_efficiency", "alpha", math.inf),  # NaN too
    ("renyi_efficiency_full_vocab", "alpha", -1.0),  # a bare ValueError
    ("renyi_efficiency", "alpha", "2.5"),  # a bare ValueError from float()
    ("token_premium", "max_unk_rate", 1.5),
    ("parity_gini", "max_unk_rate", math.nan),
    ("token_premium", "ref_lang", ""),
])
def test_compute_all_refuses_a_parameter_value_out_of_its_range(metric, name, bad):
    with pytest.raises(InputError, match=f"{metric}.*{name}"):
        compute_all([gpt2_cell()], params={metric: {name: bad}})


def test_compute_all_refuses_a_metric_asked_for_by_name_whose_input_is_missing():
    # metrics=["nsl"] without a baseline returned no record at all, and no word why
    with pytest.raises(InputError, match="'nsl' needs a baseline tokenizer"):
        compute_all([gpt2_cell()], metrics=["nsl"])
    with pytest.raises(InputError, match="'parity_gini' needs cells of a parallel corpus"):
        compute_all([gpt2_cell()], metrics=["bytes_per_token", "parity_gini"])
    assert not any(r["metric"] in ("nsl", "parity_gini") for r in compute_all([gpt2_cell()]))  # all: left out


def test_registry_entries_are_complete():
    described = describe_metrics()
    assert [d["name"] for d in described] == METRICS.names()
    for entry in described:
        assert entry["pretty_name"] and entry["unit"] and entry["reference"] and entry["description"]
        assert set(entry["requires"]) <= REQUIREMENTS and "corpus" in entry["requires"]
    with pytest.raises(ValueError, match="registered twice"):
        from tokensmith.metrics.base import metric

        metric("bytes_per_token", pretty_name="x", unit="x", higher_is_better=True, reference="x")(lambda *a: None)


def test_each_reference_names_its_own_metric():
    # vocab_utilisation cited TokEval's "Tokenizer Fairness Gini", which it is not
    gini_metrics = {"parity_gini", "tokens_per_byte_gini"}
    for name, m in METRICS.items():
        assert ("Gini" in m.reference) == (name in gini_metrics), name


def test_metric_value_is_value_xor_reason():
    with pytest.raises(ValueError):
        MetricValue(None)
    with pytest.raises(ValueError):
        MetricValue(1.0, "why")


def test_a_ref_lang_from_python_names_the_cell_whose_tag_extends_it():
    """compute_all(cells, ref_lang="ko") on cells of FLORES-200's kor_Hang, yor_Latn... (ko-Hang, yo-Latn: the
    script is kept) gave every premium n/a: "no 'ko' text was measured". ``ko`` now names the one ko-Hang cell
    of each parallel corpus; ``zh`` with zh-Hans and zh-Hant cells is refused, naming both."""
    import tiktoken
    from _flores_text import SCRIPT_KEPT_CANONICAL, SCRIPT_KEPT_SENTENCES, SENTENCES
    from bpe_openai import registry

    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("o200k")
    vocab = VocabularyFacts.of(tokenizer)
    texts = {"eng_Latn": SENTENCES["eng_Latn"], "zho_Hans": SENTENCES["zho_Hans"], **SCRIPT_KEPT_SENTENCES}

    def cells(names: list[str]) -> list[TokenStats]:
        made = []
        for name in names:
            cell = TokenStats(vocab, tokenizer="o200k", corpus=f"flores/{name}", lang=name, parallel_group="flores")
            cell.add_batch(texts[name], tokenizer.encode_batch(texts[name]))
            made.append(cell)
        return made

    encoding = tiktoken.Encoding(**registry.o200k_base())
    tokens = {name: sum(map(len, encoding.encode_ordinary_batch(lines))) for name, lines in texts.items()}
    script_kept = ["eng_Latn", "kor_Hang", "yor_Latn", "hau_Latn", "uzn_Latn"]
    records = compute_all(cells(script_kept), ref_lang="ko", metrics=["token_premium"])
    lang_of = {**SCRIPT_KEPT_CANONICAL, "eng_Latn": "en"}
    assert {r["lang"]: r["value"] for r in records} == pytest.approx(
        {lang_of[name]: tokens[name] / tokens["kor_Hang"] for name in script_kept}, rel=1e-12)

    chinese = cells(["eng_Latn", "zho_Hans", "zho_Hant"])
    for arguments in ({"ref_lang": "zh"}, {"params": {"token_premium": {"ref_lang": "cmn"}}}):
        with pytest.raises(InputError, match=r"ref_lang (zh|cmn) names 2 languages of the parallel corpus 'flores': "
                                             r"zh-Hans, zh-Hant") as raised:
            compute_all(chinese, metrics=["token_premium"], **arguments)
        assert "pass the full tag" in raised.value.hint
    records = compute_all(chinese, ref_lang="zh-Hant", metrics=["token_premium"])
    assert {r["lang"]: r["value"] for r in records}["zh-Hans"] == pytest.approx(
        tokens["zho_Hans"] / tokens["zho_Hant"], rel=1e-12)
    # the default reference (en) names no cell or several: premiums n/a with the reason, as ever
    records = compute_all(cells(["kor_Hang", "zho_Hans", "zho_Hant"]), metrics=["token_premium"])
    assert all(r["value"] is None and "no 'en' text" in r["reason"] for r in records)
    records = compute_all(cells(["kor_Hang", "zho_Hans", "zho_Hant"]), metrics=["token_premium"],
                          params={"token_premium": {"ref_lang": "uz"}})
    assert all(r["value"] is None and "no 'uz' text" in r["reason"] for r in records)
