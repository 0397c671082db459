"""The thread pool gives results, and errors, in the order of the jobs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from bcecli.compute.pool import Later, Pool, default_threads
from bcecli.errors import BceError


def _jobs(fail_at: set[int], n: int = 12, read_fails_at: int | None = None
          ) -> Iterator[Callable[[], int]]:
    for i in range(n):
        if i == read_fails_at:
            raise BceError(f"reading {i}")

        def job(i: int = i) -> int:
            time.sleep(0.002 * ((i * 7) % 5))  # finish out of order
            if i in fail_at:
                raise BceError(f"job {i}")
            return i
        yield job


@pytest.mark.parametrize("threads", [1, 2, 4, 8])
def test_results_in_order(threads: int) -> None:
    with Pool(threads) as pool:
        assert list(pool.ordered(_jobs(set()))) == list(range(12))


@pytest.mark.parametrize("threads", [1, 2, 4, 8])
@pytest.mark.parametrize("ahead", [None, 1, 3])
def test_the_first_failing_job_is_the_error(threads: int, ahead: int | None) -> None:
    got: list[int] = []
    with Pool(threads) as pool, pytest.raises(BceError, match="job 5"):
        for r in pool.ordered(_jobs({5, 6, 9}), ahead=ahead):
            got.append(r)
    assert got == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_a_failed_read_comes_after_the_jobs_before_it(threads: int) -> None:
    got: list[int] = []
    with Pool(threads) as pool, pytest.raises(BceError, match="reading 7"):
        for r in pool.ordered(_jobs(set(), read_fails_at=7)):
            got.append(r)
    assert got == list(range(7))
    got = []
    with Pool(threads) as pool, pytest.raises(BceError, match="job 3"):
        for r in pool.ordered(_jobs({3}, read_fails_at=7)):
            got.append(r)
    assert got == [0, 1, 2]


def test_thread_count_from_the_environment() -> None:
    assert default_threads({"BCECLI_THREADS": "5"}) == 5
    assert 1 <= default_threads({}) <= 8
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(BceError, match="BCECLI_THREADS"):
            default_threads({"BCECLI_THREADS": bad})


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``starts(k)``: after k threads have started, starting one more fails as it does at a
    limit (``ulimit -v``, ``ulimit -u``): RuntimeError("can't start new thread")."""
    import threading

    real = threading.Thread.start

    def allow(k: int) -> None:
        started = [0]

        def start(self: threading.Thread) -> None:
            if started[0] >= k:
                raise RuntimeError("can't start new thread")
            started[0] += 1
            real(self)

        monkeypatch.setattr(threading.Thread, "start", start)

    return allow


@pytest.mark.parametrize("threads", [2, 8])
@pytest.mark.parametrize("can_start", [0, 1, 3])
def test_threads_that_cannot_start_leave_the_work_to_the_others(
        starts: Callable[[int], None], threads: int, can_start: int) -> None:
    """A thread that cannot be started is no error: the jobs run on those there are, or
    here; results and errors still come in order."""
    starts(can_start)
    with Pool(threads) as pool:
        assert list(pool.ordered(_jobs(set(), n=30))) == list(range(30))
        assert pool.threads == max(1, min(threads, can_start))
    got: list[int] = []
    with Pool(threads) as pool, pytest.raises(BceError, match="job 5"):
        for r in pool.ordered(_jobs({5, 9})):
            got.append(r)
    assert got == [0, 1, 2, 3, 4]


def test_thread_count_is_capped() -> None:
    """1000 threads took 1.13 GB on a 950 MB CSV: at most MAX_THREADS are used."""
    from bcecli.compute.pool import MAX_THREADS

    assert MAX_THREADS == 16
    assert default_threads({"BCECLI_THREADS": "1000"}) == MAX_THREADS
    assert default_threads({"BCECLI_THREADS": "16"}) == 16


@pytest.mark.parametrize("threads", [2, 8, 16, 64])
def test_the_window_is_bounded_in_bytes_not_threads(threads: int) -> None:
    """Jobs read ahead (taken from the reader, not yet given back) hold at most the window's
    bytes (and at least one job), however many threads there are: it was one job per
    thread, so memory grew with BCECLI_THREADS (8 threads: 159 MB on 10M values)."""
    from bcecli.compute.pool import Weighed

    taken, given, most = [0], [0], [0]

    def jobs(sizes: list[int]) -> Iterator[Callable[[], int]]:
        for i, size in enumerate(sizes):
            taken[0] += 1
            most[0] = max(most[0], taken[0] - given[0])
            yield Weighed(lambda i=i: i, size)

    mib = 1 << 20
    for sizes, bound in (([mib] * 40, 3), ([3 * mib] * 10, 2), ([mib // 4] * 80, 11)):
        taken[0] = given[0] = most[0] = 0
        with Pool(threads, window_bytes=5 * mib // 2) as pool:
            for r in pool.ordered(jobs(sizes)):
                given[0] += 1
                assert r == given[0] - 1
        # beyond the one being given back: 2 of 1 MiB, 1 of 3 MiB, 10 of 1/4 MiB (or threads)
        assert most[0] <= min(bound, threads + 1), (sizes[0], most[0])


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_later_jobs_run_where_their_result_is_asked_for(threads: int) -> None:
    """A Later job (one that waits for another's work) holds no thread of the pool: it runs
    in the thread that takes the results, in order, its error said in its place."""
    import threading

    here = threading.get_ident()
    ran: list[tuple[int, bool]] = []

    def later(i: int) -> int:
        ran.append((i, threading.get_ident() == here))
        if i == 7:
            raise BceError("later 7")
        return i

    def jobs() -> Iterator[Callable[[], int]]:
        for i in range(10):
            yield Later(lambda i=i: later(i), 1) if i % 2 else (lambda i=i: i)

    got: list[int] = []
    with Pool(threads) as pool, pytest.raises(BceError, match="later 7"):
        for r in pool.ordered(jobs()):
            got.append(r)
    assert got == list(range(7))
    assert ran == [(1, True), (3, True), (5, True), (7, True)]
