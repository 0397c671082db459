"""The breakdown as rich tables: the loss's table specs drawn to fit the width.

Only the rows the engine kept (the first and last of ``--max-rows``) are shown.  Columns
that do not fit the width are hidden from the middle, never cut: a number is shown whole or
not at all.

The arithmetic is rich's own: a table is drawn ``1 + Σ (w + 3)`` wide, a left border and,
for each column, its widest cell (header included), a space either side and the border on
its right (:func:`drawn_width`).  Columns are chosen with that sum, and each table is then
pinned to its natural width, so rich never shrinks a cell to an ellipsis.  When even the
smallest table (the row labels, one column and the ``…`` of the hidden ones, and the row
mean where there is one) is wider than the terminal, that smallest table is drawn whole,
wider than the width: the terminal folds its lines, but no number is cut.  Lines of text
(the header, notes, the loss) are broken at spaces, never inside a word.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from bcecli.compute.outcome import Outcome, Row
from bcecli.report.display import column_label, flat, header, summary
from bcecli.report.numbers import plural, rounded, to_ascii
from bcecli.report.specs import Cell, LinesSpec, MatrixSpec, TableSpec, grad_style, style_for

MAX_COLUMNS = 12
"""Columns of a matrix shown where no width says otherwise (a pipe without COLUMNS)."""

Columns = list[int | None]
"""The columns a table shows, in order; None is the ``…`` that stands for hidden ones."""


def drawn_width(widths: Sequence[int]) -> int:
    """How wide rich draws a table whose columns' widest cells are ``widths`` (heavy or
    ASCII box, default padding): a left border, and per column its cell, a space either
    side and its right border.

    >>> drawn_width([3, 6, 6]), drawn_width([])
    (25, 1)
    """
    return 1 + sum(w + 3 for w in widths)


_WORD = (r"(\S*\((?:\d+, )+\d+\)\S*|[^\s(]*\([^\s()]*\) = [^\s,]+,?"
         r"|(?:(?:ln|exp|Σ\S*) )+\S+|\S+)(\s*)")
"""A word of a line, where a shape ``(4, 3)`` is one word, and so is an operator with what
it acts on (``ln 0.3992``, ``ln Σ_k exp x_k``, ``Σ w[y]``) and a function's value
(``σ(1.7317) = 0.8496,``): a term is never broken."""


def wrap(line: str, width: int | None, hang: int = 0) -> list[str]:
    """A line broken at spaces into lines of at most ``width`` cells, never inside a word
    or a shape;
    continuation lines indented like the line and ``hang`` more.  A word wider than the
    width (a number in a very narrow terminal) has a line of its own, whole.

    >>> wrap("mean of 6 terms = 0.7193", 12), wrap("mean = 0.7193", None)
    (['mean of 6', 'terms =', '0.7193'], ['mean = 0.7193'])
    >>> wrap("  row 0: 0.5 + 0.25", 12, hang=2), wrap("σ = 1.00000000000000000", 8)
    (['  row 0: 0.5', '    + 0.25'], ['σ =', '1.00000000000000000'])
    >>> wrap("the input (4, 3)", 12)
    ['the input', '(4, 3)']
    >>> wrap("x_j − ln Σ_k exp x_k", 12)
    ['x_j −', 'ln Σ_k exp x_k']
    >>> wrap("row 0: σ(0.5) = 0.6225, σ(1.5) = 0.8176", 24)
    ['row 0: σ(0.5) = 0.6225,', 'σ(1.5) = 0.8176']
    """
    if width is None or cell_len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    more = " " * min(indent + hang, width // 3)
    lines: list[str] = []
    current, spaces = line[:indent], ""
    for word, after in re.findall(_WORD, line[indent:]):
        if current.strip() and cell_len(current) + len(spaces) + cell_len(word) > width:
            lines.append(current)
            current = more + word
        else:
            current += spaces + word
        spaces = after
    lines.append(current)
    return lines


def _hiding(n: int, k: int) -> Columns:
    """k of n columns, the rest hidden in the middle: the first, and up to the last two.

    >>> _hiding(40, 1), _hiding(40, 2), _hiding(40, 5)
    ([0, None], [0, None, 39], [0, 1, 2, None, 38, 39])
    """
    tail = min(2, k - 1)
    return [*range(k - tail), None, *range(n - tail, n)]


def fit_columns(n: int, tables: Sequence[tuple[int, Mapping[int, int]]], width: int | None,
                marker: int = 1) -> tuple[Columns, bool]:
    """The columns to show of n, and whether they fit the width.

    Each of ``tables`` (drawn with the same columns, so that they line up) gives the width
    its other columns take, borders included, and the content width of each column that
    might be shown (see :func:`_candidates`).  The most columns that fit every table,
    hidden from the middle; at least the first and the ``…`` (``marker`` wide: 3 in
    ASCII), which may not fit (then False).  Without a width (a pipe with no COLUMNS) at
    most ``MAX_COLUMNS``.

    >>> w = {j: 6 for j in range(40)}
    >>> fit_columns(3, [(14, w)], 80), fit_columns(40, [(14, w)], 80)
    (([0, 1, 2], True), ([0, 1, 2, 3, None, 38, 39], True))
    >>> fit_columns(40, [(14, w)], 26), fit_columns(40, [(14, w)], 27)
    (([0, None], False), ([0, None], True))
    >>> len(fit_columns(40, [(14, w)], None)[0]), fit_columns(0, [(14, {})], 10)
    (13, ([], False))
    """
    if width is None:
        return (list(range(n)) if n <= MAX_COLUMNS else _hiding(n, MAX_COLUMNS)), True

    def fits(cols: Columns) -> bool:
        return all(fixed + sum((marker if j is None else widths[j]) + 3 for j in cols) <= width
                   for fixed, widths in tables)

    known = min(len(widths) for _, widths in tables) if tables else 0
    everything: Columns = list(range(n))
    if n <= 1 or (n <= known and fits(everything)):
        return everything, fits(everything)
    best = _hiding(n, 1)
    if not fits(best):
        return best, False
    for k in range(2, min(n, known + 1)):
        cols = _hiding(n, k)
        if not fits(cols):
            break
        best = cols
    return best, True


def _candidates(n: int, width: int | None) -> list[int]:
    """The columns that might be shown: all that fit in the widest table, each at least
    4 wide (a digit, its padding and a border)."""
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


def _lines_of(text: str, width: int | None, style: str) -> Text:
    """A line of text broken at spaces to the width (printed as it is: see render_table)."""
    return Text("\n".join(wrap(text, width)), style=style, no_wrap=True, overflow="ignore")


def table_specs(outcome: Outcome, precision: int) -> list[TableSpec]:
    """The tables of the breakdown: the loss's, and the gradient's with ``--grad``."""
    specs = outcome.loss_fn.tables(outcome, precision)
    if outcome.grad_denominator is not None:
        specs.append(MatrixSpec(outcome.loss_fn.grad_rule(outcome),
                                _row_grad, label_prefix="∂ ",
                                vector_label="∂L/∂x", style=grad_style))
    return specs


def renderables(outcome: Outcome, precision: int, width: int | None, ascii: bool = False
                ) -> Iterator[RenderableType]:
    """The header, the loss's tables and the reduction, as rich renderables."""
    g: Glyphs = to_ascii if ascii else _plain
    yield _lines_of(g(header(outcome)), width, "bold")
    if outcome.ranked:
        from bcecli.report.samples import worst_title

        yield _lines_of(g(worst_title(outcome)), width, "bold")
    specs = table_specs(outcome, precision)
    tables = _draw(outcome, specs, precision, width, g)
    for i, (table, hidden, group) in enumerate(tables):
        if ascii:
            table.box = box.ASCII2
        natural = _natural_width(table)
        table.width = natural  # drawn whole, never shrunk (it fits, or nothing smaller does)
        title = table.title
        if isinstance(title, Text) and (title.cell_len > natural
                                        or (width is not None and natural > width)):
            table.title = None  # wider than its table, or a table that cannot fit: a line
            # of its own, broken at spaces to the width
            yield _lines_of(title.plain, width, "table.title")
        yield table
        if hidden and all(other != group for _, _, other in tables[i + 1:]):
            yield _lines_of(g(f"{plural(hidden, 'column')} hidden in the middle (a wider "
                              f"terminal, COLUMNS=…, or -f csv shows them)"), width, "dim")
    yield _lines_of(g(summary(outcome, precision)), width, "bold")
    if outcome.hidden > 0 and outcome.ranked:
        yield _lines_of(f"{plural(outcome.hidden, 'other row')} not shown", width, "dim")
    elif outcome.hidden > 0:
        yield _lines_of(f"{plural(outcome.hidden, 'row')} hidden (--max-rows 0 shows all)",
                        width, "dim")


