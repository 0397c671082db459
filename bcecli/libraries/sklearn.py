"""scikit-learn's rules: ``sklearn.metrics.log_loss``.

- ``bce`` → ``log_loss(y.ravel(), p.ravel(), labels=[0, 1])``: the columns [1 − p, p]
  clipped to [eps, 1 − eps] with the dtype's eps (2.2e-16 in float64), targets 0 or 1
  only; ``--sigmoid`` and ``bce-logits`` take p = ``scipy.special.expit(x)``.
- ``ce`` with class indices on 2-D input → ``log_loss(y, softmax(x), labels=range(C))``,
  softmax as ``scipy.special.softmax(x, axis=1)``; probabilities are clipped, never
  renormalised.

The mean is ``numpy.average(ℓ, weights=sample_weight)``: Σ w·ℓ / Σ w (a weight per sample;
for ``bce`` on (N, k) input each sample's weight goes to its k elements); ``-r sum`` is
``normalize=False``.  No unreduced form: log_loss returns one number.  float64 unless
``--dtype float32`` (float32 arrays passed in: eps 1.2e-7).
"""

from __future__ import annotations

import numpy as np

from bcecli.libraries.base import (
    F64,
    Accumulator,
    Case,
    Lacking,
    LibOutcome,
    Library,
    Rule,
    ignored_in,
)


class Sklearn(Library):
    name = "sklearn"
    title = "scikit-learn"
    default_dtype = "float64"
    summary = (
        ("formula", "log_loss: −Σ_c onehot(y)_c·ln p_c over the columns [1 − p, p] or "
                    "softmax(x)"),
        ("clipping", "every column to [eps, 1 − eps], eps of the dtype (2.2e-16); never "
                     "renormalised"),
        ("reduction", "numpy.average over samples (normalize=False: the sum); no unreduced "
                      "form"),
        ("weights", "sample_weight: Σ w·ℓ / Σ w; no class or positive weights"),
        ("smoothing", "none"),
        ("dtype", "float64"),
    )

    def lacks(self, case: Case) -> str | None:
        if case.loss == "nll":
            return "log_loss takes probabilities, not log-probabilities (no NLLLoss)"
        if case.torch_only:
            return f"log_loss has no {' or '.join(case.torch_only)} (only sample_weight)"
        if case.label_smoothing:
            return "log_loss has no label smoothing"
        if case.reduction == "none":
            return "log_loss returns one number: it has no unreduced form (-r none)"
        if case.sample_weight is not None and not np.any(case.sample_weight):
            return "every sample weight is 0: log_loss refuses weights that sum to zero"
        if not case.classes:
            return None
        if case.probabilities:
            return "log_loss takes class labels, not class-probability targets"
        if len(case.shape) != 2:
            return f"log_loss takes (N, C) probabilities, not a {len(case.shape)}-D input"
        return None

    def call(self, case: Case, dtype: str) -> str:
        sw = ", sample_weight=w" if case.sample_weight is not None else ""
        norm = ", normalize=False" if case.reduction == "sum" else ""
        if case.classes:
            return f"log_loss(y, softmax(x, axis=1), labels=range({case.shape[1]}){sw}{norm})"
        p = "expit(x)" if case.logits else "p"
        return f"log_loss(y.ravel(), {p}.ravel(), labels=[0, 1]{sw}{norm})"

    def start(self, case: Case, dtype: str) -> Accumulator:
        return _LogLoss(self, case, dtype)

    def emit(self, case: Case, dtype: str, data: str) -> str:
        lines = ["import numpy as np", "from sklearn.metrics import log_loss"]
        kw = []
        if case.sample_weight is not None:
            kw.append("sample_weight=w")
        if case.reduction == "sum":
            kw.append("normalize=False")
        extra = "".join(f", {k}" for k in kw)
        if case.classes:
            lines[0:0] = ["from scipy.special import softmax"]
            lines += ["", data, f"p = softmax(x, axis=1).astype(np.{dtype})",
                      f"print(log_loss(t.astype(int), p, labels=range({case.shape[1]})"
                      f"{extra}))"]
        else:
            if case.logits:
                lines[0:0] = ["from scipy.special import expit"]
            lines += ["", data]
            p = "expit(x)" if case.logits else "x"
            lines.append(f"p = np.asarray({p}, dtype=np.{dtype}).ravel()")
            if case.sample_weight is not None and len(case.shape) > 1:
                lines.append(f"w = np.repeat(w, {case.size // case.shape[0]})  "
                             f"# each sample's weight to its elements")
            lines.append(f"print(log_loss(t.ravel().astype(int), p, labels=[0, 1]{extra}))")
        return "\n".join(lines) + "\n"


