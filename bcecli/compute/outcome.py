"""What a run produces: the rows kept for the breakdown, the warnings, and the
:class:`Outcome` that every renderer reads.

:func:`finalize` turns the accumulated sums into the loss, once, as PyTorch reduces them,
and says what PyTorch would compute without a word (a NaN mean, an overflow to infinity).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from bcecli.losses.base import EVERY_ROW, Options
from bcecli.report.numbers import Shape, exact

if TYPE_CHECKING:
    from bcecli.compute.samples import Summary
    from bcecli.losses.base import Loss

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(eq=False)
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


@dataclass(eq=False)
class Row:
    """One row of the breakdown: its inputs and its terms, for the table and --explain."""

    index: int
    input: NDArray[np.floating]
    target: NDArray[np.floating]
    terms: NDArray[np.floating]
    value: float
    """The row's mean term (its weighted mean where terms count differently)."""
    denominator: float
    extras: dict[str, NDArray[np.floating]] = field(default_factory=dict)
    """Per-element options of the row, broadcast to its shape (e.g. ``weight``)."""
    grad: NDArray[np.floating] | None = None
    """∂L/∂x of the row's inputs, when asked for (``--grad``)."""
    name: str | None = None
    """The row's name (its ``--id`` value), where rows have names."""

    @property
    def label(self) -> str:
        """How the row is named for people: its name (control characters escaped, so that
        a name cannot drive the terminal; an empty one ``""``), else its index."""
        if self.name is None:
            return str(self.index)
        from bcecli.io.textparse import printable

        return printable(self.name) if self.name else '""'


@dataclass
class Warnings:
    """Warnings, each said once with where it first happened and how often."""

    seen: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, key: str, message: str | None, count: int = 1) -> None:
        """Note a warning; the first message of a key is kept, the counts add up."""
        if message is None:
            return
        first, seen = self.seen.get(key, (message, 0))
        self.seen[key] = (first, seen + count)

    def lines(self, rows: int | None = None) -> list[str]:
        """Each warning once, with how many more times it happened.  A key that starts
        with ``every row:`` is a suspicion that holds only if every one of ``rows`` (two
        or more) gave it: said alone then, else dropped."""
        out = []
        for key, (message, count) in self.seen.items():
            if key.startswith(EVERY_ROW):
                if rows is not None and rows >= 2 and count == rows:
                    out.append(message)
                continue
            out.append(message + (f" (and {count - 1} more)" if count > 1 else ""))
        return out



@dataclass
class Outcome:
    """The result of a run: the loss and everything the renderers show."""

    loss_fn: Loss[Any, Any]
    options: Options
    plan: Any
    """What the loss decided from the data's shapes (its layout, its weights)."""
    total: float
    denominator: float
    count: int
    input_shape: Shape
    element_shape: Shape
    nrows: int
    head: list[Row]
    tail: list[Row]
    column_names: list[str] | None = None
    extra_shapes: dict[str, Shape] = field(default_factory=dict)
    """The shapes of the loss's matrix options (weights), by name."""
    infinite: int = 0
    """How many elementwise terms are infinite."""
    notes: Warnings = field(default_factory=Warnings)
    parts: list[tuple[float, float]] = field(default_factory=list)
    """(coefficient, sum) of each part where the loss reduces in parts (see BlockTerms)."""
    grad_denominator: float | None = None
    """The mean's denominator the gradient was computed with (None: no gradient)."""
    loss: float = math.nan
    warnings: list[str] = field(default_factory=list)
    samples: Summary | None = None
    """The summary of the samples' losses, where asked for."""
    worst: list[Row] | None = None
    """The rows of the greatest losses, greatest first (``--top``), where asked for."""
    ranked: bool = False
    """Whether the rows shown are the worst ones (not the first and last)."""

    @property
    def dtype(self) -> str:
        """The dtype it was computed in."""
        return self.options.dtype

    @property
    def hidden(self) -> int:
        """How many rows are neither in the head nor in the tail."""
        return self.nrows - len(self.head) - len(self.tail)

    def rows(self) -> Iterator[Row | None]:
        """Head rows, None where rows are hidden, tail rows."""
        yield from self.head
        if self.hidden > 0:
            yield None
        yield from self.tail

    def kept(self) -> list[Row]:
        """The rows shown: the head, then the tail."""
        return [*self.head, *self.tail]


