"""The breakdown as rich tables: the loss's table specs drawn to fit the width.

Only the rows the engine kept (the first and last of ``--max-rows``) are shown.  Columns
that do not fit the width are hidden from the middle, never cut: a number is shown whole or
not at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from bcecli.compute.outcome import Outcome, Row
from bcecli.report.display import column_label, flat, header, summary
from bcecli.report.numbers import plural, rounded, to_ascii
from bcecli.report.specs import Cell, LinesSpec, MatrixSpec, grad_style, style_for

MAX_COLUMNS = 12
"""Columns of a matrix shown where no width says otherwise (a pipe without COLUMNS)."""


def fit_columns(n: int, cell: int, fixed: int, width: int | None) -> list[int | None]:
    """The columns to show of n, each ``cell`` wide, beside ``fixed`` characters of others.

    None marks the hidden middle (a ``…`` column).  Without a width (a pipe with no
    COLUMNS) at most ``MAX_COLUMNS`` are shown.

    >>> fit_columns(3, 6, 20, 80), fit_columns(40, 6, 20, 80), len(fit_columns(40, 6, 0, None))
    ([0, 1, 2], [0, 1, 2, 3, None, 38, 39], 13)
    """
    per = cell + 3  # a cell, its padding and a border
    room = MAX_COLUMNS if width is None else max(2, (width - fixed) // per)
    if n <= room:
        return list(range(n))
    if width is not None:
        room = max(2, (width - fixed - 4) // per)  # the "…" column takes a little room too
    last = min(2, room - 1)
    return [*range(room - last), None, *range(n - last, n)]


def _candidates(n: int, width: int | None) -> list[int]:
    """The columns that might be shown: all fit in the widest table, whatever the cells."""
    most = MAX_COLUMNS if width is None else max(2, width // 4)
    return list(range(n)) if n <= most else [*range(most), *range(n - 2, n)]


Glyphs = Callable[[str], str]
"""How text is written: as it is, or in ASCII (``--ascii``, or a stream that cannot
encode the symbols)."""


def _plain(text: str) -> str:
    return text


def _row_grad(row: Row) -> NDArray[np.floating]:
    assert row.grad is not None, "gradients are kept for every shown row with --grad"
    return flat(row.grad)


def renderables(outcome: Outcome, precision: int, width: int | None, ascii: bool = False
                ) -> Iterator[RenderableType]:
    """The header, the loss's tables and the reduction, as rich renderables."""
    g: Glyphs = to_ascii if ascii else _plain
    yield Text(g(header(outcome)), style="bold")
    hidden = 0
    specs = outcome.loss_fn.tables(outcome, precision)
    if outcome.grad_denominator is not None:
        specs.append(MatrixSpec(outcome.loss_fn.grad_rule(outcome),
                                _row_grad, label_prefix="∂ ",
                                vector_label="∂L/∂x", style=grad_style))
    for spec in specs:
        if isinstance(spec, MatrixSpec):
            table, hidden = _matrix(outcome, spec, precision, width, g)
        else:
            table, hidden = _lines(spec, width, g)
        if ascii:
            table.box = box.ASCII2
        title = table.title
        if isinstance(title, Text) and title.cell_len > _natural_width(table):
            table.title = None  # a formula wider than its table: a line of its own, unbroken
            yield Text(title.plain, style="table.title")
        yield table
    if hidden:
        yield Text(g(f"{plural(hidden, 'column')} hidden in the middle (a wider terminal, "
                     f"COLUMNS=…, or -f csv shows them)"), style="dim")
    yield Text(g(summary(outcome, precision)), style="bold")
    if outcome.hidden > 0:
        yield Text(f"{plural(outcome.hidden, 'row')} hidden (--max-rows 0 shows all)",
                   style="dim")


def _natural_width(table: Table) -> int:
    """How wide a table is drawn when there is room."""
    from rich.measure import Measurement

    console = Console(width=1 << 20, file=io.StringIO())
    return Measurement.get(console, console.options, table).maximum


