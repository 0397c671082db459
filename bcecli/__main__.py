"""The ``bcecli`` command and ``python -m bcecli``: signals are set first, then the CLI.

A signal ends the run at once, whatever it is doing (importing, reading, computing): one
line on stderr, exit status 128 + the signal's number, no traceback.  Nothing is left
behind: held output is never written, temporary files have no name in any folder, and the
pool's threads end with the process.  Only Python's own start-up comes before this.
"""

from __future__ import annotations

import os
import signal

_WORDS = {"SIGINT": "interrupted", "SIGTERM": "terminated", "SIGHUP": "hung up"}


def _stop(signum: int, frame: object) -> None:
    word = _WORDS.get(signal.Signals(signum).name, "stopped")
    try:
        os.write(2, f"bcecli: {word}\n".encode())
    except OSError:
        pass
    os._exit(128 + signum)


def main() -> None:
    """Set the signals, then run the command line."""
    for name in _WORDS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    if hasattr(signal, "SIGPIPE"):  # `bcecli ... | head`: end quietly (status 141), as cat does
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if hasattr(signal, "SIGXFSZ"):  # a file size limit: a failed write, said as such
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    from bcecli.cli import run

    run()


if __name__ == "__main__":
    main()
