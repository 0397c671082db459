"""``ce``: cross-entropy over classes on logits, like ``torch.nn.CrossEntropyLoss``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bcecli.errors import BceError
from bcecli.losses.base import Array, DType, Help, Param, Reduction
from bcecli.losses.classes import (
    CLASS_WEIGHT,
    IGNORE_INDEX,
    MAX_POSITIONS,
    ClassLoss,
    ClassOptions,
    ClassPlan,
    Terms,
    log_softmax_backward,
    nll_grad,
    vector,
)
from bcecli.losses.elementwise import elided
from bcecli.losses.numerics import log_softmax
from bcecli.losses.values import keywords_checked
from bcecli.report.display import flat
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import echo, rounded
from bcecli.report.specs import Cell, LinesSpec, MatrixSpec, TableSpec, absent, style_for

if TYPE_CHECKING:
    from bcecli.api import Result
    from bcecli.compute.outcome import Outcome, Row

HELP = Help(
    title="Cross-entropy over classes on logits, like torch.nn.CrossEntropyLoss.",
    short="Cross-entropy over classes (CrossEntropyLoss).",
    formula=("ℓ = w[y]·(−x[y] + ln Σ_j exp(x_j)) = −w[y]·log_softmax(x)[y]",
             "with class probabilities t: ℓ = −Σ_c w_c·t_c·log_softmax(x)_c"),
    tex=(r"\ell = w[y] \cdot \left(-x[y] + \ln \sum_j e^{x_j}\right) "
         r"= -w[y] \cdot \log \mathrm{softmax}(x)[y]",
         r"\text{with class probabilities } t\text{:} \quad "
         r"\ell = -\sum_c w_c \cdot t_c \cdot \log \mathrm{softmax}(x)_c"),
    notes=(
        "Input (N, C), (C,) or (N, C, d1, ...); the target holds class indices (the input's "
        "shape without C; in CSV one column or one row) or class probabilities (the input's "
        "shape). CrossEntropyLoss is NLLLoss on log_softmax(x).",
        "The mean is Σ ℓ / Σ w[y] over the counted targets (those not equal to "
        "--ignore-index); with probability targets it divides by the number of positions. "
        "Label smoothing ε: ℓ = (1 − ε)·w[y]·(−ln p[y]) + ε/C·Σ_c w_c·(−ln p_c), and "
        "probability targets become (1 − ε)·t + ε/C.",
    ),
    examples=(
        ("ce -i '[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]' -t '[0, 2]'",
         'one row per sample: logit, ln Σ exp, ℓ, p(target); "mean of 2 terms = 0.1755"'),
        ("ce -i '[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]' -t '[[0.7, 0.2, 0.1], [0, 0, 1]]'",
         "class probabilities as targets: mean 0.4755"),
        ("ce -i logits.csv -t labels.csv --label-smoothing 0.1 -w '[1, 2, 3]' --explain",
         "smoothing and class weights, written out for each sample"),
        ("ce -i logits.csv -t labels.csv --ignore-index 0 -f plain",
         "samples of class 0 are skipped"),
    ),
)

LABEL_SMOOTHING = Param("label_smoothing", ("--label-smoothing",), float, 0.0,
                        "Label smoothing ε in [0, 1].")


@dataclass(frozen=True)
class CeOptions(ClassOptions):
    """ce's options: the ignore index and label smoothing."""

    label_smoothing: float = 0.0


def check_label_smoothing(eps: float) -> None:
    """ε in [0, 1]: PyTorch refuses ε > 1 and quietly smooths nothing for ε < 0 (or NaN).

    >>> check_label_smoothing(0.1)
    """
    if not 0.0 <= eps <= 1.0:  # NaN too
        quiet = "" if eps > 1 else (" (PyTorch would quietly smooth nothing; give 0 for no "
                                    "smoothing)")
        raise BceError(f"--label-smoothing must be between 0 and 1; got {eps!r}{quiet}")


