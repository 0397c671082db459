"""What a run produces: the options that decide the number, the rows kept for the
breakdown, the warnings, and the :class:`Outcome` that every renderer reads.

:func:`finalize` turns accumulated sums into the loss, as PyTorch reduces them, and says
what PyTorch would compute without a word (a NaN mean, an overflow to infinity).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from bcecli import losses
from bcecli.checks import Shape
from bcecli.losses import Reduction

Command = Literal["bce", "bce-logits", "ce"]
DType = Literal["float64", "float32"]
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Options:
    """Everything that decides the number, apart from the data."""

    command: Command
    reduction: Reduction = "mean"
    dtype: DType = "float64"
    sigmoid: bool = False
    ignore_index: int = -100
    label_smoothing: float = 0.0


@dataclass(frozen=True)
class Keep:
    """How many of the first and of the last rows the breakdown keeps."""

    head: int
    tail: int

    @classmethod
    def rows(cls, max_rows: int) -> Keep:
        """``--max-rows``: the first half (rounded up) and the last; 0 keeps every row.

        >>> Keep.rows(5), Keep.rows(0).tail
        (Keep(head=3, tail=2), 0)
        """
        if max_rows <= 0 or max_rows >= sys.maxsize:
            return cls(sys.maxsize, 0)
        return cls((max_rows + 1) // 2, max_rows // 2)


@dataclass(frozen=True)
class Row:
    """One row of the breakdown: its inputs and its terms, for the table and --explain."""

    index: int
    input: NDArray[np.floating]
    target: NDArray[np.floating]
    terms: NDArray[np.floating]
    value: float
    denominator: float
    weight: NDArray[np.floating] | None = None
    pos_weight: NDArray[np.floating] | None = None


@dataclass
class Warnings:
    """Warnings, each said once with where it first happened and how often."""

    seen: dict[str, tuple[str, int]] = field(default_factory=dict)

    def merge(self, other: Warnings) -> None:
        """Add another part's warnings after this part's."""
        for key, (message, count) in other.seen.items():
            self.add(key, message, count)

    def add(self, key: str, message: str | None, count: int = 1) -> None:
        if message is None:
            return
        first, seen = self.seen.get(key, (message, 0))
        self.seen[key] = (first, seen + count)

    def lines(self) -> list[str]:
        return [message + (f" (and {count - 1} more)" if count > 1 else "")
                for message, count in self.seen.values()]


@dataclass
class Outcome:
    """The result of a run: the loss and everything the renderers show."""

    options: Options
    loss: float
    total: float
    denominator: float
    count: int
    input_shape: Shape
    element_shape: Shape
    nrows: int
    head: list[Row]
    tail: list[Row]
    warnings: list[str]
    column_names: list[str] | None = None
    probabilities: bool = False
    class_weight: NDArray[np.floating] | None = None
    weight_shape: Shape | None = None
    pos_weight_shape: Shape | None = None
    infinite: int = 0
    """How many elementwise terms are infinite."""
    notes: Warnings = field(default_factory=lambda: Warnings())

    @property
    def hidden(self) -> int:
        """How many rows are neither in the head nor in the tail."""
        return self.nrows - len(self.head) - len(self.tail)


def _nan_reason(outcome: Outcome) -> str:
    """Why a mean divides by 0."""
    if outcome.count == 0:
        return "there are no terms (the input is empty)"
    if outcome.probabilities:
        return "the input has no classes (C = 0)"
    if outcome.class_weight is None:
        return "every target equals the ignore index"
    return "the counted targets' class weights sum to 0 (or every target is ignored)"


def finalize(outcome: Outcome) -> Outcome:
    """Reduce the accumulated sums to the loss and write out the warnings."""
    o = outcome.options
    notes = outcome.notes
    if o.dtype == "float32" and abs(outcome.total) > FLOAT32_MAX:
        outcome.total = math.copysign(math.inf, outcome.total)  # torch sums in float32
    if outcome.infinite:
        n = outcome.infinite
        notes.add("inf", f"{n} elementwise term{'s' * (n != 1)} overflow{'s' * (n == 1)} "
                  f"{o.dtype} to infinity, as in PyTorch")
    elif math.isinf(outcome.total) and o.reduction != "none":
        notes.add("inf", f"the sum of the terms overflows {o.dtype} to "
                  f"{'-' if outcome.total < 0 else ''}inf, as it does in PyTorch")
    loss = losses.reduce_total(outcome.total, outcome.denominator, o.reduction)
    if o.reduction == "mean" and outcome.denominator == 0:
        notes.add("nan", f"the mean is NaN because {_nan_reason(outcome)}, as in PyTorch")
    outcome.loss = float(np.float32(loss)) if o.dtype == "float32" else loss
    outcome.warnings = notes.lines()
    return outcome
