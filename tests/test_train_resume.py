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
        train_from_files("superword", corpus, 900, out, checkpoint=str(tmp_path / "s.npz"))
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