def reduce_parts(parts: list[tuple[float, float]], denominator: float, reduction: str
                 ) -> float:
    """``Σ coefficient·reduce(part)``, in PyTorch's order: each part reduced, then combined.

    >>> reduce_parts([(0.5, 1.0), (0.25, 3.0)], 2.0, "mean")
    0.625
    """
    with np.errstate(all="ignore"):
        out = np.float64(0.0)
        for i, (coef, part) in enumerate(parts):
            term = np.float64(coef) * np.float64(reduce_total(part, denominator, reduction))
            out = term if i == 0 else out + term
    return float(out)


def reduce_total(total: float, denominator: float, reduction: str) -> float:
    """The reduced loss from the sum of the terms and the denominator of the mean.

    A mean over nothing (every target ignored, or zero total weight) is NaN, as in PyTorch;
    a sum that is not 0 over class weights that cancel (negative weights) is ±inf, as the
    division gives it.

    >>> reduce_total(3.0, 4.0, "mean"), reduce_total(3.0, 4.0, "sum"), reduce_total(0, 0, "mean")
    (0.75, 3.0, nan)
    >>> reduce_total(-2.0, 0.0, "mean")
    -inf
    """
    if reduction == "sum":
        return total
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(total) / np.float64(denominator))


def finalize(outcome: Outcome) -> Outcome:
    """Reduce the accumulated sums to the loss, once, and write out the warnings."""
    o = outcome.options
    notes = outcome.notes
    if o.dtype == "float32":  # torch sums the terms, and the class weights, in float32
        if abs(outcome.total) > FLOAT32_MAX:
            outcome.total = math.copysign(math.inf, outcome.total)
        if abs(outcome.denominator) > FLOAT32_MAX:
            outcome.denominator = math.copysign(math.inf, outcome.denominator)
    if outcome.infinite:
        n = outcome.infinite
        notes.add("inf", f"{n} elementwise term{'s' * (n != 1)} overflow{'s' * (n == 1)} "
                  f"{o.dtype} to infinity, as in PyTorch")
    elif math.isinf(outcome.total) and o.reduction != "none":
        notes.add("inf", f"the sum of the terms overflows {o.dtype} to "
                  f"{'-' if outcome.total < 0 else ''}inf, as it does in PyTorch")
    loss = (reduce_parts(outcome.parts, outcome.denominator, o.reduction) if outcome.parts
            else reduce_total(outcome.total, outcome.denominator, o.reduction))
    if o.reduction == "mean" and outcome.denominator == 0:
        if math.isnan(loss):
            reason = outcome.loss_fn.nan_reason(outcome)
            notes.add("nan", f"the mean is NaN because {reason}, as in PyTorch")
        elif not math.isinf(outcome.total):
            notes.add("zero", f"the mean divides {exact(outcome.total, o.dtype)} by class "
                      f"weights that sum to 0 (negative weights cancel), giving "
                      f"{exact(loss)}, as in PyTorch")
    if o.reduction == "mean" and math.isinf(outcome.denominator):
        notes.add("den", f"the mean's denominator, the counted targets' class weights Σ w[y], "
                  f"overflows {o.dtype} to {'-' if outcome.denominator < 0 else ''}inf, so the "
                  f"mean is {exact(loss)}, as in PyTorch")
    outcome.loss = float(np.float32(loss)) if o.dtype == "float32" else loss
    outcome.warnings = notes.lines(outcome.nrows)
    return outcome
