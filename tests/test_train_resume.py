"""Checkpoints and resume: a resumed run gives byte-identical files to an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tokensmith.errors import InputError
from tokensmith.train import BpeTrainer, CharTrainer, train_from_files


class Interrupted(Exception):
    """Raised from a progress callback to stop a run half-way, as Ctrl-C would."""


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> list[str]:
    return [str(shared_data / "mono/en.txt"), str(shared_data / "mono/de.txt")]


@pytest.fixture(scope="module")
def direct_4k(corpus, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("direct") / "out"
    train_from_files("bpe", corpus, 4000, str(out), engine="serial")
    return (out / "tokenizer.json").read_bytes()


def test_resume_to_a_larger_vocabulary_equals_training_directly(corpus, direct_4k, tmp_path):
    checkpoint = tmp_path / "run.npz"
    first = train_from_files("bpe", corpus, 2000, str(tmp_path / "2k"), engine="serial", checkpoint=str(checkpoint))
    assert first["checkpoint"]["resumed"] is False and checkpoint.is_file()
    resumed = train_from_files("bpe", corpus, 4000, str(tmp_path / "4k"), engine="serial",
                               checkpoint=str(checkpoint), resume=True)
    assert resumed["checkpoint"] == {"path": str(checkpoint), "resumed": True, "resumed_from_merges": 2000 - 257}
    assert resumed["merges"] == 4000 - 257
    assert (tmp_path / "4k/tokenizer.json").read_bytes() == direct_4k
    # The 2k tokenizer is a prefix of the 4k one: same ids, same first merges.
    small = json.loads((tmp_path / "2k/tokenizer.json").read_text(encoding="utf-8"))["model"]
    large = json.loads(direct_4k)["model"]
    assert small["merges"] == large["merges"][: len(small["merges"])]
    assert all(large["vocab"][token] == token_id for token, token_id in small["vocab"].items())


def test_an_interrupted_run_continues_where_it_stopped(corpus, direct_4k, tmp_path):
    checkpoint = tmp_path / "run.npz"
    reports = []

    def stop_after_first_merges(stage, done, total):
        if stage == "merge":
            reports.append(done)
            raise Interrupted

    with pytest.raises(Interrupted):
        train_from_files("bpe", corpus, 4000, str(tmp_path / "out"), engine="serial", checkpoint=str(checkpoint),
                         checkpoint_seconds=0, progress=stop_after_first_merges)
    assert reports == [2000] and not (tmp_path / "out").exists()
    from tokensmith.train.merge_core import load_checkpoint_metadata

    assert load_checkpoint_metadata(checkpoint)["merges"] == 2000
    summary = train_from_files("bpe", corpus, 4000, str(tmp_path / "out"), engine="serial",
                               checkpoint=str(checkpoint), resume=True)
    assert summary["checkpoint"]["resumed_from_merges"] == 2000
    assert summary["documents"] > 0 and summary["corpus_bytes"] > 1_000_000  # corpus stats survive the resume
    assert (tmp_path / "out/tokenizer.json").read_bytes() == direct_4k


def test_resume_without_a_checkpoint_file_trains_from_the_start(corpus, direct_4k, tmp_path):
    checkpoint = tmp_path / "new.npz"
    summary = train_from_files("bpe", corpus, 4000, str(tmp_path / "out"), engine="serial",
                               checkpoint=str(checkpoint), resume=True)
    assert summary["checkpoint"]["resumed"] is False and checkpoint.is_file()
    assert (tmp_path / "out/tokenizer.json").read_bytes() == direct_4k


def test_char_trainer_resumes_too(tmp_path):
    lines = ["the quick brown fox jumps over the lazy dog", "über größere Straßen fahren", "кошка и собака"] * 50
    full = CharTrainer(vocab_size=330, max_chars=3, engine="serial", min_frequency=1).train(lines)
    checkpoint = tmp_path / "char.npz"
    CharTrainer(vocab_size=290, max_chars=3, engine="serial", min_frequency=1).train(lines, checkpoint=checkpoint)
    resumed = CharTrainer(vocab_size=330, max_chars=3, engine="serial", min_frequency=1).resume(checkpoint)
    assert resumed.to_tokenizer_json() == full.to_tokenizer_json()


def test_a_char_preset_run_grows_to_a_larger_preset(tmp_path):
    # the checkpoint kept the preset among the settings it must share, so a 4k run could not resume to 8k
    # ("preset differ"), with preset=8k or with vocab_size=8192
    rng = np.random.default_rng(0)
    geez = [chr(c) for c in range(0x1200, 0x1358)]
    words = ["".join(rng.choice(geez, int(rng.integers(2, 6)))) for _ in range(3000)]
    lines = [" ".join(rng.choice(words, 12)) for _ in range(3000)]
    checkpoint = tmp_path / "char.npz"
    small = CharTrainer(preset="4k", engine="serial").train(lines, checkpoint=checkpoint)
    assert small.vocab_size == 4096
    direct = CharTrainer(preset="8k", engine="serial").train(lines).to_tokenizer_json()
    assert len(json.loads(direct)["model"]["vocab"]) > 4096
    assert CharTrainer(preset="8k", engine="serial").resume(checkpoint).to_tokenizer_json() == direct
    assert CharTrainer(vocab_size=8192, engine="serial").resume(checkpoint).to_tokenizer_json() == direct


def test_reading_options_are_compared_when_both_sides_have_them(tmp_path):
    lines = ["the quick brown fox jumps over the lazy dog", "über größere Straßen fahren"] * 50
    checkpoint = tmp_path / "bpe.npz"
    BpeTrainer(vocab_size=280, engine="serial").train(lines, checkpoint=checkpoint,
                                                      corpus_reading={"errors": "strict", "field": "text"})
    with pytest.raises(InputError, match="other options: field 'text' then, 'body' now"):
        BpeTrainer(vocab_size=300, engine="serial").resume(checkpoint,
                                                           corpus_reading={"errors": "strict", "field": "body"})
    with pytest.raises(InputError, match="other options: field 'text' then, unused now"):
        BpeTrainer(vocab_size=300, engine="serial").resume(checkpoint, corpus_reading={"errors": "strict"})
    # the Python API reads plain text without options, and checkpoints written before these were stored
    # have none: neither is refused
    BpeTrainer(vocab_size=300, engine="serial").resume(checkpoint)
    BpeTrainer(vocab_size=280, engine="serial").train(lines, checkpoint=checkpoint)
    BpeTrainer(vocab_size=300, engine="serial").resume(checkpoint, corpus_reading={"errors": "replace"})


def test_refusals(corpus, shared_data, tmp_path):
    checkpoint = tmp_path / "run.npz"
    train_from_files("bpe", corpus, 600, str(tmp_path / "a"), engine="serial", checkpoint=str(checkpoint))
    out = str(tmp_path / "b")
    with pytest.raises(InputError, match="min_frequency"):
        train_from_files("bpe", corpus, 900, out, checkpoint=str(checkpoint), resume=True, min_frequency=5)
    with pytest.raises(InputError, match="pretokenizer"):
        train_from_files("bpe", corpus, 900, out, checkpoint=str(checkpoint), resume=True, pretokenizer="gpt2")
    with pytest.raises(InputError, match="another corpus"):
        train_from_files("bpe", corpus[:1], 900, out, checkpoint=str(checkpoint), resume=True)
    with pytest.raises(InputError, match="already exists"):
        train_from_files("bpe", corpus, 900, out, checkpoint=str(checkpoint))
    with pytest.raises(InputError, match="cannot write checkpoints"):
        train_from_files("parity", [f"en={corpus[0]}", f"de={corpus[1]}"], 900, out, dev=str(shared_data / "parallel"),
                         checkpoint=str(tmp_path / "s.npz"))
    with pytest.raises(InputError, match="checkpoint=PATH"):
        train_from_files("bpe", corpus, 900, out, resume=True)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(2))
    with pytest.raises(InputError, match="not a tokensmith training checkpoint"):
        train_from_files("bpe", corpus, 900, out, checkpoint=str(other), resume=True)
    (tmp_path / "text.npz").write_text("not numpy", encoding="utf-8")
    with pytest.raises(InputError, match="not a merge checkpoint"):
        train_from_files("bpe", corpus, 900, out, checkpoint=str(tmp_path / "text.npz"), resume=True)
    assert not Path(out).exists()


@pytest.mark.parametrize("content", [b"hello\n", b"\x93NUMPY", b"PK\x03\x04 cut short", b""])
def test_a_file_that_is_no_checkpoint_is_named_so_without_numpy_advice(tmp_path, content):
    # numpy's own reason for a text file was "contains pickled (object) data. If you trust the file you can
    # load it unsafely using the `allow_pickle=` keyword argument": advice to unpickle a file one did not write.
    from tokensmith.train.merge_core import load_checkpoint, load_checkpoint_metadata

    path = tmp_path / "state.npz"
    path.write_bytes(content)
    for load in (load_checkpoint_metadata, load_checkpoint):
        with pytest.raises(InputError) as refused:
            load(path)
        assert "not a merge checkpoint" in str(refused.value) and "pickle" not in str(refused.value).lower()
        assert "save_checkpoint" not in str(refused.value)  # a function name meant nothing on the command line


@pytest.fixture(scope="module")
def django_lines() -> list[str]:
    from _django_text import django_translations

    return [line for locale in ("de", "fr", "es", "ru") for line in django_translations(locale)] * 3


def stop_at_merge(after: int):
    """A progress callback that interrupts the run at the first merge report beyond ``after`` merges."""
    def progress(stage, done, total):
        if stage == "merge" and done > after:
            raise Interrupted(done)
    return progress


def test_superword_resumes_stage_2_after_an_interruption_and_to_a_larger_vocabulary(django_lines, tmp_path,
                                                                                     monkeypatch):
    from tokensmith.train import SuperwordTrainer, bpe
    from tokensmith.train.merge_core import load_checkpoint_metadata

    monkeypatch.setattr(bpe, "_MERGES_PER_REPORT", 40)  # reports (and checkpoints) every 40 merges
    settings = {"transition": 900, "engine": "serial", "min_frequency": 2}
    direct = SuperwordTrainer(vocab_size=1300, **settings).train(django_lines)
    assert direct.vocab_size == 1300  # the text holds enough for every merge asked
    checkpoint = tmp_path / "superword.npz"
    with pytest.raises(Interrupted):
        SuperwordTrainer(vocab_size=1100, **settings).train(
            django_lines, checkpoint=checkpoint, checkpoint_seconds=0, progress=stop_at_merge(900 - 257 + 40))
    assert load_checkpoint_metadata(checkpoint)["merges"] == 900 - 257 + 80  # in stage 2, written at each report
    # continued to the interrupted run's size, then grown on to a larger one: as if never stopped
    middle = SuperwordTrainer(vocab_size=1100, **settings).resume(checkpoint)
    assert middle.to_tokenizer_json() == SuperwordTrainer(vocab_size=1100, **settings).train(
        django_lines).to_tokenizer_json()
    grown = SuperwordTrainer(vocab_size=1300, **settings).resume(checkpoint)
    assert grown.to_tokenizer_json() == direct.to_tokenizer_json()
    assert grown.stats.documents == direct.stats.documents and grown.stats.merges == direct.stats.merges


def test_superword_refuses_a_checkpoint_of_another_transition_point(django_lines, tmp_path):
    from tokensmith.train import SuperwordTrainer

    checkpoint = tmp_path / "superword.npz"
    SuperwordTrainer(vocab_size=1000, engine="serial").train(django_lines, checkpoint=checkpoint)  # t = 900
    refusal = "stage 1 whose transition point was 900, but this run's transition point is 1080"
    with pytest.raises(InputError, match=refusal) as refused:
        SuperwordTrainer(vocab_size=1200, engine="serial").resume(checkpoint)
    assert "transition=900" in refused.value.hint
    assert SuperwordTrainer(vocab_size=1200, transition=900, engine="serial").resume(checkpoint).vocab_size == 1200
    with pytest.raises(InputError, match="written by a superword run, not a bpe one"):
        BpeTrainer(vocab_size=1200, engine="serial").resume(checkpoint)


def test_extend_resumes_on_a_byte_fallback_base_that_gained_characters(tmp_path, monkeypatch):
    # the characters extend adds first (Cherokee, which the base spells with <0xXX>) are part of the state
    # the checkpoint must restore: their ids come before the merged tokens'
    import random

    from _sentencepiece_base import CHEROKEE_WORDS, sentencepiece_style_json

    from tokensmith.train import ExtendTrainer, bpe

    monkeypatch.setattr(bpe, "_MERGES_PER_REPORT", 20)
    base = str(sentencepiece_style_json(tmp_path / "base.json"))
    rng = random.Random(1)
    lines = [" ".join(rng.choices(CHEROKEE_WORDS, k=rng.randint(3, 12))) for _ in range(600)]
    size = json.loads(Path(base).read_text(encoding="utf-8"))["model"]["vocab"].__len__()
    direct = ExtendTrainer(base=base, vocab_size=size + 150).train(lines)
    assert len(direct.new_tokens) == 150 and set("".join(CHEROKEE_WORDS)) <= set(direct.new_tokens)
    checkpoint = tmp_path / "extend.npz"
    with pytest.raises(Interrupted):
        ExtendTrainer(base=base, vocab_size=size + 150).train(lines, checkpoint=checkpoint, checkpoint_seconds=0,
                                                             progress=stop_at_merge(40))
    resumed = ExtendTrainer(base=base, vocab_size=size + 150).resume(checkpoint)
    assert resumed.to_tokenizer_json() == direct.to_tokenizer_json()
    assert resumed.new_tokens == direct.new_tokens and resumed.new_merges == direct.new_merges


def test_extend_resumes_from_the_same_base_anywhere_and_refuses_an_edited_one(django_lines, tmp_path):
    import shutil

    from tokensmith.train import ExtendTrainer

    base = tmp_path / "a" / "tokenizer.json"
    base.parent.mkdir()
    spec = ExtendTrainer(base="gpt2", vocab_size=50300).base_spec()
    base.write_text(json.dumps(spec), encoding="utf-8")
    checkpoint = tmp_path / "extend.npz"
    ExtendTrainer(base=str(base), vocab_size=50400).train(django_lines, checkpoint=checkpoint)
    moved = tmp_path / "b" / "tokenizer.json"  # the same file elsewhere (a copy, another path) is the same base
    moved.parent.mkdir()
    shutil.copy(base, moved)
    grown = ExtendTrainer(base=str(moved), vocab_size=50500).resume(checkpoint)
    assert grown.to_tokenizer_json() == ExtendTrainer(base=str(base), vocab_size=50500).train(
        django_lines).to_tokenizer_json()
    spec["added_tokens"].append({"id": 50257, "content": "<|pad|>", "single_word": False, "lstrip": False,
                                 "rstrip": False, "normalized": False, "special": True})
    moved.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(InputError, match="other settings: base_sha256 differ"):
        ExtendTrainer(base=str(moved), vocab_size=50500).resume(checkpoint)


def test_the_same_files_in_another_order_are_another_corpus_and_the_message_says_order_counts(django_lines,
                                                                                              tmp_path):
    # Refusing is right (de+fr and fr+de learn other merges), but "another corpus" alone sent users looking
    # for a changed file.
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(django_lines[:2000]) + "\n", encoding="utf-8")
    second.write_text("\n".join(django_lines[2000:4000]) + "\n", encoding="utf-8")
    checkpoint = tmp_path / "run.npz"
    train_from_files("bpe", [str(first), str(second)], 400, str(tmp_path / "ab"), engine="serial",
                     checkpoint=str(checkpoint))
    with pytest.raises(InputError, match="the same files in another order") as refused:
        train_from_files("bpe", [str(second), str(first)], 500, str(tmp_path / "ba"), engine="serial",
                         checkpoint=str(checkpoint), resume=True)
    assert "in the same order" in refused.value.hint


def test_superword_resumes_when_stage_1_ran_out_of_pairs_before_its_transition_point(tmp_path):
    # The check compared the size stage 1 reached with the transition point: a stage 1 that ran out of pairs
    # (three words, fully merged long before t) made its own checkpoint "another transition point".
    from tokensmith.train import SuperwordTrainer

    lines = ["kuna maji safi", "maji safi kuna", "safi kuna maji"] * 40  # Swahili, written for this test
    settings = {"transition": 390, "engine": "serial", "min_frequency": 2}
    checkpoint = tmp_path / "superword.npz"
    first = SuperwordTrainer(vocab_size=400, **settings).train(lines, checkpoint=checkpoint)
    assert first.vocab_size < 390  # stage 1 stopped short of t, and stage 2 ran out too
    resumed = SuperwordTrainer(vocab_size=410, **settings).resume(checkpoint)
    assert resumed.to_tokenizer_json() == SuperwordTrainer(vocab_size=410, **settings).train(lines).to_tokenizer_json()
