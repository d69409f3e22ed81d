"""`tokensmith train` and `tokensmith vocab` from the command line, on the demo's own corpora."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokensmith.cli import main
from tokensmith.demo_corpora import demo_corpora
from tokensmith.errors import InputError
from tokensmith.train import ParityTrainer


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


@pytest.mark.parametrize(("flags", "message"), [
    (["--option", "vocab_size=500"], "the vocabulary size is not an option"),
    (["--option", 'pretokenizer=["gpt2"]'], "pretokenizer must be a string"),
    (["--option", "engine=5"], "engine must be a string"),
    (["--option", 'split_digits="no"'], "split_digits must be true or false, not 'no'"),
    (["--option", "max_token_length=2.5"], "max_token_length must be a whole number"),
    (["--option", 'special_tokens=[1]'], "special_tokens must be a list of strings"),
    (["--option", "min_frequency=50", "--min-frequency", "2"], "min_frequency is given twice"),
    (["--option", 'special_tokens=["<x>"]', "--special", "<y>"], "special_tokens is given twice"),
])
def test_options_of_the_wrong_type_or_given_twice_exit_2(corpora, tmp_path, capsys, flags, message):
    """`--option` values are JSON: one of the wrong type was misread (split_digits="no" split digits) or
    crashed deep in the trainer, and a flag silently won over the same --option."""
    out = tmp_path / "o"
    code = main(["train", "--corpus", str(corpora["parallel"] / "de.txt"), "-v", "400", "--out", str(out), "-q",
                 *flags])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_options_of_the_right_json_type_are_taken(tmp_path):
    from tokensmith.train import make_trainer

    trainer = make_trainer("bpe", 300, split_digits=True, special_tokens=["<a>"], max_token_length=8.0)
    assert trainer.split_digits is True and trainer.special_tokens == ("<a>",) and trainer.max_token_length == 8
    assert make_trainer("parity", 300, alpha=2, global_share=None).alpha == 2.0


def test_char_vocabulary_size_comes_from_its_preset_or_its_own_default(tmp_path, capsys):
    # --vocab-size used to default to 32000 for every trainer: char trained 32000 tokens without -v (its
    # config says 4096), a preset silently overrode an explicit -v, and the summary said "asked 32,000"
    text = tmp_path / "chr.txt"
    text.write_text("".join(f"{chr(0x13A0 + i % 80)}{chr(0x13A0 + i * 7 % 80)} ᏣᎳᎩ {i}\n" for i in range(300)),
                    encoding="utf-8")

    def summary(name: str, *flags: str) -> dict:
        results = tmp_path / f"{name}.json"
        code = main(["train", "-a", "char", "--corpus", str(text), "--out", str(tmp_path / name),
                     "--results", str(results), "-q", *flags])
        assert code == 0, capsys.readouterr().err
        return json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]

    assert summary("default")["requested_vocab_size"] == 4096
    assert summary("preset", "--option", "preset=8k")["requested_vocab_size"] == 8192
    assert summary("both", "--option", "preset=8k", "-v", "8192")["requested_vocab_size"] == 8192
    code = main(["train", "-a", "char", "--corpus", str(text), "--out", str(tmp_path / "clash"),
                 "--option", "preset=8k", "-v", "5000", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "preset 8k" in err and "5000" in err and "Traceback" not in err
    assert not (tmp_path / "clash").exists()
    code = main(["train", "-a", "extend", "--base", "gpt2", "--corpus", str(text), "--out", str(tmp_path / "ext")])
    assert code == 2 and "no vocab_size given" in capsys.readouterr().err


def test_vocab_command_writes_composition(tmp_path, capsys):
    out = tmp_path / "vocab.json"
    code = main(["vocab", "-t", "gpt2", "-t", "minilm-wordpiece", "--out", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["vocab"]
    assert set(section["tokenizers"]) == {"gpt2", "minilm-wordpiece"}


@pytest.mark.parametrize("algorithm", [
    ["-a", "bpe"],
    ["-a", "superword", "--option", "transition=700"],  # the default t = 0.9 V would move with V
    ["-a", "extend", "--base", "gpt2"],
])
def test_resume_from_a_checkpoint_equals_a_direct_run(algorithm, corpora, tmp_path, capsys):
    text = ["--corpus", f"code={corpora['code']}", *algorithm]
    small, large = ("800", "1200") if "gpt2" not in algorithm else ("50400", "50800")
    checkpoint = tmp_path / "state.npz"
    assert main(["train", *text, "-v", small, "--out", str(tmp_path / "a"), "--checkpoint", str(checkpoint),
                 "-q"]) == 0, capsys.readouterr().err
    assert main(["train", *text, "-v", large, "--out", str(tmp_path / "b"), "--checkpoint", str(checkpoint),
                 "--resume", "--force", "-q"]) == 0, capsys.readouterr().err
    assert main(["train", *text, "-v", large, "--out", str(tmp_path / "c"), "-q"]) == 0
    assert (tmp_path / "b" / "tokenizer.json").read_bytes() == (tmp_path / "c" / "tokenizer.json").read_bytes()


def test_train_parity_with_window_options(corpora, tmp_path, capsys):
    parallel = corpora["parallel"]
    languages = ["--corpus", f"de={parallel / 'de.txt'}", "--corpus", f"ja={parallel / 'ja.txt'}",
                 "--dev", str(parallel)]
    out, results = tmp_path / "tok", tmp_path / "train.json"
    code = main(["train", "-a", "parity", *languages, "-v", "700", "--out", str(out), "--results", str(results),
                 "--variant", "window", "--window-size", "10", "--alpha", "1", "--global-share", "0.2", "-q"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    assert summary["vocab_size"] == 700
    assert summary["options"] == {"alpha": 1.0, "dev": str(parallel), "global_share": 0.2, "variant": "window",
                                  "window_size": 10}
    # what the parity rule did, as train_from_files reports it (the command's summary left it out)
    assert sum(summary["parity"]["merges_by_language"].values()) == summary["merges"]
    assert set(summary["parity"]["dev_tokens_after"]) == {"de", "ja"}
    # Bad values: one clear message each, exit code 2, nothing written.
    for flags, message in ((["--global-share", "0.2", "--global-merges", "50"], "both global_merges"),
                           (["--global-share", "1.5"], "global_share must be a number from 0 to 1"),
                           (["--variant", "windows"], "unknown parity variant 'windows'"),
                           (["--window-size", "0"], "window_size must be an integer >= 1"),
                           (["--alpha", "0.5"], "alpha must be a number >= 1")):
        code = main(["train", "-a", "parity", *languages, "-v", "700", "--out", str(tmp_path / "bad"), *flags, "-q"])
        assert code == 2, flags
        assert message in capsys.readouterr().err, flags
        assert not (tmp_path / "bad").exists()


def thaana_and_nko(folder: Path) -> tuple[Path, Path]:
    """Training text (120 lines) and a line-aligned dev set (10 lines) of Thaana (dv) and N'Ko (nqo)."""
    train, dev = folder / "train", folder / "dev"
    train.mkdir()
    dev.mkdir()
    for lang, first in (("dv", 0x0780), ("nqo", 0x07CA)):
        lines = [" ".join(chr(first + (i * k) % 30) * 2 for k in range(1, 6)) for i in range(120)]
        (train / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (dev / f"{lang}.txt").write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    return train, dev


def test_parity_takes_a_folder_of_language_files_as_the_api_does(tmp_path, capsys):
    # a plain folder was one corpus of language 'und' ("needs 2 or more languages, got ['und']")
    train, dev = thaana_and_nko(tmp_path)
    common = ["train", "-a", "parity", "--dev", str(dev), "-v", "300", "-q"]
    assert main([*common, "--corpus", str(train), "--out", str(tmp_path / "folder")]) == 0, capsys.readouterr().err
    assert main([*common, "--corpus", f"dv={train / 'dv.txt'}", "--corpus", f"nqo={train / 'nqo.txt'}",
                 "--out", str(tmp_path / "files")]) == 0, capsys.readouterr().err
    assert (tmp_path / "folder/tokenizer.json").read_bytes() == (tmp_path / "files/tokenizer.json").read_bytes()
    (train / "README.txt").write_text("not a language\n", encoding="utf-8")
    code = main([*common, "--corpus", str(train), "--out", str(tmp_path / "readme")])
    assert code == 2 and "README.txt is not named by a language tag" in capsys.readouterr().err
    assert not (tmp_path / "readme").exists()


def test_parity_meets_a_flores_200_dev_folder_with_iso_639_tags(tmp_path, capsys):
    """Training text tagged eng= and deu_Latn=, langs given as en, de, and a dev folder of FLORES-200's
    eng_Latn.txt, deu_Latn.txt...: "parallel corpus ... has no file for eng" (its files were eng-Latn and
    deu-Latn). Every spelling is now one canonical tag: en and de."""
    from _flores_text import SENTENCES, write_flores_folder

    dev = write_flores_folder(tmp_path / "flores")
    train = tmp_path / "train"
    train.mkdir()
    for name in ("eng_Latn", "deu_Latn"):
        (train / f"{name}.txt").write_text("\n".join(SENTENCES[name] * 20) + "\n", encoding="utf-8")
    out, results = tmp_path / "tok", tmp_path / "summary.json"
    code = main(["train", "-a", "parity", "--corpus", f"eng={train / 'eng_Latn.txt'}", "--corpus",
                 f"deu_Latn={train / 'deu_Latn.txt'}", "--dev", str(dev), "--option", "langs=en,ger", "-v", "300",
                 "--out", str(out), "--results", str(results), "-q"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    assert set(summary["parity"]["dev_tokens_after"]) == {"en", "de"}


def test_parity_reads_its_dev_files_with_errors_too(tmp_path, capsys):
    # the dev folder was always read with errors="replace": a bad byte there passed silently under --errors strict
    train, dev = thaana_and_nko(tmp_path)
    with (dev / "dv.txt").open("ab") as handle:
        handle.write(b"bad \xff byte\n")
    with (dev / "nqo.txt").open("a", encoding="utf-8") as handle:
        handle.write("\u07ca\u07cb\n")
    command = ["train", "-a", "parity", "--corpus", f"dv={train / 'dv.txt'}", "--corpus", f"nqo={train / 'nqo.txt'}",
               "--dev", str(dev), "-v", "300", "-q"]
    code = main([*command, "--out", str(tmp_path / "strict")])
    err = capsys.readouterr().err
    assert code == 2 and "dv.txt:11" in err and "not UTF-8" in err and "Traceback" not in err
    assert not (tmp_path / "strict").exists()
    assert main([*command, "--out", str(tmp_path / "replace"), "--errors", "replace"]) == 0
    with pytest.raises(InputError, match="dev_errors"):
        ParityTrainer(dev=str(dev), dev_errors="ignore")


def test_parity_flags_state_the_trainer_defaults():
    # The flags default to None (the trainer decides); their help must say the trainer's defaults.
    import dataclasses
    import inspect

    from tokensmith.cli import train
    from tokensmith.train.parity import DEFAULT_GLOBAL_SHARE, ParityTrainer

    options = inspect.signature(train).parameters
    defaults = {field.name: field.default for field in dataclasses.fields(ParityTrainer)}
    assert f"default {DEFAULT_GLOBAL_SHARE}" in options["global_share"].default.help
    assert f"{defaults['variant']} (the default)" in options["variant"].default.help
    assert f"({defaults['window_size']})" in options["window_size"].default.help
    assert f"({defaults['alpha']})" in options["alpha"].default.help


def test_checkpoint_requests_go_through_the_api_guards(corpora, tmp_path, capsys):
    # The command shares the API's guards: every refusal is one message, exit code 2, nothing written.
    parallel = corpora["parallel"]
    german = ["--corpus", str(parallel / "de.txt")]
    checkpoint = tmp_path / "state.npz"
    refusals = (
        (["-a", "parity", "--corpus", f"de={parallel / 'de.txt'}", "--corpus", f"fr={parallel / 'fr.txt'}",
          "--dev", str(parallel), "--checkpoint", str(checkpoint)], "parity trainer cannot write checkpoints"),
        ([*german, "--resume"], "resume needs the checkpoint"),
    )
    for flags, message in refusals:
        code = main(["train", "-v", "600", *flags, "--out", str(tmp_path / "bad"), "-q"])
        captured = capsys.readouterr()
        assert code == 2, (flags, captured.err)
        assert message in captured.err and "Traceback" not in captured.err, flags
        assert not (tmp_path / "bad").exists() and not checkpoint.exists(), flags

    # A checkpoint of German text does not continue on French text.
    assert main(["train", *german, "-v", "600", "--out", str(tmp_path / "de"), "--checkpoint", str(checkpoint),
                 "-q"]) == 0, capsys.readouterr().err
    written = checkpoint.read_bytes()
    code = main(["train", "--corpus", str(parallel / "fr.txt"), "-v", "700", "--out", str(tmp_path / "bad"),
                 "--checkpoint", str(checkpoint), "--resume", "-q"])
    assert code == 2 and "another corpus" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists() and checkpoint.read_bytes() == written
    # Without --resume an existing checkpoint is not overwritten.
    code = main(["train", *german, "-v", "700", "--out", str(tmp_path / "bad"), "--checkpoint", str(checkpoint), "-q"])
    assert code == 2 and "already exists" in capsys.readouterr().err
    assert checkpoint.read_bytes() == written


def test_resuming_to_a_smaller_vocabulary_is_refused(corpora, tmp_path, capsys):
    # It exited 0 with the checkpoint's 700 tokens for -v 600 (the summary said "700 (asked 600)"),
    # and rewrote the checkpoint.
    german = ["--corpus", str(corpora["parallel"] / "de.txt")]
    checkpoint = tmp_path / "state.npz"
    assert main(["train", *german, "-v", "700", "--out", str(tmp_path / "first"), "--checkpoint", str(checkpoint),
                 "-q"]) == 0, capsys.readouterr().err
    written = checkpoint.read_bytes()
    out = tmp_path / "smaller"
    code = main(["train", *german, "-v", "600", "--out", str(out), "--checkpoint", str(checkpoint), "--resume", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "holds 700 tokens" in err and "600" in err, err
    assert not out.exists() and checkpoint.read_bytes() == written


def test_resuming_with_other_reading_options_is_refused(tmp_path, capsys):
    # The same files read with another --field, --column or --errors are other text: the resume went on
    # from the merge state of the first text and took its held-out sample from the second.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("".join(json.dumps({"a": f"alpha apples {i}", "b": f"beta quinces {i * 7}"}) + "\n"
                             for i in range(200)), encoding="utf-8")
    parquet = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"c": [f"gamma plums {i}" for i in range(200)], "d": ["delta"] * 200}), parquet)
    corpus = ["--corpus", str(jsonl), "--corpus", str(parquet)]
    checkpoint = tmp_path / "state.npz"
    assert main(["train", *corpus, "--field", "a", "--column", "c", "-v", "300", "--out", str(tmp_path / "first"),
                 "--checkpoint", str(checkpoint), "-q"]) == 0, capsys.readouterr().err
    written = checkpoint.read_bytes()
    for flags, change in ((["--field", "b", "--column", "c"], "field 'a' then, 'b' now"),
                          (["--field", "a", "--column", "d"], "column 'c' then, 'd' now"),
                          (["--field", "a", "--column", "c", "--errors", "replace"],
                           "errors 'strict' then, 'replace' now")):
        out = tmp_path / "resumed"
        code = main(["train", *corpus, *flags, "-v", "320", "--out", str(out), "--checkpoint", str(checkpoint),
                     "--resume", "-q"])
        err = capsys.readouterr().err
        assert code == 2 and f"with other options: {change}" in err and "Traceback" not in err, (flags, err)
        assert not out.exists() and checkpoint.read_bytes() == written
    text = ["--corpus", str(jsonl), "--field", "a"]
    assert main(["train", *text, "-v", "300", "--out", str(tmp_path / "jsonl"), "--checkpoint", str(checkpoint),
                 "--force", "-q"]) == 0
    # --column reads nothing from JSONL files: changing it changes no text
    assert main(["train", *text, "--column", "d", "-v", "320", "--out", str(tmp_path / "resumed"), "--checkpoint",
                 str(checkpoint), "--resume", "-q"]) == 0, capsys.readouterr().err


