"""`tokensmith train` and `tokensmith vocab` from the command line, on the demo's own corpora."""

from __future__ import annotations

import json

import pytest

from tokensmith.cli import main
from tokensmith.demo_corpora import demo_corpora


@pytest.fixture(scope="module")
def corpora():
    return demo_corpora()


def test_train_saves_a_tokenizer_that_the_reference_library_loads(corpora, tmp_path, capsys):
    out = tmp_path / "tok"
    results = tmp_path / "train.json"
    code = main(["train", "--corpus", f"code={corpora['code']}", "--corpus", str(corpora["parallel"] / "de.txt"),
                 "-v", "2000", "--out", str(out), "--compare", "gpt2", "--results", str(results), "-q"])
    assert code == 0, capsys.readouterr().err
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert reference.get_vocab_size() == 2000
    text = "def déjà_vu(x):\n    return x  # Grüße\n"
    assert reference.decode(reference.encode(text).ids) == text
    section = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    held_out = section["held_out"]["bytes_per_token"]
    assert held_out["trained"] > 0 and held_out["gpt2"] > 0
    assert section["vocab_size"] == 2000

    # an existing output folder is refused without --force, and nothing in it changes
    before = (out / "tokenizer.json").read_bytes()
    code = main(["train", "--corpus", str(corpora["parallel"] / "fr.txt"), "-v", "500", "--out", str(out), "-q"])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert (out / "tokenizer.json").read_bytes() == before


def test_train_bad_settings_exit_2(corpora, tmp_path, capsys):
    code = main(["train", "--corpus", str(corpora["parallel"] / "de.txt"), "-v", "1000", "--out", str(tmp_path / "a"),
                 "--algorithm", "wordpiece"])
    assert code == 2 and "wordpiece" in capsys.readouterr().err
    code = main(["train", "--corpus", str(tmp_path / "missing.txt"), "-v", "1000", "--out", str(tmp_path / "b")])
    assert code == 2 and "missing.txt" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_vocab_command_writes_composition(tmp_path, capsys):
    out = tmp_path / "vocab.json"
    code = main(["vocab", "-t", "gpt2", "-t", "minilm-wordpiece", "--out", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["vocab"]
    assert set(section["tokenizers"]) == {"gpt2", "minilm-wordpiece"}


def test_resume_from_a_checkpoint_equals_a_direct_run(corpora, tmp_path, capsys):
    text = ["--corpus", f"code={corpora['code']}"]
    checkpoint = tmp_path / "state.npz"
    assert main(["train", *text, "-v", "800", "--out", str(tmp_path / "a"), "--checkpoint", str(checkpoint),
                 "-q"]) == 0
    assert main(["train", *text, "-v", "1200", "--out", str(tmp_path / "b"), "--checkpoint", str(checkpoint),
                 "--resume", "--force", "-q"]) == 0, capsys.readouterr().err
    assert main(["train", *text, "-v", "1200", "--out", str(tmp_path / "c"), "-q"]) == 0
    assert (tmp_path / "b" / "tokenizer.json").read_bytes() == (tmp_path / "c" / "tokenizer.json").read_bytes()
