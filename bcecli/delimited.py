"""CSV, TSV and whitespace-separated numbers, streamed in blocks of rows.

Three tiers parse a block of lines, each exact, the next one taken only where the one
before declines:

1. a vectorised numpy parser for plain decimals (``-0.123456``, ``1``, ``.5``): digits are
   summed as exact integers and divided by a power of ten, which is correctly rounded
   (the same double as ``float()`` gives) while there are at most 15 digits;
2. ``numpy.loadtxt`` for exponents, ``inf``/``nan`` and spaces around separators;
3. a line-by-line Python parser, which is the reference: it skips blank lines and gives
   every error with its file, line and column.

Nothing is skipped silently: an empty field, a ragged row, a comment or a quote is an error
that names its place.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from bcecli.blocks import F64, Block, ByteStream
from bcecli.errors import BceError

BLOCK_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"
NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?:nan|inf|infinity))\Z",
    re.IGNORECASE | re.ASCII,
)
_LOADTXT_BYTES = np.zeros(256, dtype=bool)
_LOADTXT_BYTES[[*b"0123456789.+-eE \t\r\nnaNAiIfFtTyY"]] = True
_POW10_F = 10.0 ** np.arange(23)


@dataclass(frozen=True)
class Dialect:
    """How fields are separated: a single byte, or None for runs of whitespace."""

    sep: bytes | None

    @property
    def label(self) -> str:
        """The separator in words, for messages."""
        return {b",": "comma", b"\t": "tab", None: "whitespace"}.get(self.sep, repr(self.sep))

    def split(self, line: str) -> list[str]:
        """The fields of one line."""
        if self.sep is None:
            return line.split()
        return line.split(self.sep.decode())


def sniff_dialect(first_line: bytes) -> Dialect:
    """Guess the separator from the first non-blank line.

    >>> sniff_dialect(b"1\\t2").sep, sniff_dialect(b"1, 2").sep, sniff_dialect(b"1 2").sep
    (b'\\t', b',', None)
    """
    if b"\t" in first_line:
        return Dialect(b"\t")
    if b"," in first_line:
        return Dialect(b",")
    if len(first_line.split()) > 1:
        return Dialect(None)
    return Dialect(b",")


def is_number(text: str) -> bool:
    """True for the numbers bcecli reads: decimals, exponents, nan and inf.

    >>> [is_number(t) for t in ["1", "-.5", "1e-3", "nan", "1_000", "0x10", ""]]
    [True, True, True, True, False, False, False]
    """
    return NUMBER.match(text) is not None


class Location:
    """Names a place in a text file: ``x.csv, line 3, column 2``."""

    def __init__(self, name: str, lines: NDArray[np.int64] | int) -> None:
        self.name = name
        self.lines = lines

    def line_of(self, row: int) -> int:
        """The 1-based line number of a row of this block."""
        if isinstance(self.lines, int):
            return self.lines + row
        return int(self.lines[row])

    def __call__(self, idx: tuple[int, ...]) -> str:
        if not idx:
            return self.name
        where = f"{self.name}, line {self.line_of(idx[0])}"
        return where + (f", column {idx[1] + 1}" if len(idx) > 1 else "")


def _fast_parse(buf: bytes, sep: int, ncols: int) -> F64 | None:
    """Plain decimals separated by ``sep``, ``ncols`` per line; None where it declines.

    Each field's digits are gathered right-aligned into a row of a small matrix and summed
    as exact integers (< 2^53) by a matrix product with powers of ten; dividing by 10^k,
    k the digits after the dot, then rounds correctly, as ``float()`` does.
    """
    b = np.frombuffer(buf, dtype=np.uint8)
    db = b - np.uint8(48)  # digits 0-9; '-' 253, '.' 254, '\n' 218
    nondigit = db > 9
    if (nondigit & (db < 253) & (db != ((sep - 48) & 0xFF)) & (db != 218)).any():
        return None
    ends = np.flatnonzero((b == sep) | (b == 10))
    n = ends.size
    if n == 0 or n % ncols or int(np.count_nonzero(b == 10)) * ncols != n:
        return None
    if ncols > 1 and not (b[ends[ncols - 1 :: ncols]] == 10).all():
        return None
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lens = ends - starts
    if lens.min() == 0:
        return None
    dots = _dots(b, starts, ends)
    if dots is None:
        return None
    has_dot, k = dots
    neg = None
    minus = int(np.count_nonzero(db == 253))
    if minus:
        neg = b[starts] == 45
        if int(np.count_nonzero(neg)) != minus:
            return None
    digits = lens - has_dot - (0 if neg is None else neg)
    if digits.min() < 1 or digits.max() > 15:
        return None
    width = int(lens.max())
    padded = np.zeros(b.size + width, dtype=np.uint8)
    padded[width:] = np.where(nondigit, np.uint8(0), db)
    windows = sliding_window_view(padded, width)[ends].astype(np.float64)
    # (every field with its dot at the same place: a field without a dot has k = 0 too)
    uniform = k is None or bool((k == k[0]).all() and has_dot.all())
    if uniform:
        # one dot column for all fields: give it weight 0 and shift the digits left of it
        exps = np.arange(width - 1, -1, -1)
        if k is not None:
            exps = exps - (exps > k[0])
        weights = _POW10_F[np.maximum(exps, 0)]
        if k is not None:
            weights[width - 1 - int(k[0])] = 0
        full = windows @ weights
        field_exps = lens - has_dot
    else:
        full = windows @ _POW10_F[width - 1 :: -1]
        field_exps = lens
    if full.max(initial=0) >= 2.0**53:
        return None
    short = np.flatnonzero(lens < width)
    if short.size:  # drop the neighbouring field's digits that share the window
        full[short] = np.fmod(full[short], _POW10_F[field_exps[short]])
    if not uniform and k is not None:  # the dot counted as a digit 0: undo the shift
        low = np.fmod(full, _POW10_F[k])
        full = np.where(has_dot == 1, (full - low) / 10 + low, full)
    values = full if k is None else full / (_POW10_F[k[0]] if uniform else _POW10_F[k])
    if neg is not None:
        np.negative(values, out=values, where=neg)
    return values.reshape(-1, ncols)


def _dots(b: NDArray[np.uint8], starts: NDArray[np.intp], ends: NDArray[np.intp]
          ) -> tuple[NDArray[np.intp], NDArray[np.intp] | None] | None:
    """Per field: 1 where it has a dot, and digits after the dot (None: no dots at all)."""
    n = ends.size
    dpos = np.flatnonzero(b == 46)
    if dpos.size == 0:
        return np.zeros(n, dtype=np.intp), None
    if dpos.size == n and ((starts <= dpos) & (dpos < ends)).all():
        return np.ones(n, dtype=np.intp), ends - dpos - 1
    field = np.searchsorted(ends, dpos)
    if (dpos.size > 1 and not (np.diff(field) > 0).all()) or (starts[field] > dpos).any():
        return None
    has_dot = np.zeros(n, dtype=np.intp)
    has_dot[field] = 1
    k = np.zeros(n, dtype=np.intp)
    k[field] = ends[field] - dpos - 1
    return has_dot, k


def _loadtxt_parse(buf: bytes, dialect: Dialect, ncols: int, nlines: int) -> F64 | None:
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


def _decode(buf: bytes, name: str, first_line: int) -> str:
    """Strict UTF-8, with the line of the first bad byte in the message."""
    try:
        return buf.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + buf.count(b"\n", 0, exc.start)
        raise BceError(
            f"{name}, line {line}: not valid UTF-8 text (byte 0x{buf[exc.start]:02x}); "
            f"bcecli reads numbers as CSV, TSV, JSON or .npy"
        ) from None


def _comment_error(name: str, line: int) -> BceError:
    return BceError(f"{name}, line {line}: a comment line ('#'); comment lines are not "
                    f"supported, remove them")


def _field_error(name: str, line: int, col: int, text: str, dialect: Dialect) -> BceError:
    where = f"{name}, line {line}, column {col}"
    if not text.strip():
        return BceError(f"{where}: empty field (a doubled or trailing {dialect.label} "
                        f"separator?); every field must hold a number")
    hint = ""
    stripped = text.strip()
    if stripped.startswith("#"):
        hint = "; comment lines are not supported, remove them"
    elif '"' in stripped or "'" in stripped:
        hint = "; quoted values are not supported, write the bare number"
    elif dialect.sep is not None and len(stripped.split()) > 1:
        hint = f"; fields are separated by {dialect.label}s"
    return BceError(f"{where}: {stripped[:40]!r} is not a number{hint}")


def _precise_parse(text: str, name: str, first_line: int, dialect: Dialect,
                   ncols: int | None) -> tuple[F64, NDArray[np.int64]]:
    """The reference parser: every field checked, blank lines skipped, errors located."""
    rows: list[list[float]] = []
    lines: list[int] = []
    for offset, raw in enumerate(text.split("\n")):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        number = first_line + offset
        if line.lstrip().startswith("#"):
            raise _comment_error(name, number)
        fields = dialect.split(line)
        if ncols is None:
            ncols = len(fields)
        if len(fields) != ncols:
            raise BceError(
                f"{name}, line {number}: {len(fields)} field{'s' * (len(fields) != 1)} where "
                f"the first row has {ncols}; every row needs the same number of "
                f"{dialect.label}-separated fields"
            )
        values = []
        for col, field in enumerate(fields, start=1):
            stripped = field.strip()
            if not is_number(stripped):
                raise _field_error(name, number, col, field, dialect)
            values.append(float(stripped))
        rows.append(values)
        lines.append(number)
    data = np.array(rows, dtype=np.float64).reshape(len(rows), ncols or 0)
    return data, np.array(lines, dtype=np.int64)


def parse_lines(buf: bytes, name: str, first_line: int, dialect: Dialect,
                ncols: int | None) -> Block:
    """Parse a block of complete lines (ending in a newline) into a block of rows."""
    if ncols is not None and b"\0" not in buf:
        nlines = buf.count(b"\n")
        clean = buf.replace(b"\r\n", b"\n") if b"\r" in buf else buf
        values = None
        if dialect.sep is not None and len(dialect.sep) == 1:
            values = _fast_parse(clean, dialect.sep[0], ncols)
        if values is None and b"\n\n" not in clean and not clean.startswith(b"\n"):
            values = _loadtxt_parse(clean, dialect, ncols, nlines)
        if values is not None and values.shape[0] == nlines:
            return Block(values, Location(name, first_line))
    if b"\0" in buf:
        at = buf.index(b"\0")
        line = first_line + buf.count(b"\n", 0, at)
        raise BceError(f"{name}, line {line}: binary data (a NUL byte); bcecli reads numbers "
                       f"as CSV, TSV, JSON or .npy")
    data, lines = _precise_parse(_decode(buf, name, first_line), name, first_line, dialect,
                                 ncols)
    return Block(data, Location(name, lines))


def _is_name(field: str) -> bool:
    """A header field: not a number, and with a letter in it (so ``1;2`` is no name)."""
    return not is_number(field) and any(c.isalpha() or c == "_" for c in field)


@dataclass
class TextHead:
    """What the first lines of a delimited file said: dialect, header and where data starts."""

    dialect: Dialect
    column_names: list[str] | None
    ncols: int
    data_line: int


def read_head(first: bytes, name: str, dialect: Dialect | None) -> tuple[TextHead, int]:
    """Inspect the first non-blank line(s); returns the head and the byte offset of the data.

    ``first`` must hold at least the first non-blank line (or the whole file).
    """
    pos, line_no = 0, 1
    while True:
        nl = first.find(b"\n", pos)
        end = len(first) if nl < 0 else nl
        line = first[pos:end]
        if line.strip():
            break
        if nl < 0:
            raise BceError(f"{name} holds no data (only whitespace)" if first else
                           f"{name} is empty")
        pos, line_no = nl + 1, line_no + 1
    dialect = dialect or sniff_dialect(line)
    text = _decode(line, name, line_no).rstrip("\r")
    if text.lstrip().startswith("#"):
        raise _comment_error(name, line_no)
    fields = [f.strip() for f in dialect.split(text)]
    if fields and all(_is_name(f) for f in fields):
        names = [f.strip("\"'") for f in fields]
        after = len(first) if nl < 0 else nl + 1
        return TextHead(dialect, names, len(names), line_no + 1), after
    return TextHead(dialect, None, len(fields), line_no), pos


def iter_blocks(stream: ByteStream, name: str, dialect: Dialect | None,
                consumed: list[int], block_bytes: int | None = None,
                ) -> tuple[TextHead, Iterator[Block]]:
    """Read a delimited text stream: its head now, its rows as a lazy stream of blocks."""
    block_bytes = block_bytes or BLOCK_BYTES
    buf = stream.read(block_bytes)
    while True:  # until the first non-blank line is complete (or the stream ends)
        body = buf.removeprefix(BOM).lstrip()
        if (b"\n" in body and len(buf) >= len(BOM)) or b"\0" in buf:  # NUL: binary, say so
            break
        more = stream.read(block_bytes)
        if not more:
            break
        buf += more
    consumed[0] += len(buf)
    buf = buf.removeprefix(BOM)
    head, offset = read_head(buf, name, dialect)

    return head, stream_rows(stream, name, head, buf[offset:], head.data_line, consumed,
                             block_bytes)


def stream_rows(stream: ByteStream, name: str, head: TextHead, rest: bytes, line: int,
                consumed: list[int], block_bytes: int | None = None,
                require_data: bool = True) -> Iterator[Block]:
    """The rows of a delimited stream, after its head: ``rest`` is what was read already."""
    block_bytes = block_bytes or BLOCK_BYTES
    seen_data = False
    while True:
        at_end = False
        if len(rest) < block_bytes or b"\n" not in rest:
            more = stream.read(block_bytes)
            consumed[0] += len(more)
            rest += more
            at_end = not more
        if at_end:
            piece, rest = rest, b""
        else:
            cut = rest.rfind(b"\n") + 1
            if cut == 0:
                if b"\0" not in rest:
                    continue
                cut = len(rest)  # binary data (/dev/zero has no newline): name the NUL now
            piece, rest = rest[:cut], rest[cut:]
        if piece:
            if not piece.endswith(b"\n"):
                piece += b"\n"
            block = parse_lines(piece, name, line, head.dialect, head.ncols)
            line += piece.count(b"\n")
            if block.rows:
                seen_data = True
                yield block
        if at_end:
            break
    if not seen_data and require_data:
        what = "a header row but no data" if head.column_names else "no data"
        raise BceError(f"{name} has {what}")