def test_exported_tiktoken_ranks_load_back_with_their_regex(corpora, tmp_path, capsys):
    # A custom regex is no preset: without the tiktoken.json beside it the ranks file has no regex.
    out = tmp_path / "tok"
    assert main(["train", "--corpus", f"code={corpora['code']}", "-v", "900", "--out", str(out),
                 "--regex", r"\s+|[\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+", "-q"]) == 0, \
        capsys.readouterr().err
    from tokensmith.tokenizers import load_tokenizer

    ranks = load_tokenizer(str(out / "tokenizer.tiktoken"))
    reference = load_tokenizer(str(out / "tokenizer.json"))
    text = (corpora["parallel"] / "de.txt").read_text(encoding="utf-8")[:200_000]
    assert ranks.encode(text) == reference.encode(text) and ranks.decode(ranks.encode(text)) == text
    assert main(["measure", "-t", str(out / "tokenizer.tiktoken"), "--corpus", str(corpora["parallel"] / "de.txt"),
                 "-q"]) == 0, capsys.readouterr().err
    # Without its config the file is refused with the usual message.
    (out / "tiktoken.json").unlink()
    code = main(["measure", "-t", str(out / "tokenizer.tiktoken"), "--corpus", str(corpora["parallel"] / "de.txt"),
                 "-q"])
    assert code == 2 and "holds no pre-tokenization regex" in capsys.readouterr().err


