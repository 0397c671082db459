"""Numbers and rows for people: what the table and ``--explain`` share.

Computed numbers are shown with ``--precision`` decimals, switching to scientific notation
where fixed decimals would hide them (``1.2346e+300``, ``3.0000e-09``); numbers the user
gave are echoed as typed (:func:`bcecli.checks.fmt_value`) when that is short.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from bcecli.checks import fmt_shape, fmt_value
from bcecli.outcome import Outcome, Row

NAMES = {"bce": "BCELoss", "bce-logits": "BCEWithLogitsLoss", "ce": "CrossEntropyLoss"}


def num(v: float, p: int) -> str:
    """A computed number with ``p`` decimals, or in scientific notation when that hides it.

    >>> num(0.71932478, 4), num(1e300, 4), num(3e-9, 4), num(0.0, 4), num(float("nan"), 4)
    ('0.7193', '1.0000e+300', '3.0000e-09', '0.0000', 'nan')
    """
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if a >= 1e7 or (p > 0 and 0 < a < 0.5 * 10.0**-p):
        return f"{v:.{max(p, 1)}e}"
    return f"{v:.{p}f}"


def echo(v: float, dtype: str, p: int) -> str:
    """An input value in a formula: as typed when that is short, else rounded like the rest.

    >>> [echo(v, "float64", 4) for v in (-0.4089, 1e-05, 0.45527732372283936)]
    ['-0.4089', '1e-05', '0.4553']
    """
    text = fmt_value(v, dtype)
    return text if len(text.lstrip("-")) <= p + 4 else num(v, p)


def minus(text: str) -> str:
    """Typographic minus signs, for formulas written out.

    >>> minus("-1.5e-05")
    '−1.5e−05'
    """
    return text.replace("-", "−")


def plural(n: int, word: str) -> str:
    """``1 term``, ``9 terms``.

    >>> plural(1, "term"), plural(9, "term")
    ('1 term', '9 terms')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


def rows(outcome: Outcome) -> Iterator[Row | None]:
    """Head rows, None where rows are hidden, tail rows."""
    yield from outcome.head
    if outcome.hidden > 0:
        yield None
    yield from outcome.tail


def flat(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """A row's values in row-major order."""
    return np.asarray(a).reshape(-1)


def sigmoid_shown(outcome: Outcome) -> bool:
    """Whether the breakdown starts from probabilities σ(x)."""
    o = outcome.options
    return o.command == "bce-logits" or (o.command == "bce" and o.sigmoid)


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
    parts = [NAMES[o.command]]
    if o.command == "bce" and o.sigmoid:
        parts[0] += " on σ(x)"
    parts += [f"reduction {o.reduction}", o.dtype, f"input {fmt_shape(outcome.input_shape)}"]
    if outcome.weight_shape is not None:
        what = "class weights" if o.command == "ce" else "weight"
        parts.append(f"{what} {fmt_shape(outcome.weight_shape)}")
    if outcome.pos_weight_shape is not None:
        parts.append(f"pos_weight {fmt_shape(outcome.pos_weight_shape)}")
    if o.command == "ce":
        parts.append("class probabilities" if outcome.probabilities else "class indices")
        if not outcome.probabilities and o.ignore_index != -100:
            parts.append(f"ignore index {o.ignore_index}")
        if o.label_smoothing:
            parts.append(f"label smoothing ε = {o.label_smoothing:g}")
    return " · ".join(parts)


def row_word(outcome: Outcome) -> str:
    """``mean`` or ``sum``: what a row's value is (row sums for reduction sum)."""
    return "sum" if outcome.options.reduction == "sum" else "mean"


def row_value(outcome: Outcome, row: Row) -> float:
    """A row's mean, or its sum for reduction sum."""
    if outcome.options.reduction == "sum":
        return float(np.sum(row.terms, dtype=np.float64))
    return row.value


def _count(v: float, p: int) -> str:
    return fmt_value(v) if float(v).is_integer() else num(v, p)


def summary(outcome: Outcome, p: int) -> str:
    """The last line: how the terms reduce to the loss.

    ``Σ ℓ / Σ w[y]`` where class weights or ignored targets make the mean a weighted one.
    """
    o = outcome.options
    n = outcome.count
    if o.reduction == "sum":
        return f"sum of {plural(n, 'term')} = {num(outcome.loss, p)}"
    if o.reduction == "none":
        mean = outcome.total / n if n else math.nan
        return (f"reduction none: the {plural(n, 'elementwise term')} above, unreduced "
                f"(their sum {num(outcome.total, p)}, their mean {num(mean, p)})")
    if o.command == "ce" and not outcome.probabilities and (
            outcome.weight_shape is not None or outcome.denominator != n):
        below = "Σ w[y]" if outcome.weight_shape is not None else "kept targets"
        return (f"mean = Σ ℓ / {below} = {num(outcome.total, p)} / "
                f"{_count(outcome.denominator, p)} = {num(outcome.loss, p)}")
    return f"mean of {plural(n, 'term')} = {num(outcome.loss, p)}"


def ce_positions(outcome: Outcome, max_positions: int) -> Iterator[tuple[str, Row | None, int]]:
    """The ce breakdown's lines: (label, row, position k within the row's terms).

    A K-dimensional input has several positions per sample (``3, 2`` is sample 3,
    position 2); a row of None stands for hidden samples or positions.
    """
    for row in rows(outcome):
        if row is None:
            yield "⋮", None, 0
            continue
        n = row.terms.size
        if n == 1:
            yield str(row.index), row, 0
            continue
        shape = outcome.element_shape[1:]
        for k in range(n):
            if n > max_positions and max_positions - 3 <= k < n - 2:
                if k == max_positions - 3:
                    yield f"{row.index}, …", None, 0
                continue
            where = ", ".join(str(int(i)) for i in np.unravel_index(k, shape))
            yield f"{row.index}, {where}", row, k


def ce_pieces(row: Row, k: int, probabilities: bool
              ) -> tuple[NDArray[np.floating], NDArray[np.floating], int]:
    """At position k of a row: the logits (C,), the target probabilities (C,) or an empty
    array, and the target class (the most probable one for probability targets)."""
    def at_k(a: NDArray[np.floating]) -> NDArray[np.floating]:
        """The classes of a sample (C, d1, ...) at its position k."""
        if a.ndim == 1:
            return a
        classes: NDArray[np.floating] = np.moveaxis(a, 0, -1).reshape(
            math.prod(a.shape[1:]), a.shape[0])[k]
        return classes

    logits = at_k(row.input)
    if probabilities:
        probs = at_k(row.target)
        return logits, probs, int(np.argmax(probs)) if probs.size else -1
    return logits, np.empty(0), int(flat(row.target)[k])
