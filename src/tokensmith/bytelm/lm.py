"""Next-token log-probabilities of token sequences: the one thing the byte-level view asks of a model.

``TokenLM`` is the protocol; ``CausalTokenLM`` serves a transformers causal LM with one key/value cache
that is cropped back to the longest prefix it shares with each request, and memory stays at one cache.

Several sequences are answered by one forward pass: their tokens past the shared prefix form a tree
(a trie, so shared tokens are fed once), fed as one flat sequence with a tree attention mask (each
token sees the cached prefix and its own ancestors). On a CPU a small model's forward step is bound by
reading the weights, not by the number of tokens, so the K states of a beam plus a lookahead along the
canonical tokens cost about one step instead of one each.
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


def next_token_logprobs_many(lm: TokenLM, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """``lm.next_token_logprobs`` of each sequence, in one batched call when the model offers one."""
    batched = getattr(lm, "next_token_logprobs_many", None)
    if batched is not None:
        return batched(sequences)
    return [lm.next_token_logprobs(tokens) for tokens in sequences]


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
        return self.next_token_logprobs_many([tokens])[0]

    def next_token_logprobs_many(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Log-probabilities of the token after each sequence; sequences in one context window share one
        forward pass (see the module docstring)."""
        keys = [tuple(tokens) for tokens in sequences]
        for key in keys:
            if not key:
                raise InputError("a model needs at least one token (the start token) to predict the next one")
            if max(key) >= self.vocab_size:
                raise InputError(f"token id {max(key)} is beyond the model's {self.vocab_size} embedding rows")
        results: dict[tuple[int, ...], np.ndarray] = {}
        by_window: dict[int, list[tuple[int, ...]]] = {}
        for key in dict.fromkeys(keys):
            by_window.setdefault(self._context_start_for(len(key)), []).append(key)
        for start, group in by_window.items():
            results.update(self._forward_tree(start, group))
        return [results[key] for key in keys]

    def _forward_tree(self, start: int, sequences: list[tuple[int, ...]]) -> dict[tuple[int, ...], np.ndarray]:
        import torch
        from transformers import DynamicCache

        contexts = [tokens[start:] for tokens in sequences]
        if start != self._context_start or self._cache is None:
            self._cache = DynamicCache()
            self._cached_tokens = []
            self._context_start = start
        # Keep what the cache shares with every context, but feed at least each context's last token: the
        # cache holds keys and values, not the logits of its last position.
        keep = min(min(_common_prefix(self._cached_tokens, context), len(context) - 1) for context in contexts)
        if keep < len(self._cached_tokens):
            self._cache.crop(-(len(self._cached_tokens) - keep))  # negative: tokens to remove (every version)
            del self._cached_tokens[keep:]
        feed, parents, ends = _suffix_trie([context[keep:] for context in contexts])
        n = len(feed)
        allowed = torch.zeros((n, keep + n), dtype=torch.bool)
        allowed[:, :keep] = True
        depth = [0] * n
        for node, parent in enumerate(parents):
            if parent >= 0:
                allowed[node, keep:] = allowed[parent, keep:]
                depth[node] = depth[parent] + 1
            allowed[node, keep + node] = True
        # The first path of the trie is fed first and in order, so it can stay in the cache as a prefix.
        path = 1
        while path < n and parents[path] == path - 1:
            path += 1
        mask = None
        if path < n:  # a plain chain is ordinary causal attention: leave the mask to the model
            mask = torch.zeros((1, 1, n, keep + n), dtype=torch.float32)
            mask.masked_fill_(~allowed, torch.finfo(torch.float32).min)
        with torch.inference_mode():
            output = self.model(
                input_ids=torch.tensor([feed], dtype=torch.long),
                past_key_values=self._cache,
                use_cache=True,
                position_ids=torch.tensor([[keep + d for d in depth]], dtype=torch.long),
                attention_mask=mask,
            )
            rows = torch.log_softmax(output.logits[0, ends].double(), dim=-1).numpy()
        self.calls += 1
        self._cache = output.past_key_values
        if path < n:
            self._cache.crop(-(n - path))
        self._cached_tokens.extend(feed[:path])
        return {tokens: rows[i] for i, tokens in enumerate(sequences)}


def _suffix_trie(suffixes: list[tuple[int, ...]]) -> tuple[list[int], list[int], list[int]]:
    """The suffixes as a trie, parents before children: each node's token and parent (-1: the cached
    prefix), and the node where each suffix ends. The longest suffix goes first, so its path is nodes
    0, 1, 2, ... and can stay in the cache."""
    feed: list[int] = []
    parents: list[int] = []
    children: dict[tuple[int, int], int] = {}
    ends = [0] * len(suffixes)
    for index in sorted(range(len(suffixes)), key=lambda i: -len(suffixes[i])):
        node = -1
        for token in suffixes[index]:
            child = children.get((node, token))
            if child is None:
                child = children[(node, token)] = len(feed)
                feed.append(token)
                parents.append(node)
            node = child
        ends[index] = node
    return feed, parents, ends
