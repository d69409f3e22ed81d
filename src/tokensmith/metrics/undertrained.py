"""Under-trained ("glitch") token candidates, from the tokenizer alone and optionally from model weights.

Follows Land & Bartolo 2024 ("Fishing for Magikarp", arXiv:2405.05417; cohere-ai/magikarp) with one
fix: Magikarp re-encodes a token's decoded text in isolation and flags it when that does not give
the token back, which flags tokens that *are* produced in context (magikarp issue #13). Here a token
is unreachable only if no context of a fixed set yields it: the text alone, after a space, and between
neighbour characters (letters, digits, punctuation, newlines, the token repeated).

Tokenizer-only indicators, each a *reason* on a candidate:

* ``impossible_utf8``: the token's bytes cannot occur anywhere in valid UTF-8 text (0xC0, 0xC1,
  0xF5-0xFF, a broken sequence), so no text can ever produce it;
* ``unreachable``: decodable, but no tested context encodes to a sequence containing it;
* ``leftover_merge``: an unreachable BPE token that is one side of a later merge: it exists only as a
  step towards a longer token (GPT-2 ``"InstoreAndOnline"`` inside ``"BuyableInstoreAndOnline"``).

Informational counts (not candidates): special tokens, byte-fallback ``<0xNN>`` tokens (unreachable by
design when the byte's character is in the vocabulary), partial-UTF-8 tokens that can occur inside a
character (byte-level BPE's byte pieces; their reachability is not tested).

Weight-based indicator (numpy only), given an embedding matrix (rows = token ids):

* with reference rows of known-unused tokens (by default the tokenizer-only candidates, else special
  tokens with no recognised role; plus any rows beyond the tokenizer's vocabulary): cosine distance of
  each row to the mean of the reference rows,
  after centring the rows and removing the first principal component (Magikarp's indicator for tied
  embeddings, where the output side keeps moving unused rows); low = like an unused token;
* without reference rows: the row's L2 norm (Magikarp's default for untied input embeddings).

Reachable tokens whose indicator falls at or below the ``percentile`` of all ordinary tokens become
``low_embedding_indicator`` candidates. Candidates are ranked: impossible bytes, then unreachable
tokens, then weight-only ones, each by indicator (most unused-like first) and id.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Any

import numpy as np

from tokensmith.errors import InputError

#: Characters put before / after a token's text when it is not produced alone or after a space.
LEFT_CONTEXTS = ("", " ", "a", "x ", "1", ".", "\n", "(", "\u4e00", "\u0430")
RIGHT_CONTEXTS = ("", " ", "a", "1", ".", "\n", ")", "\u4e00", "\u0430")

#: Prefixes that complete a token starting inside a multi-byte character (no prefix; 2/3/4-byte leads).
_UTF8_PREFIXES = (b"", b"\xc3", b"\xe4", b"\xe4\x80", b"\xf1", b"\xf1\x80", b"\xf1\x80\x80")

TIER = {"impossible_utf8": 0, "leftover_merge": 1, "unreachable": 1, "low_embedding_indicator": 2}


def can_occur_in_utf8(data: bytes) -> bool:
    """Whether ``data`` is a substring of some valid UTF-8 text (possibly cutting characters at the ends)."""
    for prefix in _UTF8_PREFIXES:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            decoder.decode(prefix + data, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _contexts(text: str) -> list[str]:
    """Texts tried after the token's text alone and after a space failed (the token repeated last)."""
    seen = {text, " " + text}
    out = []
    for left in LEFT_CONTEXTS:
        for right in RIGHT_CONTEXTS:
            candidate = left + text + right
            if candidate not in seen:
                seen.add(candidate)
                out.append(candidate)
    for candidate in (text + text, text + " " + text, text[-1:] + text + text[:1]):
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def reachable_ids(tokenizer: Any, ids: Sequence[int], *, batch: int = 4096) -> tuple[set[int], int]:
    """Which of ``ids`` (decodable tokens) some tested context encodes to; also the number of encodes.

    Three stages, each on the tokens not yet found: the text alone, the text after a space, then
    every left x right neighbour context of :data:`LEFT_CONTEXTS` / :data:`RIGHT_CONTEXTS` and
    repetitions. A token is found when its id occurs anywhere in the encoding.
    """
    texts = {i: tokenizer.token_bytes(i).decode("utf-8") for i in ids}
    found: set[int] = set()
    encodes = 0

    def run(pairs: list[tuple[int, str]]) -> None:
        nonlocal encodes
        for start in range(0, len(pairs), batch):
            chunk = pairs[start : start + batch]
            encoded = tokenizer.encode_batch([text for _, text in chunk])
            encodes += len(chunk)
            for (token_id, _), got in zip(chunk, encoded, strict=True):
                if token_id in got:
                    found.add(token_id)

    run([(i, texts[i]) for i in ids])
    run([(i, " " + texts[i]) for i in ids if i not in found])
    run([(i, context) for i in ids if i not in found for context in _contexts(texts[i])])
    return found, encodes


