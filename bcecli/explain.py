"""``--explain``: the calculation written out the way the tutorials do it by hand."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from bcecli import losses
from bcecli.engine import Outcome, Row
from bcecli.render import (
    NAMES,
    _ce_positions,
    _f,
    _flat,
    _probabilities,
    _rows,
    _summary,
    ce_pieces,
)

MAX_TERMS = 6


def _n(v: float, p: int) -> str:
    """A number inside a formula: negative ones in parentheses."""
    s = _f(v, p)
    return f"({s.replace('-', '−')})" if v < 0 else s


def _m(v: float, p: int) -> str:
    if float(v).is_integer() and abs(v) < 1e6:
        return str(int(v)).replace("-", "−")
    return _f(v, p).replace("-", "−")


def _elements(n: int) -> list[int | None]:
    if n <= MAX_TERMS:
        return list(range(n))
    return [*range(MAX_TERMS - 2), None, n - 1]


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
        yield f"({outcome.hidden} rows not written out; --max-rows shows more)"


def _final(outcome: Outcome, p: int) -> str:
    rows = [r for r in _rows(outcome) if r is not None]
    o = outcome.options
    if (o.reduction == "mean" and o.command != "ce" and outcome.hidden == 0 and rows
            and len({r.terms.size for r in rows}) == 1 and len(rows) > 1):
        means = " + ".join(_f(r.value, p) for r in rows)
        return f"({means}) / {len(rows)} = {_f(outcome.loss, p)}  [{_summary(outcome, p)}]"
    return _summary(outcome, p)


def _explain_bce(outcome: Outcome, p: int) -> Iterator[str]:
    o = outcome.options
    sig = _probabilities(outcome)
    pw_used = any(r.pos_weight is not None for r in outcome.head)
    w_used = any(r.weight is not None for r in outcome.head)
    formula = "ℓ = −[y × ln p + (1 − y) × ln(1 − p)]"
    if pw_used:
        formula = "ℓ = −[pw × y × ln p + (1 − y) × ln(1 − p)]"
    if w_used:
        formula = formula.replace("ℓ = ", "ℓ = w × ")
    yield formula + ("" if o.command == "bce-logits" else ", each ln clamped at −100")
    step = 1
    if sig:
        yield ""
        yield f"Step {step}: probabilities p = σ(x) = 1 / (1 + e^−x)"
        step += 1
        for row in _rows(outcome):
            if row is None:
                yield "  ⋮"
                continue
            x = _flat(row.input)
            s = _flat(losses.sigmoid(row.input))
            parts = [("…" if j is None else f"σ({_m(float(x[j]), p)}) = {_f(float(s[j]), p)}")
                     for j in _elements(x.size)]
            yield f"  row {row.index}: " + ", ".join(parts)
    yield ""
    yield f"Step {step}: each element (written signed, as by hand; ℓ is its negative)"
    step += 1
    for row in _rows(outcome):
        if row is None:
            yield "  ⋮"
            continue
        yield from _bce_row(row, sig, p)
    yield ""
    yield f"Step {step}: each row's mean"
    for row in _rows(outcome):
        if row is None:
            yield "  ⋮"
            continue
        t = _flat(row.terms)
        shown = [("…" if j is None else _f(float(t[j]), p)) for j in _elements(t.size)]
        yield f"  row {row.index}: ({' + '.join(shown)}) / {t.size} = {_f(row.value, p)}"


def _bce_row(row: Row, sig: bool, p: int) -> Iterator[str]:
    x = _flat(row.input)
    probs = _flat(losses.sigmoid(row.input)) if sig else x
    y = _flat(row.target)
    t = _flat(row.terms)
    w = None if row.weight is None else _flat(row.weight)
    pw = None if row.pos_weight is None else _flat(row.pos_weight)
    for j in _elements(x.size):
        if j is None:
            yield "    …"
            continue
        pj, yj = float(probs[j]), float(y[j])
        a = f"{_m(yj, p)} × ln {_f(pj, p)}"
        if pw is not None:
            a = f"{_m(float(pw[j]), p)} × " + a
        inner = f"{a} + (1 − {_m(yj, p)}) × ln(1 − {_f(pj, p)})"
        if w is not None:
            inner = f"{_m(float(w[j]), p)} × [{inner}]"
        yield f"  row {row.index}, column {j}: {inner} = {_m(-float(t[j]), p)}"


def _explain_ce(outcome: Outcome, p: int) -> Iterator[str]:
    o = outcome.options
    eps = o.label_smoothing
    weighted = outcome.class_weight is not None
    if outcome.probabilities:
        yield "ℓ = −Σ_c " + ("w_c × " if weighted else "") + "t_c × log softmax(x)_c" + (
            f", with t smoothed to (1 − {eps:g}) × t + {eps:g}/C" if eps else "")
    else:
        base = "−x[y] + ln Σ_j exp(x_j)"
        yield "ℓ = " + ("w[y] × (" + base + ")" if weighted else base) + (
            f"; smoothed: (1 − {eps:g}) × that + {eps:g}/C × Σ_c " +
            ("w_c × " if weighted else "") + "(−log p_c)" if eps else "")
    yield "  (log p_c = x_c − ln Σ_j exp x_j)" if outcome.probabilities else ""
    yield ""
    for label, row, k in _ce_positions(outcome):
        if row is None:
            yield f"  {label}" if label != "⋮" else "  ⋮"
            continue
        logits, probs, cls = ce_pieces(row, k, outcome)
        lg = np.asarray(logits, dtype=np.float64)
        ls = losses.log_softmax(lg[None, :])
        lse = float(ls.log_sum_exp[0])
        exps = [("…" if j is None else f"e^{_n(float(lg[j]), p)}") for j in _elements(lg.size)]
        term = float(_flat(row.terms)[k])
        if outcome.probabilities:
            t = (1 - eps) * probs + eps / lg.size
            w = outcome.class_weight
            parts = [("…" if j is None else
                      (f"{_m(float(w[j]), p)} × " if w is not None else "")
                      + f"{_m(float(t[j]), p)} × {_n(float(ls.log_probs[0, j]), p)}")
                     for j in _elements(lg.size)]
            yield (f"  row {label}: ln Σ exp = ln({' + '.join(exps)}) = {_f(lse, p)}; "
                   f"−[{' + '.join(parts)}] = {_f(term, p)}")
            continue
        if cls == o.ignore_index:
            yield f"  row {label}: target {cls} is the ignore index → ℓ = 0, not counted"
            continue
        nll = -float(lg[cls]) + lse
        line = (f"  row {label}: class {cls}: −({_m(float(lg[cls]), p)}) + "
                f"ln({' + '.join(exps)}) = {_m(-float(lg[cls]), p)} + {_f(lse, p)} = "
                f"{_f(nll, p)}")
        if weighted and outcome.class_weight is not None:
            line += f"; × w[{cls}] = {_f(float(outcome.class_weight[cls]), p)}"
        if eps:
            line += f"; smoothed → {_f(term, p)}"
        elif weighted:
            line += f" → {_f(term, p)}"
        yield line
    if o.reduction == "mean" and not outcome.probabilities and math.isnan(outcome.loss):
        yield "  every target is ignored: the mean divides 0 by 0"
