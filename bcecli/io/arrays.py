"""Array-likes from Python (the API's arrays) as float64, with nothing dropped, invented or
read as what it is not.

numpy's own ``np.asarray(value, dtype=float)`` reads the text ``'0.5'`` as a number, drops
a masked array's mask, takes the real part of complex numbers with only a warning, and
raises an OverflowError for an integer beyond float64: each of these is refused here with
a :class:`BceError` saying what was given and what to do.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError
from bcecli.io.source import index_locator

NUMERIC = "biuf"
"""The dtype kinds read as they are: bool, signed and unsigned integers, floats."""


def as_float64(value: object, name: str) -> NDArray[np.float64]:
    """``value`` (a number, nested lists, an array, anything numpy reads as one) as float64.

    >>> as_float64([[1, 2]], "input").tolist(), as_float64(np.float32(0.5), "input").tolist()
    ([[1.0, 2.0]], 0.5)
    """
    mask = np.ma.getmaskarray(value) if isinstance(value, np.ma.MaskedArray) else None
    if mask is not None and mask.any():
        n = int(np.count_nonzero(mask))
        raise BceError(f"{name}: a masked array with {n} of {mask.size} values masked; "
                       f"bcecli neither drops masked values nor invents them: pass "
                       f"a.filled(v) if they stand for v, or leave those elements out of "
                       f"the input and the target alike")
    if value is None:
        raise BceError(f"{name}: None is not an array of numbers")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise BceError(f"{name}: not an array of numbers ({exc})") from None
    kind = a.dtype.kind
    if kind in NUMERIC:
        with np.errstate(over="ignore"):  # (a long double beyond float64: inf, refused later)
            return a.astype(np.float64, copy=False)
    if kind == "c":
        raise BceError(f"{name}: not an array of numbers bcecli takes: it holds complex "
                       f"numbers ({a.dtype}); give the real part (a.real) if that is meant")
    if kind in "US":
        raise BceError(f"{name}: not an array of numbers: it holds text ({a.dtype}, e.g. "
                       f"{_short(a.reshape(-1)[0]) if a.size else 'nothing'}); convert it "
                       f"to numbers first")
    if kind != "O":
        raise BceError(f"{name}: not an array of numbers (dtype {a.dtype})")
    return _objects(a, name)


def _objects(a: NDArray[np.object_], name: str) -> NDArray[np.float64]:
    """An object array (Python ints beyond 64 bits, Decimals, Fractions, mixed items): each
    item a real number that float64 holds."""
    locate = index_locator(name)
    out = np.empty(a.shape, dtype=np.float64)
    for index, item in np.ndenumerate(a):
        where = locate(index) if a.ndim else name
        if item is None or isinstance(item, str | bytes | complex):
            raise BceError(f"{where}: {_short(item)} is not a number")
        try:
            out[index] = float(item)
        except OverflowError:
            raise BceError(f"{where}: {name} value {_short(item)} is beyond ±1.8e308, the "
                           f"largest float64") from None
        except (TypeError, ValueError) as exc:
            raise BceError(f"{where}: {_short(item)} is not a number ({exc})") from None
    return out


def _short(item: object) -> str:
    """An item as a message shows it: an integer of many digits by its size."""
    if isinstance(item, np.generic):
        item = item.item()
    if isinstance(item, int) and item.bit_length() > 64:
        if item.bit_length() > 13000:  # (str() refuses more than 4300 digits)
            digits = math.floor(item.bit_length() * math.log10(2)) + 1
            return f"{'a negative' if item < 0 else 'an'} integer of about {digits} digits"
        text = str(item)
        return f"{text[:9]}… ({len(text.lstrip('-'))} digits)"
    text = repr(item)
    return text if len(text) <= 40 else text[:37] + "..."
