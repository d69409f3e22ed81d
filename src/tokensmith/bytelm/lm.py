"""Next-token log-probabilities of a token sequence: the one thing the byte-level view asks of a model.

``TokenLM`` is the protocol; ``CausalTokenLM`` serves a transformers causal LM with one key/value cache
that is cropped back to the longest prefix it shares with each request, so beam states that share all
but their last token or two cost one short forward each, and memory stays at one cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from tokensmith.errors import InputError


class TokenLM(Protocol):
    """A causal model over token ids."""

    vocab_size: int
    calls: int  # forward passes run so far (for cost reports)

    def next_token_logprobs(self, tokens: Sequence[int]) -> np.ndarray:
        """Log-probabilities (or logits) of the token after ``tokens``, one float per id."""


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class CausalTokenLM:
    """A transformers causal LM (or tokensmith ``LoadedModel``) as a :class:`TokenLM`.

    Args:
        model: the model; it runs on CPU in inference mode.
        window: most tokens one forward pass sees (default min(1024, the model's max positions)). A longer
            sequence keeps its last tokens, its start moved in steps of ``window // 2`` so the cache stays
            valid between moves (lm-eval-style rolling context).
    """

    def __init__(self, model, *, window: int | None = None) -> None:
        from tokensmith.transplant.models import LoadedModel

        self.model = model.model if isinstance(model, LoadedModel) else model
        self.model.eval()
        self.vocab_size = int(self.model.get_input_embeddings().weight.shape[0])
        limit = getattr(self.model.config, "max_position_embeddings", None) or 1024
        self.window = int(window or min(1024, limit))
        if self.window < 2:
            raise InputError(f"window {self.window} is too small: the model must see at least 2 tokens")
        self.calls = 0
        self._cache = None
        self._cached_tokens: list[int] = []
        self._context_start = 0

    def _context_start_for(self, length: int) -> int:
        if length <= self.window:
            return 0
        half = self.window // 2
        return -(-(length - self.window) // half) * half  # ceil to a multiple of half a window

    def next_token_logprobs(self, tokens: Sequence[int]) -> np.ndarray:
        key = tuple(tokens)
        if not key:
            raise InputError("a model needs at least one token (the start token) to predict the next one")
        if max(key) >= self.vocab_size:
            raise InputError(f"token id {max(key)} is beyond the model's {self.vocab_size} embedding rows")
        return self._forward(key)

    def _forward(self, tokens: tuple[int, ...]) -> np.ndarray:
        import torch
        from transformers import DynamicCache

        start = self._context_start_for(len(tokens))
        context = tokens[start:]
        if start != self._context_start or self._cache is None:
            self._cache = DynamicCache()
            self._cached_tokens = []
            self._context_start = start
        # Keep what the cache shares with this context, but always feed at least the last token: the
        # cache holds keys and values, not the logits of its last position.
        keep = min(_common_prefix(self._cached_tokens, context), len(context) - 1)
        if keep < len(self._cached_tokens):
            self._cache.crop(-(len(self._cached_tokens) - keep))  # negative: tokens to remove (every version)
            del self._cached_tokens[keep:]
        feed = list(context[keep:])
        with torch.inference_mode():
            output = self.model(
                input_ids=torch.tensor([feed], dtype=torch.long),
                past_key_values=self._cache,
                use_cache=True,
                position_ids=torch.arange(keep, keep + len(feed), dtype=torch.long)[None],
            )
        self._cache = output.past_key_values
        self._cached_tokens.extend(feed)
        self.calls += 1
        return torch.log_softmax(output.logits[0, -1].double(), dim=-1).numpy()
