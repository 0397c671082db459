"""A thread pool that runs jobs in parallel and gives their results back in order.

numpy releases the GIL in the vectorised parser and in the losses' arithmetic, so blocks
parse and compute in parallel on threads.  Jobs are pulled one at a time from an iterator
(reading a file stays sequential, in this thread) and at most ``ahead`` run or wait at once,
which bounds memory.  An error comes out where its job stands in the order, after the
results of every job before it, whatever the number of threads.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")
MAX_DEFAULT_THREADS = 8
"""Threads used by default at most: more add memory (a block each) for little speed."""


def default_threads(env: Mapping[str, str]) -> int:
    """``BCECLI_THREADS`` if set (a whole number ≥ 1), else the CPUs this process may use.

    >>> default_threads({"BCECLI_THREADS": "3"})
    3
    """
    text = env.get("BCECLI_THREADS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            from bcecli.errors import BceError

            raise BceError(f"BCECLI_THREADS must be a whole number of threads, 1 or more; "
                           f"got {text!r}")
        return int(text)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_THREADS))


class Pool:
    """Runs jobs on ``threads`` threads (1: here, one after the other)."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = max(1, threads)
        self._executor: ThreadPoolExecutor | None = None

    def ordered(self, jobs: Iterator[Callable[[], T]], ahead: int | None = None
                ) -> Iterator[T]:
        """The results of the jobs, in the jobs' order; at most ``ahead`` (default: as many
        as there are threads) run or wait beyond the one being given back."""
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
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="bcecli")
        ahead = self.threads if ahead is None else max(1, ahead)
        window: deque[Future[T]] = deque()
        try:
            while True:
                try:
                    job = next(jobs)
                except StopIteration:
                    break
                except Exception:  # reading failed: what went wrong before it is said first
                    while window:
                        yield window.popleft().result()
                    raise
                # each job runs in this thread's context (numpy's errstate)
                window.append(self._executor.submit(contextvars.copy_context().run, job))
                while len(window) > ahead:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()

    def close(self) -> None:
        """Wait for running jobs (each is short) and drop the threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
