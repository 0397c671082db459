"""The breakdown as rich tables: probabilities, terms and row means, or ce's per-sample table.

Only the rows the engine kept (the first and last of ``--max-rows``) are shown; the numbers
for display (σ(x), log Σ exp, softmax) are recomputed from those rows with
:mod:`bcecli.losses`, so what is shown is what was summed.  Columns that do not fit the
width are hidden from the middle, never cut: a number is shown whole or not at all.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bcecli import losses
from bcecli.display import (
    ce_pieces,
    ce_positions,
    column_label,
    flat,
    header,
    num,
    plural,
    row_value,
    row_word,
    rows,
    sigmoid_shown,
    summary,
)
from bcecli.outcome import Outcome

MAX_POSITIONS = 10
"""Positions of a K-dimensional ce sample shown before the middle ones are hidden."""
MAX_COLUMNS = 12
"""Columns of a matrix shown where no width says otherwise (a pipe without COLUMNS)."""


def style_for(term: float) -> str:
    """Colour a term by its size: chance level for a binary guess is ln 2 ≈ 0.69.

    >>> style_for(0.1), style_for(0.6), style_for(1.2), style_for(5.0)
    ('green', 'yellow', 'red', 'bold red')
    """
    if math.isnan(term):
        return "dim"
    if term <= 0.3:
        return "green"
    if term <= 0.9:
        return "yellow"
    return "red" if term <= 3 else "bold red"


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


def render_table(outcome: Outcome, console: Console, precision: int,
                 width: int | None) -> None:
    """The breakdown as rich tables, then the reduction; ``width`` None: as wide as needed."""
    console.print(Text(header(outcome), style="bold"))
    if outcome.options.command == "ce":
        console.print(_ce_table(outcome, precision))
    else:
        hidden = 0
        if sigmoid_shown(outcome):
            table, hidden = _matrix_table(outcome, precision, width, probabilities=True)
            console.print(table)
        table, hidden = _matrix_table(outcome, precision, width, probabilities=False)
        console.print(table)
        if hidden:
            console.print(Text(f"{plural(hidden, 'column')} hidden in the middle (a wider "
                               f"terminal, COLUMNS=…, or -f csv shows them)", style="dim"))
    console.print(Text(summary(outcome, precision), style="bold"))
    if outcome.hidden > 0:
        console.print(Text(f"{plural(outcome.hidden, 'row')} hidden (--max-rows 0 shows all)",
                           style="dim"))


def _matrix_table(outcome: Outcome, p: int, width: int | None, probabilities: bool
                  ) -> tuple[Table, int]:
    """Probabilities σ(x), or terms ℓ with each row's mean (sum); and the columns hidden."""
    shown = [r for r in rows(outcome) if r is not None]
    n = shown[0].terms.size if shown else 0
    candidates = _candidates(n, width)  # (a row of a million terms: format a few)
    cells: dict[int, dict[int, str]] = {}
    for kept in shown:
        values = flat(kept.input if probabilities else kept.terms)[candidates]
        if probabilities:
            values = losses.sigmoid(values)
        cells[kept.index] = {j: num(float(v), p) for j, v in zip(candidates, values, strict=True)}
    longest = max((len(c) for cs in cells.values() for c in cs.values()), default=1)
    labels = {j: ("" if probabilities else "ℓ ") + column_label(outcome, j) for j in candidates}
    cell = max(longest, *(len(s) for s in labels.values()), 1) if n else longest
    index_width = len(str(outcome.nrows)) + 4
    fixed = index_width + (0 if probabilities else max(longest, 8) + 3) + 1
    cols = fit_columns(n, cell, fixed, width)
    word = row_word(outcome)
    title = ("probabilities p = σ(x)" if probabilities
             else f"terms ℓ and each row's {word}")
    table = Table(title=Text(title))
    table.add_column("row", justify="right", style="dim", no_wrap=True)
    for j in cols:
        table.add_column(Text("…" if j is None else labels[j]), justify="right", no_wrap=True)
    if not probabilities:
        table.add_column(f"row {word}", justify="right", style="bold", no_wrap=True)
    for row in rows(outcome):
        if row is None:
            table.add_row("⋮", *["⋮"] * (len(cols) + (0 if probabilities else 1)))
            continue
        texts = cells[row.index]
        values = flat(row.terms)
        out: list[str | Text] = []
        for j in cols:
            if j is None:
                out.append("…")
            elif probabilities:
                out.append(texts[j])
            else:
                out.append(Text(texts[j], style=style_for(float(values[j]))))
        if not probabilities:
            out.append(num(row_value(outcome, row), p))
        table.add_row(str(row.index), *out)
    return table, n - sum(j is not None for j in cols)


