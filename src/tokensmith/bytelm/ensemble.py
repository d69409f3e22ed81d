"""Ensembles of models with different tokenizers, and where they disagree, through next-byte distributions.

Bytes are the one vocabulary every model shares, so members are mixed byte by byte:
``P(b | x) = Σ_m w_m P_m(b | x)`` (equal weights by default). Each member's own bits per byte, the
mixture's, and the generalised Jensen-Shannon divergence ``H(Σ w_m P_m) − Σ w_m H(P_m)`` (bits) at every
byte are reported; the positions with the largest divergence say where the members read the text
differently (for a transplant: where the new tokenizer's rows have not caught up with the old ones).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from tokensmith.bytelm.beam import ByteLM
from tokensmith.errors import CorpusError, InputError

CONTEXT_BYTES = 24  # text shown on each side of a disagreement


def _entropy_bits(probs: np.ndarray) -> float:
    nonzero = probs[probs > 0]
    return float(-(nonzero * np.log2(nonzero)).sum())


def _shown(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


@dataclass
class EnsembleResult:
    members: list[str]
    weights: list[float]
    member_bits: list[float]
    ensemble_bits: float
    bytes: int
    documents: int
    seconds: float
    divergences: list[dict] = field(default_factory=list)  # the top disagreements, most divergent first
    mean_divergence_bits: float = 0.0

    def bits_per_byte(self) -> dict[str, float]:
        scores = {name: bits / self.bytes for name, bits in zip(self.members, self.member_bits, strict=True)}
        scores["ensemble"] = self.ensemble_bits / self.bytes
        return scores

    def as_dict(self) -> dict:
        return {
            "members": self.members,
            "weights": self.weights,
            "bpb": self.bits_per_byte(),
            "bytes": self.bytes,
            "documents": self.documents,
            "seconds": self.seconds,
            "mean_js_divergence_bits": self.mean_divergence_bits,
            "top_disagreements": self.divergences,
        }


def checked_weights(weights: Sequence[float] | None, members: int) -> list[float]:
    """The mixture weights (equal by default); refused unless one non-negative number per model summing to 1."""
    weights = [1.0 / members] * members if weights is None else [float(w) for w in weights]
    if len(weights) != members or min(weights) < 0 or not math.isclose(sum(weights), 1.0, abs_tol=1e-9):
        raise InputError(f"ensemble weights {weights} must be one non-negative number per model, summing to 1")
    return weights


def ensemble_score(
    members: Sequence[tuple[str, ByteLM]],
    documents: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    top: int = 20,
    progress=None,
) -> EnsembleResult:
    """Score ``documents`` with each member and with their byte-level mixture.

    Raises:
        InputError: fewer than two members, bad weights, or a byte some member can never produce.
        CorpusError: no text.
    """
    if len(members) < 2:
        raise InputError("an ensemble needs at least two models", "pass --model twice or more")
    weights = checked_weights(weights, len(members))
    mix_weights = np.array(weights)[:, None]
    encoded = [d.encode("utf-8") for d in documents if d]
    total = sum(len(d) for d in encoded)
    if total == 0:
        raise CorpusError("no text to score: the corpus is empty", "pass a corpus with at least one non-empty document")
    start = time.perf_counter()
    member_bits = [0.0] * len(members)
    ensemble_bits = 0.0
    divergence_sum = 0.0
    found: list[tuple[float, int, int, list[np.ndarray]]] = []
    for doc_index, data in enumerate(encoded):
        beams = [byte_lm.start() for _, byte_lm in members]
        with ExitStack() as reading:
            for (_, byte_lm), beam in zip(members, beams, strict=True):
                reading.enter_context(byte_lm.reading(beam.prefix + data))
            for position, byte in enumerate(data):
                rows = []
                for m, (name, byte_lm) in enumerate(members):
                    try:
                        beams[m], probs = byte_lm.predict(beams[m], byte)  # heals a beam that lost every path
                    except InputError as error:
                        raise InputError(
                            f"model {name!r} at byte {position} of document {doc_index + 1}: {error.message}",
                            error.hint,
                        ) from None
                    rows.append(probs)
                dists = np.stack(rows)
                # Scores count only the mass each pruned beam kept (as ByteLM.byte_logprobs does).
                scored = dists[:, byte] * np.exp([beam.retained for beam in beams])
                for m in range(len(members)):
                    member_bits[m] -= math.log2(scored[m])
                mixture = (mix_weights * dists).sum(axis=0)
                ensemble_bits -= math.log2(float(np.dot(weights, scored)))
                members_entropy = sum(w * _entropy_bits(d) for w, d in zip(weights, dists, strict=True))
                divergence = _entropy_bits(mixture) - members_entropy
                divergence_sum += divergence
                found.append((divergence, doc_index, position, list(dists)))
                if len(found) > 4 * top:  # keep memory bounded: only the strongest candidates
                    found.sort(key=lambda item: -item[0])
                    del found[top:]
                beams = [byte_lm.advance(beam, byte) for (_, byte_lm), beam in zip(members, beams, strict=True)]
        if progress is not None:
            progress(doc_index + 1, len(encoded))
    found.sort(key=lambda item: -item[0])
    names = [name for name, _ in members]
    rows = [
        _disagreement(encoded[d], d, position, divergence, dists, names)
        for divergence, d, position, dists in found[:top]
    ]
    return EnsembleResult(
        names,
        weights,
        member_bits,
        ensemble_bits,
        total,
        len(encoded),
        time.perf_counter() - start,
        rows,
        divergence_sum / total,
    )


def _top_byte(probs: np.ndarray) -> dict:
    best = int(np.argmax(probs))
    label = "<end>" if best == 256 else _shown(bytes((best,))) if best < 128 else f"0x{best:02X}"
    return {"byte": label, "p": float(probs[best])}


def _disagreement(
    data: bytes, doc_index: int, position: int, divergence: float, dists: list[np.ndarray], names: list[str]
) -> dict:
    actual = data[position]
    return {
        "document": doc_index + 1,
        "byte_offset": position,
        "js_bits": divergence,
        "before": _shown(data[max(0, position - CONTEXT_BYTES) : position]),
        "actual": _shown(data[position : position + 1]) if actual < 128 else f"0x{actual:02X}",
        "after": _shown(data[position + 1 : position + 1 + CONTEXT_BYTES]),
        "members": {
            name: {"p_actual": float(d[actual]), "top": _top_byte(d)} for name, d in zip(names, dists, strict=True)
        },
    }
