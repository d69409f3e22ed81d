"""A trained tokenizer's folder is written as a whole: complete or not at all, never old and new files mixed.

The saves are interrupted where the files are written: the third file's text (tiktoken.json) raises when
it is encoded, after tokenizer.json and tokenizer.tiktoken were written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokensmith.cli import main
from tokensmith.demo_corpora import demo_corpora
from tokensmith.errors import InputError, OutputExistsError
from tokensmith.train import BpeTrainer
from tokensmith.train.export import TIKTOKEN_CONFIG, TIKTOKEN_RANKS, TOKENIZER_CONFIG, TOKENIZER_JSON

pytest.importorskip("tokenizers")

OLD = {TOKENIZER_JSON: "old json", TOKENIZER_CONFIG: "old transformers config", TIKTOKEN_RANKS: "old ranks",
       TIKTOKEN_CONFIG: "old config"}


class _Exploding(str):
    """Text that raises ``error`` when it is encoded to be written."""

    error: BaseException

    def encode(self, *args, **kwargs):
        raise self.error


def interrupt_the_third_file(monkeypatch, error: BaseException) -> None:
    import tokensmith.train.export as export

    exploding = _Exploding("{}")
    exploding.error = error
    monkeypatch.setattr(export, "tiktoken_config", lambda *args, **kwargs: exploding)


def folder_texts(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()}


@pytest.fixture(scope="module")
def trained():
    return BpeTrainer(vocab_size=300, min_frequency=1, engine="serial").train(["hello world, hello tokens"] * 5)


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_a_save_that_fails_midway_leaves_no_folder_and_no_temporary_folder(trained, tmp_path, monkeypatch, error):
    interrupt_the_third_file(monkeypatch, error)
    with pytest.raises(type(error)):
        trained.save(tmp_path / "tok")
    assert list(tmp_path.iterdir()) == []  # neither tok (with two of its three files) nor a hidden .tok.tmp-*


def test_force_keeps_the_old_folder_whole_until_the_new_one_is_complete(trained, tmp_path, monkeypatch):
    out = tmp_path / "tok"
    out.mkdir()
    for name, text in OLD.items():
        (out / name).write_text(text, encoding="utf-8")
    with monkeypatch.context() as patched:
        interrupt_the_third_file(patched, KeyboardInterrupt())
        with pytest.raises(KeyboardInterrupt):
            trained.save(out, force=True)
    assert folder_texts(out) == OLD  # not the new tokenizer.json beside the old tiktoken.json
    assert [path.name for path in tmp_path.iterdir()] == ["tok"]

    files = trained.save(out, force=True)
    assert files == {name: out / name for name in OLD}
    assert (out / TOKENIZER_JSON).read_text(encoding="utf-8") == trained.to_tokenizer_json()
    assert json.loads((out / TIKTOKEN_CONFIG).read_text(encoding="utf-8"))["ranks_file"] == TIKTOKEN_RANKS
    assert [path.name for path in tmp_path.iterdir()] == ["tok"]  # the old folder moved aside is gone too
    assert out.stat().st_mode & 0o777 == 0o777 & ~current_umask()  # as mkdir makes it, not mkdtemp's 0700


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_force_never_replaces_a_folder_holding_other_files(trained, tmp_path):
    # Replacing the folder as a whole would delete them (--out ~ --force used to add three files to ~).
    out = tmp_path / "models"
    (out / "llama").mkdir(parents=True)
    (out / "notes.txt").write_text("precious", encoding="utf-8")
    (out / TOKENIZER_JSON).write_text("old json", encoding="utf-8")
    with pytest.raises(InputError, match="holds llama, notes.txt, which this output does not write"):
        trained.save(out, force=True)
    assert sorted(path.name for path in out.iterdir()) == ["llama", "notes.txt", TOKENIZER_JSON]
    assert (out / TOKENIZER_JSON).read_text(encoding="utf-8") == "old json"
    assert [path.name for path in tmp_path.iterdir()] == ["models"]
    # Without force a folder that is not empty is refused; an empty one is written into.
    with pytest.raises(OutputExistsError):
        trained.save(out)
    empty = out / "llama"
    assert set(trained.save(empty)) == set(OLD) and sorted(p.name for p in empty.iterdir()) == sorted(OLD)


def test_the_old_folder_goes_back_when_the_new_one_cannot_take_its_place(tmp_path, monkeypatch):
    from tokensmith.io import atomic_folder

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old", encoding="utf-8")
    replace = os.replace

    def failing_replace(source, destination):
        if Path(source).name.startswith(".out.tmp-"):
            raise OSError(16, "Device or resource busy")
        replace(source, destination)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="busy"), atomic_folder(out, force=True) as staging:
        (staging / "a.txt").write_text("new", encoding="utf-8")
    assert folder_texts(out) == {"a.txt": "old"}
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


@pytest.fixture(scope="module")
def corpora():
    return demo_corpora()


def test_cli_train_force_replaces_the_folder_only_once_it_is_complete(corpora, tmp_path, monkeypatch, capsys):
    out = tmp_path / "tok"
    results = out / "results.json"  # inside the folder: written with it
    german = ["train", "--corpus", str(corpora["parallel"] / "de.txt"), "--out", str(out), "-q"]
    assert main([*german, "-v", "600", "--results", str(results)]) == 0, capsys.readouterr().err
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert set(before) == {*OLD, "results.json"}
    summary = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    assert summary["files"] == {name: str(out / name) for name in OLD}  # the final paths, not the temporary ones

    with monkeypatch.context() as patched:
        interrupt_the_third_file(patched, KeyboardInterrupt())
        code = main([*german, "-v", "700", "--results", str(results), "--force"])
    assert code == 130 and "interrupted; nothing was written" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert [path.name for path in tmp_path.iterdir()] == ["tok"]

    assert main([*german, "-v", "700", "--results", str(results), "--force"]) == 0, capsys.readouterr().err
    assert len(json.loads((out / TOKENIZER_JSON).read_text(encoding="utf-8"))["model"]["vocab"]) == 700
    summary = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    assert summary["vocab_size"] == 700 and set(before) == {p.name for p in out.iterdir()}
    assert [path.name for path in tmp_path.iterdir()] == ["tok"]

    # Refused before any training, nothing touched: a folder holding other files, a checkpoint inside it.
    (out / "notes.txt").write_text("precious", encoding="utf-8")
    code = main([*german, "-v", "700", "--force"])
    assert code == 2 and "holds notes.txt, results.json" in capsys.readouterr().err
    (out / "notes.txt").unlink()
    checkpoint = out / "state.npz"
    code = main([*german, "-v", "700", "--results", str(results), "--force", "--checkpoint", str(checkpoint)])
    assert code == 2 and "inside the output folder" in capsys.readouterr().err
    assert not checkpoint.exists() and set(before) == {p.name for p in out.iterdir()}


@pytest.mark.parametrize("with_checkpoint", [True, False])
def test_an_output_that_runs_out_of_room_is_one_error_and_leaves_nothing(tmp_path, with_checkpoint):
    # A full disk raised a bare OSError from the checkpoint write (a traceback minutes into training); the
    # file size limit (RLIMIT_FSIZE) makes the same failure, EFBIG, without filling a disk.
    resource = pytest.importorskip("resource")
    corpus = tmp_path / "yo_hy.txt"
    corpus.write_text("Ọ̀rọ̀ Yorùbá ní àmì ohùn lórí fáwẹ̀lì.\nՀայերենը հնդեվրոպական լեզու է։\n" * 400, encoding="utf-8")
    out, checkpoint = tmp_path / "tok", tmp_path / "state.npz"
    argv = ["train", "--corpus", str(corpus), "-v", "400", "--out", str(out), "-q"]
    argv += ["--checkpoint", str(checkpoint)] if with_checkpoint else []
    script = ("import resource, signal, sys\n"
              "from tokensmith.cli import main\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead\n"
              f"resource.setrlimit(resource.RLIMIT_FSIZE, (4096, {resource.RLIM_INFINITY}))\n"
              f"sys.exit(main({argv!r}))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    named = checkpoint if with_checkpoint else out
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"error: cannot write {named}: File too large"), done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [corpus.name]