def _merge_parents(tokenizer: Any) -> dict[bytes, bytes]:
    """Byte form of a merge side -> byte form of the first (lowest-rank) merge result using it."""
    merges = tokenizer.merges
    parents: dict[bytes, bytes] = {}
    for left, right in merges or ():
        for side in (left, right):
            parents.setdefault(side, left + right)
    return parents


def _display(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "backslashreplace")


def tokenizer_indicators(tokenizer: Any) -> dict[str, Any]:
    """Tokenizer-only indicators of every token: candidates with reasons, and informational counts."""
    specials = set(tokenizer.special_by_id)
    fallback = set(tokenizer.byte_fallback_ids)
    reasons: dict[int, list[str]] = {}
    partial_possible = []
    decodable = []
    for token_id, data in enumerate(tokenizer.all_token_bytes):
        if token_id in specials or token_id in fallback:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            if can_occur_in_utf8(data):
                partial_possible.append(token_id)
            else:
                reasons[token_id] = ["impossible_utf8: bytes cannot occur in valid UTF-8 text"]
            continue
        if data:
            decodable.append(token_id)
    found, encodes = reachable_ids(tokenizer, decodable)
    parents = _merge_parents(tokenizer)
    bytes_to_id = {data: i for i, data in enumerate(tokenizer.all_token_bytes) if i not in specials}
    tested = len(LEFT_CONTEXTS) * len(RIGHT_CONTEXTS) + 3
    for token_id in decodable:
        if token_id in found:
            continue
        data = tokenizer.token_bytes(token_id)
        parent = parents.get(data)
        if parent is not None:
            parent_id = bytes_to_id.get(parent)
            shown = _display(parent) if parent_id is None else f"{_display(parent)} (id {parent_id})"
            reasons[token_id] = [f"leftover_merge: never produced in ~{tested} contexts; part of merge -> {shown}"]
        else:
            reasons[token_id] = [f"unreachable: never produced in ~{tested} contexts"]
    return {
        "reasons": reasons,
        "counts": {
            "vocab_size": tokenizer.vocab_size,
            "special": len(specials),
            "byte_fallback": len(fallback),
            "partial_utf8_possible": len(partial_possible),
            "tested_for_reachability": len(decodable),
            "impossible_utf8": sum(1 for r in reasons.values() if r[0].startswith("impossible_utf8")),
            "unreachable": sum(1 for r in reasons.values() if r[0].startswith("unreachable")),
            "leftover_merge": sum(1 for r in reasons.values() if r[0].startswith("leftover_merge")),
            "encodes": encodes,
        },
    }


# -- weights ------------------------------------------------------------------------------------------


def check_embedding_rows(embeddings: np.ndarray, vocab_size: int) -> None:
    """Refuse a matrix that cannot belong to the tokenizer (fewer rows than ids, or not 2-D)."""
    if embeddings.ndim != 2:
        raise InputError(f"embedding matrix has shape {embeddings.shape}; expected (rows, dim)", "pass a 2-D array")
    if embeddings.shape[0] < vocab_size:
        raise InputError(
            f"the model's embedding matrix has {embeddings.shape[0]} rows but the tokenizer has {vocab_size} ids",
            "use the tokenizer the model was trained with",
        )


