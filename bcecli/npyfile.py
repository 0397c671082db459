"""``.npy`` input, streamed in fixed-size blocks of rows; never unpickled."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator

import numpy as np
from numpy.lib import format as npformat

from bcecli.blocks import Block, ByteStream, shifted
from bcecli.checks import Locator, fmt_shape
from bcecli.errors import BceError
from bcecli.memory import guard_memory

MAGIC = b"\x93NUMPY"
MAX_DIMS = 32
NPY_MEMORY_FACTOR = 8
"""Bytes of memory per float64 of a block while its terms are computed."""
BLOCK_BYTES = 1 << 22
READ_BYTES = 1 << 26
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
    except MemoryError:
        raise
    except Exception as exc:  # whatever a broken header makes numpy's parser raise
        reason = " ".join(str(exc).split())  # one line, whatever numpy says
        if not isinstance(exc, ValueError | EOFError | OSError) or "<ast." in reason \
                or not reason:
            reason = "its header is not a plain Python dict literal"
        raise BceError(f"{name}: not a valid .npy file ({reason})") from None
    return tuple(shape), bool(fortran), dtype


def read_npy(stream: ByteStream, name: str, consumed: list[int],
             block_bytes: int | None = None, file_size: int | None = None,
             rows: tuple[int, int] | None = None, skip: Callable[[int], object] | None = None
             ) -> tuple[tuple[int, ...], Iterator[Block]]:
    """Read the header now; return the shape and a lazy stream of float64 row blocks.

    ``file_size``, where known, lets a header that promises more data than the file holds
    be refused before anything is read.  ``rows`` (start, stop) reads only those rows of a
    C-order array, moving past the first ``start`` with ``skip`` (a file's relative seek):
    half of the array, for :mod:`bcecli.parallel`.
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
    if file_size is not None and total * dtype.itemsize > file_size:
        raise BceError(f"{name}: truncated .npy file; the header promises shape "
                       f"{fmt_shape(tuple(shape))} ({total * dtype.itemsize} bytes) but the "
                       f"file holds {file_size} bytes")
    # the most held at once: a whole Fortran-order array, else one block (at least a row)
    held = total if fortran and len(shape) > 1 else max(row_items, block_bytes // 8)
    guard_memory(name, held * 8, "a Fortran-order array, read whole" if fortran else
                 "one block of rows (at least one whole row) as float64",
                 factor=NPY_MEMORY_FACTOR)

    def blocks() -> Iterator[Block]:
        if fortran and len(shape) > 1:
            data = _read_exact(stream, total * dtype.itemsize, name, shape)
            consumed[0] += len(data)
            arr = np.frombuffer(data, dtype=dtype).reshape(shape[::-1]).T
            _check_end(stream, name, shape)
            yield Block(arr.astype(np.float64, copy=False), locate)
            return
        if not shape:
            data = _read_exact(stream, dtype.itemsize, name, shape)
            consumed[0] += len(data)
            _check_end(stream, name, shape)
            scalar = np.frombuffer(data, dtype=dtype).astype(np.float64, copy=False)
            yield Block(scalar.reshape(()), locate)
            return
        per_block = max(1, nrows if row_items == 0 else
                        block_bytes // (row_items * dtype.itemsize))
        start, stop = rows or (0, nrows)
        if start and skip is not None:
            skip(start * row_items * dtype.itemsize)
        while start < stop or (start == 0 and nrows == 0):
            n = min(per_block, stop - start)
            data = _read_exact(stream, n * row_items * dtype.itemsize, name, shape)
            consumed[0] += len(data)
            arr = np.frombuffer(data, dtype=dtype).reshape((n, *shape[1:]))
            arr = arr.astype(np.float64, copy=False)  # (float64 already: no copy)
            yield Block(arr, shifted(locate, start))
            start += n
            if nrows == 0:
                break
        if stop == nrows:
            _check_end(stream, name, shape)

    return tuple(shape), blocks()



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
