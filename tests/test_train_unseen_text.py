"""Training on text and languages that are not in ../shared/data: Django's catalogues of Burmese, Urdu,
Amharic, Armenian, Kyrgyz, Sorani... (installed with the pinned Django by `make test`), and edge texts.

Each test compares what training did with what HF ``tokenizers`` (and tiktoken) do with the exported files.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import django
import pytest
import regex
from tokenizers import Regex, Tokenizer, pre_tokenizers

from tokensmith.cli import main
from tokensmith.errors import InputError
from tokensmith.tokenizers.bytemaps import byte_level_to_bytes
from tokensmith.train import BpeTrainer, ExtendTrainer, SuperwordTrainer
from tokensmith.train.export import TIKTOKEN_CONFIG, TIKTOKEN_RANKS, TOKENIZER_JSON, tiktoken_encoding
from tokensmith.train.pretokenize import Pretokenizer

#: Languages of Django's catalogues that ../shared/data does not hold, in scripts it does not hold either.
UNSEEN = ("my", "ur", "am", "hy", "ky", "ckb", "ka", "sw", "tt")
DJANGO = Path(django.__file__).parent


def catalogue_lines(lang: str) -> list[str]:
    from tokensmith.corpus.po import read_po

    lines = []
    for catalogue in sorted(DJANGO.glob(f"**/locale/{lang}/LC_MESSAGES/django.po")):
        for entry in read_po(catalogue):
            if entry.translated:
                lines += [line for form in entry.msgstrs for line in form.splitlines() if line.strip()]
    assert lines, lang
    return lines


@pytest.fixture(scope="module")
def unseen() -> dict[str, list[str]]:
    return {lang: catalogue_lines(lang) for lang in UNSEEN}


@pytest.fixture(scope="module")
def training_text(unseen) -> list[str]:
    """Every 5th line held out; the rest plus NFD copies (combining marks) to train on."""
    lines = [line for lang in UNSEEN for i, line in enumerate(unseen[lang]) if i % 5]
    return lines + [unicodedata.normalize("NFD", line) for line in lines[::7]]


@pytest.fixture(scope="module")
def held_out(unseen) -> list[str]:
    return [line for lang in UNSEEN for i, line in enumerate(unseen[lang]) if i % 5 == 0]


def hf_pieces(pattern: str, text: str) -> list[str]:
    return [piece for piece, _ in pre_tokenizers.Split(Regex(pattern), "isolated").pre_tokenize_str(text)]


@pytest.mark.parametrize("pattern", [r"(?=\p{Lu})|\p{L}+|\s+|.", r"\b|\p{L}+|\p{N}+|\s+|.", r"(?<=\s)|\p{L}+|."])
def test_a_regex_that_matches_empty_inside_text_is_refused(pattern, unseen):
    # Such a regex passed the check on "" alone: counting skipped its empty matches while HF's Split
    # cuts at each one, so training counted other pre-tokens than the tokenizer.json makes, and the
    # tiktoken.json written beside it made tiktoken panic or lose text.
    text = " ".join(unseen["hy"][:50])
    counted = [m.group() for m in regex.finditer(pattern, text) if m.group()]
    assert hf_pieces(pattern, text) != counted  # what went wrong before: the two cuts differ
    with pytest.raises(InputError, match="matches the empty string"):
        BpeTrainer(vocab_size=300, regex=pattern)


@pytest.mark.parametrize("pattern, says", [
    (r"\p{Script=Latin}+|\p{L}+|\s+|.", "does not compile in HF tokenizers"),  # Python regex only
    (r"(?|(\p{L}+)|(\p{N}+))|\s+|.", "does not compile in HF tokenizers"),  # branch reset
    (r"\X", "cuts text differently"),  # graphemes: another Unicode version in Oniguruma
    (r"\m\p{L}+|\s+|.", "cuts text differently"),  # \m: word start in Python, a literal m in Oniguruma
    (r"\N+|\n", "cuts text differently"),  # \N: a literal N in Python, any character but \n in Oniguruma
    (r"\s+$|\s+|\S+", "cuts text differently"),  # $: end of text in Python, end of any line in Oniguruma
    (r"\N{LATIN SMALL LETTER A}|[^a]", "cuts text differently"),  # a named character in Python only
])
def test_a_regex_the_tokenizer_json_engine_reads_otherwise_is_refused_before_training(pattern, says, tmp_path,
                                                                                      capsys):
    # The first two trained in full, then failed on saving with an error about a temporary folder; the
    # last two gave a tokenizer.json that cut text other than training had (and \X a tiktoken.json that
    # tiktoken could not load).
    with pytest.raises(InputError, match=says):
        BpeTrainer(vocab_size=300, regex=pattern)
    corpus = tmp_path / "my.txt"
    corpus.write_text("\n".join(catalogue_lines("my")) + "\n", encoding="utf-8")
    out = tmp_path / "tok"
    code = main(["train", "-c", str(corpus), "-v", "300", "--regex", pattern, "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err, err
    assert err.startswith("error: ") and "\nerror: " not in err, err  # one message
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["my.txt"]


@pytest.mark.parametrize("pattern", [r"\p{L}+|\p{N}+|[^\s\p{L}\p{N}]+|\s+", r"(\p{L}+)|\s+|.", r"[^\s\p{P}]+|\s+|."])
def test_an_accepted_regex_cuts_unseen_languages_as_hf_does(pattern, unseen):
    pretokenizer = Pretokenizer.create(regex_pattern=pattern)
    for lang in UNSEEN:
        for line in unseen[lang]:
            assert pretokenizer.split(line) == hf_pieces(pattern, line), (lang, line)


def tiktoken_from_files(directory: Path):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    config = json.loads((directory / TIKTOKEN_CONFIG).read_text(encoding="utf-8"))
    return tiktoken.Encoding(name="trained", pat_str=config["pat_str"],
                             mergeable_ranks=load_tiktoken_bpe(str(directory / config["ranks_file"])),
                             special_tokens=config["special_tokens"])


def disagreements(encoding, reference: Tokenizer, texts: list[str]) -> list[str]:
    ours = [encoding.encode(text, allowed_special="all") for text in texts]
    theirs = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    return [text for text, a, b in zip(texts, ours, theirs, strict=True) if a != b]


def check_saved(directory: Path, held_out: list[str]) -> bool:
    """Round trips in HF; tiktoken files, when written, encode every held-out line as HF does.
    Returns whether they were written."""
    reference = Tokenizer.from_file(str(directory / TOKENIZER_JSON))
    for text in held_out:
        assert reference.decode(reference.encode(text, add_special_tokens=False).ids) == text
    if not (directory / TIKTOKEN_RANKS).exists():
        assert not (directory / TIKTOKEN_CONFIG).exists()
        return False
    encoding = tiktoken_from_files(directory)
    assert disagreements(encoding, reference, held_out) == []
    assert all(encoding.decode(encoding.encode(text, allowed_special="all")) == text for text in held_out)
    return True


def test_tiktoken_files_are_written_only_when_tiktoken_encodes_as_the_tokenizer_json(training_text, held_out,
                                                                                    tmp_path):
    # superword merges are learnt on stage-1 pieces: tiktoken, which merges any two tokens that make a
    # token, joined " %" + "s" where the merges give " " + "%s". Its tiktoken files encoded unseen
    # languages differently from its tokenizer.json (and so did `extend` of it).
    superword = SuperwordTrainer(vocab_size=1400, min_frequency=2, engine="serial").train(training_text)
    reference = Tokenizer.from_str(superword.to_tokenizer_json())
    assert disagreements(tiktoken_encoding(superword), reference, held_out)  # ranks alone cannot say it
    assert not check_saved(Path(superword.save(tmp_path / "superword")[TOKENIZER_JSON]).parent, held_out)

    extended = ExtendTrainer(base=str(tmp_path / "superword" / TOKENIZER_JSON), vocab_size=1600).train(held_out)
    assert not check_saved(Path(extended.save(tmp_path / "extended")[TOKENIZER_JSON]).parent, held_out)

    # plain BPE keeps its tiktoken form, equal to HF on every unseen language
    plain = BpeTrainer(vocab_size=1400, engine="serial").train(training_text)
    assert check_saved(Path(plain.save(tmp_path / "bpe")[TOKENIZER_JSON]).parent, held_out)


def test_a_regex_tiktoken_reads_otherwise_writes_no_tiktoken_files(training_text, held_out, tmp_path):
    # [[:alpha:]] is Unicode in Python regex and Oniguruma, ASCII in tiktoken's fancy-regex: the
    # tiktoken files cut Armenian "ե՞ք" as one piece and encoded it with other ids.
    pattern = r"[[:alpha:]]+|\s+"
    trained = BpeTrainer(vocab_size=1000, regex=pattern, engine="serial").train(training_text)
    reference = Tokenizer.from_str(trained.to_tokenizer_json())
    assert disagreements(tiktoken_encoding(trained), reference, held_out)
    assert not check_saved(Path(trained.save(tmp_path / "tok")[TOKENIZER_JSON]).parent, held_out)


@pytest.mark.parametrize("limit", [3, 6])
def test_superword_max_token_length_bounds_stage_two_tokens_too(limit, training_text, tmp_path):
    # stage 2 only knew max_superword_bytes: with max_token_length=3 it made Armenian tokens of 20 bytes.
    trained = SuperwordTrainer(vocab_size=1200, max_token_length=limit, min_frequency=2,
                               engine="serial").train(training_text)
    spec = json.loads(trained.to_tokenizer_json())
    specials = {token["content"] for token in spec["added_tokens"]}
    lengths = [len(byte_level_to_bytes(text)) for text in spec["model"]["vocab"] if text not in specials]
    assert max(lengths) == limit and len(spec["model"]["vocab"]) == 1200


def test_an_empty_match_the_probe_text_does_not_reveal_stops_counting(unseen):
    # (?=ဆ) matches empty only before a Burmese letter the up-front check never sees: counting meets it.
    pattern = r"(?=ဆ)|[\p{L}\p{M}]+|\s+|."
    burmese = [line for line in unseen["my"] if "ဆ" in line]
    without = Pretokenizer.create(regex_pattern=r"[\p{L}\p{M}]+|\s+|.")
    # HF cuts before every ဆ inside a word, which the old counting did not
    assert burmese and any(hf_pieces(pattern, line) != without.split(line) for line in burmese)
    trainer = BpeTrainer(vocab_size=300, regex=pattern, engine="serial")
    with pytest.raises(InputError, match="matches the empty string"):
        trainer.train(unseen["my"])


def test_a_word_class_regex_is_refused_with_the_class_both_engines_share(unseen, tmp_path, capsys):
    # \w takes ZWNJ in Python regex but not in Oniguruma: Sorani words with a ZWNJ were one pre-token in
    # training and three in the tokenizer.json.
    pattern, shared_class = r"\w+|\s+|[^\w\s]+", r"[\p{L}\p{M}\p{Nd}\p{Pc}]+|\s+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+"
    sorani = [line for line in unseen["ckb"] if "\u200c" in line]
    python_regex = Pretokenizer(name="custom", pattern=pattern)  # built past the checks, as before
    assert sorani and any(python_regex.split(line) != hf_pieces(pattern, line) for line in sorani)
    corpus = tmp_path / "ckb.txt"
    corpus.write_text("\n".join(unseen["ckb"]) + "\n", encoding="utf-8")
    code = main(["train", "-c", str(corpus), "-v", "300", "--regex", pattern, "-o", str(tmp_path / "tok"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "cuts text differently" in err and shared_class.split("+")[0] in err, err
    suggested = Pretokenizer.create(regex_pattern=shared_class)
    for lang in UNSEEN:
        for line in unseen[lang]:
            assert suggested.split(line) == hf_pieces(shared_class, line), (lang, line)


@pytest.mark.parametrize("min_frequency", [0, 1])
def test_a_tiny_corpus_stops_saying_no_pair_is_left(min_frequency, unseen):
    # Once every pair was merged away, the loop met a stale pair of count 0 and said "the most frequent
    # pair is below min_frequency", which cannot be with min_frequency 0 or 1.
    line = next(line for line in unseen["hy"] if len(line.split()) >= 3)
    trained = BpeTrainer(vocab_size=5000, min_frequency=min_frequency, engine="serial").train([line] * 3)
    assert trained.stats.stop_reason == "no pair left to merge"
    assert 257 < trained.vocab_size < 5000
    # the same merges as HF's trainer, which also stops when it runs out of pairs
    from tokenizers import trainers

    reference = Tokenizer.from_str(trained.to_tokenizer_json())
    hf_trainer = trainers.BpeTrainer(vocab_size=5000, min_frequency=min_frequency, show_progress=False,
                                     special_tokens=["<|endoftext|>"],
                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    reference.train_from_iterator([line] * 3, hf_trainer)
    assert json.loads(reference.to_str())["model"]["merges"] == json.loads(trained.to_tokenizer_json())["model"][
        "merges"]


def test_extend_keeps_the_ids_hf_reads_for_added_tokens_beyond_the_model_vocabulary(held_out, tmp_path):
    # DeepSeek-V4 keeps 1,280 added tokens after its 128,000 merged ones, outside the model's vocabulary.
    # HF gives such a token the next id after the model's size, whatever the file says: after extend,
    # every one moved up by the number of new tokens, onto the new tokens' ids, and Burmese text decoded
    # to placeholders ('<|place_holder_mm_span_0228|>').
    from tokensmith.tokenizers import load_tokenizer

    base_file = tmp_path / "deepseek-v4.json"  # its tokenizer.json, which extend takes as it is
    base_file.write_text(load_tokenizer("deepseek-v4").backend_tokenizer.to_str(), encoding="utf-8")
    base = Tokenizer.from_file(str(base_file))
    base_size = base.get_vocab_size(with_added_tokens=True)
    extended = ExtendTrainer(base=str(base_file), vocab_size=base_size + 200).train(held_out)
    extended.save(tmp_path / "tok")
    loaded = Tokenizer.from_file(str(tmp_path / "tok" / TOKENIZER_JSON))
    ours = loaded.get_vocab(with_added_tokens=True)
    assert {text: ours.get(text) for text in base.get_vocab(with_added_tokens=True)} == base.get_vocab(
        with_added_tokens=True)
    assert loaded.get_vocab_size(with_added_tokens=True) == base_size + 200
    for text in held_out:
        assert loaded.decode(loaded.encode(text, add_special_tokens=False).ids) == text


def test_extend_takes_cl100k_whose_regex_is_spelt_the_tiktoken_way(held_out, tmp_path):
    # tiktoken's cl100k regex says \p{N}{1,3}+, which Oniguruma reads as runs of runs; the cl100k preset
    # is its rewrite that every engine reads alike, but extend did not know it by tiktoken's spelling and
    # refused cl100k as "cannot be written as a tokenizer.json that encodes exactly as it does".
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.tokenizers.bytemaps import bytes_to_byte_level

    base = load_tokenizer("cl100k")
    extended = ExtendTrainer(base="cl100k", vocab_size=base.vocab_size + 100).train(held_out)
    assert check_saved(Path(extended.save(tmp_path / "tok")[TOKENIZER_JSON]).parent, held_out)
    vocab = Tokenizer.from_file(str(tmp_path / "tok" / TOKENIZER_JSON)).get_vocab(with_added_tokens=True)
    kept = {token_id: vocab.get(bytes_to_byte_level(token)) for token_id, token in enumerate(base.all_token_bytes)
            if token}
    assert kept == {token_id: token_id for token_id in kept} and len(kept) > 100_000
    assert all(vocab[special.text] == special.id for special in base.special_tokens)


@pytest.mark.parametrize("min_frequency, reason", [
    (1, "no pair left to merge"), (3, "the most frequent pair of every language is below min_frequency")])
def test_a_tiny_parity_corpus_stops_with_its_own_reason(min_frequency, reason, unseen):
    # Pure parity merges on one Armenian and one Kyrgyz line: once every language ran out of pairs the
    # trainer said they were all below min_frequency, even with min_frequency 1.
    from tokensmith.train import ParityTrainer

    armenian, kyrgyz = unseen["hy"][5], unseen["ky"][5]
    trained = ParityTrainer(vocab_size=5000, min_frequency=min_frequency, global_share=0.0, engine="serial").train(
        {"hy": [armenian] * 2, "ky": [kyrgyz] * 2}, dev_documents={"hy": [armenian], "ky": [kyrgyz]})
    assert trained.stats.stop_reason == reason and trained.vocab_size < 5000
    reference = Tokenizer.from_str(trained.to_tokenizer_json())
    assert trained.stats.dev_tokens_after == {lang: len(reference.encode(text, add_special_tokens=False).ids)
                                              for lang, text in (("hy", armenian), ("ky", kyrgyz))}
