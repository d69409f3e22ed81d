"""superword's one-pass counting (StageTally) and its compiled piece encoder (merge_core.apply_merges).

Each new path is checked against the path it replaced: separate counts with count_pretokens and a cut of
the sorted chunks for the tally; HF's BPE model for the encoder; the stage-1 counts counted directly for
the counts derived from the chunks' cuts, and the tokenizer.json trained without them.
"""

from __future__ import annotations

import pickle
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.errors import TokensmithError
from tokensmith.train import BpeTrainer, SuperwordTrainer, counting, merge_core, superword
from tokensmith.train.api import read_lines
from tokensmith.train.counting import count_pretokens, make_engine
from tokensmith.train.pretokenize import Pretokenizer, _split_isolated
from tokensmith.train.superword import (
    SUPERBPE_STAGE2_REGEX,
    StageTally,
    _cut_chunks,
    _hf_encode_words,
    derivable_stage1,
)

pytest.importorskip("tokenizers")

SPECIALS = ("<|endoftext|>", "<s>")


@pytest.fixture(scope="module")
def mixed_lines(shared_data: Path) -> list[str]:
    lines: list[str] = []
    for name in ["mono/en.txt", "mono/ja.txt", "mono/ru.txt", "mono/ar.txt", "domain/code_python.txt"]:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()[:4000]
    return lines + ["a <s> b", "x<|endoftext|>y  12345 !!"]  # chunks holding a special token's text


@pytest.fixture(scope="module")
def stage1(mixed_lines) -> BpeTrainer:
    return BpeTrainer(vocab_size=3000, special_tokens=SPECIALS, engine="serial").train(mixed_lines)


def tally_of(lines: list[str], preset: str, engine: str, workers: int | None = None):
    stage2 = Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    new_tally = partial(StageTally, Pretokenizer.create(preset), stage2, SPECIALS)
    return make_engine(engine, workers).tally(iter(lines), new_tally)


def chunk_pieces_as_text(chunks) -> list[list]:
    """Each chunk's pieces (str, or the whole chunk for one holding a special token's text)."""
    starts = np.concatenate([[0], np.cumsum(chunks.chunk_pieces)])
    return [[chunks.pieces[i] for i in chunks.occurrence[a:b]] for a, b in zip(starts[:-1], starts[1:], strict=True)]


def check_against_separate_counting(lines: list[str], preset: str, engine: str, workers: int | None = None) -> None:
    tally, n_documents = tally_of(lines, preset, engine, workers)
    stage1_counts = count_pretokens(lines, Pretokenizer.create(preset), engine="serial")
    stage2_counts = count_pretokens(lines, Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX), engine="serial")
    assert n_documents == len(lines)
    # stage 1 must stay exactly BpeTrainer's count (bpe equals HF's BpeTrainer)
    assert tally.stage1.counts(0).as_dict() == stage1_counts.as_dict()
    chunks = tally.sorted_chunks()
    assert np.array_equal(chunks.counts, stage2_counts.counts)
    assert chunks.total_bytes == stage2_counts.total_bytes
    cut = chunk_pieces_as_text(chunks)
    assert ["".join(piece if isinstance(piece, str) else piece[0] for piece in pieces) for pieces in cut] == [
        chunk.decode("utf-8") for chunk in stage2_counts.pretokens]
    # the cut made in the workers equals the cut of the sorted chunks made afterwards (the cut depends on
    # the stage-1 pre-tokenizer and special tokens only, not on the merges)
    stage1 = BpeTrainer(vocab_size=300, min_frequency=1, special_tokens=SPECIALS, pretokenizer=preset,
                        engine="serial").train(["hello world"])
    pieces, occurrence, chunk_pieces = _cut_chunks(stage2_counts.pretokens, stage1, workers=1)
    starts = np.concatenate([[0], np.cumsum(chunk_pieces)])
    assert cut == [[pieces[i] for i in occurrence[a:b]] for a, b in zip(starts[:-1], starts[1:], strict=True)]


