"""Keras 3's rules (as on its JAX, TensorFlow and torch backends).

- ``bce`` → ``keras.losses.BinaryCrossentropy()(y, p)``: p clipped to [1e-7, 1 − 1e-7]
  (in float32, 1 − 1e-7 is 0.99999988), ℓ = −(y·ln p + (1 − y)·ln(1 − p)); label smoothing
  y·(1 − ε) + ε/2.
- ``bce --sigmoid`` / ``bce-logits`` → ``BinaryCrossentropy(from_logits=True)(y, x)``:
  ℓ = −y·log_sigmoid(x) − (1 − y)·log_sigmoid(−x), no clip.
- ``ce`` → ``SparseCategoricalCrossentropy(from_logits=True)`` (class indices;
  ``ignore_class`` for --ignore-index) or ``CategoricalCrossentropy(from_logits=True)``
  (probabilities, or one-hot indices when smoothing: t·(1 − ε) + ε/C).

Each per-element value is averaged over the last axis first (binary losses), giving one
value per sample; ``sample_weight`` multiplies those; the default reduction
``sum_over_batch_size`` divides their sum by how many there are, whatever the weights
(ignored targets excluded).  Computed in float32 unless ``--dtype float64`` (the loss built
with ``dtype="float64"``).
"""

from __future__ import annotations

import numpy as np

from bcecli.libraries.base import (
    Array,
    Case,
    LibOutcome,
    Library,
    Rule,
    as_dtype,
    classes_last,
    clip_rule,
    log_sigmoid,
    log_softmax,
    one_hot,
)
from bcecli.report.numbers import plural

EPSILON = 1e-7
"""``keras.backend.epsilon()``."""

REDUCTION = {"mean": "", "sum": 'reduction="sum"', "none": "reduction=None"}


