"""The compiled pre-tokenizers cut exactly as ``regex`` does with the preset's pattern.

Differential throughout: every piece sequence and every count is compared with the ``regex`` path of the
same :class:`Pretokenizer` (which a test in test_train_bpe.py checks against HF and tiktoken).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.demo_corpora import demo_corpora
from tokensmith.train.compiled_pretokenize import COMPILED_FORMS, whitespace_next_to_whitespace
from tokensmith.train.counting import count_pretokens
from tokensmith.train.pretokenize import SUPERBPE_STAGE2_REGEX, Pretokenizer

STAGE2 = "superbpe-stage2"
FORMS = ["gpt2", "gpt2+digits", "cl100k", "cl100k+digits", "llama3", "llama3+digits", "o200k", "o200k+digits", STAGE2]


def pretokenizer(name: str) -> Pretokenizer:
    if name == STAGE2:
        return Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    preset, _, digits = name.partition("+")
    return Pretokenizer.create(preset, split_digits=bool(digits))


def compiled_pretokenizer(name: str):
    compiled = pretokenizer(name).compiled
    assert compiled is not None, name
    return compiled


def regex_counts(pre: Pretokenizer, documents: list[str]) -> Counter:
    counts = Counter()
    for document in documents:
        counts.update(pre.split(document))
    return counts


def test_which_regexes_are_compiled():
    assert len(COMPILED_FORMS) == len(FORMS)
    assert {pretokenizer(name).pattern for name in FORMS} == set(COMPILED_FORMS)
    # a custom regex that is a preset's cuts as the preset does (the gaps are empty: presets match everything)
    assert Pretokenizer.create(regex_pattern=pretokenizer("cl100k").pattern).compiled is compiled_pretokenizer("cl100k")
    words = r"[\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}]"
    assert Pretokenizer.create(regex_pattern=words).compiled is None
    assert Pretokenizer.create(regex_pattern=words, split_digits=True).compiled is None


# Characters where the alternatives of the regexes part ways: contractions in every case (and `ſ`, which
# `(?i)` folds to `s`), every kind of whitespace and line break, digits of other scripts, combining marks
# (neither letters nor numbers), letters of every case class (o200k: Lu, Ll, Lt, Lm, Lo), punctuation,
# emoji, a lone surrogate.
TRICKY = ("'sSdDmMtTlLvVrReEſKk \t\n\r\x0b\x0c\x1c\x85\u00a0\u2000\u2028\u3000\u200b\u0301\u093f\u094d"
          "1٣Ⅻ½²aAZßǅİﬀΣςʰにー!.(\"-/😀\U0001f3fb\ud800")
texts = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=40)


@pytest.mark.parametrize("name", FORMS)
@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_generated_text_is_cut_as_regex_cuts_it(name, text):
    assert compiled_pretokenizer(name).split(text) == pretokenizer(name).split(text)


@pytest.mark.parametrize("name", FORMS)
def test_hand_made_edges(name):
    compiled, pre = compiled_pretokenizer(name), pretokenizer(name)
    for text in ["", " ", "\n", "a\n  ", "x  ", "  \n", "\r\n\r\n  z  ", "'ll", "can'T", "a'ſ", "it's 'S 'LL",
                 "1234567 12", "  1", "\u00a0word \u3000x", " (hi) ... 'quoted'\n\n", "नमस्ते दुनिया", "a\t\tb",
                 "x -- y", "x --\n/ /y", " -", "a  \tb", "a ,b", "a ,, b", "--", "  ", "a  ",
                 # o200k's two letter classes overlap (Lm, Lo, M): the second run starts at the last shared one
                 "AにBに!", " AにBに's", "ABCdef", "ǅʰA", "\u0301Ab", "A\u0301\u0301B!", "x'S", "ΣΑΣ'LL"]:
        assert compiled.split(text) == pre.split(text), text


def counted_utf8(name: str, documents: list[str]) -> Counter:
    """The compiled count of ``documents`` (UTF-8 table and counts) as a ``Counter`` of str."""
    table, counts = compiled_pretokenizer(name).count_utf8(documents)
    return Counter(dict(zip(table.decoded(), counts.tolist(), strict=True)))


@pytest.mark.parametrize("name", FORMS)
def test_counts_of_many_documents_equal_regex_counts_on_django_catalogues(name):
    """The 68 languages of Django's catalogues (installed with the demo extra, no ../shared needed), line by
    line as documents in one batch, and again with empty documents among them."""
    documents = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))
                 for line in path.read_text(encoding="utf-8").split("\n")]
    pre = pretokenizer(name)
    assert counted_utf8(name, documents) == regex_counts(pre, documents)
    assert counted_utf8(name, ["", *documents[:500], "", ""]) == regex_counts(pre, documents[:500])


@pytest.mark.parametrize("name", FORMS)
def test_tally_of_many_batches_equals_regex_counts_on_django_catalogues(name, monkeypatch):
    """What bpe counts: the UTF-8 table of each batch's pre-tokens summed in one growing compiled table, then
    sorted into the canonical run (batches of 20,000 characters, so the table grows and is rehashed)."""
    from tokensmith.train import counting

    monkeypatch.setattr(counting, "BATCH_CHARS", 20_000)
    documents = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))
                 for line in path.read_text(encoding="utf-8").split("\n")]
    pre = pretokenizer(name)
    counts = count_pretokens(documents, pre, engine="serial")
    expected = regex_counts(pre, documents)
    assert counts.pretokens == tuple(sorted(piece.encode("utf-8") for piece in expected))
    assert counts.as_dict() == {piece.encode("utf-8"): count for piece, count in expected.items()}
    assert counts.counts.dtype == np.int64


def test_python_source_is_cut_as_regex_cuts_it():
    """Code: indentation, line breaks, quotes and operators (the demo's Python standard library)."""
    with open(demo_corpora()["code"], encoding="utf-8") as handle:
        sources = [json.loads(line)["text"] for _, line in zip(range(300), handle, strict=False)]
    for name in FORMS:
        compiled, pre = compiled_pretokenizer(name), pretokenizer(name)
        for source in sources:
            assert compiled.split(source) == pre.split(source)


def team_files(shared_data: Path) -> list[Path]:
    return sorted(path for folder in ("mono", "domain", "parallel") for path in (shared_data / folder).rglob("*.txt"))


def test_every_team_file_is_cut_as_regex_cuts_it(shared_data):
    """Each whole file as one text (line breaks inside) with the default preset; every 4th file with the
    others (the regex side costs ~10 s per pass over all of them)."""
    files = team_files(shared_data)
    assert len(files) >= 100
    for index, path in enumerate(files):
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in FORMS if index % 4 == 0 else ["cl100k"]:
            assert compiled_pretokenizer(name).split(text) == pretokenizer(name).split(text), (name, path)


def test_counting_engines_count_as_regex_does(shared_data):
    """The local engine's counts (compiled) equal the regex path's on 31 languages' lines."""
    documents = [line for path in sorted((shared_data / "parallel").glob("*.txt"))
                 for line in path.read_text(encoding="utf-8").split("\n") if line]
    pre = pretokenizer("cl100k")
    counts = count_pretokens(documents, pre, engine="local", workers=2)
    expected = regex_counts(pre, documents)
    assert counts.as_dict() == {piece.encode("utf-8"): count for piece, count in expected.items()}


def context_dependent_by_regex(documents: list[str]) -> list[bool]:
    from tokensmith.train.superword import _CONTEXT_DEPENDENT_WHITESPACE

    return [_CONTEXT_DEPENDENT_WHITESPACE.search(document) is not None for document in documents]


@settings(max_examples=300, deadline=None)
@given(documents=st.lists(texts, max_size=8))
def test_whitespace_test_of_superword_equals_its_regex_on_generated_text(documents):
    assert whitespace_next_to_whitespace(documents).tolist() == context_dependent_by_regex(documents)


def test_whitespace_test_of_superword_equals_its_regex_on_team_lines(shared_data):
    for path in team_files(shared_data)[::3]:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")[:5000]
        documents = lines + ["\n".join(lines[:50]), "\r\n".join(lines[50:60])]
        flags = whitespace_next_to_whitespace(documents).tolist()
        assert flags == context_dependent_by_regex(documents), path


@pytest.mark.parametrize("name", ["cl100k", "o200k", STAGE2])
def test_cut_to_utf8_equals_the_cut_to_strings(name, monkeypatch):
    """``cut_utf8`` (pieces encoded from the code points, deduplicated across blocks) gives the UTF-8 of
    ``cut``'s pieces, in the same order, and the same occurrences; on Django's 68 languages plus non-BMP
    text, in small blocks so that pieces repeat across them; a lone surrogate is one InputError."""
    from tokensmith.errors import InputError
    from tokensmith.train import counting

    monkeypatch.setattr(counting, "BATCH_CHARS", 5_000)
    texts = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))[:20]
             for line in path.read_text(encoding="utf-8").split("\n")[:300]]
    texts += ["😀 emoji 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001f3fb", "", "ßǅİ ﬀ ΣΑΣ ς", "😀 emoji"]
    compiled = compiled_pretokenizer(name)
    pieces, occurrence, per_text = compiled.cut(texts)
    table, occurrence_utf8, per_text_utf8 = compiled.cut_utf8(texts)
    assert [table[i] for i in range(len(table))] == [piece.encode("utf-8") for piece in pieces]
    assert occurrence_utf8.tolist() == occurrence.tolist() and per_text_utf8.tolist() == per_text.tolist()
    assert len(pieces) < len(occurrence)  # pieces repeat (across blocks too: cut dedupes them globally)
    with pytest.raises(InputError, match="lone surrogate .U.DC00"):
        compiled.cut_utf8(["fine text", "a \udc00 b"])


