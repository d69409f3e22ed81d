"""Word counting for ``measure`` in a worker process that reads the corpora itself.

Segmenting text into words is Python work that holds the GIL. Run on a thread beside the encoders, it
kept them waiting for the GIL after every call into Rust (measured: the words thread held the GIL for
half the run). In a forked process it runs on the other core instead; it reads the corpora itself (a
second read costs less than shipping the text through a pipe) and starts while the parent is still
loading tokenizers. It sends back word counts, never text: per corpus, in corpus order,

* ``("skip", key, not_applicable)``: no word segmenter applies (the ``NotApplicable``), or
* ``("start", key, (spaced, segmenter name))``, then ``("words", key, counts)`` whenever its unit table fills, then
  ``("done", key, counts)``, or ``("skip", key, not_applicable)`` when the script guard, run on every
  batch, refuses the corpus after all (its first batch was in other scripts than the rest);
* ``("error", key, message)`` ends the stream.

The parent's receiving thread splits the counts per tokenizer (it holds the tokenizers). Where fork is
not available the same counting runs on a thread of the parent (correct, not faster).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from tokensmith.corpus.language_tags import UNDETERMINED
from tokensmith.corpus.words import NotApplicable, ScriptTally
from tokensmith.errors import CorpusError
from tokensmith.metrics.word_split import UnitCounter, WordSplit, WordTotals

#: Messages the worker may run ahead of the parent's splitting (each at most a unit table's words).
QUEUED_MESSAGES = 16

#: Seconds between checks that the worker is still alive while waiting for its next message.
LIVENESS_POLL_SECONDS = 1.0


def segmenter_for(lang: str | None, first_batch: Sequence[str] | None):
    """The word segmenter of a corpus (its first batch decides only for romanised text under an unspaced
    language's tag), or NotApplicable; the script guard is the caller's, over every batch."""
    from tokensmith.corpus import word_segmenter

    return word_segmenter(lang, sample=first_batch or None, guard=False)


def _count_sources(sources: Sequence[Any], out) -> None:
    """The worker: every source's words, in order, as messages on ``out``."""
    key = -1
    try:
        for key, source in enumerate(sources):
            batches = source.documents()
            first = next(batches, None)
            segmenter = segmenter_for(source.lang, first)
            if isinstance(segmenter, NotApplicable):
                out.put(("skip", key, segmenter))
                continue
            out.put(("start", key, (segmenter.spaced, segmenter.name)))
            counter = UnitCounter(segmenter)
            scripts = ScriptTally(segmenter.segmented_scripts)  # the guard on every batch, not the first only
            for batch in itertools.chain([first] if first else [], batches):
                scripts.add(batch)
                words = counter.add(batch)
                if words:
                    out.put(("words", key, words))
            refused = scripts.refusal(source.lang or UNDETERMINED, segmenter.name)
            out.put(("skip", key, refused) if refused is not None else ("done", key, counter.flush()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it as a CorpusError
        out.put(("error", key, f"{type(exc).__name__}: {exc}"))


def _count_sources_in_worker(sources: Sequence[Any], out) -> None:
    from tokensmith.processes import start_worker

    start_worker()
    _count_sources(sources, out)


class WordCountingProcess:
    """Counts the words of ``sources`` (measure's ``_Source`` list) in a worker, from the moment it is made.

    Make it before starting threads (it forks at once); call :meth:`start_splitting` once the tokenizers
    are loaded, then :meth:`words` per corpus.
    """

    def __init__(self, sources: Sequence[Any]) -> None:
        from tokensmith.processes import process_context

        context = process_context()
        self._results: list[Future] = [Future() for _ in sources]
        self._segmenters: dict[int, str] = {}  # corpus key -> name of the word segmenter that counted it
        if context.get_start_method() == "fork":  # the worker inherits `sources` (their readers are closures)
            self._queue = context.Queue(maxsize=QUEUED_MESSAGES)
            self._worker: Any = context.Process(target=_count_sources_in_worker, args=(sources, self._queue),
                                                daemon=True, name="tokensmith-words")
        else:
            self._queue = queue.Queue(maxsize=QUEUED_MESSAGES)
            self._worker = threading.Thread(target=_count_sources, args=(sources, self._queue), daemon=True,
                                            name="tokensmith-words")
        self._worker.start()
        self._receiver: threading.Thread | None = None
        self._closed = threading.Event()

    def start_splitting(self, totals_for: Callable[[bool], WordTotals]) -> None:
        """Split the worker's counts per tokenizer as they arrive; ``totals_for(spaced)`` gives a corpus'
        empty :class:`WordTotals` (``spaced``: written with spaces)."""
        self._receiver = threading.Thread(target=self._receive, args=(totals_for,), daemon=True, name="words")
        self._receiver.start()

    def words(self, key: int) -> list[WordSplit] | NotApplicable:
        """Corpus ``key``'s word totals per tokenizer (waits for them), or why there are none."""
        return self._results[key].result()

    def segmenter(self, key: int) -> str | None:
        """The name of the word segmenter that counted corpus ``key`` (call after :meth:`words`), or None
        when no words were counted (the NotApplicable says why)."""
        words = self.words(key)
        return None if isinstance(words, NotApplicable) else self._segmenters.get(key)

    def close(self) -> None:
        """Stop the worker (if still counting) and the receiver; safe to call more than once."""
        self._closed.set()
        if hasattr(self._worker, "terminate"):  # a process; a thread is a daemon and ends with the program
            if self._worker.is_alive():
                self._worker.terminate()
            self._worker.join()
        if self._receiver is not None:
            self._receiver.join()

    def _receive(self, totals_for: Callable[[bool], WordTotals]) -> None:
        totals: dict[int, WordTotals] = {}
        try:
            while not all(result.done() for result in self._results):
                message = self._next_message()
                if message is None:
                    return
                kind, key, payload = message
                if kind == "skip":
                    totals.pop(key, None)
                    self._results[key].set_result(payload)
                elif kind == "start":
                    spaced, self._segmenters[key] = payload
                    totals[key] = totals_for(spaced)
                elif kind == "words":
                    totals[key].add(payload)
                elif kind == "done":
                    self._results[key].set_result(totals.pop(key).add(payload))
                else:
                    self._fail(CorpusError(f"word counting failed: {payload}"))
                    return
        except BaseException as exc:  # noqa: BLE001 - whoever waits for words gets it
            self._fail(exc)

    def _next_message(self):
        while not self._closed.is_set():
            try:
                return self._queue.get(timeout=LIVENESS_POLL_SECONDS)
            except queue.Empty:
                if not self._worker.is_alive():
                    self._fail(CorpusError(
                        f"the word-counting worker process died{_how_it_ended(self._worker)}",
                        "the machine may be out of memory: measure fewer or smaller corpora at a time "
                        "(--sample-bytes)",
                    ))
                    return None
        return None

    def _fail(self, error: BaseException) -> None:
        for result in self._results:
            if not result.done():
                result.set_exception(error)


def _how_it_ended(worker: Any) -> str:
    """`` (killed by SIGSEGV)`` or `` (exit code 3)`` for a process; nothing for a thread."""
    import signal

    code = getattr(worker, "exitcode", None)
    if code is None:
        return ""
    if code < 0:
        try:
            return f" (killed by {signal.Signals(-code).name})"
        except ValueError:
            return f" (killed by signal {-code})"
    return f" (exit code {code})"