def test_a_regex_that_matches_the_empty_string_is_refused(corpora, tmp_path, capsys):
    # Such a regex trained, but counting skipped its empty matches while the exported Split cuts at each
    # one: with '' the merges learnt on whole lines never applied (one token per character), and the
    # tokenizer.tiktoken written beside it did not load back.
    from tokenizers import Regex, pre_tokenizers

    assert [piece for piece, _ in pre_tokenizers.Split(Regex(r"\w*"), "isolated").pre_tokenize_str("ab, c")] == [
        "ab", ",", " ", "c"]  # HF cuts at the empty matches around ", "
    for pattern in ("", r"\w*", r" ?\p{L}*|\s+"):
        out = tmp_path / "tok"
        code = main(["train", "--corpus", str(corpora["parallel"] / "de.txt"), "-v", "600", "--regex", pattern,
                     "--out", str(out), "-q"])
        err = capsys.readouterr().err
        assert code == 2 and "matches the empty string" in err, (pattern, err)
        assert not out.exists()


def test_an_out_that_is_a_file_is_refused_even_with_force(corpora, tmp_path, capsys):
    # FileExistsError from mkdir, as a traceback, after the training.
    out = tmp_path / "tok"
    out.write_text("precious", encoding="utf-8")
    code = main(["train", "--corpus", str(corpora["parallel"] / "de.txt"), "-v", "600", "--out", str(out), "--force",
                 "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "is a file, not a folder" in err, err
    assert out.read_text(encoding="utf-8") == "precious"


def test_train_reads_bad_bytes_with_errors_replace_and_prints_merge_speed(corpora, tmp_path, capsys):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes((corpora["parallel"] / "fr.txt").read_text(encoding="utf-8").encode("latin-1", "replace"))
    out = tmp_path / "tok"
    code = main(["train", "--corpus", str(corpus), "-v", "600", "--out", str(out)])
    assert code == 2 and "--errors replace" in capsys.readouterr().err and not out.exists()
    code = main(["train", "--corpus", str(corpus), "-v", "600", "--out", str(out), "--errors", "replace",
                 "--results", str(tmp_path / "train.json")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "merges/s" in captured.out
    # as measure does: how many byte sequences became U+FFFD, and where the first was
    summary = json.loads((tmp_path / "train.json").read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    described = summary["corpora"][0]
    assert described["replaced_byte_sequences"] > 0 and described["first_replacement"].startswith(str(corpus))
    assert f"{described['replaced_byte_sequences']} invalid UTF-8 byte sequences read as U+FFFD" in captured.err


def test_train_reads_a_jsonl_field_named_by_field(tmp_path, capsys):
    # the readers' error for a missing field says "choose the text field with --field NAME": train takes it too
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"content": f"line {i} of the text"}) + "\n" for i in range(20)),
                      encoding="utf-8")
    out = tmp_path / "tok"
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--out", str(out), "-q"])
    assert code == 2 and "--field" in capsys.readouterr().err and not out.exists()
    results = tmp_path / "r.json"
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--out", str(out), "--field", "content",
                 "--results", str(results), "-q"])
    assert code == 0, capsys.readouterr().err
    document = json.loads(results.read_text(encoding="utf-8"))
    assert document["sections"]["train"]["summary"]["documents"] > 0
    assert document["provenance"]["parameters"]["field"] == "content"


