"""What the losses over classes share (ce, nll): the class axis, class-index targets read
by PyTorch's rules, class weights, the ignore index, and one line per sample in the report.

Input (N, C), (C,) or (N, C, d1, ...); the loss has a term per *position*: per sample, and
per (d1, ...) for K-dimensional inputs.  A loss module subclasses :class:`ClassLoss` and
says how a position's term is computed from its C values.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from numpy.typing import NDArray

from bcecli.errors import BceError
from bcecli.io.source import Block, Locator, index_locator
from bcecli.losses import checks
from bcecli.losses.base import (
    EVERY_ROW,
    Array,
    BlockTerms,
    Groups,
    Loss,
    Matrix,
    Options,
    Paired,
    Param,
    ShapeTrouble,
)
from bcecli.losses.numerics import exp
from bcecli.report.display import flat, shape_or_none
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import count, exact, minus, plural, rounded, subscript
from bcecli.report.numbers import shape as fmt_shape

if TYPE_CHECKING:
    from bcecli.compute.outcome import Outcome, Row
    from bcecli.compute.streams import Streams

Shape = tuple[int, ...]
EXACT = 2**53
"""Targets are read as float64, which holds every integer of magnitude below 2**53 and
rounds some beyond it (9007199254740993 is read as 9007199254740992)."""
MAX_POSITIONS = 10
"""Positions of a K-dimensional sample shown before the middle ones are hidden."""

CLASS_WEIGHT = Param("weight", ("--weight", "-w"), Matrix, None,
                     "One weight per class, shape (C,) (in CSV a row or a column).")
IGNORE_INDEX = Param("ignore_index", ("--ignore-index",), int, -100,
                     "Class-index targets equal to this are skipped (not counted in the mean).")


@dataclass(frozen=True)
class ClassOptions(Options):
    """The options of every loss over classes."""

    ignore_index: int = -100


OptionsT = TypeVar("OptionsT", bound=ClassOptions)


def check_ignore_index(ignore_index: int) -> None:
    """An ignore index that a target read as float64 can be told apart from: of magnitude
    below 2**53 (PyTorch, whose targets are int64, takes any 64-bit one).

    >>> check_ignore_index(-100)
    """
    if abs(ignore_index) >= EXACT:
        raise BceError(
            f"--ignore-index {ignore_index} is out of range: targets are read as float64 numbers, "
            f"which hold whole numbers exactly only below 2**53 = {EXACT}, so a target "
            f"could not be told apart from it (9007199254740993 reads as 9007199254740992); "
            f"give an ignore index between -{EXACT - 1} and {EXACT - 1}, such as the "
            f"default -100")


@dataclass(eq=False)
class ClassLayout:
    """How an input and its target line up: the class axis is 1 for (N, C, d1, ...) and 0
    for a (C,) input; there is one term per position, shape ``element_shape``."""

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

    def _instead(self) -> str:
        """What to give instead of class indices that are not whole: the shape of class
        probabilities, as far as it is known here (the rows of a block are not the input's;
        the whole input is known only for a vector).

        >>> ClassLayout((11646, 5), False)._instead()
        " (or give class probabilities, of the input's shape (…, 5))"
        """
        s = self.input_shape
        shown = fmt_shape(s) if len(s) == 1 else "(…, " + ", ".join(map(str, s[1:])) + ")"
        if self.n_classes == 1:  # (a CSV column of one class is class indices)
            return (f" (or give class probabilities, of the input's shape {shown}, as JSON or "
                    f".npy: CSV reads a single column as class indices)")
        return f" (or give class probabilities, of the input's shape {shown})"

    def classes_last(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        """Values as (M, C), positions in row-major order of the element shape."""
        if x.ndim == 1:
            return x.reshape(1, -1)
        positions = math.prod((x.shape[0], *x.shape[2:]))  # explicit: C may be 0
        return np.moveaxis(x, 1, -1).reshape(positions, self.n_classes)

    def back(self, g: NDArray[np.floating], shape: Shape) -> NDArray[np.floating]:
        """Values laid out by :meth:`classes_last` (M, C) back in the input's layout."""
        if len(shape) == 1:
            return g.reshape(shape)
        out: NDArray[np.floating] = np.moveaxis(g.reshape(shape[0], *shape[2:], shape[1]), -1, 1)
        return out

    def class_indices(self, t: NDArray[np.floating], ignore_index: int,
                      locate: Locator | None = None, probabilities: bool = False
                      ) -> NDArray[np.int64]:
        """Class-index targets as a flat int64 array, checked to be whole and in range;
        ``probabilities``: whether the loss takes class probabilities instead (ce)."""
        loc = locate or index_locator("target")
        c = self.n_classes
        checks.check_finite(t, "target", loc)
        bad = checks.first_index(t != np.floor(t))
        if bad is not None:
            raise BceError(f"{loc(bad)}: target {exact(t[bad], whole=True)} is not a whole "
                           f"number; class-index targets must be integers"
                           f"{self._instead() if probabilities else ''}")
        # compared as float64, exactly: t is whole and |ignore_index| < 2**53
        bad = checks.first_index(((t < 0) | (t >= c)) & (t != ignore_index))
        if bad is not None:
            got, where = _whole(float(t[bad])), loc(bad)
            if c == 0:
                raise BceError(f"{where}: the input has no classes (C = 0), so every target "
                               f"must be the ignore index {ignore_index}; got {got}")
            raise BceError(f"{where}: target class {got} is out of range for {c} classes "
                           f"(valid: 0 to {c - 1}, or the ignore index {ignore_index})")
        return t.reshape(-1).astype(np.int64)


