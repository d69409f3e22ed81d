"""Exact next-byte probabilities of a tokenized LM by summing over the token sequences that cover a prefix.

Byte-Token Representation Lemma (Phan et al., 2410.09303): the probability that a text starts with the
bytes ``x`` is the sum, over the token sequences whose last token reaches to or past the end of ``x``
(and whose other tokens lie inside it), of the model's probability of that sequence. Each sequence is
kept as a beam *state*: complete tokens ``t`` plus the bytes ``p`` of ``x`` already read into the next
token. Its weight is ``P(t) · Σ P(v | t)`` over the tokens ``v`` that strictly extend ``p`` (``P(t)`` when
``p`` is empty). Reading a byte ``b``:

* ``(t, p)`` becomes ``(t, p+b)`` if some token strictly extends ``p+b``;
* every token ``v`` equal to ``p+b`` spawns ``(t+v, "")`` with weight ``P(t) · P(v | t)``;

so the states always partition the cover set and their weights sum to ``P(x)`` (genlm-bytes' beam over
all tokenizations, Vieira et al. 2412.03719). ``P(b | x)`` is the share of the weight that goes to ``b``,
which the byte trie gives per state as a slice sum; end of text is the end-token mass of the states
sitting on a token boundary. Without pruning this is exact; with beam size K and a pruning threshold it
keeps the K heaviest states whose share of the total is at least the threshold.

Next-token distributions are renormalised over the tokens that stand for text plus the end tokens
(other special tokens are never part of a text).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from tokensmith.bytelm.lm import TokenLM, next_token_logprobs_many
from tokensmith.bytelm.vocab import END_OF_TEXT, OUTCOMES, ByteVocabulary, TrieNode
from tokensmith.errors import InputError

HEAL_BACKOFF = 16  # bytes re-read from a token boundary when a pruned beam has lost every path
HEAL_MIN_BEAM = 8  # states kept (no threshold) while re-reading them: at least this, or twice K
LOOKAHEAD = 16  # canonical tokens ahead fetched with a state on the known text's canonical path
PREFETCH = 24  # sequences fetched ahead of need per model call (each costs a few % of a forward step)


@dataclass(frozen=True)
class BeamParams:
    """Beam size K, pruning threshold (share of the total weight below which a state is dropped), and
    whether only canonical tokenizations are kept (checked over the last ``canonical_window`` tokens)."""

    beam_size: int = 5
    prune: float = 0.05
    canonical: bool = False
    canonical_window: int = 8

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise InputError(f"beam size K must be at least 1, got {self.beam_size}", "pass K >= 1 (default 5)")
        if not 0.0 <= self.prune < 1.0:
            raise InputError(f"pruning threshold must be in [0, 1), got {self.prune}", "the default is 0.05")
        if self.canonical_window < 1:
            raise InputError(f"canonical window must be at least 1 token, got {self.canonical_window}")


@dataclass(frozen=True)
class TokenDistribution:
    """One next-token distribution, in the vocabulary's sorted order, plus the end-of-text mass."""

    sorted_probs: np.ndarray
    end_prob: float


@dataclass(frozen=True)
class BeamState:
    tokens: tuple[int, ...]  # the start token, then complete tokens
    partial: bytes  # bytes of the current token read so far
    log_prefix: float  # log P(tokens), relative to the beam's normaliser
    log_weight: float  # log of the state's share of P(prefix), same normaliser
    node: TrieNode


def _log_sum_exp(values: Iterable[float]) -> float:
    values = list(values)
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))


@dataclass(frozen=True)
class Beam:
    """The states covering ``prefix`` (the bytes read so far, the text prefix included)."""

    states: tuple[BeamState, ...]
    prefix: bytes
    retained: float = 0.0  # log of the share of the weight the last pruning kept (0: nothing dropped)