@pytest.mark.parametrize(("engine", "workers"), [("serial", None), ("local", 2), ("local", 3)])
def test_one_pass_counting_equals_separate_counting_on_real_text(mixed_lines, engine, workers, monkeypatch):
    monkeypatch.setattr(counting, "BATCH_CHARS", 50_000)  # many batches, so workers share chunks
    check_against_separate_counting(mixed_lines, "cl100k", engine, workers)


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="this platform has no /dev/shm")
def test_partials_handed_over_through_shared_memory_equal_separate_counting(mixed_lines, monkeypatch):
    from tokensmith import handover

    received = []

    def recording(partial):
        received.append(type(partial).__name__)
        return handover.taken_over(partial)

    monkeypatch.setattr(handover, "HANDOVER_BYTES", 0)  # every partial through a file (forked workers see it)
    monkeypatch.setattr(counting, "taken_over", recording)
    monkeypatch.setattr(counting, "BATCH_CHARS", 50_000)
    check_against_separate_counting(mixed_lines, "cl100k", "local", 2)
    assert received == ["HandedOver", "HandedOver"]


def test_partials_combined_one_at_a_time_equal_separate_counting(mixed_lines, monkeypatch):
    # As the Ray engine combines: one finished batch tally at a time into the running total; chunks of the
    # partials wait unjoined up to a bound, then are joined (the rest by sorted_chunks).
    stage1_pretokenizer = Pretokenizer.create("cl100k")
    stage2 = Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    lines = mixed_lines[::3]
    total, waiting = None, []
    for part in range(11):
        tally = StageTally(stage1_pretokenizer, stage2, SPECIALS)
        tally.add(lines[part::11])
        tally.finish()
        total = tally if total is None else StageTally.combine([total, tally])
        waiting.append(len(total.pending))
    assert max(waiting) == superword._PENDING_PARTIALS and 0 in waiting[1:]  # both ways were taken
    expected_stage1 = count_pretokens(lines, stage1_pretokenizer, engine="serial")
    expected_chunks = count_pretokens(lines, stage2, engine="serial")
    assert total.stage1.counts(0).as_dict() == expected_stage1.as_dict()
    chunks = total.sorted_chunks()
    assert not total.pending
    assert np.array_equal(chunks.counts, expected_chunks.counts)
    joined = ["".join(piece if isinstance(piece, str) else piece[0] for piece in pieces)
              for pieces in chunk_pieces_as_text(chunks)]
    assert joined == [chunk.decode("utf-8") for chunk in expected_chunks.pretokens]


def finished_tally(lines: list[str], preset: str = "cl100k") -> StageTally:
    tally = StageTally(Pretokenizer.create(preset), Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX), SPECIALS)
    tally.add(lines)
    tally.finish()
    return tally


@pytest.mark.parametrize("preset", ["cl100k", "o200k"])
def test_joined_partials_equal_one_tally_of_all_their_documents(preset):
    # "the cat sat" and " 12" in every partial, a special token's chunk in two, a chunk of one partial only
    # sorting between the others', one whose bytes extend another's ("ab" and "ab\x00")
    partials = [["the cat sat 12", "x<s>y  !!", "ab"], ["the cat sat 12", "a  b\t\tc", "ab\x00", "x<s>y"],
                ["zz the cat sat 12", "é日本 !!"]]
    expected = finished_tally([line for lines in partials for line in lines], preset).sorted_chunks()
    assert any(piece == ("x<s>y",) for piece in expected.pieces)
    for arrangement in (partials, partials[::-1]):
        # as the local engine joins them: sent through a pipe (pickled), combined, joined beside stage 1
        tallies = [pickle.loads(pickle.dumps(finished_tally(lines, preset))) for lines in arrangement]
        joined = StageTally.combine(tallies).sorted_chunks()
        assert joined.counts.tolist() == expected.counts.tolist()
        assert joined.total_bytes == expected.total_bytes
        assert chunk_pieces_as_text(joined) == chunk_pieces_as_text(expected)


@pytest.mark.parametrize("preset", ["gpt2", "o200k", "llama3"])
def test_one_pass_counting_equals_separate_counting_for_every_preset(mixed_lines, preset, monkeypatch):
    monkeypatch.setattr(counting, "BATCH_CHARS", 50_000)
    check_against_separate_counting(mixed_lines[::7], preset, "local", 2)


