"""The worker process of a large import: it reads, maps and checks batches while the importing
process checks duplicates and writes them.

The worker is forked, so it starts with a copy of everything the import prepared (mapping,
catalog, the user's rights) and never touches the database: the connections are closed before
the fork, and any query in the worker raises. Batches come back through a pipe, pickled; the
worker is at most one batch ahead (it blocks on a full pipe), so memory stays bounded. A worker
that fails, dies or falls silent ends the import with ``WorkerFailed``; a file the reader
refuses halfway ends it with ``FileRejected``, as when reading in-line.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import traceback
from collections.abc import Generator, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from django.db import connections

from rapport.imports.problems import Problem, problem
from rapport.imports.readers import FileRejected

T = TypeVar("T")

SILENCE_SECONDS = 300.0  # no batch for this long: the worker is stuck (a batch takes well under a second)
_POLL_SECONDS = 0.5


class WorkerFailed(Exception):
    """The worker process stopped before the end of the file; ``detail`` is its traceback, if it sent one."""

    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(problem.english())
        self.problem = problem
        self.detail = detail


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def run_in_worker(items: Iterator[T]) -> Generator[T, None, None]:
    """Yields what ``items`` yields, computed in a process forked now (the database connections
    are closed first). Closing the generator (the import stopped early) stops the worker."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    # A connection must not be shared with the child: closed here, reopened on the next query.
    # (An in-memory SQLite database ignores the close; the worker never uses it either.)
    connections.close_all()
    process = context.Process(target=_work, args=(items, sender, receiver), name="rapport-import-reader", daemon=True)
    process.start()
    sender.close()  # only the worker writes: its death then reads as the end of the pipe
    return _results(receiver, process)


def _results(receiver: Connection, process: Any) -> Generator[Any, None, None]:
    try:
        while True:
            message = list(_receive(receiver, process))
            kind = message[0]
            if kind == "batch":
                # Popped, so this frame does not keep the batch alive while the caller works on it.
                yield message.pop()
            elif kind == "done":
                return
            elif kind == "rejected":
                raise FileRejected(message[1])
            else:
                raise WorkerFailed(problem("job.worker_failed"), message[1])
    finally:
        receiver.close()
        _stop(process)


def _receive(receiver: Connection, process: Any) -> tuple[str, Any]:
    silent = 0.0
    while not receiver.poll(_POLL_SECONDS):
        if not process.is_alive():
            if receiver.poll(0):  # it sent its last word, then ended
                break
            raise WorkerFailed(problem("job.worker_stopped", reason=_exit_reason(process)))
        silent += _POLL_SECONDS
        if silent >= SILENCE_SECONDS:
            raise WorkerFailed(problem("job.worker_silent", seconds=int(SILENCE_SECONDS)))
    try:
        message: tuple[str, Any] = receiver.recv()
    except (EOFError, OSError):
        process.join(timeout=5)
        raise WorkerFailed(problem("job.worker_stopped", reason=_exit_reason(process))) from None
    return message


def _exit_reason(process: Any) -> str:
    code = process.exitcode
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _stop(process: Any) -> None:
    if process.is_alive():
        process.terminate()
    process.join(timeout=10)
    if process.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
        process.kill()
        process.join(timeout=10)


def _refuse_queries(*_args: Any) -> Any:
    raise RuntimeError("The import's worker process must not query the database.")


def _work(items: Iterator[Any], sender: Connection, receiver: Connection) -> None:
    """The worker: produces every item and sends it, then "done" (or why it stopped)."""
    receiver.close()
    try:
        # The parent's handlers are not the worker's: SIGTERM (``_stop``) ends it, and Ctrl-C is
        # the parent's to handle (it then stops the worker).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # pragma: no cover - not the main thread, which a forked process always is
        pass
    # Nothing it allocates is cyclic garbage worth scanning for, and a collection would touch
    # (and so copy) every page it shares with the parent.
    gc.disable()
    for alias in connections:
        connections[alias].execute_wrappers.append(_refuse_queries)
    try:
        for item in items:
            sender.send(("batch", item))
        sender.send(("done", None))
    except FileRejected as exc:
        sender.send(("rejected", exc.problem))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the importing process stopped reading: nothing left to do
    except BaseException:
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()
        # Leave without running the parent's exit handlers or closing its database handles.
        os._exit(0)
