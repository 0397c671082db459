"""``bce``: binary cross-entropy on probabilities, like ``torch.nn.BCELoss``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bcecli.losses import checks
from bcecli.losses.base import Array, DType, Help, Options, Paired, Param, Reduction
from bcecli.losses.elementwise import WEIGHT, ElementwiseLoss, given
from bcecli.losses.numerics import log, log1p, sigmoid
from bcecli.losses.values import keywords_checked
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import echo, minus, rounded

if TYPE_CHECKING:
    from bcecli.api import Result
    from bcecli.compute.outcome import Outcome

LOG_CLAMP = -100.0
"""BCELoss clamps each log term at -100, as PyTorch does, so that p = 0 or 1 stays finite."""

HELP = Help(
    title="Binary cross-entropy on probabilities, like torch.nn.BCELoss.",
    short="Binary cross-entropy on probabilities (BCELoss).",
    formula=("ℓ = −w·[y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100)]",),
    tex=(r"\ell = -w \cdot [y \cdot \max(\ln p, -100) + (1 - y) \cdot \max(\ln(1 - p), -100)]",),
    notes=(
        "p and y lie in [0, 1] and have the same shape; w (--weight) broadcasts against "
        "them. Each ln is clamped at −100, as PyTorch's BCELoss does, so p = 0 or 1 stays "
        "finite. --sigmoid takes logits x and uses p = σ(x), as BCELoss()(Sigmoid()(x), y) "
        "does. The mean is Σ ℓ / numel.",
    ),
    examples=(
        ("bce -i '[[0.9, 0.1, 0.3], [0.4, 0.8, 0.2]]' -t '[[1, 0, 0], [0, 1, 0]]'",
         'the terms and row means, then "mean of 6 terms = 0.2541"'),
        ("bce --sigmoid --explain -i samples/tutorial-3x3-sigmoid-bce/input.csv "
         "-t samples/tutorial-3x3-sigmoid-bce/target.csv",
         'σ(x), every term written out, then "mean of 9 terms = 0.7193"'),
        ("bce --sigmoid -i x.csv -t y.csv -w '[1, 2, 3]' -f plain",
         "one weight per column; the loss alone, e.g. 1.5579392012099138"),
    ),
)

SIGMOID = Param("sigmoid", ("--sigmoid",), bool, False,
                "Apply a sigmoid to the input first (BCELoss()(Sigmoid()(x), y)).")


@dataclass(frozen=True)
class BceOptions(Options):
    """bce's options: whether the input holds logits to pass through σ first."""

    sigmoid: bool = False


def bce_terms(p: Array, y: Array, weight: Array | None = None) -> Array:
    """ℓ = −w·[y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100)], in p's dtype.

    Written in PyTorch's order, ``(y − 1)·max(log1p(−p), −100) − y·max(log p, −100)``.

    >>> bce_terms(np.array([0.9, 0.1]), np.array([1.0, 0.0])).round(6).tolist()
    [0.105361, 0.105361]
    >>> bce_terms(np.array([0.0]), np.array([1.0])).tolist()  # ln 0 clamped at -100
    [100.0]
    """
    with np.errstate(divide="ignore"):
        log_p = np.maximum(log(p), LOG_CLAMP)
        log_q = np.maximum(log1p(-p), LOG_CLAMP)
    values = (y - 1) * log_q - y * log_p
    if weight is not None:
        values = values * weight
    return values.astype(p.dtype, copy=False)


EPSILON = float(np.float32(1e-12))
"""BCELoss's backward divides by max(p·(1 − p), EPSILON), the C++ float 1e-12f."""


def bce_grad(p: Array, y: Array, weight: Array | None, mean_of: float | None) -> Array:
    """∂L/∂p = w·(p − y) / max((1 − p)·p, 1e-12f) [/ N], PyTorch's backward (not the
    derivative of the clamped forward: at p = 0, y = 1 it is −1/1e-12f ≈ −1.000000004e12,
    where ℓ is 100; 1e-12f is 9.9999999600e-13, not 1e-12).

    >>> bce_grad(np.array([0.25, 0.0]), np.array([0.0, 1.0]), None, None).tolist()
    [1.3333333333333333, -1000000003995.8029]
    """
    eps = p.dtype.type(EPSILON)
    g = (p - y) / np.maximum((1 - p) * p, eps)
    if weight is not None:
        g = g * weight
    if mean_of is not None:
        g = g / p.dtype.type(mean_of)
    return g.astype(p.dtype, copy=False)


def sigmoid_backward(grad: Array, s: Array) -> Array:
    """Sigmoid's backward, ``grad·(1 − σ)·σ``, in PyTorch's order."""
    out: Array = (grad * (1 - s)) * s
    return out


