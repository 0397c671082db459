"""The three losses as pure numpy, computed the way PyTorch computes them.

Each ``*_terms`` function returns the elementwise losses (PyTorch's ``reduction='none'``
result) together with the weight each term carries in the mean, so that a loss can be
reduced in one piece or accumulated over chunks: the mean is always
``sum(terms) / sum(denominators)``.  Nothing here reads files, prints or validates
ranges; :mod:`bcecli.checks` does that with locations.

The public functions at the bottom (:func:`binary_cross_entropy`,
:func:`binary_cross_entropy_with_logits`, :func:`cross_entropy`) take whole arrays, check
them and return a :class:`Loss` result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Reduction = Literal["mean", "sum", "none"]
Array = NDArray[np.floating]

LOG_CLAMP = -100.0
"""BCELoss clamps each log term at -100, as PyTorch does, so that p = 0 or 1 stays finite."""


@dataclass(frozen=True)
class Terms:
    """Elementwise losses and what each contributes to the denominator of the mean."""

    values: Array
    denominators: Array | None = None
    """None means every term counts 1 (the mean divides by the number of terms)."""

    def denominator(self) -> float:
        """The denominator of the mean over these terms."""
        if self.denominators is None:
            return float(self.values.size)
        return float(np.sum(self.denominators, dtype=np.float64))


def sigmoid(x: Array) -> Array:
    """σ(x) = 1 / (1 + e^−x) in x's dtype, as PyTorch's ``sigmoid`` computes it.

    Where e^−x overflows, σ(x) is 0, not a subnormal number: BCELoss then clamps ln σ(x) at
    −100, as it does on PyTorch's σ(x).  e^−x is taken in float64 and rounded to x's dtype,
    which matches PyTorch's float32 ``exp`` more often than numpy's float32 one does.

    >>> sigmoid(np.array([0.0, 1000.0, -1000.0])).tolist()
    [0.5, 1.0, 0.0]
    >>> sigmoid(np.array([-90.0], dtype=np.float32)).tolist()  # e^90 overflows float32
    [0.0]
    """
    with np.errstate(over="ignore"):
        e = np.exp(-x.astype(np.float64)).astype(x.dtype)
    return (1 / (1 + e)).astype(x.dtype, copy=False)


def log_sigmoid(x: Array) -> Array:
    """log σ(x) = min(x, 0) − log1p(e^−|x|), stable for any finite x.

    >>> log_sigmoid(np.array([0.0, -1e4])).tolist()
    [-0.6931471805599453, -10000.0]
    """
    t = np.abs(x, out=np.empty_like(x))  # one temporary, worked in place: the hot loop
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    out = np.minimum(x, 0)
    out -= t
    return out


def bce_terms(p: Array, y: Array, weight: Array | None = None) -> Terms:
    """ℓ = −w·[y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100)].

    Written in PyTorch's order, ``(y − 1)·max(log1p(−p), −100) − y·max(log p, −100)``.

    >>> bce_terms(np.array([0.9, 0.1]), np.array([1.0, 0.0])).values.round(6).tolist()
    [0.105361, 0.105361]
    """
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), LOG_CLAMP)
        log_q = np.maximum(np.log1p(-p), LOG_CLAMP)
    values = (y - 1) * log_q - y * log_p
    if weight is not None:
        values = values * weight
    return Terms(values.astype(p.dtype, copy=False))


def bce_logits_terms(
    x: Array, y: Array, weight: Array | None = None, pos_weight: Array | None = None
) -> Terms:
    """ℓ = w·[(1 − y)·x − (1 + (pw − 1)·y)·log σ(x)], PyTorch's stable form.

    >>> bce_logits_terms(np.array([1e4, -1e4]), np.array([0.0, 1.0])).values.tolist()
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
    return Terms(values.astype(x.dtype, copy=False))


@dataclass(frozen=True)
class LogSoftmax:
    """log softmax over the last axis, with the pieces the breakdown shows."""

    log_probs: Array
    log_sum_exp: Array


def log_softmax(x: Array) -> LogSoftmax:
    """log softmax(x)_j = (x_j − m) − ln Σ_k e^(x_k − m), with m = max_k x_k, as PyTorch.

    >>> log_softmax(np.array([[0.0, 0.0]])).log_probs.tolist()
    [[-0.6931471805599453, -0.6931471805599453]]
    """
    m = np.max(x, axis=-1, keepdims=True, initial=-np.inf)  # -inf where C = 0
    shifted = x - m
    log_s = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return LogSoftmax(shifted - log_s, (m + log_s)[..., 0])


