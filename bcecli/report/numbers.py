"""Numbers and shapes as text: the one formatting family every message and output uses.

Two kinds of text, one function each:

- :func:`exact` — the shortest text that reads back as the same number in the dtype
  (``0.7193247832556007``; in float32 ``0.7193248``): values as the user typed them, and
  machine output.  ``whole=True`` writes whole numbers without a decimal point (``2``), as
  people type them in messages.
- :func:`rounded` — a computed number for people, with ``p`` decimals, switching to
  scientific notation where fixed decimals would hide it.

:func:`echo` chooses between them for a given value shown in a formula.  Nothing here
imports rich, so every layer may use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

Shape = tuple[int, ...]


def exact(v: float, dtype: str = "float64", whole: bool = False) -> str:
    """The shortest text that reads back as ``v`` in ``dtype``; ``nan``, ``inf``, ``-inf``.

    >>> exact(0.7193247832556007), exact(0.7193248271942139, "float32"), exact(2.0)
    ('0.7193247832556007', '0.7193248', '2.0')
    >>> exact(2.0, whole=True), exact(1.5, whole=True), exact(float("nan"), whole=True)
    ('2', '1.5', 'nan')
    """
    f = float(v)
    if math.isnan(f):
        return "nan"
    if whole and f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    if dtype == "float32":
        return str(np.float32(f))
    return repr(f)


def rounded(v: float, p: int) -> str:
    """A computed number with ``p`` decimals, or in scientific notation when that hides it.

    >>> rounded(0.71932478, 4), rounded(1e300, 4), rounded(3e-9, 4), rounded(0.0, 4)
    ('0.7193', '1.0000e+300', '3.0000e-09', '0.0000')
    >>> rounded(float("nan"), 4), rounded(float("-inf"), 2)
    ('nan', '-inf')

    Never a negative zero: −0.0 is 0, and a number that is not 0 but rounds to it (even
    to a negative zero, as −5e−07 does at 6 decimals) is written in scientific notation:

    >>> rounded(-0.0, 6), rounded(-5e-07, 6), rounded(-4e-05, 4), rounded(-6e-05, 4)
    ('0.000000', '-5.000000e-07', '-4.0000e-05', '-0.0001')
    """
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return f"{0.0:.{p}f}"  # (−0.0 too: a sign on nothing says nothing)
    if abs(v) >= 1e7:
        return f"{v:.{max(p, 1)}e}"
    text = f"{v:.{p}f}"
    if p > 0 and not text.strip("-0."):  # not 0, but all its digits would be
        return f"{v:.{p}e}"
    return text


def echo(v: float, dtype: str, p: int) -> str:
    """A given value in a formula: as typed when that is short, else rounded like the rest.

    >>> [echo(v, "float64", 4) for v in (-0.4089, 1e-05, 0.45527732372283936, 2.0)]
    ['-0.4089', '1e-05', '0.4553', '2']
    """
    text = exact(v, dtype, whole=True)
    return text if len(text.lstrip("-")) <= p + 4 else rounded(v, p)


def count(v: float, p: int) -> str:
    """A count or a sum of weights: whole numbers without decimals.

    >>> count(4.0, 4), count(2.5, 4)
    ('4', '2.5000')
    """
    return exact(v, whole=True) if float(v).is_integer() else rounded(v, p)


_SIGN = re.compile(r"-(?=[0-9.(]|inf)")


def minus(text: str) -> str:
    """Typographic minus signs, for formulas written out: each ``-`` before a number (not
    the hyphens of words).

    >>> minus("-1.5e-05"), minus("(-inf + -(2)) for log-probabilities")
    ('−1.5e−05', '(−inf + −(2)) for log-probabilities')
    """
    return _SIGN.sub("−", text)


def computed(v: float, p: int) -> str:
    """A computed number inside a formula: rounded, typographic minus, in parentheses when
    negative (``a + (−0.0259)``).

    >>> computed(-0.02591, 4), computed(2.0, 1)
    ('(−0.0259)', '2.0')
    """
    s = minus(rounded(v, p))
    return f"({s})" if s.startswith("−") else s


def added(values: list[float], p: int, text: Callable[[float, int], str] = rounded) -> str:
    """Numbers written as a sum, ``a + (−b) + c``: typographic minus, negative ones after the
    first in parentheses.

    >>> added([-0.5, -1.25, 2.0], 2)
    '−0.50 + (−1.25) + 2.00'
    """
    out = [minus(text(v, p)) for v in values]
    return " + ".join(t if i == 0 or not t.startswith("−") else f"({t})"
                      for i, t in enumerate(out))


def shape(s: Shape) -> str:
    """A shape as people write it.

    >>> shape((3, 2)), shape(()), shape((4,))
    ('(3, 2)', '() (a scalar)', '(4,)')
    """
    if not s:
        return "() (a scalar)"
    return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"


def plural(n: int, word: str) -> str:
    """``1 term``, ``9 terms``.

    >>> plural(1, "term"), plural(9, "term")
    ('1 term', '9 terms')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


ASCII = str.maketrans({
    "−": "-", "×": "*", "·": "*", "ℓ": "l", "σ": "sigmoid", "Σ": "sum ", "ε": "eps",
    "…": "...", "⋮": ":", "≥": ">=", "≤": "<=", "±": "+/-", "→": "->", "≈": "~", "∂": "d",
    "√": "sqrt", "∞": "inf", "ᵢ": "_i", "ⱼ": "_j", "—": "-",
    **{chr(0x2080 + d): str(d) for d in range(10)},  # subscript digits
    **dict.fromkeys("─━═", "-"), **dict.fromkeys("│┃║", "|"),
    **dict.fromkeys("┌┐└┘├┤┬┴┼┏┓┗┛┣┫┳┻╋┡┩╇╭╮╰╯╔╗╚╝", "+"),
})
"""The ASCII forms of the symbols bcecli writes (``--ascii``, or a stream that cannot
encode them)."""


def to_ascii(text: str) -> str:
    """Text in ASCII: bcecli's symbols as words and signs, anything else escaped.

    >>> to_ascii("ℓ = −[y·ln σ(x)]  ⋮  Σ w")
    'l = -[y*ln sigmoid(x)]  :  sum  w'
    >>> to_ascii("BCELoss · float64")
    'BCELoss | float64'
    >>> to_ascii("café")
    'caf\\\\xe9'
    """
    out = text.replace(" · ", " | ").translate(ASCII)  # (a header's separators)
    return out if out.isascii() else out.encode("ascii", "backslashreplace").decode("ascii")


def encodes(stream: object, text: str = "ℓσ−×Σ…⋮·━┃") -> bool:
    """Whether a text stream can write bcecli's symbols (a stream with no encoding: yes).

    >>> import io
    >>> encodes(io.StringIO()), encodes(io.TextIOWrapper(io.BytesIO(), encoding="cp1252"))
    (True, False)
    """
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: what a stream cannot encode, in its ASCII form."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return to_ascii(error.object[error.start:error.end]), error.end


_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


def subscript(index: tuple[int, ...]) -> str:
    """An element's index as subscripts: ``x₀₂``; with commas once an index has two digits.

    >>> subscript((0, 2)), subscript((12, 3)), subscript(())
    ('₀₂', '₁₂,₃', '')
    """
    sep = "," if any(i > 9 for i in index) else ""
    return sep.join(map(str, index)).translate(_SUB)
