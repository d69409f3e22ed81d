"""Byte-level bits per byte: the chain rule over next-byte probabilities, independent of the tokenizer.

``bpb = −Σ_docs Σ_bytes log2 P(byte | bytes before it in the document)  /  Σ_docs bytes``. Each document
starts from the model's start token (as token-level ``bits_per_byte`` does), and its first byte is scored
too - nothing is conditioned on but the start token (and a SentencePiece dummy-prefix space).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tokensmith.bytelm.beam import ByteLM
from tokensmith.errors import CorpusError


@dataclass(frozen=True)
class ByteScore:
    nll_nats: float
    bytes: int
    documents: int
    model_calls: int
    heals: int
    seconds: float
    beam_size: int
    prune: float

    @property
    def bits_per_byte(self) -> float:
        return self.nll_nats / (math.log(2) * self.bytes)

    def as_dict(self) -> dict:
        return {
            "bpb": self.bits_per_byte,
            "nll_nats": self.nll_nats,
            "bytes": self.bytes,
            "documents": self.documents,
            "model_calls": self.model_calls,
            "model_calls_per_byte": self.model_calls / self.bytes,
            "ms_per_byte": 1000 * self.seconds / self.bytes,
            "heals": self.heals,
            "beam_size": self.beam_size,
            "prune": self.prune,
        }


def byte_level_bits_per_byte(byte_lm: ByteLM, documents: Sequence[str], progress=None) -> ByteScore:
    """Score ``documents`` byte by byte (see the module docstring); ``progress(done, total)`` optional."""
    encoded = [d.encode("utf-8") for d in documents if d]
    total_bytes = sum(len(d) for d in encoded)
    if total_bytes == 0:
        raise CorpusError("no text to score: the corpus is empty", "pass a corpus with at least one non-empty document")
    calls, heals, start = byte_lm.lm.calls, byte_lm.heals, time.perf_counter()
    nll = 0.0
    for done, data in enumerate(encoded, 1):
        nll -= sum(byte_lm.byte_logprobs(data))
        if progress is not None:
            progress(done, len(encoded))
    params = byte_lm.params
    return ByteScore(
        nll,
        total_bytes,
        len(encoded),
        byte_lm.lm.calls - calls,
        byte_lm.heals - heals,
        time.perf_counter() - start,
        params.beam_size,
        params.prune,
    )
