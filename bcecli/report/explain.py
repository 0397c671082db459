"""``--explain``: the calculation written out the way the tutorials do it by hand.

The loss writes its own lines (:meth:`~bcecli.losses.base.Loss.explain`): its formula, then
each element or sample with its numbers.  This module frames them: what is computed, and
how the terms reduce to the loss.  Values the user gave are echoed as typed; computed ones
are rounded to ``--precision`` decimals; every sum is taken over the unrounded terms.
"""

from __future__ import annotations

from collections.abc import Iterator

from bcecli.compute.outcome import Outcome
from bcecli.report.display import each_row, summary
from bcecli.report.numbers import minus


def explain(outcome: Outcome, p: int) -> Iterator[str]:
    """Lines of the hand calculation."""
    o = outcome.options
    yield f"{outcome.loss_fn.torch_name}, reduction {o.reduction}, {o.dtype}"
    yield from outcome.loss_fn.explain(outcome, p)
    yield ""
    yield f"Loss: {_final(outcome, p)}"
    if outcome.grad_denominator is not None:
        yield ""
        yield f"Gradient, as PyTorch's backward gives it: {outcome.loss_fn.grad_rule(outcome)}"
        yield from each_row(outcome, lambda row: outcome.loss_fn.grad_lines(outcome, row, p))
    if outcome.hidden > 0:
        yield f"({outcome.hidden} rows not written out; --max-rows 0 shows all)"
    yield (f"(Numbers are rounded to {p} decimals for reading; every sum is taken over the "
           f"unrounded terms, so the last digit may differ from a sum of the rounded ones.)")


def _final(outcome: Outcome, p: int) -> str:
    """How the rows' values reduce to the loss, written out when there are few."""
    shown = outcome.kept()
    o = outcome.options
    last = minus(summary(outcome, p))  # (the table's footer, in typographic minus)
    if o.reduction == "none" or outcome.hidden > 0 or len(shown) < 2:
        return last
    written = outcome.loss_fn.final(outcome, shown, p)
    return last if written is None else f"{written}  [{last}]"
