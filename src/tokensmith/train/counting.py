"""Pre-token counting: stream documents once, cut each into pre-tokens, count the distinct ones.

This is the only pass over the raw text; the merge loop then works on the (much smaller) table of
distinct pre-tokens. Engines are registered by name so a distributed one (Ray) slots in beside the
local ones; every engine must give identical counts for identical input.

What a pass collects is a :class:`Tally`: :class:`PretokenTally` counts one pre-tokenizer's pieces; a
trainer that needs more from the same read of the text (the ``superword`` trainer counts two
pre-tokenizations at once) brings its own, and every engine fills it the same way.

* ``serial``: one process, for small inputs and tests.
* ``local`` (default): worker processes over batches of whole documents (a document is never cut, so
  the result does not depend on the batching or on the number of workers); inputs smaller than one
  batch per worker are counted serially, since starting processes would cost more than it saves.
* ``ray``: the same batches counted in Ray tasks, on a Ray cluster or a local Ray
  (:mod:`~tokensmith.train.ray_counting`; needs ``pip install 'tokensmith[ray]'``).

>>> counts = count_pretokens(["the cat", "the dog"], Pretokenizer.create("gpt2"), engine="serial")
>>> counts.as_dict()
{b' cat': 1, b' dog': 1, b'the': 2}
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from tokensmith import errors
from tokensmith.errors import CorpusError, InputError
from tokensmith.handover import hand_over, handover_directory, taken_over
from tokensmith.processes import process_context, start_worker
from tokensmith.registry import Registry
from tokensmith.train.pretokenize import Pretokenizer

if TYPE_CHECKING:
    from tokensmith.train.text_table import CountingTable, TextTable

#: Characters of text per batch sent to a worker: large enough to amortise pickling, small enough to
#: keep every worker busy and memory flat.
BATCH_CHARS = 1 << 20


def check_documents(documents: object) -> None:
    """Refuse one text given where an iterable of documents belongs: iterated, a string is its characters
    (every one a document) and bytes are ints, so the run would learn nothing of the text it was given."""
    if isinstance(documents, str | bytes | bytearray):
        raise InputError(f"the documents are one {type(documents).__name__}, not an iterable of texts",
                         "pass a list of str, one per document (e.g. [text] or text.splitlines())")


def lone_surrogate_error(exc: UnicodeEncodeError) -> InputError:
    """The error for a document that cannot be UTF-8 (only a lone surrogate cannot), from the encode error."""
    return errors.lone_surrogate_error(exc.object, exc.start, "a document")


@dataclass(frozen=True)
class PretokenCounts:
    """Distinct pre-tokens with their counts, in a canonical order (sorted by bytes).

    Args:
        pretokens: UTF-8 bytes of each distinct pre-token, sorted.
        counts: ``int64`` occurrences of each, aligned with ``pretokens``.
        documents: number of documents read.
    """

    pretokens: tuple[bytes, ...]
    counts: np.ndarray
    documents: int = 0

    @classmethod
    def from_counter(cls, counter: Counter, documents: int = 0) -> PretokenCounts:
        """Canonical form of a ``Counter[str]``: UTF-8 keys, sorted."""
        # keys and counts apart, no tuple per key (bytes are not tracked by the garbage collector)
        try:
            encoded = dict(zip(map(str.encode, counter), counter.values(), strict=True))
        except UnicodeEncodeError as exc:  # only a lone surrogate cannot be UTF-8
            raise lone_surrogate_error(exc) from None
        encoded.pop(b"", None)
        pretokens = tuple(sorted(encoded))
        counts = np.fromiter(map(encoded.__getitem__, pretokens), dtype=np.int64, count=len(pretokens))
        return cls(pretokens, counts, documents)

    @classmethod
    def from_table(cls, texts: TextTable, counts: np.ndarray, documents: int = 0) -> PretokenCounts:
        """Canonical form of distinct UTF-8 strings (a :class:`~tokensmith.train.text_table.TextTable`) and
        their counts (``int64``): sorted by compiled code, one bytes object per key."""
        order = texts.sorted_order()
        texts = texts.take(order)
        joined, stops = texts.text.tobytes(), texts.offsets.tolist()
        keys = tuple(joined[start:stop] for start, stop in zip(stops[:-1], stops[1:], strict=True))
        return cls(keys, np.asarray(counts, dtype=np.int64)[order], documents)

    @classmethod
    def merged(cls, runs: list[PretokenCounts]) -> PretokenCounts:
        """The counts of all ``runs`` together (each canonical), in canonical order."""
        if len(runs) == 1:
            return runs[0]
        keys = [key for run in runs for key in run.pretokens]
        counts = np.concatenate([run.counts for run in runs])
        # the keys are sorted runs back to back, which Python's sort (timsort) merges in about linear time
        order = sorted(range(len(keys)), key=keys.__getitem__)
        keys = [keys[i] for i in order]
        counts = counts[np.array(order, dtype=np.int64)]
        first = np.ones(len(keys), dtype=bool)  # where a new key starts (equal keys are now neighbours)
        first[1:] = np.fromiter(map(bytes.__ne__, keys[1:], keys[:-1]), dtype=bool, count=len(keys) - 1)
        starts = np.flatnonzero(first)
        return cls(tuple(keys[i] for i in starts.tolist()),
                   np.add.reduceat(counts, starts) if len(keys) else counts)

    def __len__(self) -> int:
        return len(self.pretokens)

    @property
    def total(self) -> int:
        """Number of pre-token occurrences in the corpus."""
        return int(self.counts.sum())

    @property
    def total_bytes(self) -> int:
        """UTF-8 bytes covered by the pre-tokens (the corpus size, when the regex covers all text)."""
        lengths = np.fromiter((len(piece) for piece in self.pretokens), dtype=np.int64, count=len(self))
        return int(lengths @ self.counts)

    def as_dict(self) -> dict[bytes, int]:
        return dict(zip(self.pretokens, self.counts.tolist(), strict=True))

    def has_text(self) -> bool:
        """Whether any pre-token holds a non-whitespace character."""
        return any(not piece.decode("utf-8").isspace() for piece in self.pretokens)


class Tally(ABC):
    """What a counting pass collects: filled batch by batch (in a worker), then combined with the others.

    Engines fill one tally per worker (or per batch), call :meth:`finish` where it was filled, and
    :meth:`combine` the partial tallies; the result must not depend on how documents were batched or
    spread over workers. Tallies travel between processes, so they must pickle.
    """

    @abstractmethod
    def add(self, batch: list[str]) -> None:
        """Take in a batch of whole documents."""

    def finish(self) -> None:  # noqa: B027 - most tallies have nothing left to do
        """Last work on a filled tally, run in the process that filled it (so in parallel with the others)."""

    @classmethod
    @abstractmethod
    def combine(cls, partials: list) -> Tally:
        """One tally holding everything the finished ``partials`` hold (they may be consumed)."""


class PretokenTally(Tally):
    """The pre-tokens of one :class:`Pretokenizer`, counted (what :func:`count_pretokens` collects).

    :meth:`finish` puts the counts in canonical order where they were counted (sorting is the costly part of
    that, and the workers do it in parallel); :meth:`combine` then merges sorted runs, which Python's sort
    does in about linear time. Many small partials (one per batch, as the Ray engine sends them) are kept
    as runs until they add up to a quarter of the largest, so each key is merged a few times, not once per
    batch.
    """

    def __init__(self, pretokenizer: Pretokenizer) -> None:
        self.pretokenizer = pretokenizer
        self.counter: Counter = Counter()  # str pre-tokens: a pre-tokenizer without a compiled matcher
        # UTF-8 pre-tokens of a compiled matcher, in a compiled hash table (made at the first batch): no str
        # per distinct pre-token and batch (a worker's 65 MB: 1.6 s counting + 0.8 s sorting into a
        # Counter, against 1.0 + 0.3 s)
        self.table: CountingTable | None = None
        self.runs: list[PretokenCounts] = []  # finished: canonical runs, the largest first

    def add(self, batch: list[str]) -> None:
        compiled = self.pretokenizer.compiled
        if compiled is None:
            split, update = self.pretokenizer.splitter, self.counter.update
            for document in batch:
                update(split(document))
            return
        if self.table is None:
            from tokensmith.train.text_table import CountingTable

            self.table = CountingTable()
        self.table.add(*compiled.count_utf8(batch))

    def finish(self) -> None:
        if self.table is not None:
            self.runs.append(PretokenCounts.from_table(*self.table.total()))
            self.table = None
        if self.counter or not self.runs:
            self.runs.append(PretokenCounts.from_counter(self.counter))
        if len(self.runs) > 1:
            self.runs = [PretokenCounts.merged(self.runs)]
        self.counter = Counter()

    @classmethod
    def combine(cls, partials: list[PretokenTally]) -> PretokenTally:
        total = partials[0]
        runs = sorted((run for tally in partials for run in tally.runs), key=len, reverse=True)
        if sum(map(len, runs[1:])) >= len(runs[0]) // 4:
            runs = [PretokenCounts.merged(runs)]
        total.runs = runs
        return total

    def counts(self, documents: int) -> PretokenCounts:
        """All the counts of this finished tally, in canonical order."""
        merged = PretokenCounts.merged(self.runs) if self.runs else PretokenCounts((), np.zeros(0, np.int64))
        return PretokenCounts(merged.pretokens, merged.counts, documents)


@dataclass(frozen=True)
class LanguageBatch:
    """A batch of whole documents of one language (what :class:`LanguageTally` takes in)."""

    language: str
    documents: list[str]

    def __len__(self) -> int:  # the engines count documents by the length of each batch
        return len(self.documents)


class LanguageTally(Tally):
    """The pre-tokens of several languages, each counted on its own (a :class:`PretokenTally` per language),
    from batches of :class:`LanguageBatch` (what :meth:`CountingEngine.count_languages` collects)."""

    def __init__(self, pretokenizer: Pretokenizer) -> None:
        self.pretokenizer = pretokenizer
        self.tallies: dict[str, PretokenTally] = {}
        self.documents: dict[str, int] = {}

    def add(self, batch: LanguageBatch) -> None:
        tally = self.tallies.get(batch.language)
        if tally is None:
            tally = self.tallies[batch.language] = PretokenTally(self.pretokenizer)
        tally.add(batch.documents)
        self.documents[batch.language] = self.documents.get(batch.language, 0) + len(batch.documents)

    def finish(self) -> None:
        for tally in self.tallies.values():
            tally.finish()

    @classmethod
    def combine(cls, partials: list[LanguageTally]) -> LanguageTally:
        total = partials[0]
        by_language: dict[str, list[PretokenTally]] = {}
        for part in partials:
            for language, tally in part.tallies.items():
                by_language.setdefault(language, []).append(tally)
        total.tallies = {language: PretokenTally.combine(tallies) for language, tallies in by_language.items()}
        documents: dict[str, int] = {}
        for part in partials:
            for language, count in part.documents.items():
                documents[language] = documents.get(language, 0) + count
        total.documents = documents
        return total

    def counts(self, languages: Iterable[str]) -> dict[str, PretokenCounts]:
        """Counts of each of ``languages`` (empty for a language without documents)."""
        empty = PretokenTally(self.pretokenizer)
        empty.finish()
        return {language: self.tallies.get(language, empty).counts(self.documents.get(language, 0))
                for language in languages}


#: Makes an empty tally (the engines call it once per worker or batch; picklable, e.g. a class or a partial).
TallyFactory = Callable[[], Tally]


def local_workers(workers: int | None) -> int:
    """``workers``, or one per CPU core of this machine when ``None``."""
    return workers or os.cpu_count() or 1


class CountingEngine(ABC):
    """Counts the pre-tokens of a stream of documents.

    Args:
        workers: parallel workers; ``None`` means one per CPU core.
    """

    #: Whether the engine can run on a cluster, and so takes a cluster ``address`` (see :func:`make_engine`).
    distributed: ClassVar[bool] = False

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise InputError(f"workers must be at least 1, got {workers}", "pass --workers 1 or more")
        self.workers = local_workers(workers)

    def count(self, documents: Iterable[str], pretokenizer: Pretokenizer) -> PretokenCounts:
        """Distinct pre-tokens of ``documents`` and their counts."""
        _ = pretokenizer.compiled  # built here, once, rather than in every worker
        tally, n_documents = self.tally(documents, partial(PretokenTally, pretokenizer))
        return tally.counts(n_documents)

    def count_languages(self, documents: Mapping[str, Iterable[str]],
                        pretokenizer: Pretokenizer) -> dict[str, PretokenCounts]:
        """Distinct pre-tokens and their counts of each language's ``documents``, counted separately.

        Equal to :meth:`count` per language; this default does exactly that. The local engines
        override it with one pass over all languages, so that many small languages keep every worker
        busy instead of each being counted serially (or paying for its own workers).
        """
        return {language: self.count(texts, pretokenizer) for language, texts in documents.items()}

    @abstractmethod
    def tally(self, documents: Iterable[str], new_tally: TallyFactory) -> tuple[Tally, int]:
        """``(tally, documents read)``: ``documents`` read once into tallies from ``new_tally``, combined."""

    def session(self) -> AbstractContextManager:
        """Keeps what the engine needs (e.g. a local Ray) up across several counts made inside it.

        Without one each count sets up and tears down on its own, which for local engines costs nothing.
        """
        return nullcontext()


COUNTING_ENGINES: Registry[type[CountingEngine]] = Registry("pre-token counting engine")


class BatchEngine(CountingEngine):
    """An engine that counts any stream of batches (:meth:`tally_batches`), so that it can count
    several languages in one pass: batches of :class:`LanguageBatch` into a :class:`LanguageTally`."""

    def tally(self, documents: Iterable[str], new_tally: TallyFactory) -> tuple[Tally, int]:
        return self.tally_batches(_batches(documents), new_tally)

    def count_languages(self, documents: Mapping[str, Iterable[str]],
                        pretokenizer: Pretokenizer) -> dict[str, PretokenCounts]:
        _ = pretokenizer.compiled  # built here, once, rather than in every worker
        tally, _ = self.tally_batches(_language_batches(documents), partial(LanguageTally, pretokenizer))
        return tally.counts(documents)

    @abstractmethod
    def tally_batches(self, batches: Iterable[list[str] | LanguageBatch],
                      new_tally: TallyFactory) -> tuple[Tally, int]:
        """:meth:`tally` of documents already grouped into batches."""


@COUNTING_ENGINES.register("serial")
class SerialEngine(BatchEngine):
    """Counts in the calling process."""

    def tally_batches(self, batches: Iterable[list[str] | LanguageBatch],
                      new_tally: TallyFactory) -> tuple[Tally, int]:
        tally = new_tally()
        n_documents = 0
        for batch in batches:
            tally.add(batch)
            n_documents += len(batch)
        tally.finish()
        return tally, n_documents


@COUNTING_ENGINES.register("local")
class LocalEngine(BatchEngine):
    """Counts in worker processes fed with batches of whole documents; serial for small inputs."""

    def tally_batches(self, batches: Iterable[list[str] | LanguageBatch],
                      new_tally: TallyFactory) -> tuple[Tally, int]:
        batches = iter(batches)
        head = []
        for batch in batches:
            head.append(batch)
            if len(head) >= self.workers:
                break
        if len(head) < self.workers or self.workers == 1:
            return SerialEngine(1).tally_batches(_chain(head, batches), new_tally)
        return self._tally_parallel([*head], batches, new_tally)

    def _tally_parallel(self, head: list[list[str]], rest: Iterator[list[str]],
                        new_tally: TallyFactory) -> tuple[Tally, int]:
        with handover_directory() as directory:
            return self._tally_with(head, rest, new_tally, directory)

    def _tally_with(self, head: list[list[str]], rest: Iterator[list[str]], new_tally: TallyFactory,
                    directory: str | None) -> tuple[Tally, int]:
        context = process_context()
        tasks = context.Queue(maxsize=2 * self.workers)
        results = context.Queue()
        workers = [
            context.Process(target=_worker_main, args=(tasks, results, new_tally, directory), daemon=True)
            for _ in range(self.workers)
        ]
        for worker in workers:
            worker.start()
        try:
            n_documents = 0
            for batch in _chain(head, rest):
                n_documents += len(batch)
                _put(tasks, batch, workers)
            for _ in workers:
                _put(tasks, None, workers)
            partials = [_get(results, workers) for _ in workers]
        except BaseException:
            tasks.cancel_join_thread()  # batches still queued for the stopped workers would block the exit
            for worker in workers:
                worker.terminate()
            raise
        for worker in workers:
            worker.join()
        return type(partials[0]).combine(partials), n_documents


def make_engine(engine: str, workers: int | None = None, address: str | None = None) -> CountingEngine:
    """The registered engine ``engine``, configured (cheap: nothing starts until it counts).

    Args:
        engine: a name from :data:`COUNTING_ENGINES`.
        workers: parallel workers (``None``: one per CPU core, or the whole cluster for ``ray``).
        address: the cluster a distributed engine runs on (``None``: its default, e.g. ``RAY_ADDRESS``).

    Raises:
        InputError: an unknown engine (the error lists the known ones), workers below 1, or an address
            for an engine that only runs on this machine.
    """
    engine_class = COUNTING_ENGINES.get(engine)
    if not engine_class.distributed:
        if address is not None:
            distributed = [name for name, entry in COUNTING_ENGINES.items() if entry.distributed]
            raise InputError(f"the {engine} counting engine runs on this machine and takes no cluster address",
                             f"count with a distributed engine ({', '.join(distributed)}) to use the address, "
                             "or drop the address")
        return engine_class(workers)
    return engine_class(workers, address=address)


def count_pretokens(documents: Iterable[str], pretokenizer: Pretokenizer, *, engine: str = "local",
                    workers: int | None = None, address: str | None = None) -> PretokenCounts:
    """Count the pre-tokens of ``documents`` with a registered engine.

    Args:
        documents: the corpus, one string per document; documents are pre-tokenized independently.
        pretokenizer: how to cut each document.
        engine: a name from :data:`COUNTING_ENGINES`.
        workers: parallel workers (``None``: one per CPU core).
        address: the cluster of a distributed engine (``ray``: ``host:port`` or ``ray://host:10001``;
            ``None``: ``RAY_ADDRESS``, else a local Ray).

    Raises:
        InputError: a document is not a string, an unknown engine, or an address for a local engine.
    """
    return make_engine(engine, workers, address).count(documents, pretokenizer)


def _batches(documents: Iterable[str]) -> Iterator[list[str]]:
    """Whole documents grouped into batches of about :data:`BATCH_CHARS` characters."""
    check_documents(documents)
    batch: list[str] = []
    size = 0
    for document in documents:
        if not isinstance(document, str):
            raise InputError(
                f"a document is a {type(document).__name__}, not text",
                "pass an iterable of str (decode bytes first, or read the corpus with tokensmith.corpus)",
            )
        batch.append(document)
        size += len(document)
        if size >= BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _language_batches(documents: Mapping[str, Iterable[str]]) -> Iterator[LanguageBatch]:
    """Each language's documents in batches of about :data:`BATCH_CHARS` characters, language by language."""
    for language, texts in documents.items():
        for batch in _batches(texts):
            yield LanguageBatch(language, batch)


