"""Peekable streams of parsed blocks: the input's and the target's, as the engine reads them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bcecli.io.source import Block


class Stream:
    """An iterator of blocks that can look ahead and be transformed before it is read."""

    def __init__(self, blocks: Iterator[Block]) -> None:
        self._blocks = blocks
        self._ahead: deque[Block] = deque()
        self._maps: list[Callable[[Block], Block]] = []

    def peek(self, k: int = 0) -> Block | None:
        """The k-th block still to come (0: the next), or None past the end."""
        while len(self._ahead) <= k:
            block = next(self._blocks, None)
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
