"""Option values, checked before anything is computed: what the command line's parser
guarantees, said as clearly for the Python API's keywords.

Typer already turns ``--reduction Sum`` or ``--ignore-index 1.5`` into usage errors; the
API gets whatever object a caller passes, so each keyword's value is checked here and
normalised (``np.float32`` → ``"float32"``), or refused with a :class:`BceError` that
names the keyword and what it takes.  Nothing is quietly read as something else.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from typing import Literal, ParamSpec, TypeVar, cast

import numpy as np

from bcecli.errors import BceError

Reduction = Literal["mean", "sum", "none"]
DType = Literal["float64", "float32"]
REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum", "none")
DTYPES: dict[str, DType] = {"float64": "float64", "float32": "float32",
                            "torch.float64": "float64", "torch.float32": "float32"}
"""The dtype names taken as text: numpy's, and PyTorch's (``str(torch.float32)``)."""


def _got(value: object) -> str:
    """A value as a message shows it: ``'2' (type str)``."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def reduction(value: object) -> Reduction:
    """``reduction=``: exactly ``'mean'``, ``'sum'`` or ``'none'``, as PyTorch takes it.

    >>> reduction("sum")
    'sum'
    """
    if isinstance(value, str) and value in REDUCTIONS:
        return cast(Reduction, str(value))
    raise BceError(f"reduction must be 'mean', 'sum' or 'none'; got {_got(value)}")


def dtype(value: object) -> DType:
    """``dtype=``: float64 or float32, as a name (``'float32'``, ``str(torch.float32)``), a
    numpy type (``np.float32``) or a numpy dtype; never another dtype quietly.

    >>> dtype("float32"), dtype(np.float64), dtype(np.dtype("float32"))
    ('float32', 'float64', 'float32')
    """
    name: str | None = None
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        d = np.dtype(value)
        name = d.name if d.kind == "f" else None
    elif type(value).__module__ == "torch":  # torch.float32: its text names it exactly
        name = str(value)
    elif isinstance(value, str):
        name = value
    if name in DTYPES:
        return DTYPES[name]
    why = ""
    if value is float or name == "float":
        why = " (float is float64 in numpy but float32 in PyTorch: say which)"
    elif name is not None:
        why = " (bcecli computes in float64 or float32 only)"
    raise BceError(f"dtype must be 'float64' or 'float32' (or np.float64, np.float32); got "
                   f"{_got(value)}{why}")


def integer(name: str, value: object) -> int:
    """An integer keyword (``ignore_index``): an int or a numpy integer, not a bool or a
    float, as PyTorch takes it.

    >>> integer("ignore_index", np.int64(3))
    3
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return int(value)
    raise BceError(f"{name} must be an integer; got {_got(value)}")


def real(name: str, value: object) -> float:
    """A number keyword (``label_smoothing``): an int or a float (numpy's too), not a bool,
    a string or an array.

    >>> real("label_smoothing", 1), real("label_smoothing", np.float32(0.5))
    (1.0, 0.5)
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        try:
            return float(value)
        except OverflowError:  # an int beyond float64
            pass
    raise BceError(f"{name} must be a number; got {_got(value)}")


def boolean(name: str, value: object) -> bool:
    """A switch (``sigmoid``): True or False.

    >>> boolean("sigmoid", np.True_)
    True
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise BceError(f"{name} must be True or False; got {_got(value)}")


def check(kind: type, name: str, value: object) -> object:
    """A loss's own option value (its :class:`~bcecli.losses.base.Param` kind), checked."""
    if kind is bool:
        return boolean(name, value)
    if kind is int:
        return integer(name, value)
    if kind is float:
        return real(name, value)
    return value


P = ParamSpec("P")
R = TypeVar("R")


def keywords_checked(fn: Callable[P, R]) -> Callable[P, R]:
    """An API function whose wrong arguments (an unknown keyword, a missing array) raise a
    :class:`BceError` naming the options it takes, instead of a TypeError."""
    signature = inspect.signature(fn)
    options = [n for n, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY]

    @functools.wraps(fn)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            unknown = [k for k in kwargs if k not in signature.parameters]
            what = (f"unknown option {', '.join(map(repr, unknown))}" if unknown
                    else str(exc))
            raise BceError(f"{fn.__name__}(input, target, ...): {what}; its options are "
                           f"{', '.join(options)}") from None
        return fn(*args, **kwargs)

    return checked


__all__ = ["DType", "Reduction", "boolean", "check", "dtype", "integer", "keywords_checked",
           "real", "reduction"]
