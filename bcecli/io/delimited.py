"""CSV, TSV and whitespace-separated numbers, read in blocks of lines.

The file is read sequentially: its first non-blank line decides the separator and whether
it is a header of column names; after it, blocks of about ``BLOCK_BYTES`` are cut at a line's
end and handed out as jobs that parse them (:mod:`bcecli.io.textparse`) on any thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from bcecli.compute.pool import Weighed
from bcecli.errors import BceError
from bcecli.io import columns
from bcecli.io.source import Block, ByteStream, Format, Job, Opening, Prefixed, Source
from bcecli.io.textparse import (
    Dialect,
    Location,
    TextError,
    binary_error,
    comment_error,
    count_lines,
    decode,
    is_number,
    parse_lines,
    printable,
    sniff_dialect,
)

BLOCK_BYTES = 1 << 20
BLOCK_VALUES = 1 << 18
"""The most numbers a block holds (about, from its first line): 2 MiB once parsed."""
MAX_LINE_BYTES = 1 << 26
"""The longest line read: 64 MiB holds a row of several million numbers."""
BOM = b"\xef\xbb\xbf"
DIALECTS = {"csv": Dialect(b","), "tsv": Dialect(b"\t")}


def _is_name(field: str) -> bool:
    """A header field: not a number, and with a letter in it (so ``1;2`` is no name)."""
    return not is_number(field) and _has_letter(field)


def _has_letter(field: str) -> bool:
    return any(c.isalpha() or c == "_" for c in field)


def _is_header(fields: list[str]) -> bool:
    """A header row: no field is a number or empty, and one at least is a name (so that
    ``a,b,-`` and ``p,1-p,%`` are headers, and a row of ``1;2`` in a comma file is data).

    >>> _is_header(["a", "b", "-"]), _is_header(["a", "2"]), _is_header(["-", "+"])
    (True, False, False)
    """
    return bool(fields) and all(f and not is_number(f) for f in fields) and \
        any(_is_name(f) for f in fields)


@dataclass
class TextHead:
    """What the first lines of a delimited file said: dialect, header and where data starts."""

    dialect: Dialect
    column_names: list[str] | None
    ncols: int
    data_line: int
    index: bool = False
    """The first column is pandas' index (a header ``,a,b`` or ``Unnamed: 0,a,b``)."""
    note: str | None = None
    """What was guessed about the header, said on stderr."""


PANDAS_INDEX = ("", "Unnamed: 0")
"""The header of the index column ``DataFrame.to_csv()`` writes."""


def read_head(first: bytes, name: str, dialect: Dialect | None, first_line: int = 1,
              blank_before: bool = False, header: bool | None = None
              ) -> tuple[TextHead, int]:
    """Inspect the first non-blank line(s); returns the head and the byte offset of the data.

    ``first`` must hold at least the first non-blank line (or the whole file); it starts at
    line ``first_line``, after ``blank_before`` blank lines were passed over.  ``header``:
    whether the first line holds the column names (``--header``, ``--no-header``); None:
    guessed (a row in which no field is a number, or pandas' ``0,1,…,n−1``).
    """
    pos, line_no = 0, first_line
    while True:
        nl = first.find(b"\n", pos)
        end = len(first) if nl < 0 else nl
        line = first[pos:end]
        if line.strip(b" \t\r"):
            break
        if nl < 0:
            raise BceError(f"{name} holds no data (only whitespace)" if first or blank_before
                           else f"{name} is empty")
        pos, line_no = nl + 1, line_no + 1
    if b"\0" in line:
        raise binary_error(name, line_no)
    dialect = dialect or sniff_dialect(line)
    text = decode(line, name, line_no).rstrip("\r")
    if text.lstrip(" \t").startswith("#"):
        raise comment_error(name, line_no)
    first_field = dialect.split(text[:256])[0] if len(text) > 256 else ""
    if header is False or (header is None and first_field and len(first_field) < 256
                           and is_number(first_field.strip(" \t")) and first_field != "0"):
        # data, not names: its fields counted without a list of them (a line of millions
        # of numbers made a list of millions of strings, twice, 2 GB for a 64 MiB line)
        return TextHead(dialect, None, dialect.count(text), line_no), pos
    fields = [f.strip(" \t") for f in dialect.split(text)]
    after = len(first) if nl < 0 else nl + 1
    names = [printable(f.strip("\"'")) for f in fields]
    if header:
        return TextHead(dialect, names, len(names), line_no + 1), after
    if len(fields) > 1 and fields[0] in PANDAS_INDEX and (
            _is_header(fields[1:]) or fields[1:] == [str(k) for k in range(len(fields) - 1)]):
        note = (f"{name}: the first column, headed {fields[0]!r}, is pandas' index: "
                f"skipped (FILE:COLUMNS chooses columns)")
        return TextHead(dialect, names, len(names), line_no + 1, index=True, note=note), after
    if _is_header(fields):
        return TextHead(dialect, names, len(names), line_no + 1), after
    if len(fields) > 1 and fields == [str(k) for k in range(len(fields))]:
        shown = f"line {line_no}, '{text.strip()[:40]}'"
        if _fractions_follow(first[after:], dialect):
            note = (f"{name}: {shown}, read as column names (pandas writes 0,1,… for "
                    f"unnamed columns); --no-header reads it as data")
            return TextHead(dialect, names, len(names), line_no + 1, note=note), after
        note = (f"{name}: {shown}, read as data; if it is pandas' names for unnamed "
                f"columns, give --header")
        return TextHead(dialect, None, len(fields), line_no, note=note), pos
    return TextHead(dialect, None, len(fields), line_no), pos


