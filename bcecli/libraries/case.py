"""A :class:`~bcecli.libraries.base.Case` from a run's options, and the feed that hands
each block of the data, as bcecli reads and checks it, to the libraries' computations."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from bcecli.errors import BceError
from bcecli.io.source import Source, joined
from bcecli.libraries.base import F64, Accumulator, Array, Case, Lacking, as_rows, ignored_in
from bcecli.losses.base import Loss, Options
from bcecli.losses.classes import ClassLoss


def case_of(loss: Loss[Any, Any], opts: Options, matrices: Collection[str],
            sample_weight: F64 | None, smoothing: float) -> Case:
    """The case of a run, before its data is read (its shapes come with the data).

    ``matrices``: the names of the loss's matrix options given (weights), which only
    PyTorch's rules take; ``smoothing``: the binary label smoothing (the ce one is among
    the loss's options).
    """
    values: dict[str, Any] = {name: getattr(opts, name) for name in
                              (p.name for p in loss.params) if hasattr(opts, name)}
    torch_only = [f"--{p.name.replace('_', '-')}" for p in loss.matrix_params
                  if p.name in matrices]
    return Case(
        loss=loss.name, shape=(), reduction=opts.reduction,
        sigmoid=bool(values.get("sigmoid", False)),
        label_smoothing=float(values.get("label_smoothing", 0.0) or smoothing),
        sample_weight=sample_weight, ignore_index=int(values.get("ignore_index", -100)),
        torch_only=torch_only, options=values, classes=isinstance(loss, ClassLoss))


class Feed:
    """The run's ``data`` callback: each block of input and target rows to every
    library's computation (one that finds what it cannot express drops out, with why),
    the shapes and counts the case needs, and the data itself while it is small (for
    ``--emit``'s inline data)."""

    def __init__(self, case: Case, accumulators: dict[str, Accumulator], keep: int = 0,
                 strict: bool = False) -> None:
        self.case = case
        self.accumulators = accumulators
        self.lacking: dict[str, str] = {}
        self.strict = strict
        """Raise what a library lacks at once (--like), rather than drop it (--compare)."""
        self.checked = False
        self.rows = 0
        self.keep = keep
        self.kept: list[tuple[F64, F64]] | None = [] if keep else None
        self.values = 0
        self.trailing: tuple[int, ...] = ()

    def __call__(self, inputs: Array, targets: Array) -> None:
        x, t = as_rows(self.case, np.asarray(inputs, dtype=np.float64),
                       np.asarray(targets, dtype=np.float64))
        self.trailing = x.shape[1:]
        if not self.checked:
            self.case.shape = x.shape  # (the number of rows is known at the end)
            self.case.probabilities = self.case.classes and t.shape == x.shape
            self.check()
        self.case.ignored += ignored_in(t, self.case)
        for name, acc in list(self.accumulators.items()):
            try:
                if acc.dtype == "float32":
                    _fits_float32(x, t, self.rows)
                acc.add(x, t, self.rows)
            except Lacking as exc:
                self.drop(name, str(exc))
        self.rows += x.shape[0]
        self.values += x.size
        if self.kept is not None:
            if self.values <= self.keep:
                self.kept.append((x, t))
            else:
                self.kept = None

    def check(self) -> None:
        """What each library lacks, as far as the options and the shapes tell."""
        self.checked = True
        for name, acc in list(self.accumulators.items()):
            reason = acc.library.lacks(self.case)
            if reason is not None:
                self.drop(name, reason)

    def drop(self, name: str, reason: str) -> None:
        """A library that cannot express the case: said at once under --like."""
        acc = self.accumulators.pop(name)
        if self.strict:
            raise acc.library.cannot(reason)
        self.lacking[name] = reason

    def done(self, input_shape: tuple[int, ...]) -> None:
        """The whole data is read (``input_shape``, as the run read it): the case's shape
        is its rows'."""
        self.case.shape = (self.rows, *self.trailing)
        self.case.unbatched = self.case.classes and len(input_shape) == 1
        if self.case.sample_weight is not None:
            self.case.sample_weight = per_sample(self.case.sample_weight, self.rows)
        if not self.checked:
            self.check()

    def data(self) -> tuple[F64, F64] | None:
        """The whole input and target, if they were small enough to keep."""
        if self.kept is None:
            return None
        if not self.kept:
            return np.empty((0, *self.trailing)), np.empty(0)
        return (np.concatenate([x for x, _ in self.kept]),
                np.concatenate([t for _, t in self.kept]))


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _fits_float32(x: F64, t: F64, start: int) -> None:
    """A value float32 cannot hold would be computed as infinity: refused, as PyTorch's rules
    refuse it under --dtype float32."""
    for what, a in (("input", x), ("target", t)):
        big = np.flatnonzero(np.abs(a) > FLOAT32_MAX)
        if big.size:
            at = [int(i[0]) for i in np.unravel_index(big[:1], a.shape)]
            at[0] += start
            raise Lacking(f"{what}{at} is {float(a.reshape(-1)[big[0]])!r}, beyond float32, "
                          f"the dtype it computes in (--dtype float64 computes in float64)")


def per_sample(w: F64, n: int) -> F64:
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
