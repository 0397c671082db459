"""Parse a block of delimited lines into numbers: three tiers, each exact.

Each tier is taken only where the one before declines:

1. a vectorised numpy parser for plain decimals (``-0.123456``, ``1``, ``.5``): digits are
   summed as exact integers and divided by a power of ten, which is correctly rounded
   (the same double as ``float()`` gives) while there are at most 15 digits;
2. ``numpy.loadtxt`` for exponents, ``inf``/``nan`` and spaces around separators;
3. a line-by-line Python parser, which is the reference: it skips blank lines and gives
   every error with its file, line and column.

Nothing is skipped silently: an empty field, a ragged row, a comment or a quote is an error
that names its place.  The numpy tiers spend their time in numpy, which releases the GIL,
so blocks parse in parallel on a thread pool.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError
from bcecli.io.source import F64, Block

NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?:nan|inf|infinity))\Z",
    re.IGNORECASE | re.ASCII,
)
_BLANKS = re.compile(r"[ \t]+")
_LOADTXT_BYTES = np.zeros(256, dtype=bool)
_LOADTXT_BYTES[[*b"0123456789.+-eE \t\r\nnaNAiIfFtTyY"]] = True
_U64 = np.uint64
_POW10_U = 10 ** np.arange(18, dtype=np.uint64)
_POW10_F = 10.0 ** np.arange(18)
_SIGN = np.array([1.0, -1.0])
_PAIRS = (_U64(10), _U64(8), _U64(0x00FF00FF00FF00FF))
_QUADS = (_U64(100), _U64(16), _U64(0x0000FFFF0000FFFF))
_OCTETS = (_U64(10000), _U64(32), _U64(0xFFFFFFFF))


@dataclass(eq=False)
class Dialect:
    """How fields are separated: a single byte, or None for runs of whitespace."""

    sep: bytes | None

    @property
    def label(self) -> str:
        """The separator in words, for messages."""
        return {b",": "comma", b"\t": "tab", None: "whitespace"}.get(self.sep, repr(self.sep))

    def split(self, line: str) -> list[str]:
        """The fields of one line."""
        if self.sep is None:  # spaces and tabs only: a stray \r or \v is no separator
            return _BLANKS.split(line.strip(" \t"))
        return line.split(self.sep.decode())

    def count(self, line: str) -> int:
        """How many fields a line has (``len(split(line))``, without making the list).

        >>> Dialect(b",").count("1,2,3"), Dialect(None).count(" 1  2 ")
        (3, 2)
        """
        if self.sep is None:
            stripped = line.strip(" \t")
            return sum(1 for _ in _BLANKS.finditer(stripped)) + 1
        return line.count(self.sep.decode()) + 1


def sniff_dialect(first_line: bytes) -> Dialect:
    """Guess the separator from the first non-blank line.

    >>> sniff_dialect(b"1\\t2").sep, sniff_dialect(b"1, 2").sep, sniff_dialect(b"1 2").sep
    (b'\\t', b',', None)
    """
    if b"\t" in first_line:
        return Dialect(b"\t")
    if b"," in first_line:
        return Dialect(b",")
    if len(_BLANKS.split(first_line.decode("latin-1").strip(" \t\r"))) > 1:
        return Dialect(None)
    return Dialect(b",")


_ESCAPE_NON_ASCII = [False]


def escape_non_ascii(on: bool) -> None:
    """Whether :func:`printable` escapes every character that is not ASCII too (the run's
    output is in ASCII: text from the input must be escaped there, never rewritten as
    bcecli's own symbols are, so that a message names the file it means)."""
    _ESCAPE_NON_ASCII[0] = on


def printable(text: str) -> str:
    """Text from a file as it may be shown: control characters (an escape sequence that
    would drive the terminal, say) written as escapes.

    >>> printable("cat"), printable("a\\x1b[2Jb")
    ('cat', 'a\\\\x1b[2Jb')

    A byte that was not UTF-8 (in a file name: Python's surrogate escape) is the byte:

    >>> printable("nope\\udcff")
    'nope\\\\xff'
    """
    escape = _ESCAPE_NON_ASCII[0]
    if text.isprintable() and (text.isascii() or not escape):
        return text
    out = "".join(c if c.isprintable() else
                  f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else
                  c.encode("unicode_escape").decode("ascii") for c in text)
    return out.encode("ascii", "backslashreplace").decode("ascii") if escape else out


def count_lines(buf: bytes) -> int:
    """The newlines in ``buf``: numpy's count is five times faster than ``bytes.count`` and
    lets other threads run meanwhile.

    >>> count_lines(b"1,2\\n3,4\\n")
    2
    """
    return int(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8) == 10))