class ByteLM:
    """A tokenized LM seen one byte at a time.

    Args:
        lm: next-token log-probabilities of token sequences (:class:`~tokensmith.bytelm.lm.TokenLM`).
        vocabulary: the byte trie of the model's tokenizer.
        params: beam size, pruning, canonical-only.
        memo_megabytes: memory for remembered next-token distributions (states revisit their token
            prefixes byte after byte, and scoring fetches the likely next states ahead of time).
        lookahead: when the text is known (scoring), the distributions after up to this many further
            canonical tokens are fetched in the same model call as a state that ends on a canonical boundary.
        prefetch: most sequences fetched ahead of need in one model call.
    """

    def __init__(self, lm: TokenLM, vocabulary: ByteVocabulary, params: BeamParams | None = None, *,
                 memo_megabytes: float = 96.0, lookahead: int = LOOKAHEAD, prefetch: int = PREFETCH):
        if lm.vocab_size < vocabulary.size:
            raise InputError(
                f"tokenizer {vocabulary.name!r} has {vocabulary.size} ids but the model only {lm.vocab_size} rows",
                "use the model's own tokenizer",
            )
        self.lm = lm
        self.vocabulary = vocabulary
        self.params = params or BeamParams()
        self._mask = vocabulary.ordinary_mask()
        self._memo: OrderedDict[tuple[int, ...], TokenDistribution] = OrderedDict()
        per_entry = 8 * max(vocabulary.size, 1)
        self._memo_size = max(int(memo_megabytes * 2**20 // per_entry), 4 * (lookahead + self.params.beam_size))
        self._lookahead = lookahead
        self._prefetch = prefetch
        self._plan: tuple[int, ...] = ()  # canonical tokens of the text being scored, start token first
        self._plan_offsets: list[int] = [0]  # stream offset where each plan prefix ends
        self._plan_stream = b""  # the stream bytes the plan spells
        self._last: Beam | None = None
        self.heals = 0  # beams rebuilt after pruning lost every covering path

    # -- next-token distributions -------------------------------------------------------------------
    def distribution(self, tokens: tuple[int, ...]) -> TokenDistribution:
        """P(next token | tokens) over text tokens and end tokens, in sorted-vocabulary order."""
        hit = self._memo.get(tokens)
        if hit is None:
            self.fetch([tokens])
            hit = self._memo[tokens]
        self._memo.move_to_end(tokens)
        return hit

    def fetch(self, wanted: Iterable[tuple[int, ...]]) -> None:
        """Make sure the distributions after ``wanted`` are remembered, asking the model for all missing
        ones in one call - with, when the text is known, up to ``prefetch`` sequences the beam will probably
        want next (:meth:`_planned_continuations`)."""
        memo = self._memo
        wanted = list(dict.fromkeys(wanted))
        missing = [tokens for tokens in wanted if tokens not in memo]
        if not missing:
            return
        for tokens in wanted:  # in use: the last to be forgotten
            if tokens in memo:
                memo.move_to_end(tokens)
        if self._plan:  # every token fed costs a little: prefetch a bounded number
            needed = set(missing)
            ahead = [tokens for tokens in self._planned_continuations(wanted) if tokens not in needed]
            missing.extend(ahead[: self._prefetch])
        missing = missing[: self._memo_size // 3]  # never evict what is in use or about to be
        rows = next_token_logprobs_many(self.lm, missing)
        vocabulary = self.vocabulary
        for tokens, row in zip(missing, rows, strict=True):
            scores = np.where(self._mask, np.asarray(row, dtype=np.float64)[: vocabulary.size], -np.inf)
            probs = np.exp(scores - scores.max())
            probs /= probs.sum()
            memo[tokens] = TokenDistribution(probs[vocabulary.sorted_ids], float(probs[list(vocabulary.end_ids)].sum()))
            memo.move_to_end(tokens)
        while len(memo) > self._memo_size:
            memo.popitem(last=False)

    def _planned_continuations(self, states: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """What the beam will probably ask for next, not yet remembered, nearest first.

        For each state: its detours - the state followed by a token that spells the coming bytes and is not
        much less likely than the likeliest such token (once its distribution is known). For a state that
        ends where a planned token ends, also the state followed by each prefix of the next ``lookahead``
        planned tokens (a beam that took another path through a word is back on the plan at the next shared
        boundary), with their detours where known.
        """
        plan, offsets, memo = self._plan, self._plan_offsets, self._memo
        token_bytes = self.vocabulary.token_bytes
        ranked: list[tuple[int, int, tuple[int, ...]]] = []  # (tokens ahead, state rank, sequence)
        for rank, tokens in enumerate(states):
            end = sum(len(token_bytes[t]) for t in tokens[1:])
            ranked.extend((1, rank, detour) for detour in self._detours(tokens, end))
            j = bisect_left(offsets, end)
            if j == len(offsets) or offsets[j] != end:
                continue
            for stop in range(j + 2, min(j + 1 + self._lookahead, len(plan)) + 1):
                here = tokens + plan[j + 1 : stop]
                ranked.append((stop - j - 1, rank, here))
                ranked.extend((stop - j, rank, detour) for detour in self._detours(here, offsets[stop - 1]))
        ranked.sort(key=lambda entry: entry[:2])
        return [tokens for tokens in dict.fromkeys(entry[2] for entry in ranked) if tokens not in memo]

    def _detours(self, tokens: tuple[int, ...], end: int) -> list[tuple[int, ...]]:
        """``tokens`` followed by each token that spells the planned stream from byte ``end`` on and is at
        least ``max(prune / 4, 1e-3)`` times as likely as the likeliest one (empty: distribution unknown)."""
        known = self._memo.get(tokens)
        if known is None:
            return []
        vocabulary, stream, probs = self.vocabulary, self._plan_stream, known.sorted_probs
        positions: list[int] = []
        for length in range(1, len(stream) - end + 1):
            node = vocabulary.node(stream[end : end + length])
            if node is None:
                break
            positions.extend(range(node.start, node.exact_stop))
        if not positions:
            return []
        bar = max(self.params.prune / 4, 1e-3) * max(probs[p] for p in positions)
        return [(*tokens, int(vocabulary.sorted_ids[p])) for p in positions if probs[p] >= bar]

    # -- beams ----------------------------------------------------------------------------------------
    def start(self) -> Beam:
        """The beam before any text byte: the start token, then the tokenizer's text prefix (conditioned on)."""
        root = self.vocabulary.root
        beam = Beam((BeamState((self.vocabulary.start_id,), b"", 0.0, 0.0, root),), b"")
        for byte in self.vocabulary.text_prefix:
            beam = self.advance(beam, byte)
        return beam

    def from_tokens(self, tokens: Sequence[int], prefix: bytes) -> Beam:
        """A beam of one state sitting on a token boundary after ``tokens`` (which spell ``prefix``)."""
        state = BeamState((self.vocabulary.start_id, *tokens), b"", 0.0, 0.0, self.vocabulary.root)
        return Beam((state,), prefix)

    def outcome_weights(self, beam: Beam) -> np.ndarray:
        """Unnormalised weights of the 257 outcomes (256 bytes, then end of text) after ``beam``."""
        totals = np.zeros(OUTCOMES, dtype=np.float64)
        self.fetch(state.tokens for state in beam.states)
        reference = max(state.log_prefix for state in beam.states)
        for state in beam.states:
            distribution = self.distribution(state.tokens)
            scale = math.exp(state.log_prefix - reference)
            node = state.node
            if node.has_extensions:
                masses = np.add.reduceat(distribution.sorted_probs[node.exact_stop : node.stop], node.child_offsets)
                totals[node.child_bytes] += scale * masses
            if not state.partial:
                totals[END_OF_TEXT] += scale * distribution.end_prob
        return totals

    def next_byte_probs(self, beam: Beam) -> np.ndarray:
        """P(next byte | beam's prefix) for the 256 byte values and end of text (index 256); sums to 1."""
        weights = self.outcome_weights(beam)
        total = weights.sum()
        if not total > 0:
            raise InputError(f"the model gives the prefix {beam.prefix[-40:]!r} no continuation at all")
        return weights / total

    def advance(self, beam: Beam, byte: int) -> Beam:
        """The beam after reading ``byte``, pruned. Raises InputError when no token sequence covers it."""
        grown = self._grow(beam, byte, self.params.canonical)
        if not grown and self.params.canonical:  # every covering sequence was non-canonical: keep them all
            grown = self._grow(beam, byte, False)
        if not grown and byte in self.vocabulary.producible:  # pruning lost every covering path
            grown = self._grow(self.heal(beam), byte, False)
        if not grown:
            raise InputError(
                f"no token sequence of {self.vocabulary.name!r} covers byte 0x{byte:02X} after "
                f"{beam.prefix[-40:]!r}: the model gives this text probability 0",
                "the tokenizer cannot produce this byte here; remove it from the text or use another model",
            )
        states, retained = self._prune(grown, self.params.beam_size, self.params.prune)
        return Beam(states, beam.prefix + bytes((byte,)), retained)

    def heal(self, beam: Beam) -> Beam:
        """Rebuild a beam whose paths were pruned away (genlm-bytes' healing, by re-tokenizing): the
        canonical tokens before its last ``HEAL_BACKOFF`` bytes are taken as given and the rest is read
        again with a wider beam and no threshold."""
        self.heals += 1
        params = self.params
        wide = max(2 * params.beam_size, HEAL_MIN_BEAM)
        return self.rebase(beam.prefix, BeamParams(wide, 0.0, params.canonical, params.canonical_window))

    def rebase(self, stream: bytes, params: BeamParams | None = None) -> Beam:
        """A beam for the stream bytes ``stream`` (text prefix included) conditioned on their canonical
        tokens up to ``HEAL_BACKOFF`` bytes before the end, which are then read byte by byte.

        The cheap way into a long prompt: one prefill of canonical tokens, and only the tail (where a
        prompt cut mid-token differs from its canonical tokenization) gets the byte-level treatment.
        The beam stops short of ``stream`` at a byte that no kept state covers; callers check its prefix.
        """
        params = params or self.params
        vocabulary = self.vocabulary
        cut = max(len(stream) - HEAL_BACKOFF, 0)
        trunk: list[int] = []
        if vocabulary.encode is not None and cut > len(vocabulary.text_prefix):
            head = stream[:cut]
            while head:
                try:
                    head.decode("utf-8")
                    break
                except UnicodeDecodeError:
                    head = head[:-1]
            trunk = vocabulary.encode(head)[:-1] if head else []  # the last token may continue past the cut
            trunk = self._spelling_prefix(trunk, stream)
        spelled = b"".join(vocabulary.token_bytes[t] for t in trunk)
        # Without a trunk, from the start token alone: the text prefix is read with ``params`` too (a narrow
        # beam drops SentencePiece's lone "▁", which text in a script it has no "▁word" tokens for needs).
        beam = self.from_tokens(trunk, spelled)
        for byte in stream[len(beam.prefix) :]:
            grown = self._grow(beam, byte, params.canonical)
            if not grown:
                return beam  # even the re-read fails here; the caller reports the byte
            beam = Beam(self._prune(grown, params.beam_size, params.prune)[0], beam.prefix + bytes((byte,)))
        return beam

    def _spelling_prefix(self, tokens: list[int], stream: bytes) -> list[int]:
        """The first of ``tokens`` as long as they spell ``stream`` byte for byte: the encoder reads the text
        of a special token (a chat marker) as that token, which spells nothing in a byte-level beam."""
        token_bytes, offset = self.vocabulary.token_bytes, 0
        for count, token in enumerate(tokens):
            data = token_bytes[token]
            if not data or not stream.startswith(data, offset):
                return tokens[:count]
            offset += len(data)
        return tokens

    def _grow(self, beam: Beam, byte: int, canonical: bool) -> list[BeamState]:
        vocabulary = self.vocabulary
        window = self.params.canonical_window
        grown: list[BeamState] = []
        self.fetch(state.tokens for state in beam.states)
        for state in beam.states:
            node = vocabulary.node(state.partial + bytes((byte,)))
            if node is None:
                continue
            probs = self.distribution(state.tokens).sorted_probs
            for position in range(node.start, node.exact_stop):
                probability = probs[position]
                if probability <= 0.0:
                    continue
                tokens = (*state.tokens, int(vocabulary.sorted_ids[position]))
                if canonical and not vocabulary.is_canonical(tokens[1:], window):
                    continue
                log_prefix = state.log_prefix + math.log(probability)
                grown.append(BeamState(tokens, b"", log_prefix, log_prefix, vocabulary.root))
            if node.has_extensions:
                mass = float(probs[node.exact_stop : node.stop].sum())
                if mass > 0.0:
                    log_weight = state.log_prefix + math.log(mass)
                    grown.append(BeamState(state.tokens, node.prefix, state.log_prefix, log_weight, node))
        return grown

    def _prune(self, states: list[BeamState], beam_size: int, prune: float) -> tuple[tuple[BeamState, ...], float]:
        """The kept states, renormalised, and the log of the share of the weight they hold."""
        total = _log_sum_exp(state.log_weight for state in states)
        floor = math.log(prune) if prune > 0 else -math.inf
        ranked = sorted(states, key=lambda state: -state.log_weight)  # stable: ties keep their order
        # The heaviest state always stays, even when many equal states each fall under the threshold.
        kept = ranked[:1] + [state for state in ranked[1:beam_size] if state.log_weight - total >= floor]
        shift = _log_sum_exp(state.log_weight for state in kept)  # renormalise so weights stay near 1
        renormalised = tuple(
            BeamState(s.tokens, s.partial, s.log_prefix - shift, s.log_weight - shift, s.node) for s in kept
        )
        return renormalised, min(shift - total, 0.0)

    # -- convenience over byte strings ----------------------------------------------------------------
    def beam_after(self, prefix: bytes) -> Beam:
        """The beam after the text bytes ``prefix``, reusing the last beam when ``prefix`` extends it."""
        stream = self.vocabulary.text_prefix + bytes(prefix)
        last = self._last
        beam = last if last is not None and stream.startswith(last.prefix) else self.start()
        for byte in stream[len(beam.prefix) :]:
            beam = self.advance(beam, byte)
        self._last = beam
        return beam

    def beam_for_prompt(self, prompt: bytes, *, exact: bool = False) -> Beam:
        """The beam after a prompt: read byte by byte from the start when ``exact``, else rebased on the
        prompt's canonical tokens before its last ``HEAL_BACKOFF`` bytes (see :meth:`rebase`)."""
        stream = self.vocabulary.text_prefix + bytes(prompt)
        if exact or self.vocabulary.encode is None:
            return self.beam_after(prompt)
        beam = self.rebase(stream)
        for byte in stream[len(beam.prefix) :]:  # the tail's beam lost every path: read on with healing
            beam = self.advance(beam, byte)
        return beam

    def next_byte_logprobs(self, prefix: bytes) -> np.ndarray:
        """Natural-log probabilities of the 256 next bytes and end of text (index 256) after ``prefix``."""
        with np.errstate(divide="ignore"):
            return np.log(self.next_byte_probs(self.beam_after(prefix)))

    def byte_logprobs(self, data: bytes, beam: Beam | None = None) -> list[float]:
        """Natural-log probability of each byte of ``data`` given the ones before it (chain rule).

        Each byte's probability is its share of the next-byte distribution times the share of the weight
        the last pruning kept, so the product over the text is the probability of the token sequences the
        beam kept: exact without pruning, a lower bound with it (pruned mass is not handed to the
        survivors, which would make a pruned beam look better than the model is).
        """
        beam = beam or self.start()
        logprobs: list[float] = []
        with self.reading(beam.prefix + bytes(data)):
            for byte in data:
                beam, probs = self.predict(beam, byte)
                logprobs.append(math.log(probs[byte]) + beam.retained)
                beam = self.advance(beam, byte)
        return logprobs

    @contextmanager
    def reading(self, stream: bytes):
        """While the beam reads the known stream bytes ``stream`` (text prefix included), fetch the
        distributions it will probably want ahead of need (see :meth:`fetch`); numbers do not change."""
        plan = self.canonical_plan(stream)
        lengths = [len(self.vocabulary.token_bytes[t]) for t in plan[1:]]
        offsets = np.cumsum([0, *lengths]).tolist()
        if offsets[-1] != len(stream):
            plan, offsets = (), [0]  # the encoder does not spell the stream byte for byte: no plan
        self._plan, self._plan_offsets, self._plan_stream = plan, offsets, stream
        try:
            yield self
        finally:
            self._plan, self._plan_offsets, self._plan_stream = (), [0], b""

    def canonical_plan(self, stream: bytes) -> tuple[int, ...]:
        """The start token and the canonical tokens of the stream bytes ``stream`` (empty when the
        tokenizer cannot encode it: the plan only speeds things up)."""
        encode = self.vocabulary.encode
        if encode is None:
            return ()
        try:
            tokens = encode(stream)
        except (UnicodeDecodeError, ValueError):
            return ()
        return (self.vocabulary.start_id, *tokens)

    def predict(self, beam: Beam, byte: int) -> tuple[Beam, np.ndarray]:
        """The next-byte distribution after ``beam`` for scoring the observed ``byte``: when pruning lost
        every path to it, the beam is healed first. Returns the beam used and its distribution.

        Raises:
            InputError: the byte has probability 0 even after healing.
        """
        probs = self.next_byte_probs(beam)
        if probs[byte] <= 0.0 and byte in self.vocabulary.producible:
            beam = self.heal(beam)
            probs = self.next_byte_probs(beam)
        if probs[byte] <= 0.0:
            lost = byte in self.vocabulary.producible
            raise InputError(
                f"the model gives byte 0x{byte:02X} after {beam.prefix[-40:]!r} probability 0",
                "the beam lost every path that covers it: raise K or lower the pruning threshold"
                if lost
                else f"no token of {self.vocabulary.name!r} contains this byte",
            )
        return beam, probs
