"""What the binary losses share: a term per element, target of the input's shape, weights
that broadcast against the input, and the tutorials' breakdown (σ(x), terms, row means).

A binary loss module subclasses :class:`ElementwiseLoss` and says how an element's term is
computed (:meth:`~ElementwiseLoss.values`) and how its logs are written out in --explain.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from bcecli.io.source import Block, Locator
from bcecli.losses import checks
from bcecli.losses.base import (
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
from bcecli.losses.numerics import sigmoid
from bcecli.report.display import (
    column_label,
    each_row,
    flat,
    row_value,
    row_word,
    shape_or_none,
)
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import count, minus, rounded, subscript
from bcecli.report.numbers import shape as fmt_shape
from bcecli.report.specs import MatrixSpec, TableSpec

if TYPE_CHECKING:
    from bcecli.compute.outcome import Outcome, Row
    from bcecli.compute.streams import Streams

Shape = tuple[int, ...]
OptionsT = TypeVar("OptionsT", bound=Options)

WEIGHT = Param("weight", ("--weight", "-w"), Matrix, None,
               "Weight of each element, broadcast against the input (trailing dimensions), "
               "e.g. '[1, 2, 3]' for one per column, or a full matrix.")
MAX_TERMS = 6
GROUP_COLUMNS = 64
"""Columns of a multi-label target summarised one by one, at most."""
"""Elements of a row written out in --explain before the middle ones are elided."""


@dataclass(eq=False)
class ElementwisePlan:
    """The weights given whole (not per row), cast to the dtype."""

    weights: dict[str, Array] = field(default_factory=dict)


def elided(n: int) -> list[int | None]:
    """The elements written out of n: the first ones, None for the elided, the last.

    >>> elided(3), elided(10)
    ([0, 1, 2], [0, 1, 2, 3, None, 9])
    """
    if n <= MAX_TERMS:
        return list(range(n))
    return [*range(MAX_TERMS - 2), None, n - 1]


def _one(locate: Locator) -> Locator:
    """The locator of a file's one value read as a scalar."""
    return lambda idx: locate((0, 0))


def _column(locate: Locator) -> Locator:
    """The locator of a file's one column, for the vector it stands for."""
    return lambda idx: locate((idx[0], 0) if idx else idx)


def _row(locate: Locator) -> Locator:
    """The locator of a file's one row, for the vector it stands for."""
    return lambda idx: locate((0, *idx))


def given(v: float, dtype: str, p: int) -> str:
    """A given number inside a formula: typographic minus, negative ones in parentheses."""
    return TEXT.given(v, dtype, p)