def _natural_width(table: Table) -> int:
    """How wide a table is drawn when there is room."""
    from rich.measure import Measurement

    console = Console(width=1 << 20, file=io.StringIO())
    return Measurement.get(console, console.options, table).maximum


def render_table(outcome: Outcome, console: Console, precision: int,
                 width: int | None, ascii: bool = False) -> None:
    """Print the breakdown; ``width`` None: a pipe with no width, as wide as needed.

    Everything is already fitted to the width, so it is printed as it is: the console
    neither wraps nor crops what is wider (a word or a table that cannot fit)."""
    for part in renderables(outcome, precision, width, ascii):
        if isinstance(part, Text):
            console.print(part, soft_wrap=True)
        else:
            console.print(part, crop=False)


def _draw(outcome: Outcome, specs: list[MatrixSpec | LinesSpec], p: int, width: int | None,
          g: Glyphs) -> list[tuple[Table, int, int]]:
    """Each spec as a table, with how many columns it hides and its group: matrices of
    rows as long share their columns (so that they line up, and hide as many); a table
    of named columns is a group of its own."""
    shown = outcome.kept()
    grids = [_Grid.of(outcome, spec, shown, p, width, g) if isinstance(spec, MatrixSpec)
             else None for spec in specs]
    sizes = sorted({grid.n for grid in grids if grid is not None})
    chosen = {n: fit_columns(n, [(grid.fixed, grid.widths) for grid in grids
                                 if grid is not None and grid.n == n], width,
                             cell_len(g("…")))[0]
              for n in sizes}
    out: list[tuple[Table, int, int]] = []
    for i, (spec, grid) in enumerate(zip(specs, grids, strict=True)):
        if grid is not None:
            cols = chosen[grid.n]
            out.append((grid.table(outcome, cols, g), grid.n - sum(j is not None for j in cols),
                        -1 - sizes.index(grid.n)))
        else:
            assert isinstance(spec, LinesSpec)
            table, hidden = _lines(spec, width, g)
            out.append((table, hidden, i))
    return out


