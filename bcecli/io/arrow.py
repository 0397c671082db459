"""Parquet and Arrow (Feather v2, Arrow IPC file or stream) inputs, with the optional extra
``bcecli[arrow]`` (pyarrow).

Read a row group or record batch at a time (memory bounded by its size); ``FILE:COLUMNS``
picks columns as for CSV (:mod:`bcecli.io.columns`: names, 1-based positions, ranges),
and only those are read.  Without a selector every column is read; each must be numeric (or
bool).  A column of fixed-size lists (an embedding, a row of logits) gives as many columns.
A null is refused where it is, never dropped or filled.  Nothing of pyarrow is imported
unless such a file is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, BinaryIO

import numpy as np

from bcecli.compute.pool import Weighed
from bcecli.errors import BceError
from bcecli.io import columns
from bcecli.io.source import Block, Format, Job, Opening, Source, ready, seekable
from bcecli.io.textparse import printable

BATCH_ROWS = 1 << 16
"""Rows of an Arrow IPC stream or a Parquet row group read at a time, at most."""
EXTRA = "pip install 'bcecli[arrow]'"


def _pyarrow(name: str, what: str) -> Any:
    import importlib

    try:
        for module in ("pyarrow", "pyarrow.ipc", "pyarrow.parquet"):
            importlib.import_module(module)
    except ImportError:
        raise BceError(f"{name}: reading {what} needs pyarrow, which bcecli installs as an "
                       f"extra: {EXTRA}") from None
    pa = importlib.import_module("pyarrow")
    # (the system allocator gives freed batches back; pyarrow's own pool kept them: 60 MB)
    pa.set_memory_pool(pa.system_memory_pool())
    return pa


def _is_parquet(first: bytes) -> bool:
    return first[:4] == b"PAR1"


def _is_arrow(first: bytes) -> bool:
    return first[:6] == b"ARROW1" or first[:4] == b"\xff\xff\xff\xff"


def open_arrow(opening: Opening) -> Source:
    """A Parquet or Arrow file as a source of row blocks."""
    name = opening.name
    fh = seekable(opening, "file")  # (pyarrow seeks; a pipe is kept in a temporary file)
    head = fh.read(8)
    fh.seek(0)
    parquet = opening.variant == "parquet" or _is_parquet(head)
    try:
        pa = _pyarrow(name, "Parquet" if parquet else "Arrow/Feather")
        schema, batches = _batches(pa, fh, parquet, name)
        keep = _columns(schema, opening.selector, name)
        picked = [schema.names[k] for k in keep]
        if opening.names and len(keep) != 1:
            raise BceError(f"{name}: --id names one column, not {len(keep)}")
        widths = [1] * len(keep) if opening.names else \
            [_width(pa, schema.field(k), name) for k in keep]
    except BaseException:
        fh.close()
        raise
    labels = [printable(n) for n, w in zip(picked, widths, strict=True)  # (names shown)
              for n in ([n] if w == 1 else [f"{n}[{i}]" for i in range(w)])]
    stream = opening.stream

    def closer() -> None:
        fh.close()
        shut = getattr(stream, "close", None)
        if callable(shut):
            shut()

    # (text=True: a table of columns, like CSV: one column may stand for a vector)
    return Source(name, _jobs(batches(picked), name, picked, widths, labels, opening.names),
                  column_names=labels, size_bytes=opening.size, closer=closer,
                  empty=None, text=True)


def _batches(pa: Any, fh: BinaryIO, parquet: bool, name: str) -> tuple[Any, Any]:
    """The schema, and a function giving the batches of chosen columns."""
    try:
        if parquet:
            # (no pre-buffering: a row group at a time is what bounds the memory)
            pf = pa.parquet.ParquetFile(fh, pre_buffer=False)
            return (pf.schema_arrow,
                    lambda cols: pf.iter_batches(batch_size=BATCH_ROWS, columns=cols,
                                                 use_threads=False))
        try:
            reader = pa.ipc.open_file(fh)
            return (reader.schema,
                    lambda cols: (reader.get_batch(i).select(cols)
                                  for i in range(reader.num_record_batches)))
        except pa.ArrowInvalid:
            fh.seek(0)
            stream = pa.ipc.open_stream(fh)
            return stream.schema, lambda cols: (b.select(cols) for b in stream)
    except (OSError, ValueError) as exc:  # (pyarrow's errors derive from these)
        raise BceError(f"{name}: not a readable {'Parquet' if parquet else 'Arrow'} file "
                       f"({printable(' '.join(str(exc).split())[:200])})") from None


def _columns(schema: Any, selector: str | None, name: str) -> list[int]:
    names = list(schema.names)
    if selector is not None:
        return columns.resolve(selector, names, len(names), name)
    return list(range(len(names)))


def _width(pa: Any, field: Any, name: str) -> int:
    """How many numbers a column gives a row: 1, or a fixed-size list's length."""
    t = field.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or \
            pa.types.is_decimal(t):
        return 1
    if pa.types.is_fixed_size_list(t) and (pa.types.is_integer(t.value_type)
                                           or pa.types.is_floating(t.value_type)):
        return int(t.list_size)
    raise BceError(f"{name}: column '{printable(field.name)}' holds {t}, not numbers; choose "
                   f"the numeric columns as {name}:COLUMNS")


