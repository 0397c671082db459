"""The Library protocol: how one framework computes the losses bcecli computes.

bcecli computes every loss as PyTorch does.  Other libraries compute "the same" loss under
rules of their own (Keras clips probabilities and averages over the last axis first,
scikit-learn clips to the dtype's eps, optax does not reduce at all), and the numbers
differ.  A library module says, for a :class:`Case` (the options and shapes as bcecli
read them, in PyTorch's layout):

- what of it that library cannot express (:meth:`Library.lacks`; what only the data shows,
  a soft target for scikit-learn say, its computation raises as :class:`Lacking`);
- the equivalent call, as its users write it (:meth:`Library.call`);
- the loss under its rules, in its dtype, with the rules that acted on this data: an
  :class:`Accumulator` fed the blocks of rows as bcecli reads them, in bounded memory
  (:meth:`Library.start`);
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
    """One loss on one set of data as bcecli reads it (PyTorch's layout: classes on axis 1):
    the options and the shapes.  The data goes block by block to an :class:`Accumulator`:
    rows of the input and of the target in float64 (for ``ce`` and ``nll`` with class-index
    targets, the indices)."""

    loss: str
    """The command: ``bce``, ``bce-logits``, ``ce`` or ``nll``."""
    shape: tuple[int, ...]
    """The input's shape."""
    reduction: str = "mean"
    sigmoid: bool = False
    """``bce --sigmoid``: x holds logits."""
    probabilities: bool = False
    """ce: the target holds class probabilities (else class indices): it has the input's
    shape, PyTorch's rule (known with the first block)."""
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
    ignored: int = 0
    """How many class-index targets equal the ignore index (known once the data is read)."""
    unbatched: bool = False
    """A class input of one sample without its batch axis, (C,): its unreduced value is a
    scalar, as in PyTorch."""

    @property
    def logits(self) -> bool:
        """True when x holds logits (bce-logits, bce --sigmoid, ce)."""
        return self.loss != "bce" or self.sigmoid

    @property
    def size(self) -> int:
        """The number of input values."""
        return int(np.prod(self.shape))


class Lacking(Exception):
    """What only the data shows a library cannot express (a soft target for scikit-learn,
    an ignored target for optax): its message says what."""


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
    """How people call it (``Keras``)."""
    default_dtype: ClassVar[str]
    """What the library computes in when the user does not say (``float32``)."""
    summary: ClassVar[tuple[tuple[str, str], ...]]
    """The library's rules by topic (formula, clipping, reduction, weights, smoothing), for
    the README's table."""

    def lacks(self, case: Case) -> str | None:
        """What of the case's options this library cannot express (a sentence), or None."""
        return None

    def refuse(self, case: Case) -> None:
        """Raise a BceError naming the library and what it lacks, if it lacks anything."""
        reason = self.lacks(case)
        if reason is not None:
            raise self.cannot(reason)

    def cannot(self, reason: str) -> BceError:
        """The error that says the library cannot express the case, and why."""
        return BceError(f"{self.title} cannot express this: {reason}")

    @abstractmethod
    def call(self, case: Case, dtype: str) -> str:
        """The equivalent call, as its users write it."""

    @abstractmethod
    def start(self, case: Case, dtype: str) -> Accumulator:
        """A computation under the library's rules in ``dtype``, to be fed the blocks (the
        case's options are expressible)."""

    def compute(self, case: Case, dtype: str, x: Array, t: Array) -> LibOutcome:
        """The loss of whole arrays under the library's rules (raises Lacking)."""
        x64, t64 = np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64)
        case.unbatched = case.classes and x64.ndim == 1
        x64, t64 = as_rows(case, x64, t64)
        case.probabilities = case.classes and t64.shape == x64.shape
        case.shape, case.ignored = x64.shape, ignored_in(t64, case)
        acc = self.start(case, dtype)
        acc.add(x64, t64, 0)
        return acc.finish()

    @abstractmethod
    def emit(self, case: Case, dtype: str, data: str) -> str:
        """A runnable snippet; ``data`` is the code that defines ``x``, ``t`` (and
        ``w``, the sample weights) as numpy arrays, which the snippet starts with."""


