"""The parity trainer: its merge loop against a plain-Python reference, and parity on real parallel text."""

from __future__ import annotations

import json
from collections import deque
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tokensmith.errors import CorpusError, InputError, UnknownNameError
from tokensmith.metrics.corpus_metrics import gini
from tokensmith.train import BpeTrainer, ParityTrainer, train_from_files

tokenizers = pytest.importorskip("tokenizers")

#: Eight languages in seven scripts.
LANGS = ("ar", "de", "en", "hi", "ja", "ko", "ru", "th")
VOCAB = 8000


# ---- the merge loop against a recount-everything reference


def reference_parity(words, train, dev, contents, vocab_size, *, min_frequency=0, global_merges=0, max_units=None,
                     window_size=0, alpha=2):
    """Parity-aware BPE the slow, obvious way: recount every pair and dev length before each merge.

    words: symbol lists; train/dev: per word {language: count}; contents: bytes of each initial id.
    window_size > 0: the moving-window rule as the paper's code states it: a language is admitted while
    (its choices among the last window_size parity merges) / window_size <= alpha / L (exact fractions);
    if no open language is admitted, the longest open one chooses.
    """
    words = [list(w) for w in words]
    n_langs = 1 + max(lang for counts in train + dev for lang in counts)
    contents = list(contents)
    ids: dict[bytes, int] = {}
    for i, content in enumerate(contents):
        ids.setdefault(content, i)
    units = [len(c) for c in contents]
    merges, chosen, exhausted = [], [], set()
    recent: deque[int] = deque(maxlen=window_size or None)
    while len(contents) < vocab_size:
        dev_length = [sum(len(w) * d.get(lang, 0) for w, d in zip(words, dev, strict=True)) for lang in range(n_langs)]
        while True:
            if len(merges) < global_merges:
                chooser = n_langs
            else:
                open_langs = [lang for lang in range(n_langs) if lang not in exhausted]
                if not open_langs:
                    return merges, contents, chosen
                admitted = [lang for lang in open_langs
                            if Fraction(recent.count(lang), window_size) <= Fraction(alpha) / n_langs] \
                    if window_size else []
                chooser = max(admitted or open_langs, key=lambda lang: (dev_length[lang], -lang))
            counts: dict[tuple[int, int], int] = {}
            for w, t in zip(words, train, strict=True):
                count = sum(t.values()) if chooser == n_langs else t.get(chooser, 0)
                for pair in zip(w, w[1:], strict=False):
                    if max_units is None or units[pair[0]] + units[pair[1]] <= max_units:
                        counts[pair] = counts.get(pair, 0) + count
            counts = {pair: count for pair, count in counts.items() if count > 0}
            if counts and max(counts.values()) >= max(1, min_frequency):
                best = min(counts, key=lambda pair: (-counts[pair], pair))
                break
            if chooser == n_langs:
                return merges, contents, chosen
            exhausted.add(chooser)
        left, right = best
        content = contents[left] + contents[right]
        if content not in ids:
            ids[content] = len(contents)
            contents.append(content)
            units.append(units[left] + units[right])
        new = ids[content]
        merges.append((left, right, new))
        chosen.append(chooser)
        if chooser < n_langs:
            recent.append(chooser)
        for k, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == left and w[i + 1] == right:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[k] = out
    return merges, contents, chosen


@pytest.mark.parametrize("seed", range(8))
def test_merge_loop_equals_the_reference(seed):
    from tokensmith.train import parity_core

    rng = np.random.default_rng(seed)
    n_langs, n_words = 3 + seed % 3, 300
    words = [list(rng.integers(0, 5, size=rng.integers(1, 11))) for _ in range(n_words)]
    train, dev = [], []
    for _ in range(n_words):
        t = {lang: int(rng.integers(1, 30)) for lang in range(n_langs) if rng.random() < 0.4}
        d = {lang: int(rng.integers(1, 5)) for lang in range(n_langs) if rng.random() < 0.3}
        train.append(t if t or d else {0: 1})
        dev.append(d)
    contents = [b"a", b"b", b"c", b"d", b"e"]
    options = {"min_frequency": 3 * (seed % 2), "global_merges": 6 * (seed % 3), "max_units": 6 if seed > 5 else None}
    window = {"window_size": (0, 5, 12, 4)[seed % 4], "alpha": (2, 1, 1.5, 2)[seed % 4]}
    expected = reference_parity(words, train, dev, contents, 160, **options, **window)
    state = _parity_state(words, train, dev, n_langs, contents, max_units=options["max_units"])
    while state.stop_reason == "running":  # small steps, so pausing and array growth are exercised too
        parity_core.run_parity_merges(state, vocab_size=160, min_frequency=options["min_frequency"],
                                      global_merges=options["global_merges"], max_merges=9, **window)
    merges = [tuple(row) for row in state.learned_merges().tolist()]
    assert merges == expected[0]
    assert [state.token(i) for i in range(state.n_tokens)] == expected[1]
    assert state.chosen_by().tolist() == expected[2]


