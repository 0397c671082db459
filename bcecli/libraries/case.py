"""A :class:`~bcecli.libraries.base.Case` from a run: the data as bcecli read and checked
it (every row kept), the options, and the sample weights."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from bcecli.compute.outcome import Outcome
from bcecli.errors import BceError
from bcecli.io.source import Source, joined
from bcecli.libraries.base import F64, Array, Case
from bcecli.losses.classes import ClassLoss


class Collected:
    """The data and the terms of a run, block by block (its ``data`` callback and sink)."""

    def __init__(self) -> None:
        self.inputs: list[Array] = []
        self.targets: list[Array] = []
        self.terms: list[Array] = []

    def data(self, inputs: Array, targets: Array) -> None:
        self.inputs.append(inputs)
        self.targets.append(targets)

    def write(self, terms: Array, row_values: Array, grad: Array | None = None) -> None:
        self.terms.append(terms)

    def arrays(self, outcome: Outcome) -> tuple[F64, F64, Array]:
        """The input, the target and the elementwise terms, whole."""
        x = _joined(self.inputs, outcome.input_shape)
        t = np.concatenate(self.targets) if self.targets else np.empty((0,))
        terms = _joined(self.terms, outcome.element_shape)
        return x, np.asarray(t, dtype=np.float64), terms


def _joined(parts: list[Array], shape: tuple[int, ...]) -> F64:
    if not parts:
        return np.empty(shape)
    return np.asarray(np.concatenate([p.reshape(-1) for p in parts]), dtype=np.float64
                      ).reshape(shape)


def case_of(outcome: Outcome, collected: Collected, matrices: Collection[str],
            sample_weight: F64 | None, smoothing: float) -> Case:
    """The case of a run whose blocks were collected.

    ``matrices``: the names of the loss's matrix options given (weights), which only
    PyTorch's rules take; ``smoothing``: the binary label smoothing (the ce one is among
    the loss's options).
    """
    x, t, _ = collected.arrays(outcome)
    classes = isinstance(outcome.loss_fn, ClassLoss)
    if x.ndim == 1 and classes:
        x, t = x[None, :], t.reshape(1)  # (an unbatched (C,) input: one sample)
    loss = outcome.loss_fn
    opts = outcome.options
    values: dict[str, Any] = {name: getattr(opts, name) for name in
                              (p.name for p in loss.params) if hasattr(opts, name)}
    plan = outcome.plan
    probabilities = bool(getattr(plan, "probabilities", False))
    if sample_weight is not None:
        sample_weight = _per_sample(sample_weight, x.shape[0] if x.ndim else 1)
    torch_only = [f"--{p.name.replace('_', '-')}" for p in loss.matrix_params
                  if p.name in matrices]
    return Case(
        loss=loss.name, x=x, t=t, reduction=opts.reduction,
        sigmoid=bool(values.get("sigmoid", False)), probabilities=probabilities,
        label_smoothing=float(values.get("label_smoothing", 0.0) or smoothing),
        sample_weight=sample_weight, ignore_index=int(values.get("ignore_index", -100)),
        torch_only=torch_only, options=values, classes=classes)


def _per_sample(w: F64, n: int) -> F64:
    """Sample weights as (N,): a column (N, 1), as CSV gives it, is taken as (N,)."""
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1 or w.shape[0] != n:
        raise BceError(f"--sample-weight has shape {tuple(w.shape)}; it takes one weight per "
                       f"sample: ({n},), for an input of {n} samples")
    if not np.all(np.isfinite(w)):
        bad = int(np.flatnonzero(~np.isfinite(w))[0])
        raise BceError(f"--sample-weight[{bad}] is {w[bad]!r}; sample weights must be "
                       f"finite numbers")
    return w


def read_whole(source: Source) -> F64:
    """A source's blocks as one array."""
    return np.asarray(joined(list(source.blocks())).data, dtype=np.float64)