#: Lines made of characters and short strings that decide where both regexes cut (digits, punctuation
#: runs, space runs, contractions, combining marks, special tokens' text).
LINE_TEXT = st.lists(st.sampled_from(list("ab cD1 2\n\t.,!?-'é日\u0301") + ["<s>", "  ", "123", "'ll", "!!"]),
                     max_size=40).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(LINE_TEXT, max_size=30))
def test_one_pass_counting_equals_separate_counting_on_generated_text(lines):
    check_against_separate_counting(lines, "cl100k", "serial")


def test_apply_merges_tiny_cases():
    # ids: a=0, b=1, c=2; merges in rank order: (b, c) -> 3, (a, b) -> 4, (a, a) -> 5, (4, 2) -> 6
    merges = np.array([[1, 2, 3], [0, 1, 4], [0, 0, 5], [4, 2, 6]])
    words = [[0, 1, 2], [0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 1, 2], [2], []]
    symbols = np.array([s for word in words for s in word], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(word) for word in words])]).astype(np.int64)
    encoded, encoded_offsets = merge_core.apply_merges(symbols, offsets, merges)
    got = [encoded[a:b].tolist() for a, b in zip(encoded_offsets[:-1], encoded_offsets[1:], strict=True)]
    # "abc": (b, c) has the lower rank, so (a, b) never forms; "aaa": leftmost first
    assert got == [[0, 3], [5, 0], [5, 5], [4, 0, 3], [2], []]


def test_apply_merges_defers_when_a_string_is_created_twice():
    duplicate_new_id = np.array([[0, 1, 3], [3, 2, 4], [0, 5, 4]])
    duplicate_pair = np.array([[0, 1, 3], [0, 1, 4]])
    for merges in (duplicate_new_id, duplicate_pair):
        assert merge_core.apply_merges(np.array([0, 1], dtype=np.int32), np.array([0, 2]), merges) is None


def encode_with_both(words: list[str], stage1, threads: int = 1) -> tuple[list, list]:
    from tokensmith.train.bpe import InitialVocabulary

    encoded = [word.encode("utf-8") for word in words]
    offsets = np.concatenate([[0], np.cumsum([len(word) for word in encoded])]).astype(np.int64)
    byte_ids = InitialVocabulary.byte_level(SPECIALS).byte_ids
    compiled, compiled_offsets = merge_core.apply_merges(
        byte_ids[np.frombuffer(b"".join(encoded), dtype=np.uint8)], offsets, np.array(stage1.merge_ids), threads)
    hf_symbols, hf_lengths = _hf_encode_words(words, stage1)
    hf_offsets = np.concatenate([[0], np.cumsum(hf_lengths)])
    split = [compiled[a:b].tolist() for a, b in zip(compiled_offsets[:-1], compiled_offsets[1:], strict=True)]
    hf = [hf_symbols[a:b].tolist() for a, b in zip(hf_offsets[:-1], hf_offsets[1:], strict=True)]
    return split, hf


def test_apply_merges_equals_hf_bpe_model_on_real_words(mixed_lines, stage1, monkeypatch):
    from tokensmith.train import superword

    monkeypatch.setattr(superword, "_WORDS_PER_BATCH", 97)  # HF's side in many batches and calls
    pretokenizer = Pretokenizer.create("cl100k")
    words = sorted({piece for line in mixed_lines[::3] for piece in pretokenizer.split(line)})
    words += ["".join(words[i:i + 40]) for i in range(0, 4000, 40)]  # long words: many merges, stale entries
    compiled, hf = encode_with_both(words, stage1)
    assert compiled == hf
    assert sum(len(ids) for ids in hf) < sum(len(word.encode("utf-8")) for word in words) / 2  # merges applied
    monkeypatch.setattr(merge_core, "_WORDS_PER_THREAD", 7)  # blocks of words on threads, joined back to back
    for threads in (2, 3):
        assert encode_with_both(words, stage1, threads=threads)[0] == hf


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("the andé日本 ") + ["\u0301", "ing", "tion"]), min_size=1,
                         max_size=30).map("".join), min_size=1, max_size=20))
def test_apply_merges_equals_hf_bpe_model_on_generated_words(stage1, words):
    compiled, hf = encode_with_both(words, stage1)
    assert compiled == hf


def check_isolating_split(pretokenizer: Pretokenizer, text: str) -> None:
    assert pretokenizer.split(text) == _split_isolated(pretokenizer._compiled, text)