def _fractions_follow(rest: bytes, dialect: Dialect) -> bool:
    """Whether the next line (if read yet) holds a number that is not whole: then a first
    row 0,1,… above it is no row of class labels but pandas' column names."""
    for raw in rest.split(b"\n", 8)[:8]:
        line = raw.decode("utf-8", "replace").strip(" \t\r")
        if line:
            fields = [f.strip(" \t") for f in dialect.split(line)]
            return any(is_number(f) and not f.lstrip("+-").isdigit() for f in fields)
    return False


def _first_line(stream: ByteStream, name: str, block_bytes: int, consumed: list[int]
                ) -> tuple[bytes, int, bool]:
    """Read up to the end of the first line with content, passing over blank lines (they
    are dropped as they come: any number of them takes linear time and little memory).

    Returns the bytes from the start of that line (its BOM removed), its line number, and
    whether blank lines were passed over.
    """
    parts: list[bytes] = []
    held, line, skipped, start = 0, 1, False, True
    while True:
        more = stream.read(block_bytes)
        consumed[0] += len(more)
        if more:
            parts.append(more)
            held += len(more)
        if start:  # the BOM, which may come in pieces
            head = b"".join(parts)
            if more and len(head) < len(BOM) and BOM.startswith(head):
                continue
            parts, held, start = [head.removeprefix(BOM)], len(head.removeprefix(BOM)), False
        if more and b"\n" not in more and b"\0" not in more:
            if held > MAX_LINE_BYTES:
                raise _too_long(name, line)
            continue  # the line goes on
        buf = b"".join(parts)
        content = len(buf) - len(buf.lstrip(b" \t\r\n"))  # the first byte that is not blank
        cut = buf.rfind(b"\n", 0, content) + 1  # the start of the line it lies in
        if cut:
            line += buf.count(b"\n", 0, cut)
            skipped = True
            buf, content = buf[cut:], content - cut
        parts, held = [buf], len(buf)
        if not more or b"\0" in buf or buf.find(b"\n", content) >= 0:
            return buf, line, skipped  # (NUL: binary data, said by the parser with its line)
        if held > MAX_LINE_BYTES:
            raise _too_long(name, line)


def _too_long(name: str, line: int) -> TextError:
    return TextError(name, line, f": a line longer than {MAX_LINE_BYTES >> 20} MiB; bcecli "
                     f"holds one line of text at a time: write a long vector as a column, or "
                     f"as .npy")


