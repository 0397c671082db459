"""Columns of a delimited file selected by ``FILE:COLUMNS`` (``val.csv:prob``,
``val.csv:p0,p1,p2``, ``val.csv:2-11``).

A selector is a comma-separated list of items, each a header name, a 1-based position, or
a range of either (``p0-p9``, ``2-11``), in the spirit of csvkit's ``-c``: digits are a
position (pandas names unnamed columns ``0``, ``1``, …: they are chosen by position),
and a name that holds a ``-`` is a name before it is a range.  Only the selected fields
are ever read as numbers (an id column of text is fine): plain decimals are read in place,
from the block's bytes (:func:`parse_selected`); anything else has the selected fields'
bytes gathered (:func:`select`) and parsed by every tier of :mod:`bcecli.io.textparse`,
which says where a field is no number.
"""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError
from bcecli.io.source import F64
from bcecli.io.textparse import (
    Dialect,
    TextError,
    decimals,
    eight_digits,
    field_error,
    printable,
    ragged_error,
)

_RANGE = re.compile(r"(.+?)-(.+)")


def resolve(selector: str, names: list[str] | None, ncols: int, file: str) -> list[int]:
    """The 0-based columns a selector names, in its order.

    >>> resolve("prob", ["id", "label", "prob"], 3, "v.csv")
    [2]
    >>> resolve("2-3,1", None, 3, "v.csv"), resolve("p0-p1", ["id", "p0", "p1"], 3, "v.csv")
    ([1, 2, 0], [1, 2])
    """
    if not selector.strip():  # (FILE: with nothing after it, a shell variable left empty)
        raise BceError(f"{file}: nothing after ':' selects a column; give FILE:COLUMNS "
                       f"(header names or 1-based positions)")
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


_U64 = np.uint64
_TENS = (_U64(1), _U64(10**8), _U64(10**16))
_BYTE_SUM = _U64(0x0101010101010101)
_INSIDE = np.array([int.from_bytes(bytes(8 - c) + bytes([1]) * c, "little") for c in range(9)],
                   dtype="<u8")
"""A word's last ``c`` bytes flagged (1), as a field's last ``c`` bytes lie in it."""


def parse_selected(buf: bytes | memoryview, dialect: Dialect, ncols: int, keep: list[int]
                   ) -> F64 | None:
    """The kept fields of a block of lines (complete lines, ``ncols`` fields in each, no
    blank one) as numbers, in ``keep``'s order, read where they lie in the block: None
    where any is more than a plain decimal (or a line is not as said), for :func:`select`
    and the parser's tiers, which give the same numbers or say what is wrong, and where.

    Plain decimals as :func:`bcecli.io.textparse.fast_parse` reads them (at most 15
    digits, a dot, a leading minus), converted by the same exact arithmetic: every number
    is the double ``float()`` gives.  The block is scanned once, for its separators; only
    the kept fields' bytes are looked at after that, the 8 to 24 bytes that end each.

    >>> parse_selected(b"s01,1,0.25\\ns02,0,-7\\n", Dialect(b","), 3, [2, 1]).tolist()
    [[0.25, 1.0], [-7.0, 0.0]]
    >>> parse_selected(b"s01,1,2e-3\\n", Dialect(b","), 3, [2]) is None
    True
    """
    sep = dialect.sep
    if sep is None or len(sep) != 1 or not len(buf) or buf[-1] not in (10, b"\n"):
        return None
    kept = selected_columns(buf, sep[0], ncols, keep)
    return None if kept is None else np.stack(kept, axis=1)


def selected_columns(buf: bytes | memoryview, sep: int, ncols: int, keep: list[int]
                     ) -> list[F64] | None:
    """:func:`parse_selected`'s columns, each an array of its own (one column read for a
    source that wants it alone is not copied out of a matrix)."""
    if _has_cr(buf):
        buf = bytes(buf).replace(b"\r\n", b"\n")  # (a stray \r in a kept field declines)
    return _lines(buf, sep, ncols, keep)