def test_stage2_split_in_one_call_equals_the_match_by_match_split_on_real_text(shared_data):
    stage2 = Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    assert stage2._isolating is not None  # the one-call split is the one under test
    files = sorted((shared_data / "mono").glob("*.txt")) + sorted((shared_data / "domain").glob("*.txt"))
    files += sorted((shared_data / "parallel").glob("*.txt"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            check_isolating_split(stage2, line)
        check_isolating_split(stage2, text[:100_000])  # line breaks, and lines run together


#: Text with the characters that decide stage 2's matches: digits of several scripts, punctuation runs and
#: what may end them (line breaks, "/"), spaces before spaces, other whitespace.
STAGE2_TEXT = st.lists(st.sampled_from(list("ab 1\u0661\u00bd.,!-/\r\n\t\u00a0\u3000") + ["  ", "1234", "!!", " /"]),
                       max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(STAGE2_TEXT)
def test_stage2_split_in_one_call_equals_the_match_by_match_split_on_generated_text(text):
    check_isolating_split(Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX), text)


#: The stage-1 pre-tokenizers whose counts superword derives from the stage-2 cuts (``(preset, split_digits)``).
DERIVED_PRESETS = [("cl100k", False), ("cl100k", True), ("llama3", False), ("llama3", True), ("gpt2", True)]


def test_derived_stage1_presets_are_the_allowlisted_ones():
    stage2 = Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    derived = [(preset, digits) for preset in ("cl100k", "llama3", "gpt2", "o200k") for digits in (False, True)
               if derivable_stage1(Pretokenizer.create(preset, split_digits=digits), stage2)]
    assert derived == DERIVED_PRESETS
    cl100k = Pretokenizer.create("cl100k")
    assert not derivable_stage1(cl100k, Pretokenizer.create(regex_pattern=r"\p{N}+"))  # another stage-2 regex
    custom_stage1 = Pretokenizer.create(regex_pattern=r"[\p{L}\p{M}\p{Nd}\p{Pc}]+|\s+")
    assert not derivable_stage1(custom_stage1, stage2)
    assert not derivable_stage1(Pretokenizer.create(regex_pattern=cl100k.pattern, split_digits=True), stage2)


def stage1_counts_both_ways(lines: list[str], pretokenizer: Pretokenizer, *, derive: bool = True,
                            engine: str = "serial", workers: int | None = None) -> tuple[dict, dict]:
    """Stage 1's counts from :class:`StageTally` (derived from the cuts where it can) and counted directly."""
    stage2 = Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    new_tally = partial(StageTally, pretokenizer, stage2, SPECIALS, derive_stage1=derive)
    tally, _ = make_engine(engine, workers).tally(iter(lines), new_tally)
    derived = tally.stage1.counts(0).as_dict()
    return derived, count_pretokens(lines, pretokenizer, engine="serial").as_dict()


def counts_from_chunk_cuts(lines: list[str], pretokenizer: Pretokenizer) -> dict:
    """Stage 1's counts derived from every document's stage-2 chunks, each chunk cut on its own."""
    stage2 = Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)
    chunks = Counter(chunk for line in lines for chunk in stage2.split(line))
    counts = Counter()
    for chunk, count in chunks.items():
        for piece in pretokenizer.split(chunk):
            counts[piece] += count
    return counting.PretokenCounts.from_counter(counts).as_dict()


@pytest.mark.parametrize("preset", ["gpt2", "o200k"])
def test_stage1_counts_from_chunk_cuts_are_wrong_for_the_other_presets(preset):
    # gpt2 puts the space before a number into it (" 1234"), where stage 2 cuts "a " | "123" | "4"; o200k keeps
    # combining marks in words, where stage 2 isolates two of them ("\u0915\u093f\u094d" -> "\u0915" | marks)
    lines = ["a 1234 b", "\u0915\u093f\u094d\u0937"]
    pretokenizer = Pretokenizer.create(preset)
    assert counts_from_chunk_cuts(lines, pretokenizer) != stage1_counts_both_ways(lines, pretokenizer)[1]


@pytest.mark.parametrize(("preset", "digits"), DERIVED_PRESETS)
def test_derived_stage1_counts_equal_direct_counts_where_whitespace_depends_on_context(preset, digits):
    # lines whose whitespace stage 1 cuts by what follows it, so that their chunks' cuts alone would be wrong:
    # they are counted directly
    pretokenizer = Pretokenizer.create(preset, split_digits=digits)
    lines = ["a\t\t12", "x \t!!", "\t  word", "end  \nnext", "a!!\n/b", "tab\u3000\u3000.,", "x  \r\n",
             "a 12", "b  34", "c  !!", "d\t56", "<s>  7", "it's  ''s"]
    derived, direct = stage1_counts_both_ways(lines, pretokenizer)
    assert derived == direct
    assert counts_from_chunk_cuts(lines, pretokenizer) != direct


#: Any Unicode text, weighted towards what decides either stage's cut: digits of several scripts, combining
#: marks, punctuation and symbol runs with "/" and "'", every kind of whitespace, and special tokens' text.
DECIDING_TEXT = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.text(max_size=4),
              st.sampled_from(list("a b1\u0661\u00bd\u0301\u093f.,!/'-\t\r\n\x0b\x0c\x85\u00a0\u2028\u3000")
                              + ["  ", "\t\t", "\r\n", "1234", "!!", "'s", "'ll", "<s>", "<|endoftext|>"])),
    max_size=40).map("".join)


