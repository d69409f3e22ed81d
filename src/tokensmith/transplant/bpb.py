"""Bits per byte of a causal LM on raw documents - comparable across tokenizers.

``bpb = Σ_docs NLL_nats / (ln 2 · Σ_docs UTF-8 bytes)`` (lm-eval-harness ``bits_per_byte``). Every
tokenizer is scored the same way:

* each document is encoded without special tokens and prefixed with one *document-start* token (the
  tokenizer's bos, else its eos - lm-eval's prefix token); that token is context only, never scored, and
  its bytes are not counted;
* documents are cut into windows by token position: each window scores up to ``stride`` new tokens and
  sees at most ``window`` tokens (lm-eval's rolling windows when ``stride == window``);
* the byte count is of the raw document text, so a tokenizer that compresses better is not rewarded
  or punished by the denominator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokensmith.errors import CorpusError, InputError
from tokensmith.tokenizers.base import Tokenizer

DEFAULT_WINDOW = 1024
DEFAULT_MAX_BYTES = 20_000


@dataclass(frozen=True)
class BpbResult:
    """Sums over documents, and the ratios derived from them."""

    nll_nats: float
    bytes: int
    tokens: int
    documents: int
    window: int
    stride: int
    prefix_token: int

    @property
    def bits_per_byte(self) -> float:
        return self.nll_nats / (math.log(2) * self.bytes)

    @property
    def tokens_per_byte(self) -> float:
        return self.tokens / self.bytes

    @property
    def byte_perplexity(self) -> float:
        return 2.0**self.bits_per_byte

    def as_dict(self) -> dict:
        return {
            "bpb": self.bits_per_byte,
            "tokens_per_byte": self.tokens_per_byte,
            "byte_perplexity": self.byte_perplexity,
            "nll_nats": self.nll_nats,
            "bytes": self.bytes,
            "tokens": self.tokens,
            "documents": self.documents,
            "window": self.window,
            "stride": self.stride,
            "prefix_token": self.prefix_token,
        }


def document_start_id(tokenizer: Tokenizer) -> int:
    """The token every document is conditioned on: bos, else eos (as lm-eval's prefix token)."""
    for role in ("bos", "eos"):
        token_id = tokenizer.special_id(role)
        if token_id is not None:
            return int(token_id)
    raise InputError(
        f"tokenizer {tokenizer.name!r} has neither a bos nor an eos token to start documents with",
        "bits per byte conditions every document on one start token; use a tokenizer that declares bos or eos",
    )


def take_bytes(documents: Iterable[str], max_bytes: int | None) -> list[str]:
    """Documents in order until ``max_bytes`` UTF-8 bytes; the last one cut at a character boundary."""
    taken: list[str] = []
    total = 0
    for document in documents:
        if not document:
            continue
        size = len(document.encode("utf-8"))
        if max_bytes is not None and total + size > max_bytes:
            remaining = max_bytes - total
            cut = document.encode("utf-8")[:remaining].decode("utf-8", errors="ignore")
            if cut:
                taken.append(cut)
            break
        taken.append(document)
        total += size
    return taken


def windows(length: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """``(input_start, score_start, score_end)`` over a sequence of ``length`` positions (position 0 is the
    start token). Scored positions ``1..length-1`` are covered once; each input is at most ``window`` long."""
    spans = []
    score_start = 1
    while score_start < length:
        score_end = min(score_start + stride, length)
        input_start = max(0, score_end - 1 - window)
        spans.append((input_start, score_start, score_end))
        score_start = score_end
    return spans


def bits_per_byte(
    model,
    tokenizer: Tokenizer,
    documents: Sequence[str],
    *,
    window: int | None = None,
    stride: int | None = None,
    progress=None,
) -> BpbResult:
    """Score ``documents`` with ``model`` (a transformers causal LM or a LoadedModel) and ``tokenizer``.

    Args:
        window: most tokens a forward pass sees (default min(1024, model's max positions)).
        stride: new tokens scored per window (default ``window``: lm-eval's rolling windows).
        progress: optional callable ``(done_documents, total)`` for a progress bar.

    Raises:
        CorpusError: no document, or no byte to score.
        InputError: the tokenizer has ids beyond the model's embedding rows.
    """
    import torch

    from tokensmith.transplant.models import LoadedModel

    hf_model = model.model if isinstance(model, LoadedModel) else model  # (a raw HF model's .model is its body)
    rows = hf_model.get_input_embeddings().weight.shape[0]
    if tokenizer.vocab_size > rows:
        raise InputError(
            f"tokenizer {tokenizer.name!r} has {tokenizer.vocab_size} ids but the model has {rows} embedding rows: "
            "the tokenizer does not belong to this model",
            "use the model's own tokenizer, or transplant the model onto this tokenizer first",
        )
    limit = getattr(hf_model.config, "max_position_embeddings", None) or DEFAULT_WINDOW
    window = int(window or min(DEFAULT_WINDOW, limit))
    stride = int(stride or window)
    if not 0 < stride <= window:
        raise InputError(f"stride {stride} must be between 1 and the window {window}")
    start_id = document_start_id(tokenizer)
    total_bytes = sum(len(d.encode("utf-8")) for d in documents)
    if not documents or total_bytes == 0:
        raise CorpusError("no text to score: the corpus is empty", "pass a corpus with at least one non-empty document")

    nll = 0.0
    tokens = 0
    encoded = tokenizer.encode_batch(list(documents))
    hf_model.eval()
    with torch.inference_mode():
        for done, ids in enumerate(encoded, 1):
            sequence = torch.tensor([start_id, *ids], dtype=torch.long)
            tokens += len(ids)
            for input_start, score_start, score_end in windows(len(sequence), window, stride):
                inputs = sequence[input_start : score_end - 1][None]
                logits = hf_model(input_ids=inputs).logits[0].double()
                first = score_start - 1 - input_start  # logits at position p predict token p + 1
                predicting = logits[first : score_end - 1 - input_start]
                targets = sequence[score_start:score_end]
                nll -= torch.log_softmax(predicting, dim=-1).gather(1, targets[:, None]).sum().item()
            if progress is not None:
                progress(done, len(encoded))
    return BpbResult(nll, total_bytes, tokens, len(documents), window, stride, start_id)
