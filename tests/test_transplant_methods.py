"""Init methods on tiny hand-built vocabularies: shapes, hand-computed rows, determinism, registry errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokensmith.errors import InputError, TokensmithError, UnknownNameError
from tokensmith.transplant.combination import Combination
from tokensmith.transplant.methods import INIT_METHODS, MethodContext, sparsemax
from tokensmith.transplant.omp import batch_omp
from tokensmith.transplant.overlap import build_mapping


def _bpe(vocab: dict[str, int], merges: list[tuple[str, str]], name: str):
    """A plain-text BPE tokenizer built in code (no pre-tokenizer): token bytes are the token's text."""
    from tokenizers import Tokenizer, models

    from tokensmith.tokenizers.hf_json import from_backend_tokenizer

    return from_backend_tokenizer(Tokenizer(models.BPE(vocab, merges)), name=name, fmt="hf-json", backend="reference")


@pytest.fixture(scope="module")
def tiny():
    """Old vocabulary a b c ab; new vocabulary a b c bc abc: 'bc' and 'abc' must be initialised."""
    old = _bpe({"a": 0, "b": 1, "c": 2, "ab": 3}, [("a", "b")], "old")
    new = _bpe({"a": 0, "b": 1, "c": 2, "bc": 3, "abc": 4}, [("b", "c"), ("a", "bc")], "new")
    source = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 4], [3, 3, 0]], dtype=np.float32)
    mapping = build_mapping(old, new)
    return old, new, source, mapping


def _run(name, tiny, **kwargs):
    old, new, source, mapping = tiny
    params = kwargs.pop("params", {})
    context = MethodContext(old, new, **kwargs)
    return INIT_METHODS.get(name)(source, mapping, context, **params)


def test_tiny_mapping(tiny):
    _, _, _, mapping = tiny
    assert mapping.source_ids.tolist() == [0, 1, 2, -1, -1]
    assert mapping.target_ids.tolist() == [3, 4]


def test_fvt_is_the_mean_of_the_old_pieces(tiny):
    _, _, source, _ = tiny
    result = _run("fvt", tiny)
    # old tokenizer: "bc" -> b + c ; "abc" -> ab + c
    expected = np.stack([(source[1] + source[2]) / 2, (source[3] + source[2]) / 2])
    np.testing.assert_array_equal(result.rows, expected)
    assert result.approximated.tolist() == [True, True]


def test_mean_is_the_mean_row(tiny):
    _, _, source, _ = tiny
    result = _run("mean", tiny)
    np.testing.assert_allclose(result.rows, np.tile(source.mean(axis=0), (2, 1)), rtol=1e-6)
    assert not result.approximated.any()


@pytest.mark.parametrize("name", ["random", "multivariate"])
def test_random_draws_are_seeded(tiny, name):
    first, again, other = _run(name, tiny, seed=1), _run(name, tiny, seed=1), _run(name, tiny, seed=2)
    assert first.rows.shape == (2, 3) and first.rows.dtype == np.float32
    np.testing.assert_array_equal(first.rows, again.rows)
    assert not np.array_equal(first.rows, other.rows)
    # The input and output matrices draw independently.
    assert not np.array_equal(first.rows, _run(name, tiny, seed=1, side="output").rows)


def test_random_matches_per_dimension_moments():
    from tokensmith.transplant.methods import per_dimension_normal

    rng = np.random.default_rng(0)
    source = rng.normal([1.0, -2.0, 0.5], [0.1, 2.0, 1.0], size=(5000, 3)).astype(np.float32)
    draws = per_dimension_normal(source, 20_000, np.random.default_rng(1))
    np.testing.assert_allclose(draws.mean(axis=0), source.mean(axis=0), atol=0.05)
    np.testing.assert_allclose(draws.std(axis=0), source.std(axis=0), rtol=0.03)


def test_multivariate_follows_the_covariance_it_is_given(tiny):
    old, new, _, _ = tiny
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 0.25]])
    source = rng.multivariate_normal([0, 1, 2], cov, size=4000).astype(np.float32)
    # A mapping where most rows are targets, so the sample covariance can be checked.
    mapping = build_mapping(old, new)
    many = type(mapping)(np.full(3000, -1), np.zeros(3000, np.int8), frozenset(), old_rows=4000)
    rows = INIT_METHODS.get("multivariate")(source, many, MethodContext(old, new), covariance_scale=1.0).rows
    np.testing.assert_allclose(np.cov(rows.T), np.cov(source.T), atol=0.08)
    # The default scale (transformers' 1e-9) keeps new rows at the mean.
    near = INIT_METHODS.get("multivariate")(source, many, MethodContext(old, new)).rows
    np.testing.assert_allclose(near, np.tile(source.mean(axis=0), (3000, 1)), atol=1e-3)