@pytest.mark.parametrize("name", ["cl100k", "o200k", STAGE2])
def test_cut_of_a_utf8_table_equals_the_cut_of_its_strings(name):
    """``cut_table`` decodes the UTF-8 in compiled code, block by block (small blocks here, so a block ends
    inside the table and pieces repeat across blocks), and cuts a ``blank`` string as an empty text."""
    from tokensmith.train.text_table import TextTable

    texts = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))[:20]
             for line in path.read_text(encoding="utf-8").split("\n")[:300]]
    texts += ["😀 emoji 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001f3fb", "ßǅİ ﬀ ΣΑΣ ς", "é\u0301 x\ud7ff\ue000\uffff \U0010ffff", "a"]
    blank = np.zeros(len(texts), dtype=np.bool_)
    blank[::7] = True
    compiled = compiled_pretokenizer(name)
    expected = compiled.cut_utf8([("" if b else t) for t, b in zip(texts, blank.tolist(), strict=True)])
    got = compiled.cut_table(TextTable.from_strings(texts), blank, block_bytes=3_000)
    assert [got[0][i] for i in range(len(got[0]))] == [expected[0][i] for i in range(len(expected[0]))]
    assert got[1].tolist() == expected[1].tolist() and got[2].tolist() == expected[2].tolist()
    table, counts = compiled.count_utf8(texts)
    direct = Counter(piece for text in texts for piece in compiled.split(text))
    assert dict(zip(table.decoded(), counts.tolist(), strict=True)) == dict(direct)
    assert list(table.decoded()) == list(direct)  # in order of first occurrence, as the Counter
    from tokensmith.errors import InputError

    with pytest.raises(InputError, match="lone surrogate .U.D800"):
        compiled.count_utf8(["fine", "b \ud800 c"])
