"""A :class:`~bcecli.libraries.base.Case` from a run: the data as bcecli read and checked
it (every row kept), the options, and the sample weights."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from bcecli.compute.outcome import Outcome
from bcecli.errors import BceError
from bcecli.io.source import Source, joined
from bcecli.libraries.base import F64, Case


def case_of(outcome: Outcome, matrices: Collection[str], sample_weight: F64 | None,
            smoothing: float) -> Case:
    """The case of an outcome computed with every row kept (``Keep.rows(0)``).

    ``matrices``: the names of the loss's matrix options given (weights), which only
    PyTorch's rules take; ``smoothing``: the binary label smoothing (the ce one is among
    the loss's options).
    """
    rows = outcome.kept()
    x = np.stack([r.input for r in rows]) if rows else np.empty(outcome.input_shape)
    t = np.stack([r.target for r in rows]) if rows else np.empty((0,))
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
        loss=loss.name, x=np.asarray(x, dtype=np.float64), t=np.asarray(t, dtype=np.float64),
        reduction=opts.reduction, sigmoid=bool(values.get("sigmoid", False)),
        probabilities=probabilities,
        label_smoothing=float(values.get("label_smoothing", 0.0) or smoothing),
        sample_weight=sample_weight, ignore_index=int(values.get("ignore_index", -100)),
        torch_only=torch_only, options=values)


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
