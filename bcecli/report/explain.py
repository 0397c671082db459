"""``--explain``: the calculation written out the way the tutorials do it by hand.

The loss writes its own lines (:meth:`~bcecli.losses.base.Loss.explain`): its formula, then
each element or sample with its numbers.  This module frames them: what is computed, and
how the terms reduce to the loss.  Values the user gave are echoed as typed; computed ones
are rounded to ``--precision`` decimals; every sum is taken over the unrounded terms.

The lines are written in a :class:`~bcecli.report.notation.Notation`: text for a terminal,
or Markdown with LaTeX math (:mod:`bcecli.report.markdown`).
"""

from __future__ import annotations

from collections.abc import Iterator

from bcecli.compute.outcome import Outcome
from bcecli.report.display import each_row, summary
from bcecli.report.notation import TEXT, Notation
from bcecli.report.numbers import minus, plural


def explain(outcome: Outcome, p: int, n: Notation = TEXT) -> Iterator[str]:
    """Lines of the hand calculation."""
    o = outcome.options
    yield n.prose(f"{outcome.loss_fn.torch_name}, reduction {o.reduction}, {o.dtype}")
    yield from outcome.loss_fn.explain(outcome, p, n)
    yield ""
    yield f"Loss: {_final(outcome, p, n)}"
    if outcome.grad_denominator is not None:  # (written as text, also in Markdown)
        yield ""
        yield n.prose("Gradient, as PyTorch's backward gives it: "
                      f"{outcome.loss_fn.grad_rule(outcome)}")
        yield from map(n.prose, each_row(
            outcome, lambda row: outcome.loss_fn.grad_lines(outcome, row, p)))
    if outcome.hidden > 0:
        yield n.prose(f"({plural(outcome.hidden, 'row')} not written out; --max-rows 0 "
                      f"shows all)")
    yield (f"(Numbers are rounded to {p} decimals for reading; every sum is taken over the "
           f"unrounded terms, so the last digit may differ from a sum of the rounded ones.)")


def _final(outcome: Outcome, p: int, n: Notation) -> str:
    """How the rows' values reduce to the loss, written out when there are few."""
    shown = outcome.kept()
    o = outcome.options
    # (the table's footer: in typographic minus, or as the Markdown table's footer says it)
    last = n.prose(summary(outcome, p)) if n.tex else minus(summary(outcome, p))
    if o.reduction == "none" or outcome.hidden > 0 or len(shown) < 2:
        return last
    written = outcome.loss_fn.final(outcome, shown, p, n)
    if written is None:
        return last
    return f"{n.math(written)} ({last})" if n.tex else f"{written}  [{last}]"
