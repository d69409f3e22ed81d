"""Pre-token counting: the multiprocessing engine gives exactly the single-process counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tokensmith.errors import InputError, UnknownNameError
from tokensmith.train import counting
from tokensmith.train.counting import count_pretokens
from tokensmith.train.pretokenize import Pretokenizer


@pytest.fixture(scope="module")
def mixed_lines(shared_data: Path) -> list[str]:
    lines: list[str] = []
    for name in ["mono/en.txt", "mono/ja.txt", "parallel/ar.txt", "domain/code_rust.txt"]:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()
    return lines


@pytest.mark.parametrize("workers", [2, 3])
def test_local_engine_equals_single_process(mixed_lines, workers, monkeypatch):
    # Small batches so that every worker gets many of them, in an interleaving that varies run to run.
    monkeypatch.setattr(counting, "BATCH_CHARS", 50_000)
    pretokenizer = Pretokenizer.create("cl100k")
    serial = count_pretokens(mixed_lines, pretokenizer, engine="serial")
    local = count_pretokens(iter(mixed_lines), pretokenizer, engine="local", workers=workers)
    assert local.pretokens == serial.pretokens
    assert local.counts.dtype == np.int64
    assert np.array_equal(local.counts, serial.counts)
    assert local.documents == serial.documents == len(mixed_lines)
    # And both equal a plain Counter over regex.findall, the definition of the count.
    expected = Counter(piece for line in mixed_lines[:3000] for piece in pretokenizer.split(line))
    small = count_pretokens(mixed_lines[:3000], pretokenizer, engine="serial")
    assert small.as_dict() == {text.encode("utf-8"): n for text, n in expected.items()}
    assert serial.total_bytes == sum(len(line.encode("utf-8")) for line in mixed_lines)


def test_small_input_falls_back_to_serial_with_same_result():
    pretokenizer = Pretokenizer.create("gpt2")
    docs = ["the cat", "the dog", "the  end "]
    assert count_pretokens(docs, pretokenizer, engine="local", workers=2).as_dict() == {
        b"the": 3, b" cat": 1, b" dog": 1, b" ": 2, b" end": 1
    }


def test_bad_inputs():
    pretokenizer = Pretokenizer.create("gpt2")
    with pytest.raises(InputError, match="not text"):
        count_pretokens([b"bytes"], pretokenizer, engine="serial")
    with pytest.raises(UnknownNameError):
        count_pretokens(["x"], pretokenizer, engine="spark")
    with pytest.raises(InputError):
        count_pretokens(["x"], pretokenizer, workers=0)


@pytest.mark.parametrize("engine", ["serial", "local"])
def test_a_lone_surrogate_is_one_clear_error(engine):
    # Python API text only (the corpus readers refuse it): it reached str.encode as a raw UnicodeEncodeError
    documents = ["plain text"] * 150_000 + ["a \ud800 b"]  # enough for the local engine's workers
    with pytest.raises(InputError, match="lone surrogate .U.D800"):
        count_pretokens(documents, Pretokenizer.create("cl100k"), engine=engine, workers=2)


@pytest.mark.parametrize(("engine", "workers"), [("serial", 1), ("local", 2), ("local", 3)])
def test_count_languages_equals_counting_each_language_alone(shared_data, engine, workers, monkeypatch):
    # One pass over all languages must give each language exactly its own counts: small batches so
    # that the workers get batches of several languages each, and a language without documents.
    monkeypatch.setattr(counting, "BATCH_CHARS", 40_000)
    pretokenizer = Pretokenizer.create("cl100k")
    texts = {name: (shared_data / "mono" / f"{name}.txt").read_text(encoding="utf-8").splitlines()[:4000]
             for name in ("de", "en", "ja", "ru")}
    texts["none"] = []
    by_language = counting.make_engine(engine, workers).count_languages(
        {name: iter(lines) for name, lines in texts.items()}, pretokenizer)
    assert list(by_language) == list(texts)
    for name, lines in texts.items():
        alone = count_pretokens(lines, pretokenizer, engine="serial")
        assert by_language[name].pretokens == alone.pretokens
        assert np.array_equal(by_language[name].counts, alone.counts)
        assert by_language[name].documents == alone.documents == len(lines)
    # The languages share pieces (digits, punctuation, Latin words), counted apart, not pooled.
    assert set(by_language["de"].pretokens) & set(by_language["en"].pretokens)


def test_language_tally_combines_partial_counts_per_language():
    pretokenizer = Pretokenizer.create("gpt2")
    first, second = counting.LanguageTally(pretokenizer), counting.LanguageTally(pretokenizer)
    first.add(counting.LanguageBatch("en", ["the cat", "the dog"]))
    second.add(counting.LanguageBatch("en", ["the end"]))
    second.add(counting.LanguageBatch("de", ["der Hund", "the"]))
    for tally in (first, second):  # in the process that filled it, as every engine does
        tally.finish()
    counts = counting.LanguageTally.combine([first, second]).counts(["de", "en", "fr"])
    assert counts["en"].as_dict() == {b"the": 3, b" cat": 1, b" dog": 1, b" end": 1}
    assert counts["de"].as_dict() == {b"der": 1, b" Hund": 1, b"the": 1}
    assert (counts["en"].documents, counts["de"].documents, counts["fr"].documents) == (3, 2, 0)
    assert len(counts["fr"]) == 0


def test_pretoken_tally_runs_combine_to_the_canonical_counts_however_they_are_grouped(mixed_lines):
    # Partials finish as sorted runs; combining them all at once (local workers), one at a time into a
    # running total (Ray, where small runs wait until they add up to a quarter of the largest), or with
    # empty partials must give exactly the canonical counts of one Counter over all the text.
    pretokenizer = Pretokenizer.create("cl100k")
    lines = mixed_lines[::7]
    expected = counting.PretokenCounts.from_counter(
        Counter(piece for line in lines for piece in pretokenizer.split(line)), 5)

    def finished(part: list[str]) -> counting.PretokenTally:
        tally = counting.PretokenTally(pretokenizer)
        tally.add(part)
        tally.finish()
        return tally

    rng = np.random.default_rng(0)
    cuts = sorted(rng.choice(len(lines), size=40, replace=False).tolist())
    parts = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True)] + [[]]
    all_at_once = counting.PretokenTally.combine([finished(part) for part in parts])
    running = finished(parts[0])
    kept_runs = []
    for part in parts[1:]:
        running = counting.PretokenTally.combine([running, finished(part)])
        kept_runs.append(len(running.runs))
    assert max(kept_runs) > 1  # some small runs were kept as runs, not merged at once
    for total in (all_at_once, running):
        got = total.counts(5)
        assert got.pretokens == expected.pretokens
        assert np.array_equal(got.counts, expected.counts)
        assert got.documents == 5
    assert counting.PretokenTally.combine([finished([])]).counts(0).pretokens == ()


#: \w, \s and \W written with the classes Python regex and Oniguruma share (their \w differs, e.g. on ZWJ).
WORDS = r"[\p{L}\p{M}\p{Nd}\p{Pc}]+|\s+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+"


@pytest.mark.parametrize("preset, pattern, digits", [
    ("cl100k", None, False), ("cl100k", None, True), ("o200k", None, False), ("gpt2", None, True),
    (None, WORDS, False), (None, WORDS, True), (None, r"\p{N}{1,3}| +(?!\S)", False),
])
def test_the_fast_splitter_cuts_as_split(mixed_lines, preset, pattern, digits):
    # counting and superword's cuts call `splitter` (findall itself for presets); it must be `split`
    pretokenizer = Pretokenizer.create(preset, regex_pattern=pattern, split_digits=digits)
    for line in mixed_lines[::50] + ["", "a1234 b  \n\n c'll 12"]:
        assert pretokenizer.splitter(line) == pretokenizer.split(line)