class FakeEmbedder:
    """Hand-set unit vectors per text, so TokenAdapt's weights can be computed by hand."""

    name = "fake"

    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = {k: np.asarray(v, np.float32) / np.linalg.norm(v) for k, v in vectors.items()}
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        return np.stack([self.vectors[t] for t in texts])


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_tokenadapt_by_hand(tiny):
    _, _, source, _ = tiny
    embedder = FakeEmbedder(
        {"a": [1, 0, 0], "b": [0, 1, 0], "c": [0, 0, 1], "ab": [1, 1, 0], "bc": [0, 1, 2], "abc": [1, 1, 1]}
    )
    temperature, lam = 0.3, 0.3
    result = _run("tokenadapt", tiny, embedder=embedder, params={"top_k": 2})
    vec = embedder.vectors

    def expected(text, pieces):
        cos = np.array([vec[text] @ vec[p] for p in pieces])
        lengths = np.array([len(p) / len(text) for p in pieces])
        w_local = _softmax(((_softmax(cos) + lengths) / 2) / temperature)
        local = sum(w * source[{"a": 0, "b": 1, "c": 2, "ab": 3}[p]] for w, p in zip(w_local, pieces, strict=True))
        pool = ["a", "b", "c", "ab"]
        sims = np.array([vec[text] @ vec[p] for p in pool])
        top = np.argsort(-sims, kind="stable")[:2]
        w_global = _softmax(sims[top] / temperature)
        glob = sum(w * source[j] for w, j in zip(w_global, top, strict=True))
        return (1 - lam) * local + lam * glob

    np.testing.assert_allclose(result.rows[0], expected("bc", ["b", "c"]), rtol=1e-5)
    np.testing.assert_allclose(result.rows[1], expected("abc", ["ab", "c"]), rtol=1e-5)


def test_weights_are_computed_once_for_both_matrices(tiny):
    old, new, source, mapping = tiny
    embedder = FakeEmbedder(
        {t: v for t, v in zip(["a", "b", "c", "ab", "bc", "abc"], np.eye(6)[:, :6].tolist(), strict=True)}
    )
    context = MethodContext(old, new, embedder=embedder)
    method = INIT_METHODS.get("tokenadapt")
    method(source, mapping, context)
    context.side = "output"
    method(source * 2, mapping, context)
    assert embedder.calls == 1


def test_batch_omp_recovers_a_sparse_code():
    rng = np.random.default_rng(0)
    anchors = rng.standard_normal((50, 20)).astype(np.float32)
    true_ids = np.array([[3, 17, 41], [0, 9, 25]])
    true_coefs = np.array([[1.5, -0.7, 0.2], [0.3, 2.0, -1.1]])
    targets = np.einsum("nk,nkd->nd", true_coefs, anchors[true_ids])
    picked, coefs = batch_omp(targets, anchors, k=3)
    for row in range(2):
        order = np.argsort(picked[row])
        assert picked[row][order].tolist() == true_ids[row].tolist()
        np.testing.assert_allclose(coefs[row][order], true_coefs[row], atol=1e-5)


def test_omp_needs_a_donor(tiny):
    with pytest.raises(TokensmithError, match="needs a donor"):
        _run("omp", tiny)


def test_omp_with_a_donor_applies_coefficients_to_the_model_rows(tiny):
    _, _, source, _ = tiny
    # A donor where "bc" = 2*b - c exactly: its row here must be 2*E[b] - E[c].
    donor = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 2, -1, 0], [0, 0, 0, 1]], dtype=np.float32)
    result = _run("omp", tiny, donor={"input": donor}, params={"k": 2})
    np.testing.assert_allclose(result.rows[0], 2 * source[1] - source[2], atol=1e-5)


def test_omp_rejects_a_donor_with_too_few_rows(tiny):
    with pytest.raises(InputError, match="donor has 3 embedding rows"):
        _run("omp", tiny, donor={"input": np.eye(3, dtype=np.float32)})


def test_omp_aux_shapes(tiny):
    embedder = FakeEmbedder(
        {"a": [1, 0, 0], "b": [0, 1, 0], "c": [0, 0, 1], "ab": [1, 1, 0], "bc": [0, 1, 2], "abc": [1, 1, 1]}
    )
    result = _run("omp-aux", tiny, embedder=embedder)
    assert result.rows.shape == (2, 3) and result.approximated.all()
    # "abc" = (a + b + c) / sqrt(3) exactly in the (unit-length) auxiliary space.
    _, _, source, _ = tiny
    np.testing.assert_allclose(result.rows[1], (source[0] + source[1] + source[2]) / np.sqrt(3), atol=1e-4)


def test_sparsemax_by_hand():
    np.testing.assert_allclose(sparsemax(np.array([1.0, 0.5, -1.0])), [0.75, 0.25, 0.0])
    np.testing.assert_allclose(sparsemax(np.array([3.0, 0.0])), [1.0, 0.0])


