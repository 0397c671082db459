"""CSV, TSV and whitespace-separated numbers, read in blocks of lines.

The file is read sequentially: its first non-blank line decides the separator and whether
it is a header of column names; after it, blocks of about ``BLOCK_BYTES`` are cut at a line's
end and handed out as jobs that parse them (:mod:`bcecli.io.textparse`) on any thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from bcecli.compute.pool import Later, Weighed
from bcecli.errors import BceError
from bcecli.io import columns
from bcecli.io.source import F64, Block, ByteStream, Format, Job, Opening, Prefixed, Source
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
    head, stream, rest, size = _read_head(stream, name, dialect, consumed, block_bytes, header)
    chosen, keep = _choose(head, selector, name)
    if names and (keep is None or len(keep) != 1):
        raise BceError(f"{name}: --id names one column, not {chosen.ncols}")
    return chosen, _pieces(_cuts(stream, name, rest, consumed, size), name, head, keep, names)


def _read_head(stream: ByteStream, name: str, dialect: Dialect | None, consumed: list[int],
               block_bytes: int | None, header: bool | None
               ) -> tuple[TextHead, ByteStream, bytes, int]:
    """The head of a delimited stream, the stream to read the rows from, what was read of
    them already, and the bytes of a block."""
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
    return head, stream, rest, _block_size(rest, head, block_bytes)


def _choose(head: TextHead, selector: str | None, name: str
            ) -> tuple[TextHead, list[int] | None]:
    """The head of the columns read (``selector``'s, else all but pandas' index) and the
    file's columns they are (None: all)."""
    if selector is None and not head.index:
        return head, None
    keep = columns.resolve(selector, head.column_names, head.ncols, name) \
        if selector is not None else list(range(1, head.ncols))  # (pandas' index left out)
    names = None if head.column_names is None else [head.column_names[k] for k in keep]
    return TextHead(head.dialect, names, len(keep), head.data_line,
                    note=None if selector is not None else head.note), keep


def _block_size(rest: bytes, head: TextHead, block_bytes: int) -> int:
    """Bytes per block: ``block_bytes``, less where short fields (labels: ``0,1``) would
    make a block of more than ``BLOCK_VALUES`` numbers (8 bytes each once parsed)."""
    line_end = rest.find(b"\n", 0, 1 << 16)
    if line_end <= 0 or not head.ncols:
        return block_bytes
    per_value = (line_end + 1) / head.ncols
    return max(min(block_bytes, int(BLOCK_VALUES * per_value)), min(block_bytes, 1 << 16))


