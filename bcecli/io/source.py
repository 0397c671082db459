"""Sources and row blocks: the unit every reader produces and the engine consumes.

A matrix is read as a stream of blocks of consecutive rows (the first axis).  A reader
reads its bytes sequentially and hands out *jobs*: a job turns the bytes of one block into
a :class:`Block` (parsing, converting) and may run on any thread, so that blocks are parsed
in parallel while the file is read in order.  Each block can name any of its elements in
words (``x.csv, line 4, column 2``) for error messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError

F64 = NDArray[np.float64]
Locator = Callable[[tuple[int, ...]], str]
Job = Callable[[], "Block"]


class ByteStream(Protocol):
    """What the readers need of a file or pipe: ``read(n)``."""

    def read(self, n: int = -1, /) -> bytes:
        """Up to n bytes (all that is left for n < 0); b"" at the end."""
        ...


def index_locator(name: str) -> Locator:
    """A locator that names an element by its index.

    >>> index_locator("input")((1, 2))
    'input[1, 2]'
    """
    return lambda idx: f"{name}[{', '.join(map(str, idx))}]"


@dataclass(eq=False)
class Block:
    """Consecutive rows of a matrix and a locator for indices within them."""

    data: F64
    locate: Locator
    error: BceError | None = None
    """What stopped the reading in this block: ``data`` holds the rows before it, and the
    source raises it once they are given out (so that an error in an earlier row, of a
    value say, is said first)."""

    @property
    def rows(self) -> int:
        """How many rows (entries along the first axis) the block holds."""
        return int(self.data.shape[0]) if self.data.ndim else 1


def ready(block: Block) -> Job:
    """A job for a block that is already parsed."""
    return lambda: block


@dataclass
class Source:
    """A matrix being read: its name for messages and a one-shot stream of block jobs."""

    name: str
    jobs: Iterator[Job]
    column_names: list[str] | None = None
    size_bytes: int | None = None
    whole: bool = False
    """True when the stream is a single in-memory block (JSON, inline data, scalars)."""
    consumed: list[int] = field(default_factory=lambda: [0])
    """Bytes read so far (for progress), updated by streaming readers."""
    text: bool = False
    """True for CSV/TSV, which holds rows of fields: 2-D, whatever shape the data stands for."""
    closer: Callable[[], None] | None = None
    """Closes the file behind the blocks, if there is one."""
    empty: str | None = None
    """The error when the stream holds no rows at all; None: an empty matrix is valid."""
    settle: Callable[[Block], None] | None = None
    """Called with each block in order, as it is given out (text places its lines)."""
    place: Callable[[BceError], BceError] | None = None
    """Turns an error of the block being read into one that says where it is."""
    reopen: Callable[[], Source] | None = None
    """A new source of the same data, read from the start (a second pass)."""
    notes: list[str] = field(default_factory=list)
    """What the reader guessed and the user should know (said as warnings)."""

    def blocks(self, run: Callable[[Iterator[Job]], Iterator[Block]] | None = None
               ) -> Iterator[Block]:
        """The parsed blocks in order; ``run`` runs the jobs (on a thread pool), else here.

        Blocks of no rows (a piece of blank lines) are passed over, unless the whole matrix
        is empty and that is valid (an .npy of shape (0, 3), JSON ``[]``).
        """
        first_empty: Block | None = None
        seen = False
        for block in self._in_order(run or _run_here):
            if block.data.ndim and block.rows == 0:
                first_empty = first_empty or block
                continue
            seen = True
            yield block
        if not seen:
            if self.empty is not None:
                raise BceError(self.empty)
            if first_empty is not None:
                yield first_empty

    def _in_order(self, run: Callable[[Iterator[Job]], Iterator[Block]]) -> Iterator[Block]:
        blocks = run(self.jobs)
        while True:
            try:
                block = next(blocks)
            except StopIteration:
                return
            except BceError as exc:
                raise self._placed(exc) from None
            error = None if block.error is None else self._placed(block.error)
            if self.settle is not None:
                self.settle(block)
            yield block
            if error is not None:  # (once the rows before it are given out)
                raise error

    def _placed(self, exc: BceError) -> BceError:
        return exc if self.place is None else self.place(exc)

    def close(self) -> None:
        """Stop reading: the file behind the blocks is closed."""
        if self.closer is not None:
            self.closer()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run_here(jobs: Iterator[Job]) -> Iterator[Block]:
    for job in jobs:
        yield job()


def in_memory(name: str, array: F64, locate: Locator, size: int | None = None) -> Source:
    """A source of one block already in memory (JSON, inline data, a number, an array)."""
    source = Source(name, iter([ready(Block(array, locate))]), size_bytes=size, whole=True)
    source.reopen = lambda: in_memory(name, array, locate, size)
    return source


class Tee:
    """A stream read once (a pipe) whose bytes are kept in a temporary file as they are
    read, so that it can be read again from the start (:meth:`replay`)."""

    def __init__(self, stream: ByteStream, name: str) -> None:
        import tempfile

        self._stream = stream
        self._name = name
        try:
            self._spool: BinaryIO = tempfile.TemporaryFile()
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: OSError) -> BceError:
        import tempfile

        return BceError(f"{self._name}: cannot keep what is read in a temporary file in "
                        f"{tempfile.gettempdir()} ({exc.strerror or exc}), to read it twice "
                        f"for the gradient of a mean; give a file, or set TMPDIR")

    def read(self, n: int = -1, /) -> bytes:
        data = self._stream.read(n)
        try:
            self._spool.write(data)
        except OSError as exc:
            raise self._error(exc) from None
        return data

    def replay(self) -> ByteStream:
        """What was read, from the start (the first reading must have reached the end)."""
        while self.read(1 << 20):  # (whatever the first reading left)
            pass
        try:  # (a full disk may first say so here, where the buffered bytes are written)
            self._spool.flush()
            self._spool.seek(0)
        except OSError as exc:
            raise self._error(exc) from None
        return self._spool

    def close(self) -> None:
        self._spool.close()


def shifted(locate: Locator, offset: int) -> Locator:
    """A locator for a view that starts ``offset`` rows into the block."""
    if offset == 0:
        return locate
    return lambda idx: locate((idx[0] + offset, *idx[1:]) if idx else idx)


def joined(parts: list[Block]) -> Block:
    """Blocks of consecutive rows joined into one, each row still located in its own block."""
    if len(parts) == 1:
        return parts[0]
    starts = np.cumsum([0] + [p.rows for p in parts])

    def locate(idx: tuple[int, ...]) -> str:
        k = int(np.searchsorted(starts, idx[0], side="right") - 1) if idx else 0
        return parts[k].locate((idx[0] - int(starts[k]), *idx[1:]) if idx else idx)

    return Block(np.concatenate([p.data for p in parts], axis=0), locate)


class RowFeed:
    """Serves the rows of a stream of blocks in the counts the engine asks for."""

    def __init__(self, blocks: Iterator[Block], trailing: tuple[int, ...] = ()) -> None:
        self._blocks = blocks
        self._pending: Block | None = None
        self.served = 0
        self.trailing = trailing
        """The shape of a row (of the blocks read last)."""
        self.error: BceError | None = None
        """What stopped the reading after the rows served, when fewer rows than asked for
        were served because of it; the next :meth:`take_parts` raises it."""

    def take(self, n: int) -> Block | None:
        """Up to ``n`` rows as one block (fewer only when the matrix ends); None at the end."""
        parts = self.take_parts(n)
        return None if parts is None else joined(parts)

    def take_parts(self, n: int) -> list[Block] | None:
        """Up to ``n`` rows as consecutive blocks, to be joined by whoever uses them (on the
        pool, not in the reading thread); None at the end."""
        if self.error is not None:
            raise self.error
        parts: list[Block] = []
        got = 0
        while got < n:
            try:
                block = self._pending if self._pending is not None else \
                    next(self._blocks, None)
            except BceError as exc:
                if not got:
                    raise
                self.error = exc  # the rows before it are served first
                break
            self._pending = None
            if block is None:
                break
            self.trailing = block.data.shape[1:]
            need = n - got
            if block.rows > need:
                parts.append(Block(block.data[:need], block.locate))
                self._pending = Block(block.data[need:], shifted(block.locate, need))
                got = n
            else:
                parts.append(block)
                got += block.rows
        self.served += got
        if got == 0:  # the end (blocks of no rows, as an empty .npy has, count as none)
            return None
        return parts

    def count_rest(self) -> int:
        """Read to the end, returning how many rows were left (for shape messages)."""
        rest = 0
        while (block := self.take(1 << 16)) is not None:
            rest += block.rows
        return rest


class Prefixed:
    """A read-only stream that first gives back bytes already read (for sniffing)."""

    def __init__(self, prefix: bytes, stream: ByteStream) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            data, self._prefix = self._prefix + self._stream.read(), b""
            return data
        if self._prefix:
            data, self._prefix = self._prefix[:n], self._prefix[n:]
            if len(data) < n:
                data += self._stream.read(n - len(data))
            return data
        return self._stream.read(n)


@dataclass(eq=False)
class Opening:
    """What a format's opener gets: the stream and what is known about it."""

    stream: ByteStream
    """The bytes, from the start (what sniffing read is given back first)."""
    name: str
    """The name for messages: the path as typed, or ``stdin (--input)``."""
    size: int | None = None
    """The size in bytes, for a regular file."""
    variant: str | None = None
    """What the file's extension said beyond the format (``csv`` or ``tsv``)."""
    selector: str | None = None
    """What ``FILE:SELECTOR`` selected within the file (an array of an archive)."""
    reopen: Callable[[], BinaryIO] | None = None
    """A fresh, seekable handle on the same file, for formats that must seek."""
    arg: str = "-"
    """The argument as typed, without the selector (the path, or ``-``)."""
    header: bool | None = None
    """Whether a delimited file's first line names its columns (None: guessed)."""
    names: bool = False
    """Read the selected column as text (the rows' names, ``--id``), not as numbers."""


@dataclass(eq=False)
class Format:
    """One input format: how it is recognised and opened (see :data:`bcecli.io.FORMATS`)."""

    name: str
    extensions: dict[str, str | None]
    """File extensions (lower case, with the dot) and the variant each one means."""
    sniff: Callable[[bytes], bool]
    """True when the first bytes of a stream (past blank space) are of this format."""
    open: Callable[[Opening], Source]


def seekable(opening: Opening, what: str) -> BinaryIO:
    """A handle on an opening's bytes that can seek (zip archives and Parquet are read from
    their end): the file again, or, for a pipe, a temporary file it is first copied to."""
    import tempfile

    if opening.reopen is not None:
        return opening.reopen()
    spool = tempfile.TemporaryFile()
    try:
        while chunk := opening.stream.read(1 << 20):
            spool.write(chunk)
    except OSError as exc:
        spool.close()
        raise BceError(f"{opening.name}: cannot keep the {what} in a temporary file "
                       f"({exc.strerror or exc})") from None
    spool.seek(0)
    return spool