@pytest.mark.parametrize("global_merges", [0, 1, 7, 25])
def test_cells_counted_at_the_first_parity_merge_equal_the_pair_counts_of_each_language(global_merges):
    # Global merges leave the per-language cells alone; the first parity merge counts them from the
    # words as they are then. They must hold each language's pair counts, and the language heaps
    # every pair with a positive count.
    from tokensmith.train import parity_core

    rng = np.random.default_rng(global_merges)
    n_langs, n_words = 4, 200
    words = [list(rng.integers(0, 6, size=rng.integers(1, 9))) for _ in range(n_words)]
    entry_start, entry_lang, entry_train, entry_dev = [0], [], [], []
    for _ in range(n_words):
        langs = sorted(rng.choice(n_langs, size=rng.integers(1, 3), replace=False).tolist())
        for lang in langs:
            entry_lang.append(lang)
            entry_train.append(int(rng.integers(0, 20)))  # 0: the word is in that language's dev set only
            entry_dev.append(int(rng.integers(0, 3)))
        entry_start.append(len(entry_lang))
    state = parity_core.build_parity_state(
        np.array([s for w in words for s in w], dtype=np.int32),
        np.concatenate([[0], np.cumsum([len(w) for w in words])]),
        np.array(entry_start), np.array(entry_lang), np.array(entry_train), np.array(entry_dev), n_langs,
        [bytes([ord("a") + i]) for i in range(6)], [1] * 6, max_units=3,
    )
    # Up to the merge before the first parity merge, then the first parity merge (which counts the cells).
    parity_core.run_parity_merges(state, vocab_size=100, global_merges=global_merges, max_merges=global_merges)
    assert state.scalars[parity_core.CELLS_CURRENT] == 0
    parity_core.run_parity_merges(state, vocab_size=100, global_merges=global_merges, max_merges=1)
    assert state.scalars[parity_core.CELLS_CURRENT] == 1
    # The counts the cells must hold now, from the words after the merges (the one parity merge included).
    expected: dict[tuple[int, int, int], int] = {}
    for w in range(n_words):
        start, length = state.word_start[w], state.word_len[w]
        symbols = state.symbols[start: start + length].tolist()
        for left, right in zip(symbols, symbols[1:], strict=False):
            if state.token_units[left] + state.token_units[right] > 3:
                continue
            for e in range(entry_start[w], entry_start[w + 1]):
                if entry_train[e]:
                    key = (left, right, entry_lang[e])
                    expected[key] = expected.get(key, 0) + entry_train[e]
    cells = {}
    for cell in range(state.scalars[parity_core.N_CELLS]):
        if state.cell_count[cell]:
            pair = state.slot_key[state.cell_key[cell] >> parity_core.LANG_BITS]
            cells[(int(pair >> 32), int(pair & 0xFFFFFFFF), int(state.cell_key[cell] & parity_core.MAX_LANGUAGES))] = \
                int(state.cell_count[cell])
    assert cells == expected
    for lang in range(n_langs):
        base, size = state.heap_base[lang], state.heap_size[lang]
        in_heap = {int(pair) for pair in state.heap_pair[base: base + size]}
        assert {(left << 32) | right for left, right, cell_lang in expected if cell_lang == lang} <= in_heap


def _learnt_both_ways(trainer, symbols, offsets, word_table, n_langs, monkeypatch):
    """``trainer.learn_merges`` with the global merges learnt by the classic loop and by the parity loop;
    checks the classic loop really did them (a re-created token would send it to the parity loop)."""
    from tokensmith.train import parity

    classic_results = []
    classic_merges = parity.ParityTrainer._classic_merges

    def spied(*args, **kwargs):
        classic_results.append(classic_merges(*args, **kwargs))
        return classic_results[-1]

    monkeypatch.setattr(parity.ParityTrainer, "_classic_merges", spied)
    fast = trainer.learn_merges(symbols.copy(), offsets, word_table, n_langs)
    assert len(classic_results) == 1 and classic_results[0] is not None
    slow = trainer.learn_merges(symbols.copy(), offsets, word_table, n_langs, classic_global_phase=False)
    assert len(classic_results) == 1
    return fast, slow


