"""Peekable streams of parsed blocks: the input's and the target's, as the engine reads them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from bcecli.errors import BceError
from bcecli.io.source import Block, index_locator

MORE = Block(np.zeros((0,)), index_locator("more"))
"""What :meth:`Stream.peek` gives for a block ahead that could not be read: there is more
(its error is raised when it is reached)."""


class Stream:
    """An iterator of blocks that can look ahead and be transformed before it is read."""

    def __init__(self, blocks: Iterator[Block]) -> None:
        self._blocks = blocks
        self._ahead: deque[Block] = deque()
        self._maps: list[Callable[[Block], Block]] = []
        self._error: BceError | None = None

    def peek(self, k: int = 0) -> Block | None:
        """The k-th block still to come (0: the next), or None past the end.

        An error in reading a block looked at ahead (k ≥ 1) is raised only when that block
        is reached, so that the blocks before it are computed (and their errors said)
        first; meanwhile such a block is :data:`MORE`, a block of no rows.
        """
        while len(self._ahead) <= k:
            if self._error is not None:
                if not self._ahead:
                    raise self._error
                return MORE
            try:
                block = next(self._blocks, None)
            except BceError as exc:
                if not self._ahead:
                    raise
                self._error = exc
                return MORE
            if block is None:
                return None
            for fn in self._maps:
                block = fn(block)
            self._ahead.append(block)
        return self._ahead[k]

    def map(self, fn: Callable[[Block], Block]) -> None:
        """Transform every block still to come (those looked at already too)."""
        self._ahead = deque(fn(b) for b in self._ahead)
        self._maps.append(fn)

    def replace(self, blocks: list[Block]) -> None:
        """Replace what is still to come (after reading it all) by these blocks."""
        self._ahead = deque(blocks)
        self._blocks = iter(())
        self._error = None

    def __iter__(self) -> Iterator[Block]:
        return self

    def __next__(self) -> Block:
        block = self.peek()
        if block is None:
            raise StopIteration
        self._ahead.popleft()
        return block


@dataclass
class Streams:
    """The input's and the target's blocks, for a loss to adapt before planning."""

    input: Stream
    target: Stream