def _jobs(batches: Iterator[Any], name: str, picked: list[str], widths: list[int],
          labels: list[str], names: bool = False) -> Iterator[Job]:
    """A job per record batch (read here, in order; made numbers on the pool), weighed by
    its bytes so that the pool's read-ahead window bounds the memory."""
    start = 0
    for batch in batches:
        convert = _names if names else _convert
        yield Weighed(partial(convert, batch, start, name, picked, widths, labels),
                      int(batch.nbytes))
        start += batch.num_rows
    if start == 0:  # (a table of no rows: one block of none, as an .npy of shape (0, k))
        yield ready(Block(np.empty((0, len(labels))), _locator(name, labels, 0)))


def _convert(batch: Any, start: int, name: str, picked: list[str], widths: list[int],
             labels: list[str]) -> Block:
    rows = batch.num_rows
    data = np.empty((rows, len(labels)), dtype=np.float64)
    at = 0
    for k, (column, width) in enumerate(zip(picked, widths, strict=True)):
        array = batch.column(k)
        if array.null_count:
            row = start + int(np.flatnonzero(np.asarray(array.is_null()))[0])
            raise BceError(f"{name}, row {row + 1}, column '{printable(column)}': a null "
                           f"(missing) value; bcecli neither drops nor fills values")
        if width == 1:
            data[:, at] = np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)
        else:
            flat = array.flatten().to_numpy(zero_copy_only=False)
            data[:, at:at + width] = np.asarray(flat, dtype=np.float64).reshape(rows, width)
        at += width
    return Block(data, _locator(name, labels, start))


def _names(batch: Any, start: int, name: str, picked: list[str], widths: list[int],
           labels: list[str]) -> Block:
    """The rows' names (``--id``): the one chosen column's values as text."""
    values = batch.column(0).to_pylist()
    if None in values:
        row = start + values.index(None) + 1
        raise BceError(f"{name}, row {row}, column '{printable(picked[0])}': a null (missing) "
                       f"name; bcecli neither drops nor invents values")
    values = [str(v) for v in values]
    return Block(np.array(values, dtype=object), _locator(name, labels, start))


def _locator(name: str, labels: list[str], start: int) -> Any:
    def locate(idx: tuple[int, ...]) -> str:
        if not idx:
            return name
        where = f"{name}, row {start + idx[0] + 1}"
        return where + (f", column '{printable(labels[idx[1]])}'" if len(idx) > 1 else "")
    return locate


FORMAT = Format("arrow", {".parquet": "parquet", ".pq": "parquet", ".feather": "arrow",
                          ".arrow": "arrow", ".ipc": "arrow", ".arrows": "arrow"},
                sniff=lambda first: _is_parquet(first) or _is_arrow(first), open=open_arrow)
"""Parquet and Arrow IPC (Feather v2): by extension, and by magic bytes."""