def iter_jobs(stream: ByteStream, name: str, dialect: Dialect | None, consumed: list[int],
              block_bytes: int | None = None, selector: str | None = None,
              header: bool | None = None, names: bool = False
              ) -> tuple[TextHead, Iterator[Job]]:
    """Read a delimited text stream: its head now, then jobs that parse its blocks of rows
    (only the columns ``selector`` names, if given: :mod:`bcecli.io.columns`)."""
    block_bytes = block_bytes or BLOCK_BYTES
    buf, line, skipped = _first_line(stream, name, block_bytes, consumed)
    comments = 0
    while buf.lstrip(b" \t").startswith(b"#"):  # numpy.savetxt's header, and the like
        nl = buf.find(b"\n")
        if nl < 0:
            raise BceError(f"{name} holds no data (only comment lines)")
        comments += line
        stream = Prefixed(buf[nl + 1:], stream)
        buf, line, skipped = _first_line(stream, name, block_bytes, [0])
        skipped = True
    line += comments
    head, offset = read_head(buf, name, dialect, line, skipped, header)
    rest = buf[offset:]
    size = _block_size(rest, head, block_bytes)
    if selector is None and not head.index:
        return head, _pieces(stream, name, head, rest, consumed, size)
    keep = columns.resolve(selector, head.column_names, head.ncols, name) if selector \
        else list(range(1, head.ncols))  # (pandas' index column left out)
    if names and len(keep) != 1:
        raise BceError(f"{name}: --id names one column, not {len(keep)}")
    labels = None if head.column_names is None else [head.column_names[k] for k in keep]
    chosen = TextHead(head.dialect, labels, len(keep), head.data_line,
                      note=None if selector else head.note)
    return chosen, _pieces(stream, name, head, rest, consumed, size, keep, names)


def _block_size(rest: bytes, head: TextHead, block_bytes: int) -> int:
    """Bytes per block: ``block_bytes``, less where short fields (labels: ``0,1``) would
    make a block of more than ``BLOCK_VALUES`` numbers (8 bytes each once parsed)."""
    line_end = rest.find(b"\n", 0, 1 << 16)
    if line_end <= 0 or not head.ncols:
        return block_bytes
    per_value = (line_end + 1) / head.ncols
    return max(min(block_bytes, int(BLOCK_VALUES * per_value)), min(block_bytes, 1 << 16))


def _pieces(stream: ByteStream, name: str, head: TextHead, rest: bytes,
            consumed: list[int], block_bytes: int, keep: list[int] | None = None,
            names: bool = False) -> Iterator[Job]:
    """Jobs for the rows after the head: ``rest`` is what was read already.

    Blocks of about ``block_bytes`` are cut at a line's end; a line is read in pieces, and
    joined once, however long it is (up to ``MAX_LINE_BYTES``).  Lines are counted by the
    jobs, on the pool: a block's lines count from 1 until :class:`_Lines` places it.
    """
    parts, held, whole_line = [rest], len(rest), b"\n" in rest
    at_end = False
    while not at_end:
        while held < block_bytes or not whole_line:
            more = stream.read(block_bytes)
            consumed[0] += len(more)
            if not more:
                at_end = True
                break
            parts.append(more)
            held += len(more)
            whole_line = whole_line or b"\n" in more
            if b"\0" in more:  # binary data (/dev/zero has no newline): name the NUL now
                break
            if not whole_line and held > MAX_LINE_BYTES:
                raise _too_long(name, 1)  # (line 1 of the block being read)
        buf = b"".join(parts)
        cut = len(buf) if at_end or b"\n" not in buf else buf.rfind(b"\n") + 1
        rest = buf[cut:]
        parts, held, whole_line = [rest], len(rest), False
        if cut:
            parse = _name_piece if names else _parse_piece
            yield Weighed(partial(parse, memoryview(buf)[:cut], name, head.dialect,
                                  head.ncols, keep), cut)


