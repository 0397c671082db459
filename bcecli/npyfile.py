"""``.npy`` input, streamed in fixed-size blocks of rows; never unpickled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npformat

from bcecli.blocks import Block
from bcecli.checks import fmt_shape
from bcecli.errors import BceError

MAGIC = b"\x93NUMPY"
BLOCK_BYTES = 1 << 22


def npy_locator(name: str) -> object:
    """Names an element of an .npy array by its index, e.g. ``x.npy [3, 1]``."""
    return lambda idx: f"{name} [{', '.join(map(str, idx))}]" if idx else name


def read_npy(stream: BinaryIO, name: str, consumed: list[int],
             block_bytes: int = BLOCK_BYTES) -> tuple[tuple[int, ...], Iterator[Block]]:
    """Read the header now; return the shape and a lazy stream of float64 row blocks."""
    try:
        version = npformat.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(stream)
        else:
            shape, fortran, dtype = npformat.read_array_header_2_0(stream)
    except (ValueError, OSError, SyntaxError, EOFError) as exc:
        raise BceError(f"{name}: not a valid .npy file ({exc})") from None
    if dtype.hasobject:
        raise BceError(f"{name}: the .npy array holds Python objects; bcecli never unpickles, "
                       f"save it with a numeric dtype")
    if dtype.kind not in "biuf":
        raise BceError(f"{name}: the .npy array has dtype {dtype}; bcecli reads numeric arrays")
    if dtype.kind == "b":
        dtype = np.dtype(np.uint8)
    locate = npy_locator(name)
    total = int(np.prod(shape, dtype=np.int64))
    row_items = int(np.prod(shape[1:], dtype=np.int64)) if shape else 1
    nrows = shape[0] if shape else 1

    def blocks() -> Iterator[Block]:
        if fortran and len(shape) > 1:
            data = _read_exact(stream, total * dtype.itemsize, name, shape)
            consumed[0] += len(data)
            arr = np.frombuffer(data, dtype=dtype).reshape(shape[::-1]).T
            yield Block(arr.astype(np.float64), locate)
            return
        if not shape:
            data = _read_exact(stream, dtype.itemsize, name, shape)
            yield Block(np.frombuffer(data, dtype=dtype).astype(np.float64).reshape(()), locate)
            return
        per_block = max(1, block_bytes // max(1, row_items * dtype.itemsize))
        start = 0
        while start < nrows or (start == 0 and nrows == 0):
            n = min(per_block, nrows - start)
            data = _read_exact(stream, n * row_items * dtype.itemsize, name, shape)
            consumed[0] += len(data)
            arr = np.frombuffer(data, dtype=dtype).reshape((n, *shape[1:])).astype(np.float64)
            yield Block(arr, _offset(locate, start))
            start += n
            if nrows == 0:
                break
        if stream.read(1):
            raise BceError(f"{name}: extra bytes after the array data of shape "
                           f"{fmt_shape(tuple(shape))}; the file is corrupt")

    return tuple(shape), blocks()


def _offset(locate: object, start: int) -> object:
    return lambda idx: locate((idx[0] + start, *idx[1:]))  # type: ignore[operator]


def _read_exact(stream: BinaryIO, n: int, name: str, shape: tuple[int, ...]) -> bytes:
    data = stream.read(n)
    while len(data) < n:
        more = stream.read(n - len(data))
        if not more:
            raise BceError(f"{name}: truncated .npy file; the header promises shape "
                           f"{fmt_shape(tuple(shape))} but the data ends early")
        data += more
    return data
