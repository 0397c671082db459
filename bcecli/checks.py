"""Validation of shapes and values, with messages that say where the problem is.

Where PyTorch raises, these raise :class:`~bcecli.errors.BceError` with a clearer
message; where PyTorch computes something suspicious without a word, they return a
warning for the caller to show.  A *locator* turns an index into the array into words
such as ``x.csv, line 4, field 2`` (see :mod:`bcecli.sources`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError

Locator = Callable[[tuple[int, ...]], str]
Shape = tuple[int, ...]


def index_locator(name: str) -> Locator:
    """A locator that names an element by its index.

    >>> index_locator("input")((1, 2))
    'input[1, 2]'
    """
    return lambda idx: f"{name}[{', '.join(map(str, idx))}]"


def fmt_shape(shape: Shape) -> str:
    """A shape as people write it.

    >>> fmt_shape((3, 2)), fmt_shape(()), fmt_shape((4,))
    ('(3, 2)', '() (a scalar)', '(4,)')
    """
    if not shape:
        return "() (a scalar)"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def first_index(mask: NDArray[np.bool_]) -> tuple[int, ...] | None:
    """The index of the first True in mask (row-major), or None."""
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return None
    return tuple(int(i) for i in np.unravel_index(int(flat[0]), mask.shape))


def fmt_value(v: float, dtype: str = "float64") -> str:
    """A value as it would be typed: the shortest text that reads back as it in ``dtype``.

    >>> fmt_value(1.5), fmt_value(2.0), fmt_value(float("nan")), fmt_value(0.1, "float32")
    ('1.5', '2', 'nan', '0.1')
    """
    f = float(v)
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return str(np.float32(f)) if dtype == "float32" else repr(f)


def check_finite(a: NDArray[np.floating], what: str, locate: Locator) -> None:
    """Every value must be a finite number: NaN and infinity make no loss meaningful."""
    bad = first_index(~np.isfinite(a))
    if bad is not None:
        why = ("" if np.isnan(a[bad]) else
               " (written as inf, or beyond ±1.8e308, the largest float64, as 1e400 is)")
        raise BceError(f"{locate(bad)}: {what} value {fmt_value(a[bad])} is not a finite "
                       f"number{why}")


def check_same_shape(input_shape: Shape, target_shape: Shape) -> None:
    """Input and target must have the same shape (PyTorch raises otherwise)."""
    if input_shape != target_shape:
        raise BceError(
            f"shape mismatch: input is {fmt_shape(input_shape)} but target is "
            f"{fmt_shape(target_shape)}; they must be the same"
        )


def check_unit_interval(a: NDArray[np.floating], what: str, locate: Locator) -> None:
    """Values must lie in [0, 1] (BCELoss's check, with a location)."""
    bad = first_index((a < 0) | (a > 1) | np.isnan(a))
    if bad is not None:
        raise BceError(
            f"{locate(bad)}: {what} value {fmt_value(a[bad])} is outside [0, 1]; "
            f"BCELoss needs probabilities (use --sigmoid or bce-logits for logits)"
        )


def check_bce_values(p: NDArray[np.floating], y: NDArray[np.floating]) -> None:
    """Input and target of BCELoss must lie in [0, 1]."""
    check_unit_interval(p, "input", index_locator("input"))
    check_unit_interval(y, "target", index_locator("target"))


def check_weight(
    weight: NDArray[np.floating] | None, shape: Shape, name: str
) -> NDArray[np.floating] | None:
    """A weight must broadcast to ``shape`` without growing it (trailing dimensions)."""
    if weight is None:
        return None
    w = np.asarray(weight, dtype=np.float64)
    try:
        out = np.broadcast_shapes(w.shape, shape)
    except ValueError:
        out = None
    if out != shape:
        raise BceError(
            f"--{name.replace('_', '-')} of shape {fmt_shape(w.shape)} does not broadcast to "
            f"the {'target' if name == 'pos_weight' else 'input'} shape {fmt_shape(shape)} "
            f"(dimensions are matched from the right; each must be equal or 1)"
        )
    return w


def outside_unit_warning(a: NDArray[np.floating], what: str, locate: Locator) -> str | None:
    """A warning when some value lies outside [0, 1] although it is still computed."""
    bad = first_index((a < 0) | (a > 1))
    if bad is None:
        return None
    return f"{locate(bad)}: {what} value {fmt_value(a[bad])} is outside [0, 1]"


@dataclass(frozen=True)
class CeLayout:
    """How a CrossEntropyLoss input and target line up.

    The class axis is 1 for (N, C, d1, ...) and 0 for a (C,) input; the loss has one term
    per position, shape ``element_shape``.
    """

    input_shape: Shape
    probabilities: bool

    @property
    def n_classes(self) -> int:
        """C, the size of the class axis."""
        return self.input_shape[0 if len(self.input_shape) == 1 else 1]

    @property
    def element_shape(self) -> Shape:
        """The shape of the elementwise loss: the input's shape without the class axis."""
        s = self.input_shape
        return () if len(s) == 1 else (s[0], *s[2:])

    def logits_last(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        """The logits as (M, C), positions in row-major order of the element shape."""
        if x.ndim == 1:
            return x.reshape(1, -1)
        positions = math.prod((x.shape[0], *x.shape[2:]))  # explicit: C may be 0
        return np.moveaxis(x, 1, -1).reshape(positions, self.n_classes)

    def targets_last(self, t: NDArray[np.floating]) -> NDArray[np.floating]:
        """Probability targets laid out like :meth:`logits_last`."""
        return self.logits_last(t)

    def class_indices(self, t: NDArray[np.number], ignore_index: int,
                      locate: Locator | None = None) -> NDArray[np.int64]:
        """Class-index targets as a flat int64 array, checked to be whole and in range."""
        loc = locate or index_locator("target")
        flat = np.asarray(t).reshape(-1)
        if flat.dtype.kind == "f":
            check_finite(np.asarray(t, dtype=np.float64), "target", loc)
            bad = first_index(np.asarray(t) != np.floor(t))
            if bad is not None:
                also = (f"or give class probabilities of the input's shape "
                        f"{fmt_shape(self.input_shape)}" if self.n_classes != 1 else
                        "class probabilities for a single class are read from JSON or .npy, "
                        "not CSV")
                raise BceError(
                    f"{loc(bad)}: target {fmt_value(np.asarray(t)[bad])} is not a whole "
                    f"number; class-index targets must be integers ({also})"
                )
            if flat.size and np.max(np.abs(flat)) >= 2**62:
                bad = first_index(np.abs(np.asarray(t)) >= 2**62)
                value = fmt_value(np.asarray(t)[bad]) if bad is not None else "?"
                raise BceError(f"{loc(bad or ())}: target class {value} is out of range for "
                               f"{self.n_classes} classes (valid: 0 to {self.n_classes - 1}, or "
                               f"the ignore index)")
        idx = flat.astype(np.int64)
        c = self.n_classes
        bad = first_index(((idx < 0) | (idx >= c)) & (idx != ignore_index))
        if bad is not None:
            where = np.unravel_index(bad[0], np.shape(t)) if np.ndim(t) else ()
            if c == 0:
                raise BceError(f"{loc(tuple(int(i) for i in where))}: the input has no classes "
                               f"(C = 0), so every target must be the ignore index "
                               f"{ignore_index}; got {int(idx[bad[0]])}")
            raise BceError(
                f"{loc(tuple(int(i) for i in where))}: target class {int(idx[bad[0]])} is "
                f"out of range for {c} classes (valid: 0 to {c - 1}, or the ignore index "
                f"{ignore_index})"
            )
        return idx


def check_label_smoothing(eps: float) -> None:
    """ε in [0, 1]: PyTorch refuses ε > 1 and quietly smooths nothing for ε < 0 (or NaN).

    >>> check_label_smoothing(0.1)
    """
    if not 0.0 <= eps <= 1.0:  # NaN too
        quiet = "" if eps > 1 else (" (PyTorch would quietly smooth nothing; give 0 for no "
                                    "smoothing)")
        raise BceError(f"--label-smoothing must be between 0 and 1; got {eps!r}{quiet}")


def ce_layout(
    input_shape: Shape,
    target_shape: Shape,
    weight: NDArray[np.floating] | None,
    label_smoothing: float,
    ignore_index: int = -100,
) -> CeLayout:
    """Decide between class-index and class-probability targets, checking every shape.

    PyTorch's rules: probabilities when the target has the input's shape (and then no
    ignore index ≥ 0), class indices when it has the input's shape without C.
    """
    if len(input_shape) == 0:
        raise BceError("ce input must have a class dimension: (C,), (N, C) or (N, C, d1, ...)"
                       "; got a scalar")
    check_label_smoothing(label_smoothing)
    probabilities = target_shape == input_shape
    layout = CeLayout(input_shape, probabilities)
    if probabilities and ignore_index >= 0:
        raise BceError(
            f"--ignore-index {ignore_index} applies to class-index targets, but the target has "
            f"the input's shape {fmt_shape(input_shape)}, so it holds class probabilities "
            f"(PyTorch refuses an ignore index ≥ 0 for them)"
        )
    if not probabilities and target_shape != layout.element_shape:
        raise BceError(
            f"shape mismatch: ce input is {fmt_shape(input_shape)}, so the target must be "
            f"class indices of shape {fmt_shape(layout.element_shape)} or class probabilities "
            f"of shape {fmt_shape(input_shape)}; got {fmt_shape(target_shape)}"
        )
    if weight is not None:
        w = np.asarray(weight)
        if w.ndim != 1 or w.size != layout.n_classes:
            raise BceError(
                f"--weight must have one value per class, shape ({layout.n_classes},); "
                f"got {fmt_shape(w.shape)}"
            )
    return layout
