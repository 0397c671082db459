"""A thread pool that runs jobs in parallel and gives their results back in order.

numpy releases the GIL in the vectorised parser and in the losses' arithmetic, so blocks
parse and compute in parallel on threads.  Jobs are pulled one at a time from an iterator
(reading a file stays sequential, in this thread) and only a few run or wait at once: at
most ``ahead``, and at most ``window_bytes`` of the data the jobs carry (a job says how much
as :class:`Weighed`).  So memory is bounded in bytes, whatever the number of threads: more
threads than the window holds jobs wait.  An error comes out where its job stands in the
order, after the results of every job before it, whatever the number of threads.

Threads are started as jobs need them.  One that cannot be started (an address-space or
process limit: ``can't start new thread``) is not an error: the jobs run on the threads
there are, down to none, when they run here, in the calling thread.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")
MAX_DEFAULT_THREADS = 8
"""Threads used by default at most (the CPUs, if fewer)."""
MAX_THREADS = 16
"""Threads used at most, whatever ``BCECLI_THREADS`` says."""
WINDOW_BYTES = 5 << 19
"""Bytes of data (text or binary, as the jobs carry it) that run or wait in one window beyond
the job being given back: two blocks of 1 MiB, or one longer row.  Each block of text takes
about 15 times its size while it is parsed, so this, not the thread count, bounds memory."""

_Work = tuple["Future[Any]", contextvars.Context, Callable[[], Any]]


class Weighed(Generic[T]):
    """A job and the bytes of data it carries, counted against the window it runs in."""

    __slots__ = ("job", "nbytes")

    def __init__(self, job: Callable[[], T], nbytes: int) -> None:
        self.job = job
        self.nbytes = nbytes

    def __call__(self) -> T:
        return self.job()


class Later(Weighed[T]):
    """A job that mostly waits for another's work (one block of a file parsed once for two
    sources): run where its result is asked for, in order, not on a thread it would hold
    idle while the work it waits for needs one."""

    __slots__ = ()


class _Deferred(Future[T]):
    """The future of a :class:`Later` job: the job runs when the result is asked for."""

    def __init__(self, job: Callable[[], T]) -> None:
        super().__init__()
        self._job: Callable[[], T] | None = job

    def result(self, timeout: float | None = None) -> T:
        job, self._job = self._job, None
        if job is not None and self.set_running_or_notify_cancel():
            try:
                self.set_result(job())
            except Exception as exc:  # said where the job stands in the order
                self.set_exception(exc)
        return super().result(timeout)


def default_threads(env: Mapping[str, str]) -> int:
    """``BCECLI_THREADS`` if set (a whole number ≥ 1; at most :data:`MAX_THREADS` are used),
    else the CPUs this process may use, at most :data:`MAX_DEFAULT_THREADS`.

    >>> default_threads({"BCECLI_THREADS": "3"}), default_threads({"BCECLI_THREADS": "1000"})
    (3, 16)

    Only ASCII digits, as in every other number bcecli reads (``int`` takes ``'١'``, 1).
    """
    text = env.get("BCECLI_THREADS", "").strip()
    if text:
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            from bcecli.errors import BceError
            from bcecli.io.textparse import printable

            raise BceError(f"BCECLI_THREADS must be a whole number of threads, 1 or more; "
                           f"got {printable(text)!r}")
        return min(int(text), MAX_THREADS)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_THREADS))


class Pool:
    """Runs jobs on up to ``threads`` threads (1: here, one after the other)."""

    def __init__(self, threads: int = 1, window_bytes: int = WINDOW_BYTES) -> None:
        self.threads = max(1, threads)
        self.window_bytes = window_bytes
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)

    def ordered(self, jobs: Iterator[Callable[[], T]], ahead: int | None = None
                ) -> Iterator[T]:
        """The results of the jobs, in the jobs' order; at most ``ahead`` (default: as many
        as there are threads) run or wait beyond the one being given back, and no more than
        :attr:`window_bytes` of data (at least one job, however big)."""
        if self.threads == 1:
            for job in jobs:
                yield job()
            return
        first = next(jobs, None)
        if first is None:
            return
        try:
            second = next(jobs, None)
        except Exception:
            yield first()  # what went wrong in the first job is said first
            raise
        if second is None:  # one job: no thread is started
            yield first()
            return
        jobs = itertools.chain((first, second), jobs)
        ahead = self.threads if ahead is None else max(1, ahead)
        window: deque[tuple[Future[T], int]] = deque()  # (a job's future, its bytes)
        try:
            while True:
                try:
                    job = next(jobs)
                except StopIteration:
                    break
                except Exception:  # reading failed: what went wrong before it is said first
                    while window:
                        yield window.popleft()[0].result()
                    raise
                future = _Deferred(job) if isinstance(job, Later) else self._submit(job)
                window.append((future, getattr(job, "nbytes", 0)))
                del future
                del job  # (its data is the job's to hold, not this reader's, once it ran)
                while len(window) > ahead or (len(window) > 1 and sum(
                        n for _, n in window) > self.window_bytes):
                    yield window.popleft()[0].result()
            while window:
                yield window.popleft()[0].result()
        finally:
            for future, _ in window:
                future.cancel()

    def _submit(self, job: Callable[[], T]) -> Future[T]:
        """Hand a job to an idle thread, a new one, or (none can be started) run it here."""
        future: Future[T] = Future()
        if not self._idle.acquire(blocking=False) and len(self._workers) < self.threads:
            self._start()
        if not self._workers:
            try:
                future.set_result(job())
            except Exception as exc:  # said where the job stands in the order
                future.set_exception(exc)
            return future
        # each job runs in this thread's context (numpy's errstate)
        self._work.put((future, contextvars.copy_context(), job))
        return future

    def _start(self) -> None:
        """One more thread; where none can be started, the threads there are will do."""
        try:
            thread = threading.Thread(target=self._serve, daemon=True,
                                      name=f"bcecli_{len(self._workers)}")
            thread.start()
        except (RuntimeError, MemoryError):  # "can't start new thread": a limit was reached
            self.threads = max(1, len(self._workers))
            return
        self._workers.append(thread)

    def _serve(self) -> None:
        """A thread's life: run jobs until told to stop."""
        while True:
            work = self._work.get()
            if work is None:
                return
            future, context, job = work
            del work
            if future.set_running_or_notify_cancel():
                try:
                    result = context.run(job)
                except BaseException as exc:  # (MemoryError too: said by the caller)
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                    del result
            del future, context, job  # (a finished block's memory is not held while idle)
            self._idle.release()

    def close(self) -> None:
        """Cancel the jobs still waiting, wait for the running ones (each is short) and end
        the threads."""
        while True:
            try:
                work = self._work.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work[0].cancel()
        for _ in self._workers:
            self._work.put(None)
        for thread in self._workers:
            thread.join()
        self._workers.clear()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
