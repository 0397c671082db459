"""The signals that end a run: SIGINT, SIGTERM and SIGHUP.

Each ends the process at once, whatever it is doing: what the run drew on the terminal is
undone (a progress bar's line cleared, the cursor shown again), then one line on stderr,
then exit status 128 + the signal's number.  No Python code runs after it (``os._exit``),
so there is no traceback and no work going on; held output is never written.  This module
imports nothing but ``os`` and ``signal``: it is set up before anything else is imported.
"""

from __future__ import annotations

import os
import signal

WORDS = {"SIGINT": "interrupted", "SIGTERM": "terminated", "SIGHUP": "hung up"}
_undo: list[bytes] = []
"""Bytes that undo what is on the terminal now (stderr's), written before the line."""


def install() -> None:
    """Handle the signals that end a run (in the main thread, before any other import).

    A signal the process was started with ignored stays ignored, as in every Unix tool:
    ``nohup bcecli ...`` runs on when the terminal hangs up, and a background job of a
    non-interactive shell (started with SIGINT ignored) is not ended by a Ctrl-C."""
    for name in WORDS:
        if hasattr(signal, name):
            number = getattr(signal, name)
            if signal.getsignal(number) == signal.SIG_IGN:
                continue
            signal.signal(number, _stop)


def write_stderr(write: object, text: str) -> bool:
    """Write to stderr with SIGPIPE ignored for the while: a reader of stderr that went
    away (``2>&1 >out | true``) must not end the run with status 141; the exit status stays
    the run's (0, 1 or 2).  stdout's SIGPIPE still ends a run quietly (``| head``)."""
    pipe = getattr(signal, "SIGPIPE", None)
    previous = None
    if pipe is not None:
        try:
            previous = signal.signal(pipe, signal.SIG_IGN)
        except ValueError:  # (not the main thread: as it is)
            pipe = None
    try:
        write(text)  # type: ignore[operator]
    except (OSError, ValueError):
        return False
    finally:
        if pipe is not None:
            signal.signal(pipe, previous)
    return True


def undo_on_stop(sequence: bytes) -> None:
    """Write ``sequence`` to stderr first if a signal ends the run (until :func:`forget`)."""
    _undo.append(sequence)


def forget(sequence: bytes) -> None:
    """What :func:`undo_on_stop` was given is no longer on the terminal."""
    if sequence in _undo:
        _undo.remove(sequence)


def _stop(signum: int, frame: object) -> None:
    word = WORDS.get(signal.Signals(signum).name, "stopped")
    if hasattr(signal, "SIGPIPE"):  # (stderr's reader gone: still 128 + this signal)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        os.write(2, b"".join(reversed(_undo)) + f"bcecli: {word}\n".encode())
    except OSError:
        pass
    os._exit(128 + signum)
