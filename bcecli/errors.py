"""The one error type bcecli raises, and its exit statuses.

Core code raises :class:`BceError` with a plain message that says what is wrong and
where; only the CLI layer catches it, prints it on stderr and exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses, as diff and grep use them."""

    OK = 0
    CHECK_FAILED = 1
    TROUBLE = 2
    INTERRUPTED = 130


class BceError(Exception):
    """A usage or input problem: the message is shown to the user as it is.

    >>> str(BceError("x.csv, line 3, column 2: 'abc' is not a number"))
    "x.csv, line 3, column 2: 'abc' is not a number"
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
