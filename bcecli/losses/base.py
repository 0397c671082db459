"""The Loss protocol: what every loss module provides, and the options all losses share.

A loss is one module holding one :class:`Loss` subclass and its Python API function:

- its **help** (:class:`Help`): the formula, written once, which feeds ``--help``, the API
  docstring, ``--explain`` and the README (a test holds the README to it);
- its **params**: the options of its own (``--sigmoid``, ``--weight``), which become the
  API's keywords and the command's options;
- its **computation**: a plan made from the first blocks of the data (shapes, layout), then
  the terms of each block of rows, as PyTorch computes them;
- its **report**: the header, the tables (as :mod:`bcecli.report.specs`), the explanation
  lines and the JSON record of its options.

The engine (:mod:`bcecli.compute.engine`) and the renderers know losses only through this
class; :mod:`bcecli.losses` registers them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError
from bcecli.io.source import Block
from bcecli.losses import values
from bcecli.losses.values import DType as DType
from bcecli.losses.values import Reduction as Reduction
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import Shape

if TYPE_CHECKING:
    from bcecli.compute.outcome import Outcome, Row
    from bcecli.compute.streams import Streams
    from bcecli.report.specs import TableSpec

Array = NDArray[np.floating]


@dataclass(frozen=True)
class Options:
    """The options every loss takes; a loss with options of its own subclasses this."""

    reduction: Reduction = "mean"
    dtype: DType = "float64"


class Matrix:
    """The kind of a param that takes a matrix: an array in the API; on the command line a
    path, ``-``, inline JSON or a number, read like ``--input``."""


@dataclass(eq=False)
class Param:
    """One option of a loss: a keyword of its API function and an option of its command."""

    name: str
    """The keyword and the field of the loss's options (``pos_weight``)."""
    flags: tuple[str, ...]
    kind: type
    """``bool``, ``int``, ``float`` or :class:`Matrix`."""
    default: object
    help: str


@dataclass(eq=False)
class Help:
    """A loss's documentation, written once: help, API docstring, README and --explain."""

    title: str
    """One sentence: what it computes and which PyTorch loss it follows."""
    short: str
    """The line in ``bcecli --help``'s list of commands."""
    formula: tuple[str, ...]
    """The unreduced loss ℓ, one line each; the README states the same lines."""
    tex: tuple[str, ...] = ()
    """The same lines in LaTeX, for Markdown (``-f markdown --explain``)."""
    notes: tuple[str, ...] = ()
    """Shapes, reductions and PyTorch's quirks, one paragraph each."""
    examples: tuple[tuple[str, str], ...] = ()
    """Command lines (their arguments after ``bcecli``) and what each shows."""

    def text(self) -> str:
        """The help as one text (the API docstring, and the command's help)."""
        parts = [self.title, "\n".join(self.formula), *self.notes]
        return "\n\n".join(parts)


EVERY_ROW = "every row:"
"""The key prefix of a warning counted in rows (:attr:`BlockTerms.warnings`), said only when
every row of the input gives it: a suspicion about the whole input."""


@dataclass
class BlockTerms:
    """The terms of one block of rows, as a loss computes them, and what the report shows."""

    values: Array
    """(rows, k): each row's elementwise losses, row-major."""
    inputs: Array
    """(rows, ...): the input rows, as computed (in the dtype)."""
    targets: Array
    """(rows, ...): the target rows."""
    denominators: Array | None = None
    """(rows, k): what each term counts in the mean; None: each counts 1."""
    extras: dict[str, Array] = field(default_factory=dict)
    """(rows, ...): per-element options of the rows, for the breakdown (e.g. weights)."""
    warnings: list[tuple[str, str, int]] = field(default_factory=list)
    """(key, message, count): what PyTorch computes without a word."""
    parts: list[tuple[float, Array]] | None = None
    """Where PyTorch reduces a loss in parts, ``coefficient·reduce(part) + …`` (ce with
    label smoothing: the NLL and the smoothing term apart): each part (rows, k) with its
    coefficient; ``values`` is still the elementwise loss."""


@dataclass(eq=False)
class Paired:
    """A block of input rows with the matching target rows (and per-row option rows)."""

    start: int
    """The index of the block's first row in the whole input."""
    x: Block
    t: Block
    extras: Mapping[str, Block] = field(default_factory=dict)