def test_train_warns_of_records_without_text(tmp_path, capsys):
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"text": None if i % 7 == 3 else f"line {i} of the text"}) + "\n"
                              for i in range(40)), encoding="utf-8")
    results = tmp_path / "r.json"
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--out", str(tmp_path / "tok"), "--results",
                 str(results), "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"warning: docs: skipped 6 records with a null or empty text (the first at {corpus}:4)" in err
    summary = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]
    assert summary["documents"] == 34
    assert (summary["corpora"][0]["empty_records"], summary["corpora"][0]["first_empty_record"]) == (6, f"{corpus}:4")


def test_the_summary_lists_every_file_a_corpus_folder_gave(tmp_path, capsys):
    # A folder's corpus files are all read, a README.txt among them (the user's folder is their data);
    # results.json listed only the folder's digest, so nothing showed which files were read.
    folder = tmp_path / "texts"
    (folder / "more").mkdir(parents=True)
    for name in ("a.txt", "README.txt", "more/b.jsonl"):
        (folder / name).write_text(json.dumps({"text": f"line of {name}"}) + "\n", encoding="utf-8")
    (folder / "notes.md").write_text("not read\n", encoding="utf-8")
    results = tmp_path / "r.json"
    code = main(["train", "--corpus", str(folder), "-v", "270", "--out", str(tmp_path / "tok"), "--results",
                 str(results), "-q"])
    assert code == 0, capsys.readouterr().err
    (described,) = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]["corpora"]
    assert described["sources"] == [str(folder / name) for name in ("README.txt", "a.txt", "more/b.jsonl")]