def train_bpe(lines: list[str], vocab_size: int):
    """A byte-level BPE trained with HF tokenizers (the reference trainer), as a tokensmith Tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from tokensmith.tokenizers.hf_json import from_backend_tokenizer

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(lines, trainer)
    return from_backend_tokenizer(backend, name="tr-bpe", fmt="hf-json")


@pytest.mark.shared
def test_focus_rows_are_convex_combinations_of_shared_rows(shared_data):
    pytest.importorskip("fasttext")
    from tokensmith.tokenizers import load_tokenizer

    lines = (shared_data / "mono" / "tr.txt").read_text(encoding="utf-8").splitlines()[:3000]
    old, new = load_tokenizer("smollm2"), train_bpe(lines, 2000)
    mapping = build_mapping(old, new)
    source = np.random.default_rng(0).standard_normal((old.vocab_size, 4)).astype(np.float32)
    context = MethodContext(old, new, target_texts=lines)
    result = INIT_METHODS.get("focus")(source, mapping, context, unseen="random")
    assert result.rows.shape == (len(mapping.target_ids), 4)
    assert result.approximated.sum() > len(mapping.target_ids) / 2  # most tokens are frequent enough
    (combination,) = [v for k, v in context.memo.items() if k[0] == "focus"]
    shared_old_ids = set(mapping.source_ids[mapping.match_kind == 1].tolist())
    for i in np.flatnonzero(combination.has_estimate):
        start, end = combination.indptr[i], combination.indptr[i + 1]
        weights = combination.weights[start:end]
        assert weights.min() > 0 and abs(weights.sum() - 1) < 1e-9  # sparsemax: a convex combination
        assert set(combination.indices[start:end].tolist()) <= shared_old_ids


def test_focus_trains_fasttext_with_the_reference_settings(tiny, monkeypatch):
    """FOCUS (deepfocus ``train_fasttext``) trains CBOW with fastText's default learning rate 0.05 and neg=10.
    At lr 0.025 the vectors of a few MB of text barely leave their common direction (median top cosine 0.998
    on an 8k code BPE), so sparsemax spreads each new row over ~130 shared tokens and FOCUS degrades to a
    near-mean row (SmolLM2-135M onto an 8k BPE of domain/code.txt: bpb 2.254 at lr 0.025, 2.027 at 0.05)."""
    pytest.importorskip("fasttext")
    import subprocess

    defaults = INIT_METHODS.get("focus").defaults
    assert defaults["learning_rate"] == 0.05 and defaults["negatives"] == 10
    assert (defaults["dim"], defaults["epochs"], defaults["min_count"]) == (100, 3, 10)
    seen = []

    def fake_run(command, **kwargs):  # the fastText child: record its settings, then fail without training
        seen.append(json.loads(command[-1]))
        return subprocess.CompletedProcess(command, 1, "", "stopped by the test")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(TokensmithError, match="stopped by the test"):
        _run("focus", tiny, target_texts=["abc bc abc"])
    assert seen == [{"dim": 100, "epoch": 3, "minCount": 10, "lr": 0.05, "neg": 10}]


def test_focus_without_target_text_says_what_to_pass(tiny):
    pytest.importorskip("fasttext")
    with pytest.raises(TokensmithError, match="needs text"):
        _run("focus", tiny)


def test_registry_errors(tiny):
    with pytest.raises(UnknownNameError, match="did you mean 'fvt'"):
        INIT_METHODS.get("fvtt")
    with pytest.raises(InputError, match="no parameter"):
        _run("fvt", tiny, params={"k": 3})
    assert {"mean", "random", "multivariate", "fvt", "tokenadapt", "omp", "omp-aux", "focus"} <= set(INIT_METHODS)


def test_combination_blend_renormalises_missing_parts():
    local = Combination.from_lists([([0], [1.0]), None])
    global_ = Combination.from_lists([([1], [1.0]), ([2], [1.0])])
    blended = Combination.blend([(0.7, local), (0.3, global_)])
    source = np.eye(3, dtype=np.float32)
    rows = blended.apply(source, np.zeros((2, 3), np.float32))
    np.testing.assert_allclose(rows, [[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.shared
def test_focus_gives_unseen_tokens_their_fvt_rows(shared_data):
    pytest.importorskip("fasttext")
    from tokensmith.tokenizers import load_tokenizer

    lines = (shared_data / "mono" / "tr.txt").read_text(encoding="utf-8").splitlines()[:1500]
    old, new = load_tokenizer("smollm2"), train_bpe(lines, 2000)
    mapping = build_mapping(old, new)
    source = np.random.default_rng(0).standard_normal((old.vocab_size, 4)).astype(np.float32)
    context = MethodContext(old, new, target_texts=lines)
    focus = INIT_METHODS.get("focus")(source, mapping, context, min_count=50)
    fvt = INIT_METHODS.get("fvt")(source, mapping, context)
    seen = {i for i in range(len(mapping.target_ids)) if focus.rows[i].tolist() != fvt.rows[i].tolist()}
    assert 0 < len(seen) < len(mapping.target_ids)  # min_count=50 leaves many tokens unseen: they are FVT rows
    assert focus.approximated.all() == fvt.approximated.all()