@pytest.mark.parametrize(("preset", "digits"), DERIVED_PRESETS)
@settings(max_examples=150, deadline=None)
@given(lines=st.lists(DECIDING_TEXT, max_size=20))
def test_derived_stage1_counts_equal_direct_counts_on_generated_text(preset, digits, lines):
    derived, direct = stage1_counts_both_ways(lines, Pretokenizer.create(preset, split_digits=digits))
    assert derived == direct


def shared_files(shared_data: Path) -> list[Path]:
    return [path for folder in ("mono", "domain", "parallel")
            for path in sorted((shared_data / folder).rglob("*.txt"))]


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize(("preset", "digits"), DERIVED_PRESETS)
def test_derived_stage1_counts_equal_direct_counts_on_every_shared_file(shared_data, preset, digits):
    """The default pre-tokenizer (cl100k) on every file, then all of them at once; the other allowlisted
    ones on every 8th file (each ~75 s of CI for all 709; all were checked once, 0 differences)."""
    pretokenizer = Pretokenizer.create(preset, split_digits=digits)
    files = shared_files(shared_data)
    assert len(files) > 600
    default = (preset, digits) == ("cl100k", False)
    files = files if default else files[::8]
    all_direct: dict = {}
    for path in files:
        lines = list(read_lines([path]))  # the lines as documents, as the CLI reads a file
        derived, direct = stage1_counts_both_ways(lines, pretokenizer)
        assert derived == direct, path
        for piece, count in direct.items():
            all_direct[piece] = all_direct.get(piece, 0) + count
    if default:  # all files at once, in two workers (chunks counted by both, combined)
        derived, _ = stage1_counts_both_ways(read_lines(files), pretokenizer, engine="local", workers=2)
        assert derived == all_direct


@pytest.mark.shared
def test_superword_tokenizer_json_is_the_same_with_derived_stage1_counts(shared_data, monkeypatch):
    lines = list(read_lines(shared_files(shared_data)[::25]))[:60_000]  # several MB of mixed languages and code
    assert sum(map(len, lines)) > 3_000_000
    trainer = SuperwordTrainer(vocab_size=6000, special_tokens=SPECIALS, engine="serial")
    derived = trainer.train(lines).to_tokenizer_json()
    monkeypatch.setattr(superword, "StageTally", partial(StageTally, derive_stage1=False))
    assert trainer.train(lines).to_tokenizer_json() == derived


@pytest.mark.parametrize("workers", [1, 2])
def test_a_lone_surrogate_is_one_clear_error(workers):
    # Most stage-1 counts are derived from the packed pieces of the chunks, which is where the surrogate
    # meets UTF-8 first: one InputError naming it, as bpe gives, not a raw UnicodeEncodeError.
    documents = ["plain text, and more of it"] * 150_000 + ["a \ud800 b"]
    with pytest.raises(TokensmithError, match="lone surrogate .U.D800"):
        SuperwordTrainer(vocab_size=400, workers=workers).train(documents)


