"""Two processes for big files: each half of the rows read and reduced apart, then added.

Parsing holds the GIL, so threads do not help; a forked child takes the second half of the
rows of both files while this process does the first.  Delimited text is split at a line
boundary, with the target's matching line found by counting newlines (only files without
blank lines); a C-order ``.npy`` at a row, by seeking.  Used for reductions ``mean``/``sum``
and outputs that need no elementwise stream.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from bcecli import delimited, npyfile
from bcecli.blocks import Matrix
from bcecli.engine import run
from bcecli.errors import BceError
from bcecli.outcome import Keep, Options, Outcome, finalize

MIN_BYTES = 16 << 20
SCAN_BYTES = 4 << 20
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


@dataclass(frozen=True)
class _Part:
    path: str
    head: delimited.TextHead
    data_start: int
    split: int
    split_line: int


class _Bounded:
    """A file read from ``start`` up to ``stop`` (None: the end)."""

    def __init__(self, path: str, start: int, stop: int | None) -> None:
        self.fh: BinaryIO = open(path, "rb")
        self.fh.seek(start)
        self.left = None if stop is None else stop - start

    def read(self, n: int = -1) -> bytes:
        if self.left is not None:
            n = self.left if n < 0 else min(n, self.left)
            self.left -= n
        return self.fh.read(n)

    def close(self) -> None:
        self.fh.close()


def _head(path: str) -> tuple[delimited.TextHead, int] | None:
    with open(path, "rb") as fh:
        first = fh.read(1 << 16)
    if first.startswith(b"\x93NUMPY") or first.lstrip()[:1] == b"[" or b"\n" not in first:
        return None
    bom = 3 if first.startswith(delimited.BOM) else 0
    ext = os.path.splitext(path)[1].lower()
    dialect = {".csv": delimited.Dialect(b","), ".tsv": delimited.Dialect(b"\t")}.get(ext)
    try:
        head, offset = delimited.read_head(first[bom:], path, dialect)
    except BceError:
        return None
    return head, bom + offset


def _count_to(path: str, start: int, stop: int | None, rows: int | None
              ) -> tuple[int, int] | None:
    """Newlines from ``start`` (up to ``stop``, or until ``rows`` of them): (count, offset after).

    None when a blank line lies in the range (row and line numbers would part ways).
    """
    count, pos, prev = 0, start, b""
    with open(path, "rb") as fh:
        fh.seek(start)
        while stop is None or pos < stop:
            chunk = fh.read(SCAN_BYTES if stop is None else min(SCAN_BYTES, stop - pos))
            if not chunk:
                return None if rows is not None else (count, pos)
            if _BLANK_LINE.search(prev[-64:] + chunk):
                return None
            n = chunk.count(b"\n")
            if rows is not None and count + n >= rows:
                nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
                return rows, pos + int(nl[rows - count - 1]) + 1
            count, pos, prev = count + n, pos + len(chunk), chunk
    return count, pos


def plan(input_path: str, target_path: str) -> tuple[_Part, _Part] | None:
    """Where to split both files, or None when they are not worth or fit for splitting."""
    try:
        size = os.path.getsize(input_path)
        if size < MIN_BYTES or not os.path.isfile(target_path):
            return None
        x_found, t_found = _head(input_path), _head(target_path)
    except OSError:
        return None
    if x_found is None or t_found is None:
        return None
    (x_head, x_start), (t_head, t_start) = x_found, t_found
    with open(input_path, "rb") as fh:
        fh.seek(x_start + (size - x_start) // 2)
        tail = fh.read(1 << 20)
    nl = tail.find(b"\n")
    if nl < 0:
        return None
    x_split = x_start + (size - x_start) // 2 + nl + 1
    counted = _count_to(input_path, x_start, x_split, None)
    if counted is None or counted[0] == 0 or x_split >= size:
        return None
    rows = counted[0]
    found = _count_to(target_path, t_start, None, rows)
    if found is None:
        return None
    return (_Part(input_path, x_head, x_start, x_split, x_head.data_line + rows),
            _Part(target_path, t_head, t_start, found[1], t_head.data_line + rows))


def _matrix(part: _Part, second: bool) -> Matrix:
    start = part.split if second else part.data_start
    stream = _Bounded(part.path, start, None if second else part.split)
    consumed = [0]
    line = part.split_line if second else part.head.data_line
    blocks = delimited.stream_rows(stream, part.path, part.head, b"", line, consumed,
                                   require_data=not second)
    return Matrix(part.path, blocks, column_names=part.head.column_names,
                  consumed=consumed, text=True, closer=stream.close)


@dataclass(frozen=True)
class Split:
    """Input and target cut at the same row: ``open_half(False)`` opens both first halves,
    ``open_half(True)`` both second halves, which start at row ``rows_before``."""

    rows_before: int
    open_half: Callable[[bool], tuple[Matrix, Matrix]]


def find_split(input_path: str, target_path: str) -> Split | None:
    """How to split two files between two processes, or None when not worth or fit to."""
    try:
        with open(input_path, "rb") as fh:
            magic = fh.read(len(npyfile.MAGIC))
    except OSError:
        return None
    if magic == npyfile.MAGIC:
        return _split_npy(input_path, target_path)
    parts = plan(input_path, target_path)
    if parts is None:
        return None
    x_part, t_part = parts
    return Split(x_part.split_line - x_part.head.data_line,
                 lambda second: (_matrix(x_part, second), _matrix(t_part, second)))


def _npy_header(path: str) -> tuple[tuple[int, ...], bool] | None:
    """A .npy's shape, and whether it is a numeric C-order array, or None."""
    try:
        with open(path, "rb") as fh:
            shape, fortran, dtype = npyfile.read_header(fh, path)
    except (BceError, OSError):  # the one-process path reads it and says what is wrong
        return None
    return shape, not fortran and dtype.kind in "biuf"


