"""The human breakdown: rich tables that show the work, and ``--explain``'s hand calculation.

Only the rows the engine kept (the first and last ``--max-rows``) are shown; the numbers
for display (σ(x), log Σ exp, softmax) are recomputed from those rows with
:mod:`bcecli.losses`, so what is shown is what was summed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bcecli import losses
from bcecli.checks import fmt_shape
from bcecli.engine import Outcome, Row

MAX_COLUMNS = 10
NAMES = {"bce": "BCELoss", "bce-logits": "BCEWithLogitsLoss", "ce": "CrossEntropyLoss"}


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


def _f(v: float, p: int) -> str:
    return "nan" if math.isnan(v) else f"{v:.{p}f}"


def _rows(outcome: Outcome) -> Iterator[Row | None]:
    """Head rows, None where rows are hidden, tail rows."""
    yield from outcome.head
    if outcome.hidden > 0:
        yield None
    yield from outcome.tail


def _columns(n: int) -> list[int | None]:
    if n <= MAX_COLUMNS:
        return list(range(n))
    return [*range(MAX_COLUMNS - 3), None, *range(n - 2, n)]


def _col_name(outcome: Outcome, j: int) -> str:
    names = outcome.column_names
    return names[j] if names and j < len(names) else str(j)


def _probabilities(outcome: Outcome) -> bool:
    o = outcome.options
    return o.command == "bce-logits" or (o.command == "bce" and o.sigmoid)


def _flat(a: NDArray[np.floating]) -> NDArray[np.floating]:
    return np.asarray(a).reshape(-1)


def _summary(outcome: Outcome, p: int) -> str:
    o = outcome.options
    n = outcome.count
    if o.reduction == "sum":
        return f"sum of {n} terms = {_f(outcome.loss, p)}"
    if o.reduction == "none":
        return (f"reduction none: {n} elementwise terms (their sum {_f(outcome.total, p)}, "
                f"mean {_f(outcome.total / n if n else math.nan, p)})")
    if o.command == "ce" and not outcome.probabilities and (
            outcome.class_weight is not None or outcome.denominator != n):
        label = "Σ w·ℓ / Σ w" if outcome.class_weight is not None else "Σ ℓ / (targets kept)"
        return (f"mean = {label} = {_f(outcome.total, p)} / {_f(outcome.denominator, p)} = "
                f"{_f(outcome.loss, p)}")
    return f"mean of {n} terms = {_f(outcome.loss, p)}"


def render_table(outcome: Outcome, console: Console, precision: int) -> None:
    """The breakdown as rich tables (probabilities first where a sigmoid is involved)."""
    o = outcome.options
    console.print(Text(f"{NAMES[o.command]} · reduction {o.reduction} · {o.dtype} · input "
                       f"{fmt_shape(outcome.input_shape)}", style="bold"))
    if o.command == "ce":
        console.print(_ce_table(outcome, precision, "terms ℓ, one per sample"))
    else:
        if _probabilities(outcome):
            console.print(_matrix_table(outcome, precision, "probabilities p = σ(x)",
                                        probabilities=True))
        console.print(_matrix_table(outcome, precision, "terms ℓ and row means",
                                    probabilities=False))
    console.print(Text(_summary(outcome, precision), style="bold"))
    if outcome.hidden > 0:
        console.print(Text(f"{outcome.hidden} rows hidden (--max-rows shows more)",
                           style="dim"))


def _matrix_table(outcome: Outcome, p: int, title: str, probabilities: bool) -> Table:
    width = outcome.head[0].terms.size if outcome.head else 0
    cols = _columns(width)
    table = Table(title=title, show_footer=False)
    table.add_column("row", justify="right", style="dim")
    for j in cols:
        name = "…" if j is None else (f"ℓ {_col_name(outcome, j)}" if not probabilities
                                      else _col_name(outcome, j))
        table.add_column(name, justify="right")
    if not probabilities:
        table.add_column("row mean", justify="right", style="bold")
    for row in _rows(outcome):
        if row is None:
            table.add_row("⋮", *["⋮" for _ in cols], *([] if probabilities else ["⋮"]))
            continue
        values = _flat(losses.sigmoid(row.input)) if probabilities else _flat(row.terms)
        cells: list[str | Text] = []
        for j in cols:
            if j is None:
                cells.append("…")
            elif probabilities:
                cells.append(_f(float(values[j]), p))
            else:
                cells.append(Text(_f(float(values[j]), p), style=style_for(float(values[j]))))
        if not probabilities:
            cells.append(_f(row.value, p))
        table.add_row(str(row.index), *cells)
    return table


def _ce_positions(outcome: Outcome) -> Iterator[tuple[str, Row | None, int]]:
    for row in _rows(outcome):
        if row is None:
            yield "⋮", None, 0
            continue
        n = row.terms.size
        if n == 1:
            yield str(row.index), row, 0
            continue
        for k in range(n):
            if n > MAX_COLUMNS and MAX_COLUMNS - 3 <= k < n - 2:
                if k == MAX_COLUMNS - 3:
                    yield f"{row.index}, …", None, 0
                continue
            yield f"{row.index}, {k}", row, k


def ce_pieces(row: Row, k: int, outcome: Outcome
              ) -> tuple[NDArray[np.floating], NDArray[np.floating], int]:
    """At position k of a row: the logits (C,), the target probabilities (C,) or an empty
    array, and the target class (the most probable one for probability targets)."""
    x = row.input
    logits = x if x.ndim == 1 else np.moveaxis(x, 0, -1).reshape(-1, x.shape[0])[k]
    if outcome.probabilities:
        t = row.target
        probs = t if t.ndim == 1 else np.moveaxis(t, 0, -1).reshape(-1, t.shape[0])[k]
        return logits, probs, int(np.argmax(probs))
    return logits, np.empty(0), int(_flat(row.target)[k])


def _ce_table(outcome: Outcome, p: int, title: str) -> Table:
    table = Table(title=title)
    weighted = outcome.class_weight is not None
    table.add_column("row", justify="right", style="dim")
    table.add_column("target", justify="right")
    if not outcome.probabilities:
        table.add_column(Text("x[target]"), justify="right")
    table.add_column("log Σ exp x", justify="right")
    if weighted and not outcome.probabilities:
        table.add_column("weight", justify="right")
    table.add_column("ℓ", justify="right")
    table.add_column(Text("p(target)"), justify="right")
    ignore = outcome.options.ignore_index
    for label, row, k in _ce_positions(outcome):
        if row is None:
            n = 6 - outcome.probabilities + (weighted and not outcome.probabilities)
            table.add_row(label, *["⋮"] * (n - 1))
            continue
        logits, probs, cls = ce_pieces(row, k, outcome)
        ls = losses.log_softmax(np.asarray(logits)[None, :])
        lse = float(ls.log_sum_exp[0])
        term = float(_flat(row.terms)[k])
        term_cell = Text(_f(term, p), style=style_for(term))
        if outcome.probabilities:
            prob = math.exp(float(ls.log_probs[0, cls]))
            table.add_row(label, f"{cls} ({_f(float(probs[cls]), 2)})", _f(lse, p), term_cell,
                          _f(prob, p))
            continue
        if cls == ignore:
            cells = [label, f"{cls} (ignored)", "", _f(lse, p)]
            cells += [""] if weighted else []
            table.add_row(*cells, term_cell, "")
            continue
        cells = [label, str(cls), _f(float(logits[cls]), p), _f(lse, p)]
        if weighted and outcome.class_weight is not None:
            cells.append(_f(float(outcome.class_weight[cls]), p))
        table.add_row(*cells, term_cell, _f(math.exp(float(ls.log_probs[0, cls])), p))
    return table