def _same_run(fast, slow) -> None:
    assert fast.learned_merges().tolist() == slow.learned_merges().tolist()
    assert [fast.token(i) for i in range(fast.n_tokens)] == [slow.token(i) for i in range(slow.n_tokens)]
    assert fast.chosen_by().tolist() == slow.chosen_by().tolist()
    assert fast.dev_length.tolist() == slow.dev_length.tolist()
    assert fast.stop_reason == slow.stop_reason


@pytest.mark.parametrize("seed", range(6))
def test_global_merges_by_the_classic_loop_equal_the_parity_loops(seed, monkeypatch):
    # The trainer learns the hybrid's global merges with merge_core's loop and builds the parity state
    # from the words it leaves; the parity loop's own global merges (checked against the reference
    # above) must come out the same: merges, tokens, who chose, dev lengths. Dev-only words (training
    # count 0) must follow every merge in the classic loop too.
    rng = np.random.default_rng(100 + seed)
    n_langs, n_words = 3, 250
    words = [list(rng.integers(0, 5, size=rng.integers(1, 12))) for _ in range(n_words)]
    entry_start, entry_lang, entry_train, entry_dev = [0], [], [], []
    for w in range(n_words):
        for lang in sorted(rng.choice(n_langs, size=rng.integers(1, 3), replace=False).tolist()):
            entry_lang.append(lang)
            entry_train.append(0 if w % 4 == 0 else int(rng.integers(1, 30)))  # every 4th word: dev only
            entry_dev.append(int(rng.integers(1, 4)) if w % 4 == 0 else int(rng.integers(0, 3)))
        entry_start.append(len(entry_lang))
    offsets = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)
    symbols = np.array([s for w in words for s in w], dtype=np.int32)
    trainer = ParityTrainer(vocab_size=257 + 1 + 60, global_merges=(5, 20, 40, 1, 60, 30)[seed],
                            min_frequency=2 * (seed % 2), max_token_length=4 if seed >= 4 else None,
                            window_size=7, alpha=1.5)
    table = tuple(np.array(column) for column in (entry_start, entry_lang, entry_train, entry_dev))
    fast, slow = _learnt_both_ways(trainer, symbols, offsets, table, n_langs, monkeypatch)
    _same_run(fast, slow)


def test_word_table_equals_a_dict_of_every_pretoken():
    from tokensmith.train.counting import PretokenCounts
    from tokensmith.train.parity import _word_table

    rng = np.random.default_rng(0)
    alphabet = [b"a", b"b", b" c", b"\xc3\xa9", b"1"]

    def table(n):
        pieces = {b"".join(rng.choice(alphabet, size=rng.integers(1, 4)).tolist()): int(rng.integers(1, 9))
                  for _ in range(n)}
        return PretokenCounts(tuple(sorted(pieces)), np.array([pieces[p] for p in sorted(pieces)], dtype=np.int64))

    train = [table(40), table(5), table(60)]
    dev = [table(10), table(0), table(30)]
    words, entry_start, entry_lang, entry_train, entry_dev = _word_table(train, dev)
    assert list(words) == sorted({p for t in train + dev for p in t.pretokens})
    found = {}
    for w, word in enumerate(words):
        for e in range(entry_start[w], entry_start[w + 1]):
            found[(word, int(entry_lang[e]))] = (int(entry_train[e]), int(entry_dev[e]))
    expected = {}
    for lang in range(3):
        for word in set(train[lang].pretokens) | set(dev[lang].pretokens):
            expected[(word, lang)] = (train[lang].as_dict().get(word, 0), dev[lang].as_dict().get(word, 0))
    assert found == expected
    assert all(np.diff(entry_lang[entry_start[w]: entry_start[w + 1]]).min(initial=1) > 0 for w in range(len(words)))


