"""``.npy`` input, read in fixed-size blocks of rows; never unpickled."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npformat

from bcecli.compute.pool import Weighed
from bcecli.errors import BceError
from bcecli.io.memory import guard_memory
from bcecli.io.source import Block, ByteStream, Format, Job, Locator, Opening, Source, shifted
from bcecli.io.textparse import printable
from bcecli.report.numbers import shape as fmt_shape

MAGIC = b"\x93NUMPY"
MAX_DIMS = 32
NPY_MEMORY_FACTOR = 8
"""Bytes of memory per float64 of a block while its terms are computed."""
BLOCK_BYTES = 1 << 20
READ_BYTES = 1 << 26
MAX_EMPTY_ROWS = 1 << 32
"""The most rows of no values (shape (N, 0)) read: they take no bytes in the file, so a
128-byte header can promise any number, but each is still a row to compute and report."""
"""The most read at once, so that a header promising more than the file holds fails as
truncated instead of asking for all that memory up front."""


def npy_locator(name: str) -> Locator:
    """Names an element of an .npy array by its index, e.g. ``x.npy [3, 1]``."""
    return lambda idx: f"{name} [{', '.join(map(str, idx))}]" if idx else name


def read_header(stream: ByteStream, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The header of a .npy stream: its shape, whether it is Fortran order, its dtype."""
    try:
        with warnings.catch_warnings():  # e.g. "created on Python 2": said as an error or not
            warnings.simplefilter("ignore")
            version = npformat.read_magic(stream)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ValueError(f"unknown format version {version[0]}.{version[1]}")
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(stream)
            else:
                shape, fortran, dtype = npformat.read_array_header_2_0(stream)
    except (MemoryError, BceError):  # (BceError: a damaged .npz member, said as such)
        raise
    except Exception as exc:  # whatever a broken header makes numpy's parser raise
        reason = " ".join(str(exc).split())  # one line, whatever numpy says
        if not isinstance(exc, ValueError | EOFError | OSError) or "<ast." in reason \
                or "allow_pickle" in reason or "max_header_size" in reason or not reason:
            reason = "its header is not a plain Python dict literal of a sane size"
        raise BceError(f"{name}: not a valid .npy file ({reason})") from None
    return tuple(shape), bool(fortran), dtype