class _LogLoss(Accumulator):
    """Each sample's −ln p'[y] (a bce element is a sample), then numpy.average."""

    def add(self, x: F64, t: F64, start: int) -> None:
        dtype, case = self.dtype, self.case
        eps = float(np.finfo(dtype).eps)
        if case.classes:
            if ignored_in(t, case):
                raise Lacking(f"log_loss has no ignore_index (targets equal "
                              f"{case.ignore_index})")
            shifted = np.exp(x - np.amax(x, axis=1, keepdims=True))
            probs = np.asarray(shifted / np.sum(shifted, axis=1, keepdims=True), dtype=dtype)
            labels = (np.arange(probs.shape[1]) == t[:, None]).astype(dtype)
        else:
            soft = np.flatnonzero((t != 0) & (t != 1))
            if soft.size:
                where = [int(i[0]) for i in np.unravel_index(soft[:1], t.shape)]
                where[0] += start
                raise Lacking(f"log_loss takes class labels, 0 or 1, not soft targets "
                              f"(target{where} is {float(t.reshape(-1)[soft[0]])!r})")
            p = x.reshape(-1)
            if case.logits:
                p = 1.0 / (1.0 + np.exp(-p))
            p = np.asarray(p, dtype=dtype)
            probs = np.stack([1 - p, p], axis=1)
            y = t.reshape(-1)
            labels = np.stack([y == 0, y == 1], axis=1).astype(dtype)
        used = np.sum(np.where(labels != 0, probs, 0), axis=1)  # (the others count 0)
        self.clips.add(used.reshape(x.shape[:1] if case.classes else x.shape), eps, 1 - eps,
                       start)
        clipped = np.clip(probs, eps, 1 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = labels * np.log(clipped)
        terms = np.where(labels == 0.0, np.asarray(0.0, dtype=terms.dtype), terms)
        self.parts.append(-np.sum(terms, axis=1))

    def finish(self) -> LibOutcome:
        case, dtype = self.case, self.dtype
        eps_text = f"{float(np.finfo(dtype).eps):.2g}"
        rules: list[Rule] = []
        if case.classes:
            self.steps.append("p = softmax(x) (scipy.special.softmax, float64)")
        else:
            self.steps += (["p = expit(x)"] if case.logits else []) + [
                "the columns [1 − p, p], one row per element"]
        columns = "every column" if case.classes else "both columns"
        self.steps += [f"p' = max(min(p, 1 − {eps_text}), {eps_text}), {columns}; never "
                       f"renormalised", "ℓ = −ln p'[y] per sample"]
        rule = self.clips.rule(eps_text, f"1 − {eps_text}")
        if rule is not None:
            rules.append(rule)
        loss_i = self.kept()
        if not loss_i.size:
            raise Lacking("log_loss needs at least one sample (it raises on empty input)")
        weight = case.sample_weight
        if weight is not None and not case.classes and len(case.shape) > 1:
            weight = np.repeat(weight, case.size // case.shape[0])
        w = None if weight is None else np.asarray(weight, dtype=dtype)  # (sklearn casts)
        if case.reduction == "mean" and w is not None and float(np.sum(w, dtype=np.float64)) == 0:
            raise Lacking("the sample weights sum to 0, and log_loss's mean (numpy.average) "
                          "divides by their sum")
        if case.reduction == "mean":
            loss = float(np.average(loss_i, weights=w))
            if w is not None:
                rules.append(Rule("sample weights", f"sample weights divide by Σw = "
                                                    f"{float(np.sum(w)):g}"))
            self.steps.append("mean = Σ w·ℓ / Σ w" if w is not None else "mean = Σ ℓ / N")
        else:
            loss = float(np.dot(loss_i, w)) if w is not None else float(np.sum(loss_i))
            self.steps.append("normalize=False: Σ w·ℓ" if w is not None
                              else "normalize=False: Σ ℓ")
        return self.outcome(loss, None, loss_i, rules)


LIBRARY = Sklearn()
