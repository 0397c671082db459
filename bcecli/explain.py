"""``--explain``: the calculation written out the way the tutorials do it by hand.

Values the user gave are echoed as typed; computed ones are rounded to ``--precision``
decimals.  Every sum is taken over the unrounded terms, as the loss is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from bcecli import losses
from bcecli.checks import fmt_value
from bcecli.display import (
    NAMES,
    ce_pieces,
    ce_positions,
    column_label,
    echo,
    flat,
    minus,
    num,
    row_value,
    row_word,
    rows,
    sigmoid_shown,
    summary,
)
from bcecli.outcome import Outcome, Row

MAX_TERMS = 6
"""Elements (or classes) of a row written out before the middle ones are elided."""


def _elements(n: int) -> list[int | None]:
    if n <= MAX_TERMS:
        return list(range(n))
    return [*range(MAX_TERMS - 2), None, n - 1]


def _n(v: float, p: int) -> str:
    """A computed number inside a formula: typographic minus, negative ones in parentheses."""
    s = minus(num(v, p))
    return f"({s})" if v < 0 else s


def _g(v: float, dtype: str, p: int) -> str:
    """A given number inside a formula."""
    s = minus(echo(v, dtype, p))
    return f"({s})" if v < 0 else s


def explain(outcome: Outcome, p: int) -> Iterator[str]:
    """Lines of the hand calculation."""
    o = outcome.options
    yield f"{NAMES[o.command]}, reduction {o.reduction}, {o.dtype}"
    if o.command == "ce":
        yield from _explain_ce(outcome, p)
    else:
        yield from _explain_bce(outcome, p)
    yield ""
    yield f"Loss: {_final(outcome, p)}"
    if outcome.hidden > 0:
        yield f"({outcome.hidden} rows not written out; --max-rows 0 shows all)"
    yield (f"(Numbers are rounded to {p} decimals for reading; every sum is taken over the "
           f"unrounded terms, so the last digit may differ from a sum of the rounded ones.)")


def _final(outcome: Outcome, p: int) -> str:
    shown = [r for r in rows(outcome) if r is not None]
    o = outcome.options
    if o.reduction == "none" or outcome.hidden > 0 or len(shown) < 2:
        return summary(outcome, p)
    values = [num(row_value(outcome, r), p) for r in shown]
    if o.command != "ce" and len({r.terms.size for r in shown}) == 1:
        if o.reduction == "sum":
            return f"{' + '.join(values)} = {num(outcome.loss, p)}  [{summary(outcome, p)}]"
        return (f"({' + '.join(values)}) / {len(shown)} = {num(outcome.loss, p)}  "
                f"[{summary(outcome, p)}]")
    if o.command == "ce" and o.reduction == "mean" and len(shown) <= MAX_TERMS:
        terms = [num(float(np.sum(r.terms, dtype=np.float64)), p) for r in shown]
        if all(r.denominator == r.terms.size for r in shown):  # every term counts 1
            below = fmt_value(outcome.denominator)
        else:
            below = "(" + " + ".join(fmt_value(r.denominator) if float(r.denominator).is_integer()
                                     else num(r.denominator, p) for r in shown) + ")"
        return (f"({' + '.join(terms)}) / {below} = {num(outcome.loss, p)}  "
                f"[{summary(outcome, p)}]")
    return summary(outcome, p)


# --------------------------------------------------------------------------- bce


def _explain_bce(outcome: Outcome, p: int) -> Iterator[str]:
    o = outcome.options
    logits = o.command == "bce-logits"
    head = [r for r in rows(outcome) if r is not None]
    pw_used = any(r.pos_weight is not None for r in head)
    w_used = any(r.weight is not None for r in head)
    inner = f"{'pw × ' if pw_used else ''}y × ln p + (1 − y) × ln(1 − p)"
    yield f"ℓ = {'w × ' if w_used else ''}−[{inner}]" + (", p = σ(x)" if sigmoid_shown(outcome)
                                                       else "")
    if logits:
        yield ("  computed stably from the logit: ln p = ln σ(x) = min(x, 0) − ln(1 + e^−|x|) "
               "and ln(1 − p) = ln σ(−x), exact even where p rounds to 0 or 1")
    else:
        yield "  each ln is clamped at −100, as PyTorch's BCELoss does, so p = 0 or 1 stays finite"
    step = 1
    if sigmoid_shown(outcome):
        yield ""
        yield f"Step {step}: probabilities p = σ(x) = 1 / (1 + e^−x)"
        step += 1
        for row in rows(outcome):
            if row is None:
                yield "  ⋮"
                continue
            x = flat(row.input)
            s = flat(losses.sigmoid(row.input))
            parts = [("…" if j is None else f"σ({minus(echo(float(x[j]), o.dtype, p))}) = "
                      f"{num(float(s[j]), p)}") for j in _elements(x.size)]
            yield f"  row {row.index}: " + ", ".join(parts)
    yield ""
    yield f"Step {step}: each element, written signed as by hand (ℓ is its negative)"
    step += 1
    for row in rows(outcome):
        if row is None:
            yield "  ⋮"
            continue
        yield from _bce_row(outcome, row, p)
    yield ""
    word = row_word(outcome)
    yield f"Step {step}: each row's {word}" + (" (reduction none keeps every term; the rows' "
                                               "means are for reading)"
                                               if o.reduction == "none" else "")
    for row in rows(outcome):
        if row is None:
            yield "  ⋮"
            continue
        t = flat(row.terms)
        shown = [("…" if j is None else num(float(t[j]), p)) for j in _elements(t.size)]
        total = " + ".join(shown)
        value = num(row_value(outcome, row), p)
        yield (f"  row {row.index}: {total} = {value}" if word == "sum" else
               f"  row {row.index}: ({total}) / {t.size} = {value}")


def _bce_row(outcome: Outcome, row: Row, p: int) -> Iterator[str]:
    o = outcome.options
    dtype = o.dtype
    sig = sigmoid_shown(outcome)
    x = flat(row.input).astype(np.float64)
    probs = flat(losses.sigmoid(row.input)).astype(np.float64) if sig else x
    y = flat(row.target)
    t = flat(row.terms)
    w = None if row.weight is None else flat(row.weight)
    pw = None if row.pos_weight is None else flat(row.pos_weight)
    for j in _elements(x.size):
        if j is None:
            yield "    …"
            continue
        pj, yj = float(probs[j]), float(y[j])
        p_text = minus(num(pj, p) if sig else echo(pj, dtype, p))
        if o.command == "bce-logits" and p_text in (num(0.0, p), num(1.0, p)):
            # p rounds to 0 or 1 on paper: write the logs as computed, from the logit
            ln_p = f"ln σ({minus(echo(float(x[j]), dtype, p))})"
            ln_q = f"ln σ({minus(echo(-float(x[j]), dtype, p))})"
        else:
            clamp_p = o.command == "bce" and (pj == 0 or math.log(pj) < -100)
            clamp_q = o.command == "bce" and (pj == 1 or math.log1p(-pj) < -100)
            ln_p = f"max(ln {p_text}, −100)" if clamp_p else f"ln {p_text}"
            ln_q = f"max(ln(1 − {p_text}), −100)" if clamp_q else f"ln(1 − {p_text})"
        a = f"{_g(yj, dtype, p)} × {ln_p}"
        if pw is not None:
            a = f"{_g(float(pw[j]), dtype, p)} × {a}"
        inner = f"{a} + (1 − {_g(yj, dtype, p)}) × {ln_q}"
        if w is not None:
            inner = f"{_g(float(w[j]), dtype, p)} × [{inner}]"
        yield (f"  row {row.index}, column {column_label(outcome, j)}: {inner} = "
               f"{minus(num(-float(t[j]), p))}")


# --------------------------------------------------------------------------- ce


def _explain_ce(outcome: Outcome, p: int) -> Iterator[str]:
    o = outcome.options
    eps = o.label_smoothing
    w = outcome.class_weight
    c = outcome.input_shape[0 if len(outcome.input_shape) == 1 else 1]
    if outcome.probabilities:
        yield ("ℓ = −Σ_c " + ("w_c × " if w is not None else "") + "t_c × ln p_c, with "
               "ln p_c = x_c − ln Σ_j exp(x_j)")
        if eps:
            yield f"  targets smoothed first: t → (1 − {eps:g}) × t + {eps:g}/{c}"
        yield "  the mean divides by the number of samples (positions), whatever the weights"
    else:
        nll = "−x[y] + ln Σ_j exp(x_j)"
        yield "ℓ = " + (f"w[y] × ({nll})" if w is not None else nll) + "   (= −ln p(y))"
        if eps:
            yield (f"  with label smoothing ε = {eps:g} over C = {c} classes: "
                   f"ℓ = (1 − {eps:g}) × that + {eps:g}/{c} × Σ_c "
                   + ("w_c × " if w is not None else "") + "(−ln p_c)")
        if o.ignore_index != -100 or any(_ignored(outcome, r) for r in rows(outcome)):
            yield f"  targets equal to the ignore index {o.ignore_index} give 0 and are not counted"
        if o.reduction == "mean":
            yield ("  the mean divides by Σ w[y] over the counted targets" if w is not None else
                   "  the mean divides by the number of counted targets")
    yield ""
    for label, row, k in ce_positions(outcome, MAX_TERMS + 4):
        if row is None:
            yield f"  {label}" if label != "⋮" else "  ⋮"
            continue
        yield from _ce_lines(outcome, label, row, k, p)
    if o.reduction == "mean" and not outcome.probabilities and outcome.denominator == 0:
        yield "  nothing is counted: the mean divides 0 by 0, which is NaN (as in PyTorch)"


def _ignored(outcome: Outcome, row: Row | None) -> bool:
    return row is not None and not outcome.probabilities and bool(
        np.any(flat(row.target) == outcome.options.ignore_index))


def _exps(lg: NDArray[np.floating], dtype: str, p: int) -> str:
    return " + ".join("…" if j is None else f"e^{_g(float(lg[j]), dtype, p)}"
                      for j in _elements(lg.size))


def _ce_lines(outcome: Outcome, label: str, row: Row, k: int, p: int) -> Iterator[str]:
    o = outcome.options
    eps = o.label_smoothing
    w = outcome.class_weight
    logits, probs, cls = ce_pieces(row, k, outcome.probabilities)
    if logits.size == 0:
        yield f"  row {label}: no classes (C = 0): an empty sum, ℓ = 0"
        return
    lg = np.asarray(logits, dtype=np.float64)
    ls = losses.log_softmax(lg[None, :])
    lse = float(ls.log_sum_exp[0])
    log_p = ls.log_probs[0]
    term = float(flat(row.terms)[k])
    c = lg.size
    if outcome.probabilities:
        t = (1 - eps) * probs + eps / c if eps else probs
        parts = [("…" if j is None else
                  (f"{_g(float(w[j]), o.dtype, p)} × " if w is not None else "")
                  + f"{num(float(t[j]), p)} × {_n(float(log_p[j]), p)}")
                 for j in _elements(c)]
        yield f"  row {label}: ln Σ exp = ln({_exps(lg, o.dtype, p)}) = {num(lse, p)}"
        yield f"    ℓ = −[{' + '.join(parts)}] = {num(term, p)}"
        return
    if cls == o.ignore_index:
        yield f"  row {label}: target {cls} is the ignore index → ℓ = 0, not counted"
        return
    nll = float(-log_p[cls])
    x_y = float(lg[cls])
    line = (f"  row {label}: class {cls}: −{_g(x_y, o.dtype, p)} + ln({_exps(lg, o.dtype, p)}) = "
            f"{minus(echo(-x_y, o.dtype, p))} + {num(lse, p)} = {num(nll, p)}")
    weighted = nll
    if w is not None:
        weighted = float(w[cls]) * nll
        line += f"; × w[{cls}] = {echo(float(w[cls]), o.dtype, p)} → {num(weighted, p)}"
    yield line
    if eps:
        each = -log_p if w is None else -log_p * w
        parts = [("…" if j is None else
                  (f"{echo(float(w[j]), o.dtype, p)} × " if w is not None else "")
                  + num(float(-log_p[j]), p)) for j in _elements(c)]
        smooth = float(np.sum(each))
        yield (f"    Σ_c {'w_c × ' if w is not None else ''}(−ln p_c) = {' + '.join(parts)} = "
               f"{num(smooth, p)}")
        yield (f"    smoothed: (1 − {eps:g}) × {num(weighted, p)} + {eps:g}/{c} × "
               f"{num(smooth, p)} = {num(term, p)}")
