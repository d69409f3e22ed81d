"""Results handed from worker processes to their parent through a memory file system instead of the pipe.

A counting worker's result holds large arrays (a ``superword`` worker's, ~150 MB on 65 MB of text). Put on a
``multiprocessing`` queue it is pickled into one message that the parent reads from a pipe 64 kB at a time:
0.5-0.6 s per 150 MB here, one worker after the other, while both cores but one idle. Pickled with protocol
5, the arrays' buffers go out of band instead: the worker writes them to a file in ``/dev/shm`` (a tmpfs,
i.e. memory) and sends the small rest; the parent maps the file and unlinks it at once (0.2 s per 150 MB,
the workers writing in parallel). The arrays then live in the mapping (private: writable, copied only
where written).

Where there is no ``/dev/shm``, or it is full (a container's is often 64 MB), or the buffers are small, they
go through the queue beside the rest (pickled once, not again by the queue): the same objects either way.
"""

from __future__ import annotations

import mmap
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Fewest bytes of out-of-band buffers worth a file (below, the pipe is as quick).
HANDOVER_BYTES = 1 << 22
_MEMORY_FILE_SYSTEM = Path("/dev/shm")
_ALIGNMENT = 64  # each buffer starts at a multiple: arrays made from them are aligned


@dataclass(frozen=True)
class HandedOver:
    """A result pickled without its buffers (``payload``), which are in the file ``path`` at ``spans``
    (``(start, size)`` each), or in ``inline`` when ``path`` is None."""

    payload: bytes
    path: str | None
    spans: tuple[tuple[int, int], ...] = ()
    inline: tuple[bytearray, ...] = ()

    def load(self) -> object:
        """The result, its buffers mapped from the file, which is removed."""
        if self.path is None:
            return pickle.loads(self.payload, buffers=self.inline)
        try:
            with open(self.path, "rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        finally:
            os.unlink(self.path)
        view = memoryview(mapped)
        return pickle.loads(self.payload, buffers=[view[start:start + size] for start, size in self.spans])


@contextmanager
def handover_directory() -> Iterator[str | None]:
    """A fresh directory in ``/dev/shm`` for the workers' results (None where there is none), removed with
    whatever is left in it (a worker stopped between writing and sending) at exit."""
    if not (_MEMORY_FILE_SYSTEM.is_dir() and os.access(_MEMORY_FILE_SYSTEM, os.W_OK)):
        yield None
        return
    directory = tempfile.mkdtemp(prefix="tokensmith-", dir=_MEMORY_FILE_SYSTEM)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def hand_over(result: object, directory: str | None) -> object:
    """What a worker puts on the queue for ``result``: ``result`` itself when ``directory`` is None, else a
    :class:`HandedOver` whose buffers are in a file when they are large (and the file could be written)."""
    if directory is None:
        return result
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    if sum(raw.nbytes for raw in raws) < HANDOVER_BYTES:
        return _inline(payload, raws)
    spans, at = [], 0
    for raw in raws:
        at = -(-at // _ALIGNMENT) * _ALIGNMENT
        spans.append((at, raw.nbytes))
        at += raw.nbytes
    path = os.path.join(directory, f"result-{os.getpid()}")
    try:
        with open(path, "wb") as handle:
            for (start, _), raw in zip(spans, raws, strict=True):
                handle.seek(start)
                handle.write(raw)
    except OSError:  # e.g. /dev/shm full: the pipe still works
        Path(path).unlink(missing_ok=True)
        return _inline(payload, raws)
    return HandedOver(payload, path, tuple(spans))


def _inline(payload: bytes, raws: list[memoryview]) -> HandedOver:
    # bytearrays: the arrays made from them are writable, as arrays unpickled the usual way are
    return HandedOver(payload, None, inline=tuple(bytearray(raw) for raw in raws))


def taken_over(received: object) -> object:
    """The result a worker handed over (:func:`hand_over`)."""
    return received.load() if isinstance(received, HandedOver) else received