def _split_npy(input_path: str, target_path: str) -> Split | None:
    if os.path.getsize(input_path) < MIN_BYTES or not os.path.isfile(target_path):
        return None
    x_head, t_head = _npy_header(input_path), _npy_header(target_path)
    if x_head is None or t_head is None or not (x_head[1] and t_head[1]):
        return None
    x_shape, t_shape = x_head[0], t_head[0]
    if len(x_shape) < 2 or not t_shape or x_shape[0] != t_shape[0] or x_shape[0] < 2:
        return None
    half = x_shape[0] // 2

    def open_one(path: str, second: bool) -> Matrix:
        fh = open(path, "rb")  # closed by the matrix's closer
        consumed = [0]
        rows = (half, x_shape[0]) if second else (0, half)
        _, blocks = npyfile.read_npy(fh, path, consumed, rows=rows,
                                     skip=lambda n: fh.seek(n, os.SEEK_CUR))
        return Matrix(path, blocks, consumed=consumed, closer=fh.close)

    return Split(half, lambda second: (open_one(input_path, second),
                                       open_one(target_path, second)))


def run_split(options: Options, split: Split,
              open_weights: Callable[[], tuple[Matrix | None, Matrix | None]],
              keep: Keep, progress: Callable[[int], None] | None = None) -> Outcome:
    """Run the second half in a forked child and the first here; add up the two.

    ``progress`` hears the bytes read so far, estimated as twice this process's share.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        try:
            xm, tm = split.open_half(True)
            w, pw = open_weights()
            result: tuple[str, object] = ("ok", run(options, xm, tm, w, pw, keep=keep,
                                                    row_offset=split.rows_before))
        except BceError as exc:
            result = ("error", exc.message)
        except BaseException as exc:  # reported to the parent, which re-raises
            result = ("crash", repr(exc))
        with os.fdopen(write_fd, "wb") as out:
            out.write(pickle.dumps(result))
        os._exit(0)
    os.close(write_fd)
    opened: list[Matrix] = []
    try:
        xm, tm = split.open_half(False)
        opened += [xm, tm]
        w, pw = open_weights()
        tick = None if progress is None else (lambda: progress(2 * xm.consumed[0]))
        first = run(options, xm, tm, w, pw, keep=keep, check_rows=False,
                    progress=tick)
    finally:
        for matrix in opened:
            matrix.close()
        with os.fdopen(read_fd, "rb") as inp:
            data = inp.read()
        os.waitpid(pid, 0)
    status, second = pickle.loads(data) if data else ("crash", "the worker died")
    if status == "error":
        raise BceError(str(second))
    if status != "ok" or not isinstance(second, Outcome):
        raise RuntimeError(f"parallel worker failed: {second}")
    return merge(first, second, keep)


def merge(first: Outcome, second: Outcome, keep: Keep) -> Outcome:
    """The outcome of the whole from those of its first and second halves."""
    rows = {r.index: r for r in [*first.head, *first.tail, *second.head, *second.tail]}
    ordered = [rows[i] for i in sorted(rows)]
    first.notes.merge(second.notes)
    first.total += second.total
    first.denominator += second.denominator
    first.count += second.count
    first.infinite += second.infinite
    first.nrows = second.nrows
    first.input_shape = second.input_shape
    first.element_shape = second.element_shape
    first.head = [r for r in ordered if r.index < keep.head]
    rest = [r for r in ordered if r.index >= keep.head]
    first.tail = rest[len(rest) - keep.tail:] if keep.tail else []
    return finalize(first)