def _ce_table(outcome: Outcome, p: int) -> Table:
    """One line per sample (per position, for K-dimensional inputs)."""
    o = outcome.options
    eps = o.label_smoothing
    w = outcome.class_weight
    table = Table(title=Text(_ce_title(outcome)))
    for name in _ce_columns(outcome):  # Text: no markup, "[target]" is no style
        table.add_column(Text(name), justify="right", no_wrap=True,
                         style="dim" if name == "row" else "")
    ncols = len(table.columns)
    for label, row, k in ce_positions(outcome, MAX_POSITIONS):
        if row is None:
            table.add_row(label, *["⋮"] * (ncols - 1))
            continue
        logits, probs, cls = ce_pieces(row, k, outcome.probabilities)
        if logits.size == 0:
            table.add_row(label, "no classes", *[""] * (ncols - 4),
                          num(float(flat(row.terms)[k]), p), "")
            continue
        ls = losses.log_softmax(np.asarray(logits, dtype=np.float64)[None, :])
        lse = float(ls.log_sum_exp[0])
        log_p = ls.log_probs[0]
        term = float(flat(row.terms)[k])
        term_cell = Text(num(term, p), style=style_for(term))
        if outcome.probabilities:
            table.add_row(label, f"{cls} ({num(float(probs[cls]), 2)})", num(lse, p), term_cell,
                          num(math.exp(float(log_p[cls])), p))
            continue
        if cls == o.ignore_index:
            blanks = ncols - 4
            table.add_row(label, f"{cls} (ignored)", *[""] * blanks, term_cell, "")
            continue
        cells: list[str | Text] = [label, str(cls), num(float(logits[cls]), p), num(lse, p),
                                   num(-float(log_p[cls]), p)]
        if w is not None:
            cells.append(num(float(w[cls]), p))
        if eps:
            weighted = -log_p if w is None else -log_p * w
            cells.append(num(float(np.sum(weighted)), p))
        table.add_row(*cells, term_cell, num(math.exp(float(log_p[cls])), p))
    return table


def _ce_columns(outcome: Outcome) -> list[str]:
    if outcome.probabilities:
        return ["row", "target (p)", "ln Σ exp x", "ℓ", "p(target)"]
    names = ["row", "target", "x[target]", "ln Σ exp x", "−ln p(target)"]
    if outcome.class_weight is not None:
        names.append("weight")
    if outcome.options.label_smoothing:
        names.append("Σ w·(−ln p)" if outcome.class_weight is not None else "Σ −ln p")
    return [*names, "ℓ", "p(target)"]


def _ce_title(outcome: Outcome) -> str:
    eps = outcome.options.label_smoothing
    c = outcome.input_shape[0 if len(outcome.input_shape) == 1 else 1]
    weighted = outcome.class_weight is not None
    if outcome.probabilities:
        base = "ℓ = −Σ_c " + ("w_c·" if weighted else "") + "t_c·ln p_c"
        return base + (f", t smoothed to (1 − {eps:g})·t + {eps:g}/{c}" if eps else "")
    nll = "w[y]·(−ln p(target))" if weighted else "−ln p(target)"
    if not eps:
        return (f"ℓ = {nll}, −ln p(target) = ln Σ exp x − x[target]" if weighted else
                "ℓ = −ln p(target) = ln Σ exp x − x[target]")
    smooth = "Σ w·(−ln p)" if weighted else "Σ −ln p"
    return f"ℓ = (1 − {eps:g})·{nll} + {eps:g}/{c}·{smooth} over all {c} classes"
