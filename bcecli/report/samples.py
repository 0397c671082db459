"""The summary of a big set's samples and its worst samples, for people and for JSON.

The summary follows the table when the table cannot show every sample: how many, the mean,
spread and quantiles of their losses, a histogram, the mean loss per target class, and for
the losses over classes the accuracy.  ``--top K`` shows the K samples of greatest loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bcecli.report.display import row_word
from bcecli.report.numbers import plural, rounded

if TYPE_CHECKING:
    from bcecli.compute.outcome import Outcome
    from bcecli.compute.samples import Summary

BAR = 24
"""The longest bar of the histogram, in cells, where the width allows."""
MAX_GROUPS = 20
"""Classes listed in the summary, at most (JSON lists them all)."""
EIGHTHS = " ▏▎▍▌▋▊▉█"


def shows_summary(outcome: Outcome) -> bool:
    """Whether the table leaves samples out (rows hidden, or a K-dimensional sample's
    positions), so that the summary says what it cannot."""
    s = outcome.samples
    if s is None:
        return False
    return outcome.hidden > 0 or (outcome.loss_fn.terms_are_samples
                                  and len(outcome.element_shape) > 1)


def what_a_sample_is(outcome: Outcome) -> str:
    """How a sample's loss is taken, in a few words."""
    if outcome.loss_fn.terms_are_samples:
        if len(outcome.element_shape) > 1:
            return "a sample is a position; its loss is its term"
        return "a sample is a row; its loss is its term"
    return f"a sample is a row; its loss is the {row_word(outcome)} of its terms"


def summary_lines(outcome: Outcome, p: int, width: int | None, ascii: bool = False
                  ) -> Iterator[str]:
    """The summary's lines (each to be broken at spaces to the width)."""
    s = outcome.samples
    assert s is not None
    uncounted = f", {plural(s.uncounted, 'ignored sample')} left out" if s.uncounted else ""
    nan = f", {s.nan:,} NaN loss{'es' * (s.nan != 1)} left out" if s.nan else ""
    yield f"samples: {s.count:,} ({what_a_sample_is(outcome)}{uncounted}{nan})"
    if s.count == 0:
        return
    approx = "" if s.exact else "≈"
    stats = [f"mean {rounded(s.mean, p)}", f"std {rounded(s.std, p)}",
             f"min {rounded(s.minimum, p)}",
             *(f"p{q} {approx}{rounded(v, p)}" for q, v in s.quantiles.items()),
             f"max {rounded(s.maximum, p)}"]
    yield from _packed(stats, width)
    yield from _histogram(s, p, width, ascii)
    yield from _groups(outcome, s, p)
    if s.accuracy is not None:
        yield (f"  accuracy {100 * s.accuracy:.2f} % (the most likely class is the target "
               f"for {s.correct:,} of {s.count:,} samples)")


def _packed(terms: list[str], width: int | None) -> Iterator[str]:
    """Terms joined by `` · `` in lines of the width, broken between terms only (a term
    is never split: ``p90 4.1578`` stays on one line)."""
    line = ""
    for term in terms:
        joined = f"{line} · {term}" if line else term
        if line and width is not None and 2 + len(joined) + 2 > width:  # (and its " ·")
            yield "  " + line + " ·"
            line = term
        else:
            line = joined
    yield "  " + line


def _histogram(s: Summary, p: int, width: int | None, ascii: bool) -> Iterator[str]:
    counts = [c for _, _, c in s.histogram]
    if len(counts) < 2:
        return
    labels = [f"{rounded(lo, p)} – {rounded(hi, p)}" for lo, hi, _ in s.histogram]
    texts = [f"{c:,}" for c in counts]
    left = max(map(len, labels))
    room = (width or 80) - 2 - left - 1 - 1 - max(map(len, texts))
    bar = max(4, min(BAR, room))
    top = max(counts)
    nonzero = [c for c in counts if c]
    log = top / min(nonzero) > 1000  # (a few big losses beside very many small ones)
    scale = "; bar lengths on a log scale" if log else ""
    yield f"  losses in {len(counts)} equal ranges{scale}" + ("" if s.exact else
                                                              " (of the losses' bins)")
    for label, c, text in zip(labels, counts, texts, strict=True):
        share = (math.log1p(c) / math.log1p(top) if log else c / top) if c else 0.0
        yield f"  {label:>{left}} {_bar(share * bar, ascii)} {text}"


