"""Two processes for big delimited files: each half of the rows parsed and reduced apart.

Parsing holds the GIL, so threads do not help; a forked child takes the second half of the
rows of both files (split at a line boundary, with the target's matching line found by
counting newlines) while this process does the first, and their sums are added.  Used only
for regular CSV/TSV files without blank lines, reductions ``mean``/``sum`` and outputs that
need no elementwise stream.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from bcecli import delimited
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


def _matrix(part: _Part, second: bool) -> tuple[Matrix, _Bounded]:
    start = part.split if second else part.data_start
    stream = _Bounded(part.path, start, None if second else part.split)
    consumed = [0]
    line = part.split_line if second else part.head.data_line
    blocks = delimited.stream_rows(stream, part.path, part.head, b"", line, consumed,
                                   require_data=not second)
    return Matrix(part.path, blocks, column_names=part.head.column_names,
                  consumed=consumed, text=True), stream


def run_split(options: Options, parts: tuple[_Part, _Part], rows_before: int,
              open_weights: Callable[[], tuple[Matrix | None, Matrix | None]],
              keep: Keep, progress: Callable[[int], None] | None = None) -> Outcome:
    """Run the second half in a forked child and the first here; add up the two.

    ``progress`` hears the bytes read so far, estimated as twice this process's share.
    """
    x_part, t_part = parts
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        try:
            xm, xs = _matrix(x_part, True)
            tm, ts = _matrix(t_part, True)
            w, pw = open_weights()
            result: tuple[str, object] = ("ok", run(options, xm, tm, w, pw,
                                                    keep=keep, row_offset=rows_before))
        except BceError as exc:
            result = ("error", exc.message)
        except BaseException as exc:  # reported to the parent, which re-raises
            result = ("crash", repr(exc))
        with os.fdopen(write_fd, "wb") as out:
            out.write(pickle.dumps(result))
        os._exit(0)
    os.close(write_fd)
    try:
        xm, xs = _matrix(x_part, False)
        tm, ts = _matrix(t_part, False)
        w, pw = open_weights()
        tick = None if progress is None else (lambda: progress(2 * xm.consumed[0]))
        first = run(options, xm, tm, w, pw, keep=keep, check_rows=False,
                    progress=tick)
    finally:
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