def _has_cr(buf: bytes | memoryview) -> bool:
    """Whether the lines hold a carriage return (``\\r\\n`` line ends), searched in place:
    the reader's blocks are views of a bytes object from its start.  One missed is harmless:
    left in a kept field, it declines the field (then parsed by every tier)."""
    whole = buf.obj if isinstance(buf, memoryview) else buf
    return isinstance(whole, bytes) and whole.find(b"\r", 0, len(buf)) >= 0


def _lines(buf: bytes | memoryview, sep: int, ncols: int, keep: list[int]
           ) -> list[F64] | None:
    """:func:`selected_columns` of complete lines, ``\\n``-ended."""
    b = np.frombuffer(buf, dtype=np.uint8)
    is_end = b == sep
    newline = b == 10
    nlines = int(np.count_nonzero(newline))
    is_end |= newline
    del newline
    ends = np.flatnonzero(is_end)
    del is_end
    if ends.size != nlines * ncols or not (b[ends[ncols - 1::ncols]] == 10).all():
        return None  # a ragged or blank line: said by the parser, at its line
    table = ends.reshape(nlines, ncols)  # where each field ends (at its separator)
    out = []
    for k in keep:
        if k:
            first = table[:, k - 1] + 1
        else:
            first = np.empty(nlines, dtype=np.intp)
            first[0] = 0
            first[1:] = table[:-1, -1] + 1
        values = _column(b, first, table[:, k])
        if values is None:
            return None
        out.append(values)
    return out


def _column(b: NDArray[np.uint8], first: NDArray[np.intp], last: NDArray[np.intp]
            ) -> F64 | None:
    """Fields ``b[first:last]`` as numbers, or None.

    The 8, 16 or 24 bytes that end each field are taken as a row of bytes and the bytes
    before the field masked out; the rows are checked (digits, at most one dot, a minus
    only first) and their digits read as :func:`bcecli.io.textparse.fast_parse` reads a
    block's: the SWAR sum of :func:`~bcecli.io.textparse.eight_digits`, then the exact
    division of :func:`~bcecli.io.textparse.decimals`.
    """
    lens = last - first
    longest = int(lens.max())
    if lens.min() < 1 or longest > 17:
        return None
    if longest == 1:  # one digit each: class labels
        digit = b[first] - np.uint8(48)
        return digit.astype(np.float64) if (digit < 10).all() else None
    nw = (longest + 7) // 8  # words per field
    width = 8 * nw
    if nw == 1:
        rows = _words_before(b, last).reshape(-1, 1)
        inside = _INSIDE[lens].reshape(-1, 1)
    else:
        rows = np.empty((last.size, nw), dtype="<u8")
        inside = np.empty((last.size, nw), dtype="<u8")
        for j in range(nw):
            back = 8 * (nw - 1 - j)  # bytes after this word, in the field
            rows[:, j] = _words_before(b, last - back)
            inside[:, j] = _INSIDE[np.clip(lens - back, 0, 8)]
    text = rows.view(np.uint8)  # (fields, width): each field's bytes end its row
    within = inside.view(np.bool_)
    digit = text - np.uint8(48)
    is_digit = digit < 10
    is_digit &= within
    is_dot = text == 46
    is_dot &= within
    n_digits = _count(is_digit, nw)
    n_dots = _count(is_dot, nw)
    neg = b[first] == 45
    # every byte a digit or the dot but a minus first, if there is one (which is then the
    # only other byte: no minus elsewhere, no exponent, '+', space or letter); one dot
    if not (n_digits + n_dots + neg == lens).all() or n_dots.max() > 1:
        return None
    if n_digits.min() < 1 or n_digits.max() > 15:
        return None
    dot_k: NDArray[np.intp] | None = None  # digits after the dot (0 without one)
    has_dot: NDArray[np.bool_] | None = None
    if n_dots.any():
        if nw == 1:  # the bytes from the dot on flagged (a product), then counted
            dot_k = _count((is_dot.view("<u8") * _BYTE_SUM).view(np.bool_), 1)
            dot_k -= 1
        else:
            dot_k = (width - 1) - np.argmax(is_dot, axis=1)
        if not n_dots.all():
            has_dot = n_dots.astype(np.bool_)
            dot_k[~has_dot] = 0
    digit *= is_digit  # the digits' values; every other byte (the dot, a minus) 0
    del text, within, is_digit, is_dot
    values = digit.view("<u8")  # (fields, nw) words of digit values
    v = eight_digits(values[:, nw - 1])
    for j in range(nw - 1):
        v += eight_digits(values[:, j]) * _TENS[nw - 1 - j]
    return decimals(v, dot_k, has_dot, neg if neg.any() else None)


