"""Validation of values and shapes, with messages that say where the problem is.

Where PyTorch raises, these raise :class:`~bcecli.errors.BceError` with a clearer
message; where PyTorch computes something suspicious without a word, they return a
warning for the caller to show.  A *locator* turns an index into the array into words
such as ``x.csv, line 4, column 2`` (see :mod:`bcecli.io.source`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError
from bcecli.io.source import Block, Locator, index_locator
from bcecli.report.numbers import exact
from bcecli.report.numbers import shape as fmt_shape

Shape = tuple[int, ...]
Array = NDArray[np.floating]


def first_index(mask: NDArray[np.bool_]) -> tuple[int, ...] | None:
    """The index of the first True in mask (row-major), or None.

    >>> first_index(np.array([[False, False], [False, True]]))
    (1, 1)
    """
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return None
    return tuple(int(i) for i in np.unravel_index(int(flat[0]), mask.shape))


def check_finite(a: Array, what: str, locate: Locator) -> None:
    """Every value must be a finite number: NaN and infinity make no loss meaningful."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(a, axis=None)):  # the usual case, in one cheap pass
            return
    bad = first_index(~np.isfinite(a))
    if bad is not None:
        why = ("" if np.isnan(a[bad]) else
               " (written as inf, or beyond ±1.8e308, the largest float64, as 1e400 is)")
        raise BceError(f"{locate(bad)}: {what} value {exact(a[bad], whole=True)} is not a "
                       f"finite number{why}")


def cast(block: Block, what: str, dtype: str) -> Array:
    """A block's values, checked to be finite, in the computation's dtype.

    A value that float32 cannot hold is refused under ``--dtype float32`` (it would be
    infinity).
    """
    check_finite(block.data, what, block.locate)
    if dtype == "float64":
        return block.data
    with np.errstate(over="ignore"):
        out = block.data.astype(np.float32)
    bad = first_index(~np.isfinite(out))
    if bad is not None:
        raise BceError(f"{block.locate(bad)}: {what} value "
                       f"{exact(block.data[bad], whole=True)} overflows float32")
    return out


def check_same_shape(input_shape: Shape, target_shape: Shape) -> None:
    """Input and target must have the same shape (PyTorch raises otherwise); the message
    says what would fit, where a simple change would (:func:`same_shape_hint`)."""
    if input_shape != target_shape:
        raise BceError(
            f"shape mismatch: input is {fmt_shape(input_shape)} but target is "
            f"{fmt_shape(target_shape)}; they must be the same"
            f"{same_shape_hint(input_shape, target_shape)}"
        )


def same_shape_hint(x: Shape, t: Shape) -> str:
    """What would make a target of shape ``t`` fit an input of shape ``x`` (or the input
    fit the target), said only where it does fit: ``": did you mean …?"``, else the
    difference in words, else nothing.

    >>> same_shape_hint((5, 3), (3, 5))
    ': did you mean the target transposed, (5, 3)? (a row per sample, as the input has)'
    >>> same_shape_hint((4,), (6,))
    ': the input has 4 values, the target 6'
    """
    n_x, n_t = math.prod(x), math.prod(t)
    if len(x) == 2 and x == t[::-1]:
        return (f": did you mean the target transposed, {fmt_shape(x)}? (a row per sample, "
                f"as the input has)")
    if n_x == n_t:
        for what, a, b in (("target", t, x), ("input", x, t)):
            if len(b) == 1 and a in ((b[0], 1), (1, b[0])):
                form = "column" if a[1] == 1 else "row"
                return (f": did you mean the {what} as a vector? it is one {form} of "
                        f"{b[0]:,} value{'s' * (b[0] != 1)} (a one-{form} CSV file stands for "
                        f"the vector; "
                        f"reshape an .npy or JSON array to {fmt_shape(b)})")
        if not x or not t:  # one value against a scalar
            what = "input" if x else "target"
            return (f": did you mean a scalar {what}? it holds one value: give it as a "
                    f"number")
        if len(x) == 1 or len(t) == 1:
            what, to = ("target", x) if len(t) == 1 else ("input", t)
            return (f": did you mean the {what} reshaped to {fmt_shape(to)}? it holds "
                    f"{n_x:,} values, as many as the {'input' if what == 'target' else 'target'}"
                    f" (reshaped row by row)")
        return f": did you mean the target reshaped to {fmt_shape(x)}? it holds as many values"
    if len(x) == 2 and len(t) == 2 and x[0] == t[0]:
        rows = f"{x[0]:,} row{'s' * (x[0] != 1)}"
        if t[1] == 1 or x[1] == 1:
            one, many, c = ("target", "input", x[1]) if t[1] == 1 else ("input", "target", t[1])
            return (f": the {one} has {rows} in one column, the {many} {c} columns (from a "
                    f"CSV, TSV or Parquet file, FILE:COLUMNS picks the columns that go "
                    f"together)")
        return (f": both have {rows}, the input {x[1]} columns and the target {t[1]} (from a "
                f"CSV, TSV or Parquet file, FILE:COLUMNS picks the columns that go together)")
    if not x or not t:
        what, other, n = ("input", "target", n_x) if t == () else ("target", "input", n_t)
        return f": the {what} holds {n:,} values, the {other} one"
    if len(x) == len(t) >= 1 and x[1:] == t[1:]:
        what = "values" if len(x) == 1 else "rows"
        return f": the input has {x[0]:,} {what}, the target {t[0]:,}"
    return ""


def check_unit_interval(a: Array, what: str, locate: Locator) -> None:
    """Values must lie in [0, 1] (BCELoss's check, with a location)."""
    bad = first_index((a < 0) | (a > 1) | np.isnan(a))
    if bad is not None:
        hint = ("BCELoss needs probabilities (use --sigmoid or bce-logits for logits)"
                if what == "input" else
                "a binary target is a probability of the positive class, 0 to 1 (class "
                "indices of several classes are ce's targets)")
        raise BceError(f"{locate(bad)}: {what} value {exact(a[bad], whole=True)} is "
                       f"outside [0, 1]; {hint}")


def check_broadcast(w_shape: Shape, shape: Shape, option: str, what: str) -> None:
    """A weight must broadcast to ``shape`` without growing it (trailing dimensions)."""
    try:
        out: Shape | None = np.broadcast_shapes(w_shape, shape)
    except ValueError:
        out = None
    if out != shape:
        raise BceError(
            f"{option} of shape {fmt_shape(w_shape)} does not broadcast to the {what} shape "
            f"{fmt_shape(shape)} (dimensions are matched from the right; each must be equal "
            f"or 1)"
        )


def outside_unit_warning(a: Array, what: str, locate: Locator) -> str | None:
    """A warning when some value lies outside [0, 1] although it is still computed."""
    if a.size == 0 or (a.min() >= 0 and a.max() <= 1):  # the usual case: two cheap passes
        return None
    bad = first_index((a < 0) | (a > 1))
    if bad is None:
        return None
    return f"{locate(bad)}: {what} value {exact(a[bad], whole=True)} is outside [0, 1]"


__all__ = ["Array", "Shape", "cast", "check_broadcast", "check_finite", "check_same_shape",
           "check_unit_interval", "first_index", "index_locator", "outside_unit_warning"]