def is_number(text: str) -> bool:
    """True for the numbers bcecli reads: decimals, exponents, nan and inf.

    >>> [is_number(t) for t in ["1", "-.5", "1e-3", "nan", "1_000", "0x10", ""]]
    [True, True, True, True, False, False, False]
    """
    return NUMBER.match(text) is not None


class TextError(BceError):
    """An error at a line of a text file: ``x.csv, line 3, column 2: …``.

    A block is parsed before the lines above it are counted (on another thread), so its
    errors first count lines from the block's start; :meth:`shifted` makes them absolute.
    """

    def __init__(self, name: str, line: int, detail: str) -> None:
        super().__init__(f"{name}, line {line}{detail}")
        self.name, self.line, self.detail = name, line, detail

    def shifted(self, by: int) -> TextError:
        """The same error, ``by`` lines further down."""
        return TextError(self.name, self.line + by, self.detail)


class Location:
    """Names a place in a text file: ``x.csv, line 3, column 2``.

    ``lines`` count from the block's first line as 1 until the reader, in order, sets
    ``offset`` (the lines above the block); ``nlines`` is how many lines the block spans.
    """

    def __init__(self, name: str, lines: NDArray[np.int64] | int, nlines: int = 0) -> None:
        self.name = name
        self.lines = lines
        self.nlines = nlines
        self.offset = 0
        self.columns: list[int] | None = None
        """The file's columns the block's hold (``FILE:COLUMNS``); None: all, in order."""

    def line_of(self, row: int) -> int:
        """The 1-based line number of a row of this block."""
        if isinstance(self.lines, int):
            return self.lines + row + self.offset
        return int(self.lines[row]) + self.offset

    def __call__(self, idx: tuple[int, ...]) -> str:
        if not idx:
            return self.name
        where = f"{self.name}, line {self.line_of(idx[0])}"
        if len(idx) < 2:
            return where
        column = idx[1] if self.columns is None else self.columns[idx[1]]
        return f"{where}, column {column + 1}"