def ce_index_terms(x: Array, target: NDArray[np.int64], weight: Array | None = None,
                   ignore_index: int = -100, label_smoothing: float = 0.0) -> Terms:
    """Cross-entropy with class indices; x is (M, C), target (M,), classes on the last axis.

    ℓ_i = (1 − ε)·w_{y_i}·(−log p_{i,y_i}) + (ε/C)·Σ_c w_c·(−log p_{i,c}), zero where
    y_i is ``ignore_index``; each term counts w_{y_i} (or 1) in the mean.  With label
    smoothing PyTorch reduces the two parts apart, then combines them: the terms come with
    those parts (:attr:`Terms.parts`).

    >>> t = ce_index_terms(np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([0, 1]))
    >>> t.values.round(6).tolist(), float(t.denominators.sum())
    ([0.126928, 0.126928], 2.0)
    """
    n_classes = x.shape[-1]
    if n_classes == 0:  # every target is ignored (the targets were checked): nothing counts
        nll = np.zeros(target.shape, dtype=x.dtype)
        w_y, smooth = nll, nll
    else:
        log_probs = log_softmax(x).log_probs
        ignored = target == ignore_index
        safe = np.where(ignored, 0, target)
        picked = -np.take_along_axis(log_probs, safe[:, None], axis=-1)[:, 0]
        w_y = np.ones_like(picked) if weight is None else weight[safe]
        w_y = np.where(ignored, 0, w_y).astype(x.dtype, copy=False)
        nll = (w_y * picked).astype(x.dtype, copy=False)
        if label_smoothing > 0:
            weighted = log_probs if weight is None else log_probs * weight
            smooth = np.where(ignored, 0, -np.sum(weighted, axis=-1)).astype(x.dtype, copy=False)
    if not label_smoothing > 0:
        return Terms(nll, w_y)
    with np.errstate(all="ignore"):  # (C = 0: ε/C is inf, and PyTorch's terms are NaN)
        share = np.float64(label_smoothing) / np.float64(n_classes)
        values = (1 - label_smoothing) * nll + smooth * share.astype(x.dtype)
    return Terms(values.astype(x.dtype, copy=False), w_y,
                 [(1 - label_smoothing, nll), (float(share), smooth)])


def ce_prob_terms(x: Array, target: Array, weight: Array | None = None,
                  label_smoothing: float = 0.0) -> Terms:
    """Cross-entropy with class probabilities; x and target are (M, C).

    ℓ_i = −Σ_c w_c·t'_{i,c}·log p_{i,c}, with t' = (1 − ε)·t + ε/C; each term counts 1.

    >>> ce_prob_terms(np.array([[0.0, 0.0]]), np.array([[0.5, 0.5]])).values.round(6).tolist()
    [0.693147]
    """
    n_classes = x.shape[-1]
    log_probs = log_softmax(x).log_probs
    if label_smoothing > 0 and n_classes:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    product = log_probs * target
    if weight is not None:
        product = product * weight
    values = (-np.sum(product, axis=-1)).astype(x.dtype, copy=False)
    if n_classes == 0:  # PyTorch: the mean of an input with no elements is NaN
        return Terms(values, np.zeros_like(values))
    return Terms(values)


def ce_index_grad(x: Array, idx: NDArray[np.int64], weight: Array | None, ignore_index: int,
                  label_smoothing: float, reduction: str, denominator: float) -> Array:
    """∂L/∂x of cross-entropy with class indices, as autograd derives it through PyTorch's
    forward: NLL's backward (scaled by 1 − ε), plus the smoothing term's (−ε/C·w_c per
    class, over the same denominator), then log_softmax's backward.

    >>> ce_index_grad(np.array([[0.0, 0.0]]), np.array([0]), None, -100, 0.0, "mean", 1.0)
    array([[-0.5,  0.5]])
    """
    n_classes = x.shape[-1]
    log_probs = log_softmax(x).log_probs
    upstream = 1 - label_smoothing if label_smoothing > 0 else 1.0
    g = nll_grad(x, idx, weight, ignore_index, reduction, denominator, upstream)
    if label_smoothing > 0 and n_classes:
        dt = x.dtype.type
        with np.errstate(divide="ignore", invalid="ignore"):
            share = dt(label_smoothing / n_classes)
            if reduction == "mean":
                share = share / dt(denominator)
        smooth = np.full(x.shape, -share, dtype=x.dtype)
        smooth[idx == ignore_index] = 0
        if weight is not None:
            smooth = smooth * weight
        g = g + smooth
    return log_softmax_backward(g, log_probs).astype(x.dtype, copy=False)


