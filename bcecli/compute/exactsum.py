"""Sums that do not depend on how the data was cut into blocks.

The terms are added in fixed chunks of ``CHUNK`` consecutive elements, counted from the
first element of the whole input (numpy's pairwise sum within a chunk), and the chunk sums
are added exactly and rounded once (Shewchuk's algorithm, as :func:`math.fsum`).  So the
same numbers give the same sum, to the last bit, whether they came from a CSV file in
blocks of any size, from stdin, .npy, .npz or JSON, on any number of threads; and for up
to ``CHUNK`` terms the sum is numpy's (and, in float64, PyTorch's on our corpus) exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

CHUNK = 1 << 16
F64 = NDArray[np.float64]
_EMPTY = np.empty(0)


def split_chunks(values: F64, offset: int) -> tuple[F64, bool, F64, F64]:
    """Cut elements ``offset .. offset + n`` of the whole at multiples of ``CHUNK``.

    Returns the head (the elements that belong to the chunk begun before them), whether
    that chunk ends within these elements, the sums of the whole chunks after it, and the
    tail that begins the next chunk.

    >>> head, ends, sums, tail = split_chunks(np.ones(CHUNK + 5), CHUNK - 2)
    >>> head.size, ends, sums.tolist(), tail.size
    (2, True, [65536.0], 3)
    """
    first = (-offset) % CHUNK
    if first > values.size:
        return values, False, _EMPTY, _EMPTY
    body = values[first:]
    whole = body.size // CHUNK
    chunks = body[:whole * CHUNK].reshape(whole, CHUNK)
    return values[:first], True, _signed(chunks.sum(axis=1), chunks), body[whole * CHUNK:]


def _signed(sums: F64, chunks: F64) -> F64:
    """Sums whose chunks are all −0.0 made −0.0, as IEEE addition gives (numpy's sum
    starts from +0.0).

    >>> _signed(np.array([0.0]), np.array([[-0.0, -0.0]])).tolist()
    [-0.0]
    """
    zero = sums == 0
    if zero.any():
        sums = sums.copy()
        negative = np.signbit(chunks[zero]).all(axis=1) & (chunks[zero] == 0).all(axis=1)
        sums[np.flatnonzero(zero)[negative]] = -0.0
    return sums


class ExactSum:
    """An exact running sum of floats, rounded once when asked (Shewchuk's partials).

    >>> s = ExactSum()
    >>> for v in (1e16, 1.0, -1e16):
    ...     s.add(v)
    >>> s.value()
    1.0
    >>> z = ExactSum()
    >>> z.add(-0.0)
    >>> z.value()
    -0.0
    """

    def __init__(self) -> None:
        self._partials: list[float] = []
        self._special = 0.0
        self._infinite = False
        self._negative_zero: bool | None = None
        """True while every float added is −0.0 (whose IEEE sum is −0.0, not 0.0)."""

    def add(self, x: float) -> None:
        """Add one float exactly; infinities and NaN add as IEEE arithmetic says."""
        self._negative_zero = (self._negative_zero is not False and x == 0
                               and math.copysign(1.0, x) < 0)
        if not math.isfinite(x):
            self._special += x
            self._infinite = True
            return
        i = 0
        partials = self._partials
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            if math.isinf(hi):  # beyond the largest float: the sum is infinite
                self._special += hi
                self._infinite = True
                return
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]

    def value(self) -> float:
        """The sum, correctly rounded."""
        if self._infinite:
            return self._special
        if self._negative_zero:
            return -0.0
        return math.fsum(self._partials)


class ChunkedSum:
    """The sum of a stream of arrays given in order, chunked as :func:`split_chunks` says."""

    def __init__(self) -> None:
        self._exact = ExactSum()
        self._pending: list[F64] = []

    def add(self, head: F64, ends: bool, sums: F64, tail: F64) -> None:
        """Add the parts of the next elements, as :func:`split_chunks` cut them."""
        if not ends:
            if head.size:
                self._pending.append(head.copy())
            return
        if head.size:
            self._pending.append(head)
        self._flush()
        for s in sums.tolist():
            self._exact.add(s)
        if tail.size:
            self._pending.append(tail.copy())

    def _flush(self) -> None:
        if self._pending:
            chunk = np.concatenate(self._pending)
            self._exact.add(float(_signed(np.array([chunk.sum()]), chunk[None, :])[0]))
            self._pending = []

    def value(self) -> float:
        """The sum of everything added."""
        self._flush()
        return self._exact.value()