class Keras(Library):
    name = "keras"
    title = "Keras"
    default_dtype = "float32"
    summary = (
        ("formula", "bce: −(y·ln p + (1 − y)·ln(1 − p)); from_logits: log_sigmoid; "
                    "ce: −Σ t·log_softmax(x)"),
        ("clipping", "p to [1e-7, 1 − 1e-7] (float32: 0.99999988); none from logits"),
        ("reduction", "mean over the last axis first, then Σ / number of per-sample values"),
        ("weights", "sample_weight per sample; the mean still divides by N, not Σw; "
                    "no class or positive weights"),
        ("smoothing", "binary: y·(1 − ε) + ε/2; categorical: t·(1 − ε) + ε/C"),
        ("dtype", "float32 (dtype=\"float64\" on request)"),
    )

    def lacks(self, case: Case) -> str | None:
        if case.loss == "nll":
            return "it has no loss on log-probabilities like NLLLoss"
        if case.torch_only:
            return (f"it has no {' or '.join(case.torch_only)} in its losses (only "
                    f"sample_weight, one weight per sample)")
        if case.label_smoothing and case.ignored:
            return (f"label smoothing needs CategoricalCrossentropy on one-hot targets, "
                    f"which has no ignore_class ({plural(case.ignored, 'target')} equal "
                    f"--ignore-index {case.ignore_index})")
        if case.sample_weight is not None and self._sample_shape(case)[1:]:
            return ("its sample_weight of shape (N,) multiplies per-sample values of shape "
                    f"{self._sample_shape(case)}, which it broadcasts from the last axis; "
                    f"bcecli takes --sample-weight only for 2-D input")
        return None

    def _sample_shape(self, case: Case) -> tuple[int, ...]:
        """The shape of the per-sample values (after the last-axis mean)."""
        if case.classes:
            return (case.x.shape[0], *case.x.shape[2:])
        return tuple(case.x.shape[:-1])

    def _class(self, case: Case) -> tuple[str, list[str]]:
        args = []
        if case.classes:
            if case.probabilities or case.label_smoothing:
                name = "CategoricalCrossentropy"
            else:
                name = "SparseCategoricalCrossentropy"
            args.append("from_logits=True")
            if name.startswith("Sparse") and case.ignored:
                args.append(f"ignore_class={case.ignore_index}")
        else:
            name = "BinaryCrossentropy"
            if case.logits:
                args.append("from_logits=True")
        if case.label_smoothing:
            args.append(f"label_smoothing={case.label_smoothing!r}")
        if REDUCTION[case.reduction]:
            args.append(REDUCTION[case.reduction])
        return name, args

    def call(self, case: Case, dtype: str) -> str:
        name, args = self._class(case)
        if dtype == "float64":
            args.append('dtype="float64"')
        y = "t" if case.classes else "y"
        x = "x" if case.logits else "p"
        sw = ", sample_weight=w" if case.sample_weight is not None else ""
        if case.classes and not case.probabilities and case.label_smoothing:
            y = "one_hot(y)"
        elif case.classes and not case.probabilities:
            y = "y"
        if case.classes and case.x.ndim > 2:
            x = "moveaxis(x, 1, -1)"
        return f"keras.losses.{name}({', '.join(args)})({y}, {x}{sw})"

    def compute(self, case: Case, dtype: str) -> LibOutcome:
        rules: list[Rule] = []
        steps: list[str] = []
        x = np.asarray(case.x, dtype=dtype)
        mask = None
        if case.classes:
            values, mask = self._categorical(case, x, dtype, rules, steps)
        else:
            values = self._binary(case, x, dtype, rules, steps)
        return self._reduce(case, values, mask, dtype, rules, steps)

    def _binary(self, case: Case, x: Array, dtype: str, rules: list[Rule],
                steps: list[str]) -> Array:
        y = np.asarray(case.t, dtype=dtype)
        eps = case.label_smoothing
        if eps:
            y = y * (1.0 - eps) + 0.5 * eps
            rules.append(Rule("smoothing", f"smoothing y·(1 − {eps:g}) + {eps:g}/2 on "
                                           f"binary labels"))
            steps.append(f"y' = y·(1 − {eps:g}) + {eps:g}/2")
        if case.logits:
            elements = -1.0 * y * log_sigmoid(x) - (1.0 - y) * log_sigmoid(-x)
            steps.append("ℓ = −y·log_sigmoid(x) − (1 − y)·log_sigmoid(−x)  (no clip)")
        else:
            lo, hi = np.asarray(EPSILON, dtype=dtype), np.asarray(1.0 - EPSILON, dtype=dtype)
            hi_text = "1 − 1e-7" if dtype == "float64" else "0.99999988"
            rule = clip_rule("1e-7", x, float(lo), float(hi), hi_text)
            if rule is not None:
                rules.append(rule)
            p = np.clip(x, lo, hi)
            steps.append(f"p' = max(min(p, {hi_text}), 1e-7)")
            elements = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
            steps.append("ℓ = −(y·ln p' + (1 − y)·ln(1 − p'))")
        if elements.ndim == 0:
            return elements
        per_sample = _mean_last(elements, dtype)
        if elements.ndim == 1 and case.sample_weight is None:
            rules.append(Rule("last axis", f"1-D input: the last-axis mean is the mean of all "
                                           f"{elements.size} values, and it is the loss "
                                           f"whatever the reduction"))
        elif elements.ndim == 1:
            rules.append(Rule("last axis", f"1-D input: the last-axis mean of all "
                                           f"{elements.size} values is taken first, then "
                                           f"multiplied by each sample weight"))
        steps.append(f"per sample: the mean over the last axis ({elements.shape[-1]} "
                     f"values), taken in float32")
        if dtype == "float64":
            rules.append(Rule("float32 mean", "the last-axis mean is taken in float32 even "
                                              "for dtype=\"float64\" (Keras on JAX/torch)"))
        return per_sample

    def _categorical(self, case: Case, x: Array, dtype: str, rules: list[Rule],
                     steps: list[str]) -> tuple[Array, Array | None]:
        logits = classes_last(x)
        classes = logits.shape[-1]
        eps = case.label_smoothing
        mask = None
        if case.probabilities or eps:
            t = classes_last(np.asarray(case.t, dtype=dtype)) if case.probabilities else \
                one_hot(case.t, classes, dtype)
            if eps:
                c = np.asarray(classes, dtype=dtype)
                t = t * (1.0 - eps) + (np.asarray(eps, dtype=dtype) / c)
                steps.append(f"t' = t·(1 − {eps:g}) + {eps:g}/{classes}")
            values = -np.sum(t * log_softmax(logits), axis=-1)
            steps.append("ℓ = −Σ_c t_c·log_softmax(x)_c")
            return values, mask
        y = case.t
        if case.ignored:
            valid = y != case.ignore_index
            y = np.where(valid, y, 0)
            logits = np.where(valid[..., None], logits, 0)
            mask = valid
            rules.append(Rule("ignore", f"ignore_class={case.ignore_index} masks "
                                        f"{plural(case.ignored, 'target')}"))
        log_prob = log_softmax(logits)
        values = -np.sum(one_hot(y, classes, dtype) * log_prob, axis=-1)
        steps.append("ℓ = −log_softmax(x)[y]")
        if mask is not None:
            values = np.where(mask, values, np.asarray(0.0, dtype=dtype))
        return values, mask

    def _reduce(self, case: Case, values: Array, mask: Array | None, dtype: str,
                rules: list[Rule], steps: list[str]) -> LibOutcome:
        call = self.call(case, dtype)
        sw = as_dtype(case.sample_weight, dtype)
        if mask is not None:
            if case.reduction == "mean":
                total = np.asarray(mask.size, dtype=dtype)
                valid = np.asarray(np.count_nonzero(mask), dtype=dtype)
                weight = total / valid if valid else np.asarray(0.0, dtype=dtype)
                float_mask = np.where(mask, weight, np.asarray(0.0, dtype=dtype))
            else:
                float_mask = mask.astype(dtype)
            sw = float_mask if sw is None else sw.reshape(
                sw.shape + (1,) * (float_mask.ndim - sw.ndim)) * float_mask
        weighted = values if sw is None else values * sw
        if case.sample_weight is not None:
            total_w = float(np.sum(case.sample_weight))
            if case.reduction == "mean" and total_w != case.sample_weight.size:
                rules.append(Rule("sample weights", f"sample weights divide by N = "
                                  f"{case.sample_weight.size}, not Σw = {total_w:g}"))
            steps.append("each sample's value × its sample_weight")
        if case.reduction == "none" or weighted.ndim == 0:
            loss = float(weighted) if weighted.ndim == 0 else float("nan")
            return LibOutcome(self.name, call, dtype, loss,
                              None if weighted.ndim == 0 else weighted,
                              np.atleast_1d(values), rules, steps)
        total = np.asarray(np.sum(weighted, dtype=np.float64), dtype=dtype)
        if case.reduction == "mean":
            n = np.asarray(weighted.size, dtype=dtype)
            loss = float(total / n) if weighted.size else 0.0  # (divide_no_nan)
            steps.append(f"sum_over_batch_size: Σ / {weighted.size}")
        else:
            loss = float(total)
            steps.append("sum: Σ")
        return LibOutcome(self.name, call, dtype, loss, None, values.reshape(-1), rules,
                          steps)

    def emit(self, case: Case, dtype: str, data: str) -> str:
        name, args = self._class(case)
        if dtype == "float64":
            args.append('dtype="float64"')
        lines = ["import os", 'os.environ.setdefault("KERAS_BACKEND", "jax")',
                 "import numpy as np", "import keras", "", data]
        y, x = "t", "x"
        if case.classes:
            if case.x.ndim > 2:
                lines.append("x = np.moveaxis(x, 1, -1)  # classes last, as Keras takes them")
                if case.probabilities:
                    lines.append("t = np.moveaxis(t, 1, -1)")
            if not case.probabilities and case.label_smoothing:
                lines.append(f"t = np.eye({case.x.shape[1]})[t.astype(int)]  # one-hot")
            elif not case.probabilities:
                lines.append("t = t.astype(int)")
        sw = ", sample_weight=w" if case.sample_weight is not None else ""
        lines.append(f"loss = keras.losses.{name}({', '.join(args)})")
        lines.append(f"print(np.asarray(loss({y}, {x}{sw})).tolist())")
        return "\n".join(lines) + "\n"


def _mean_last(values: Array, dtype: str) -> Array:
    """``ops.mean(values, axis=-1)``: in float32 whatever the dtype (Keras' type promotion
    on its JAX and torch backends computes a float64 mean in float32, then casts back),
    summed here in float64 and rounded, within a step of XLA's own order."""
    mean32 = np.asarray(np.mean(values.astype(np.float32), axis=-1, dtype=np.float64),
                        dtype=np.float32)
    return mean32.astype(dtype)


LIBRARY = Keras()