def ce_prob_grad(x: Array, target: Array, weight: Array | None, label_smoothing: float,
                 reduction: str, denominator: float) -> Array:
    """∂L/∂x of cross-entropy with class probabilities: ``−w·t/N`` through log_softmax's
    backward, in autograd's order.

    >>> ce_prob_grad(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), None, 0.0, "sum", 1.0)
    array([[-0.5,  0.5]])
    """
    n_classes = x.shape[-1]
    dt = x.dtype.type
    log_probs = log_softmax(x).log_probs
    if label_smoothing > 0 and n_classes:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -(dt(1) / dt(denominator)) if reduction == "mean" else dt(-1)
    upstream = np.full(x.shape, g, dtype=x.dtype)
    if weight is not None:
        upstream = upstream * weight
    return log_softmax_backward(upstream * target, log_probs).astype(x.dtype, copy=False)


class CrossEntropy(ClassLoss[CeOptions]):
    """torch.nn.CrossEntropyLoss."""

    name = "ce"
    torch_name = "CrossEntropyLoss"
    help = HELP
    params = (CLASS_WEIGHT, IGNORE_INDEX, LABEL_SMOOTHING)
    options_type = CeOptions
    accepts_probabilities = True

    def check_options(self, opts: CeOptions) -> None:
        super().check_options(opts)
        check_label_smoothing(opts.label_smoothing)

    def input_suspicion(self, x: Array) -> str | None:
        """Rows of probabilities (in [0, 1], summing to 1): softmax applied twice."""
        if x.size == 0 or x.shape[-1] < 2 or float(x.min()) < 0 or float(x.max()) > 1 or \
                not np.allclose(x.sum(axis=-1, dtype=np.float64), 1.0, atol=1e-4, rtol=0):
            return None
        return ("every input row lies in [0, 1] and sums to 1: these look like probabilities, "
                "but CrossEntropyLoss takes logits (a softmax applied twice gives a loss "
                "near ln C); give the logits, or log-probabilities to nll")

    def index_terms(self, opts: CeOptions, plan: ClassPlan, x: Array, idx: NDArray[np.int64]
                    ) -> Terms:
        return ce_index_terms(x, idx, plan.class_weight, opts.ignore_index,
                              opts.label_smoothing)

    def prob_terms(self, opts: CeOptions, plan: ClassPlan, x: Array, t: Array) -> Terms:
        return ce_prob_terms(x, t, plan.class_weight, opts.label_smoothing)

    def index_grad(self, opts: CeOptions, plan: ClassPlan, x: Array, idx: NDArray[np.int64],
                   denominator: float) -> Array:
        return ce_index_grad(x, idx, plan.class_weight, opts.ignore_index, opts.label_smoothing,
                             opts.reduction, denominator)

    def prob_grad(self, opts: CeOptions, plan: ClassPlan, x: Array, t: Array,
                  denominator: float) -> Array:
        return ce_prob_grad(x, t, plan.class_weight, opts.label_smoothing, opts.reduction,
                            denominator)

    def grad_formula(self, outcome: Outcome) -> str:
        o = self.opts(outcome)
        weighted = outcome.plan.class_weight is not None
        eps, c = o.label_smoothing, self.n_classes(outcome)
        t = "t'" if eps else "t"
        if outcome.plan.probabilities:
            return f"Σ_c w_c·{t}_c·softmax(x) − w·{t}" if weighted else f"softmax(x) − {t}"
        if not eps:
            return "w[y]·(softmax(x) − onehot(y))" if weighted else "softmax(x) − onehot(y)"
        if not weighted:
            return "softmax(x) − t'"
        return (f"(1 − {eps:g})·w[y]·(softmax(x) − onehot(y)) + "
                f"{eps:g}·(Σ_c w_c·softmax(x) − w)/{c}")

    def grad_where(self, outcome: Outcome) -> str:
        eps, c = self.opts(outcome).label_smoothing, self.n_classes(outcome)
        if not eps or (outcome.plan.class_weight is not None and not outcome.plan.probabilities):
            return ""
        t = "t" if outcome.plan.probabilities else "onehot(y)"
        return f", t' = (1 − {eps:g})·{t} + {eps:g}/{c}"

    def grad_numbers(self, outcome: Outcome, values: Array, target: int, probs: Array,
                     p: int) -> str:
        soft = vector(np.exp(log_softmax(np.asarray(values, dtype=np.float64)[None, :])
                             .log_probs[0]), p)
        o = self.opts(outcome)
        eps, c, w = o.label_smoothing, values.size, outcome.plan.class_weight
        if outcome.plan.probabilities:
            t = np.asarray(probs, dtype=np.float64)
            t = (1 - eps) * t + eps / c if eps else t
            if w is None:
                return f"{soft} − {vector(t, p)}"
            return f"{rounded(float(np.sum(w * t)), p)}·{soft} − {vector(w * t, p)}"
        if target == o.ignore_index:
            return "0 (ignored target)"
        onehot = np.zeros(c)
        onehot[target] = 1
        if eps and w is None:
            return f"{soft} − {vector((1 - eps) * onehot + eps / c, p)}"
        if w is None:
            return f"{soft} − {vector(onehot, 0)}"
        base = f"{echo(float(w[target]), o.dtype, p)}·({soft} − {vector(onehot, 0)})"
        if not eps:
            return base
        assert w is not None
        return (f"(1 − {eps:g})·{base} + {eps:g}·({rounded(float(np.sum(w)), p)}·{soft} − "
                f"{vector(w, p)})/{c}")

    # ---------------------------------------------------------------- reporting

    def header(self, outcome: Outcome) -> list[str]:
        eps = self.opts(outcome).label_smoothing
        return [*super().header(outcome), *([f"label smoothing ε = {eps:g}"] if eps else [])]

    def json_options(self, outcome: Outcome) -> dict[str, object]:
        o = self.opts(outcome)
        kind = "class probabilities" if outcome.plan.probabilities else "class indices"
        record = super().json_options(outcome)
        return {"weight_shape": record["weight_shape"], "target": kind,
                "ignore_index": o.ignore_index, "label_smoothing": o.label_smoothing}

    def tables(self, outcome: Outcome, p: int) -> list[TableSpec]:
        o = self.opts(outcome)
        plan: ClassPlan = outcome.plan
        eps, w = o.label_smoothing, plan.class_weight
        table = LinesSpec(self._title(outcome), self._columns(outcome))
        ncols = len(table.columns)
        for label, row, k in self.positions(outcome, MAX_POSITIONS):
            if row is None:
                table.lines.append((label, None))
                continue
            logits, probs, cls = self.at(row, k, plan.probabilities)
            term = float(flat(row.terms)[k])
            term_cell = Cell(rounded(term, p), style_for(term))
            if logits.size == 0:
                table.lines.append((label, [Cell("no classes"),
                                            *[absent() for _ in range(ncols - 4)],
                                            Cell(rounded(term, p)), absent()]))
                continue
            ls = log_softmax(np.asarray(logits, dtype=np.float64)[None, :])
            lse, log_p = float(ls.log_sum_exp[0]), ls.log_probs[0]
            if plan.probabilities:
                table.lines.append((label, [Cell(f"{cls} ({rounded(float(probs[cls]), 2)})"),
                                            Cell(rounded(lse, p)), term_cell,
                                            Cell(rounded(math.exp(float(log_p[cls])), p))]))
                continue
            if cls == o.ignore_index:
                table.lines.append((label, [Cell(f"{cls} (ignored)"),
                                            *[absent() for _ in range(ncols - 4)], term_cell,
                                            absent()]))
                continue
            cells = [Cell(str(cls)), Cell(rounded(float(logits[cls]), p)), Cell(rounded(lse, p)),
                     Cell(rounded(-float(log_p[cls]), p))]
            if w is not None:
                cells.append(Cell(rounded(float(w[cls]), p)))
            if eps:
                weighted = -log_p if w is None else -log_p * w
                cells.append(Cell(rounded(float(np.sum(weighted)), p)))
            table.lines.append((label, [*cells, term_cell,
                                        Cell(rounded(math.exp(float(log_p[cls])), p))]))
        if len(outcome.input_shape) != 2 or not outcome.input_shape[1]:
            return [table]
        # (a row per sample, a column per class: the probabilities first, as bce shows σ(x))
        softmax = MatrixSpec("probabilities p = softmax(x)", lambda row: np.exp(
            log_softmax(np.asarray(row.input, dtype=np.float64)[None, :]).log_probs[0]),
            label_prefix="p ")
        if not plan.probabilities:
            return [softmax, table]
        targets = MatrixSpec("target probabilities t", lambda row: flat(row.target),
                             label_prefix="t ")
        return [softmax, targets, table]

    def _columns(self, outcome: Outcome) -> list[str]:
        if outcome.plan.probabilities:
            return ["row", "target (p)", "ln Σ exp x", "ℓ", "p(target)"]
        names = ["row", "target", "x[target]", "ln Σ exp x", "−ln p(target)"]
        if outcome.plan.class_weight is not None:
            names.append("weight")
        if self.opts(outcome).label_smoothing:
            names.append("Σ w·(−ln p)" if outcome.plan.class_weight is not None else "Σ −ln p")
        return [*names, "ℓ", "p(target)"]

    def _title(self, outcome: Outcome) -> str:
        eps = self.opts(outcome).label_smoothing
        c = self.n_classes(outcome)
        weighted = outcome.plan.class_weight is not None
        if outcome.plan.probabilities:
            base = "ℓ = −Σ_c " + ("w_c·" if weighted else "") + "t_c·ln p_c"
            return base + (f", t smoothed to (1 − {eps:g})·t + {eps:g}/{c}" if eps else "")
        nll = "w[y]·(−ln p(target))" if weighted else "−ln p(target)"
        if not eps:
            return (f"ℓ = {nll}, −ln p(target) = ln Σ exp x − x[target]" if weighted else
                    "ℓ = −ln p(target) = ln Σ exp x − x[target]")
        smooth = "Σ w·(−ln p)" if weighted else "Σ −ln p"
        return f"ℓ = (1 − {eps:g})·{nll} + {eps:g}/{c}·{smooth} over all {c} classes"

    def explain(self, outcome: Outcome, p: int, n: Notation = TEXT) -> Iterator[str]:
        o = self.opts(outcome)
        eps, g = o.label_smoothing, n.g(o.label_smoothing)
        w = outcome.plan.class_weight
        c = self.n_classes(outcome)
        yield n.display(self.formula(n)[1 if outcome.plan.probabilities else 0])
        yield ("  CrossEntropyLoss is NLLLoss on log_softmax(x): ce(x) = nll(log_softmax(x)), "
               "with log_softmax(x)_j = x_j − ln Σ_k exp(x_k)" if not n.tex else
               r"  CrossEntropyLoss is NLLLoss on log\_softmax(x): "
               r"$\mathrm{ce}(x) = \mathrm{nll}(\log \mathrm{softmax}(x))$, with "
               r"$\log \mathrm{softmax}(x)_j = x_j - \ln \sum_k e^{x_k}$")
        if outcome.plan.probabilities:
            if eps:
                yield ("  targets smoothed first: "
                       + n.math(f"t {n.to} (1 {n.minus} {g}){n.times}t + {g}/{c}"))
            yield "  the mean divides by the number of samples (positions), whatever the weights"
        else:
            if w is None:
                yield f"  no class weights: {n.math('w[y] = 1')}"
            if eps:
                that = r"\ell_{\mathrm{NLL}}" if n.tex else "that"
                yield (f"  with label smoothing {n.math(f'{n.epsilon} = {g}')} over "
                       f"{n.math(f'C = {c}')} classes: "
                       + n.math(f"{n.ell} = (1 {n.minus} {g}){n.times}{that} + {g}/{c}"
                                f"{n.times}{n.sum}_c " + (f"w_c{n.times}" if w is not None
                                                          else "") + f"({n.minus}{n.ln} p_c)"))
            yield from self.ignore_line(outcome, n)
            yield from self.mean_line(outcome, n)
        yield ""
        for label, row, k in self.positions(outcome, MAX_POSITIONS):
            if row is None:
                yield self.hidden_line(label, n)
                continue
            yield from self._lines(outcome, label, row, k, p, n)
        yield from map(n.prose, self.nothing_counted(outcome))

    def _lines(self, outcome: Outcome, label: str, row: Row, k: int, p: int, n: Notation
               ) -> Iterator[str]:
        o = self.opts(outcome)
        eps, g = o.label_smoothing, n.g(o.label_smoothing)
        w = outcome.plan.class_weight
        logits, probs, cls = self.at(row, k, outcome.plan.probabilities)
        head = f"  row {n.prose(label)}: "
        if logits.size == 0:
            yield head + n.prose("no classes (C = 0): an empty sum, ℓ = 0")
            return
        lg = np.asarray(logits, dtype=np.float64)
        ls = log_softmax(lg[None, :])
        lse = float(ls.log_sum_exp[0])
        log_p = ls.log_probs[0]
        term = float(flat(row.terms)[k])
        c = lg.size
        exps = " + ".join(n.dots if j is None else n.e_to(float(lg[j]), o.dtype, p)
                          for j in elided(c))
        if outcome.plan.probabilities:
            t = (1 - eps) * probs + eps / c if eps else probs
            parts = [(n.dots if j is None else
                      (f"{n.given(float(w[j]), o.dtype, p)}{n.times}" if w is not None else "")
                      + f"{n.computed(float(t[j]), p)}{n.times}{n.computed(float(log_p[j]), p)}")
                     for j in elided(c)]
            lse_name = r"\ln \sum_j e^{x_j}" if n.tex else "ln Σ exp"
            yield head + n.math(f"{lse_name} = {n.ln}({exps}) = {n.rounded(lse, p)}")
            yield "    " + n.math(f"{n.ell} = {n.minus}[{' + '.join(parts)}] = "
                                  f"{n.rounded(term, p)}")
            return
        if cls == o.ignore_index:
            yield self.ignored_line(label, cls, n)
            return
        nll = float(-log_p[cls])
        x_y = float(lg[cls])
        line = head + f"class {cls}: " + n.math(
            f"{n.minus}{n.given(x_y, o.dtype, p)} + {n.ln}({exps}) = "
            f"{n.echo(-x_y, o.dtype, p)} + {n.computed(lse, p)} = {n.rounded(nll, p)}")
        weighted = nll
        if w is not None:
            weighted = float(w[cls]) * nll
            line += "; " + n.math(f"{n.times.strip()} w[{cls}] = "
                                  f"{n.echo(float(w[cls]), o.dtype, p)} {n.to} "
                                  f"{n.rounded(weighted, p)}")
        yield line
        if eps:
            each = -log_p if w is None else -log_p * w
            parts = [(n.dots if j is None else
                      (f"{n.given(float(w[j]), o.dtype, p)}{n.times}" if w is not None else "")
                      + n.computed(float(-log_p[j]), p)) for j in elided(c)]
            smooth = float(np.sum(each))
            yield "    " + n.math(f"{n.sum}_c {f'w_c{n.times}' if w is not None else ''}"
                                  f"({n.minus}{n.ln} p_c) = {' + '.join(parts)} = "
                                  f"{n.rounded(smooth, p)}")
            yield "    smoothed: " + n.math(
                f"(1 {n.minus} {g}){n.times}{n.computed(weighted, p)} + {g}/{c}{n.times}"
                f"{n.computed(smooth, p)} = {n.rounded(term, p)}")


LOSS = CrossEntropy()


@keywords_checked
def ce(input: ArrayLike, target: ArrayLike, *, weight: ArrayLike | None = None,
       ignore_index: int = -100, label_smoothing: float = 0.0, reduction: Reduction = "mean",
       dtype: DType = "float64") -> Result:
    from bcecli.api import run_arrays

    return run_arrays(LOSS, input, target, weight=weight, ignore_index=ignore_index,
                      label_smoothing=label_smoothing, reduction=reduction, dtype=dtype)


ce.__doc__ = HELP.text() + """

>>> r = ce([[2.0, 0.0], [0.0, 2.0]], [0, 0])
>>> round(r.loss, 10), r.terms.round(6).tolist()
(1.126928011, [0.126928, 2.126928])
"""
