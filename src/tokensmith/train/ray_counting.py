"""The ``ray`` pre-token counting engine: the local engine's batches, counted in Ray tasks.

Where it runs, first match wins:

1. a Ray this process already started (``ray.init()`` in the caller's own code): used as it is and
   left running;
2. the cluster at ``address`` (``host:port`` or a Ray Client ``ray://host:10001``), else at the
   ``RAY_ADDRESS`` environment variable;
3. a local Ray started for this count with ``workers`` CPUs (all cores when ``None``), shut down
   when the count is done.

Documents are grouped into the same whole-document batches as the local engine (a document is never
cut) and each Ray task counts one batch; the driver adds the partial counts up as they arrive. Since
every document is pre-tokenized on its own and addition does not depend on order, the counts equal
the local engine's for any batching, task order or cluster size.

Only :data:`TASKS_PER_CPU` batches per CPU are in flight at a time, so a corpus of any size streams
through the object store with flat memory. A cluster needs tokensmith installed on every node (tasks
import it to pre-tokenize).

>>> from tokensmith.train import Pretokenizer, count_pretokens
>>> counts = count_pretokens(["the cat"] * 3, Pretokenizer.create("gpt2"), engine="ray", workers=1)
>>> counts.as_dict()
{b' cat': 3, b'the': 3}
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import ModuleType

from tokensmith.errors import CorpusError, InputError, MissingDependencyError
from tokensmith.train.counting import (
    COUNTING_ENGINES,
    CountingEngine,
    Tally,
    TallyFactory,
    _batches,
)

#: How long to wait for a cluster's head node to accept a connection before giving up.
CONNECT_TIMEOUT_SECONDS = 5.0

#: Batches in flight per CPU: one being counted and one waiting, so no CPU idles while the driver
#: reads the next batch, and memory stays bounded however large the corpus is.
TASKS_PER_CPU = 2


@COUNTING_ENGINES.register("ray")
class RayEngine(CountingEngine):
    """Counts batches of whole documents in Ray tasks, on a cluster or on a local Ray.

    Args:
        workers: CPUs of a local Ray; on a cluster, how many CPUs to keep busy (``TASKS_PER_CPU`` batches
            in flight for each). ``None``: all cores of this machine, or all CPUs of the cluster.
        address: the Ray cluster to connect to (``None``: ``RAY_ADDRESS``, else a local Ray).
    """

    distributed = True

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        super().__init__(workers)
        # The base class turns None into this machine's core count; a cluster's size is only known
        # once connected, so keep what was asked for.
        self.requested_workers = workers
        self.address = address

    def tally(self, documents: Iterable[str], new_tally: TallyFactory) -> tuple[Tally, int]:
        batches = _batches(documents)
        first = next(batches, None)
        if first is None:  # an empty corpus: no reason to start or reach a cluster
            empty = new_tally()
            empty.finish()
            return empty, 0
        with self.session() as ray:
            return self._tally_in_tasks(ray, itertools.chain([first], batches), new_tally)

    def session(self) -> AbstractContextManager[ModuleType]:
        """Ray connected (or started) for every count made inside; a local Ray starts once, not per count."""
        return ray_session(self.address, self.requested_workers)

    def _tally_in_tasks(self, ray: ModuleType, batches: Iterator[list[str]],
                        new_tally: TallyFactory) -> tuple[Tally, int]:
        cpus = self.requested_workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        in_flight_limit = TASKS_PER_CPU * cpus
        batch_task = ray.remote(num_cpus=1)(tally_batch)
        factory_ref = ray.put(new_tally)  # shipped once, not with every batch
        total: list[Tally] = []  # the running sum: at most one tally
        n_documents = 0
        pending: list = []
        try:
            for batch in batches:
                n_documents += len(batch)
                if len(pending) >= in_flight_limit:
                    pending = _add_finished(ray, pending, total)
                pending.append(batch_task.remote(factory_ref, batch))
            while pending:
                pending = _add_finished(ray, pending, total)
        except BaseException:
            for task in pending:  # on a shared cluster, do not leave our work running after a failure
                ray.cancel(task)
            raise
        return total[0], n_documents


def tally_batch(new_tally: TallyFactory, batch: list[str]) -> Tally:
    """One batch of documents in a fresh, finished tally (the body of a Ray task)."""
    tally = new_tally()
    tally.add(batch)
    tally.finish()
    return tally


def _add_finished(ray: ModuleType, pending: list, total: list[Tally]) -> list:
    """Wait for at least one pending task, combine its tally into ``total`` (a list holding the running
    sum, empty at first) and return the tasks still pending."""
    finished, still_pending = ray.wait(pending, num_returns=1)
    for task in finished:
        try:
            partial = ray.get(task)
        except ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            raise CorpusError(f"pre-token counting failed in a Ray task: {type(cause).__name__}: {cause}",
                              "a worker may be out of memory; retry with fewer workers or --engine local"
                              ) from None
        total[:] = [type(partial).combine([*total, partial])]
    return still_pending


@contextmanager
def ray_session(address: str | None, num_cpus: int | None) -> Iterator[ModuleType]:
    """The ``ray`` module, connected as the module docstring describes; shuts down only a Ray it started.

    Raises:
        MissingDependencyError: ray is not installed.
        InputError: no Ray cluster answers at the address.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        # "local" always starts a fresh Ray: without it ray.init would join any Ray that `ray start`
        # left running on this machine, with another user's CPU limits.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
    else:
        _check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, TimeoutError) as exc:
            raise _unreachable(address, exc) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str) -> None:
    """Fail in seconds on a cluster address nothing listens at; ray.init would retry it for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():  # "auto" and other forms ray.init resolves itself
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as exc:
        raise _unreachable(address, exc) from None


def _unreachable(address: str, cause: Exception) -> InputError:
    return InputError(f"cannot reach a Ray cluster at {address!r}: {cause}",
                      "check the address (host:port or ray://host:10001) and that the cluster is up "
                      "(`ray status` on its head node), or unset RAY_ADDRESS to count on a local Ray")


def import_ray() -> ModuleType:
    """The ``ray`` module, imported only when a Ray count runs (it takes seconds to import)."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("pre-token counting with engine 'ray'", ["ray"], extra="ray") from None
    return ray