def unused_distance(embeddings: np.ndarray, reference_ids: Sequence[int]) -> np.ndarray:
    """Cosine distance of every row to the mean of ``reference_ids`` rows (centred, 1st PC removed)."""
    rows = np.asarray(embeddings, dtype=np.float64)
    centred = rows - rows.mean(axis=0)
    # First principal direction by SVD of a deterministic subsample (cheap; exact for small vocabularies).
    sample = centred[:: max(1, len(centred) // 20000)]
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    first = vt[0]
    reduced = centred - np.outer(centred @ first, first)
    reference = reduced[np.asarray(reference_ids, dtype=np.int64)].mean(axis=0)
    norms = np.linalg.norm(reduced, axis=1) * np.linalg.norm(reference)
    cosine = np.divide(reduced @ reference, norms, out=np.zeros(len(reduced)), where=norms > 0)
    return 1.0 - cosine


def weight_indicators(
    embeddings: np.ndarray,
    vocab_size: int,
    *,
    reference_ids: Sequence[int] = (),
) -> dict[str, Any]:
    """Per-row indicator (low = under-trained-like) and how it was computed.

    Rows beyond ``vocab_size`` (padding rows no text can reach) join the reference rows.
    """
    check_embedding_rows(embeddings, vocab_size)
    reference = sorted(set(reference_ids) | set(range(vocab_size, embeddings.shape[0])))
    if reference:
        values = unused_distance(embeddings, reference)
        method = "cosine distance to mean of reference unused rows (centred, 1st PC removed)"
    else:
        values = np.linalg.norm(np.asarray(embeddings, dtype=np.float64), axis=1)
        method = "L2 norm of the embedding row"
    return {"values": values[:vocab_size], "method": method, "reference_rows": len(reference)}


def default_reference_ids(tokenizer: Any, candidates: Any) -> list[int]:
    """Rows assumed unused in training: the tokenizer-only candidates (no text produces them), else the
    special tokens with no recognised role (``role == "other"``, e.g. StarCoder-era ``<gh_stars>`` kept
    in SmolLM2's vocabulary), else none (the L2 norm is used, meaningful for untied input embeddings).
    """
    if candidates:
        return sorted(candidates)
    return sorted(s.id for s in tokenizer.special_tokens if s.role == "other")


def undertrained_tokens(
    tokenizer: Any,
    embeddings: np.ndarray | None = None,
    *,
    reference_ids: Sequence[int] | None = None,
    percentile: float = 2.0,
    top: int | None = None,
) -> dict[str, Any]:
    """Ranked under-trained token candidates with the reason for each.

    Args:
        tokenizer: a loaded tokenizer.
        embeddings: optional (rows x dim) input embedding matrix of a model using this tokenizer
            (tied models: the shared matrix).
        reference_ids: rows known to be unused; default: :func:`default_reference_ids`.
        percentile: reachable tokens whose weight indicator is at or below this percentile of all
            ordinary tokens are added as candidates.
        top: keep only the first ``top`` candidates in the list (counts cover all).

    Returns:
        ``candidates`` (ranked dicts: id, text, bytes_hex, reasons, indicator), ``counts`` and, with
        weights, ``weights`` (method, reference rows, threshold, indicator mean/std).
    """
    indicators = tokenizer_indicators(tokenizer)
    reasons: dict[int, list[str]] = {i: list(r) for i, r in indicators["reasons"].items()}
    values = None
    weights_info = None
    if embeddings is not None:
        reference = default_reference_ids(tokenizer, reasons) if reference_ids is None else list(reference_ids)
        computed = weight_indicators(embeddings, tokenizer.vocab_size, reference_ids=reference)
        values = computed["values"]
        ordinary = np.array(
            [i for i in range(tokenizer.vocab_size) if i not in tokenizer.special_by_id], dtype=np.int64
        )
        threshold = float(np.percentile(values[ordinary], percentile))
        weights_info = {
            "method": computed["method"],
            "reference_rows": computed["reference_rows"],
            "percentile": percentile,
            "threshold": threshold,
            "mean": float(values[ordinary].mean()),
            "std": float(values[ordinary].std()),
        }
        reference_set = set(reference)
        for token_id in ordinary.tolist():
            if values[token_id] <= threshold and token_id not in reasons and token_id not in reference_set:
                reasons[token_id] = [
                    f"low_embedding_indicator: {values[token_id]:.4f} <= p{percentile:g} {threshold:.4f}"
                ]
        for token_id, token_reasons in reasons.items():
            if not token_reasons[0].startswith("low_embedding_indicator"):
                token_reasons.append(f"embedding indicator {values[token_id]:.4f}")

    def rank(token_id: int) -> tuple:
        tier = TIER[reasons[token_id][0].split(":")[0]]
        return (tier, float(values[token_id]) if values is not None else 0.0, token_id)

    ordered = sorted(reasons, key=rank)
    candidates = [
        {
            "id": token_id,
            "text": _display(tokenizer.token_bytes(token_id)),
            "bytes_hex": tokenizer.token_bytes(token_id).hex(),
            "reasons": reasons[token_id],
            "indicator": None if values is None else round(float(values[token_id]), 6),
        }
        for token_id in ordered
    ]
    counts = dict(indicators["counts"])
    counts["candidates"] = len(candidates)
    counts["low_embedding_indicator"] = sum(1 for r in reasons.values() if r[0].startswith("low_embedding"))
    return {
        "tokenizer": tokenizer.name,
        "candidates": candidates[:top] if top else candidates,
        "counts": counts,
        "weights": weights_info,
    }


def gguf_token_embeddings(path: str, tokenizer: Any | None = None) -> np.ndarray:
    """Dequantised ``token_embd.weight`` of a GGUF model (rows = token ids), checked against ``tokenizer``.

    Raises:
        InputError: no such tensor, or the model's vocabulary differs from ``tokenizer``'s.
        MissingDependencyError: the ``gguf`` package is not installed.
    """
    try:
        from gguf import GGUFReader
        from gguf.quants import dequantize
    except ImportError:
        from tokensmith.errors import MissingDependencyError

        raise MissingDependencyError("reading GGUF model weights", ["gguf"], "gguf") from None
    reader = GGUFReader(path)
    tensor = next((t for t in reader.tensors if t.name == "token_embd.weight"), None)
    if tensor is None:
        raise InputError(f"{path} has no token_embd.weight tensor", "pass a GGUF language model file")
    matrix = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
    rows = int(tensor.shape[-1])  # GGUF lists dimensions innermost first: (dim, rows)
    matrix = matrix.reshape(rows, -1)
    if tokenizer is not None:
        check_embedding_rows(matrix, tokenizer.vocab_size)
        field = reader.fields.get("tokenizer.ggml.tokens")
        if field is not None:
            model_tokens = [bytes(field.parts[i]).decode("utf-8", "replace") for i in field.data]
            _check_same_vocabulary(model_tokens, _gguf_model_kind(reader), tokenizer)
    return matrix


def _gguf_model_kind(reader: Any) -> str:
    field = reader.fields.get("tokenizer.ggml.model")
    return bytes(field.parts[field.data[0]]).decode("utf-8") if field is not None else ""


def _check_same_vocabulary(model_tokens: list[str], model_kind: str, tokenizer: Any) -> None:
    """Raise when the model's token strings are not the tokenizer's tokens (compared as exact bytes)."""
    from tokensmith.tokenizers.bytemaps import byte_level_to_bytes, sentencepiece_to_bytes

    hint = "use the tokenizer the model was trained with"
    if len(model_tokens) != tokenizer.vocab_size:
        raise InputError(
            f"the model's vocabulary has {len(model_tokens)} tokens but the tokenizer has {tokenizer.vocab_size}", hint
        )
    to_bytes = byte_level_to_bytes if model_kind == "gpt2" else sentencepiece_to_bytes
    mismatched = []
    for token_id, token in enumerate(model_tokens):
        if token_id in tokenizer.special_by_id:
            continue
        try:
            model_bytes = to_bytes(token)
        except KeyError:
            model_bytes = token.encode("utf-8")
        if model_bytes != tokenizer.token_bytes(token_id):
            mismatched.append(token_id)
    if mismatched:
        raise InputError(
            f"the model's vocabulary differs from the tokenizer's at {len(mismatched)} ids (first: {mismatched[0]})",
            hint,
        )
