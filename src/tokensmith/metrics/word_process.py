"""Word counting for ``measure`` in a worker process.

Segmenting text into words is Python work that holds the GIL. Run on a thread beside the encoders,
it kept them waiting for the GIL after every call into Rust (measured: the words thread held the GIL
for half the run); in its own process it runs on the other core instead. The worker keeps one
:class:`~tokensmith.metrics.word_split.UnitCounter` per open corpus and sends back word counts, never
text; the parent splits them per tokenizer (it holds the tokenizers).

The single worker runs its tasks in the order they are submitted, so a corpus' batches are counted in
order and its ``finish`` comes after its last batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from tokensmith.errors import CorpusError
from tokensmith.metrics.word_split import UnitCounter

#: Documents of a corpus' first batch that decide its segmenter (the script guard's sample).
SEGMENTER_SAMPLE_DOCUMENTS = 2000

_COUNTERS: dict[int, UnitCounter] = {}  # the worker's state: one counter per open corpus


def segmenter_for(lang: str | None, first_batch: Sequence[str] | None):
    """The word segmenter of a corpus, or NotApplicable (the script guard runs on its first batch)."""
    from tokensmith.corpus import word_segmenter

    return word_segmenter(lang, sample=first_batch[:SEGMENTER_SAMPLE_DOCUMENTS] if first_batch else None)


def _ready() -> None:
    """The first task: it makes the pool fork its worker while the parent has no threads yet."""


def _count(key: int, lang: str | None, texts: list[str]) -> Counter[str] | None:
    counter = _COUNTERS.get(key)
    if counter is None:  # the corpus' first batch
        from tokensmith.corpus import word_segmenter

        # The parent sends only corpora whose segmenter_for() gave a segmenter, so the script guard
        # has passed; without a sample, word_segmenter gives that same segmenter.
        counter = _COUNTERS[key] = UnitCounter(word_segmenter(lang))
    return counter.add(texts)


def _finish(key: int) -> Counter[str]:
    counter = _COUNTERS.pop(key, None)
    return counter.flush() if counter is not None else Counter()


class WordCountingProcess:
    """A worker process that counts the words of corpora, batch by batch.

    Create it before starting threads (it forks at once). Futures resolve to word counts: ``count``
    to None, or to the words of a full unit table; ``finish`` to the rest of a corpus' words.
    """

    def __init__(self) -> None:
        from tokensmith.processes import process_context

        self._pool = ProcessPoolExecutor(1, mp_context=process_context())
        self._pool.submit(_ready)

    def count(self, key: int, lang: str | None, texts: list[str]) -> Future:
        """Count a batch of corpus ``key`` (in ``lang``); call only for corpora whose
        :func:`segmenter_for` is a segmenter."""
        return self._pool.submit(_count, key, lang, texts)

    def finish(self, key: int) -> Future:
        """The words of corpus ``key`` not yet handed back; call after its last :meth:`count`."""
        return self._pool.submit(_finish, key)

    @staticmethod
    def result(future: Future) -> Counter[str] | None:
        """A future's word counts; a worker that died becomes one clear error."""
        try:
            return future.result()
        except BrokenProcessPool:
            raise CorpusError(
                "the word-counting worker process died",
                "the machine may be out of memory: measure fewer or smaller corpora at a time (--sample-bytes)",
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