@dataclass(eq=False)
class ClassPlan:
    """Whether targets are class probabilities, and the class weights (cast, shape (C,))."""

    probabilities: bool
    class_weight: Array | None
    n_classes: int


@dataclass(eq=False)
class Terms:
    """The terms of M positions and what each counts in the mean (None: each counts 1)."""

    values: Array
    denominators: Array | None = None
    parts: list[tuple[float, Array]] | None = None
    """Where PyTorch reduces the terms in parts (see :attr:`BlockTerms.parts`)."""


class ClassLoss(Loss[OptionsT, ClassPlan]):
    """A loss over the classes of each position (ce, nll)."""

    accepts_probabilities = False

    def check_options(self, opts: OptionsT) -> None:
        check_ignore_index(opts.ignore_index)

    @abstractmethod
    def index_terms(self, opts: OptionsT, plan: ClassPlan, x: Array, idx: NDArray[np.int64]
                    ) -> Terms:
        """The terms of positions x (M, C) with class-index targets idx (M,)."""

    def prob_terms(self, opts: OptionsT, plan: ClassPlan, x: Array, t: Array) -> Terms:
        """The terms of positions x (M, C) with class-probability targets t (M, C)."""
        raise NotImplementedError

    @abstractmethod
    def index_grad(self, opts: OptionsT, plan: ClassPlan, x: Array, idx: NDArray[np.int64],
                   denominator: float) -> Array:
        """∂L/∂x of positions x (M, C) with class-index targets, PyTorch's backward."""

    def prob_grad(self, opts: OptionsT, plan: ClassPlan, x: Array, t: Array,
                  denominator: float) -> Array:
        """∂L/∂x of positions x (M, C) with class-probability targets t (M, C)."""
        raise NotImplementedError

    def grad(self, opts: OptionsT, plan: ClassPlan, block: Paired, denominator: float
             ) -> Array:
        x = checks.cast(block.x, "input", opts.dtype)
        layout = ClassLayout(x.shape, plan.probabilities)
        xs = layout.classes_last(x)
        if plan.probabilities:
            t = checks.cast(block.t, "target", opts.dtype)
            g = self.prob_grad(opts, plan, xs, layout.classes_last(t), denominator)
        else:
            idx = layout.class_indices(block.t.data, opts.ignore_index, block.t.locate,
                                       self.accepts_probabilities)
            g = self.index_grad(opts, plan, xs, idx, denominator)
        return layout.back(g, x.shape)

    # ---------------------------------------------------------------- computing

    def adapt(self, opts: OptionsT, streams: Streams, text: frozenset[str]) -> None:
        """A target read from CSV/TSV (always rows of fields) as the shape it stands for.

        Class indices for an (N, C) input are a vector (N,): in a file, one column, or one
        row unless the input is a single sample of as many classes (then the row holds its
        class probabilities).  For a (C,) input, one value is the class index and one row of
        C values the probabilities.  Anything else (probabilities (N, C), indices (N, d1) of
        a 3-D input) stands for itself.
        """
        first_x, first_t = streams.input.peek(), streams.target.peek()
        if "target" not in text or first_x is None or first_t is None:
            return
        x_shape, data, loc = first_x.data.shape, first_t.data, first_t.locate
        if len(x_shape) > 2 or data.ndim != 2:
            return
        if data.shape[1] == 1 and len(x_shape) == 2:
            streams.target.map(lambda b: Block(b.data[:, 0], _column(b.locate)))
            return
        if data.shape[0] != 1 or streams.target.peek(1) is not None:
            return  # several rows (a first block of one row: the file is one row)
        if len(x_shape) == 1:
            if data.shape[1] == 1:
                streams.target.replace([Block(data.reshape(()), lambda idx: loc((0, 0)))])
            else:
                streams.target.replace([Block(data[0], lambda idx: loc((0, *idx)))])
            return
        one_sample = first_x.rows == 1 and streams.input.peek(1) is None
        if one_sample and data.shape[1] == x_shape[1] and self.accepts_probabilities:
            return
        streams.target.replace([Block(data[0], lambda idx: loc((0, *idx)))])

    def plan(self, opts: OptionsT, first_x: Block, first_t: Block, extras: Mapping[str, Block],
             text: frozenset[str]) -> ClassPlan:
        x_shape, t_shape = first_x.data.shape, first_t.data.shape
        if not x_shape:
            raise BceError(f"{self.name} input must have a class dimension: (C,), (N, C) or "
                           f"(N, C, d1, ...); got a scalar")
        c = x_shape[0 if len(x_shape) == 1 else 1]
        weight = None
        if "weight" in extras:
            weight = checks.cast(extras["weight"], "weight", opts.dtype)
            if "weight" in text and weight.ndim == 2 and 1 in weight.shape:
                weight = weight.reshape(-1)  # a CSV row or column (CSV has no vectors)
            self._check_weight(weight.shape, c)
        probabilities = self.accepts_probabilities and len(t_shape) == len(x_shape) and \
            t_shape[1:] == x_shape[1:]
        if probabilities and opts.ignore_index >= 0:
            raise BceError(
                f"--ignore-index {opts.ignore_index} applies to class-index targets, but the "
                f"target has the input's shape, so it holds class probabilities (PyTorch "
                f"refuses an ignore index ≥ 0 for them)")
        element = ClassLayout(x_shape, False).element_shape
        if not probabilities and (len(t_shape) != len(element) or t_shape[1:] != element[1:]):
            raise ShapeTrouble()
        return ClassPlan(probabilities, weight, c)

    def _check_weight(self, shape: Shape, c: int) -> None:
        if len(shape) != 1 or shape[0] != c:
            raise BceError(f"--weight must have one value per class, shape ({c},); got "
                           f"{fmt_shape(shape)}")

    def terms(self, opts: OptionsT, plan: ClassPlan, block: Paired) -> BlockTerms:
        x = checks.cast(block.x, "input", opts.dtype)
        layout = ClassLayout(x.shape, plan.probabilities)
        tb = block.t
        if tb.data.shape != (x.shape if plan.probabilities else layout.element_shape):
            raise ShapeTrouble()
        warn: list[tuple[str, str, int]] = []
        if plan.probabilities:
            t = checks.cast(tb, "target", opts.dtype)
            self.check_probabilities(t, x.ndim, layout.n_classes, tb.locate, warn)
            terms = self.prob_terms(opts, plan, layout.classes_last(x), layout.classes_last(t))
        else:
            idx = layout.class_indices(tb.data, opts.ignore_index, tb.locate,
                                       self.accepts_probabilities)
            terms = self.index_terms(opts, plan, layout.classes_last(x), idx)
            t = tb.data  # class indices as read (float64, exact), not rounded to float32
        nrows = x.shape[0] if x.ndim >= 2 else 1
        suspicion = self.input_suspicion(layout.classes_last(x))
        if suspicion is not None:
            warn.append((EVERY_ROW + self.name, suspicion, nrows))
        per_row = math.prod(x.shape[2:])
        dens = None if terms.denominators is None else \
            terms.denominators.reshape(nrows, per_row)
        t_rows = t if t.ndim >= 2 or (t.ndim == 1 and x.ndim == 2) else t.reshape(1, *t.shape)
        x_rows = x if x.ndim >= 2 else x.reshape(1, *x.shape)
        parts = None if terms.parts is None else [(c, p.reshape(nrows, per_row))
                                                   for c, p in terms.parts]
        return BlockTerms(terms.values.reshape(nrows, per_row), x_rows, t_rows, dens,
                          warnings=warn, parts=parts)

    def input_suspicion(self, x: Array) -> str | None:
        """What a block's input (classes last) looks like when it looks like the wrong
        kind of numbers, said only if every row of the input does (None: it does not)."""
        return None

    def check_probabilities(self, t: Array, ndim: int, c: int, locate: Locator,
                            warn: list[tuple[str, str, int]]) -> None:
        """Warn where probability targets do not sum to 1 or leave [0, 1] (PyTorch computes
        them without a word)."""
        sums = np.sum(t, axis=0 if ndim == 1 else 1)
        off = np.abs(sums - 1) > 1e-3
        if off.any() and c:  # (no classes: nothing to sum, said apart)
            bad = checks.first_index(off) or ()
            where = locate(bad[:1]) + (f", position {bad[1:]}" if bad[1:] else "")
            warn.append(("sum1", f"{where}: class probabilities sum to "
                         f"{float(sums[bad] if bad else sums):.6g}, not 1",
                         int(np.count_nonzero(off))))
        outside = checks.outside_unit_warning(t, "target probability", locate)
        if outside is not None:
            warn.append(("p01", outside, int(np.count_nonzero((t < 0) | (t > 1)))))

    def element_shape(self, input_shape: Shape) -> Shape:
        return () if len(input_shape) <= 1 else (input_shape[0], *input_shape[2:])

    def check_shapes(self, opts: OptionsT, x_shape: Shape, t_shape: Shape,
                     extra_shapes: Mapping[str, Shape]) -> None:
        if not x_shape:
            raise BceError(f"{self.name} input must have a class dimension: (C,), (N, C) or "
                           f"(N, C, d1, ...); got a scalar")
        probabilities = self.accepts_probabilities and t_shape == x_shape
        element = ClassLayout(x_shape, False).element_shape
        if not probabilities and t_shape != element:
            also = (f" or class probabilities of shape {fmt_shape(x_shape)}"
                    if self.accepts_probabilities else "")
            hint = ""
            if len(x_shape) == 2 and x_shape[0] != x_shape[1] and t_shape in (
                    (x_shape[1],), (x_shape[1], x_shape[0])):
                hint = (f"; the target would fit the input transposed, "
                        f"{fmt_shape((x_shape[1], x_shape[0]))}: PyTorch takes (N, C), a row "
                        f"per sample (are the classes on the first axis?)")
            elif len(element) == 1 and t_shape in ((element[0], 1), (1, element[0])):
                form = "column" if t_shape[1] == 1 else "row"
                hint = (f": did you mean the target as a vector, {fmt_shape(element)}? it is "
                        f"one {form} of {element[0]:,} class indices (a one-{form} CSV file "
                        f"stands for the vector; reshape an .npy or JSON array)")
            elif len(element) == 1 and len(t_shape) == 1:
                hint = f": the input has {element[0]:,} rows, the target {t_shape[0]:,} values"
            raise BceError(
                f"shape mismatch: {self.name} input is {fmt_shape(x_shape)}, so the target "
                f"must be class indices of shape {fmt_shape(element)}{also}; got "
                f"{fmt_shape(t_shape)}{hint}")

    def nan_reason(self, outcome: Outcome) -> str:
        plan: ClassPlan = outcome.plan
        if outcome.count == 0:
            return super().nan_reason(outcome)
        if plan.probabilities:
            return "the input has no classes (C = 0)"
        if plan.class_weight is None:
            return "every target equals the ignore index"
        return "the counted targets' class weights sum to 0 (or every target is ignored)"

    # ---------------------------------------------------------------- reporting

    def header(self, outcome: Outcome) -> list[str]:
        o, plan = self.opts(outcome), outcome.plan
        parts = [self.torch_name]
        if plan.class_weight is not None:
            parts.append(f"class weights {fmt_shape(outcome.extra_shapes['weight'])}")
        if self.accepts_probabilities:
            parts.append("class probabilities" if plan.probabilities else "class indices")
        if not plan.probabilities and o.ignore_index != -100:
            parts.append(f"ignore index {o.ignore_index}")
        return parts

    def json_options(self, outcome: Outcome) -> dict[str, object]:
        return {"weight_shape": shape_or_none(outcome.extra_shapes.get("weight")),
                "ignore_index": self.opts(outcome).ignore_index}

    def mean_division(self, outcome: Outcome, p: int) -> str | None:
        """``Σ ℓ / Σ w[y] = …`` where weights or ignored targets weigh the mean."""
        plan: ClassPlan = outcome.plan
        if plan.probabilities or (plan.class_weight is None
                                  and outcome.denominator == outcome.count):
            return None
        below = "Σ w[y]" if plan.class_weight is not None else "kept targets"
        return (f"Σ ℓ / {below} = {rounded(outcome.total, p)} / "
                f"{count(outcome.denominator, p)} = {rounded(outcome.loss, p)}")

    def final(self, outcome: Outcome, shown: list[Row], p: int, n: Notation = TEXT
              ) -> str | None:
        """The mean of a few samples written out: ``(ℓ₀ + ℓ₁) / 2 = …``."""
        if self.opts(outcome).reduction != "mean" or len(shown) > 6:
            return None
        terms = n.added([float(np.sum(r.terms, dtype=np.float64)) for r in shown], p)
        if all(r.denominator == r.terms.size for r in shown):  # every term counts 1
            below = n.num(exact(outcome.denominator, whole=True))
        else:
            below = "(" + n.added([r.denominator for r in shown], p, count) + ")"
        return f"({terms}) / {below} = {n.rounded(outcome.loss, p)}"

    @abstractmethod
    def grad_formula(self, outcome: Outcome) -> str:
        """The gradient of one position before the mean's division."""

    @abstractmethod
    def grad_numbers(self, outcome: Outcome, values: Array, target: int, probs: Array,
                     p: int) -> str:
        """One position's gradient written out with its numbers, before the division."""

    def grad_where(self, outcome: Outcome) -> str:
        """What the rule names besides x, y and the weights (``, t' = …``)."""
        return ""

    def grad_rule(self, outcome: Outcome) -> str:
        over = _over(outcome)
        return f"∂L/∂x = {_grouped(self.grad_formula(outcome), over)}{over}" \
            f"{self.grad_where(outcome)}"

    def grad_lines(self, outcome: Outcome, row: Row, p: int) -> Iterator[str]:
        plan: ClassPlan = outcome.plan
        over = _over(outcome)
        assert row.grad is not None
        n = row.terms.size
        shape = outcome.element_shape[1:]
        for k in range(n):
            if n > MAX_POSITIONS and MAX_POSITIONS - 3 <= k < n - 2:
                if k == MAX_POSITIONS - 3:
                    yield "    …"
                continue
            values, probs, cls = self.at(row, k, plan.probabilities)
            grad = self.classes_at(row.grad, k)
            where = (row.index, *(int(i) for i in np.unravel_index(k, shape))) if n > 1 \
                else (row.index,)
            numbers = minus(self.grad_numbers(outcome, values, cls, probs, p))
            yield (f"  ∂L/∂x{subscript(where)} = {_grouped(numbers, over)}{over} = "
                   f"{minus(vector(grad, p))}")

    # ---------------------------------------------------------------- samples

    terms_are_samples = True

    def groups(self, opts: OptionsT, plan: ClassPlan, bt: BlockTerms, counted: Array
               ) -> Groups:
        """Each counted sample's loss by its target class (the most probable one for class
        probabilities), and how many have that class as their most likely one."""
        x = bt.inputs
        layout = ClassLayout(x.shape, plan.probabilities)  # (a (C,) input is here (1, C))
        xs = layout.classes_last(x)
        if xs.shape[1] == 0:
            return Groups(np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64), 0)
        predicted = np.argmax(xs, axis=1)
        if plan.probabilities:
            target = np.argmax(layout.classes_last(bt.targets), axis=1)
        else:
            target = np.asarray(bt.targets, dtype=np.float64).reshape(-1).astype(np.int64)
        keep = np.asarray(counted, dtype=bool).reshape(-1)
        values = bt.values.reshape(-1)
        correct = int(np.count_nonzero((predicted == target)[keep]))
        return Groups.by_key(target[keep], values[keep], xs.shape[1], correct)

    def group_label(self, outcome: Outcome, key: int) -> str:
        return f"class {key}"

    def sample_fields(self, opts: OptionsT, plan: ClassPlan, inputs: Array, targets: Array
                      ) -> dict[str, Array]:
        """Per sample (position): the target class (the class probabilities, for those),
        the predicted class (the input's greatest value) and the probability softmax
        gives the target class (NaN for an ignored target)."""
        layout = ClassLayout(inputs.shape, plan.probabilities)
        xs = layout.classes_last(inputs).astype(np.float64)
        m, c = xs.shape
        if c == 0:
            nothing = np.full(m, np.nan)
            return {"target": nothing, "predicted": nothing, "p_target": nothing}
        predicted = np.argmax(xs, axis=1)
        with np.errstate(all="ignore"):
            e = np.exp(xs - xs.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
        if plan.probabilities:
            t = layout.classes_last(targets).astype(np.float64)
            cls = np.argmax(t, axis=1)
            return {"target": t, "predicted": predicted,
                    "p_target": p[np.arange(m), cls]}
        idx = np.asarray(targets, dtype=np.float64).reshape(-1).astype(np.int64)
        inside = (idx >= 0) & (idx < c)
        p_t = np.where(inside, p[np.arange(m), np.where(inside, idx, 0)], np.nan)
        return {"target": idx, "predicted": predicted, "p_target": p_t}

    def ignored(self, outcome: Outcome, row: Row | None) -> bool:
        """Whether a row holds a target equal to the ignore index."""
        return row is not None and not outcome.plan.probabilities and bool(
            np.any(flat(row.target) == self.opts(outcome).ignore_index))

    def positions(self, outcome: Outcome, most: int) -> Iterator[tuple[str, Row | None, int]]:
        """The lines of a per-position breakdown: (label, row, position k in the row).

        A K-dimensional input has several positions per sample (``3, 2`` is sample 3,
        position 2); a row of None stands for hidden samples or positions.
        """
        for row in outcome.rows():
            if row is None:
                yield "⋮", None, 0
                continue
            n = row.terms.size
            if n == 1:
                yield row.label, row, 0
                continue
            shape = outcome.element_shape[1:]
            for k in range(n):
                if n > most and most - 3 <= k < n - 2:
                    if k == most - 3:
                        yield f"{row.label}, …", None, 0
                    continue
                where = ", ".join(str(int(i)) for i in np.unravel_index(k, shape))
                yield f"{row.label}, {where}", row, k

    @staticmethod
    def classes_at(a: Array, k: int) -> Array:
        """A sample's values (C, d1, ...) at its position k: (C,)."""
        if a.ndim == 1:
            return a
        out: Array = np.moveaxis(a, 0, -1).reshape(math.prod(a.shape[1:]), a.shape[0])[k]
        return out

    def at(self, row: Row, k: int, probabilities: bool) -> tuple[Array, Array, int]:
        """At position k of a row: the values (C,), the target probabilities (C,) or an
        empty array, and the target class (the most probable one for probabilities)."""
        values = self.classes_at(row.input, k)
        if probabilities:
            probs = self.classes_at(row.target, k)
            return values, probs, int(np.argmax(probs)) if probs.size else -1
        return values, np.empty(0), int(flat(row.target)[k])

    def n_classes(self, outcome: Outcome) -> int:
        """C."""
        s = outcome.input_shape
        return s[0 if len(s) == 1 else 1]

    def ignore_line(self, outcome: Outcome, n: Notation = TEXT) -> Iterator[str]:
        """The explain line on ignored targets, where they matter."""
        o = self.opts(outcome)
        if o.ignore_index != -100 or any(self.ignored(outcome, r) for r in outcome.rows()):
            yield (f"  targets equal to the ignore index {n.math(n.num(str(o.ignore_index)))} "
                   f"give 0 and are not counted")

    def mean_line(self, outcome: Outcome, n: Notation = TEXT) -> Iterator[str]:
        """The explain line on the mean's denominator."""
        if self.opts(outcome).reduction == "mean":
            yield (f"  the mean divides by {n.math(n.sum + ' w[y]')} over the counted targets"
                   if outcome.plan.class_weight is not None
                   else "  the mean divides by the number of counted targets")

    def ignored_line(self, label: str, cls: int, n: Notation) -> str:
        """The explain line of a position whose target is the ignore index."""
        return (f"  row {n.prose(label)}: target {n.math(n.num(str(cls)))} is the ignore "
                f"index {n.prose('→')} {n.math(n.ell + ' = 0')}, not counted")

    def hidden_line(self, label: str, n: Notation) -> str:
        """The explain line standing for hidden samples (``⋮``) or positions."""
        return f"  {n.prose(label)}"

    def nothing_counted(self, outcome: Outcome) -> Iterator[str]:
        """The explain line for a mean of 0/0."""
        if self.opts(outcome).reduction == "mean" and not outcome.plan.probabilities \
                and outcome.denominator == 0:
            yield "  nothing is counted: the mean divides 0 by 0, which is NaN (as in PyTorch)"


def nll_grad(x: Array, idx: NDArray[np.int64], weight: Array | None, ignore_index: int,
             reduction: str, denominator: float, upstream: float = 1.0) -> Array:
    """NLLLoss's backward: ``−w[y]·g`` at each target class, 0 elsewhere and where the target
    is ignored; ``g`` the upstream gradient, divided by the total weight for the mean (as
    PyTorch does first: a total of 0 makes it infinite, and NaN where a weight is 0).

    >>> nll_grad(np.zeros((2, 3)), np.array([2, -100]), None, -100, "mean", 1.0).tolist()
    [[0.0, 0.0, -1.0], [0.0, 0.0, 0.0]]
    """
    dt = x.dtype.type
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -(dt(upstream) / dt(denominator)) if reduction == "mean" else -dt(upstream)
        kept = np.flatnonzero(idx != ignore_index)
        out = np.zeros_like(x)
        values = np.full(kept.size, g, dtype=x.dtype) if weight is None else \
            weight[idx[kept]] * g
        out[kept, idx[kept]] = values
    return out


def log_softmax_backward(g: Array, log_probs: Array) -> Array:
    """``g − exp(log_softmax)·Σ_c g``, PyTorch's log_softmax backward over the last axis."""
    out: Array = g - exp(log_probs) * g.sum(axis=-1, keepdims=True)
    return out


def vector(values: Array, p: int) -> str:
    """A short vector for --explain: ``[0.7856, 0.1753, …, 0.0391]``."""
    from bcecli.losses.elementwise import elided

    return "[" + ", ".join("…" if j is None else rounded(float(values[j]), p)
                           for j in elided(values.size)) + "]"


def _over(outcome: Outcome) -> str:
    """The mean's division in a gradient's formula: ``/1.5``; nothing for sum and none."""
    d = outcome.grad_denominator
    if outcome.options.reduction != "mean" or d is None:
        return ""
    return f"/({minus(count(d, 4))})" if d < 0 else f"/{count(d, 4)}"


def _grouped(formula: str, over: str) -> str:
    """A sum or difference in parentheses when it is divided: (a + b)/D; nothing added
    to a product or when nothing divides.

    >>> _grouped("softmax(x) − t", "/D"), _grouped("softmax(x) − t", "")
    ('(softmax(x) − t)', 'softmax(x) − t')
    >>> _grouped("w·(a − b)", "/D"), _grouped("−onehot(y)", "/D")
    ('w·(a − b)', '−onehot(y)')
    """
    depth = 0
    for i, ch in enumerate(formula):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch in "+−" and formula[i - 1:i] == " " and i > 0:
            return f"({formula})" if over else formula
    return formula


def _whole(v: float) -> str:
    """A whole number read as float64, as an integer: where float64 may have rounded it
    (beyond 2**53), saying so.

    >>> _whole(-1.0), _whole(2.0**63)
    ('-1', '9223372036854775808 (as read: float64 rounds whole numbers beyond 2**53)')
    """
    text = str(int(v))
    return text if abs(v) < EXACT else f"{text} (as read: float64 rounds whole numbers " \
        f"beyond 2**53)"


def _column(locate: Locator) -> Locator:
    return lambda idx: locate((idx[0], 0) if idx else idx)


__all__ = ["CLASS_WEIGHT", "IGNORE_INDEX", "ClassLayout", "ClassLoss", "ClassOptions",
           "ClassPlan", "Terms", "plural"]