def render_table(outcome: Outcome, console: Console, precision: int,
                 width: int | None, ascii: bool = False) -> None:
    """Print the breakdown; ``width`` None: a pipe with no width, as wide as needed."""
    for part in renderables(outcome, precision, width, ascii):
        console.print(part)


def _matrix(outcome: Outcome, spec: MatrixSpec, p: int, width: int | None, g: Glyphs
            ) -> tuple[Table, int]:
    """One line per kept row, one column per element; and how many columns are hidden."""
    shown = outcome.kept()
    n = spec.values(shown[0]).size if shown else 0
    candidates = _candidates(n, width)  # (a row of a million terms: format a few)
    cells: dict[int, dict[int, tuple[str, float]]] = {}
    for row in shown:
        values = spec.values(row)[candidates]
        cells[row.index] = {j: (rounded(float(v), p), float(v))
                            for j, v in zip(candidates, values, strict=True)}
    longest = max((len(c[0]) for cs in cells.values() for c in cs.values()), default=1)
    vector = len(outcome.input_shape) == 1
    labels = {j: g(spec.vector_label if vector else spec.label_prefix
                   + column_label(outcome, j)) for j in candidates}
    cell = max(longest, *(len(s) for s in labels.values()), 1) if n else longest
    index_width = len(str(outcome.nrows)) + 4
    with_total = spec.total is not None and spec.total_label is not None and not vector
    totals = {row.index: rounded(spec.total(row), p) for row in shown} \
        if with_total and spec.total else {}
    total_width = max([len(spec.total_label or ""), *map(len, totals.values())]) + 3 \
        if with_total else 0
    cols = fit_columns(n, cell, index_width + total_width + 1, width)
    table = Table(title=Text(g(spec.title)))
    table.add_column("row", justify="right", style="dim", no_wrap=True)
    for j in cols:
        table.add_column(Text(g("…") if j is None else labels[j]), justify="right",
                         no_wrap=True)
    if with_total and spec.total_label:
        table.add_column(Text(spec.total_label), justify="right", style="bold", no_wrap=True)
    extra = 1 if with_total else 0
    for kept in outcome.rows():
        if kept is None:
            table.add_row(*[g("⋮")] * (len(cols) + extra + 1))
            continue
        row = kept
        out: list[str | Text] = []
        for j in cols:
            if j is None:
                out.append(g("…"))
                continue
            text, value = cells[row.index][j]
            style = spec.style(value) if spec.style else style_for(value) if spec.coloured \
                else ""
            out.append(Text(text, style=style) if style else text)
        if with_total:
            out.append(totals[row.index])
        table.add_row(str(row.index), *out)
    return table, n - sum(j is not None for j in cols)


def _lines(spec: LinesSpec, width: int | None, g: Glyphs) -> tuple[Table, int]:
    """A table of named columns; those that do not fit are hidden from the middle."""
    columns = [g(c) for c in spec.columns]
    lines = [(g(label), None if cells is None else [Cell(g(c.text), c.style) for c in cells])
             for label, cells in spec.lines]
    widths = [len(c) for c in columns]
    for _, cells in lines:
        widths[0] = max(widths[0], len(_) if cells is not None or _ else 1)
        for i, cell in enumerate(cells or [], start=1):
            widths[i] = max(widths[i], len(cell.text))
    keep = list(range(len(columns)))
    if width is not None:
        while len(keep) > 2 and sum(widths[i] + 3 for i in keep) + 1 > width:
            middle = keep[len(keep) // 2] if len(keep) > 3 else keep[1]
            keep.remove(middle)
    hidden = len(columns) - len(keep)
    table = Table(title=Text(g(spec.title)))
    for i in keep:
        table.add_column(Text(columns[i]), justify="right", no_wrap=True,
                         style="dim" if i == 0 else "")
    for label, cells in lines:
        if cells is None:
            table.add_row(label, *[g("⋮")] * (len(keep) - 1))
            continue
        texts = [Text(label), *(Text(c.text, style=c.style) for c in cells)]
        table.add_row(*[texts[i] for i in keep])
    return table, hidden