def _parse_piece(piece: memoryview, name: str, dialect: Dialect, ncols: int,
                 keep: list[int] | None = None) -> Block:
    buf = bytes(piece)  # (copied here, on the pool, not by the reader)
    buf = buf if buf.endswith(b"\n") else buf + b"\n"
    if keep is None:
        return parse_lines(buf, name, 1, dialect, ncols)
    try:
        chosen = columns.select(buf, dialect, ncols, keep, name)
    except TextError as exc:  # (a ragged line: the rows before it, then the error)
        before = buf[:_line_start(buf, exc.line)]
        block = parse_lines(columns.select(before, dialect, ncols, keep, name), name, 1,
                            dialect, len(keep)) if before else \
            Block(np.empty((0, len(keep))), Location(name, 1, 0))
        block.error = block.error or exc
        _spanning(block.locate, count_lines(buf))
    else:
        block = parse_lines(chosen, name, 1, dialect, len(keep))
    if isinstance(block.locate, Location):
        block.locate.columns = keep
    block.error = columns.placed(block.error, keep)  # type: ignore[arg-type]
    return block


def _name_piece(piece: memoryview, name: str, dialect: Dialect, ncols: int,
                keep: list[int] | None) -> Block:
    """A block of the rows' names (``--id``): the one selected field of each line, as text
    (blank and comment lines skipped, as the numbers' parser skips them)."""
    assert keep is not None
    buf = bytes(piece)
    buf = buf if buf.endswith(b"\n") else buf + b"\n"
    chosen = columns.select(buf, dialect, ncols, keep, name).decode("utf-8", "replace")
    lines = chosen.split("\n")[:-1]
    whole = buf.split(b"\n")[:-1]  # (the lines as they were: blank or comment ones skip)
    labels = [_unquoted(line.strip(" \t\r")) for line, was in zip(lines, whole, strict=True)
              if was.strip(b" \t\r") and not was.lstrip(b" \t").startswith(b"#")]
    block = Block(np.array(labels, dtype=object), Location(name, 1, count_lines(buf)))
    return block


def _unquoted(field: str) -> str:
    """A CSV field without its quotes (``"a,b"`` is ``a,b``; ``""`` inside is ``"``)."""
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def _line_start(buf: bytes, line: int) -> int:
    """The offset where a block's 1-based line starts."""
    at = 0
    for _ in range(line - 1):
        at = buf.index(b"\n", at) + 1
    return at


def _spanning(locate: object, nlines: int) -> None:
    """A block's locator spanning all its lines (the reader places blocks by them)."""
    if isinstance(locate, Location):
        locate.nlines = nlines


class _Lines:
    """Places each block at its lines as the blocks come, in order, and shifts the errors
    of a block (which count its lines from 1) likewise."""

    def __init__(self, first: int) -> None:
        self.next = first

    def settle(self, block: Block) -> None:
        if isinstance(block.locate, Location):
            block.locate.offset = self.next - 1
            self.next += block.locate.nlines

    def place(self, exc: BceError) -> BceError:
        return exc.shifted(self.next - 1) if isinstance(exc, TextError) else exc


def open_delimited(opening: Opening) -> Source:
    """A delimited text file as a source of row blocks."""
    return text_source(opening.stream, opening.name, DIALECTS.get(opening.variant or ""),
                       opening.size, selector=opening.selector, header=opening.header,
                       names=opening.names)


def text_source(stream: ByteStream, name: str, dialect: Dialect | None,
                size: int | None = None, block_bytes: int | None = None,
                selector: str | None = None, header: bool | None = None,
                names: bool = False) -> Source:
    """Delimited text read from a stream (the dialect None: guessed from the first line);
    ``selector``: the columns to read (``FILE:COLUMNS``); ``header``: whether the first
    line names the columns (None: guessed)."""
    consumed = [0]
    head, jobs = iter_jobs(stream, name, dialect, consumed, block_bytes, selector, header,
                           names)
    what = "a header row but no data" if head.column_names else "no data"
    lines = _Lines(head.data_line)
    return Source(name, jobs, column_names=head.column_names, size_bytes=size,
                  consumed=consumed, text=True, empty=f"{name} has {what}",
                  settle=lines.settle, place=lines.place,
                  notes=[head.note] if head.note else [])


FORMAT = Format("delimited", {".csv": "csv", ".tsv": "tsv", ".tab": "tsv"},
                sniff=lambda first: True, open=open_delimited)
"""Delimited text: by extension, and whatever no other format claims."""
