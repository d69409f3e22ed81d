"""Category samples: a seeded, byte-bounded sample of each category's text, newlines kept.

A ``.txt`` file is cut into documents of consecutive whole lines (about :data:`CHUNK_BYTES` each) with
their newlines, because the pre-tokenization of code depends on newlines and indentation; JSONL and
parquet records are documents as they are. The sample is :func:`tokensmith.corpus.sample_documents`
over those documents: seeded, at most ``sample_bytes`` UTF-8 bytes, the whole category when it fits,
memory bounded by the budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tokensmith.errors import CorpusError

#: Target size of one document cut from a ``.txt`` file (a longer single line stays whole).
CHUNK_BYTES = 4096


def _text_chunks(path: Path) -> Iterator[str]:
    """Runs of whole lines (newlines kept) of about CHUNK_BYTES, decoded strictly as UTF-8."""
    from tokensmith.corpus.readers import open_binary

    pending: list[bytes] = []
    size = 0
    offset = 0

    def flush() -> str:
        block = b"".join(pending)
        try:
            return block.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CorpusError(
                f"{path} is not UTF-8 text (byte offset {offset - len(block) + error.start})",
                "convert the file to UTF-8 (e.g. iconv -t UTF-8)",
            ) from None

    with open_binary(path) as handle:
        for line in handle:
            offset += len(line)
            if pending and size + len(line) > CHUNK_BYTES:
                yield flush()
                pending, size = [], 0
            pending.append(line)
            size += len(line)
        if pending:
            yield flush()


def iter_category_documents(spec: str | Path) -> Iterator[str]:
    """Documents of a category path (a file, a directory or a glob; txt, jsonl, parquet, gz/zst)."""
    from tokensmith.corpus.readers import open_corpus, resolve_sources, split_suffixes

    for source in resolve_sources(str(spec)):
        if split_suffixes(source)[2] == "txt":
            yield from _text_chunks(source)
        else:
            yield from open_corpus(str(source))


def read_category_sample(spec: str | Path, sample_bytes: int, seed: int = 0, *, name: str | None = None) -> list[str]:
    """A seeded sample of at most ``sample_bytes`` UTF-8 bytes of a category's documents, in file order.

    Raises:
        CorpusError: the path is missing, not UTF-8, or holds no text.
    """
    from tokensmith.corpus.sampling import sample_documents

    label = name or str(spec)
    seen = {"bytes": 0}

    def documents() -> Iterator[str]:
        for doc in iter_category_documents(spec):
            if doc:
                seen["bytes"] += len(doc)
                yield doc

    try:
        sample = sample_documents(documents(), sample_bytes, seed)
    except CorpusError as error:
        if seen["bytes"] == 0 and "smaller than every document" in error.message:  # it blames the budget
            raise CorpusError(f"category {label!r} ({spec}) is empty", "point the category at a text file") from None
        raise
    if not any(doc.strip() for doc in sample):
        raise CorpusError(f"category {label!r} ({spec}) holds no text", "point the category at a non-empty text file")
    return sample