def ce_index_terms(
    x: Array,
    target: NDArray[np.int64],
    weight: Array | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Terms:
    """Cross-entropy with class indices; x is (M, C), target (M,), classes on the last axis.

    ℓ_i = (1 − ε)·w_{y_i}·(−log p_{i,y_i}) + (ε/C)·Σ_c w_c·(−log p_{i,c}), zero where
    y_i is ``ignore_index``; each term counts w_{y_i} (or 1) in the mean.

    >>> t = ce_index_terms(np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([0, 1]))
    >>> t.values.round(6).tolist(), t.denominator()
    ([0.126928, 0.126928], 2.0)
    """
    n_classes = x.shape[-1]
    if n_classes == 0:  # every target is ignored (checks.py refuses others): nothing counts
        zeros = np.zeros(target.shape, dtype=x.dtype)
        return Terms(zeros, zeros)
    log_probs = log_softmax(x).log_probs
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    picked = -np.take_along_axis(log_probs, safe[:, None], axis=-1)[:, 0]
    w_y = np.ones_like(picked) if weight is None else weight[safe]
    w_y = np.where(ignored, 0, w_y).astype(x.dtype, copy=False)
    values = w_y * picked
    if label_smoothing > 0:
        weighted = log_probs if weight is None else log_probs * weight
        smooth = np.where(ignored, 0, -np.sum(weighted, axis=-1))
        values = (1 - label_smoothing) * values + smooth * (label_smoothing / n_classes)
    return Terms(values.astype(x.dtype, copy=False), w_y)


def ce_prob_terms(
    x: Array, target: Array, weight: Array | None = None, label_smoothing: float = 0.0
) -> Terms:
    """Cross-entropy with class probabilities; x and target are (M, C).

    ℓ_i = −Σ_c w_c·t'_{i,c}·log p_{i,c}, with t' = (1 − ε)·t + ε/C; each term counts 1.

    >>> ce_prob_terms(np.array([[0.0, 0.0]]), np.array([[0.5, 0.5]])).values.round(6).tolist()
    [0.693147]
    """
    n_classes = x.shape[-1]
    log_probs = log_softmax(x).log_probs
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    product = log_probs * target
    if weight is not None:
        product = product * weight
    values = (-np.sum(product, axis=-1)).astype(x.dtype, copy=False)
    if n_classes == 0:  # PyTorch: the mean of an input with no elements is NaN
        return Terms(values, np.zeros_like(values))
    return Terms(values)


def reduce_total(total: float, denominator: float, reduction: Reduction) -> float:
    """The reduced loss from the sum of the terms and the denominator of the mean.

    A mean over nothing (every target ignored, or zero total weight) is NaN, as in PyTorch
    (which divides 0 by 0 in the class-index part even when label smoothing adds terms).

    >>> reduce_total(3.0, 4.0, "mean"), reduce_total(3.0, 4.0, "sum"), reduce_total(1.0, 0, "mean")
    (0.75, 3.0, nan)
    """
    if reduction == "sum":
        return total
    if denominator == 0:
        return math.nan
    return total / denominator


@dataclass(frozen=True)
class Loss:
    """A computed loss: the elementwise terms, the denominator of the mean and the result."""

    terms: Array
    denominator: float
    reduction: Reduction

    @property
    def value(self) -> float | Array:
        """The reduced loss (the elementwise terms for reduction ``none``)."""
        if self.reduction == "none":
            return self.terms
        return reduce_total(float(np.sum(self.terms, dtype=np.float64)), self.denominator,
                            self.reduction)


def binary_cross_entropy(
    input: Array, target: Array, weight: Array | None = None, reduction: Reduction = "mean"
) -> Loss:
    """BCELoss on probabilities (torch 2.13 gives the same 0.1891319918); see :func:`bce_terms`.

    >>> round(binary_cross_entropy(np.array([0.9, 0.1, 0.3]), np.array([1.0, 0, 0])).value, 10)
    0.1891319918
    """
    from bcecli.checks import check_bce_values, check_same_shape, check_weight

    p, y = np.asarray(input, dtype=np.float64), np.asarray(target, dtype=np.float64)
    check_same_shape(p.shape, y.shape)
    check_bce_values(p, y)
    w = check_weight(weight, p.shape, "weight")
    terms = bce_terms(p, y, w)
    return Loss(terms.values, terms.denominator(), reduction)


def binary_cross_entropy_with_logits(
    input: Array,
    target: Array,
    weight: Array | None = None,
    pos_weight: Array | None = None,
    reduction: Reduction = "mean",
) -> Loss:
    """BCEWithLogitsLoss; see :func:`bce_logits_terms`.

    >>> round(binary_cross_entropy_with_logits(np.array([1.0, 2.0]), np.array([1.0, 0])).value, 10)
    1.2200948493
    """
    from bcecli.checks import check_same_shape, check_weight

    x, y = np.asarray(input, dtype=np.float64), np.asarray(target, dtype=np.float64)
    check_same_shape(x.shape, y.shape)
    w = check_weight(weight, x.shape, "weight")
    pw = check_weight(pos_weight, y.shape, "pos_weight")
    terms = bce_logits_terms(x, y, w, pw)
    return Loss(terms.values, terms.denominator(), reduction)


def cross_entropy(
    input: Array,
    target: NDArray[np.number],
    weight: Array | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Loss:
    """CrossEntropyLoss on logits (N, C, d1, ...), (N, C) or (C,); see :func:`ce_index_terms`.

    The target holds class indices (the input's shape without the class axis) or class
    probabilities (the input's shape).

    >>> round(cross_entropy(np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([0, 0])).value, 10)
    1.126928011
    """
    from bcecli.checks import ce_layout

    x = np.asarray(input, dtype=np.float64)
    t = np.asarray(target)
    layout = ce_layout(x.shape, t.shape, weight, label_smoothing, ignore_index)
    xs = layout.logits_last(x)
    w = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
    if layout.probabilities:
        terms = ce_prob_terms(xs, layout.targets_last(t.astype(np.float64)), w, label_smoothing)
    else:
        idx = layout.class_indices(t, ignore_index)
        terms = ce_index_terms(xs, idx, w, ignore_index, label_smoothing)
    values = terms.values.reshape(layout.element_shape)
    return Loss(values, terms.denominator(), reduction)