class BinaryCrossEntropy(ElementwiseLoss[BceOptions]):
    """torch.nn.BCELoss (with --sigmoid: BCELoss on torch.sigmoid(x))."""

    name = "bce"
    binary_smoothing = True
    torch_name = "BCELoss"
    help = HELP
    params = (SIGMOID, WEIGHT)
    options_type = BceOptions

    def values(self, opts: BceOptions, x: Array, t: Array, block: Paired,
               weights: Mapping[str, Array | None], warn: list[tuple[str, str, int]]
               ) -> Array:
        if not opts.sigmoid:
            checks.check_unit_interval(x, "input", block.x.locate)
        checks.check_unit_interval(t, "target", block.t.locate)
        return bce_terms(sigmoid(x) if opts.sigmoid else x, t, weights.get("weight"))

    def probabilities(self, opts: BceOptions) -> bool:
        return opts.sigmoid

    def gradient(self, opts: BceOptions, x: Array, t: Array,
                 weights: Mapping[str, Array | None], denominator: float) -> Array:
        mean_of = denominator if opts.reduction == "mean" else None
        if not opts.sigmoid:
            return bce_grad(x, t, weights.get("weight"), mean_of)
        s = sigmoid(x)  # autograd composes BCELoss's backward with sigmoid's
        return sigmoid_backward(bce_grad(s, t, weights.get("weight"), mean_of), s)

    def shows_sigmoid(self, outcome: Outcome) -> bool:
        return bool(self.opts(outcome).sigmoid)

    def grad_formula(self, opts: BceOptions, weighted: bool, pos_weighted: bool) -> str:
        w = "w·" if weighted else ""
        core = f"{w}(p − y)/max(p·(1 − p), 1e−12)"
        return f"{core}·p·(1 − p)" if opts.sigmoid else core

    def grad_where(self, opts: BceOptions) -> str:
        return ", p = σ(x)" if opts.sigmoid else ""

    def grad_element(self, opts: BceOptions, x: float, y: float, w: float | None,
                     pw: float | None, p: int) -> list[str]:
        prob = float(sigmoid(np.array([x], dtype=opts.dtype))[0]) if opts.sigmoid else x
        q = 1 - prob
        pt = rounded(prob, p) if opts.sigmoid else echo(prob, opts.dtype, p)
        yt = echo(y, opts.dtype, p)
        lead = "" if w is None else given(w, opts.dtype, p) + "·"
        pq = f"{pt}·(1 − {pt})"
        if prob * q < EPSILON:  # the clamp bites: written out only here
            below, floor = f"max({pq}, 1e−12)", "1e−12"
        else:
            below, floor = f"({pq})", rounded(prob * q, p)
        if not opts.sigmoid:
            return [minus(f"{lead}({pt} − {yt})/{below}"),
                    minus(f"{lead}{_signed(prob - y, p)}/{floor}")]
        # autograd: BCELoss's backward, then sigmoid's, ·σ(x)·(1 − σ(x))
        return [minus(f"{lead}({pt} − {yt})/{below}·{pq}"),
                minus(f"{lead}{_signed(prob - y, p)}/{floor}·{rounded(prob * q, p)}")]

    def logs(self, opts: BceOptions, x: float, prob: float, p_text: str, p: int,
             n: Notation = TEXT) -> tuple[str, str]:
        clamp_p = prob == 0 or math.log(prob) < LOG_CLAMP
        clamp_q = prob == 1 or math.log1p(-prob) < LOG_CLAMP
        ln_p, ln_q = f"{n.ln} {p_text}", f"{n.ln}(1 {n.minus} {p_text})"
        return (f"{n.max}({ln_p}, {n.minus}100)" if clamp_p else ln_p,
                f"{n.max}({ln_q}, {n.minus}100)" if clamp_q else ln_q)

    def formula_notes(self, opts: BceOptions) -> list[str]:
        notes = ["each ln is clamped at −100, as PyTorch's BCELoss does, so p = 0 or 1 "
                 "stays finite"]
        return (["p = σ(x): the input holds logits (--sigmoid)"] if opts.sigmoid else []) + notes

    def json_options(self, outcome: Outcome) -> dict[str, object]:
        return {"sigmoid": self.opts(outcome).sigmoid, **super().json_options(outcome)}


def _signed(v: float, p: int) -> str:
    s = rounded(v, p)
    return f"({s})" if v < 0 else s


LOSS = BinaryCrossEntropy()


@keywords_checked
def bce(input: ArrayLike, target: ArrayLike, *, sigmoid: bool = False,
        weight: ArrayLike | None = None, reduction: Reduction = "mean",
        dtype: DType = "float64") -> Result:
    from bcecli.api import run_arrays

    return run_arrays(LOSS, input, target, sigmoid=sigmoid, weight=weight,
                      reduction=reduction, dtype=dtype)


bce.__doc__ = HELP.text() + """

>>> r = bce([[0.9, 0.1, 0.3]], [[1, 0, 0]])
>>> round(r.loss, 10), r.terms.round(4).tolist()
(0.1891319918, [[0.1054, 0.1054, 0.3567]])
"""
