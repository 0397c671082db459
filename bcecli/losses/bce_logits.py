"""``bce-logits``: binary cross-entropy on logits, like ``torch.nn.BCEWithLogitsLoss``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bcecli.losses import checks
from bcecli.losses.base import (
    EVERY_ROW,
    Array,
    DType,
    Help,
    Matrix,
    Options,
    Paired,
    Param,
    Reduction,
)
from bcecli.losses.elementwise import WEIGHT, ElementwiseLoss, given
from bcecli.losses.numerics import log_sigmoid, sigmoid
from bcecli.losses.values import keywords_checked
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import echo, minus, rounded

if TYPE_CHECKING:
    from bcecli.api import Result

HELP = Help(
    title="Binary cross-entropy on logits, like torch.nn.BCEWithLogitsLoss (numerically "
          "stable).",
    short="Binary cross-entropy on logits (BCEWithLogitsLoss).",
    formula=("ℓ = w·[(1 − y)·x − (1 + (pw − 1)·y)·ln σ(x)]",
             "ln σ(x) = min(x, 0) − ln(1 + e^−|x|)"),
    tex=(r"\ell = w \cdot [(1 - y) \cdot x - (1 + (p_w - 1) \cdot y) \cdot \ln \sigma(x)]",
         r"\ln \sigma(x) = \min(x, 0) - \ln(1 + e^{-\lvert x \rvert})"),
    notes=(
        "x holds logits and y targets of the same shape; w (--weight) broadcasts against "
        "them and pw (--pos-weight, the weight of positive examples) against the target. "
        "The stable form is exact for logits of ±1e4 and beyond. PyTorch computes targets "
        "outside [0, 1] without a word; bcecli computes them too and warns. The mean is "
        "Σ ℓ / numel.",
    ),
    examples=(
        ("bce-logits -i samples/tutorial-3x3-logits/input.csv "
         "-t samples/tutorial-3x3-logits/target.csv",
         'σ(x), the terms, row means and "mean of 9 terms = 0.7193"'),
        ("bce-logits -i logits.csv -t labels.csv --pos-weight '[1, 2, 3]' -f plain",
         "positives of column 2 count twice, of column 3 three times"),
        ("bce-logits -i logits.npy -t labels.npy -r none -f csv | head",
         "the elementwise losses, streamed"),
    ),
)

POS_WEIGHT = Param("pos_weight", ("--pos-weight",), Matrix, None,
                   "Weight of positive examples, broadcast against the target (usually one "
                   "per column), e.g. '[1, 2, 3]' or 2.")


def bce_logits_terms(x: Array, y: Array, weight: Array | None = None,
                     pos_weight: Array | None = None) -> Array:
    """ℓ = w·[(1 − y)·x − (1 + (pw − 1)·y)·log σ(x)], PyTorch's stable form, in x's dtype.

    >>> bce_logits_terms(np.array([1e4, -1e4]), np.array([0.0, 1.0])).tolist()
    [10000.0, 10000.0]
    """
    log_sig = log_sigmoid(x)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * y + 1)
    values = 1 - y
    values *= x
    values -= log_sig
    if weight is not None:
        values = values * weight
    return values.astype(x.dtype, copy=False)


def bce_logits_grad(x: Array, y: Array, weight: Array | None, pos_weight: Array | None,
                    mean_of: float | None) -> Array:
    """∂L/∂x = w·(σ(x)·(1 + (pw − 1)·y) − pw·y) [/ N], in PyTorch's order:
    ``(pw·y + 1 − y)·σ(x) − pw·y``, then the weight, then the mean's division.

    >>> bce_logits_grad(np.array([0.0, 2.0]), np.array([1.0, 0.0]), None, None, 2).tolist()
    [-0.25, 0.44039853898894116]
    """
    s = sigmoid(x)
    if pos_weight is not None:
        t = pos_weight * y
        g = ((t + 1) - y) * s - t
    else:
        g = s - y
    if weight is not None:
        g = g * weight
    if mean_of is not None:
        g = g / x.dtype.type(mean_of)
    return g.astype(x.dtype, copy=False)



LOOKS_LIKE_PROBABILITIES = (
    "every input value lies in [0, 1]: these look like probabilities, but BCEWithLogitsLoss "
    "takes logits (σ is applied to them); for probabilities use bce")


class BinaryCrossEntropyWithLogits(ElementwiseLoss[Options]):
    """torch.nn.BCEWithLogitsLoss."""

    name = "bce-logits"
    binary_smoothing = True
    torch_name = "BCEWithLogitsLoss"
    help = HELP
    params = (WEIGHT, POS_WEIGHT)

    def values(self, opts: Options, x: Array, t: Array, block: Paired,
               weights: Mapping[str, Array | None], warn: list[tuple[str, str, int]]
               ) -> Array:
        outside = checks.outside_unit_warning(t, "target", block.t.locate)
        if outside is not None:
            warn.append(("target01", outside, int(np.count_nonzero((t < 0) | (t > 1)))))
        if x.size and float(x.min()) >= 0 and float(x.max()) <= 1 and \
                bool(np.any(x != np.round(x))):  # (counted in rows; 0/1 alone are no sign)
            warn.append((EVERY_ROW + "bce-logits", LOOKS_LIKE_PROBABILITIES,
                         x.shape[0] if x.ndim else 1))
        return bce_logits_terms(x, t, weights.get("weight"), weights.get("pos_weight"))

    def probabilities(self, opts: Options) -> bool:
        return True

    def gradient(self, opts: Options, x: Array, t: Array, weights: Mapping[str, Array | None],
                 denominator: float) -> Array:
        return bce_logits_grad(x, t, weights.get("weight"), weights.get("pos_weight"),
                               denominator if opts.reduction == "mean" else None)

    def grad_formula(self, opts: Options, weighted: bool, pos_weighted: bool) -> str:
        core = "((pw·y + 1 − y)·σ(x) − pw·y)" if pos_weighted else "(σ(x) − y)"
        return ("w·" if weighted else "") + core

    def grad_element(self, opts: Options, x: float, y: float, w: float | None,
                     pw: float | None, p: int) -> list[str]:
        s = float(sigmoid(np.array([x], dtype=opts.dtype))[0])
        xt, yt = echo(x, opts.dtype, p), echo(y, opts.dtype, p)
        lead = "" if w is None else given(w, opts.dtype, p) + "·"
        if pw is None:
            return [minus(f"{lead}(σ({xt}) − {yt})"), minus(f"{lead}({rounded(s, p)} − {yt})")]
        pwt = given(pw, opts.dtype, p)
        return [minus(f"{lead}(({pwt}·{yt} + 1 − {yt})·σ({xt}) − {pwt}·{yt})"),
                minus(f"{lead}({rounded(pw * y + 1 - y, p)}·{rounded(s, p)} − "
                      f"{rounded(pw * y, p)})")]

    def logs(self, opts: Options, x: float, prob: float, p_text: str, p: int,
             n: Notation = TEXT) -> tuple[str, str]:
        if p_text in (n.rounded(0.0, p), n.rounded(1.0, p)):
            # p rounds to 0 or 1 on paper: write the logs as computed, from the logit
            return (f"{n.ln} {n.sigma}({n.echo(x, opts.dtype, p)})",
                    f"{n.ln} {n.sigma}({n.echo(-x, opts.dtype, p)})")
        return f"{n.ln} {p_text}", f"{n.ln}(1 {n.minus} {p_text})"

    def formula_notes(self, opts: Options) -> list[str]:
        return ["computed stably from the logit: ln p = ln σ(x) and ln(1 − p) = ln σ(−x), "
                "exact even where p rounds to 0 or 1"]


LOSS = BinaryCrossEntropyWithLogits()


@keywords_checked
def bce_logits(input: ArrayLike, target: ArrayLike, *, weight: ArrayLike | None = None,
               pos_weight: ArrayLike | None = None, reduction: Reduction = "mean",
               dtype: DType = "float64") -> Result:
    from bcecli.api import run_arrays

    return run_arrays(LOSS, input, target, weight=weight, pos_weight=pos_weight,
                      reduction=reduction, dtype=dtype)


bce_logits.__doc__ = HELP.text() + """

>>> r = bce_logits([[1.0, 2.0]], [[1, 0]], pos_weight=[2, 1])
>>> round(r.loss, 10)
1.376725693
"""
