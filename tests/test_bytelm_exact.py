"""Exactness of the byte-level view against brute-force enumeration of token sequences, on a toy LM.

The toy model: a fixed random table of next-token distributions (indexed by the last token and the
sequence length modulo 3) over a 6-token toy BPE vocabulary {a, b, ab, ba, aba, bb} plus a start and an
end token. The cover set of a byte string is enumerated directly, so P(x) and every next-byte
probability are known exactly.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from _bpe_brute_force import apply_merge

from tokensmith.bytelm import END_OF_TEXT, BeamParams, ByteLM, ByteVocabulary
from tokensmith.errors import InputError

START, END = 0, 1
PIECES = [None, None, b"a", b"b", b"ab", b"ba", b"aba", b"bb"]
TEXT_IDS = [i for i, piece in enumerate(PIECES) if piece]
MERGES = [(b"a", b"b"), (b"b", b"a"), (b"ab", b"a"), (b"b", b"b")]


class TableLM:
    vocab_size = len(PIECES)

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        logits = rng.normal(0.0, 1.5, size=(len(PIECES), 3, len(PIECES)))
        logits[:, :, START] = -np.inf  # the start token is never generated
        self.table = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        self.calls = 0

    def next_token_logprobs(self, tokens):
        self.calls += 1
        return self.table[tokens[-1], len(tokens) % 3]

    def prob(self, tokens, token) -> float:
        return math.exp(self.table[tokens[-1], len(tokens) % 3][token])


def toy_bpe_encode(data: bytes) -> list[int]:
    parts = [bytes((b,)) for b in data]
    for left, right in MERGES:  # rank order: apply each merge left to right, as BPE does per rank
        parts = apply_merge(parts, left, right)
    return [PIECES.index(p) for p in parts]


def toy_vocabulary() -> ByteVocabulary:
    return ByteVocabulary(PIECES, start_id=START, end_ids=[END], encode=toy_bpe_encode, name="toy")


def prefix_probability(lm: TableLM, x: bytes) -> float:
    """P(text starts with x): the sum over the cover set, enumerated by brute force."""
    if not x:
        return 1.0
    total = 0.0

    def walk(position: int, tokens: tuple[int, ...], probability: float) -> None:
        nonlocal total
        rest = x[position:]
        for token in TEXT_IDS:
            piece = PIECES[token]
            p = probability * lm.prob(tokens, token)
            if piece.startswith(rest):
                total += p  # the last token reaches the end of x (or beyond it)
            elif rest.startswith(piece):
                walk(position + len(piece), (*tokens, token), p)

    walk(0, (START,), 1.0)
    return total


def end_probability(lm: TableLM, x: bytes) -> float:
    """P(text is exactly x, then ends): sequences that spell x exactly, times their end-token probability."""
    total = 0.0

    def walk(position: int, tokens: tuple[int, ...], probability: float) -> None:
        nonlocal total
        if position == len(x):
            total += probability * lm.prob(tokens, END)
            return
        for token in TEXT_IDS:
            piece = PIECES[token]
            if x.startswith(piece, position):
                walk(position + len(piece), (*tokens, token), probability * lm.prob(tokens, token))

    walk(0, (START,), 1.0)
    return total


EXACT = BeamParams(beam_size=10**6, prune=0.0)
STRINGS = [bytes(s) for n in range(0, 6) for s in itertools.product(b"ab", repeat=n)]


@pytest.fixture()
def toy():
    lm = TableLM()
    return lm, ByteLM(lm, toy_vocabulary(), EXACT)


@pytest.mark.parametrize("x", STRINGS, ids=lambda s: s.decode() or "empty")
def test_next_byte_probabilities_equal_brute_force(toy, x):
    lm, byte_lm = toy
    probs = byte_lm.next_byte_probs(byte_lm.beam_after(x))
    denominator = prefix_probability(lm, x)
    expected = np.zeros(257)
    for byte in b"ab":
        expected[byte] = prefix_probability(lm, x + bytes((byte,))) / denominator
    expected[END_OF_TEXT] = end_probability(lm, x) / denominator
    assert expected.sum() == pytest.approx(1.0, abs=1e-12)  # the brute force itself is consistent
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("x", [s for s in STRINGS if s], ids=lambda s: s.decode())
def test_chain_rule_gives_the_cover_sum(toy, x):
    lm, byte_lm = toy
    logprob = sum(byte_lm.byte_logprobs(x))
    assert logprob == pytest.approx(math.log(prefix_probability(lm, x)), abs=1e-9)


def test_pruned_distributions_sum_to_one_and_keep_k_states():
    lm = TableLM(seed=3)
    for params in (BeamParams(1, 0.0), BeamParams(2, 0.05), BeamParams(3, 0.2)):
        byte_lm = ByteLM(lm, toy_vocabulary(), params)
        beam = byte_lm.start()
        for byte in b"abbabaabab":
            probs = byte_lm.next_byte_probs(beam)
            assert probs.sum() == pytest.approx(1.0, abs=1e-12) and (probs >= 0).all()
            beam = byte_lm.advance(beam, byte)
            assert 1 <= len(beam.states) <= params.beam_size


def test_a_beam_as_wide_as_the_cover_set_is_exact_and_k1_is_not():
    lm = TableLM(seed=5)
    x = b"abababbaab"
    exact_lm = ByteLM(lm, toy_vocabulary(), EXACT)
    beam, widest = exact_lm.start(), 1
    for byte in x:
        beam = exact_lm.advance(beam, byte)
        widest = max(widest, len(beam.states))
    exact = sum(ByteLM(lm, toy_vocabulary(), EXACT).byte_logprobs(x))
    just_wide = sum(ByteLM(lm, toy_vocabulary(), BeamParams(widest, 0.0)).byte_logprobs(x))
    greedy = ByteLM(lm, toy_vocabulary(), BeamParams(1, 0.0))
    single_path = sum(greedy.byte_logprobs(x))
    assert widest > 5 and just_wide == pytest.approx(exact, abs=1e-9)
    assert math.isfinite(single_path) and single_path != pytest.approx(exact, abs=1e-6)


@pytest.mark.parametrize("params", [BeamParams(1, 0.0), BeamParams(2, 0.0), BeamParams(3, 0.1), BeamParams(5, 0.3)])
def test_a_pruned_beam_scores_a_lower_bound_of_the_exact_probability(params):
    lm = TableLM(seed=2)
    x = b"abbabaabbaab"
    exact = math.log(prefix_probability(lm, x))
    pruned = ByteLM(lm, toy_vocabulary(), params)
    logprob = sum(pruned.byte_logprobs(x))
    if pruned.heals == 0:  # a heal re-conditions on a canonical prefix, which the bound does not cover
        assert logprob <= exact + 1e-12
    assert logprob > exact - 10.0


def test_unproducible_byte_has_probability_zero_and_cannot_be_scored(toy):
    _, byte_lm = toy
    probs = byte_lm.next_byte_probs(byte_lm.beam_after(b"ab"))
    assert probs[ord("c")] == 0.0 and probs[ord("a")] > 0
    with pytest.raises(InputError, match="0x63"):
        byte_lm.byte_logprobs(b"abc")


def test_canonical_beam_keeps_only_canonical_sequences():
    lm = TableLM()
    byte_lm = ByteLM(lm, toy_vocabulary(), BeamParams(10**6, 0.0, canonical=True))
    for x in (b"abab", b"babba", b"aabba"):
        beam = byte_lm.beam_after(x)
        for state in beam.states:
            tokens = list(state.tokens[1:])
            text = b"".join(PIECES[t] for t in tokens)
            assert toy_bpe_encode(text) == tokens
        probs = byte_lm.next_byte_probs(beam)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)


def test_beam_reuse_across_calls_equals_fresh_computation():
    lm = TableLM()
    reused = ByteLM(lm, toy_vocabulary(), BeamParams(3, 0.01))
    for n in range(1, 9):
        x = b"abbaabab"[:n]
        fresh = ByteLM(TableLM(), toy_vocabulary(), BeamParams(3, 0.01))
        np.testing.assert_array_equal(reused.next_byte_logprobs(x), fresh.next_byte_logprobs(x))


@pytest.mark.parametrize("params", [EXACT, BeamParams(beam_size=2, prune=0.1), BeamParams(beam_size=1, prune=0.0)])
def test_fetching_ahead_on_the_known_text_changes_no_probability(params):
    """Scoring fetches the distributions the beam will probably want (the canonical tokens ahead and likely
    detours) before it asks; that may only save model calls, never change a number."""
    data = b"abbabaabbbab"
    lazy = ByteLM(TableLM(), toy_vocabulary(), params, lookahead=0, prefetch=0)
    eager = ByteLM(TableLM(), toy_vocabulary(), params, lookahead=4, prefetch=6)
    assert eager.byte_logprobs(data) == pytest.approx(lazy.byte_logprobs(data), abs=1e-12)
    assert eager.lm.calls > lazy.lm.calls  # the toy model answers one sequence per call: the extra ones show


def test_bad_parameters_are_refused():
    with pytest.raises(InputError, match="at least 1"):
        BeamParams(beam_size=0)
    with pytest.raises(InputError, match="pruning"):
        BeamParams(prune=1.5)


# -- ensembles across vocabularies ---------------------------------------------------------------------------

OTHER_PIECES = [None, None, b"a", b"b", b"aa", b"bab"]


class OtherTableLM(TableLM):
    vocab_size = len(OTHER_PIECES)

    def __init__(self) -> None:
        rng = np.random.default_rng(11)
        logits = rng.normal(0.0, 1.0, size=(len(OTHER_PIECES), 3, len(OTHER_PIECES)))
        logits[:, :, START] = -np.inf
        self.table = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        self.calls = 0


def test_ensemble_mixes_members_with_different_vocabularies():
    from tokensmith.bytelm.ensemble import ensemble_score

    first = ByteLM(TableLM(), toy_vocabulary(), EXACT)
    second = ByteLM(OtherTableLM(), ByteVocabulary(OTHER_PIECES, start_id=START, end_ids=[END], name="other"), EXACT)
    documents = ["abba", "babab"]
    result = ensemble_score([("first", first), ("second", second)], documents, weights=[0.25, 0.75], top=3)
    expected_mix = 0.0
    expected_members = [0.0, 0.0]
    for document in documents:
        data = document.encode()
        for position in range(len(data)):
            p = [m.next_byte_probs(m.beam_after(data[:position]))[data[position]] for m in (first, second)]
            expected_mix -= math.log2(0.25 * p[0] + 0.75 * p[1])
            expected_members = [e - math.log2(q) for e, q in zip(expected_members, p, strict=True)]
    assert result.ensemble_bits == pytest.approx(expected_mix, abs=1e-9)
    assert result.member_bits == pytest.approx(expected_members, abs=1e-9)
    assert result.bytes == 9 and len(result.divergences) == 3
    assert all(row["js_bits"] >= 0 for row in result.divergences)
    assert result.divergences[0]["js_bits"] >= result.divergences[-1]["js_bits"]


def test_ensemble_of_identical_members_does_not_disagree():
    from tokensmith.bytelm.ensemble import ensemble_score

    members = [(name, ByteLM(TableLM(), toy_vocabulary(), EXACT)) for name in ("x", "y")]
    result = ensemble_score(members, ["abab"])
    assert result.mean_divergence_bits == pytest.approx(0.0, abs=1e-12)
    assert result.ensemble_bits == pytest.approx(result.member_bits[0], abs=1e-9)
    with pytest.raises(InputError, match="at least two"):
        ensemble_score(members[:1], ["abab"])
    with pytest.raises(InputError, match="summing to 1"):
        ensemble_score(members, ["abab"], weights=[0.5, 0.6])


# -- a SentencePiece vocabulary with byte fallback (dummy-prefix space) --------------------------------------


class RandomLM:
    """Seeded random next-token scores over a real vocabulary (no model needed)."""

    def __init__(self, vocab_size: int) -> None:
        self.vocab_size = vocab_size
        self.calls = 0

    def next_token_logprobs(self, tokens):
        self.calls += 1
        return np.random.default_rng(len(tokens) * 7919 + tokens[-1]).normal(0.0, 2.0, self.vocab_size)


def test_sentencepiece_byte_fallback_vocabulary():
    from tokensmith.bytelm import vocabulary_from_tokenizer
    from tokensmith.tokenizers import load_tokenizer

    try:
        tokenizer = load_tokenizer("mistral-v3-sp")
    except Exception as error:  # the refs extra is part of `make install`; say why if it is missing
        pytest.fail(f"mistral-v3-sp reference tokenizer not loadable: {error}")
    vocabulary = vocabulary_from_tokenizer(tokenizer)
    assert vocabulary.text_prefix == b" "  # SentencePiece's dummy prefix, conditioned on and never scored
    assert vocabulary.producible == frozenset(range(256))  # byte fallback: every byte has a token
    byte_lm = ByteLM(RandomLM(tokenizer.vocab_size), vocabulary, BeamParams(5, 0.05))
    data = "Grüße, 東京!".encode()
    logprobs = byte_lm.byte_logprobs(data)
    assert len(logprobs) == len(data) and all(math.isfinite(lp) and lp <= 0 for lp in logprobs)
    probs = byte_lm.next_byte_probs(byte_lm.beam_after(data))
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    # On a token boundary every byte can come next (the pruned beam above may hold only states inside tokens).
    boundary = byte_lm.next_byte_probs(byte_lm.from_tokens(tokenizer.encode("Grüße, 東京!"), b" " + data))
    assert (boundary[:256] > 0).all()
    # The canonical tokens of the text, as a beam of one state, spell the text after the dummy prefix.
    encoded = tokenizer.encode("Grüße")
    assert b"".join(vocabulary.token_bytes[t] for t in encoded) == " Grüße".encode()


def test_ensemble_results_render_in_the_report():
    from tokensmith.bytelm.ensemble import ensemble_score
    from tokensmith.report.render import render_report
    from tokensmith.results import new_results

    first = ByteLM(TableLM(), toy_vocabulary(), EXACT)
    second = ByteLM(OtherTableLM(), ByteVocabulary(OTHER_PIECES, start_id=START, end_ids=[END], name="other"), EXACT)
    result = ensemble_score([("first", first), ("second", second)], ["abba"], top=2)
    doc = new_results("ensemble", {}, {"ensemble": result.as_dict()})
    html = render_report([json.loads(json.dumps(doc))], sources=["ensemble.json"])
    assert "Byte-level ensemble" in html and "JS (bits)" in html
    assert f"{result.bits_per_byte()['ensemble']:.3f}"[:4] in html


def test_ensemble_heals_a_member_whose_pruned_beam_lost_the_text():
    from tokensmith.bytelm.ensemble import ensemble_score

    narrow = ByteLM(TableLM(seed=1), toy_vocabulary(), BeamParams(1, 0.0))
    other = ByteLM(OtherTableLM(), ByteVocabulary(OTHER_PIECES, start_id=START, end_ids=[END], name="other"), EXACT)
    result = ensemble_score([("narrow", narrow), ("other", other)], ["aaaaaaaa"])
    assert narrow.heals >= 1 and all(math.isfinite(b) for b in result.member_bits)


@pytest.mark.parametrize("text", ["ሰላም ለዓለም", "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ", "བོད་སྐད།", "👩\u200d👩\u200d👧 🇫🇷", "\u202bשלום\u202c"])
def test_byte_fallback_text_after_the_dummy_prefix_is_healed(text):
    """Mistral's SentencePiece spells these (written for this test) as "▁" alone, then <0xNN> pieces or
    character tokens. A K=5 beam drops the lone "▁" (beside the mass of "▁word" tokens) while reading the
    dummy prefix; healing must re-read that prefix with its wide beam, or the text has probability 0."""
    from tokensmith.bytelm import vocabulary_from_tokenizer
    from tokensmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("mistral-v3-sp")
    byte_lm = ByteLM(RandomLM(tokenizer.vocab_size), vocabulary_from_tokenizer(tokenizer), BeamParams(5, 0.05))
    logprobs = byte_lm.byte_logprobs(text.encode())
    assert all(math.isfinite(lp) and lp <= 0 for lp in logprobs) and byte_lm.heals >= 1