def test_chunks_counted_over_many_batches_equal_separate_counting(monkeypatch):
    """The workers count each batch's distinct chunks (UTF-8) into one compiled hash table that grows: with
    batches of 5,000 characters, and the table grown and rehashed while counting, counts and cuts stay exact."""
    from tokensmith.demo_corpora import demo_corpora
    from tokensmith.train import text_table

    lines = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))[:12]
             for line in path.read_text(encoding="utf-8").split("\n")[:400]]
    lines += ["x<s>y  !!", "a  b\t\tc", "x<s>y", "tab\t\tend 12", "x<s", "s>y"]
    rehashed = []
    original = text_table._rehashed

    def counted_rehash(hashes, rows, size):
        rehashed.append(rows)
        return original(hashes, rows, size)

    monkeypatch.setattr(text_table, "_rehashed", counted_rehash)
    monkeypatch.setattr(counting, "BATCH_CHARS", 5_000)
    check_against_separate_counting(lines, "cl100k", "serial")
    assert any(rows > 0 for rows in rehashed)  # grown while counting, with chunks in it


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["<s>", "<", "s", ">", "<|endoftext|>", "|", "é", "x"]), max_size=6)
                .map("".join), max_size=8, unique=True))
def test_chunks_holding_a_special_token_found_in_utf8_as_in_text(texts):
    """A special token's text split over two chunks back to back in the buffer is no chunk's."""
    from tokensmith.train.text_table import TextTable

    expected = superword._holding_special(texts, SPECIALS)
    assert superword._holding_special_utf8(TextTable.from_strings(texts), SPECIALS) == expected


def test_split_digits_holds_in_stage_2_and_in_the_export(tmp_path):
    # Stage 2 used to cut with the plain SuperBPE regex (digit groups of up to 3), so --split-digits held in
    # stage 1 only: superword learnt and exported multi-digit tokens ("\u0662\u0663") and a pre-tokenizer
    # that no longer cut digits apart.
    import unicodedata

    from tokenizers import Tokenizer

    from tokensmith.train.export import mergeable_ranks, merges_rebuild_every_token

    rng = np.random.default_rng(0)
    digits = ["0123456789", "".join(map(chr, range(0x0660, 0x066A))), "".join(map(chr, range(0x0966, 0x0970))),
              "".join(map(chr, range(0xFF10, 0xFF1A)))]

    def line(number: int) -> str:  # Khmer without spaces (consonants, some vowel signs), or numbers in four scripts
        if not number % 2:
            return " ".join("".join(rng.choice(list(script), 3)) for script in digits)
        signs = rng.random(30) < .5
        return "".join(chr(0x1780 + int(rng.integers(52))) + chr(0x17B6 + int(rng.integers(16))) * int(signs[i])
                       for i in range(int(rng.integers(5, 30))))

    def numerals(token: bytes) -> int:
        return sum(unicodedata.category(c).startswith("N") for c in token.decode("utf-8", "replace"))

    lines = [line(number) for number in range(1200)]
    trained = SuperwordTrainer(vocab_size=800, split_digits=True, engine="serial").train(lines)
    assert max(map(numerals, trained.vocab)) == 1
    files = trained.save(tmp_path / "tok")
    encoder = Tokenizer.from_file(str(files["tokenizer.json"]))
    for text in lines[:50]:
        ids = encoder.encode(text).ids
        assert encoder.decode(ids) == text
        assert max(numerals(trained.vocab[i]) for i in ids) <= 1
    # Khmer superword tokens here are not rebuilt by their merges, so tiktoken would encode otherwise:
    # with split digits (ranks with a null pat_str) the ranks are left out, as they are without
    assert not merges_rebuild_every_token(trained.to_tokenizer_json(), mergeable_ranks(trained))
    assert "tokenizer.tiktoken" not in files and not (tmp_path / "tok" / "tokenizer.tiktoken").exists()


