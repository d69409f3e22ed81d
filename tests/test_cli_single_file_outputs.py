"""Commands that write one output file refuse an --out that is a folder, even with --force, before any work.

check_writable lets a folder through with --force (an output folder may be replaced): these commands
loaded models, read corpora and trained, and only then stopped at the write with "it is a folder".
"""

from __future__ import annotations

import pytest

from tokensmith.cli import main


class HeavyStepReached(Exception):
    """Raised by a command's first heavy step: the refusal came too late."""


def _heavy(*args, **kwargs):
    raise HeavyStepReached


#: Command family -> (the heavy steps it takes first, its arguments given the text file and the folder).
COMMANDS = {
    "report": (["tokensmith.results.read_results"],
               lambda text, folder: ["report", str(text), "--out", str(folder)]),
    "vocab": (["tokensmith.tokenizers.load_tokenizer"],
              lambda text, folder: ["vocab", "-t", "gpt2", "--out", str(folder)]),
    "bpb": (["tokensmith.transplant.commands.read_documents", "tokensmith.transplant.models.load_model"],
            lambda text, folder: ["bpb", "-m", "smollm2-135m", "-c", str(text), "--out", str(folder)]),
    "bpb --byte-level": (["tokensmith.transplant.commands.read_documents", "tokensmith.bytelm.commands.open_byte_lm"],
                         lambda text, folder: ["bpb", "--byte-level", "-m", "smollm2-135m", "-c", str(text),
                                               "--out", str(folder)]),
    "ensemble": (["tokensmith.transplant.commands.read_documents", "tokensmith.bytelm.commands.open_byte_lm"],
                 lambda text, folder: ["ensemble", "-m", "smollm2-135m", "-m", "smollm2-135m", "-c", str(text),
                                       "--out", str(folder)]),
    "transplant --compare": (["tokensmith.transplant.commands.read_documents",
                              "tokensmith.transplant.models.load_model"],
                             lambda text, folder: ["transplant", "--compare", "-m", "smollm2-135m", "-t", "gpt2",
                                                   "--eval", str(text), "--results", str(folder)]),
    "transplant --results": (["tokensmith.transplant.commands.read_documents",
                              "tokensmith.transplant.models.load_model"],
                             lambda text, folder: ["transplant", "-m", "smollm2-135m", "-t", "gpt2", "--eval",
                                                   str(text), "--out", str(folder.parent / "model"),
                                                   "--results", str(folder)]),
    "mixture": (["tokensmith.tokenizers.load_tokenizer"],
                lambda text, folder: ["mixture", "-t", "gpt2", "--category", f"uz={text}", "--category", f"ky={text}",
                                      "--out", str(folder)]),
    "train --results": (["tokensmith.train.make_trainer", "tokensmith.corpus.open_corpus"],
                        lambda text, folder: ["train", "-c", str(text), "-v", "300", "--out",
                                              str(folder.parent / "tok"), "--results", str(folder)]),
    # the checkpoint is first written minutes into the training, after the corpus is hashed
    "train --checkpoint": (["tokensmith.train.api.corpus_fingerprint", "tokensmith.train.bpe.BpeTrainer.train"],
                           lambda text, folder: ["train", "-c", str(text), "-v", "300", "--out",
                                                 str(folder.parent / "tok"), "--checkpoint", str(folder)]),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_file_that_is_a_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch, command):
    heavy_steps, arguments = COMMANDS[command]
    for step in heavy_steps:
        monkeypatch.setattr(step, _heavy)
    text = tmp_path / "uz.txt"
    text.write_text("Salom dunyo\nBir ikki uch\n", encoding="utf-8")
    folder = tmp_path / "results"
    (folder / "old").mkdir(parents=True)
    quiet = [] if command == "report" else ["-q"]  # report prints nothing but errors
    code = main([*arguments(text, folder), "--force", *quiet])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and f"cannot write {folder}: it is a folder" in err, err
    assert (folder / "old").is_dir() and sorted(tmp_path.iterdir()) == [folder, text]


def test_a_model_folder_output_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    # transplant --out FILE --force loaded and transplanted the model, then stopped at the save
    monkeypatch.setattr("tokensmith.transplant.commands.read_documents", _heavy)
    monkeypatch.setattr("tokensmith.transplant.models.load_model", _heavy)
    text = tmp_path / "uz.txt"
    text.write_text("Salom dunyo\n", encoding="utf-8")
    model_file = tmp_path / "model"
    model_file.write_text("not a folder\n", encoding="utf-8")
    code = main(["transplant", "-m", "smollm2-135m", "-t", "gpt2", "--eval", str(text), "--out", str(model_file),
                 "--force", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot write {model_file}: it is a file, not a folder" in err, err
    assert model_file.read_text(encoding="utf-8") == "not a folder\n"
