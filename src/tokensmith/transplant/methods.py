"""Init methods: how the rows of new tokens that have no exact old counterpart are made.

Each method is a function ``(source, mapping, context, **params) -> InitRows`` registered with its
reference and defaults (docs/transplant.md). ``source`` is one embedding matrix (input embeddings *or*
output head, old ids x hidden); the function returns rows for ``mapping.target_ids`` only - copied rows are
never touched. The caller runs a method once per matrix (once for tied models). Methods that decide
weights over old ids compute them once per transplant (kept in ``context.memo``) and apply them to each
matrix, so input and output rows stay consistent.

Rows are ``approximated`` when they come from token-specific evidence (pieces, neighbours), ``fallback``
when they are generic draws (mean, N(mu, sigma)); the report counts both.
"""

from __future__ import annotations

import json
import tempfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tokensmith.errors import InputError, MissingDependencyError, TokensmithError
from tokensmith.registry import Registry
from tokensmith.tokenizers.base import Tokenizer
from tokensmith.transplant.combination import Combination, OldPieces
from tokensmith.transplant.overlap import BYTES, TokenMapping

SIDES = ("input", "output")


@dataclass
class InitRows:
    """Rows for ``mapping.target_ids`` (float32, targets x hidden) and which of them are approximated."""

    rows: np.ndarray
    approximated: np.ndarray


@dataclass
class MethodContext:
    """What a method may use besides the matrix: tokenizers, seed, optional resources, a per-transplant memo.

    Attributes:
        old_tokenizer / new_tokenizer: the model's tokenizer and the one it moves to.
        side: ``"input"`` or ``"output"`` - which matrix ``source`` is.
        seed: seeds every random draw (with the side and method name), so runs are reproducible.
        embedder: auxiliary text embedder for tokenadapt / omp-aux (default all-MiniLM-L6-v2, loaded lazily).
        donor: ``side -> donor matrix`` (new ids x donor hidden) for ``omp``: embeddings of a model that uses
            the new tokenizer.
        target_texts: text in the new tokenizer's language/domain, for ``focus``.
        memo: results shared between the input and the output call (segmentations, weights, vectors).
    """

    old_tokenizer: Tokenizer
    new_tokenizer: Tokenizer
    side: str = "input"
    seed: int = 0
    embedder: Any = None
    donor: Mapping[str, np.ndarray] | None = None
    target_texts: Sequence[str] | None = None
    memo: dict = field(default_factory=dict)

    def aux_embedder(self):
        if self.embedder is None:
            from tokensmith.transplant.embedder import TransformerEmbedder

            self.embedder = TransformerEmbedder()
        return self.embedder

    def rng(self, method: str) -> np.random.Generator:
        """A generator fixed by (seed, method, side): the same inputs give byte-identical rows."""
        return np.random.default_rng([self.seed, zlib.crc32(method.encode()), SIDES.index(self.side)])


@dataclass(frozen=True)
class InitMethod:
    """A registered init method: the function, its defaults and where it comes from."""

    name: str
    function: Callable[..., InitRows]
    summary: str
    reference: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()

    def __call__(self, source: np.ndarray, mapping: TokenMapping, context: MethodContext, **params: Any) -> InitRows:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise InputError(
                f"method {self.name!r} has no parameter {', '.join(sorted(unknown))}",
                f"its parameters: {', '.join(self.defaults) or 'none'}",
            )
        return self.function(np.asarray(source, dtype=np.float32), mapping, context, **{**self.defaults, **params})


INIT_METHODS = Registry[InitMethod]("init method")


def register(name: str, *, summary: str, reference: str, needs: tuple[str, ...] = (), **defaults: Any):
    """Decorator: add an init function to :data:`INIT_METHODS` with its defaults."""

    def decorate(function: Callable[..., InitRows]) -> Callable[..., InitRows]:
        INIT_METHODS.add(name, InitMethod(name, function, summary, reference, defaults, needs))
        return function

    return decorate