def _words_before(b: NDArray[np.uint8], ends: NDArray[np.intp]) -> NDArray[np.uint64]:
    """The 8 bytes before each position, ``b[end - 8:end]``, each as a little-endian word;
    those before the block's start (a field of its first line) read as 0."""
    at = ends - 8
    low = int(at.min()) < 0
    if b.size >= 8 and not low:
        return np.ndarray((b.size - 7,), dtype="<u8", buffer=b, strides=(1,))[at]
    out = np.zeros(at.size, dtype="<u8")
    if b.size >= 8:
        words = np.ndarray((b.size - 7,), dtype="<u8", buffer=b, strides=(1,))
        out[at >= 0] = words[at[at >= 0]]
    start = np.zeros(48, dtype=np.uint8)  # the first 24 bytes, after 24 of 0
    start[24:24 + min(24, b.size)] = b[:24]
    early = np.ndarray((41,), dtype="<u8", buffer=start, strides=(1,))
    out[at < 0] = early[at[at < 0] + 24]  # (at ≥ -24: a field ends 1 byte in, at least)
    return out


def _count(flags: NDArray[np.bool_], nw: int) -> NDArray[np.intp]:
    """How many of each row's flags are set (rows of ``nw`` words of 8 flags): the bytes
    of a word, each 0 or 1, summed by one multiplication."""
    words = flags.view("<u8")
    total = words[:, 0] * _BYTE_SUM
    total >>= _U64(56)
    for j in range(1, nw):
        more = words[:, j] * _BYTE_SUM
        more >>= _U64(56)
        total += more
    return total.view(np.intp)  # (at most 24)


def select(buf: bytes, dialect: Dialect, ncols: int, keep: list[int], name: str,
           text: bool = False) -> bytes:
    """The lines of a block (complete lines) with only the kept fields, in ``keep``'s order,
    separated by the dialect's separator: lines and their numbers stay as they are.  An
    empty field kept alone is an error (it would be a blank line), unless the fields are
    ``text`` (``--id``'s names, where an empty one is a name)."""
    if b"\r\n" in buf:
        buf = buf.replace(b"\r\n", b"\n")
    sep = dialect.sep
    if sep is not None and len(sep) == 1:
        fast = _gather(buf, sep[0], ncols, keep, text)
        if fast is not None:
            return fast
    return _slow(buf, dialect, ncols, keep, name, names=text)


def _gather(buf: bytes, sep: int, ncols: int, keep: list[int], text: bool = False
            ) -> bytes | None:
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
    if len(keep) == 1 and not text and (lengths == 1).any():
        return None  # (an empty field alone would be a blank line: the slow path says it)
    at = np.cumsum(lengths) - lengths  # where each field starts in the output
    index = np.arange(int(lengths.sum()), dtype=np.int64)
    index += np.repeat(first - at, lengths)
    out = b[index]
    ends_out = at + lengths - 1
    out[ends_out] = sep
    out[ends_out[len(keep) - 1::len(keep)]] = 10
    return out.tobytes()


def _slow(buf: bytes, dialect: Dialect, ncols: int, keep: list[int], name: str,
          names: bool = False) -> bytes:
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
        if len(keep) == 1 and not names and not fields[keep[0]].strip(" \t"):  # (said: not
            # a blank line)
            raise field_error(name, number, 1, fields[keep[0]], dialect)
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
