"""`tokensmith mixture` bad input on the command line: one clear message, exit code 2, no traceback, no
results.json. Runs without ../shared: the tokenizer is a small BPE trained here on the two categories."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tokensmith.cli import main

pytest.importorskip("highspy")


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> dict[str, Path]:
    """Two category files and a tokenizer trained on them (``tokenizer`` -> its tokenizer.json)."""
    from tokensmith.train import BpeTrainer

    folder = tmp_path_factory.mktemp("mixture_cli")
    prose, code = folder / "prose.txt", folder / "code.txt"
    prose.write_text("the cat sat on the mat\n" * 50, encoding="utf-8")
    code.write_text("def f(x):\n    return x\n" * 50, encoding="utf-8")
    documents = [path.read_text(encoding="utf-8") for path in (prose, code)]
    BpeTrainer(vocab_size=300, special_tokens=(), engine="serial").train(documents).save(folder / "tok")
    return {"prose": prose, "code": code, "tokenizer": folder / "tok" / "tokenizer.json"}


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mixture_argv(toy: dict[str, Path], out: Path, *categories: str) -> list[str]:
    chosen = categories or (f"prose={toy['prose']}", f"code={toy['code']}")
    return ["mixture", "-t", str(toy["tokenizer"]), *[f"--category={c}" for c in chosen], "--merges", "20",
            "--out", str(out)]


def assert_one_error(code: int, stdout: str, stderr: str, *fragments: str) -> None:
    assert code == 2, (stdout, stderr)
    assert stderr.startswith("error: ") and "Traceback" not in stderr, stderr
    assert "share of bytes" not in stdout
    for fragment in fragments:
        assert fragment in stderr, stderr


def test_the_toy_mixture_runs(toy, tmp_path, capsys):
    """The baseline the bad-input tests change one thing of."""
    out = tmp_path / "results.json"
    code, stdout, stderr = run(mixture_argv(toy, out), capsys)
    assert code == 0, stderr
    assert "share of bytes" in stdout and out.exists()


def test_zero_sample_bytes_is_refused(toy, tmp_path, capsys):
    out = tmp_path / "results.json"
    code, stdout, stderr = run([*mixture_argv(toy, out), "--sample-bytes", "0"], capsys)
    assert_one_error(code, stdout, stderr, "--sample-bytes must be a positive integer, got 0")
    assert not out.exists()


def test_duplicate_category_is_named(toy, tmp_path, capsys):
    out = tmp_path / "results.json"
    argv = mixture_argv(toy, out, f"en={toy['prose']}", f"en={toy['code']}")
    code, stdout, stderr = run(argv, capsys)
    assert_one_error(code, stdout, stderr, "--category 'en' is given twice", str(toy["prose"]), str(toy["code"]))
    assert "at least two" not in stderr
    assert not out.exists()


def test_categories_with_the_same_text_are_refused(toy, tmp_path, capsys):
    # The same text under two names (a copy, or the same file twice): any split of their share fits the
    # merges equally well, so the result would be arbitrary.
    copy = tmp_path / "prose_copy.txt"
    copy.write_bytes(toy["prose"].read_bytes())
    out = tmp_path / "results.json"
    for twin in (copy, toy["prose"]):
        argv = mixture_argv(toy, out, f"prose={toy['prose']}", f"code={toy['code']}", f"more={twin}")
        code, stdout, stderr = run(argv, capsys)
        assert_one_error(code, stdout, stderr, "categories 'prose'", "'more'", "hold the same text", str(twin))
        assert not out.exists()


def test_binary_category_is_refused_like_measure_refuses_it(toy, tmp_path, capsys):
    out = tmp_path / "results.json"
    binary = tmp_path / "zeros.bin"
    binary.write_bytes(b"\x00" * 5000)
    code, stdout, stderr = run(mixture_argv(toy, out, f"prose={toy['prose']}", f"zeros={binary}"), capsys)
    assert_one_error(code, stdout, stderr, f"{binary}:1: byte offset 0 is a NUL byte", "binary file")
    assert "--errors" not in stderr  # (replacing bad bytes does not make a binary file text)
    assert not out.exists()
    code, stdout, stderr = run(["measure", "-t", str(toy["tokenizer"]), "--corpus", str(binary)], capsys)
    assert_one_error(code, stdout, stderr, "NUL byte", "binary file")


def test_nul_after_text_is_located(toy, tmp_path, capsys):
    """The position is counted over the whole file, not the 4 kB document it falls in."""
    out = tmp_path / "results.json"
    text = "plain text line\n" * 1000  # 16,000 bytes: the NUL is in the fourth document
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes(text.encode() + b"abc\x00def\n")
    code, stdout, stderr = run(mixture_argv(toy, out, f"prose={toy['prose']}", f"mixed={mixed}"), capsys)
    assert_one_error(code, stdout, stderr, f"{mixed}:1001: byte offset {len(text) + 3} is a NUL byte")
    assert not out.exists()


def test_a_byte_order_mark_is_not_category_text(toy, tmp_path, capsys):
    # measure drops a UTF-8 BOM; mixture counted it as text (a BOM-only file was a category of its own).
    import json

    with_bom = tmp_path / "prose.txt"
    with_bom.write_bytes(b"\xef\xbb\xbf" + toy["prose"].read_bytes())
    shares = []
    for prose in (toy["prose"], with_bom):
        out = tmp_path / f"{len(shares)}.json"
        code, _, stderr = run(mixture_argv(toy, out, f"prose={prose}", f"code={toy['code']}") + ["-q"], capsys)
        assert code == 0, stderr
        categories = json.loads(out.read_text(encoding="utf-8"))["sections"]["mixture"]["categories"]
        shares.append([(c["name"], c["alpha"], c["pretokens"], c["pair_occurrences"]) for c in categories])
    assert shares[0] == shares[1]
    bom_only = tmp_path / "bom.txt"
    bom_only.write_bytes(b"\xef\xbb\xbf")
    out = tmp_path / "results.json"
    code, stdout, stderr = run(mixture_argv(toy, out, f"prose={toy['prose']}", f"bom={bom_only}"), capsys)
    assert_one_error(code, stdout, stderr, "is empty")
    assert not out.exists()


def test_non_utf8_category_names_file_line_and_offset(toy, tmp_path, capsys):
    out = tmp_path / "results.json"
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"first line\nzweite Zeile\nGr\xfc\xdfe\n")
    code, stdout, stderr = run(mixture_argv(toy, out, f"prose={toy['prose']}", f"latin1={latin1}"), capsys)
    assert_one_error(code, stdout, stderr, f"{latin1}:3", "byte offset 26")
    assert not out.exists()


def test_missing_category_path_names_the_category_flag(toy, tmp_path, capsys):
    out = tmp_path / "results.json"
    missing = tmp_path / "nowhere.txt"
    code, stdout, stderr = run(mixture_argv(toy, out, f"prose={toy['prose']}", f"gone={missing}"), capsys)
    assert_one_error(code, stdout, stderr, f"no such file or directory: {missing}", "--category")
    assert "--corpus" not in stderr
    assert not out.exists()


def test_solver_stopped_by_a_limit_reports_one_error(toy, tmp_path, capsys, monkeypatch):
    """A real HiGHS limit (no simplex iteration allowed) ends the LP in a non-optimal status: the command
    must report it and write nothing, never print shares."""
    from tokensmith.mixture import solver

    monkeypatch.setattr(solver, "SolverSettings",
                        partial(solver.SolverSettings, highs_options={"simplex_iteration_limit": 0}))
    out = tmp_path / "results.json"
    code, stdout, stderr = run(mixture_argv(toy, out), capsys)
    assert_one_error(code, stdout, stderr, "the mixture LP ended with status 'Iteration limit reached'",
                     "no proportions are reported", "highs_options")
    assert stderr.count("error:") == 1
    assert not out.exists()


def test_unknown_highs_option_is_refused(toy, tmp_path):
    from tokensmith.errors import InputError
    from tokensmith.mixture import SolverSettings, run_mixture

    out = tmp_path / "results.json"
    with pytest.raises(InputError, match="HiGHS refuses the option time_limit='soon'"):
        run_mixture(toy["tokenizer"], {"prose": toy["prose"], "code": toy["code"]}, merges=20, out=out, quiet=True,
                    settings=SolverSettings(highs_options={"time_limit": "soon"}))
    assert not out.exists()


def test_categories_are_read_with_the_corpus_options_of_measure_and_train(toy, tmp_path, capsys):
    # mixture had no --field, --column or --errors: a JSONL category whose text is in another field than
    # "text" could not be read at all, nor a text file with one bad byte.
    import json

    categories = {}
    for name in ("prose", "code"):
        lines = toy[name].read_text(encoding="utf-8").splitlines(keepends=True)
        records = [json.dumps({"id": i, "body": "".join(lines[i:i + 4])}) for i in range(0, len(lines), 4)]
        categories[name] = tmp_path / f"{name}.jsonl"
        categories[name].write_text("\n".join(records) + "\n", encoding="utf-8")
    out = tmp_path / "results.json"
    code, stdout, stderr = run([*mixture_argv(toy, out, *(f"{n}={p}" for n, p in categories.items())),
                                "--field", "body"], capsys)
    assert code == 0, stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["provenance"]["parameters"]["field"] == "body"
    assert {c["name"] for c in written["sections"]["mixture"]["categories"]} == {"prose", "code"}

    latin1 = tmp_path / "prose_latin1.txt"
    latin1.write_bytes(toy["prose"].read_bytes() + "Ça été\n".encode("latin-1"))
    argv = mixture_argv(toy, out, f"prose={latin1}", f"code={toy['code']}")
    code, stdout, stderr = run([*argv, "--force"], capsys)
    assert_one_error(code, stdout, stderr, "is not UTF-8", "--errors replace")
    code, stdout, stderr = run([*argv, "--force", "--errors", "replace"], capsys)
    assert code == 0, stderr
    assert "prose: 3 invalid UTF-8 byte sequences read as U+FFFD" in stderr and f"{latin1}:51" in stderr

