"""What a loss asks the report to show, as plain data: tables to draw, cells, styles.

A loss describes its tables with these specs (see :meth:`bcecli.losses.base.Loss.tables`);
:mod:`bcecli.report.table` draws them with rich, fitting them to the width.  Nothing here
imports rich.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from bcecli.compute.outcome import Row

Array = NDArray[np.floating]


def style_for(term: float) -> str:
    """Colour a term by its size: chance level for a binary guess is ln 2 ≈ 0.69.

    >>> style_for(0.1), style_for(0.6), style_for(1.2), style_for(5.0), style_for(math.nan)
    ('green', 'yellow', 'red', 'bold red', 'dim')
    """
    if math.isnan(term):
        return "dim"
    if term <= 0.3:
        return "green"
    if term <= 0.9:
        return "yellow"
    return "red" if term <= 3 else "bold red"


def grad_style(value: float) -> str:
    """Colour a gradient by its sign: the way the input would move the loss up.

    >>> grad_style(-0.2), grad_style(0.0), grad_style(0.2)
    ('cyan', 'dim', 'magenta')
    """
    if math.isnan(value) or value == 0:
        return "dim"
    return "magenta" if value > 0 else "cyan"


@dataclass(eq=False)
class Cell:
    """One cell: its text and its style (a rich style name, or "")."""

    text: str
    style: str = ""


def absent() -> Cell:
    """A cell with nothing to show, e.g. x[target] of an ignored target: ``—`` (``-`` in
    ASCII), so that a blank is never taken for a number hidden or cut."""
    return Cell("—", "dim")


@dataclass(eq=False)
class MatrixSpec:
    """One line per row of the input, one column per element of the row.

    Columns that do not fit are hidden from the middle; ``values`` gives a row's elements
    in row-major order (the renderer formats only the columns it shows).
    """

    title: str
    values: Callable[[Row], Array]
    """The elements of a kept row, flat."""
    label_prefix: str = ""
    vector_label: str = ""
    """The one column's header when the input is a vector (its rows are single elements)."""
    coloured: bool = False
    style: Callable[[float], str] | None = None
    """How a cell is coloured by its value, where not by :func:`style_for` (``coloured``)."""
    total_label: str | None = None
    """The header of a last column (e.g. ``row mean``), or None for none."""
    total: Callable[[Row], float] | None = None


@dataclass(eq=False)
class LinesSpec:
    """A table of named columns, one line per sample (or per position of a sample).

    A line of None cells stands for hidden rows (drawn as ``⋮``).
    """

    title: str
    columns: list[str]
    lines: list[tuple[str, list[Cell] | None]] = field(default_factory=list)


TableSpec = MatrixSpec | LinesSpec