def _three_words_state(parity_core):
    """Three languages, one 8-letter word each (a..h, i..p, q..x), trained 5 times, in the dev set 100,
    50 and 10 times: dev lengths 800, 400, 80; every merge shortens one language's dev set by its count."""
    words = [list(range(0, 8)), list(range(8, 16)), list(range(16, 24))]
    return parity_core.build_parity_state(
        np.array([s for w in words for s in w], dtype=np.int32), np.array([0, 8, 16, 24]), np.array([0, 1, 2, 3]),
        np.array([0, 1, 2]), np.array([5, 5, 5]), np.array([100, 50, 10]), 3,
        [bytes([ord("a") + i]) for i in range(24)], [1] * 24,
    )


def test_window_rule_on_a_hand_computed_case():
    from tokensmith.train import parity_core

    # Base rule: the longest dev set chooses (ties: lower index). 800/400/80 -> language 0 until its
    # length meets language 1's at 400 (5th merge: tie, 0 wins), then 1, 1 (400 -> 300), tie again -> 0.
    state = _three_words_state(parity_core)
    parity_core.run_parity_merges(state, vocab_size=24 + 8)
    assert state.chosen_by().tolist() == [0, 0, 0, 0, 0, 1, 1, 0]
    assert state.dev_length.tolist() == [200, 300, 80]
    # Window 3, alpha 1, L 3: quota floor(1 * 3 / 3) = 1, so a language holding 2 of the last 3 parity
    # merges must wait: 0 0 | 0 has 2 -> 1 | 1 | window [0 1 1]: 0 again | 0 | window [1 0 0] -> 1 | 1.
    state = _three_words_state(parity_core)
    parity_core.run_parity_merges(state, vocab_size=24 + 8, window_size=3, alpha=1)
    assert state.chosen_by().tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert state.dev_length.tolist() == [400, 200, 80]
    # The merges themselves are each language's best pair: (a, b) first (all pairs tie at 5: smallest).
    assert state.token(24) == b"ab"
    # Paused and continued in steps of 3, the window carries over.
    state = _three_words_state(parity_core)
    while state.stop_reason == "running" and state.n_merges < 8:
        parity_core.run_parity_merges(state, vocab_size=24 + 8, window_size=3, alpha=1, max_merges=3)
    assert state.chosen_by().tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    # Global merges do not enter the window: 2 global merges (both on word 0: the smallest pairs), then
    # the window rule starts from an empty window.
    state = _three_words_state(parity_core)
    parity_core.run_parity_merges(state, vocab_size=24 + 8, global_merges=2, window_size=2, alpha=1)
    # Quota floor(1 * 2 / 3) = 0: a language that chose either of the last 2 parity merges waits.
    # Dev 600/400/80 -> 0 | 0 waits: 1 | 0 and 1 wait: 2 | window [1 2]: 0 | [2 0]: 1 | [0 1]: 2.
    assert state.chosen_by().tolist()[:2] == [3, 3]
    assert state.chosen_by().tolist()[2:] == [0, 1, 2, 0, 1, 2]


def test_window_quota():
    from tokensmith.train.parity_core import window_quota

    assert window_quota(2, 100, 31) == 6  # 6/100 <= 2/31 = 0.0645 < 7/100
    assert window_quota(2, 100, 8) == 25
    assert window_quota(1, 3, 3) == 1
    assert window_quota(1.5, 100, 31) == 4  # 150/31 = 4.84
    assert window_quota(2, 6, 3) == 4  # exactly on the bound: admitted, as count/W <= alpha/L is


# ---- real text: eight languages, mono training text, dev = even parallel lines, test = odd lines
#      (+ the next 100 kB of each mono file, for global bytes/token)


@pytest.fixture(scope="module")
def corpora(shared_data: Path):
    mono = {lang: (shared_data / f"mono/{lang}.txt").read_text(encoding="utf-8") for lang in LANGS}
    train = {lang: text[:500_000].splitlines() for lang, text in mono.items()}
    parallel = {lang: (shared_data / f"parallel/{lang}.txt").read_text(encoding="utf-8").split("\n")
                for lang in LANGS}
    n_lines = min(len(lines) for lines in parallel.values())
    kept = [i for i in range(n_lines) if all(parallel[lang][i].strip() for lang in LANGS)]
    dev = {lang: [parallel[lang][i] for i in kept if i % 2 == 0] for lang in LANGS}
    held_out = {lang: [parallel[lang][i] for i in kept if i % 2 == 1] for lang in LANGS}
    held_out_mono = {lang: [line for line in text[500_000:600_000].splitlines()[1:] if line.strip()]
                     for lang, text in mono.items()}  # [1:]: the line cut at 500,000 was trained on
    return train, dev, held_out, held_out_mono