# -- shared pieces ---------------------------------------------------------------------------------
def per_dimension_normal(source: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` rows drawn from N(mu_d, sigma_d) of the source rows, dimension by dimension."""
    mean = source.mean(axis=0, dtype=np.float64)
    std = source.std(axis=0, dtype=np.float64)
    return (mean + std * rng.standard_normal((count, source.shape[1]))).astype(np.float32)


def _source_rows_used(source: np.ndarray, mapping: TokenMapping) -> np.ndarray:
    """The rows statistics are taken over: every old row the model has (specials included, as tokenizers do)."""
    return source[: mapping.old_rows]


def _finish(
    combination: Combination, source: np.ndarray, mapping: TokenMapping, context: MethodContext, method: str
) -> InitRows:
    """Apply weights; targets without an estimate get per-dimension normal rows."""
    fallback = per_dimension_normal(_source_rows_used(source, mapping), combination.targets, context.rng(method))
    return InitRows(combination.apply(source, fallback), combination.has_estimate.copy())


def _target_bytes(mapping: TokenMapping, context: MethodContext) -> list[bytes | None]:
    """Bytes of each target; None for special tokens (their text says nothing about their use)."""
    key = ("target-bytes",)
    if key not in context.memo:
        new = context.new_tokenizer
        context.memo[key] = [
            None if int(i) in mapping.special_new_ids else new.token_bytes(int(i)) for i in mapping.target_ids
        ]
    return context.memo[key]


def target_pieces(mapping: TokenMapping, context: MethodContext) -> list[list[int] | None]:
    """Old-tokenizer pieces of each target token (None: a special token, or bytes no old token covers)."""
    key = ("pieces",)
    if key not in context.memo:
        splitter = OldPieces(context.old_tokenizer, mapping.old_rows)
        items = _target_bytes(mapping, context)
        split = splitter.split_many([b or b"" for b in items])
        context.memo[key] = [None if b is None else pieces for b, pieces in zip(items, split, strict=True)]
    return context.memo[key]


def _text(data: bytes | None) -> str | None:
    """Text of a token for an embedder: None for specials, partial UTF-8 and whitespace-only tokens."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.strip() else None


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


def sparsemax(values: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``values`` onto the probability simplex (Martins & Astudillo 2016)."""
    ordered = np.sort(values)[::-1]
    cumulative = np.cumsum(ordered)
    ks = np.arange(1, len(values) + 1)
    support = ks[1 + ks * ordered > cumulative]
    k = support[-1]
    tau = (cumulative[k - 1] - 1) / k
    return np.maximum(values - tau, 0.0)


# -- generic rows ----------------------------------------------------------------------------------
@register("mean", summary="mean of all old rows", reference="Hewitt 2021 (baseline); mergekit `mean`")
def mean_init(source: np.ndarray, mapping: TokenMapping, context: MethodContext) -> InitRows:
    """Every new row is the mean of the old rows."""
    targets = len(mapping.target_ids)
    mean = _source_rows_used(source, mapping).mean(axis=0, dtype=np.float64).astype(np.float32)
    return InitRows(np.tile(mean, (targets, 1)), np.zeros(targets, dtype=bool))


@register(
    "random",
    summary="per-dimension normal N(mu_d, sigma_d) of the old rows",
    reference="WECHSEL / FOCUS fallback (Minixhofer et al. 2022; Dobler & de Melo 2023)",
)
def random_init(source: np.ndarray, mapping: TokenMapping, context: MethodContext) -> InitRows:
    """Rows drawn per dimension from the old rows' mean and standard deviation."""
    targets = len(mapping.target_ids)
    rows = per_dimension_normal(_source_rows_used(source, mapping), targets, context.rng("random"))
    return InitRows(rows, np.zeros(targets, dtype=bool))


@register(
    "multivariate",
    summary="multivariate normal N(mu, s*Sigma) of the old rows",
    reference="Hewitt 2021, 'Initializing new word embeddings'; s as transformers' resize_token_embeddings",
    covariance_scale=1e-9,
)
def multivariate_init(
    source: np.ndarray, mapping: TokenMapping, context: MethodContext, *, covariance_scale: float
) -> InitRows:
    """Rows from N(mu, s * Sigma) with the old rows' mean and covariance (s keeps them near the mean)."""
    rows64 = _source_rows_used(source, mapping).astype(np.float64)
    mean = rows64.mean(axis=0)
    centred = rows64 - mean
    covariance = centred.T @ centred / rows64.shape[0]
    eigenvalues, eigenvectors = np.linalg.eigh(covariance * covariance_scale)
    scale = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    targets = len(mapping.target_ids)
    draws = context.rng("multivariate").standard_normal((targets, rows64.shape[1]))
    return InitRows((mean + draws @ scale.T).astype(np.float32), np.zeros(targets, dtype=bool))


# -- subword methods -------------------------------------------------------------------------------
@register(
    "fvt",
    summary="mean of the old tokenizer's pieces of the new token",
    reference="Gee et al. 2022, Fast Vocabulary Transfer (LeonidasY/fast-vocabulary-transfer)",
)
def fvt_init(source: np.ndarray, mapping: TokenMapping, context: MethodContext) -> InitRows:
    """FVT: the new token's bytes are split by the old tokenizer; its row is the mean of the pieces' rows."""
    key = ("fvt",)
    if key not in context.memo:
        pieces = target_pieces(mapping, context)
        context.memo[key] = Combination.from_lists([None if not p else (p, [1.0 / len(p)] * len(p)) for p in pieces])
    return _finish(context.memo[key], source, mapping, context, "fvt")


def _embed_unique(context: MethodContext, texts: Sequence[str]) -> dict[str, np.ndarray]:
    unique = sorted(set(texts))
    vectors = context.aux_embedder().embed(unique) if unique else np.zeros((0, 1), dtype=np.float32)
    return dict(zip(unique, vectors, strict=True))


def _old_text(context: MethodContext, old_id: int) -> str:
    return context.old_tokenizer.token_bytes(old_id).decode("utf-8", errors="replace")


def _old_pool(context: MethodContext, mapping: TokenMapping) -> tuple[np.ndarray, list[str]]:
    """Old ordinary ids with an embeddable text (valid UTF-8, not only whitespace) and those texts."""
    key = ("old-pool",)
    if key not in context.memo:
        old = context.old_tokenizer
        ids, texts = [], []
        for old_id in range(min(old.vocab_size, mapping.old_rows)):
            if old_id in old.special_by_id:
                continue
            text = _text(old.token_bytes(old_id))
            if text is not None:
                ids.append(old_id)
                texts.append(text)
        context.memo[key] = (np.asarray(ids, dtype=np.int64), texts)
    return context.memo[key]


@register(
    "tokenadapt",
    summary="hybrid of weighted old pieces (local) and top-k neighbours in an auxiliary embedder (global)",
    reference="Sharthak et al. 2025, TokenAdapt (Tinycompany-AI/tokenadapt, src/heuristics.py)",
    needs=("embedder",),
    temperature=0.3,
    top_k=3,
    global_weight=0.3,
    threshold=0.0,
)
def tokenadapt_init(
    source: np.ndarray,
    mapping: TokenMapping,
    context: MethodContext,
    *,
    temperature: float,
    top_k: int,
    global_weight: float,
    threshold: float,
) -> InitRows:
    """TokenAdapt: ``(1-λ)·e_local + λ·e_global``.

    Local: pieces s_i of the new token s, ``w = softmax(((a+ℓ)/2)/T)`` with ``a = softmax(cos(φ(s), φ(s_i)))``
    and ``ℓ_i = |s_i|/|s|`` (bytes). Global: the top-k old tokens by cosine in φ space,
    ``w = softmax(σ/T)`` over those with σ >= threshold, renormalised. One estimate alone is used as is.
    """
    key = ("tokenadapt", temperature, top_k, global_weight, threshold)
    if key not in context.memo:
        items = _target_bytes(mapping, context)
        pieces = target_pieces(mapping, context)
        target_texts = [_text(b) for b in items]
        pool_ids, pool_texts = _old_pool(context, mapping)
        piece_ids = sorted({i for p in pieces if p for i in p})
        piece_texts = {i: _old_text(context, i) for i in piece_ids}
        vectors = _embed_unique(context, [t for t in target_texts if t] + list(piece_texts.values()) + list(pool_texts))
        local: list[tuple[list[int], list[float]] | None] = []
        for data, text, parts in zip(items, target_texts, pieces, strict=True):
            if not parts:
                local.append(None)
                continue
            lengths = np.array([len(context.old_tokenizer.token_bytes(i)) / len(data) for i in parts])
            if text is None:
                attention = np.full(len(parts), 1.0 / len(parts))
            else:
                sims = np.array([float(vectors[text] @ vectors[piece_texts[i]]) for i in parts])
                attention = _softmax(sims)
            local.append((parts, _softmax(((attention + lengths) / 2) / temperature).tolist()))
        pool = np.stack([vectors[t] for t in pool_texts]) if pool_texts else np.zeros((0, 1), np.float32)
        global_: list[tuple[list[int], list[float]] | None] = []
        for text in target_texts:
            if text is None or not len(pool):
                global_.append(None)
                continue
            sims = pool @ vectors[text]
            best = np.argsort(-sims, kind="stable")[:top_k]
            kept = best[sims[best] >= threshold]
            if not len(kept):
                global_.append(None)
                continue
            weights = _softmax(sims[kept] / temperature)
            global_.append((pool_ids[kept].tolist(), (weights / weights.sum()).tolist()))
        context.memo[key] = Combination.blend(
            [(1.0 - global_weight, Combination.from_lists(local)), (global_weight, Combination.from_lists(global_))]
        )
    return _finish(context.memo[key], source, mapping, context, "tokenadapt")


# -- matching pursuit ------------------------------------------------------------------------------
def _anchor_new_ids(mapping: TokenMapping) -> np.ndarray:
    """New ids copied from ordinary old tokens: the shared tokens OMP expresses new tokens with."""
    return np.flatnonzero(mapping.match_kind == BYTES)


def _omp_combination(
    target_vectors: np.ndarray,
    has_vector: np.ndarray,
    anchor_vectors: np.ndarray,
    anchor_old_ids: np.ndarray,
    k: int,
) -> Combination:
    from tokensmith.transplant.omp import batch_omp

    rows = np.flatnonzero(has_vector)
    picked, coefficients = batch_omp(target_vectors[rows], anchor_vectors, k)
    entries: list[tuple[list[int], list[float]] | None] = [None] * len(has_vector)
    for row, chosen, coefs in zip(rows, picked, coefficients, strict=True):
        entries[row] = (anchor_old_ids[chosen].tolist(), coefs.tolist())
    return Combination.from_lists(entries)


@register(
    "omp",
    summary="orthogonal matching pursuit over shared tokens in a donor model's embedding space",
    reference="Goddard & Neto 2025 (arXiv 2506.06607), mergekit-tokensurgeon `omp`",
    needs=("donor",),
    k=64,
)
def omp_init(source: np.ndarray, mapping: TokenMapping, context: MethodContext, *, k: int) -> InitRows:
    """OMP with a donor: the donor row of each new token is expressed with k shared tokens' donor rows; the
    coefficients are applied to the same tokens' rows in this model. Runs separately per side, each with the
    donor's matching matrix."""
    if not context.donor or context.side not in context.donor:
        raise TokensmithError(
            "method 'omp' needs a donor: embeddings of a model that already uses the new tokenizer",
            "pass a donor model (--donor DIR, or donor='self' to use the model's own FVT estimate), "
            "or use 'omp-aux', where the auxiliary embedder stands in for the donor",
        )
    donor = np.asarray(context.donor[context.side], dtype=np.float32)
    if donor.shape[0] < mapping.new_vocab_size:
        raise InputError(
            f"the donor has {donor.shape[0]} embedding rows but the new tokenizer has {mapping.new_vocab_size} ids",
            "the donor must be a model trained with the new tokenizer",
        )
    anchors = _anchor_new_ids(mapping)
    targets = mapping.target_ids
    has_vector = np.array([int(i) not in mapping.special_new_ids for i in targets], dtype=bool)
    combination = _omp_combination(donor[targets], has_vector, donor[anchors], mapping.source_ids[anchors], k)
    return _finish(combination, source, mapping, context, "omp")


@register(
    "omp-aux",
    summary="orthogonal matching pursuit over shared tokens in an auxiliary embedder's space",
    reference="mergekit-tokensurgeon OMP with the TokenAdapt auxiliary space standing in for the donor",
    needs=("embedder",),
    k=4,
)
def omp_aux_init(source: np.ndarray, mapping: TokenMapping, context: MethodContext, *, k: int) -> InitRows:
    """OMP where the donor space is the auxiliary embedder: φ(new token) is expressed with k shared tokens'
    φ vectors, and the coefficients are applied to those tokens' rows in this model.

    Default k=4, not mergekit's 64: a sentence embedder's space is only loosely aligned with an LM's embedding
    space, and long signed expansions transfer badly (SmolLM2-135M onto an 8k Turkish BPE, 10 KB held out:
    bpb ratio 1.29 at k=4, 1.33 at k=16, 1.41 at k=64; FVT 1.11). On the README's 20 kB Turkish split it
    does worse (1.44 at k=4, behind mean's 1.35; FVT 1.07): a weak method without training on Turkish.
    """
    key = ("omp-aux", k)
    if key not in context.memo:
        new = context.new_tokenizer
        anchors = [int(i) for i in _anchor_new_ids(mapping) if _text(new.token_bytes(int(i))) is not None]
        anchor_texts = [_text(new.token_bytes(i)) for i in anchors]
        target_texts = [_text(b) for b in _target_bytes(mapping, context)]
        vectors = _embed_unique(context, [t for t in target_texts if t] + anchor_texts)
        dim = next(iter(vectors.values())).shape[0] if vectors else 1
        target_vectors = np.stack([vectors[t] if t else np.zeros(dim, np.float32) for t in target_texts])
        has_vector = np.array([t is not None for t in target_texts], dtype=bool)
        anchor_vectors = np.stack([vectors[t] for t in anchor_texts]) if anchor_texts else np.zeros((0, dim))
        context.memo[key] = _omp_combination(
            target_vectors, has_vector, anchor_vectors, mapping.source_ids[np.asarray(anchors, dtype=np.int64)], k
        )
    return _finish(context.memo[key], source, mapping, context, "omp-aux")


# -- FOCUS -----------------------------------------------------------------------------------------
def _train_fasttext(
    context: MethodContext, dim: int, epochs: int, min_count: int, learning_rate: float, negatives: int
) -> dict[int, np.ndarray]:
    """fastText CBOW vectors of the new tokenizer's ordinary tokens seen in ``context.target_texts``."""
    import importlib.util

    if importlib.util.find_spec("fasttext") is None:
        raise MissingDependencyError("method 'focus'", ["fasttext"], "aux")
    if not context.target_texts:
        raise TokensmithError(
            "method 'focus' needs text in the new tokenizer's language or domain to train fastText on",
            "pass target text (--target-text PATH); FOCUS trains its auxiliary space on it",
        )
    from tokensmith.tokenizers.bytemaps import bytes_to_byte_level

    new = context.new_tokenizer
    # Each token is written as its GPT-2 byte-level surface form: one whitespace-free word per token, so
    # fastText's character n-grams see the token's real spelling (as FOCUS trains on token strings).
    words: dict[int, str] = {}
    ids_of_word: dict[str, list[int]] = {}
    for token_id in range(new.vocab_size):
        if token_id not in new.special_by_id and (data := new.token_bytes(token_id)):
            words[token_id] = bytes_to_byte_level(data)
            ids_of_word.setdefault(words[token_id], []).append(token_id)
    encoded = new.encode_batch(list(context.target_texts))
    with tempfile.TemporaryDirectory(prefix="tokensmith-focus-") as folder:
        corpus = Path(folder) / "tokens.txt"
        lines = (" ".join(words[i] for i in ids if i in words) for ids in encoded)
        corpus.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
        settings = {"dim": dim, "epoch": epochs, "minCount": min_count, "lr": learning_rate, "neg": negatives}
        # fastText runs in a fresh interpreter: in processes where torch's and HF tokenizers' native thread pools
        # have run it fails more often with a spurious "Encountered NaN.". A plain subprocess, not
        # multiprocessing: spawn would re-import the user's __main__ script.
        import subprocess
        import sys

        call = (
            "import json, sys; from tokensmith.transplant.methods import _fasttext_worker; "
            "_fasttext_worker(sys.argv[1], json.loads(sys.argv[2]))"
        )
        completed = subprocess.run(
            [sys.executable, "-c", call, str(corpus), json.dumps(settings)], capture_output=True, text=True
        )
        words_path, vectors_path = corpus.with_suffix(".words.json"), corpus.with_suffix(".vectors.npy")
        if completed.returncode != 0 or not vectors_path.is_file():
            last_line = (completed.stderr.strip().splitlines() or ["no message"])[-1]
            raise TokensmithError(
                f"fastText training for 'focus' failed: {last_line}",
                "lower the learning rate (learning_rate=0.01) or give more target text",
            )
        trained_words = json.loads(words_path.read_text(encoding="utf-8"))
        vectors = np.load(vectors_path, allow_pickle=False)
    return {
        token_id: vector
        for word, vector in zip(trained_words, vectors, strict=True)
        for token_id in ids_of_word.get(word, [])
    }


def _fasttext_worker(corpus: str, settings: dict) -> None:
    """Child process: CBOW vectors of every word fastText kept (seen ``minCount`` times), saved next to the
    corpus as .words.json + .vectors.npy (no pickle). One thread, so the vectors do not depend on scheduling.
    """
    import fasttext

    # fastText 0.9.3 intermittently raises "Encountered NaN." on a run that succeeds when repeated (seen under
    # CPU contention, and almost always without subword n-grams); a real divergence fails every attempt.
    for attempt in range(4):
        try:
            model = fasttext.train_unsupervised(
                corpus, model="cbow", minn=3, maxn=6, bucket=200_000, thread=1, verbose=0, **settings
            )
            break
        except RuntimeError:
            if attempt == 3:
                raise
    words = [w for w in model.words if w != "</s>"]
    base = Path(corpus)
    base.with_suffix(".words.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    np.save(base.with_suffix(".vectors.npy"), np.stack([model.get_word_vector(w) for w in words]).astype(np.float32))


@register(
    "focus",
    summary="sparsemax over shared tokens by cosine in fastText vectors trained on target text",
    reference="Dobler & de Melo 2023, FOCUS (konstantinjdobler/focus, deepfocus)",
    needs=("fasttext", "target_text"),
    dim=100,
    epochs=3,
    min_count=10,
    learning_rate=0.05,
    negatives=10,
    unseen="fvt",
)
def focus_init(
    source: np.ndarray,
    mapping: TokenMapping,
    context: MethodContext,
    *,
    dim: int,
    epochs: int,
    min_count: int,
    learning_rate: float,
    negatives: int,
    unseen: str,
) -> InitRows:
    """FOCUS: ``w = sparsemax(cos(v_new, v_shared))`` over shared tokens with fastText vectors,
    ``e = Σ w_j E[shared_j]``.

    Tokens rarer than ``min_count`` in the target text have no fastText vector. FOCUS draws them from
    N(mu_d, sigma_d) (``unseen="random"``); by default they take the FVT mean of their old pieces instead
    (``unseen="fvt"``): with a small target text most of the vocabulary is unseen, and random rows for them
    cost more than FOCUS gains (SmolLM2-135M onto an 8k Turkish BPE, ~900 KB of target text: 3,702 of 6,491
    rows unseen, bpb ratio 1.87 with random rows).
    """
    if unseen not in ("fvt", "random"):
        raise InputError(f"focus: unseen must be 'fvt' or 'random', not {unseen!r}")
    key = ("focus", dim, epochs, min_count, learning_rate, negatives, unseen)
    if key not in context.memo:
        vectors = _train_fasttext(context, dim, epochs, min_count, learning_rate, negatives)
        anchors = [int(i) for i in _anchor_new_ids(mapping) if int(i) in vectors]
        entries: list[tuple[list[int], list[float]] | None] = []
        if anchors:
            anchor_matrix = np.stack([vectors[i] for i in anchors])
            anchor_matrix /= np.linalg.norm(anchor_matrix, axis=1, keepdims=True).clip(1e-12)
            anchor_old = mapping.source_ids[np.asarray(anchors)]
        pieces = target_pieces(mapping, context)
        for new_id, parts in zip(mapping.target_ids, pieces, strict=True):
            vector = vectors.get(int(new_id))
            if not anchors or vector is None or int(new_id) in mapping.special_new_ids or not np.any(vector):
                fvt = unseen == "fvt" and parts
                entries.append((parts, [1.0 / len(parts)] * len(parts)) if fvt else None)
                continue
            cosine = anchor_matrix @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
            weights = sparsemax(cosine.astype(np.float64))
            keep = np.flatnonzero(weights > 0)
            entries.append((anchor_old[keep].tolist(), weights[keep].tolist()))
        context.memo[key] = Combination.from_lists(entries)
    return _finish(context.memo[key], source, mapping, context, "focus")


def method_table() -> list[dict[str, Any]]:
    """Name, summary, reference and defaults of every method (for ``--help`` and the README)."""
    return [
        {
            "name": m.name,
            "summary": m.summary,
            "reference": m.reference,
            "defaults": dict(m.defaults),
            "needs": list(m.needs),
        }
        for _, m in INIT_METHODS.items()
    ]


__all__ = [
    "INIT_METHODS",
    "InitMethod",
    "InitRows",
    "MethodContext",
    "method_table",
    "per_dimension_normal",
    "sparsemax",
    "target_pieces",
]