@dataclass
class Groups:
    """A block's per-class sums for the summary: keys, the sums and counts of their values,
    and how many samples' most likely class is their target (None: not a class loss)."""

    keys: NDArray[np.int64]
    sums: NDArray[np.float64]
    counts: NDArray[np.int64]
    correct: int | None = None

    @classmethod
    def by_key(cls, keys: NDArray[np.int64], values: Array, size: int,
               correct: int | None = None) -> Groups:
        """Values summed by their keys (0 ≤ key < size), the keys that occur."""
        counts = np.bincount(keys, minlength=size)
        sums = np.bincount(keys, weights=values.astype(np.float64, copy=False), minlength=size)
        seen = np.flatnonzero(counts)
        return cls(seen.astype(np.int64), sums[seen].astype(np.float64),
                   counts[seen].astype(np.int64), correct)


class ShapeTrouble(Exception):
    """Shapes do not line up in the blocks seen; the full shapes are needed for a message."""


OptionsT = TypeVar("OptionsT", bound=Options)
P = TypeVar("P")


class Loss(ABC, Generic[OptionsT, P]):
    """A loss: its documentation, its options, its computation and its report."""

    name: ClassVar[str]
    """The command (``bce-logits``)."""
    torch_name: ClassVar[str]
    """The PyTorch module it follows (``BCEWithLogitsLoss``)."""
    help: ClassVar[Help]
    params: ClassVar[tuple[Param, ...]] = ()
    options_type: ClassVar[type[Options]] = Options
    binary_smoothing: ClassVar[bool] = False
    """Whether other libraries smooth this loss's binary labels (Keras' BCE), so that its
    command takes ``--label-smoothing`` for ``--like``."""

    @property
    def api_name(self) -> str:
        """The Python API function's name (``bce_logits``)."""
        return self.name.replace("-", "_")

    @property
    def matrix_params(self) -> tuple[Param, ...]:
        """The params that take a matrix (weights)."""
        return tuple(p for p in self.params if p.kind is Matrix)

    def make_options(self, given: Mapping[str, Any]) -> OptionsT:
        """This loss's options from keyword values (matrix params are not among them),
        checked before any data is read: each value of the type its option takes (a
        :class:`BceError` otherwise, never a value read as something else), then
        :meth:`check_options`."""
        names = {f.name for f in fields(self.options_type)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise BceError(f"{self.name}: unknown option {', '.join(map(repr, unknown))}; its "
                           f"options are {', '.join(sorted(names))}")
        kinds = {p.name: p.kind for p in self.params}
        checked: dict[str, Any] = {}
        for name, value in given.items():
            if name == "reduction":
                checked[name] = values.reduction(value)
            elif name == "dtype":
                checked[name] = values.dtype(value)
            else:
                checked[name] = values.check(kinds.get(name, object), name, value)
        opts = cast(OptionsT, self.options_type(**checked))
        self.check_options(opts)
        return opts

    def opts(self, outcome: Outcome) -> OptionsT:
        """The options of an outcome of this loss, as this loss's options type."""
        return cast(OptionsT, outcome.options)

    def check_options(self, opts: OptionsT) -> None:
        """Refuse option values that no data can make right (a usage error)."""

    # ---------------------------------------------------------------- computing

    def adapt(self, opts: OptionsT, streams: Streams, text: frozenset[str]) -> None:
        """Reshape the streams before planning (a ce target read from CSV); default none.

        ``text``: which of ``input``, ``target`` and the matrix params were read from
        delimited text, which holds rows of fields (2-D, whatever shape it stands for).
        """

    def whole(self, first_x: Block) -> bool:
        """True when the input must be read as one block (a vector or scalar input)."""
        return first_x.data.ndim < 2

    @abstractmethod
    def plan(self, opts: OptionsT, first_x: Block, first_t: Block, extras: Mapping[str, Block],
             text: frozenset[str]) -> P:
        """What the shapes of the first blocks decide (raises ShapeTrouble, or BceError).

        ``extras``: the matrix params read whole; ``text`` as for :meth:`adapt`.
        """

    def by_rows(self, param: str, first: Block, more: bool, x_ndim: int) -> bool:
        """True when a matrix param's rows go with the input's rows (streamed beside them);
        ``more``: whether it has blocks after ``first``."""
        return False

    @abstractmethod
    def terms(self, opts: OptionsT, plan: P, block: Paired) -> BlockTerms:
        """The terms of a block of rows (raises BceError for bad values, ShapeTrouble)."""

    @abstractmethod
    def grad(self, opts: OptionsT, plan: P, block: Paired, denominator: float) -> Array:
        """∂L/∂x for a block's input rows (the block's shape), as PyTorch's backward gives
        it: L the reported loss, Σℓ for reduction none; ``denominator`` the mean's."""

    @abstractmethod
    def grad_rule(self, outcome: Outcome) -> str:
        """The gradient's formula for this outcome, e.g. ``∂L/∂x = (σ(x) − y)/9``."""

    @abstractmethod
    def grad_lines(self, outcome: Outcome, row: Row, p: int) -> Iterator[str]:
        """A kept row's gradient written out, for --explain."""

    @abstractmethod
    def element_shape(self, input_shape: Shape) -> Shape:
        """The shape of the elementwise loss for an input of this shape."""

    @abstractmethod
    def check_shapes(self, opts: OptionsT, x_shape: Shape, t_shape: Shape,
                     extra_shapes: Mapping[str, Shape]) -> None:
        """Check the whole shapes once all rows are read; raise BceError with a message."""

    def nan_reason(self, outcome: Outcome) -> str:
        """Why a mean divides by 0."""
        return "there are no terms (the input is empty)"

    # ---------------------------------------------------------------- reporting

    @abstractmethod
    def header(self, outcome: Outcome) -> list[str]:
        """The breakdown's first line, in parts: the loss and the options that shape it."""

    @abstractmethod
    def tables(self, outcome: Outcome, p: int) -> list[TableSpec]:
        """The tables of the breakdown, ``p`` decimals."""

    @abstractmethod
    def explain(self, outcome: Outcome, p: int, n: Notation = TEXT) -> Iterator[str]:
        """The lines of the hand calculation, between the header and the final line, in
        the notation ``n`` (text, or Markdown with LaTeX math); a line indented is a step
        of the one above."""

    def formula(self, n: Notation) -> tuple[str, ...]:
        """The help's formula lines in the notation ``n``."""
        return self.help.tex if n.tex else self.help.formula

    def mean_division(self, outcome: Outcome, p: int) -> str | None:
        """How the mean divides the sum, written out (``Σ ℓ / Σ w[y] = 3 / 2 = 1.5``), when
        it is not by the number of terms; None when it is."""
        return None

    def summary(self, outcome: Outcome, p: int) -> str | None:
        """The last line for a mean, when the mean is not ``mean of N terms``."""
        division = self.mean_division(outcome, p)
        return None if division is None else f"mean = {division}"

    def final(self, outcome: Outcome, shown: list[Row], p: int, n: Notation = TEXT
              ) -> str | None:
        """The reduction of a few shown rows written out (``(a + b) / 2 = …``), or None."""
        return None

    # ---------------------------------------------------------------- samples

    terms_are_samples: ClassVar[bool] = False
    """Whether each term is a sample (the losses over classes: one term per position);
    else a sample is a row of the input."""

    def groups(self, opts: OptionsT, plan: P, bt: BlockTerms, counted: Array) -> Groups:
        """A block's values grouped for the summary's per-class means (summed per key),
        and how many counted samples' most likely class is their target (None where that
        means nothing).  ``counted``: which samples count (ignored ones not)."""
        return Groups(np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64), None)

    def group_label(self, outcome: Outcome, key: int) -> str:
        """What a group key of :meth:`groups` stands for, for people."""
        return str(key)

    def sample_fields(self, opts: OptionsT, plan: P, inputs: Array, targets: Array
                      ) -> dict[str, Array]:
        """Rows' (``(n, ...)``) targets and predictions, one entry per sample (a row, or a
        position for the losses over classes), for the worst samples and per-sample
        output."""
        n = inputs.shape[0]
        return {"target": targets.reshape(n, math.prod(targets.shape[1:])),
                "input": inputs.reshape(n, math.prod(inputs.shape[1:]))}

    @abstractmethod
    def json_options(self, outcome: Outcome) -> dict[str, object]:
        """The options that shaped the number, for JSON: enough to run it again."""