def eight_digits(w: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Eight digit values (0-9), one per byte, most significant first: their integer.

    The SWAR method: neighbouring digits, then pairs, then quads are combined in place.
    """
    for mul, shift, mask in (_PAIRS, _QUADS, _OCTETS):
        w = (w * mul + (w >> shift)) & mask
    return w


def _single_digits(b: NDArray[np.uint8], sep: int, ncols: int) -> F64 | None:
    """Lines of one-digit fields (``0,1,1``: class labels), or None."""
    if b.size % (2 * ncols):
        return None
    digits, ends = b[0::2], b[1::2]
    if not ((digits - np.uint8(48)) < 10).all() or not (ends[ncols - 1 :: ncols] == 10).all():
        return None
    if ncols > 1 and (ends.reshape(-1, ncols)[:, :-1] != sep).any():
        return None
    return (digits - np.uint8(48)).astype(np.float64).reshape(-1, ncols)


def fast_parse(buf: bytes, sep: int, ncols: int) -> F64 | None:
    """Plain decimals separated by ``sep``, ``ncols`` per line; None where it declines.

    Each field's digits are read as one exact integer (< 10^15 < 2^53) from the 16 bytes
    that end it (:func:`eight_digits`, twice), the neighbouring field's digits dropped by
    a remainder and the dot's place taken out; dividing by 10^k, k the digits after the
    dot, then rounds correctly, as ``float()`` does.
    """
    b = np.frombuffer(buf, dtype=np.uint8)
    if b.size >= 2 and b[1] in (sep, 10) and (out := _single_digits(b, sep, ncols)) is not None:
        return out
    # one byte mask at a time (each is as big as the block): counts, then the ends
    n_nl = int(np.count_nonzero(b == 10))
    n_dots = int(np.count_nonzero(b == 46))
    n_minus = int(np.count_nonzero(b == 45))
    db = b - np.uint8(48)  # digits 0-9; every other byte 10 or more
    n_digits = int(np.count_nonzero(db < 10))
    is_end = b == sep
    is_end |= b == 10
    n = int(np.count_nonzero(is_end))
    if n_digits + n + n_dots + n_minus != b.size:
        return None  # some other byte: an exponent, '+', a space, a letter ...
    if n == 0 or n_nl * ncols != n:
        return None
    ends = np.flatnonzero(is_end)
    del is_end
    if ncols > 1 and not (b[ends[ncols - 1 :: ncols]] == 10).all():
        return None
    lens = np.diff(ends, prepend=-1)  # a field starts after the end before it
    lens -= 1
    if lens.min() == 0 or lens.max() > 17:
        return None
    digits = lens
    dot_k: NDArray[np.intp] | None = None  # digits after the dot (0 without one)
    has_dot: NDArray[np.bool_] | None = None
    if n_dots:
        dpos = np.flatnonzero(b == 46)
        if n_dots == n:  # the usual case: a dot in every field, if each lies in its own
            if not (dpos < ends).all() or not (dpos[1:] > ends[:-1]).all():
                return None
            dot_k = ends - dpos - 1
        else:
            field = np.searchsorted(ends, dpos)  # the field each dot lies in
            if n_dots > 1 and not (np.diff(field) > 0).all():
                return None  # two dots in one field
            dot_k = np.zeros(n, dtype=np.intp)
            dot_k[field] = ends[field] - dpos - 1
            has_dot = np.zeros(n, dtype=np.bool_)
            has_dot[field] = True
        digits = lens - (1 if has_dot is None else has_dot)
    neg = None
    if n_minus:
        neg = b[ends - lens] == 45  # (the fields' first bytes)
        if int(np.count_nonzero(neg)) != n_minus:
            return None  # a minus that does not start its field
        digits = digits - neg
    if digits.min() < 1 or digits.max() > 15:
        return None
    # digit values, every other byte 0; 16 leading zeros so every field has 16 bytes before
    # its end (a 17-byte field starts with '-', a zero, so its last 16 bytes hold it all)
    padded = np.zeros(b.size + 16, dtype=np.uint8)
    np.multiply(db, db < 10, out=padded[16:])
    del db, digits  # bound the memory
    words = np.ndarray((padded.size - 7,), dtype="<u8", buffer=padded, strides=(1,))
    at = ends + 8  # the 8 bytes before each field's end, in padded
    v = eight_digits(words[at])
    if int(lens.max()) > 8:
        v += eight_digits(words[at - 8]) * _U64(10**8)
    v %= _POW10_U[np.minimum(lens, 16)]  # drop the digits of the fields before
    return decimals(v, dot_k, has_dot, neg).reshape(-1, ncols)


def decimals(v: NDArray[np.uint64], dot_k: NDArray[np.intp] | None,
             has_dot: NDArray[np.bool_] | None, neg: NDArray[np.bool_] | None) -> F64:
    """The numbers whose digits, the dot read as a digit 0 where there is one, are the
    integers ``v`` (at most 15 digits besides the dot): ``dot_k`` digits after the dot (None:
    no field has a dot), ``has_dot`` which fields have one (None: all, where ``dot_k`` is
    given), ``neg`` which are negative (None: none).

    The dot's 0 is taken out and the exact integer divided by 10^k: correctly rounded, the
    double ``float()`` gives.  Shared by the full-matrix and the column-selected fast paths.

    Two fields, ``-1.5`` and ``7``:

    >>> decimals(np.array([105, 7], dtype=np.uint64), np.array([1, 0]),
    ...          np.array([True, False]), np.array([True, False])).tolist()
    [-1.5, 7.0]
    """
    if dot_k is None:
        values = v.astype(np.float64)
    elif has_dot is None and (k := int(dot_k[0])) >= 0 and (dot_k == k).all():
        # one format for all (%.6f): the same, with scalar divisors numpy divides faster
        p1, p0 = _U64(10 ** (k + 1)), _U64(10**k)
        v = (v // p1) * p0 + (v - (v // p0) * p0)
        values = v.astype(np.float64)
        values /= _POW10_F[k]
    else:  # the dot was read as a digit 0: take it out, then divide by 10^k
        p = _POW10_U[dot_k]
        v = (v // (p * _U64(10) if has_dot is None else np.where(has_dot, p * _U64(10),
                                                                  _U64(1)))) * p + v % p
        values = v.astype(np.float64)
        values /= _POW10_F[dot_k]
    if neg is not None:
        values *= _SIGN[neg.view(np.uint8)]
    return values


LONG_LINE = 1 << 20
"""Lines longer than this (on average in a block) are parsed a piece at a time."""


def long_lines_parse(buf: bytes, dialect: Dialect, ncols: int, nlines: int) -> F64 | None:
    """Long lines (a row of millions of numbers) parsed in pieces of about ``LONG_LINE``
    bytes cut at a separator, each by the numpy tiers, into the rows: the tiers' masks and
    index arrays (many times the bytes parsed) are then a piece's, not a line's.  None
    where a piece is declined (the whole block then goes to the other tiers)."""
    assert dialect.sep is not None
    sep = dialect.sep[0]
    out = np.empty((nlines, ncols))
    pos = 0
    for row in range(nlines):
        end = buf.index(b"\n", pos)
        col, start = 0, pos
        while True:
            cut = end if end - start <= LONG_LINE else buf.rfind(dialect.sep, start,
                                                                  start + LONG_LINE)
            if cut < start or (cut == start and cut != end):
                return None  # a field longer than a piece (or an empty one)
            piece = buf[start:cut] + b"\n"
            count = piece.count(dialect.sep) + 1
            if col + count > ncols:
                return None
            values = fast_parse(piece, sep, count)
            if values is None:
                values = loadtxt_parse(piece, dialect, count, 1)
                if values is None:
                    return None
            out[row, col:col + count] = values[0]
            col += count
            if cut == end:
                break
            start = cut + 1
        if col != ncols:
            return None
        pos = end + 1
    return out


def loadtxt_parse(buf: bytes, dialect: Dialect, ncols: int, nlines: int) -> F64 | None:
    """numpy.loadtxt on a block of lines with no blank line; None where it declines."""
    b = np.frombuffer(buf, dtype=np.uint8)
    allowed = _LOADTXT_BYTES[b] | (b == (dialect.sep or b" ")[0])
    if not allowed.all():
        return None
    try:
        with warnings.catch_warnings():  # "input contained no data" for blank-only blocks
            warnings.simplefilter("ignore")
            values = np.loadtxt(
                io.StringIO(buf.decode("ascii")),
                delimiter=None if dialect.sep is None else dialect.sep.decode(),
                comments=None,
                dtype=np.float64,
                ndmin=2,
            )
    except ValueError:
        return None
    if values.shape != (nlines, ncols):
        return None
    return values


def decode(buf: bytes, name: str, first_line: int) -> str:
    """Strict UTF-8, with the line of the first bad byte in the message."""
    try:
        return buf.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _utf8_error(buf, exc.start, name, first_line) from None


def _utf8_error(buf: bytes, at: int, name: str, first_line: int) -> TextError:
    return TextError(name, first_line + buf.count(b"\n", 0, at),
                     f": not valid UTF-8 text (byte 0x{buf[at]:02x}); bcecli reads numbers as "
                     f"CSV, TSV, JSON or .npy")


def binary_error(name: str, line: int) -> TextError:
    return TextError(name, line, ": binary data (a NUL byte); bcecli reads numbers as CSV, "
                     "TSV, JSON or .npy")


def ragged_error(name: str, line: int, nfields: int, ncols: int, dialect: Dialect
                 ) -> TextError:
    return TextError(name, line, f": {nfields} field{'s' * (nfields != 1)} where the first "
                                 f"row has {ncols}; every row needs the same number of "
                                 f"{dialect.label}-separated fields")


def comment_error(name: str, line: int) -> TextError:
    return TextError(name, line, ": a comment line ('#'); comment lines are not supported, "
                     "remove them")


def field_error(name: str, line: int, col: int, text: str, dialect: Dialect) -> TextError:
    """What is wrong with a field that is not a number, at its line and column."""
    where = f", column {col}"
    if not text.strip(" \t"):
        return TextError(name, line, f"{where}: empty field (a doubled or trailing "
                         f"{dialect.label} separator?); every field must hold a number")
    hint = ""
    stripped = text.strip(" \t")
    if "\r" in stripped:
        hint = ("; a carriage return inside a line (old Mac line endings?): end lines with "
                "\\n or \\r\\n")
    elif stripped.startswith("#"):
        hint = "; comment lines are not supported, remove them"
    elif '"' in stripped or "'" in stripped:
        hint = "; quoted values are not supported, write the bare number"
    elif dialect.sep is not None and len(stripped.split()) > 1:
        hint = f"; fields are separated by {dialect.label}s"
    return TextError(name, line, f"{where}: {printable(repr(stripped[:40]))} is not a "
                                 f"number{hint}")


def precise_parse(text: str, name: str, first_line: int, dialect: Dialect,
                   ncols: int | None) -> tuple[F64, NDArray[np.int64], TextError | None]:
    """The reference parser: every field checked, blank lines skipped, errors located.

    Returns the rows, their line numbers and the first error, if any: the rows are then
    those before it.
    """
    rows: list[list[float]] = []
    lines: list[int] = []
    error = None
    for offset, raw in enumerate(text.split("\n")):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip(" \t"):  # blank: spaces and tabs only (a \v or \x1c is no blank)
            continue
        number = first_line + offset
        try:
            values = _parse_line(line, name, number, dialect, ncols)
        except TextError as exc:
            error = exc
            break
        ncols = len(values)
        rows.append(values)
        lines.append(number)
    data = np.array(rows, dtype=np.float64).reshape(len(rows), ncols or 0)
    return data, np.array(lines, dtype=np.int64), error


def _parse_line(line: str, name: str, number: int, dialect: Dialect, ncols: int | None
                ) -> list[float]:
    if line.lstrip(" \t").startswith("#"):
        raise comment_error(name, number)
    fields = dialect.split(line)
    if ncols is not None and len(fields) != ncols:
        raise ragged_error(name, number, len(fields), ncols, dialect)
    values = []
    for col, field in enumerate(fields, start=1):
        stripped = field.strip(" \t")
        if not is_number(stripped):
            raise field_error(name, number, col, field, dialect)
        values.append(float(stripped))
    return values


def _unreadable(buf: bytes, name: str, first_line: int) -> tuple[int, TextError] | None:
    """The first byte that is no text (a NUL, or not UTF-8) and its error, if any."""
    nul = buf.find(b"\0")
    try:
        (buf if nul < 0 else buf[:nul]).decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start, _utf8_error(buf, exc.start, name, first_line)
    if nul >= 0:
        return nul, binary_error(name, first_line + buf.count(b"\n", 0, nul))
    return None


def parse_lines(buf: bytes, name: str, first_line: int, dialect: Dialect,
                ncols: int | None, nlines: int | None = None) -> Block:
    """Parse a block of complete lines (ending in a newline) into a block of rows.

    ``nlines``: the newlines in ``buf``, where the caller has counted them already.  A
    block with an error holds the rows before its first one (the one at the earliest
    place, whatever its kind) and the error (:attr:`Block.error`).
    """
    nlines = count_lines(buf) if nlines is None else nlines
    if ncols is not None and b"\0" not in buf:
        clean = buf.replace(b"\r\n", b"\n") if b"\r" in buf else buf
        values = None
        if b"\r" not in clean:  # (a carriage return inside a line: the precise parser says)
            single = dialect.sep is not None and len(dialect.sep) == 1
            if single and len(clean) > 2 * LONG_LINE * nlines and b"\n\n" not in clean \
                    and not clean.startswith(b"\n"):
                values = long_lines_parse(clean, dialect, ncols, nlines)
            if values is None and single:
                assert dialect.sep is not None
                values = fast_parse(clean, dialect.sep[0], ncols)
            if values is None and b"\n\n" not in clean and not clean.startswith(b"\n"):
                values = loadtxt_parse(clean, dialect, ncols, nlines)
        if values is not None and values.shape[0] == nlines:
            return Block(values, Location(name, first_line, nlines))
    unreadable = _unreadable(buf, name, first_line)
    readable = buf if unreadable is None else buf[:buf.rfind(b"\n", 0, unreadable[0]) + 1]
    data, lines, error = precise_parse(readable.decode("utf-8"), name, first_line, dialect,
                                       ncols)
    if error is None and unreadable is not None:
        error = unreadable[1]
    return Block(data, Location(name, lines, nlines), error)
