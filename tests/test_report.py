"""tokensmith report: rendering, merging, safe embedding, bad input (the browser test is separate)."""

from __future__ import annotations

import json
import re
import time
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _report_data import (
    ensemble_section,
    generated_measure_section,
    mixture_section,
    real_measure_results,
    results_doc,
    train_section,
    transplant_section,
    vocab_section,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.cli import main
from tokensmith.errors import InputError, OutputExistsError
from tokensmith.io import write_json_atomic
from tokensmith.report import SECTION_KINDS, merge_results, render_report, write_report
from tokensmith.report.render import CHARTED_METRICS
from tokensmith.report.svg import format_number, grouped_bar_chart, nice_ticks
from tokensmith.report.viewer import embed_json


class _Page(HTMLParser):
    """Collects what the tests look at: script bodies, section ids, resource attributes, chart titles."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict, str]] = []
        self.section_ids: list[str] = []
        self.resource_urls: list[str] = []
        self.titles: list[str] = []
        self._script: dict | None = None
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._script = attributes
        if tag == "section" and "id" in attributes:
            self.section_ids.append(attributes["id"])
        for key in ("src", "href", "xlink:href"):
            value = attributes.get(key)
            if value is not None and not value.startswith("#"):
                self.resource_urls.append(value)
        if tag == "link":
            self.resource_urls.append(str(attributes))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
        elif self._in_title:
            self.titles.append(data)

    def viewer_data(self) -> dict:
        bodies = [body for attrs, body in self.scripts if attrs.get("id") == "viewer-data"]
        assert len(bodies) == 1
        return json.loads(bodies[0])


@pytest.fixture(scope="module")
def real_doc(shared_data):
    return real_measure_results(shared_data)


# -- real measurement ------------------------------------------------------------------------------
@pytest.mark.shared
def test_real_measure_renders_every_figure_it_holds(real_doc):
    html = render_report([real_doc])
    page = _Page(html)
    section = real_doc["sections"]["measure"]
    for wanted in ("overview", "compression", "premium", "parity", "fertility", "efficiency", "viewer", "provenance"):
        assert wanted in page.section_ids
    # Every bytes/token and premium value appears, rounded as shown, in a bar's hover title.
    titles = set(page.titles)
    for record in section["records"]:
        if record["metric"] in ("bytes_per_token", "token_premium") and record["value"] is not None:
            corpus, lang = record["corpus"], record["lang"]
            label = corpus if lang == corpus or corpus.endswith(f"/{lang}") else f"{lang} · {corpus}"
            assert f"{record['tokenizer']} · {label}: {format_number(record['value'])} {record['unit']}" in titles
    # The viewer carries the measured samples unchanged, every tokenizer included.
    viewer = page.viewer_data()
    assert viewer["tokenizers"] == [t["name"] for t in section["tokenizers"]]
    assert viewer["samples"] == section["samples"]
    # Parity figures appear in the table.
    for record in section["records"]:
        if record["metric"] == "parity_gini":
            assert f">{format_number(record['value'])}<" in html
    # Every other metric measure wrote (chars/token, split share, entropy...) is charted under More figures.
    assert "more" in page.section_ids
    for metric in {r["metric"] for r in section["records"]} - CHARTED_METRICS:
        record = next(r for r in section["records"] if r["metric"] == metric and r["value"] is not None)
        corpus, lang = record["corpus"], record["lang"]
        label = corpus if lang == corpus or corpus.endswith(f"/{lang}") else f"{lang} · {corpus}"
        unit = f" {record['unit']}" if record["unit"] else ""
        assert f"{record['tokenizer']} · {label}: {format_number(record['value'])}{unit}" in titles, metric


def test_measure_warnings_head_the_page(real_doc):
    """measure's caveats (text a vocabulary drops, tokens that are mostly UNK) must reach the report's reader."""
    doc = json.loads(json.dumps(real_doc))
    caveats = ["t1 dropped 5 of 31 bytes of ctl (16.13%)", "t2 maps 64.6% of its tokens on zh-Hant to UNK <sic>"]
    doc["sections"]["measure"]["warnings"] = caveats
    html = render_report([doc])
    assert 'id="warnings"' in html and all(escape(caveat) in html for caveat in caveats)
    assert html.index('id="warnings"') < html.index('id="overview"')
    doc["sections"]["measure"]["warnings"] = "not a list"
    with pytest.raises(InputError, match="'warnings'"):
        render_report([doc])


@pytest.mark.shared
def test_real_report_says_what_is_missing_and_loads_nothing_external(real_doc):
    html = render_report([real_doc])
    page = _Page(html)
    for kind in ("train", "transplant", "vocab", "mixture"):
        assert escape(SECTION_KINDS.get(kind).missing) in html
    assert "no training results in these files" in html
    assert "no measurement results" not in html
    assert page.resource_urls == []  # no src=, href= to files or the network, no <link>
    assert not re.search(r"url\(|@import|https?://", html.split('id="viewer-data"')[0])


@pytest.mark.shared
def test_cli_report_writes_the_page(real_doc, tmp_path, capsys):
    source = write_json_atomic(tmp_path / "results.json", real_doc)
    out = tmp_path / "report.html"
    assert main(["report", str(source), "-o", str(out), "--title", "Lang <check>"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<title>Lang &lt;check&gt;</title>" in html
    assert str(out) in capsys.readouterr().out
    assert html == render_report([real_doc], title="Lang <check>", sources=[str(source)])


# -- every section kind, generated to the documented shapes -----------------------------------------
def _all_sections_doc():
    measure = generated_measure_section(4, 3, seed=1)
    names = [t["name"] for t in measure["tokenizers"]]
    return results_doc({"measure": measure, "train": train_section(), "transplant": transplant_section(),
                        "vocab": vocab_section(names), "mixture": mixture_section(names),
                        "ensemble": ensemble_section()})


def test_all_sections_render_and_nothing_is_reported_missing():
    html = render_report([_all_sections_doc()])
    page = _Page(html)
    for wanted in ("vocab", "train", "transplant", "mixture", "ensemble", "viewer"):
        assert wanted in page.section_ids
    assert "the vill⟦a⟧ge green" in html and ">1.29<" in html
    assert "missing" not in page.section_ids
    # Transplant ratios come from the 'original' row: 2.6 / 2.0 and 2.2 / 2.0.
    assert ">1.30<" in html and ">1.10<" in html
    assert "smollm2-135m" in html and "held-out ta" in html
    assert "smollm2-135m · mean: 2.60 bits/byte" in page.titles
    # Vocab percentages are drawn as shares: tok0 is 60 % Latin.
    assert "tok0 · Latin: 60.0%" in page.titles
    assert "tok1 · Han: 15.0%" in page.titles


def test_real_vocab_section_renders_its_percentages():
    from _report_data import real_vocab_section

    section = real_vocab_section()
    html = render_report([results_doc({"vocab": section})])
    titles = set(_Page(html).titles)
    for name, figures in section["tokenizers"].items():
        percents = figures["composition"]["script_percent"]
        top_script = max(percents, key=percents.get)
        assert f"{name} · {top_script}: {percents[top_script] / 100:.1%}" in titles
    overlap = section["overlap"][0]
    assert f">{overlap['shared']:,}<" in html


def test_missing_sections_are_listed_and_present_ones_shown():
    doc = results_doc({"train": train_section(bytes_per_token=3.87)}, command="train")
    html = render_report([doc])
    page = _Page(html)
    assert "train" in page.section_ids and "missing" in page.section_ids
    assert "viewer" not in page.section_ids and "compression" not in page.section_ids
    for kind in ("measure", "transplant", "vocab", "mixture"):
        assert kind not in page.section_ids
    assert "no measurement results in these files" in html
    assert "no training results" not in html
    assert ">3.87<" in html


def test_unknown_section_is_named_on_the_page():
    doc = results_doc({"train": train_section(), "heal": {"x": 1}})
    html = render_report([doc])
    assert "section &#x27;heal&#x27; is not understood" in html


def test_rendering_is_deterministic():
    doc = _all_sections_doc()
    assert render_report([doc]) == render_report([json.loads(json.dumps(doc))])


# -- merging ---------------------------------------------------------------------------------------
def test_merge_adds_tokenizers_measured_on_the_same_corpora():
    first = generated_measure_section(3, 2, seed=1, tokenizer_prefix="a")
    second = generated_measure_section(3, 1, seed=1, tokenizer_prefix="b")
    # Same corpora (names and hashes): the second file's tokens join the first file's sentences.
    for sample, other in zip(second["samples"], first["samples"], strict=True):
        sample["sentences"] = other["sentences"]
        sample["tokens"] = {"b0": [[[1, s.encode().hex()]] for s in other["sentences"]]}
    data = merge_results([results_doc({"measure": first}), results_doc({"measure": second})])
    assert data.measure.tokenizer_names() == ["a0", "a1", "b0"]
    assert [c["name"] for c in data.measure.corpora] == ["l00", "l01", "l02"]
    assert {r["tokenizer"] for r in data.measure.records} == {"a0", "a1", "b0"}
    assert all(set(s["tokens"]) == {"a0", "a1", "b0"} for s in data.measure.samples)
    assert data.notes == []


def test_merge_keeps_apart_a_name_used_for_different_content():
    first = generated_measure_section(2, 1, seed=1)
    second = generated_measure_section(2, 1, seed=2)
    second["tokenizers"][0]["sha256"] = "0" * 64
    data = merge_results([results_doc({"measure": first}), results_doc({"measure": second})])
    assert data.measure.tokenizer_names() == ["tok0", "tok0#2"]
    theirs = [r for r in data.measure.records if r["tokenizer"] == "tok0#2" and r["metric"] == "bytes_per_token"]
    expected = [r["value"] for r in second["records"] if r["metric"] == "bytes_per_token"]
    assert [r["value"] for r in theirs] == expected
    assert any("tok0" in note and "sha256" in note for note in data.notes)


def test_merge_later_record_replaces_earlier_for_the_same_cell():
    first = generated_measure_section(2, 1, seed=1)
    second = json.loads(json.dumps(first))
    for record in second["records"]:
        if record["metric"] == "bytes_per_token":
            record["value"] = 9.5
    data = merge_results([results_doc({"measure": first}), results_doc({"measure": second})])
    values = [r["value"] for r in data.measure.records if r["metric"] == "bytes_per_token"]
    assert values == [9.5, 9.5]
    assert len(data.measure.records) == len(first["records"])


def test_merge_concatenates_train_and_transplant_rows():
    docs = [results_doc({"train": train_section("a"), "transplant": transplant_section("m1")}),
            results_doc({"train": train_section("b"), "transplant": transplant_section("m2")})]
    data = merge_results(docs, ["one.json", "two.json"])
    assert [s["tokenizer"] for s in data.train] == ["a", "b"]
    assert [(r["model"], r["method"]) for r in data.transplant][:4] == [
        ("m1", "original"), ("m1", "mean"), ("m1", "omp"), ("m2", "original")]
    assert data.transplant[2]["ratio_to_original"] == pytest.approx(1.1)
    assert data.train[1]["source"] == "two.json"


# -- safe embedding --------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_embedded_json_round_trips_and_never_closes_the_script(text):
    embedded = embed_json({"s": text, "list": [text, 1]})
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == {"s": text, "list": [text, 1]}


def test_script_markup_in_a_sentence_cannot_break_the_page():
    evil = ['</script><script>window.__pwned = 1</script><!-- <SCRIPT>', 'a & b <\u2028> </SCRIPT >']
    section = generated_measure_section(2, 3, seed=3, extra_sentences={"l01": evil})
    html = render_report([results_doc({"measure": section})])
    page = _Page(html)
    assert page.viewer_data()["samples"][1]["sentences"][-2:] == evil
    assert len(page.scripts) == 2  # the JSON data and the viewer code, nothing injected
    assert html.count("__pwned") == 1  # only inside the JSON, its markup escaped
    assert len(re.findall(r"</script", html, flags=re.IGNORECASE)) == 2


# -- charts ----------------------------------------------------------------------------------------
def test_number_format():
    assert [format_number(v) for v in (4.1234, 0.87349, 12.345, 1234.5, 31, 250.0, None)] == [
        "4.12", "0.873", "12.3", "1,234", "31", "250", "n/a"]


def test_nice_ticks_cover_the_maximum_in_round_steps():
    assert nice_ticks(7.3) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.42) == [0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert nice_ticks(1.0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_bar_lengths_are_proportional_to_values():
    values = {("en", "a"): (2.0, None), ("en", "b"): (5.0, None), ("fr", "a"): (None, "no segmenter")}
    svg = grouped_bar_chart(["en", "fr"], ["a", "b"], values, unit="bytes/token", label="test")
    widths = [float(w) for w in re.findall(r'<rect class="bar"[^>]* width="([\d.]+)"', svg)]
    assert len(widths) == 2 and widths[1] / widths[0] == pytest.approx(2.5, rel=1e-3)
    assert "a · fr: n/a (no segmenter)" in svg


# -- bad input -------------------------------------------------------------------------------------
def _doc_file(tmp_path: Path, doc: dict, name: str = "results.json") -> Path:
    return write_json_atomic(tmp_path / name, doc)


def _assert_failed_cleanly(capsys, tmp_path: Path, out: Path, code: int, *needles: str) -> None:
    assert code == 2
    err = capsys.readouterr().err
    for needle in needles:
        assert needle in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".*.tmp"))  # no partial temp file left behind


def test_incompatible_schema_version_exits_2(tmp_path, capsys):
    doc = results_doc({"train": train_section()})
    doc["schema_version"] = 99
    out = tmp_path / "report.html"
    code = main(["report", str(_doc_file(tmp_path, doc)), "-o", str(out)])
    _assert_failed_cleanly(capsys, tmp_path, out, code, "schema version 99", "hint:")


def test_truncated_results_exit_2(tmp_path, capsys):
    source = _doc_file(tmp_path, _all_sections_doc())
    source.write_text(source.read_text(encoding="utf-8")[:500], encoding="utf-8")
    out = tmp_path / "report.html"
    code = main(["report", str(source), "-o", str(out)])
    _assert_failed_cleanly(capsys, tmp_path, out, code, "not valid JSON", "truncated")


def test_malformed_section_names_file_and_field(tmp_path, capsys):
    doc = results_doc({"measure": generated_measure_section(2, 1)})
    doc["sections"]["measure"]["records"] = {"not": "a list"}
    out = tmp_path / "report.html"
    code = main(["report", str(_doc_file(tmp_path, doc, "bad.json")), "-o", str(out)])
    _assert_failed_cleanly(capsys, tmp_path, out, code, "bad.json", "'records'")


def test_second_file_bad_writes_nothing(tmp_path, capsys):
    good = _doc_file(tmp_path, results_doc({"train": train_section()}), "good.json")
    out = tmp_path / "report.html"
    code = main(["report", str(good), str(tmp_path / "absent.json"), "-o", str(out)])
    _assert_failed_cleanly(capsys, tmp_path, out, code, "no such results file")


def test_existing_output_is_refused_then_replaced_with_force(tmp_path, capsys):
    source = _doc_file(tmp_path, results_doc({"train": train_section()}))
    out = tmp_path / "report.html"
    out.write_text("keep me", encoding="utf-8")
    assert main(["report", str(source), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "keep me"
    with pytest.raises(OutputExistsError):
        write_report([source], out)
    assert main(["report", str(source), "-o", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_write_report_needs_an_input(tmp_path):
    with pytest.raises(InputError, match="no results file"):
        write_report([], tmp_path / "r.html")


# -- size ------------------------------------------------------------------------------------------
def test_thirty_languages_by_ten_tokenizers_stays_under_5_mb(tmp_path):
    measure = generated_measure_section(30, 10, sentences=3, sentence_chars=240, seed=5)
    names = [t["name"] for t in measure["tokenizers"]]
    doc = results_doc({"measure": measure, "train": train_section(), "transplant": transplant_section(),
                       "vocab": vocab_section(names), "mixture": mixture_section(names)})
    source = _doc_file(tmp_path, doc)
    started = time.perf_counter()
    out = write_report([source], tmp_path / "report.html")
    seconds = time.perf_counter() - started
    size = out.stat().st_size
    assert size < 5_000_000, f"report is {size / 1e6:.2f} MB"
    assert len(_Page(out.read_text(encoding="utf-8")).viewer_data()["samples"]) == 30
    print(f"30 x 10 report: {size / 1e6:.2f} MB in {seconds:.2f} s")


def test_names_from_the_files_are_escaped_everywhere():
    measure = generated_measure_section(2, 2, seed=4)
    hostile = '<img src=x onerror="alert(1)">'
    for entry in (measure["tokenizers"][0], measure["corpora"][0]):
        old = entry["name"]
        entry["name"] = hostile + old
        for item in (*measure["records"], *measure["cells"], *measure["samples"]):
            for key in ("tokenizer", "corpus"):
                if item.get(key) == old:
                    item[key] = hostile + old
        for sample in measure["samples"]:
            if old in sample["tokens"]:
                sample["tokens"][hostile + old] = sample["tokens"].pop(old)
    html = render_report([results_doc({"measure": measure})], title=hostile)
    page = _Page(html)
    assert page.resource_urls == []  # no <img src=...> made it into the markup
    assert len(page.scripts) == 2
    assert hostile + "tok0" in page.viewer_data()["tokenizers"]


def test_training_section_reads_what_train_writes(tmp_path):
    """The report read a generated summary ("tokenizer", "bytes_per_token", "held_out_bytes"...); `train`
    writes "name", "held_out": {"bytes", "bytes_per_token": {"trained": ...}}, "corpora" and "files", so the
    table showed a nameless tokenizer with n/a held-out figures and no corpus or output."""
    corpus = tmp_path / "chr.txt"  # Cherokee, written for this test
    corpus.write_text("".join(f"ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ ᎠᏍᎦᏯ ᎤᏂᏣᏘ {i}\n" for i in range(300)), encoding="utf-8")
    out = tmp_path / "tok-chr"
    results = tmp_path / "train.json"
    assert main(["train", "--corpus", f"chr={corpus}", "-v", "300", "--out", str(out), "--results", str(results),
                 "-q"]) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    summary = document["sections"]["train"]["summary"]
    page = render_report([document], sources=["train.json"])
    start = page.index('<section id="train">')
    shown = page[start : page.index("</section>", start)]
    row = shown[shown.index("<tbody><tr>") : shown.index("</tr>", shown.index("<tbody><tr>"))]
    assert "<td>tok-chr</td><td>bpe</td>" in row and "na" not in row
    assert f">{format_number(summary['held_out']['bytes_per_token']['trained'])}</td>" in row
    assert f">{format_number(summary['held_out']['bytes'])}</td>" in row
    assert "<td>chr</td>" in row and f"<td>{escape(str(out))}</td>" in row