def test_merge_progress_counts_merges_not_bytes():
    from rich.progress import Progress

    from tokensmith.tables import _unit_columns

    amount, rate = _unit_columns()
    clock = [0.0]  # a fake clock: the speed is 1,350 per second by construction
    with Progress(disable=True, get_time=lambda: clock[0]) as progress:
        merges = progress.add_task("merge", total=2700, unit="merges")
        read = progress.add_task("read", total=2700)
        for second, done in ((1.0, 100), (2.0, 1450)):
            clock[0] = second
            progress.update(merges, completed=done)
            progress.update(read, completed=done)
        merge_task, read_task = progress.tasks
        assert str(amount().render(merge_task)) == "1,450/2,700 merges"
        assert str(rate().render(merge_task)) == "1,350 merges/s"
        assert "kB" in str(amount().render(read_task)) and "kB/s" in str(rate().render(read_task))  # still bytes


def test_extend_a_tiktoken_ranks_file_from_the_command_line(corpora, tmp_path, capsys):
    base = tmp_path / "base"
    assert main(["train", "--corpus", str(corpora["parallel"] / "de.txt"), "-v", "700", "--out", str(base),
                 "--special", "<|end|>", "-q"]) == 0, capsys.readouterr().err
    out = tmp_path / "extended"
    assert main(["train", "-a", "extend", "--base", str(base / "tokenizer.tiktoken"), "--corpus",
                 f"code={corpora['code']}", "-v", "900", "--out", str(out), "-q"]) == 0, capsys.readouterr().err
    from tokensmith.tokenizers import load_tokenizer

    old, new = load_tokenizer(str(base / "tokenizer.json")), load_tokenizer(str(out / "tokenizer.json"))
    assert new.vocab_size == 900 and new.all_token_bytes[:700] == old.all_token_bytes
    assert new.merges[: len(old.merges)] == old.merges
    ranks = load_tokenizer(str(out / "tokenizer.tiktoken"))
    german = (corpora["parallel"] / "de.txt").read_text(encoding="utf-8")[:100_000]
    assert new.decode(new.encode(german)) == german and ranks.encode(german) == new.encode(german)
    assert {(s.id, s.text) for s in old.special_tokens} == {(s.id, s.text) for s in new.special_tokens}