@pytest.fixture(scope="module")
def trained(corpora):
    """Classic BPE and parity with its defaults (the hybrid: half global merges, then the window rule)."""
    train, dev, _, _ = corpora
    classic = BpeTrainer(vocab_size=VOCAB, engine="serial").train([line for lang in LANGS for line in train[lang]])
    parity = ParityTrainer(vocab_size=VOCAB, engine="serial").train(train, dev_documents=dev)
    return classic, parity


def tokens_per_line(trained_bpe, lines_by_lang) -> dict[str, float]:
    """Held-out tokens per line of each language; asserts the exact round trip on the way."""
    tokenizer = tokenizers.Tokenizer.from_str(trained_bpe.to_tokenizer_json())
    result = {}
    for lang, lines in lines_by_lang.items():
        encodings = tokenizer.encode_batch(lines, add_special_tokens=False)
        assert tokenizer.decode_batch([e.ids for e in encodings]) == lines, lang
        result[lang] = sum(len(e.ids) for e in encodings) / len(lines)
    return result


def global_bytes_per_token(trained_bpe, *parts) -> float:
    """Σ bytes / Σ tokens over every line of the {language: lines} parts."""
    tokenizer = tokenizers.Tokenizer.from_str(trained_bpe.to_tokenizer_json())
    lines = [line for part in parts for lang_lines in part.values() for line in lang_lines]
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(lines, add_special_tokens=False))
    return sum(len(line.encode("utf-8")) for line in lines) / tokens


@pytest.mark.slow
def test_parity_meets_the_issue_goals_on_held_out_text(corpora, trained):
    # Issue 3: the Gini of the languages' premiums (tokens per held-out parallel line; the Gini does not
    # change when all are divided by English's) 30% lower, global bytes/token at most 3% lower.
    _, _, held_out, held_out_mono = corpora
    classic, parity = trained
    assert classic.vocab_size == parity.vocab_size == VOCAB
    classic_costs, parity_costs = tokens_per_line(classic, held_out), tokens_per_line(parity, held_out)
    classic_gini, parity_gini = gini(list(classic_costs.values())), gini(list(parity_costs.values()))
    assert parity_gini <= 0.7 * classic_gini, (classic_gini, parity_gini)
    classic_bpt = global_bytes_per_token(classic, held_out, held_out_mono)
    parity_bpt = global_bytes_per_token(parity, held_out, held_out_mono)
    assert parity_bpt >= 0.97 * classic_bpt, (classic_bpt, parity_bpt)
    # The languages classic BPE serves worst gain the most: the longest one gets shorter.
    worst = max(classic_costs, key=classic_costs.get)
    assert parity_costs[worst] < classic_costs[worst]
    # Half the merges were global, as the default says.
    merges = VOCAB - len(ParityTrainer().initial_vocabulary().contents)
    assert parity.stats.merges_by_language["global"] == round(0.5 * merges)


def test_global_share_equals_the_same_number_of_global_merges(corpora):
    train, dev, _, _ = corpora
    langs = ("de", "ja", "th")
    train, dev = {lang: train[lang][:2000] for lang in langs}, {lang: dev[lang] for lang in langs}
    vocab = 1500
    merges = vocab - len(ParityTrainer(vocab_size=vocab).initial_vocabulary().contents)
    by_share = ParityTrainer(vocab_size=vocab, engine="serial", global_share=0.3).train(train, dev_documents=dev)
    by_count = ParityTrainer(vocab_size=vocab, engine="serial", global_merges=round(0.3 * merges)).train(
        train, dev_documents=dev)
    assert by_share.stats.merges_by_language["global"] == round(0.3 * merges) == 373
    assert by_share.merge_ids == by_count.merge_ids
    assert by_share.to_tokenizer_json() == by_count.to_tokenizer_json()
    # ... and the share matters: pure parity learns other merges.
    pure = ParityTrainer(vocab_size=vocab, engine="serial", global_share=0).train(train, dev_documents=dev)
    assert pure.stats.merges_by_language["global"] == 0
    assert pure.merge_ids != by_share.merge_ids