def _chain(head: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from head
    yield from rest


def _worker_main(tasks: multiprocessing.Queue, results: multiprocessing.Queue, new_tally: TallyFactory,
                 directory: str | None = None) -> None:
    start_worker()
    try:
        tally = new_tally()
        while (batch := tasks.get()) is not None:
            tally.add(batch)
        tally.finish()
        handed = hand_over(tally, directory)
    except Exception as exc:  # reported to the parent, which raises it as a CorpusError
        results.put(f"{type(exc).__name__}: {exc}")
        return
    results.put(handed)


def _put(tasks: multiprocessing.Queue, item: object, workers: list[multiprocessing.Process]) -> None:
    while True:
        try:
            tasks.put(item, timeout=1.0)
            return
        except queue.Full:
            _check_alive(workers)


def _get(results: multiprocessing.Queue, workers: list[multiprocessing.Process]) -> Tally:
    while True:
        try:
            partial = results.get(timeout=1.0)
        except queue.Empty:
            _check_alive(workers)
            continue
        if isinstance(partial, str):
            raise CorpusError(f"pre-token counting failed in a worker: {partial}")
        return taken_over(partial)


def _check_alive(workers: list[multiprocessing.Process]) -> None:
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise CorpusError(
                f"a pre-token counting worker died (exit code {worker.exitcode})",
                "the machine may be out of memory; retry with fewer workers (--workers 1)",
            )


# Registers the "ray" engine beside the local ones, so that every user of COUNTING_ENGINES sees it;
# the module itself imports ray only when a count runs.
from tokensmith.train import ray_counting as _ray_counting  # noqa: E402, F401