def test_pieces_encoded_ahead_with_the_first_merges_equal_encoding_with_all_at_once():
    """Stage 2's pieces are encoded with the merges stage 1 has learned so far while it learns the rest:
    going on from there with the others gives HF's encoding with all of them; snapshots that are not a
    prefix of the final merges, or merges that make a string twice, are not used."""
    import queue

    from tokensmith.demo_corpora import demo_corpora

    lines = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))[:8]
             for line in path.read_text(encoding="utf-8").split("\n")[:500] if line]
    stage1 = BpeTrainer(vocab_size=3000, special_tokens=SPECIALS, pretokenizer="cl100k", engine="serial").train(lines)
    pretokenizer = Pretokenizer.create("cl100k")
    pieces = list(dict.fromkeys(piece for line in lines for piece in pretokenizer.split(line)))
    merges = np.array(stage1.merge_ids, dtype=np.int64).reshape(-1, 3)
    expected_symbols, expected_lengths = superword._hf_encode_words(pieces, stage1)

    def encoded_ahead(snapshots, final=merges):
        ahead = superword._EncodingAhead(pieces, SPECIALS)
        for snapshot in snapshots:  # as stage 1 reports, one at a time
            learned = queue.Queue()
            learned.put(np.asarray(snapshot, dtype=np.int32))
            learned.put(None)
            ahead.follow(learned)
        return ahead.finish(final, threads=2)

    for steps in ([1], [700], [100, 900, 2000], [len(merges)]):
        symbols, offsets = encoded_ahead([merges[:k] for k in steps])
        assert symbols.tolist() == expected_symbols.tolist() and np.diff(offsets).tolist() == expected_lengths.tolist()
    other = merges[:50].copy()
    other[[3, 4]] = other[[4, 3]]
    assert encoded_ahead([other]) is None  # not what stage 1 ended with
    twice = np.concatenate([merges, [[merges[0, 0], merges[0, 1], merges[-1, 2] + 1]]])
    assert encoded_ahead([merges[:100]], final=twice) is None  # a pair merged twice: HF's own loop decides
    assert encoded_ahead([]) is None


@pytest.mark.parametrize("special", [" ", "🙂", "<｜end▁of▁sentence｜>"])
def test_special_tokens_in_the_text_never_merge_in_stage_2(tmp_path, special):
    """A special token held by a stage-2 chunk is no part of a merge: HF cuts it out before the merges apply,
    and one spelled outside the byte alphabet (" ", "🙂") wrote merges whose result the vocabulary lacked, so
    the tokenizer.json did not load."""
    from tokenizers import Tokenizer

    from tokensmith.demo_corpora import demo_corpora

    lines = [line for path in sorted(Path(demo_corpora()["parallel"]).glob("*.txt"))[:4]
             for line in path.read_text(encoding="utf-8").split("\n")[:300] if line]
    lines = [f"{line} {special}{special} {line[:20]}{special}" for line in lines]  # the text holds it everywhere
    trained = SuperwordTrainer(vocab_size=1500, special_tokens=(special,), engine="serial").train(lines)
    special_id = dict(trained.special_tokens)[special]
    assert not [merge for merge in trained.merge_ids if special_id in merge[:2]]
    trained.save(tmp_path / "tok")
    loaded = Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer.json"))
    for line in lines[::50]:
        ids = loaded.encode(line, add_special_tokens=False).ids
        assert special_id in ids and loaded.decode(ids, skip_special_tokens=False) == line


def test_stage_1_stops_soon_after_the_waiting_thread_gives_up(monkeypatch):
    # Ctrl-C reached the main thread while stage 1 learnt its merges on a thread: leaving the thread pool
    # waited for the whole of stage 1 (3-5 s on 33 MB at 150k; minutes on a large corpus) before the
    # command could stop.
    import time

    from _django_text import django_translations

    from tokensmith.train import bpe

    class GaveUp(Exception):
        pass

    def give_up_at_the_first_report(self, learned):
        learned.get()
        raise GaveUp

    reports = []

    def progress(stage, done, total):
        if stage == "merge":
            reports.append(done)
            if len(reports) == 2:
                time.sleep(1.0)  # time for the main thread to give up before stage 1's next report

    monkeypatch.setattr(bpe, "_MERGES_PER_REPORT", 20)
    monkeypatch.setattr(superword._EncodingAhead, "follow", give_up_at_the_first_report)
    lines = [line for locale in ("de", "fr", "ru") for line in django_translations(locale)] * 2
    with pytest.raises(GaveUp):
        SuperwordTrainer(vocab_size=1000, transition=900, engine="serial").train(lines, progress=progress)
    assert reports == [20, 40]  # stage 1 would have gone on to 900 - 257 merges