@dataclass(eq=False)
class _Grid:
    """A matrix spec's cells, formatted for the columns that might be shown."""

    spec: MatrixSpec
    n: int
    cells: dict[int, dict[int, tuple[str, float]]]
    labels: dict[int, str]
    totals: dict[int, str]
    widths: dict[int, int]
    """The content width of each candidate column: its widest cell or header."""
    fixed: int
    """The width of the table without its value columns: the borders, the row labels and
    the total."""
    title: str

    @classmethod
    def of(cls, outcome: Outcome, spec: MatrixSpec, shown: list[Row], p: int,
           width: int | None, g: Glyphs) -> _Grid:
        n = spec.values(shown[0]).size if shown else 0
        candidates = _candidates(n, width)  # (a row of a million terms: format a few)
        cells: dict[int, dict[int, tuple[str, float]]] = {}
        for row in shown:
            values = spec.values(row)[candidates]
            cells[row.index] = {j: (rounded(float(v), p), float(v))
                                for j, v in zip(candidates, values, strict=True)}
        vector = len(outcome.input_shape) == 1
        labels = {j: g(spec.vector_label if vector else spec.label_prefix
                       + column_label(outcome, j)) for j in candidates}
        widths = {j: max([cell_len(labels[j]), *(len(cs[j][0]) for cs in cells.values())])
                  for j in candidates}
        totals: dict[int, str] = {}
        fixed = [max([3, *(cell_len(g(row.label)) for row in shown)])]  # "row", the labels
        if spec.total is not None and spec.total_label is not None and not vector:
            totals = {row.index: rounded(spec.total(row), p) for row in shown}
            fixed.append(max([cell_len(spec.total_label), *map(len, totals.values())]))
        return cls(spec, n, cells, labels, totals, widths, drawn_width(fixed), g(spec.title))

    def table(self, outcome: Outcome, cols: Columns, g: Glyphs) -> Table:
        """One line per kept row, the given columns and the total."""
        spec = self.spec
        table = Table(title=Text(self.title))
        table.add_column("row", justify="right", style="dim", no_wrap=True)
        for j in cols:
            table.add_column(Text(g("…") if j is None else self.labels[j]), justify="right",
                             no_wrap=True)
        if self.totals and spec.total_label:
            table.add_column(Text(spec.total_label), justify="right", style="bold",
                             no_wrap=True)
        extra = 1 if self.totals else 0
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
                text, value = self.cells[row.index][j]
                style = spec.style(value) if spec.style else style_for(value) \
                    if spec.coloured else ""
                out.append(Text(text, style=style) if style else text)
            if self.totals:
                out.append(self.totals[row.index])
            table.add_row(g(row.label), *out)
        return table


