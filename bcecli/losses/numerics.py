"""The numerics several losses share, each computed the way PyTorch computes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


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