def tokensmith_process(args: list[str]) -> subprocess.Popen:
    """`python -m tokensmith ARGS` from this checkout, in its own process group (as a shell runs it)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    return subprocess.Popen([sys.executable, "-m", "tokensmith", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # not ignored


def test_a_bad_byte_after_the_workers_started_is_one_error_and_the_command_ends(corpora, tmp_path):
    # The error was printed, then the command hung for ever: at exit Python waited for the batches
    # still queued for the counting workers, which had been stopped.
    bad = tmp_path / "late.txt"
    bad.write_bytes(b"fine line\nnot UTF-8: \xff\n")
    out = tmp_path / "tok"
    process = tokensmith_process(["train", "--corpus", f"code={corpora['code']}", "--corpus", str(bad),
                                  "--workers", "2", "-v", "600", "--out", str(out), "-q"])
    try:
        _, err = process.communicate(timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGKILL) if process.poll() is None else None
    assert process.returncode == 2, err
    assert err.startswith("error: ") and "late.txt:2" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the workers through Linux's /proc")
def test_ctrl_c_while_counting_ends_with_one_line_and_no_output(corpora, tmp_path):
    # Ctrl-C reaches the whole process group: every counting worker printed its own traceback.
    out = tmp_path / "tok"
    # the stdlib sample 16 times (~60 MB): the compiled pre-tokenizers count two copies in ~0.3 s, so the
    # whole run could end before the interrupt
    copies = [arg for n in range(16) for arg in ("--corpus", f"copy{n}={corpora['code']}")]
    process = tokensmith_process(["train", *copies, "--workers", "2", "-v", "600", "--out", str(out), "-q"])
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    try:
        deadline = time.monotonic() + 60
        while len(children.read_text().split()) < 2:  # until the two counting workers run
            assert process.poll() is None and time.monotonic() < deadline, "the counting workers never started"
            time.sleep(0.005)
        time.sleep(0.3)  # into their counting
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGKILL) if process.poll() is None else None
    assert process.returncode == 130, err
    assert err.strip() == "interrupted; nothing was written"
    assert not out.exists()


def test_sigterm_while_the_output_is_built_leaves_nothing_behind(tmp_path):
    # kill, timeout and job schedulers send SIGTERM: Python's default ended the process at once, leaving
    # the half-built .tok.tmp-XXXX folder beside --out. Sent here from inside the held-out measurement,
    # which runs once that folder exists.
    corpus = tmp_path / "ka_am.txt"
    corpus.write_text("საქართველო ლამაზი ქვეყანაა.\nኢትዮጵያ ውብ አገር ናት።\n" * 300, encoding="utf-8")
    out = tmp_path / "tok"
    script = ("import os, signal, sys\n"
              "import tokensmith.train_command as command\n"
              "from tokensmith.cli import main\n"
              "command.held_out_figures = lambda tokenizer, documents: os.kill(os.getpid(), signal.SIGTERM)\n"
              f"sys.exit(main(['train', '--corpus', {str(corpus)!r}, '-v', '300', '--out', {str(out)!r}, '-q']))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stderr.strip() == "interrupted; nothing was written"
    assert sorted(path.name for path in tmp_path.iterdir()) == [corpus.name]


def test_an_interrupt_with_a_checkpoint_says_it_is_kept_and_how_to_go_on(tmp_path):
    # the line said "nothing was written" though the checkpoint was (on purpose), and not how to continue
    corpus = tmp_path / "ka_am.txt"
    corpus.write_text("საქართველო ლამაზი ქვეყანაა.\nኢትዮጵያ ውብ አገር ናት።\n" * 300, encoding="utf-8")
    out, checkpoint = tmp_path / "tok", tmp_path / "state.npz"
    script = ("import os, signal, sys\n"
              "import tokensmith.train_command as command\n"
              "from tokensmith.cli import main\n"
              "command.held_out_figures = lambda tokenizer, documents: os.kill(os.getpid(), signal.SIGINT)\n"
              f"sys.exit(main(['train', '--corpus', {str(corpus)!r}, '-v', '300', '--out', {str(out)!r}, '-q',"
              f" '--checkpoint', {str(checkpoint)!r}]))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 128 + signal.SIGINT, done.stderr
    assert done.stderr.strip() == (f"interrupted; the checkpoint {checkpoint} holds the merges learnt so far (nothing "
                                   "else was written): run the same command with --resume to continue")
    assert sorted(path.name for path in tmp_path.iterdir()) == [corpus.name, checkpoint.name]
    resumed = subprocess.run([sys.executable, "-m", "tokensmith", "train", "--corpus", str(corpus), "-v", "300",
                              "--out", str(out), "-q", "--checkpoint", str(checkpoint), "--resume"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "tokenizer.json").is_file()


def test_an_old_checkpoint_the_run_did_not_touch_is_not_claimed(tmp_path, capsys):
    from tokensmith.train_command import checkpoint_kept_on_interrupt

    old = tmp_path / "old.npz"
    old.write_bytes(b"an earlier run's")
    with pytest.raises(KeyboardInterrupt), checkpoint_kept_on_interrupt(old, resume=False):
        raise KeyboardInterrupt  # interrupted before this run wrote it: the usual line
    with pytest.raises(SystemExit) as stopped, checkpoint_kept_on_interrupt(old, resume=False):
        os.utime(old, ns=(old.stat().st_atime_ns, old.stat().st_mtime_ns + 1_000_000))  # written by this run
        raise KeyboardInterrupt
    assert stopped.value.code == 130 and "--resume to continue" in capsys.readouterr().err


def test_a_checkpoint_resumes_only_where_its_held_out_sample_was_taken_out(tmp_path, capsys):
    # train_from_files trains on every line, `tokensmith train` keeps 1% of them aside: a checkpoint of one
    # was resumed by the other without a word, giving a tokenizer neither run gives (and a held-out
    # figure measured on text the merges were learnt from).
    from tokensmith.train import train_from_files

    corpus = tmp_path / "ka_vi.txt"
    corpus.write_text("".join(f"საქართველო {n} ლამაზი ქვეყანაა. Tiếng Việt {n * 7} có dấu thanh.\n"
                              for n in range(400)), encoding="utf-8")
    from_python, from_cli = tmp_path / "python.npz", tmp_path / "cli.npz"
    train_from_files("bpe", [corpus], 300, str(tmp_path / "python"), checkpoint=str(from_python), engine="serial")
    assert main(["train", "--corpus", str(corpus), "-v", "300", "--out", str(tmp_path / "cli"), "--engine", "serial",
                 "--checkpoint", str(from_cli), "-q"]) == 0, capsys.readouterr().err
    out = tmp_path / "resumed"
    code = main(["train", "--corpus", str(corpus), "-v", "320", "--out", str(out), "--engine", "serial",
                 "--checkpoint", str(from_python), "--resume", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "held_out 'none (train_from_files)' then" in err and "Traceback" not in err, err
    assert "hint: the held-out documents are chosen by another rule here" in err  # not a flag to change
    assert not out.exists()
    with pytest.raises(InputError, match="other options: .*held_out '1% at random"):
        train_from_files("bpe", [corpus], 320, str(out), checkpoint=str(from_cli), resume=True, engine="serial")
    assert not out.exists()


def test_a_compared_tokenizer_that_turns_held_out_text_into_unk_is_flagged(tmp_path, capsys):
    # A WordPiece vocabulary without Georgian or Amharic letters reads those words as one [UNK] each: its
    # held-out bytes/token came out three times the trained tokenizer's, shown as the better figure.
    corpus = tmp_path / "ka_am.txt"
    corpus.write_text("".join(f"საქართველო ლამაზი ქვეყანაა {n}. ኢትዮጵያ ውብ አገር ናት።\n" for n in range(300)),
                      encoding="utf-8")
    code = main(["train", "--corpus", str(corpus), "-v", "400", "--out", str(tmp_path / "tok"), "--compare",
                 "minilm-wordpiece", "--compare", "gpt2", "--results", str(tmp_path / "results.json"), "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "UNK" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: minilm-wordpiece maps"), err
    held_out = json.loads((tmp_path / "results.json").read_text())["sections"]["train"]["summary"]["held_out"]
    assert held_out["unk_rate"]["minilm-wordpiece"] > 0.3
    assert held_out["unk_rate"]["trained"] == held_out["unk_rate"]["gpt2"] == 0


@pytest.mark.parametrize("flag", ["--checkpoint", "--results"])
def test_an_output_file_that_is_the_corpus_is_refused_even_with_force(tmp_path, capsys, flag):
    # --force replaced the training corpus with the checkpoint or results.json once training was done.
    corpus = tmp_path / "iu.txt"
    corpus.write_text("ᐃᓄᒃᑎᑐᑦ ᐅᖃᐅᓯᖅ ᐱᐅᔪᖅ.\nᓄᓇᕗᑦ ᐃᖃᓗᐃᑦ ᓄᓇᓕᖓ.\n" * 100, encoding="utf-8")
    before = corpus.read_bytes()
    out = tmp_path / "tok"
    code = main(["train", "--corpus", str(tmp_path), "-v", "300", "--out", str(out), flag,
                 str(tmp_path / "." / "iu.txt"), "--force", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "iu.txt" in err and "corpus" in err and "Traceback" not in err, err
    assert corpus.read_bytes() == before and not out.exists()


def test_the_checkpoint_and_the_results_file_must_differ(tmp_path, capsys):
    # results.json, written last, replaced the checkpoint: --resume then found no checkpoint to continue.
    corpus = tmp_path / "iu.txt"
    corpus.write_text("ᐃᓄᒃᑎᑐᑦ ᐅᖃᐅᓯᖅ ᐱᐅᔪᖅ.\nᓄᓇᕗᑦ ᐃᖃᓗᐃᑦ ᓄᓇᓕᖓ.\n" * 100, encoding="utf-8")
    state = tmp_path / "state.json"
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--out", str(tmp_path / "tok"), "--checkpoint",
                 str(state), "--results", str(state), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "--checkpoint" in err and "--results" in err and "Traceback" not in err, err
    assert not state.exists()


def test_train_from_files_refuses_a_checkpoint_that_is_its_corpus(tmp_path):
    from tokensmith.train import train_from_files

    corpus = tmp_path / "iu.txt"
    corpus.write_text("ᐃᓄᒃᑎᑐᑦ ᐅᖃᐅᓯᖅ ᐱᐅᔪᖅ.\n" * 100, encoding="utf-8")
    before = corpus.read_bytes()
    with pytest.raises(InputError, match="corpus"):
        train_from_files("bpe", [corpus], 300, str(tmp_path / "tok"), checkpoint=str(corpus), force=True)
    assert corpus.read_bytes() == before


def test_a_vocabulary_short_of_the_size_asked_is_warned_of_even_when_quiet(tmp_path, capsys):
    # The table said "(asked 5,000)"; with --quiet nothing did, and a pipeline went on with 300-odd tokens.
    corpus = tmp_path / "tfng.txt"
    corpus.write_text("ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ! ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⴰⵜⵓⵔⴰⵢⵜ.\n" * 200, encoding="utf-8")
    for flags, reason in (([], "no pair left to merge"),
                          (["--min-frequency", "100000"], "the most frequent pair is below min_frequency")):
        out = tmp_path / f"tok{len(flags)}"
        assert main(["train", "--corpus", str(corpus), "-v", "5000", "--out", str(out), *flags, "-q"]) == 0
        err = capsys.readouterr().err
        vocab = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
        assert err.startswith(f"warning: the vocabulary holds {len(vocab):,} tokens, not the 5,000 asked: "
                              f"{reason}"), err
        assert len(err.splitlines()) == 1
    assert main(["train", "--corpus", str(corpus), "-v", "280", "--out", str(tmp_path / "full"), "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_parity_trains_languages_whose_flores_files_keep_their_script(tmp_path, capsys):
    """`--corpus ko=... --dev FLORES/` with FLORES-200's kor_Hang.txt (ko-Hang: Korean has no Suppress-Script)
    said "parallel corpus ... has no file for ko", and `--option langs=en,ko` on a folder of kor_Hang.txt
    "no training text for ko". A tag now names the one file whose tag extends it; `zh` with zho_Hans.txt and
    zho_Hant.txt in the dev folder is refused, naming both."""
    from _flores_text import SCRIPT_KEPT_SENTENCES, SENTENCES, write_parallel_files

    dev = write_parallel_files(tmp_path / "flores", ["eng_Latn", "kor_Hang", "yor_Latn", "zho_Hans", "zho_Hant"])
    train = tmp_path / "train"
    train.mkdir()
    for name, lines in {"eng_Latn": SENTENCES["eng_Latn"], **SCRIPT_KEPT_SENTENCES}.items():
        (train / f"{name}.txt").write_text("\n".join(lines * 20) + "\n", encoding="utf-8")
    common = ["train", "-a", "parity", "--dev", str(dev), "-v", "300", "-q"]

    def dev_lengths(*flags: str) -> dict[str, int]:
        out, results = tmp_path / f"tok{len(list(tmp_path.iterdir()))}", tmp_path / "summary.json"
        code = main([*common, *flags, "--out", str(out), "--results", str(results), "--force"])
        assert code == 0, capsys.readouterr().err
        return json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]["parity"][
            "dev_tokens_before"]

    bytes_of = {name: sum(len(line.encode()) for line in lines)
                for name, lines in {**SENTENCES, **SCRIPT_KEPT_SENTENCES}.items()}
    tagged = dev_lengths("--corpus", f"en={train / 'eng_Latn.txt'}", "--corpus", f"ko={train / 'kor_Hang.txt'}",
                         "--corpus", f"yo={train / 'yor_Latn.txt'}")
    assert tagged == {"en": bytes_of["eng_Latn"], "ko": bytes_of["kor_Hang"], "yo": bytes_of["yor_Latn"]}
    from_folder = dev_lengths("--corpus", str(train), "--option", "langs=en,ko,zh-Hant")
    assert from_folder == {"en": bytes_of["eng_Latn"], "ko-Hang": bytes_of["kor_Hang"],
                           "zh-Hant": bytes_of["zho_Hant"]}

    out = tmp_path / "chinese"
    code = main([*common, "--corpus", f"en={train / 'eng_Latn.txt'}", "--corpus", f"zh={train / 'zho_Hant.txt'}",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and not out.exists()
    assert f"'zh' names 2 languages of the parallel corpus {dev}: zh-Hans, zh-Hant" in err, err
    assert "pass the full tag of the one you mean (zh-Hans or zh-Hant)" in err
