"""How tokensmith starts worker processes."""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.context
import signal


def process_context() -> multiprocessing.context.BaseContext:
    """fork where the platform has it, else the platform's default.

    fork starts workers in milliseconds and, unlike spawn, does not re-import a user's script (no
    ``if __name__ == "__main__"`` guard needed). Callers fork before they start threads of their own.
    """
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def leave_interrupts_to_the_parent() -> None:
    """Run first in a worker process: Ctrl-C (sent to the whole process group) is for the parent, which
    stops its workers and says so once; a worker's own KeyboardInterrupt printed a traceback per worker.
    SIGTERM, which the parent turns into that interrupt (``tokensmith.cli``), ends a worker at once again:
    it is how a pool stops its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_worker() -> None:
    """Run first in a forked worker process: :func:`leave_interrupts_to_the_parent`, and keep the garbage
    collector away from the objects inherited from the parent (``gc.freeze``). Their finalizers may wait
    for a lock that one of the parent's threads held at the fork (Ray's, in a process that runs Ray): a
    counting worker that built many tuples started a full collection and hung there for ever."""
    leave_interrupts_to_the_parent()
    gc.freeze()