def _cuts(stream: ByteStream, name: str, rest: bytes, consumed: list[int], block_bytes: int
          ) -> Iterator[tuple[memoryview, int]]:
    """The blocks of lines after the head, each with its length: ``rest`` is what was read
    already.

    Blocks of about ``block_bytes`` are cut at a line's end; a line is read in pieces, and
    joined once, however long it is (up to ``MAX_LINE_BYTES``).
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
            yield memoryview(buf)[:cut], cut


def _pieces(cuts: Iterator[tuple[memoryview, int]], name: str, head: TextHead,
            keep: list[int] | None = None, names: bool = False) -> Iterator[Job]:
    """Jobs parsing the blocks of lines on any thread (``names``: as the rows' names, text).
    Lines are counted by the jobs, on the pool: a block's lines count from 1 until
    :class:`_Lines` places it."""
    parse = _name_piece if names else _parse_piece
    for piece, cut in cuts:
        yield Weighed(partial(parse, piece, name, head.dialect, head.ncols, keep), cut)


def _parse_piece(piece: memoryview, name: str, dialect: Dialect, ncols: int,
                 keep: list[int] | None = None) -> Block:
    buf = _copied(piece)
    if keep is None:
        return parse_lines(buf, name, 1, dialect, ncols)
    return _parse_kept(buf, name, dialect, ncols, keep)


def _copied(piece: memoryview) -> bytes:
    """A block's bytes, ending in a newline (copied on the pool, not by the reader)."""
    buf = bytes(piece)
    return buf if buf.endswith(b"\n") else buf + b"\n"


def _parse_kept(buf: bytes, name: str, dialect: Dialect, ncols: int, keep: list[int]
                ) -> Block:
    """The kept columns of a block: read in place where they hold plain decimals, else
    gathered and parsed by every tier."""
    values = columns.parse_selected(buf, dialect, ncols, keep)
    if values is not None:
        return _selected(values, name, keep)
    return _select_and_parse(buf, name, dialect, ncols, keep)


def _matrix(parts: list[F64]) -> F64:
    """Columns as the rows of a matrix (one column: the same numbers, not copied)."""
    return parts[0].reshape(-1, 1) if len(parts) == 1 else np.stack(parts, axis=1)


def _selected(values: F64, name: str, keep: list[int]) -> Block:
    """A block of the numbers of the kept columns, as they were read in place."""
    located = Location(name, 1, values.shape[0])
    located.columns = keep
    return Block(values, located)


def _select_and_parse(buf: bytes, name: str, dialect: Dialect, ncols: int, keep: list[int]
                      ) -> Block:
    """The kept columns' fields gathered, then parsed by every tier (which says where a
    field is no number)."""
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
    chosen = columns.select(buf, dialect, ncols, keep, name, text=True).decode("utf-8",
                                                                               "replace")
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


TWIN_QUEUE = 16
"""Blocks one of two sources sharing a reading may fall behind the other, at most: beyond
that it reads the file again on its own, from where it stands, rather than the blocks piling
up (a shape message counts one source's rows to the end before the other's)."""


def twin_sources(opening: Opening, selectors: tuple[str, str],
                 alone: Callable[[int], Source]) -> tuple[Source, Source]:
    """The columns two selectors name in one delimited file (``-i f.csv:prob -t
    f.csv:label``) as two sources of one reading: each block is read once and its kept
    fields parsed once, for both (by the first of their two jobs to run), and each source
    gets the block it would have got on its own, errors and all.  ``alone(side)``: the
    source of one side on its own, for a side that falls behind (:data:`TWIN_QUEUE`)."""
    name = opening.name
    consumed = [0]
    head, stream, rest, size = _read_head(opening.stream, name,
                                          DIALECTS.get(opening.variant or ""), consumed,
                                          None, opening.header)
    chosen = [_choose(head, selector, name) for selector in selectors]
    keeps = [keep if keep is not None else list(range(head.ncols)) for _, keep in chosen]
    twins = _Twins(_cuts(stream, name, rest, consumed, size), name, head, keeps, alone)
    sources = []
    for side, (part, _) in enumerate(chosen):
        what = "a header row but no data" if part.column_names else "no data"
        lines = _Lines(part.data_line)
        sources.append(Source(name, twins.jobs(side), column_names=part.column_names,
                              size_bytes=opening.size, consumed=consumed, text=True,
                              empty=f"{name} has {what}", settle=lines.settle,
                              place=lines.place, closer=twins.close))
    return sources[0], sources[1]


class _Twins:
    """One reading of a file's blocks, handed to two sources as jobs (see
    :func:`twin_sources`).  The jobs are asked for in the reading thread only."""

    def __init__(self, cuts: Iterator[tuple[memoryview, int]], name: str, head: TextHead,
                 keeps: list[list[int]], alone: Callable[[int], Source]) -> None:
        self.cuts, self.name, self.dialect, self.ncols = cuts, name, head.dialect, head.ncols
        self.keeps, self.alone = keeps, alone
        self.waiting: tuple[deque[Job | BceError], ...] = (deque(), deque())
        """The jobs of blocks read for the other side first, or what stopped the reading."""
        self.taken = [0, 0]
        self.apart: list[Iterator[Job] | None] = [None, None]
        """A side's own reading, once it fell behind."""
        self.opened: list[Source] = []

    def jobs(self, side: int) -> Iterator[Job]:
        other = 1 - side
        while True:
            apart = self.apart[side]
            if apart is not None:
                yield from apart
                return
            if self.waiting[side]:
                item = self.waiting[side].popleft()
                if isinstance(item, BceError):
                    raise item
                self.taken[side] += 1
                yield item
                continue
            try:
                piece, cut = next(self.cuts)
            except StopIteration:
                return
            except BceError as exc:
                if self.apart[other] is None:
                    self.waiting[other].append(exc)
                raise
            self.taken[side] += 1
            if self.apart[other] is not None:
                yield Weighed(partial(_parse_piece, piece, self.name, self.dialect,
                                      self.ncols, self.keeps[side]), cut)
                continue
            shared = _Shared(piece, self.parse)
            self.waiting[other].append(Later(partial(shared.block, other), cut))
            if len(self.waiting[other]) > TWIN_QUEUE:
                self._part(other)
            yield Weighed(partial(shared.block, side), cut)

    def _part(self, side: int) -> None:
        """A side fallen behind reads the file on its own, from the blocks it has taken."""
        try:
            source = self.alone(side)
            self.opened.append(source)
            for _ in range(self.taken[side]):
                next(source.jobs)  # (read past, not parsed)
        except (BceError, StopIteration):
            return  # (it stays behind: the file changed, or is gone)
        self.apart[side] = source.jobs
        self.waiting[side].clear()

    def parse(self, piece: memoryview) -> list[Block]:
        """A block's kept fields for both sides: read in place at once, else each side's
        as on its own."""
        first, second = self.keeps
        sep = self.dialect.sep
        kept = None
        if sep is not None and len(sep) == 1 and len(piece) and piece[-1] == 10:
            kept = columns.selected_columns(piece, sep[0], self.ncols, first + second)
        if kept is None:
            buf = _copied(piece)
            return [_parse_kept(buf, self.name, self.dialect, self.ncols, keep)
                    for keep in self.keeps]
        n = len(first)
        return [_selected(_matrix(kept[:n]), self.name, first),
                _selected(_matrix(kept[n:]), self.name, second)]

    def close(self) -> None:
        for source in self.opened:
            source.close()
        self.opened.clear()


class _Shared:
    """One block of lines parsed once for two sources, by the first of their jobs to run;
    the other waits for it, then takes its block."""

    def __init__(self, piece: memoryview, parse: Callable[[memoryview], list[Block]]
                 ) -> None:
        self.piece: memoryview | None = piece
        self.parse = parse
        self.lock = threading.Lock()
        self.blocks: list[Block | None] = [None, None]
        self.error: BaseException | None = None

    def block(self, side: int) -> Block:
        with self.lock:
            if self.piece is not None:
                piece, self.piece = self.piece, None
                try:
                    self.blocks = list(self.parse(piece))
                except BaseException as exc:  # (said by both sides)
                    self.error = exc
        if self.error is not None:
            raise self.error
        block, self.blocks[side] = self.blocks[side], None
        assert block is not None
        return block


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
