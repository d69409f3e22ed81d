"""The held-out sample of `tokensmith train`: which documents it takes, and that training never sees them."""

from __future__ import annotations

from tokensmith.corpus import open_corpus
from tokensmith.train_command import HOLDOUT_BYTES, _HoldoutSplit

#: One line per language, repeated in this order: a corpus that cycles with a period of 4, which divides 100.
CYCLE = ["ሰላም ለዓለም፤ እንዴት ነህ? ኢትዮጵያ ውብ አገር ናት።",
         "გამარჯობა, როგორ ხარ? საქართველო ლამაზი ქვეყანაა.",
         "ᐊᐃᖓᐃ, ᖃᓄᐃᑉᐱᑦ? ᐃᓄᒃᑎᑐᑦ ᐅᖃᐅᓯᖅ ᐱᐅᔪᖅ.",
         "Tiếng Việt có nhiều dấu thanh. Hà Nội là thủ đô của Việt Nam."]


def _cycling_corpus(tmp_path, repeats: int):
    path = tmp_path / "cycle.txt"
    path.write_text("\n".join(CYCLE * repeats) + "\n", encoding="utf-8")
    return open_corpus(str(path))


def test_a_corpus_cycling_through_languages_is_held_out_in_every_language(tmp_path):
    # Every 100th document was held out: a corpus cycling through 4 languages gave a held-out sample in
    # one language only, so the summary's bytes/token described Vietnamese alone.
    split = _HoldoutSplit([_cycling_corpus(tmp_path, 1000)], HOLDOUT_BYTES)
    list(split)
    assert set(split.held_out) == set(CYCLE)


def test_training_reads_everything_not_held_out_and_the_split_repeats(tmp_path):
    corpus = _cycling_corpus(tmp_path, 1000)
    split = _HoldoutSplit([corpus], HOLDOUT_BYTES)
    trained_on = list(split)
    held_out = list(split.held_out)
    assert 0 < len(held_out) < len(trained_on) / 20
    assert len(trained_on) + len(held_out) == 4000
    assert sorted(trained_on + held_out) == sorted(corpus.iter_documents())
    again = list(split)  # read again (as a resumed run reads it for the sample alone): the same split
    assert again == trained_on and split.held_out == held_out
    assert split.held_out_bytes == sum(len(document.encode()) for document in held_out)


def test_the_held_out_sample_stops_at_its_byte_budget(tmp_path):
    split = _HoldoutSplit([_cycling_corpus(tmp_path, 1000)], max_bytes=300)
    trained_on = list(split)
    longest = max(len(line.encode()) for line in CYCLE)
    assert 300 - longest < split.held_out_bytes <= 300
    assert len(trained_on) + len(split.held_out) == 4000


def test_a_large_document_drawn_is_trained_on_not_held_out_past_the_budget(tmp_path):
    # A corpus of a few large documents: the first one drawn (the 41st, with seed 0) went out whole, 5 MB
    # past a 2 MB budget, leaving the trainer 1% of the text.
    path = tmp_path / "few_large.txt"
    large = "Ọ̀rọ̀ Yorùbá ní àmì ohùn; " * 200_000  # 5.4 MB in one line
    lines = [f"ìwé kékeré {i}" for i in range(40)] + [large] + [f"ìwé kékeré {i}" for i in range(40, 60)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    split = _HoldoutSplit([open_corpus(str(path))], HOLDOUT_BYTES)
    trained_on = list(split)
    assert large in trained_on and large not in split.held_out
    assert split.held_out_bytes <= HOLDOUT_BYTES


def test_a_corpus_too_small_for_a_sample_says_so_and_claims_no_unk_share(tmp_path, capsys):
    # 30 documents drew no held-out document: the table showed "0 kB, 0 documents" beside n/a figures, and
    # results.json an UNK share of 0.0 for text that was never encoded.
    import json

    from tokensmith.cli import main

    corpus = _cycling_corpus(tmp_path, 8)  # 32 lines
    results = tmp_path / "train.json"
    code = main(["train", "-c", str(corpus.sources[0]), "-v", "300", "--compare", "gpt2", "--out",
                 str(tmp_path / "tok"), "--results", str(results)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "none (1% of 32 documents drew none)" in captured.out
    held_out = json.loads(results.read_text(encoding="utf-8"))["sections"]["train"]["summary"]["held_out"]
    assert held_out["documents"] == 0
    assert held_out["unk_rate"] == {"trained": None, "gpt2": None}
    assert held_out["bytes_per_token"] == {"trained": None, "gpt2": None}
