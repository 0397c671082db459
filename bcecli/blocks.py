"""Row blocks: the unit every reader produces and the engine consumes.

A matrix is read as a stream of blocks of consecutive rows (the first axis).  Each block
knows how to name one of its elements in words for error messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bcecli.checks import Locator

F64 = NDArray[np.float64]


class ByteStream(Protocol):
    """What the readers need of a file or pipe: ``read(n)``."""

    def read(self, n: int = -1, /) -> bytes:
        """Up to n bytes (all that is left for n < 0); b"" at the end."""
        ...


@dataclass(frozen=True)
class Block:
    """Consecutive rows of a matrix and a locator for indices within them."""

    data: F64
    locate: Locator

    @property
    def rows(self) -> int:
        """How many rows (entries along the first axis) the block holds."""
        return int(self.data.shape[0]) if self.data.ndim else 1


@dataclass
class Matrix:
    """A matrix being read: its name for messages and a one-shot stream of blocks."""

    name: str
    blocks: Iterator[Block]
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

    def close(self) -> None:
        """Stop reading: the file behind the blocks is closed."""
        if self.closer is not None:
            self.closer()

    def __enter__(self) -> Matrix:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def materialize(matrix: Matrix) -> Block:
    """All blocks of a matrix joined into one (for weights and other small inputs)."""
    blocks = list(matrix.blocks)
    if not blocks:
        return Block(np.empty((0,)), lambda idx: matrix.name)
    return joined(blocks)


class RowFeed:
    """Serves the rows of a matrix in the counts the engine asks for."""

    def __init__(self, blocks: Iterator[Block]) -> None:
        self._blocks = blocks
        self._pending: Block | None = None
        self.served = 0

    def take(self, n: int) -> Block | None:
        """Up to ``n`` rows as one block (fewer only when the matrix ends); None at the end."""
        parts: list[Block] = []
        got = 0
        while got < n:
            block = self._pending if self._pending is not None else next(self._blocks, None)
            self._pending = None
            if block is None:
                break
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
        return joined(parts)

    def count_rest(self) -> int:
        """Read to the end, returning how many rows were left (for shape messages)."""
        rest = 0
        while (block := self.take(1 << 16)) is not None:
            rest += block.rows
        return rest
