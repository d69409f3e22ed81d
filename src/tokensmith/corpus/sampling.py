"""Deterministic sampling of documents under a byte budget.

The sample is defined without reference to memory: give every document a key from a seeded random
stream (one 64-bit draw per document, in corpus order), sort the documents by key, and keep the longest
prefix whose UTF-8 size fits in ``max_bytes`` (documents larger than the whole budget are passed over).
It is computed in one streaming pass with a heap holding only the current prefix, so memory is bounded
by the budget; the same corpus and seed give the same sample. Documents come back in corpus order.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tokensmith.corpus.parallel import ParallelCorpus
from tokensmith.corpus.readers import Corpus
from tokensmith.errors import CorpusError


def prefix_by_key(items: Iterable[tuple[int, object]], max_bytes: int, seed: int) -> list[tuple[int, int, object]]:
    """``(index, size, payload)`` of the sampled items: the longest prefix, in seeded-key order, that fits.

    ``items`` yields ``(size, payload)``. A max-heap on the key holds the current prefix; a new item with a
    key above the smallest key ever evicted can never join the prefix, which keeps the result equal to the
    sort-then-cut definition whatever the corpus order. A caller that keeps only sizes (``payload``
    ``None`` or a flag) learns which documents are sampled without holding their text.
    """
    if max_bytes <= 0:
        raise CorpusError(f"the sample size must be positive, not {max_bytes} bytes")
    draw = random.Random(seed).getrandbits
    heap: list[tuple[int, int, int, object]] = []  # (-key, index, size, payload)
    filled = 0
    cutoff = 1 << 64  # keys >= cutoff are past the end of the prefix
    for index, (size, payload) in enumerate(items):
        key = draw(64)
        if size > max_bytes or key >= cutoff:
            continue
        heapq.heappush(heap, (-key, index, size, payload))
        filled += size
        while filled > max_bytes:
            negative_key, _, evicted_size, _ = heapq.heappop(heap)
            filled -= evicted_size
            cutoff = min(cutoff, -negative_key)
    return sorted((index, size, payload) for _, index, size, payload in heap)


def _sized_documents(corpus: Corpus) -> Iterator[tuple[int, str]]:
    for docs, _ in corpus.iter_blocks():
        for doc in docs:
            yield len(doc.encode("utf-8", "surrogatepass")), doc


def sample_documents(corpus: Corpus | Iterable[str], max_bytes: int, seed: int = 0) -> list[str]:
    """A seeded random sample of documents totalling at most ``max_bytes`` UTF-8 bytes, in corpus order.

    The whole corpus is returned when it fits. Memory is bounded by ``max_bytes``.

    Raises:
        CorpusError: the budget is not positive, or every document is larger than it.
    """
    sized = (
        _sized_documents(corpus)
        if isinstance(corpus, Corpus)
        else ((len(d.encode("utf-8", "surrogatepass")), d) for d in corpus)
    )
    smallest: list[int] = []  # the smallest document's size, for the error

    def noting_the_smallest(items: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        for size, doc in items:
            if not smallest or size < smallest[0]:
                smallest[:] = [size]
            yield size, doc

    sample = [doc for _, _, doc in prefix_by_key(noting_the_smallest(sized), max_bytes, seed)]
    if not sample:
        of = f"corpus {corpus.name!r}" if isinstance(corpus, Corpus) else "the texts"
        if not smallest:
            raise CorpusError(f"{of} holds no document to sample")
        whole_files = isinstance(corpus, Corpus) and corpus.doc_per == "file"  # --doc-per line would split them
        raise CorpusError(f"the sample budget of {max_bytes:,} bytes is smaller than every document of {of} "
                          f"(the smallest has {smallest[0]:,} bytes)",
                          f"raise --sample-bytes to {smallest[0]:,} or more"
                          + (", or split its documents (--doc-per line)" if whole_files else ""))
    return sample  # type: ignore[return-value]


@dataclass(frozen=True)
class ParallelSample:
    """The same segments sampled in every language.

    Attributes:
        line_ids: original 0-based line index of each sampled segment.
        texts: language -> its sampled segments, aligned with ``line_ids``.
    """

    line_ids: tuple[int, ...]
    texts: dict[str, list[str]]


def sample_parallel(parallel: ParallelCorpus, max_bytes: int, seed: int = 0) -> ParallelSample:
    """Sample segments of a parallel corpus; every language keeps the same line indices.

    A segment's size is its largest UTF-8 size over the languages, so no language's sample exceeds
    ``max_bytes``. Two streaming passes: one picks the line indices (keeping only sizes), one collects
    the texts.
    """
    line_ids = list(parallel.line_ids())

    def sizes() -> Iterator[tuple[int, None]]:
        for segment in parallel.iter_segments():
            yield max(len(text.encode("utf-8", "surrogatepass")) for text in segment), None

    chosen = [index for index, _, _ in prefix_by_key(sizes(), max_bytes, seed)]
    if not chosen:
        raise CorpusError(
            f"the sample budget of {max_bytes} bytes is smaller than every segment of {parallel.directory}",
            "raise --sample-bytes",
        )
    wanted = set(chosen)
    texts: dict[str, list[str]] = {lang: [] for lang in parallel.langs}
    for position, segment in enumerate(parallel.iter_segments()):
        if position in wanted:
            for lang, text in zip(parallel.langs, segment, strict=True):
                texts[lang].append(text)
    return ParallelSample(line_ids=tuple(line_ids[i] for i in chosen), texts=texts)


def sample_size(documents: Sequence[str]) -> int:
    """UTF-8 bytes of a list of documents (the quantity the budget bounds)."""
    return sum(len(d.encode("utf-8", "surrogatepass")) for d in documents)


__all__ = ["ParallelSample", "prefix_by_key", "sample_documents", "sample_parallel", "sample_size"]