def _bar(cells: float, ascii: bool) -> str:
    """A bar ``cells`` long, in eighths of a cell (``#`` for each whole cell in ASCII)."""
    whole = int(cells)
    if ascii:
        return "#" * whole if whole or not cells else "."
    part = int((cells - whole) * 8)
    text = "█" * whole + (EIGHTHS[part] if part else "")
    return text or ("▏" if cells else "")


def _groups(outcome: Outcome, s: Summary, p: int) -> Iterator[str]:
    if not s.groups:
        return
    items = list(s.groups.items())
    shown = items if len(items) <= MAX_GROUPS else items[:MAX_GROUPS]
    what = "mean term" if not outcome.loss_fn.terms_are_samples else "mean loss"
    labels = [outcome.loss_fn.group_label(outcome, k) for k, _ in shown]
    counts = [f"{c:,}" for _, (c, _) in shown]
    means = [rounded(m, p) for _, (_, m) in shown]
    lw, cw, mw = max(map(len, labels)), max(map(len, counts)), max(map(len, means))
    per = "target class" if outcome.loss_fn.terms_are_samples else "target"
    count_word = "samples" if outcome.loss_fn.terms_are_samples else "elements"
    yield f"  by {per}: {count_word} and their {what}"
    for label, c, m in zip(labels, counts, means, strict=True):
        yield f"    {label:<{lw}}  {c:>{cw}}  {m:>{mw}}"
    if len(items) > len(shown):
        more = len(items) - len(shown)
        yield f"    and {more:,} more class{'es' * (more != 1)} (-f json lists them all)"


def worst_view(outcome: Outcome) -> Outcome:
    """The outcome with its worst rows as the rows to show (``--top``)."""
    assert outcome.worst is not None
    return replace(outcome, head=list(outcome.worst), tail=[], ranked=True)


def worst_title(outcome: Outcome) -> str:
    """The line above the tables of the worst samples."""
    k = len(outcome.worst or [])
    if outcome.loss_fn.terms_are_samples and len(outcome.element_shape) > 1:
        return (f"the {plural(k, 'row')} of greatest {row_word(outcome)} loss over their "
                f"positions, greatest first, of {outcome.nrows:,} rows")
    return (f"the {plural(k, 'sample')} of greatest loss, greatest first, of "
            f"{outcome.nrows:,} ({what_a_sample_is(outcome)})")


def summary_json(outcome: Outcome) -> dict[str, Any]:
    """The summary for JSON (numbers through :func:`~bcecli.report.machine.json_number`)."""
    from bcecli.report.machine import json_number

    s = outcome.samples
    assert s is not None

    def num(v: float) -> float | None:
        return json_number(v, outcome.dtype)

    groups = [{"group": outcome.loss_fn.group_label(outcome, k), "key": k, "count": c,
               "mean": num(m)} for k, (c, m) in s.groups.items()]
    return {
        "count": s.count, "ignored": s.uncounted, "nan": s.nan,
        "mean": num(s.mean), "std": num(s.std), "min": num(s.minimum),
        **{f"p{q}": num(v) for q, v in s.quantiles.items()},
        "max": num(s.maximum), "quantiles_exact": s.exact,
        "histogram": [{"low": num(lo), "high": num(hi), "count": c}
                      for lo, hi, c in s.histogram],
        "groups": groups,
        **({"accuracy": s.accuracy, "correct": s.correct} if s.accuracy is not None else {}),
    }


def worst_records(outcome: Outcome) -> tuple[list[str], list[list[str]]]:
    """The worst samples as columns of JSON texts: row (and id), loss, target, prediction."""
    from bcecli.report.records import row_records

    return row_records(outcome, outcome.worst or [])