@pytest.mark.slow
def test_dev_lengths_tracked_in_training_equal_the_encoded_dev_set(corpora, trained):
    _, dev, _, _ = corpora
    _, parity = trained
    stats = parity.stats
    assert sum(stats.merges_by_language.values()) == stats.merges == len(parity.merge_ids)
    assert stats.dev_tokens_before == {lang: sum(len(line.encode()) for line in dev[lang]) for lang in LANGS}
    tokenizer = tokenizers.Tokenizer.from_str(parity.to_tokenizer_json())
    encoded = {lang: sum(len(e.ids) for e in tokenizer.encode_batch(dev[lang], add_special_tokens=False))
               for lang in LANGS}
    assert stats.dev_tokens_after == encoded
    # Parity: the dev lengths end far closer together than they started.
    before, after = list(stats.dev_tokens_before.values()), list(stats.dev_tokens_after.values())
    assert gini(after) < 0.5 * gini(before)


def test_classic_global_phase_equals_the_parity_loops_on_real_text(corpora, monkeypatch):
    # The same check on eight languages of real text (dev: parallel lines, many of their words in no
    # training text), at a vocabulary where both phases are long.
    from tokensmith.train.counting import count_pretokens
    from tokensmith.train.parity import _word_table

    train, dev, _, _ = corpora
    trainer = ParityTrainer(vocab_size=3000, engine="serial")
    pretokenizer = trainer.pretokenizer_object()
    train_counts = [count_pretokens(train[lang][:3000], pretokenizer, engine="serial") for lang in LANGS]
    dev_counts = [count_pretokens(dev[lang], pretokenizer, engine="serial") for lang in LANGS]
    words, *table = _word_table(train_counts, dev_counts)
    assert (table[2] == 0).sum() > 1000  # entries of dev-only words
    symbols, offsets = trainer.initial_vocabulary().encode_words(words)
    fast, slow = _learnt_both_ways(trainer, symbols, offsets, tuple(table), len(LANGS), monkeypatch)
    _same_run(fast, slow)
    assert fast.n_merges == 3000 - 257 and fast.chosen_by().tolist().count(len(LANGS)) == round(0.5 * fast.n_merges)


@pytest.mark.slow
def test_global_merges_only_is_classic_bpe(corpora, trained):
    # The hybrid with every merge global must be exactly classic BPE on the pooled text.
    train, dev, _, _ = corpora
    classic, _ = trained
    pooled = ParityTrainer(vocab_size=VOCAB, engine="serial", global_merges=VOCAB).train(train, dev_documents=dev)
    assert pooled.merge_ids == classic.merge_ids
    assert pooled.to_tokenizer_json() == classic.to_tokenizer_json()
    assert pooled.stats.merges_by_language["global"] == len(pooled.merge_ids)


