"""Columns of a delimited file selected by ``FILE:COLUMNS`` (``val.csv:prob``,
``val.csv:p0,p1,p2``, ``val.csv:2-11``).

A selector is a comma-separated list of items, each a header name, a 1-based position, or
a range of either (``p0-p9``, ``2-11``), in the spirit of csvkit's ``-c``: digits are a
position (pandas names unnamed columns ``0``, ``1``, …: they are chosen by position),
and a name that holds a ``-`` is a name before it is a range.  The selected fields' bytes
are gathered from each block before anything is parsed, so the other columns are never read
as numbers (an id column of text is fine).
"""

from __future__ import annotations

import re

import numpy as np

from bcecli.errors import BceError
from bcecli.io.textparse import Dialect, TextError, printable, ragged_error

_RANGE = re.compile(r"(.+?)-(.+)")


def resolve(selector: str, names: list[str] | None, ncols: int, file: str) -> list[int]:
    """The 0-based columns a selector names, in its order.

    >>> resolve("prob", ["id", "label", "prob"], 3, "v.csv")
    [2]
    >>> resolve("2-3,1", None, 3, "v.csv"), resolve("p0-p1", ["id", "p0", "p1"], 3, "v.csv")
    ([1, 2, 0], [1, 2])
    """
    picked: list[int] = []
    for item in (part.strip() for part in selector.split(",")):
        if not item:
            raise BceError(f"{file}: an empty item in the column selection "
                           f"'{printable(selector)}'")
        picked.extend(_item(item, names, ncols, file))
    return picked


def _item(item: str, names: list[str] | None, ncols: int, file: str) -> list[int]:
    at = _one(item, names, ncols)
    if at is not None:
        return [at]
    match = _RANGE.fullmatch(item)
    if match is not None:
        lo, hi = (_one(end.strip(), names, ncols) for end in match.groups())
        if lo is not None and hi is not None and lo <= hi:
            return list(range(lo, hi + 1))
    raise BceError(f"{file}: no column '{printable(item)}'; {_listing(names, ncols)}")


def _one(item: str, names: list[str] | None, ncols: int) -> int | None:
    """A column by 1-based position (digits are a position, as in csvkit, even where a
    header names a column ``2``, as pandas does), else by name."""
    if item.isascii() and item.isdigit():
        return int(item) - 1 if 1 <= int(item) <= ncols else None
    if names is not None and item in names:
        return names.index(item)
    return None


def _listing(names: list[str] | None, ncols: int) -> str:
    if names is None:
        return ("the file has no header, so columns are chosen by position, "
                + ("1" if ncols == 1 else f"1 to {ncols} (or a range, 2-{ncols})"))
    shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
    return f"its columns: {shown} (or by position, 1 to {ncols})"


def select(buf: bytes, dialect: Dialect, ncols: int, keep: list[int], name: str) -> bytes:
    """The lines of a block (complete lines) with only the kept fields, in ``keep``'s order,
    separated by the dialect's separator: lines and their numbers stay as they are."""
    if b"\r\n" in buf:
        buf = buf.replace(b"\r\n", b"\n")
    sep = dialect.sep
    if sep is not None and len(sep) == 1:
        fast = _gather(buf, sep[0], ncols, keep)
        if fast is not None:
            return fast
    return _slow(buf, dialect, ncols, keep, name)


def _gather(buf: bytes, sep: int, ncols: int, keep: list[int]) -> bytes | None:
    """Vectorised: every line holds ``ncols`` fields (else None, for the slow path)."""
    b = np.frombuffer(buf, dtype=np.uint8)
    nlines = int(np.count_nonzero(b == 10))
    ends = np.flatnonzero((b == sep) | (b == 10))
    if nlines == 0 or ends.size != nlines * ncols or not (b[ends[ncols - 1::ncols]] == 10).all():
        return None
    ends = ends.reshape(nlines, ncols)  # type: ignore[assignment]
    starts = np.empty_like(ends)
    starts[:, 1:] = ends[:, :-1] + 1
    starts[0, 0] = 0
    starts[1:, 0] = ends[:-1, -1] + 1
    first, last = starts[:, keep].ravel(), ends[:, keep].ravel()
    lengths = last - first + 1  # each field with the byte that ends it
    at = np.cumsum(lengths) - lengths  # where each field starts in the output
    index = np.arange(int(lengths.sum()), dtype=np.int64)
    index += np.repeat(first - at, lengths)
    out = b[index]
    ends_out = at + lengths - 1
    out[ends_out] = sep
    out[ends_out[len(keep) - 1::len(keep)]] = 10
    return out.tobytes()


def _slow(buf: bytes, dialect: Dialect, ncols: int, keep: list[int], name: str) -> bytes:
    """Line by line (blank lines kept as they are, for the line numbers; a ragged line is
    said at its line, counted from the block's first)."""
    text = buf.decode("utf-8", "surrogateescape")
    joiner = dialect.sep.decode() if dialect.sep is not None else ","
    out = []
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        if not line.strip(" \t") or line.lstrip(" \t").startswith("#"):
            out.append(line)  # (said by the parser, at its line)
            continue
        fields = dialect.split(line)
        if len(fields) != ncols:
            raise ragged_error(name, number, len(fields), ncols, dialect)
        out.append(joiner.join(fields[k] for k in keep))
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")


def placed(error: TextError | None, keep: list[int]) -> TextError | None:
    """An error of the selected fields, its column named as in the file.

    >>> placed(TextError("v.csv", 3, ", column 1: 'x' is not a number"), [4]).detail
    ", column 5: 'x' is not a number"
    """
    if error is None:
        return None
    match = re.match(r", column (\d+)", error.detail)
    if match is None:
        return error
    column = keep[int(match.group(1)) - 1] + 1
    return TextError(error.name, error.line, f", column {column}{error.detail[match.end():]}")
