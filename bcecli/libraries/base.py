"""The Library protocol: how one framework computes the losses bcecli computes.

bcecli computes every loss as PyTorch does.  Other libraries compute "the same" loss under
rules of their own (Keras clips probabilities and averages over the last axis first,
scikit-learn clips to the dtype's eps, optax does not reduce at all), and the numbers
differ.  A library module says, for a :class:`Case` (the data and the options as bcecli
read them, in PyTorch's layout):

- what of it that library cannot express (:meth:`Library.lacks`);
- the equivalent call, as its users write it (:meth:`Library.call`);
- the loss under its rules, in its dtype, with the rules that acted on this data
  (:meth:`Library.compute`);
- a runnable snippet that recomputes it in that library (:meth:`Library.emit`).

Each computation here is numpy, written to follow the library's own operations in order
and in its dtype; golden values from the real libraries (``scripts/gen_libraries.py``)
hold each to them.  :mod:`bcecli.libraries` registers the modules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, cast

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError

F64 = NDArray[np.float64]
Array = NDArray[np.floating]


@dataclass(eq=False)
class Case:
    """One loss on one set of data, as bcecli read it (PyTorch's layout: classes on axis 1).

    ``x`` and ``t`` are the input and the target as read, in float64; for ``ce`` and
    ``nll`` with class-index targets ``t`` holds the indices.
    """

    loss: str
    """The command: ``bce``, ``bce-logits``, ``ce`` or ``nll``."""
    x: F64
    t: F64
    reduction: str = "mean"
    sigmoid: bool = False
    """``bce --sigmoid``: x holds logits."""
    probabilities: bool = False
    """ce: the target holds class probabilities (else class indices)."""
    label_smoothing: float = 0.0
    sample_weight: F64 | None = None
    """One weight per sample, shape (N,) (Keras' and scikit-learn's ``sample_weight``)."""
    ignore_index: int = -100
    torch_only: list[str] = field(default_factory=list)
    """Options given that only PyTorch has (``--weight``, ``--pos-weight``)."""
    options: dict[str, object] = field(default_factory=dict)
    """The PyTorch loss's own options as bcecli's API takes them (``weight`` as an
    array, ``sigmoid``, ``ignore_index``), for the torch rules."""

    classes: bool = False
    """A loss over classes (ce, nll: classes on axis 1), not one of binary elements."""

    @property
    def logits(self) -> bool:
        """True when x holds logits (bce-logits, bce --sigmoid, ce)."""
        return self.loss != "bce" or self.sigmoid

    @property
    def ignored(self) -> int:
        """How many class-index targets equal the ignore index."""
        if not self.classes or self.probabilities:
            return 0
        return int(np.count_nonzero(self.t == self.ignore_index))


@dataclass(eq=False)
class Rule:
    """A rule of a library that acted on this data, in a few words and measured.

    ``key`` names the rule across libraries (``clip``, ``float32``, ``sample weights``) so
    that --compare can say which one makes two numbers differ."""

    key: str
    text: str


@dataclass(eq=False)
class LibOutcome:
    """The loss under a library's rules."""

    library: str
    call: str
    """The equivalent call (``keras.losses.BinaryCrossentropy()(y, p)``)."""
    dtype: str
    loss: float
    """The reduced loss (NaN for reduction none)."""
    values: Array | None
    """The unreduced values the library gives (reduction none), else None."""
    per_sample: Array
    """What the library reduces: its per-sample values (after Keras' last-axis mean), in
    the dtype, flattened."""
    rules: list[Rule] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    """The calculation in a few lines, for --explain."""


class Library(ABC):
    """A library's rules for the losses bcecli computes."""

    name: ClassVar[str]
    """The value of ``--like`` (``keras``)."""
    title: ClassVar[str]
    """How people call it (``Keras 3``)."""
    default_dtype: ClassVar[str]
    """What the library computes in when the user does not say (``float32``)."""
    summary: ClassVar[tuple[tuple[str, str], ...]]
    """The library's rules by topic (formula, clipping, reduction, weights, smoothing), for
    the README's table and ``--like`` help."""

    def lacks(self, case: Case) -> str | None:
        """What of the case this library cannot express (a sentence), or None."""
        return None

    def refuse(self, case: Case) -> None:
        """Raise a BceError naming the library and what it lacks, if it lacks anything."""
        reason = self.lacks(case)
        if reason is not None:
            raise BceError(f"{self.title} cannot express this: {reason}")

    @abstractmethod
    def call(self, case: Case, dtype: str) -> str:
        """The equivalent call, as its users write it."""

    @abstractmethod
    def compute(self, case: Case, dtype: str) -> LibOutcome:
        """The loss under the library's rules, in ``dtype`` (the case is expressible)."""

    @abstractmethod
    def emit(self, case: Case, dtype: str, data: str) -> str:
        """A runnable snippet; ``data`` is the code that defines ``x``, ``t`` (and
        ``sample_weight``) as numpy arrays, which the snippet starts with."""


SHOWN_POSITIONS = 4
"""Positions a rule names of the elements it changed, before "…"."""


def clip_rule(lo_text: str, values: Array, lo: float, hi: float, hi_text: str = "",
              shape: tuple[int, ...] | None = None) -> Rule | None:
    """The clip of probabilities to [lo, hi], if it changed any element, with where (the
    first few positions, in ``shape``: the input's, which ``values`` flattens).

    >>> clip_rule("1e-7", np.array([0.0, 0.5, 1.0]), 1e-7, 1 - 1e-7).text
    'clip to [1e-7, 1 − 1e-7] changed 2 of 3 elements: [0], [2]'
    """
    hit = np.flatnonzero((values < lo) | (values > hi))
    if not hit.size:
        return None
    high = hi_text or f"1 − {lo_text}"
    where = np.unravel_index(hit[:SHOWN_POSITIONS], shape or values.shape)
    positions = ", ".join("[" + ", ".join(str(int(i[k])) for i in where) + "]"
                          for k in range(min(hit.size, SHOWN_POSITIONS)))
    more = ", …" if hit.size > SHOWN_POSITIONS else ""
    return Rule("clip", f"clip to [{lo_text}, {high}] changed {hit.size} of {values.size} "
                        f"element{'s' if values.size != 1 else ''}: {positions}{more}")


def reduce(values: Array, reduction: str, dtype: str) -> float:
    """A plain mean or sum of values, in the dtype (the sum is taken in float64, then
    rounded: within one rounding of the library's own order)."""
    total = float(np.sum(values, dtype=np.float64))
    if reduction == "mean":
        total = total / values.size if values.size else float("nan")
    return float(np.dtype(dtype).type(total))


def log_sigmoid(x: Array) -> Array:
    """``jax.nn.log_sigmoid``: −softplus(−x), softplus(z) = logaddexp(z, 0), in x's dtype.

    >>> log_sigmoid(np.array([0.0, -1000.0, 1000.0])).tolist()
    [-0.6931471805599453, -1000.0, -0.0]
    """
    z = -x
    zero = np.zeros_like(z)
    amax = np.maximum(z, zero)
    delta = z - zero
    soft = np.where(np.isnan(delta), z + zero, amax + np.log1p(np.exp(-np.abs(delta))))
    return cast(Array, -soft)


def log_softmax(x: Array, axis: int = -1) -> Array:
    """``jax.nn.log_softmax``: shifted = x − max(x); shifted − log(Σ exp(shifted)).

    >>> log_softmax(np.array([[0.0, 0.0]])).round(4).tolist()
    [[-0.6931, -0.6931]]
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return cast(Array, shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)))


def classes_last(a: Array) -> Array:
    """PyTorch's (N, C, d1, ...) as the (N, d1, ..., C) the other libraries take.

    >>> classes_last(np.zeros((2, 3, 4))).shape
    (2, 4, 3)
    """
    return np.moveaxis(a, 1, -1) if a.ndim > 2 else a


def one_hot(t: Array, classes: int, dtype: str) -> Array:
    """Class indices as one-hot rows (classes last)."""
    return cast(Array, (np.arange(classes) == t[..., None]).astype(dtype))


def as_dtype(a: Array | None, dtype: str) -> Array | None:
    """An array in the dtype (None stays None)."""
    return None if a is None else np.asarray(a, dtype=dtype)