def test_train_from_files_with_language_paths(shared_data, tmp_path):
    langs = ("de", "el", "ko")
    dev = tmp_path / "dev"
    dev.mkdir()
    for lang in langs:
        lines = (shared_data / f"parallel/{lang}.txt").read_text(encoding="utf-8").split("\n")[:1500]
        (dev / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths = [f"{lang}={shared_data / f'mono/{lang}.txt'}" for lang in langs]
    summary = train_from_files("parity", paths, 1500, str(tmp_path / "out"), dev=str(dev), langs="de,el,ko",
                               global_merges=200, engine="serial")
    assert summary["vocab_size"] == 1500
    assert summary["parity"]["languages"] == list(langs)
    assert summary["parity"]["merges_by_language"]["global"] == 200
    data = json.loads((tmp_path / "out/tokenizer.json").read_text(encoding="utf-8"))
    assert len(data["model"]["vocab"]) == 1500
    hf = tokenizers.Tokenizer.from_file(str(tmp_path / "out/tokenizer.json"))
    for lang in langs:
        text = (dev / f"{lang}.txt").read_text(encoding="utf-8")
        assert hf.decode(hf.encode(text).ids) == text
    # The same run again gives byte-identical files.
    train_from_files("parity", paths, 1500, str(tmp_path / "again"), dev=str(dev), langs=langs, global_merges=200,
                     engine="serial")
    assert (tmp_path / "again/tokenizer.json").read_bytes() == (tmp_path / "out/tokenizer.json").read_bytes()


# ---- bad input


def test_bad_input(shared_data, tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "de.txt").write_text("eins\nzwei\ndrei\n", encoding="utf-8")
    (dev / "en.txt").write_text("one\ntwo\n", encoding="utf-8")
    mono = {lang: f"{lang}={shared_data / f'mono/{lang}.txt'}" for lang in ("de", "en")}
    out = tmp_path / "out"
    with pytest.raises(CorpusError, match="misaligned"):
        train_from_files("parity", list(mono.values()), 400, str(out), dev=str(dev), engine="serial")
    with pytest.raises(CorpusError, match="misaligned"):
        ParityTrainer(vocab_size=400).train({"de": ["a b"], "en": ["a b"]},
                                            dev_documents={"de": ["x", "y"], "en": ["x"]})
    with pytest.raises(InputError, match="LANG=PATH"):
        train_from_files("parity", [str(shared_data / "mono/de.txt")], 400, str(out), dev=str(dev))
    with pytest.raises(InputError, match="2 or more languages"):
        ParityTrainer(vocab_size=400).train({"de": ["a b"]}, dev_documents={"de": ["x"]})
    with pytest.raises(InputError, match="no training text for fr"):
        ParityTrainer(vocab_size=400, langs="de,fr").train({"de": ["a"]}, dev_documents={"de": ["x"]})
    with pytest.raises(InputError, match="dev set"):
        ParityTrainer(vocab_size=400).train({"de": ["a"], "en": ["b"]})
    with pytest.raises(InputError, match="per language"):
        ParityTrainer(vocab_size=400).train(["one corpus"], dev_documents={"de": ["x"]})
    with pytest.raises(CorpusError, match="'en'"):
        ParityTrainer(vocab_size=400).train({"de": ["a b"], "en": ["  "]}, dev_documents={"de": ["x"], "en": ["y"]})
    with pytest.raises(InputError, match="global_merges"):
        ParityTrainer(global_merges=-1)
    with pytest.raises(InputError, match="both global_merges"):
        ParityTrainer(global_merges=100, global_share=0.5)
    for share in (-0.1, 1.5, float("nan"), "half", True):
        with pytest.raises(InputError, match="global_share"):
            ParityTrainer(global_share=share)
    with pytest.raises(UnknownNameError, match="parity variant 'windows'"):
        ParityTrainer(variant="windows")
    with pytest.raises(InputError, match="window_size"):
        ParityTrainer(window_size=0)
    for alpha in (0.5, float("inf"), "2"):
        with pytest.raises(InputError, match="alpha"):
            ParityTrainer(alpha=alpha)
    with pytest.raises(InputError, match="checkpoint"):
        train_from_files("parity", list(mono.values()), 400, str(out), checkpoint=str(tmp_path / "c.npz"))
    assert not out.exists()


def test_language_paths_read_folders_as_the_cli_does(tmp_path):
    """The Python API's parity inputs: a folder's pt_BR.txt is pt-BR (as a LANG=PATH tag and langs are),
    a README.txt in it is refused rather than trained as a language, and a .txt.gz is read decompressed."""
    import gzip

    from tokensmith.errors import TokensmithError
    from tokensmith.train.api import language_paths, read_lines

    folder = tmp_path / "mono"
    folder.mkdir()
    (folder / "pt_BR.txt").write_text("olá mundo\n", encoding="utf-8")
    with gzip.open(folder / "de.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write("hallo welt\rzweite zeile\n")
    found = language_paths([str(folder), f"en_GB={folder / 'pt_BR.txt'}"])
    assert sorted(found) == ["de", "en-GB", "pt-BR"]
    assert list(read_lines(found["de"])) == ["hallo welt", "zweite zeile"]
    assert ParityTrainer(vocab_size=300, langs="pt_BR,de").langs == ("pt-BR", "de")
    (folder / "README.txt").write_text("about this folder\n", encoding="utf-8")
    with pytest.raises(TokensmithError, match="README.txt is not named by a language tag"):
        language_paths([str(folder)])


def test_one_very_long_word_does_not_size_the_parity_room_by_its_length():
    """A DNA sequence of 100,000 bases as one pre-token of language 0, beside short words of language 1: each
    merge adds at most two pairs per id to a word, so the pair room stays near the ids' pairs (sized by the
    word's length, as it was, a 10 MB line took 1.4 GB). The merges still equal the reference's."""
    from tokensmith.train import parity_core

    rng = np.random.default_rng(7)
    words = [list(rng.integers(0, 4, size=100_000)), [0, 1, 2, 3], [3, 3, 1]]
    train, dev = [{0: 1}, {1: 4}, {1: 2}], [{0: 1}, {1: 1}, {1: 1}]
    contents = [b"A", b"C", b"G", b"T"]
    expected = reference_parity(words, train, dev, contents, 20)
    state = _parity_state(words, train, dev, 2, contents)
    parity_core.run_parity_merges(state, vocab_size=20)
    assert len(state.slot_key) < 10_000 and len(state.pair_table_key) < 40_000
    assert [tuple(row) for row in state.learned_merges().tolist()] == expected[0]
    assert [state.token(i) for i in range(state.n_tokens)] == expected[1]


def _parity_state(words, train, dev, n_langs, contents, max_units=None):
    """parity_core's state for ``words`` (symbol lists) with per-language train/dev counts (one dict per word),
    laid out as the trainer lays them out: one entry per language a word occurs in."""
    from tokensmith.train import parity_core

    entry_start, entry_lang, entry_train, entry_dev = [0], [], [], []
    for t, d in zip(train, dev, strict=True):
        for lang in sorted(set(t) | set(d)):
            entry_lang.append(lang)
            entry_train.append(t.get(lang, 0))
            entry_dev.append(d.get(lang, 0))
        entry_start.append(len(entry_lang))
    offsets = np.concatenate([[0], np.cumsum([len(w) for w in words])])
    return parity_core.build_parity_state(
        np.array([s for w in words for s in w], dtype=np.int32), offsets, np.array(entry_start),
        np.array(entry_lang), np.array(entry_train), np.array(entry_dev), n_langs, contents, [1] * len(contents),
        max_units=max_units,
    )


def test_the_python_api_meets_languages_however_their_tags_are_spelt():
    """ParityTrainer(langs="en,de").train({"eng_Latn": ..., "deu": ...}, dev_documents={"en": ..., "ger": ...})
    said 'no training text for de, en': langs were canonical, the keys of the mappings as given. The keys are
    now canonical too (the CLI's LANG=PATH and folders always were), and one language given twice is refused."""
    from _flores_text import SENTENCES

    from tokensmith.tokenizers import load_tokenizer

    english, german = SENTENCES["eng_Latn"], SENTENCES["deu_Latn"]
    trainer = ParityTrainer(vocab_size=300, langs="en,de", min_frequency=1)
    trained = trainer.train({"eng_Latn": english * 10, "deu": german * 10},
                            dev_documents={"en": english, "ger": german})
    assert trained.stats.languages == ("de", "en") and set(trained.stats.dev_tokens_after) == {"de", "en"}
    tokenizer = load_tokenizer(trained)
    assert tokenizer.decode(tokenizer.encode(german[0])) == german[0]
    with pytest.raises(InputError, match="'en' is given twice: as 'en' and 'eng'"):
        ParityTrainer(vocab_size=300).train({"en": english, "eng": english, "de": german},
                                            dev_documents={"en": english, "de": german})


def test_the_python_api_names_a_dev_language_by_the_tag_it_extends():
    """ParityTrainer().train({"en": ..., "ko": ...}, dev_documents={"eng_Latn": ..., "kor_Hang": ...}): the dev
    set's Korean is ko-Hang (FLORES-200 keeps Korean's script), and training said "the dev set has no text for
    ko". A language now names the one dev language whose tag extends it; two it extends are refused."""
    from _flores_text import SCRIPT_KEPT_SENTENCES, SENTENCES

    english, korean = SENTENCES["eng_Latn"], SCRIPT_KEPT_SENTENCES["kor_Hang"]
    trained = ParityTrainer(vocab_size=300, min_frequency=1).train(
        {"en": english * 10, "ko": korean * 10}, dev_documents={"eng_Latn": english, "kor_Hang": korean})
    assert trained.stats.dev_tokens_before == {"en": sum(len(line.encode()) for line in english),
                                               "ko": sum(len(line.encode()) for line in korean)}
    chinese = {"zho_Hans": SENTENCES["zho_Hans"], "zho_Hant": SCRIPT_KEPT_SENTENCES["zho_Hant"]}
    with pytest.raises(InputError, match=r"'zh' names 2 languages of the dev set: zh-Hans, zh-Hant"):
        ParityTrainer(vocab_size=300, min_frequency=1).train(
            {"en": english, "zh": chinese["zho_Hant"]}, dev_documents={"en": english, **chinese})
    with pytest.raises(InputError, match=r"'ko' and 'ko-Hang' both name ko-Hang of the training text"):
        ParityTrainer(vocab_size=300, langs="ko,ko-Hang,en").train({"en": english, "kor_Hang": korean},
                                                                   dev_documents={"en": english, "ko": korean})