class ElementwiseLoss(Loss[OptionsT, ElementwisePlan]):
    """A loss with one term per element of the input (bce, bce-logits)."""

    @abstractmethod
    def values(self, opts: OptionsT, x: Array, t: Array, block: Paired,
               weights: Mapping[str, Array | None], warn: list[tuple[str, str, int]]
               ) -> Array:
        """The terms of a block (x, t in the dtype, of one shape); checks values first."""

    @abstractmethod
    def probabilities(self, opts: OptionsT) -> bool:
        """True when the breakdown starts from σ(x) (the input holds logits)."""

    @abstractmethod
    def logs(self, opts: OptionsT, x: float, prob: float, p_text: str, p: int,
             n: Notation = TEXT) -> tuple[str, str]:
        """ln p and ln(1 − p) as --explain writes them for one element."""

    @abstractmethod
    def formula_notes(self, opts: OptionsT) -> list[str]:
        """The lines under the formula in --explain (how the logs are computed)."""

    # ---------------------------------------------------------------- computing

    def adapt(self, opts: OptionsT, streams: Streams, text: frozenset[str]) -> None:
        """A vector (N,) beside a file's one column (N, 1) or one row (1, N): the file
        stands for the vector too (CSV and TSV always hold rows of fields), either way round;
        and a file of one value (``echo 0.5 |``) beside a scalar stands for a scalar.
        """
        first_x, first_t = streams.input.peek(), streams.target.peek()
        if first_x is None or first_t is None:
            return
        for name, mine, other in (("target", streams.target, first_x),
                                  ("input", streams.input, first_t)):
            block = mine.peek()
            if name not in text or block is None or block.data.ndim != 2:
                continue
            if other.data.ndim == 0:
                if block.data.shape == (1, 1) and mine.peek(1) is None:
                    mine.replace([Block(block.data.reshape(()), _one(block.locate))])
                continue
            if other.data.ndim != 1:
                continue
            if block.data.shape[1] == 1:
                mine.map(lambda b: Block(b.data[:, 0], _column(b.locate)))
            elif block.rows == 1 and mine.peek(1) is None:
                mine.replace([Block(block.data[0], _row(block.locate))])

    def whole(self, first_x: Block) -> bool:
        """Only a scalar is read whole; a vector's elements are its rows."""
        return first_x.data.ndim == 0

    # ---------------------------------------------------------------- samples

    def groups(self, opts: OptionsT, plan: ElementwisePlan, bt: BlockTerms, counted: Array
               ) -> Groups:
        """Each element's term by its target: negatives (0), positives (1) and soft targets
        (2), per column (key 3·j + kind) where a row has several elements (up to
        GROUP_COLUMNS of them: wider rows are not labels of classes)."""
        v = bt.values
        t = bt.targets.reshape(v.shape)
        axis = 0 if 1 < v.shape[1] <= GROUP_COLUMNS else None
        neg, pos = t == 0, t == 1
        n_neg = np.atleast_1d(np.count_nonzero(neg, axis=axis))
        n_pos = np.atleast_1d(np.count_nonzero(pos, axis=axis))
        n_soft = np.atleast_1d(v.size if axis is None else v.shape[0]) - n_neg - n_pos
        total = np.atleast_1d(np.sum(v, axis=axis, dtype=np.float64))
        if np.isfinite(total).all():  # (a mask's sum as a product: fast, exact enough)
            if axis is None:
                s_neg = np.atleast_1d(np.dot(v.reshape(-1), neg.reshape(-1)))
                s_pos = np.atleast_1d(np.dot(v.reshape(-1), pos.reshape(-1)))
            else:
                s_neg = np.einsum("ij,ij->j", v, neg, dtype=np.float64)
                s_pos = np.einsum("ij,ij->j", v, pos, dtype=np.float64)
            s_soft = total - s_neg - s_pos
        else:  # (an infinite term: masked sums, so that 0 × inf makes no NaN)
            s_neg, s_pos, s_soft = (np.atleast_1d(np.sum(v, axis=axis, where=m,
                                                          dtype=np.float64))
                                    for m in (neg, pos, ~(neg | pos)))
        at = 3 * np.arange(n_neg.size, dtype=np.int64)
        keys = np.concatenate([at, at + 1, at + 2])
        sums = np.concatenate([s_neg, s_pos, s_soft]).astype(np.float64)
        counts = np.concatenate([n_neg, n_pos, n_soft]).astype(np.int64)
        seen = counts > 0
        return Groups(keys[seen], sums[seen], counts[seen], None)

    def group_label(self, outcome: Outcome, key: int) -> str:
        kind = ("negatives (t = 0)", "positives (t = 1)", "soft targets (0 < t < 1)")[key % 3]
        if 1 < math.prod(outcome.element_shape[1:]) <= GROUP_COLUMNS:
            return f"column {column_label(outcome, key // 3)}: {kind}"
        return kind

    def sample_fields(self, opts: OptionsT, plan: ElementwisePlan, inputs: Array,
                      targets: Array) -> dict[str, Array]:
        """The targets, and the probabilities predicted (σ(x) where the input holds
        logits): a value per sample for rows of one element, else a row of them."""
        n = inputs.shape[0]
        width = math.prod(inputs.shape[1:])
        x = inputs.reshape(n, width).astype(np.float64)
        p = sigmoid(x) if self.probabilities(opts) else x
        t = targets.reshape(n, width).astype(np.float64)
        if x.shape[1] == 1:
            return {"target": t[:, 0], "prediction": p[:, 0]}
        return {"target": t, "prediction": p}

    def by_rows(self, param: str, first: Block, more: bool, x_ndim: int) -> bool:
        """A weight of the input's rank whose rows are not broadcast goes row by row."""
        return first.data.ndim == x_ndim and x_ndim >= 1 and (first.rows != 1 or more)

    def plan(self, opts: OptionsT, first_x: Block, first_t: Block, extras: Mapping[str, Block],
             text: frozenset[str]) -> ElementwisePlan:
        if first_x.data.shape[1:] != first_t.data.shape[1:] or \
                first_x.data.ndim != first_t.data.ndim:
            raise ShapeTrouble()
        return ElementwisePlan({name: checks.cast(b, _what(name), opts.dtype)
                                for name, b in extras.items()})

    def _prepare(self, opts: OptionsT, plan: ElementwisePlan, block: Paired
                 ) -> tuple[Array, Array, dict[str, Array | None]]:
        """The block's input, target and weights, checked and in the dtype."""
        x = checks.cast(block.x, "input", opts.dtype)
        t = checks.cast(block.t, "target", opts.dtype)
        if x.shape != t.shape:
            raise ShapeTrouble()
        weights: dict[str, Array | None] = {}
        for param in self.matrix_params:
            w: Array | None = plan.weights.get(param.name)
            if param.name in block.extras:
                w = checks.cast(block.extras[param.name], _what(param.name), opts.dtype)
            if w is not None:
                try:
                    ok = np.broadcast_shapes(w.shape, x.shape) == x.shape
                except ValueError:
                    ok = False
                if not ok:
                    raise ShapeTrouble()
            weights[param.name] = w
        return x, t, weights

    @abstractmethod
    def gradient(self, opts: OptionsT, x: Array, t: Array, weights: Mapping[str, Array | None],
                 denominator: float) -> Array:
        """∂L/∂x of a block (x, t in the dtype), PyTorch's backward, mean's division included."""

    def grad(self, opts: OptionsT, plan: ElementwisePlan, block: Paired, denominator: float
             ) -> Array:
        x, t, weights = self._prepare(opts, plan, block)
        return self.gradient(opts, x, t, weights, denominator)

    def terms(self, opts: OptionsT, plan: ElementwisePlan, block: Paired) -> BlockTerms:
        x, t, weights = self._prepare(opts, plan, block)
        warn: list[tuple[str, str, int]] = []
        values = self.values(opts, x, t, block, weights, warn)
        nrows = x.shape[0] if x.ndim else 1  # a vector's rows are its elements
        shown = {name: _rows(np.broadcast_to(w, x.shape))
                 for name, w in weights.items() if w is not None}
        per_row = math.prod(x.shape[1:])
        return BlockTerms(values.reshape(nrows, per_row), _rows(x), _rows(t),
                          extras=shown, warnings=warn)

    def element_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def check_shapes(self, opts: OptionsT, x_shape: Shape, t_shape: Shape,
                     extra_shapes: Mapping[str, Shape]) -> None:
        checks.check_same_shape(x_shape, t_shape)
        for name, shape in extra_shapes.items():
            what = "target" if name == "pos_weight" else "input"
            checks.check_broadcast(shape, x_shape, _option(name), what)

    # ---------------------------------------------------------------- reporting

    def header(self, outcome: Outcome) -> list[str]:
        parts = [self.torch_name + (" on σ(x)" if self.shows_sigmoid(outcome) else "")]
        for param in self.matrix_params:
            shape = outcome.extra_shapes.get(param.name)
            if shape is not None:
                parts.append(f"{param.name} {fmt_shape(shape)}")
        return parts

    def shows_sigmoid(self, outcome: Outcome) -> bool:
        """Whether the header says the loss is taken on σ(x) of the input (bce --sigmoid)."""
        return False

    def json_options(self, outcome: Outcome) -> dict[str, object]:
        return {f"{p.name}_shape": shape_or_none(outcome.extra_shapes.get(p.name))
                for p in self.matrix_params}

    def tables(self, outcome: Outcome, p: int) -> list[TableSpec]:
        word = row_word(outcome)
        vector = len(outcome.input_shape) == 1
        terms = MatrixSpec("terms ℓ" if vector else f"terms ℓ and each row's {word}",
                           lambda row: flat(row.terms), label_prefix="ℓ ", vector_label="ℓ",
                           coloured=True, total_label=f"row {word}",
                           total=lambda row: row_value(outcome, row))
        if not self.probabilities(self.opts(outcome)):
            return [terms]
        probs = MatrixSpec("p = σ(x)" if vector else "probabilities p = σ(x)",
                           lambda row: flat(sigmoid(row.input)), vector_label="p")
        return [probs, terms]

    def explain(self, outcome: Outcome, p: int, n: Notation = TEXT) -> Iterator[str]:
        o = self.opts(outcome)
        yield from map(n.display, self.formula(n))
        for note in self.formula_notes(o):
            yield f"  {n.prose(note)}"
        step = 1
        if self.probabilities(o):
            yield ""
            yield (f"Step {step}: probabilities "
                   + n.math(f"p = {n.sigma}(x) = 1 / (1 + {n.exp(n.minus + 'x')})"))
            step += 1
            yield from each_row(outcome, lambda row: self._sigmoid_line(row, o.dtype, p, n),
                                n.prose)
        yield ""
        yield (f"Step {step}: each element, written signed as by hand ({n.math(n.ell)} is its "
               f"negative)")
        step += 1
        yield from each_row(outcome, lambda row: self._element_lines(outcome, row, p, n),
                            n.prose)
        yield ""
        word = row_word(outcome)
        yield f"Step {step}: each row's {word}" + (" (reduction none keeps every term; the "
                                                   "rows' means are for reading)"
                                                   if o.reduction == "none" else "")
        yield from each_row(outcome, lambda row: self._row_line(outcome, row, word, p, n),
                            n.prose)

    @staticmethod
    def _sigmoid_line(row: Row, dtype: str, p: int, n: Notation) -> Iterator[str]:
        x = flat(row.input)
        s = flat(sigmoid(row.input))
        parts = [(n.prose("…") if j is None else
                  n.math(f"{n.sigma}({n.echo(float(x[j]), dtype, p)}) = "
                         f"{n.raw(rounded(float(s[j]), p))}")) for j in elided(x.size)]
        yield f"  row {n.prose(row.label)}: " + ", ".join(parts)

    @staticmethod
    def _row_line(outcome: Outcome, row: Row, word: str, p: int, n: Notation
                  ) -> Iterator[str]:
        t = flat(row.terms)
        total = " + ".join(n.dots if j is None else n.computed(float(t[j]), p) if i else
                           n.rounded(float(t[j]), p) for i, j in enumerate(elided(t.size)))
        value = n.rounded(row_value(outcome, row), p)
        yield f"  row {n.prose(row.label)}: " + n.math(f"{total} = {value}" if word == "sum" else
                                              f"({total}) / {t.size} = {value}")

    @abstractmethod
    def grad_formula(self, opts: OptionsT, weighted: bool, pos_weighted: bool) -> str:
        """The gradient of one element before the mean's division, e.g. ``σ(x) − y``."""

    @abstractmethod
    def grad_element(self, opts: OptionsT, x: float, y: float, w: float | None,
                     pw: float | None, p: int) -> list[str]:
        """One element's gradient (before the mean's division) with its numbers, in steps."""

    def grad_rule(self, outcome: Outcome) -> str:
        o = self.opts(outcome)
        weighted = "weight" in outcome.extra_shapes
        formula = self.grad_formula(o, weighted, "pos_weight" in outcome.extra_shapes)
        variable = "x" if self.probabilities(o) else "p"
        return f"∂L/∂{variable} = {formula}{_over(outcome)}{self.grad_where(o)}"

    def grad_where(self, opts: OptionsT) -> str:
        """What the gradient's rule names besides x, y and the weights (``, p = σ(x)``)."""
        return ""

    def grad_lines(self, outcome: Outcome, row: Row, p: int) -> Iterator[str]:
        o = self.opts(outcome)
        variable = "x" if self.probabilities(o) else "p"
        assert row.grad is not None
        x, y, g = flat(row.input), flat(row.target), flat(row.grad)
        w, pw = row.extras.get("weight"), row.extras.get("pos_weight")
        shape = outcome.input_shape[1:]
        for j in elided(x.size):
            if j is None:
                yield "    …"
                continue
            where = subscript((row.index, *(int(i) for i in np.unravel_index(j, shape))))
            numbers = self.grad_element(o, float(x[j]), float(y[j]),
                                        None if w is None else float(flat(w)[j]),
                                        None if pw is None else float(flat(pw)[j]), p)
            steps = " = ".join(step + _over(outcome) for step in numbers)
            yield f"  ∂L/∂{variable}{where} = {steps} = {minus(rounded(float(g[j]), p))}"

    def final(self, outcome: Outcome, shown: list[Row], p: int, n: Notation = TEXT
              ) -> str | None:
        if len({r.terms.size for r in shown}) != 1:
            return None
        values = n.added([row_value(outcome, r) for r in shown], p)
        loss = n.rounded(outcome.loss, p)
        if self.opts(outcome).reduction == "sum":
            return f"{values} = {loss}"
        return f"({values}) / {len(shown)} = {loss}"

    def _element_lines(self, outcome: Outcome, row: Row, p: int, n: Notation
                       ) -> Iterator[str]:
        o = self.opts(outcome)
        dtype = o.dtype
        logits = self.probabilities(o)
        x = flat(row.input).astype(np.float64)
        probs = flat(sigmoid(row.input)).astype(np.float64) if logits else x
        y = flat(row.target)
        t = flat(row.terms)
        w = row.extras.get("weight")
        pw = row.extras.get("pos_weight")
        for j in elided(x.size):
            if j is None:
                yield "    " + n.prose("…")
                continue
            pj, yj = float(probs[j]), float(y[j])
            p_text = n.rounded(pj, p) if logits else n.echo(pj, dtype, p)
            ln_p, ln_q = self.logs(o, float(x[j]), pj, p_text, p, n)
            a = f"{n.given(yj, dtype, p)}{n.times}{ln_p}"
            if pw is not None:
                a = f"{n.given(float(flat(pw)[j]), dtype, p)}{n.times}{a}"
            inner = f"{a} + (1 {n.minus} {n.given(yj, dtype, p)}){n.times}{ln_q}"
            if w is not None:
                inner = f"{n.given(float(flat(w)[j]), dtype, p)}{n.times}[{inner}]"
            yield (f"  row {n.prose(row.label)}, column {n.prose(column_label(outcome, j))}: "
                   + n.math(f"{inner} = {n.rounded(-float(t[j]), p)}"))


def _over(outcome: Outcome) -> str:
    """The mean's division in a gradient's formula: ``/9``; nothing for sum and none."""
    d = outcome.grad_denominator
    if outcome.options.reduction != "mean" or d is None:
        return ""
    return f"/{count(d, 4)}"


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _what(name: str) -> str:
    """A weight's name in messages about its values (``pos-weight``)."""
    return name.replace("_", "-")


def _rows(a: Array) -> Array:
    """An array with a leading axis of rows (a scalar input is one row)."""
    return a if a.ndim else a.reshape(1)
