"""The Python API: the same losses on arrays, for notebooks and scripts.

>>> import bcecli
>>> r = bcecli.bce([[-0.4089, -1.2471, 0.5907]], [[0, 1, 1]], sigmoid=True)
>>> round(r.loss, 4), r.row_means.round(4).tolist()
(0.8166, [0.8166])
>>> r.grad.round(4).tolist()          # ∂L/∂x, as loss.backward() gives it
[[0.1331, -0.2589, -0.1188]]

Each function (``bcecli.bce``, ``bce_logits``, ``ce``, ...) takes array-likes and the
options of its command as keywords, and returns a :class:`Result`: the loss, the
elementwise terms, the per-row means and the warnings.  Shown in Jupyter or a rich
console (or printed), a result is the table the command line prints.  Problems raise
:class:`~bcecli.errors.BceError` with the message the command line would print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bcecli.compute.engine import Collect, Inputs, compute, joined_parts
from bcecli.compute.outcome import Keep, Outcome
from bcecli.errors import BceError
from bcecli.io.arrays import as_float64
from bcecli.io.source import Source, in_memory, index_locator
from bcecli.losses.base import Loss, Matrix

TABLE_ROWS = 20
"""Rows the table of a result shows (the first and last ten)."""


@dataclass(frozen=True)
class Result:
    """A computed loss: the reduced value, the elementwise terms and the per-row means."""

    outcome: Outcome
    terms: NDArray[np.floating]
    """The elementwise losses (``reduction='none'``), shaped like the loss's elements."""
    row_means: NDArray[np.float64]
    """Each row's mean term (its weighted mean where terms count differently)."""
    backward: Callable[[float], NDArray[np.floating]] | None = field(
        default=None, repr=False, compare=False)
    """Computes ∂L/∂x given the mean's denominator (1 for sum and none)."""

    @cached_property
    def grad(self) -> NDArray[np.floating]:
        """∂L/∂input, shaped like the input, as PyTorch's backward gives it:
        ``loss.backward()`` for mean and sum, ``loss.backward(torch.ones_like(loss))`` for
        none; computed on first use."""
        if self.backward is None:
            raise BceError("this result was not made from arrays, so it has no gradient")
        o = self.outcome
        return self.backward(o.denominator if o.options.reduction == "mean" else 1.0)

    @property
    def loss(self) -> Any:
        """The reduced loss (a float), or the elementwise terms for ``reduction='none'``."""
        if self.outcome.options.reduction == "none":
            return self.terms
        return self.outcome.loss

    @property
    def warnings(self) -> list[str]:
        """What PyTorch would compute without a word (a NaN mean, an overflow)."""
        return self.outcome.warnings

    def table(self, width: int | None = 100, color: bool = False, precision: int = 4,
              explain: bool = False) -> str:
        """The breakdown as the command line prints it."""
        from bcecli.report.console import render_text

        with np.errstate(all="ignore"):  # (inf and NaN are shown as computed, like the CLI)
            return render_text(self.outcome, precision, width, color, explain)

    def explain(self, precision: int = 4, width: int | None = 100) -> str:
        """The calculation written out step by step, then the table."""
        return self.table(width, precision=precision, explain=True)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        from bcecli.report.numbers import exact

        o = self.outcome
        value = "elementwise" if o.options.reduction == "none" else exact(o.loss, o.options.dtype)
        return (f"<bcecli.Result {o.loss_fn.name} {o.options.reduction}={value} "
                f"input={o.input_shape}>")

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from bcecli.report.table import renderables

        with np.errstate(all="ignore"):  # made here, not while the caller holds the generator
            parts = list(renderables(self.outcome, 4, options.max_width))
        yield from parts

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter: the table, coloured, as HTML; and as plain text."""
        import io

        from rich.console import Console

        from bcecli.report.table import render_table

        console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True,
                          force_jupyter=False)
        with np.errstate(all="ignore"):
            render_table(self.outcome, console, 4, 100)
        return {"text/html": console.export_html(inline_styles=True),
                "text/plain": self.table()}


def _source(array: NDArray[np.float64], name: str) -> Source:
    return in_memory(name, array, index_locator(name))


def run_arrays(loss: Loss[Any, Any], input: ArrayLike, target: ArrayLike, **options: Any
               ) -> Result:
    """Compute ``loss`` on arrays; ``options`` are its keywords (matrices as arrays)."""
    matrices = {p.name for p in loss.params if p.kind is Matrix}
    opts = loss.make_options({k: v for k, v in options.items() if k not in matrices})
    arrays = {name: as_float64(value, name) for name, value in options.items()
              if name in matrices and value is not None}
    x, t = as_float64(input, "input"), as_float64(target, "target")

    def inputs() -> Inputs:  # sources are read once: fresh ones for each computation
        return Inputs(_source(x, "input"), _source(t, "target"),
                      {name: _source(a, name) for name, a in arrays.items()})

    sink = Collect()
    with np.errstate(all="ignore"):
        outcome = compute(loss, opts, inputs(), keep=Keep.rows(TABLE_ROWS), sink=sink)

    def backward(denominator: float) -> NDArray[np.floating]:
        grads = Collect()
        with np.errstate(all="ignore"):
            compute(loss, opts, inputs(), keep=Keep(0, 0), sink=grads, grad=denominator)
        return joined_parts(grads.grads, outcome.input_shape, np.dtype(opts.dtype))

    shape = outcome.element_shape
    terms = joined_parts(sink.terms, shape, np.float64)
    rows = np.concatenate(sink.rows) if sink.rows else np.empty(0)
    return Result(outcome, terms, rows, backward)
