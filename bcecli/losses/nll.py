"""``nll``: negative log-likelihood over classes, like ``torch.nn.NLLLoss``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bcecli.losses.base import Array, DType, Help, Reduction
from bcecli.losses.classes import (
    CLASS_WEIGHT,
    IGNORE_INDEX,
    MAX_POSITIONS,
    ClassLoss,
    ClassOptions,
    ClassPlan,
    Terms,
    nll_grad,
)
from bcecli.losses.elementwise import given
from bcecli.losses.values import keywords_checked
from bcecli.report.display import flat
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import rounded
from bcecli.report.specs import Cell, LinesSpec, TableSpec, absent, style_for

if TYPE_CHECKING:
    from bcecli.api import Result
    from bcecli.compute.outcome import Outcome, Row

HELP = Help(
    title="Negative log-likelihood over classes, like torch.nn.NLLLoss.",
    short="Negative log-likelihood over classes (NLLLoss).",
    formula=("ℓ = −w[y]·x[y]",),
    tex=(r"\ell = -w[y] \cdot x[y]",),
    notes=(
        "Input (N, C), (C,) or (N, C, d1, ...) of any real numbers, used as they are "
        "(log-probabilities when they come from log_softmax: CrossEntropyLoss(x) is "
        "NLLLoss(log_softmax(x))); the target holds class indices (the input's shape "
        "without C; in CSV one column or one row).",
        "The mean is Σ ℓ / Σ w[y] over the counted targets (those not equal to "
        "--ignore-index); NaN, with a warning, when nothing is counted.",
    ),
    examples=(
        ("nll -i '[[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3]]' -t '[0, 1]'",
         'one row per sample: target, x[target], ℓ; "mean of 2 terms = 0.3000"'),
        ("nll -i logprobs.csv -t labels.csv -w '[1, 2, 3]' --ignore-index 0 --explain",
         "class weights and skipped samples, written out"),
    ),
)


def nll_terms(x: Array, target: NDArray[np.int64], weight: Array | None = None,
              ignore_index: int = -100) -> Terms:
    """NLLLoss with class indices; x is (M, C), target (M,): ℓ_i = −w[y_i]·x[i, y_i].

    Zero where y_i is ``ignore_index``; each term counts w[y_i] (or 1) in the mean.

    >>> t = nll_terms(np.array([[-0.5, -1.0], [-2.0, -0.1]]), np.array([0, -100]))
    >>> t.values.tolist(), t.denominators.tolist()
    ([0.5, 0.0], [1.0, 0.0])
    """
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    if x.shape[-1] == 0:  # every target is ignored (the targets were checked)
        zeros = np.zeros(target.shape, dtype=x.dtype)
        return Terms(zeros, zeros)
    picked = np.take_along_axis(x, safe[:, None], axis=-1)[:, 0]
    w_y = np.ones_like(picked) if weight is None else weight[safe]
    w_y = np.where(ignored, 0, w_y).astype(x.dtype, copy=False)
    values = -(w_y * picked)
    return Terms(np.where(ignored, 0, values).astype(x.dtype, copy=False), w_y)


class NegativeLogLikelihood(ClassLoss[ClassOptions]):
    """torch.nn.NLLLoss."""

    name = "nll"
    torch_name = "NLLLoss"
    help = HELP
    params = (CLASS_WEIGHT, IGNORE_INDEX)
    options_type = ClassOptions

    def input_suspicion(self, x: Array) -> str | None:
        """Rows of probabilities where log-probabilities belong (all ≤ 0)."""
        if x.size == 0 or x.shape[-1] < 2 or float(x.min()) < 0 or float(x.max()) > 1 or \
                not np.allclose(x.sum(axis=-1, dtype=np.float64), 1.0, atol=1e-4, rtol=0):
            return None
        return ("every input row lies in [0, 1] and sums to 1: these look like probabilities, "
                "but NLLLoss takes log-probabilities (log_softmax's output); take their log")

    def index_terms(self, opts: ClassOptions, plan: ClassPlan, x: Array,
                    idx: NDArray[np.int64]) -> Terms:
        return nll_terms(x, idx, plan.class_weight, opts.ignore_index)

    def index_grad(self, opts: ClassOptions, plan: ClassPlan, x: Array,
                   idx: NDArray[np.int64], denominator: float) -> Array:
        return nll_grad(x, idx, plan.class_weight, opts.ignore_index, opts.reduction,
                        denominator)

    def grad_formula(self, outcome: Outcome) -> str:
        return ("−w[y]·" if outcome.plan.class_weight is not None else "−") + "onehot(y)"

    def grad_numbers(self, outcome: Outcome, values: Array, target: int, probs: Array,
                     p: int) -> str:
        o = self.opts(outcome)
        if target == o.ignore_index:
            return "0 (ignored target)"
        w = outcome.plan.class_weight
        lead = "−" if w is None else f"−{given(float(w[target]), o.dtype, p)}·"
        return f"{lead}onehot({target})"

    def tables(self, outcome: Outcome, p: int) -> list[TableSpec]:
        o, w = self.opts(outcome), outcome.plan.class_weight
        title = "ℓ = −w[y]·x[y]" if w is not None else "ℓ = −x[target]"
        columns = ["row", "target", "x[target]", *(["weight"] if w is not None else []), "ℓ"]
        table = LinesSpec(title, columns)
        for label, row, k in self.positions(outcome, MAX_POSITIONS):
            if row is None:
                table.lines.append((label, None))
                continue
            values, _, cls = self.at(row, k, False)
            term = float(flat(row.terms)[k])
            term_cell = Cell(rounded(term, p), style_for(term))
            if cls == o.ignore_index or values.size == 0:
                what = f"{cls} (ignored)" if cls == o.ignore_index else "no classes"
                table.lines.append((label, [Cell(what), *[absent() for _ in columns[3:]],
                                            term_cell]))
                continue
            cells = [Cell(str(cls)), Cell(rounded(float(values[cls]), p))]
            if w is not None:
                cells.append(Cell(rounded(float(w[cls]), p)))
            table.lines.append((label, [*cells, term_cell]))
        return [table]

    def explain(self, outcome: Outcome, p: int, n: Notation = TEXT) -> Iterator[str]:
        yield from map(n.display, self.formula(n))
        yield n.prose("  the input is used as it is: log-probabilities if it came from "
                      "log_softmax (ce(x) = nll(log_softmax(x)))")
        yield from self.ignore_line(outcome, n)
        yield from self.mean_line(outcome, n)
        yield ""
        for label, row, k in self.positions(outcome, MAX_POSITIONS):
            if row is None:
                yield self.hidden_line(label, n)
                continue
            yield self._line(outcome, label, row, k, p, n)
        yield from map(n.prose, self.nothing_counted(outcome))

    def _line(self, outcome: Outcome, label: str, row: Row, k: int, p: int, n: Notation
              ) -> str:
        o, w = self.opts(outcome), outcome.plan.class_weight
        values, _, cls = self.at(row, k, False)
        if cls == o.ignore_index:
            return self.ignored_line(label, cls, n)
        if values.size == 0:
            return f"  row {n.prose(label)}: no classes (C = 0)"
        x_y = n.given(float(values[cls]), o.dtype, p)
        term = n.rounded(float(flat(row.terms)[k]), p)
        head = f"  row {n.prose(label)}: class {cls}: "
        if w is None:
            return head + n.math(f"{n.ell} = {n.minus}x[{cls}] = {n.minus}{x_y} = {term}")
        w_y = n.given(float(w[cls]), o.dtype, p)
        return head + n.math(f"{n.ell} = {n.minus}w[{cls}]{n.times}x[{cls}] = "
                             f"{n.minus}{w_y}{n.times}{x_y} = {term}")


LOSS = NegativeLogLikelihood()


@keywords_checked
def nll(input: ArrayLike, target: ArrayLike, *, weight: ArrayLike | None = None,
        ignore_index: int = -100, reduction: Reduction = "mean",
        dtype: DType = "float64") -> Result:
    from bcecli.api import run_arrays

    return run_arrays(LOSS, input, target, weight=weight, ignore_index=ignore_index,
                      reduction=reduction, dtype=dtype)


nll.__doc__ = HELP.text() + """

>>> r = nll([[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3]], [0, 1])
>>> round(r.loss, 10), r.terms.tolist()
(0.3, [0.2, 0.4])
"""
