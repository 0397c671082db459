"""Rows and labels for people: what the tables and ``--explain`` of every loss share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from bcecli.report.numbers import exact, plural, rounded
from bcecli.report.numbers import shape as fmt_shape

if TYPE_CHECKING:
    from bcecli.compute.outcome import Outcome, Row


def flat(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """A row's values in row-major order."""
    return np.asarray(a).reshape(-1)


def column_label(outcome: Outcome, j: int) -> str:
    """The name of element j of a row: the CSV header's name, or its index."""
    names = outcome.column_names
    if names and j < len(names):
        return names[j]
    shape = outcome.input_shape[1:]
    if len(shape) > 1:
        return ",".join(str(int(i)) for i in np.unravel_index(j, shape))
    return str(j)


def header(outcome: Outcome) -> str:
    """The first line of the breakdown: the loss, the options that shape it, the shapes."""
    o = outcome.options
    name, *options = outcome.loss_fn.header(outcome)
    parts = [name, f"reduction {o.reduction}", o.dtype,
             f"input {fmt_shape(outcome.input_shape)}", *options]
    return " · ".join(parts)


def row_word(outcome: Outcome) -> str:
    """``mean`` or ``sum``: what a row's value is (row sums for reduction sum)."""
    return "sum" if outcome.options.reduction == "sum" else "mean"


def row_value(outcome: Outcome, row: Row) -> float:
    """A row's mean, or its sum for reduction sum."""
    if outcome.options.reduction == "sum":
        return float(np.sum(row.terms, dtype=np.float64))
    return row.value


def summary(outcome: Outcome, p: int) -> str:
    """The last line: how the terms reduce to the loss."""
    o = outcome.options
    n = outcome.count
    if o.reduction == "sum":
        return f"sum of {plural(n, 'term')} = {rounded(outcome.loss, p)}"
    if o.reduction == "none":  # their mean as reduction mean takes it (the loss holds it)
        division = outcome.loss_fn.mean_division(outcome, p)
        mean = (f", their mean {rounded(outcome.loss, p)}" if division is None else
                f"; their mean as reduction mean counts them, {division}")
        return (f"reduction none: the {plural(n, 'elementwise term')} above, unreduced "
                f"(their sum {rounded(outcome.total, p)}{mean})")
    return (outcome.loss_fn.summary(outcome, p)
            or f"mean of {plural(n, 'term')} = {rounded(outcome.loss, p)}")


def each_row(outcome: Outcome, lines: Callable[[Row], Iterator[str]],
             prose: Callable[[str], str] = str) -> Iterator[str]:
    """The lines of each shown row, with ``⋮`` where rows are hidden (written by
    ``prose``: as it is, or for Markdown)."""
    for row in outcome.rows():
        if row is None:
            yield "  " + prose("⋮")
        else:
            yield from lines(row)


def shape_or_none(shape: tuple[int, ...] | None) -> list[int] | None:
    """A shape for JSON."""
    return None if shape is None else list(shape)


__all__ = ["column_label", "each_row", "exact", "flat", "header", "row_value", "row_word",
           "shape_or_none", "summary"]