def read_npy(stream: ByteStream, name: str, consumed: list[int],
             block_bytes: int | None = None, file_size: int | None = None,
             positional: BinaryIO | None = None) -> tuple[tuple[int, ...], Iterator[Job]]:
    """Read the header now; return the shape and jobs that convert its blocks of rows.

    The bytes are read here, in order, and each job turns one block's bytes into float64
    rows; or, for a regular file given as ``positional`` (the same file as ``stream``), each
    job reads its own block (``os.pread``), so that reading too spreads over the threads.
    ``file_size``, where known, lets a header that promises more data than the file holds
    be refused before anything is read.
    """
    block_bytes = block_bytes or BLOCK_BYTES
    shape, fortran, dtype = read_header(stream, name)
    if dtype.hasobject:
        raise BceError(f"{name}: the .npy array holds Python objects; bcecli never unpickles, "
                       f"save it with a numeric dtype")
    if dtype.kind not in "biuf":
        raise BceError(f"{name}: the .npy array has dtype {dtype}; bcecli reads numeric arrays")
    if dtype.kind == "b":
        dtype = np.dtype(np.uint8)
    if any(d < 0 for d in shape):
        raise BceError(f"{name}: not a valid .npy file (negative dimension in the shape "
                       f"{fmt_shape(tuple(shape))})")
    if len(shape) > MAX_DIMS:
        raise BceError(f"{name}: the .npy array has {len(shape)} dimensions; at most "
                       f"{MAX_DIMS} are supported")
    locate = npy_locator(name)
    total = math.prod(shape)
    row_items = math.prod(shape[1:]) if shape else 1
    nrows = shape[0] if shape else 1
    if total * dtype.itemsize >= 2**62 or any(d >= 2**62 for d in shape):
        raise BceError(f"{name}: the .npy header promises shape {fmt_shape(tuple(shape))}, "
                       f"far more than any file holds; the file is corrupt")
    if row_items == 0 and nrows > MAX_EMPTY_ROWS:
        raise BceError(f"{name}: the .npy array has shape {fmt_shape(tuple(shape))}, "
                       f"{nrows} rows that hold no values; bcecli reads at most "
                       f"{MAX_EMPTY_ROWS} rows of no values")
    if file_size is not None and total * dtype.itemsize > file_size:
        raise BceError(f"{name}: truncated .npy file; the header promises shape "
                       f"{fmt_shape(tuple(shape))} ({total * dtype.itemsize} bytes) but the "
                       f"file holds {file_size} bytes")
    # the most held at once: a whole Fortran-order array, else one block (at least a row)
    held = total if fortran and len(shape) > 1 else max(row_items, block_bytes // 8)
    guard_memory(name, held * 8, "a Fortran-order array, read whole" if fortran else
                 "one block of rows (at least one whole row) as float64",
                 factor=NPY_MEMORY_FACTOR)

    def convert(data: bytes, rows_shape: tuple[int, ...], start: int) -> Block:
        arr = np.frombuffer(data, dtype=dtype).reshape(rows_shape)
        return Block(arr.astype(np.float64, copy=False), shifted(locate, start))

    def read_at(fd: int, offset: int, n: int, rows_shape: tuple[int, ...], start: int
                ) -> Block:
        data = os.pread(fd, n, offset)
        if len(data) != n:  # the file shrank while it was read
            raise BceError(f"{name}: truncated .npy file; the header promises shape "
                           f"{fmt_shape(tuple(shape))} but the data ends early")
        return convert(data, rows_shape, start)

    def fortran_order(data: bytes) -> Block:
        arr = np.frombuffer(data, dtype=dtype).reshape(shape[::-1]).T
        return Block(arr.astype(np.float64, copy=False), locate)

    def jobs() -> Iterator[Job]:
        if fortran and len(shape) > 1:
            data = _read_exact(stream, total * dtype.itemsize, name, shape)
            consumed[0] += len(data)
            _check_end(stream, name, shape)
            yield partial(fortran_order, data)
            return
        if not shape:
            data = _read_exact(stream, dtype.itemsize, name, shape)
            consumed[0] += len(data)
            _check_end(stream, name, shape)
            yield partial(convert, data, (), 0)
            return
        # rows of no values hold no bytes, but each still costs its row's value (8 bytes)
        # once computed: as many rows as a block of float64 holds
        per_block = max(1, block_bytes // (8 if row_items == 0 else
                                           row_items * dtype.itemsize))
        start = 0
        if positional is not None:
            fd, offset, row_bytes = positional.fileno(), positional.tell(), \
                row_items * dtype.itemsize
            if file_size is not None and file_size - offset > total * dtype.itemsize:
                raise BceError(f"{name}: extra bytes after the array data of shape "
                               f"{fmt_shape(tuple(shape))}; the file is corrupt")
            while start < nrows or (start == 0 and nrows == 0):
                n = min(per_block, nrows - start)
                consumed[0] += n * row_bytes
                yield Weighed(partial(read_at, fd, offset + start * row_bytes,
                                      n * row_bytes, (n, *shape[1:]), start), n * row_bytes)
                start += n
                if nrows == 0:
                    break
            return
        while start < nrows or (start == 0 and nrows == 0):
            n = min(per_block, nrows - start)
            data = _read_exact(stream, n * row_items * dtype.itemsize, name, shape)
            consumed[0] += len(data)
            yield Weighed(partial(convert, data, (n, *shape[1:]), start), len(data))
            start += n
            if nrows == 0:
                break
        _check_end(stream, name, shape)

    return tuple(shape), jobs()


def open_npy(opening: Opening) -> Source:
    """An .npy file as a source of row blocks."""
    if opening.selector is not None:
        raise BceError(f"{opening.name}: an .npy file holds one array; "
                       f"':{printable(opening.selector)}' selects an array of an .npz archive")
    consumed = [0]
    if opening.reopen is None or opening.size is None:
        shape, jobs = read_npy(opening.stream, opening.name, consumed, file_size=opening.size)
        return Source(opening.name, jobs, size_bytes=opening.size, consumed=consumed,
                      whole=len(shape) < 2)
    fh = opening.reopen()  # a regular file: each job reads its own block from it
    try:
        shape, jobs = read_npy(fh, opening.name, consumed, file_size=opening.size,
                               positional=fh)
    except BaseException:
        fh.close()
        raise
    return Source(opening.name, jobs, size_bytes=opening.size, consumed=consumed,
                  whole=len(shape) < 2, closer=fh.close)


FORMAT = Format("npy", {".npy": None}, sniff=lambda first: first.startswith(MAGIC),
                open=open_npy)
"""NumPy's .npy files: by extension and by their magic bytes."""


def _check_end(stream: ByteStream, name: str, shape: tuple[int, ...]) -> None:
    if stream.read(1):
        raise BceError(f"{name}: extra bytes after the array data of shape "
                       f"{fmt_shape(tuple(shape))}; the file is corrupt")


def _read_exact(stream: ByteStream, n: int, name: str, shape: tuple[int, ...]) -> bytes:
    parts, got = [], 0
    while got < n:
        more = stream.read(min(n - got, READ_BYTES))
        if not more:
            raise BceError(f"{name}: truncated .npy file; the header promises shape "
                           f"{fmt_shape(tuple(shape))} but the data ends early")
        parts.append(more)
        got += len(more)
    return b"".join(parts)
