"""Category samples: a seeded, byte-bounded sample of each category's text, newlines kept.

A ``.txt`` file is cut into documents of consecutive whole lines (about :data:`CHUNK_BYTES` each) with
their newlines, because the pre-tokenization of code depends on newlines and indentation; JSONL and
parquet records are documents as they are. The sample is the one :func:`tokensmith.corpus.sample_documents`
takes over those documents: seeded, at most ``sample_bytes`` UTF-8 bytes, the whole category when it fits.

:func:`sample_category` finds which documents are in the sample from their sizes alone, and the
:class:`CategorySample` it returns reads them again from the files each time it is iterated, so a
category's text is never held in memory: the counting engine consumes it batch by batch and only
pre-token counts are kept (memory grows with distinct pre-tokens, not with the sample).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tokensmith.corpus.readers import CorpusReading
from tokensmith.errors import CorpusError

if TYPE_CHECKING:
    from tokensmith.corpus.readers import ReadStats

#: Target size of one document cut from a ``.txt`` file (a longer single line stays whole).
CHUNK_BYTES = 4096


def _text_chunks(path: Path, reading: CorpusReading, stats: ReadStats) -> Iterator[str]:
    """Runs of whole lines (newlines kept) of about CHUNK_BYTES, decoded as UTF-8 (strictly, NUL refused, or
    with U+FFFD for bad bytes, counted in ``stats``)."""
    from tokensmith.corpus.readers import decode_text, decode_with_replacements, open_binary, strip_bom

    pending: list[bytes] = []
    size = 0
    offset = 0  # bytes read so far
    first_line = 1  # line number of pending[0]

    def flush() -> str:
        block = b"".join(pending)
        if reading.errors != "strict":
            return decode_with_replacements(block, source=path, first_line=first_line, stats=stats)
        return decode_text(block, source=path, first_line=first_line, offset=offset - len(block),
                           not_utf8_hint="convert the file to UTF-8 (e.g. iconv -t UTF-8), or pass --errors replace",
                           binary_hint="point the category at a text file (UTF-8)")

    with open_binary(path) as handle:
        for line in handle:
            if offset == 0:  # a byte-order mark is no text (as in measure)
                line, offset = strip_bom(line)
            if pending and size + len(line) > CHUNK_BYTES:
                yield flush()
                first_line += len(pending)
                pending, size = [], 0
            offset += len(line)
            pending.append(line)
            size += len(line)
        if pending:
            yield flush()


def iter_category_documents(spec: str | Path, reading: CorpusReading = CorpusReading(),
                            stats: ReadStats | None = None) -> Iterator[str]:
    """Documents of a category path (a file, a directory or a glob; any corpus format, compressed or not),
    read as ``reading`` says; what reading replaced or skipped is added to ``stats``."""
    from tokensmith.corpus.readers import ReadStats, open_corpus, resolve_sources, split_suffixes

    stats = ReadStats() if stats is None else stats
    for source in resolve_sources(str(spec), flag="--category"):
        if split_suffixes(source)[2] == "txt":
            yield from _text_chunks(source, reading, stats)
            continue
        corpus = open_corpus(str(source), **reading.options())
        yield from corpus
        stats.add(corpus.read_stats)


def _non_empty_documents(spec: str | Path, reading: CorpusReading,
                         stats: ReadStats | None = None) -> Iterator[str]:
    """The documents the sample is drawn from (an empty one is no document), in file order."""
    return (doc for doc in iter_category_documents(spec, reading, stats) if doc)


@dataclass(frozen=True)
class CategorySample:
    """Which documents of a category are in its sample; iterating reads them from the files again.

    Attributes:
        name: the category.
        spec: its path (a file, a directory or a glob).
        chosen: positions of the sampled documents among the category's non-empty documents.
        sample_bytes: UTF-8 bytes of the sampled documents.
        text_digest: a hash of all the category's documents (categories with the same text are refused).
        reading: how the files are read (read again so when the sample is iterated).
        read_stats: what reading the whole category replaced or skipped (:meth:`ReadStats.record`).
    """

    name: str
    spec: str
    chosen: frozenset[int]
    sample_bytes: int
    text_digest: str = ""
    reading: CorpusReading = CorpusReading()
    read_stats: dict = field(default_factory=dict, compare=False)

    def __iter__(self) -> Iterator[str]:
        """The sampled documents in file order, read one at a time (the files must not have changed)."""
        last = max(self.chosen)
        for position, doc in enumerate(_non_empty_documents(self.spec, self.reading)):
            if position in self.chosen:
                yield doc
            if position >= last:  # the rest of the category is not sampled: stop reading
                return

    def __len__(self) -> int:
        return len(self.chosen)


def sample_category(spec: str | Path, sample_bytes: int, seed: int = 0, *, name: str | None = None,
                    reading: CorpusReading = CorpusReading()) -> CategorySample:
    """The seeded sample of at most ``sample_bytes`` UTF-8 bytes of a category, found in one pass that
    reads every document (as ``reading`` says) but keeps only sizes (the documents
    :func:`tokensmith.corpus.sample_documents` would return).

    Raises:
        CorpusError: the path is missing, not UTF-8, binary, holds no text, or every document is larger
            than ``sample_bytes``.
    """
    from tokensmith.corpus.readers import ReadStats
    from tokensmith.corpus.sampling import prefix_by_key

    label = name or str(spec)
    digest = hashlib.blake2b(digest_size=16)
    stats = ReadStats()

    def sized_documents() -> Iterator[tuple[int, bool]]:
        # The payload says whether a document holds more than whitespace, so an all-blank sample is refused here.
        for doc in _non_empty_documents(spec, reading, stats):
            encoded = doc.encode("utf-8", "surrogatepass")
            digest.update(len(encoded).to_bytes(8, "little"))  # the documents' bounds are part of the text
            digest.update(encoded)
            yield len(encoded), not doc.isspace()

    picked = prefix_by_key(sized_documents(), sample_bytes, seed)
    if not picked:
        if not _has_documents(spec, reading):
            raise CorpusError(f"category {label!r} ({spec}) is empty", "point the category at a text file")
        raise CorpusError(f"the sample budget of {sample_bytes} bytes is smaller than every document of "
                          f"category {label!r} ({spec})", "raise --sample-bytes")
    if not any(has_text for _, _, has_text in picked):
        raise CorpusError(f"category {label!r} ({spec}) holds no text", "point the category at a non-empty text file")
    return CategorySample(label, str(spec), frozenset(index for index, _, _ in picked),
                          sum(size for _, size, _ in picked), digest.hexdigest(), reading, stats.record())


def _has_documents(spec: str | Path, reading: CorpusReading) -> bool:
    return next(_non_empty_documents(spec, reading), None) is not None


def sample_categories(categories: Mapping[str, str | Path], sample_bytes: int,
                      seed: int = 0, reading: CorpusReading = CorpusReading()) -> dict[str, CategorySample]:
    """:func:`sample_category` of every category, all checked before any is counted.

    Raises:
        CorpusError: as :func:`sample_category`, or two categories hold the same text (the mixture could
            split their share between them in any way).
    """
    samples = {name: sample_category(path, sample_bytes, seed, name=name, reading=reading)
               for name, path in categories.items()}
    first_with: dict[str, str] = {}
    for name, sample in samples.items():
        other = first_with.setdefault(sample.text_digest, name)
        if other != name:
            raise CorpusError(
                f"categories {other!r} ({samples[other].spec}) and {name!r} ({sample.spec}) hold the same text, "
                "so no mixture can tell their shares apart",
                "drop one of them, or give each category its own text",
            )
    return samples


def read_category_sample(spec: str | Path, sample_bytes: int, seed: int = 0, *, name: str | None = None,
                         reading: CorpusReading = CorpusReading()) -> list[str]:
    """The documents of :func:`sample_category`, in file order, as a list (the text held in memory).

    Raises:
        CorpusError: as :func:`sample_category`.
    """
    return list(sample_category(spec, sample_bytes, seed, name=name, reading=reading))
