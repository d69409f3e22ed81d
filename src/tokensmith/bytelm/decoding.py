"""Continuing a prompt: byte by byte without tokenization bias, and the two token-level baselines.

* ``complete_bytes``: greedy or seeded sampling over next-byte distributions, so a prompt that ends
  inside a token ("https:/") or in whitespace ("... is ") is continued as the model would continue the
  text, not its one canonical tokenization.
* ``greedy_tokens``: the naive baseline - encode the prompt, decode greedily token by token.
* ``heal_tokens``: token healing of our own - drop the prompt's last token and force the next token to
  start with its bytes (argmax among those), then decode greedily. Unlike transformers' built-in healing,
  it works on bytes and never converts a stand-in string back to ids, so a prompt ending in a space works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokensmith.bytelm.beam import ByteLM
from tokensmith.bytelm.lm import TokenLM
from tokensmith.bytelm.vocab import END_OF_TEXT, ByteVocabulary
from tokensmith.errors import InputError


@dataclass(frozen=True)
class Completion:
    """Bytes generated after the prompt, and whether the model ended the text before ``max_bytes``."""

    continuation: bytes
    ended: bool
    model_calls: int

    @property
    def text(self) -> str:
        return self.continuation.decode("utf-8", errors="replace")


def check_budget(max_bytes: int) -> None:
    """Refuse a generation budget below one byte."""
    if max_bytes < 1:
        raise InputError(f"--max-bytes must be at least 1, got {max_bytes}")


def complete_bytes(
    byte_lm: ByteLM,
    prompt: bytes,
    max_bytes: int,
    *,
    sample: bool = False,
    temperature: float = 1.0,
    seed: int = 0,
    exact_prompt: bool = False,
) -> Completion:
    """Continue ``prompt`` by up to ``max_bytes`` bytes from next-byte distributions.

    Args:
        sample: draw each byte (seeded) instead of taking the most likely one.
        temperature: sharpens (<1) or flattens (>1) the byte distribution when sampling.
        exact_prompt: read the whole prompt byte by byte; by default only its last bytes are (see
            :meth:`ByteLM.rebase`), which costs one prefill instead of a beam step per byte.
    """
    check_budget(max_bytes)
    if sample and temperature <= 0:
        raise InputError(f"temperature must be positive, got {temperature}")
    calls = byte_lm.lm.calls
    rng = np.random.default_rng(seed)
    beam = byte_lm.beam_for_prompt(prompt, exact=exact_prompt)
    out = bytearray()
    while len(out) < max_bytes:
        probs = byte_lm.next_byte_probs(beam)
        if sample:
            weights = probs ** (1.0 / temperature)
            outcome = int(rng.choice(len(probs), p=weights / weights.sum()))
        else:
            outcome = int(np.argmax(probs))
        if outcome == END_OF_TEXT:
            return Completion(bytes(out), True, byte_lm.lm.calls - calls)
        out.append(outcome)
        beam = byte_lm.advance(beam, outcome)
    return Completion(bytes(out), False, byte_lm.lm.calls - calls)


def _masked_argmax(scores: np.ndarray, allowed: np.ndarray) -> int:
    return int(np.argmax(np.where(allowed, scores, -np.inf)))


def prompt_tokens(vocabulary: ByteVocabulary, prompt: bytes) -> list[int]:
    """Canonical tokens of a text prompt (the tokenizer's text prefix included)."""
    if vocabulary.encode is None:
        raise InputError(f"{vocabulary.name} has no encoder for token-level decoding")
    try:
        prompt.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"the prompt is not valid UTF-8 (byte {error.start})", "token-level decoding needs text"
        ) from None
    return vocabulary.encode(vocabulary.text_prefix + prompt) if prompt else []


def _decode_greedily(
    lm: TokenLM, vocabulary: ByteVocabulary, tokens: list[int], out: bytearray, max_bytes: int, allowed: np.ndarray
) -> bool:
    """Extend ``tokens`` greedily until ``out`` holds ``max_bytes`` bytes; True if an end token came first."""
    end_ids = set(vocabulary.end_ids)
    while len(out) < max_bytes:
        token = _masked_argmax(lm.next_token_logprobs(tokens)[: vocabulary.size], allowed)
        if token in end_ids:
            return True
        tokens.append(token)
        out.extend(vocabulary.token_bytes[token])
    return False


def greedy_tokens(lm: TokenLM, vocabulary: ByteVocabulary, prompt: bytes, max_bytes: int) -> Completion:
    """Naive continuation: canonical tokens of the prompt, then greedy tokens (text or end tokens only)."""
    check_budget(max_bytes)
    calls = lm.calls
    tokens = [vocabulary.start_id, *prompt_tokens(vocabulary, prompt)]
    out = bytearray()
    ended = _decode_greedily(lm, vocabulary, tokens, out, max_bytes, vocabulary.ordinary_mask())
    return Completion(bytes(out[:max_bytes]), ended, lm.calls - calls)


def heal_tokens(lm: TokenLM, vocabulary: ByteVocabulary, prompt: bytes, max_bytes: int) -> Completion:
    """Token healing: back up one token and force the next one to start with the bytes it covered."""
    check_budget(max_bytes)
    calls = lm.calls
    encoded = prompt_tokens(vocabulary, prompt)
    allowed = vocabulary.ordinary_mask()
    tokens = [vocabulary.start_id, *encoded[:-1]]
    out = bytearray()
    if encoded:
        tail = vocabulary.token_bytes[encoded[-1]]
        node = vocabulary.node(tail)  # exists: the removed token itself starts with its bytes
        extending = np.zeros(vocabulary.size, dtype=bool)
        extending[vocabulary.sorted_ids[node.start : node.stop]] = True
        token = _masked_argmax(lm.next_token_logprobs(tokens)[: vocabulary.size], extending)
        tokens.append(token)
        out.extend(vocabulary.token_bytes[token][len(tail) :])
    ended = _decode_greedily(lm, vocabulary, tokens, out, max_bytes, allowed)
    return Completion(bytes(out[:max_bytes]), ended, lm.calls - calls)
