"""The ``bcecli`` command and ``python -m bcecli``: signals are set first, then the CLI.

A signal ends the run at once, whatever it is doing (importing, reading, computing): one
line on stderr, exit status 128 + the signal's number, no traceback (:mod:`bcecli.signals`).
Nothing is left behind: held output is never written, temporary files have no name in any
folder, a progress bar is cleared, and the pool's threads end with the process.  Only
Python's own start-up comes before this.

Running out of memory, or of threads, anywhere (importing numpy under a tight ``ulimit -v``,
say) is one line on stderr and exit status 2, like any other error, never a traceback.
"""

from __future__ import annotations

import os
import signal

# (not `from bcecli import signals`: that asks the package's __getattr__ first, which
# imports every loss, and numpy, before the signals are set)
import bcecli.signals as signals

_NO_MEMORY = (b"bcecli: error: out of memory before the input was read (is a memory limit "
              b"such as ulimit -v set too low?)\n")
"""Said without allocating anything more: made before it may be needed."""
MIN_ADDRESS_SPACE = 128 << 20
"""The smallest address-space limit (``ulimit -v``) bcecli starts under: Python, numpy,
Typer and rich map about 110 MiB; below that, numpy's OpenBLAS ends the process itself
(status 1, a message of its own), which no Python code can catch."""
_NO_THREAD = (b"bcecli: error: cannot start a thread (a limit on memory or processes was "
              b"reached); try BCECLI_THREADS=1\n")


def main() -> None:
    """Set the signals, then run the command line."""
    signals.install()
    if hasattr(signal, "SIGPIPE"):  # `bcecli ... | head`: end quietly (status 141), as cat does
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if hasattr(signal, "SIGXFSZ"):  # a file size limit: a failed write, said as such
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # bcecli does no linear algebra: OpenBLAS's threads and their buffers (40 MB of
    # address space, the first thing a tight ulimit -v refuses) would be for nothing
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _check_address_space()
    try:
        from bcecli.cli import run

        run()
    except MemoryError:  # outside a run (importing, parsing the options): said here
        _fail(_NO_MEMORY)
    except RuntimeError as exc:
        if "new thread" not in str(exc):  # "can't start new thread" (a thread outside the
            raise  # pool's, which makes do without them)
        _fail(_NO_THREAD)


def _check_address_space() -> None:
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, AttributeError, OSError, ValueError):
        return
    if limit != resource.RLIM_INFINITY and 0 <= limit < MIN_ADDRESS_SPACE:
        _fail(f"bcecli: error: the address-space limit (ulimit -v) is {limit >> 20} MiB; "
              f"bcecli needs at least {MIN_ADDRESS_SPACE >> 20} MiB to start\n".encode())


def _fail(message: bytes) -> None:
    try:
        os.write(2, message)
    except OSError:
        pass
    raise SystemExit(2)


if __name__ == "__main__":
    main()