def _lines(spec: LinesSpec, width: int | None, g: Glyphs) -> tuple[Table, int]:
    """A table of named columns; those that do not fit are hidden from the middle, a ``…``
    column in their place.  The first (the row) and the last always show."""
    columns = [g(c) for c in spec.columns]
    lines = [(g(label), None if cells is None else [Cell(g(c.text), c.style) for c in cells])
             for label, cells in spec.lines]
    widths = [cell_len(c) for c in columns]
    for label, cells in lines:
        widths[0] = max(widths[0], cell_len(label))
        for i, cell in enumerate(cells or [], start=1):
            widths[i] = max(widths[i], cell_len(cell.text))
    shown = list(range(len(columns)))
    keep = _gaps(shown)
    if width is not None:
        while len(shown) > 2 and _lines_width(keep, widths, cell_len(g("…"))) > width:
            shown.remove(shown[len(shown) // 2] if len(shown) > 3 else shown[1])
            keep = _gaps(shown)
    hidden = len(columns) - sum(i is not None for i in keep)
    table = Table(title=Text(g(spec.title)))
    for c in keep:
        table.add_column(Text(g("…") if c is None else columns[c]), justify="right",
                         no_wrap=True, style="dim" if c == 0 else "")
    for label, cells in lines:
        if cells is None:
            table.add_row(label, *[g("⋮")] * (len(keep) - 1))
            continue
        texts = [Text(label), *(Text(c.text, style=c.style) for c in cells)]
        table.add_row(*[Text(g("…")) if i is None else texts[i] for i in keep])
    return table, hidden


def _gaps(shown: list[int]) -> Columns:
    """The shown columns with a None (a ``…`` column) wherever some are hidden.

    >>> _gaps([0, 1, 4, 5]), _gaps([0, 1, 2])
    ([0, 1, None, 4, 5], [0, 1, 2])
    """
    out: Columns = []
    for i in shown:
        if out and out[-1] is not None and i > out[-1] + 1:
            out.append(None)
        out.append(i)
    return out


def _lines_width(keep: Columns, widths: list[int], marker: int) -> int:
    return drawn_width([marker if i is None else widths[i] for i in keep])