class Accumulator(ABC):
    """A library's computation over the blocks of a run: each block's elementwise part as
    it comes, keeping only what the library reduces (a value per sample), then the
    reduction over all of them at once, as the library does it."""

    def __init__(self, library: Library, case: Case, dtype: str) -> None:
        self.library, self.case, self.dtype = library, case, dtype
        self.parts: list[Array] = []
        self.steps: list[str] = []
        self.clips = Clips()

    @abstractmethod
    def add(self, x: F64, t: F64, start: int) -> None:
        """A block of rows (``start``: the index of its first row); raises Lacking."""

    @abstractmethod
    def finish(self) -> LibOutcome:
        """The loss (raises Lacking)."""

    def kept(self) -> Array:
        """The values kept from every block, in order, as one array."""
        if not self.parts:
            return np.empty(0, dtype=self.dtype)
        return np.concatenate(self.parts)

    def outcome(self, loss: float, values: Array | None, per_sample: Array,
                rules: list[Rule]) -> LibOutcome:
        """The outcome, with the call and the steps."""
        if values is not None and self.case.unbatched:
            values = values.reshape(())
        return LibOutcome(self.library.name, self.library.call(self.case, self.dtype),
                          self.dtype, loss, values, np.asarray(per_sample).reshape(-1), rules,
                          self.steps)


SHOWN_POSITIONS = 4
"""Positions a rule names of the elements it changed, before "…"."""


@dataclass(eq=False)
class Clips:
    """Where a clip changed elements: how many, of how many, and the first positions."""

    changed: int = 0
    of: int = 0
    first: list[tuple[int, ...]] = field(default_factory=list)

    def add(self, values: Array, lo: float, hi: float, start: int) -> None:
        """Count a block's elements outside [lo, hi]; their positions are the block's,
        its first axis offset by ``start``."""
        hit = np.flatnonzero((values < lo) | (values > hi))
        self.changed += int(hit.size)
        self.of += int(values.size)
        room = SHOWN_POSITIONS - len(self.first)
        if room > 0 and hit.size:
            where = np.unravel_index(hit[:room], values.shape)
            for k in range(min(room, hit.size)):
                index = [int(i[k]) for i in where]
                self.first.append((index[0] + start, *index[1:]) if index else ())

    def rule(self, lo_text: str, hi_text: str) -> Rule | None:
        """The rule, if the clip changed anything.

        >>> c = Clips()
        >>> c.add(np.array([[0.0, 0.5], [1.0, 0.2]]), 1e-7, 1 - 1e-7, 3)
        >>> c.rule("1e-7", "1 − 1e-7").text
        'clip to [1e-7, 1 − 1e-7] changed 2 of 4 elements: [3, 0], [4, 0]'
        """
        if not self.changed:
            return None
        positions = ", ".join("[" + ", ".join(map(str, i)) + "]" for i in self.first)
        more = ", …" if self.changed > len(self.first) else ""
        return Rule("clip", f"clip to [{lo_text}, {hi_text}] changed {self.changed} of "
                            f"{self.of} element{'s' if self.of != 1 else ''}: "
                            f"{positions}{more}")


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


def class_targets(case: Case, t: F64, classes: int, dtype: str) -> Array:
    """A block's targets as rows of class probabilities, classes last: the probabilities
    given, or class indices one-hot (what CategoricalCrossentropy and softmax_cross_entropy
    take)."""
    if case.probabilities:
        return classes_last(np.asarray(t, dtype=dtype))
    return one_hot(t, classes, dtype)


def as_dtype(a: Array | None, dtype: str) -> Array | None:
    """An array in the dtype (None stays None)."""
    return None if a is None else np.asarray(a, dtype=dtype)


def as_rows(case: Case, x: F64, t: F64) -> tuple[F64, F64]:
    """Data as rows of samples: a scalar as one element, an unbatched (C,) class input as
    one sample (PyTorch's reading of both).

    >>> [a.shape for a in as_rows(Case("ce", (), classes=True), np.zeros(3), np.zeros(()))]
    [(1, 3), (1,)]
    """
    if x.ndim == 0:
        return x.reshape(1), t.reshape(1)
    if case.classes and x.ndim == 1:
        return x[None, :], t[None, :] if t.ndim == 1 else t.reshape(1)
    return x, t


def ignored_in(t: F64, case: Case) -> int:
    """How many class-index targets of a block equal the ignore index."""
    if not case.classes or case.probabilities:
        return 0
    return int(np.count_nonzero(t == case.ignore_index))
