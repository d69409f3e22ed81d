"""The ray counting engine: the local engine's counts exactly, and so the same trained tokenizer.json.

The module shares one local Ray with 2 CPUs (``local_ray``); the first test runs before it exists, to
check that the engine starts and shuts down a Ray of its own when none is running.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import ray

import tokensmith
from tokensmith.cli import main
from tokensmith.demo_corpora import demo_corpora
from tokensmith.errors import InputError, MissingDependencyError
from tokensmith.train import BpeTrainer, count_pretokens, counting
from tokensmith.train.pretokenize import Pretokenizer

#: Real text in several scripts plus code (~4 MB): what the counts are compared on when ../shared/data exists.
SHARED_FILES = ["mono/en.txt", "mono/ja.txt", "mono/ru.txt", "parallel/ar.txt", "domain/code_rust.txt"]
#: Characters read per file: all of the ~1 MB language files, a quarter of the code.
SHARED_CHARS_PER_FILE = 1_000_000


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs; engines use it as they find it and leave it running."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def small_batches(monkeypatch):
    # Many batches per worker, so that the ray engine merges many partial counts in varying order.
    monkeypatch.setattr(counting, "BATCH_CHARS", 20_000)


def generated_documents(n_documents: int = 3000, seed: int = 7) -> list[str]:
    """Mixed-script lines with digits, punctuation, emoji and whitespace runs (no files needed)."""
    rng = random.Random(seed)
    alphabets = ["abcdefghijklmnopqrstuvwxyzäöüß", "абвгдежзиклмнопрст", "日本語の文字列をテスト", "مرحبا بالعالم",
                 "0123456789", ".,;:!?'\"()[]{}-_/", "😀🚀👩‍💻"]
    documents = []
    for _ in range(n_documents):
        words = []
        for _ in range(rng.randint(0, 40)):
            alphabet = rng.choice(alphabets)
            words.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))))
            words.append(rng.choice([" ", " ", " ", "  ", "\t", "\n", " \n ", ""]))
        documents.append("".join(words))
    return documents


def assert_same_counts(ray_counts, local_counts) -> None:
    assert ray_counts.pretokens == local_counts.pretokens
    assert ray_counts.counts.dtype == np.int64
    assert np.array_equal(ray_counts.counts, local_counts.counts)
    assert ray_counts.documents == local_counts.documents


def test_engine_starts_and_shuts_down_its_own_ray_when_none_runs(small_batches, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()
    documents = generated_documents()
    pretokenizer = Pretokenizer.create("o200k")
    counted_on_ray = count_pretokens(iter(documents), pretokenizer, engine="ray", workers=2)
    assert not ray.is_initialized()
    assert_same_counts(counted_on_ray, count_pretokens(documents, pretokenizer, engine="local", workers=2))
    assert counted_on_ray.total_bytes == sum(len(d.encode("utf-8")) for d in documents)


def test_unreachable_cluster_is_a_clear_error_in_seconds(monkeypatch):
    assert not ray.is_initialized()  # else the engine would use that Ray and never look at the address
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(InputError, match="cannot reach a Ray cluster at '127.0.0.1:1'"):
        count_pretokens(["some text"], Pretokenizer.create("gpt2"), engine="ray")


@pytest.mark.parametrize("pretokenizer", [
    Pretokenizer.create("cl100k"),
    Pretokenizer.create("llama3", split_digits=True),
    Pretokenizer.create(regex_pattern=r" ?\p{L}+|\p{N}", split_digits=True),
], ids=["cl100k", "llama3+digits", "custom"])
def test_counts_equal_the_local_engine_on_real_text(shared_data, local_ray, small_batches, pretokenizer):
    lines = []
    for name in SHARED_FILES:
        with open(shared_data / name, encoding="utf-8") as handle:
            lines += handle.read(SHARED_CHARS_PER_FILE).splitlines()
    counted_on_ray = count_pretokens(iter(lines), pretokenizer, engine="ray")
    assert_same_counts(counted_on_ray, count_pretokens(lines, pretokenizer, engine="local", workers=2))
    assert counted_on_ray.total_bytes == sum(len(line.encode("utf-8")) for line in lines)
    assert ray.is_initialized()  # the fixture's Ray, not the engine's: left running


def test_counts_equal_the_local_engine_on_generated_text_and_edge_cases(local_ray, small_batches):
    pretokenizer = Pretokenizer.create("gpt2")
    documents = generated_documents(seed=11)
    assert_same_counts(count_pretokens(documents, pretokenizer, engine="ray", workers=1),
                       count_pretokens(documents, pretokenizer, engine="serial"))
    empty = count_pretokens([], pretokenizer, engine="ray")
    assert len(empty) == 0 and empty.documents == 0
    assert count_pretokens(["", " ", "a a"], pretokenizer, engine="ray").as_dict() == {b" ": 1, b"a": 1, b" a": 1}
    with pytest.raises(InputError, match="not text"):
        count_pretokens(["fine", b"bytes"], pretokenizer, engine="ray")


def test_bpe_trained_on_ray_is_byte_identical_to_local(local_ray, tmp_path, capsys):
    code_corpus = demo_corpora()["code"]  # ~4 MB of Python source in JSONL, installed with the demo
    outputs = {}
    for engine in ["local", "ray"]:
        outputs[engine] = tmp_path / engine
        code = main(["train", "--corpus", str(code_corpus), "-v", "1500", "--engine", engine, "--workers", "2",
                     "--out", str(outputs[engine]), "-q"])
        assert code == 0, capsys.readouterr().err
    local_json = (outputs["local"] / "tokenizer.json").read_bytes()
    assert (outputs["ray"] / "tokenizer.json").read_bytes() == local_json
    ranks = "tokenizer.tiktoken"
    assert (outputs["ray"] / ranks).read_bytes() == (outputs["local"] / ranks).read_bytes()

    # Another process reaches the same Ray as an existing cluster, by address, and leaves it running.
    from_cluster = tmp_path / "cluster"
    source_root = str(Path(tokensmith.__file__).parents[1])  # this checkout, also when not installed
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([source_root, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "tokensmith", "train", "--corpus", str(code_corpus), "-v", "1500",
                          "--engine", "ray", "--engine-address", local_ray, "--out", str(from_cluster), "-q"],
                         capture_output=True, text=True, env=environment, timeout=180)
    assert run.returncode == 0, run.stderr
    assert (from_cluster / "tokenizer.json").read_bytes() == local_json
    assert ray.is_initialized()


def test_api_trainer_config_carries_the_engine(local_ray):
    documents = ["low lower lowest"] * 10 + generated_documents(200)
    by_engine = {engine: BpeTrainer(vocab_size=300, special_tokens=(), engine=engine).train(documents)
                 for engine in ["serial", "ray"]}
    assert by_engine["ray"].to_tokenizer_json() == by_engine["serial"].to_tokenizer_json()
    # How the corpus was counted is not a setting a resumed run must repeat.
    assert BpeTrainer(engine="ray").checkpoint_settings() == BpeTrainer(engine="local").checkpoint_settings()


def test_unknown_engine_or_misplaced_address_exit_2_listing_the_engines(tmp_path, capsys):
    corpus = tmp_path / "text.txt"
    corpus.write_text("some text\n", encoding="utf-8")
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--engine", "rya", "--out", str(tmp_path / "a")])
    error = capsys.readouterr().err
    assert code == 2 and "'rya'" in error and "local, ray, serial" in error and "did you mean 'ray'" in error
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--engine-address", "10.0.0.1:6379",
                 "--out", str(tmp_path / "b")])
    error = capsys.readouterr().err
    assert code == 2 and "takes no cluster address" in error and "ray" in error
    code = main(["train", "--corpus", str(corpus), "-v", "300", "--engine", "ray", "--workers", "0",
                 "--out", str(tmp_path / "c")])
    assert code == 2 and "workers" in capsys.readouterr().err
    assert not any(tmp_path.glob("[abc]"))


def test_missing_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    with pytest.raises(MissingDependencyError, match=r"tokensmith\[ray\]"):
        count_pretokens(["some text"], Pretokenizer.create("gpt2"), engine="ray")
