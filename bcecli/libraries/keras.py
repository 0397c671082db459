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
    F64,
    Accumulator,
    Array,
    Case,
    Lacking,
    LibOutcome,
    Library,
    Rule,
    as_dtype,
    class_targets,
    classes_last,
    ignored_in,
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
        if case.sample_weight is not None and self._sample_shape(case)[1:]:
            return ("its sample_weight of shape (N,) multiplies per-sample values of shape "
                    f"{self._sample_shape(case)}, which it broadcasts from the last axis; "
                    f"bcecli takes --sample-weight only for 2-D input")
        return None

    def _sample_shape(self, case: Case) -> tuple[int, ...]:
        """The shape of the per-sample values (after the last-axis mean)."""
        if case.classes:
            return (case.shape[0], *case.shape[2:])
        return tuple(case.shape[:-1])

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
        y = "t" if case.classes and case.probabilities else "y"
        x = "x" if case.logits else "p"
        sw = ", sample_weight=w" if case.sample_weight is not None else ""
        if case.classes and not case.probabilities and case.label_smoothing:
            y = "one_hot(y)"
        if case.classes and len(case.shape) > 2:
            x = "moveaxis(x, 1, -1)"
        return f"keras.losses.{name}({', '.join(args)})({y}, {x}{sw})"

    def start(self, case: Case, dtype: str) -> Accumulator:
        return _Categorical(self, case, dtype) if case.classes else _Binary(self, case, dtype)

    def emit(self, case: Case, dtype: str, data: str) -> str:
        name, args = self._class(case)
        if dtype == "float64":
            args.append('dtype="float64"')
        lines = ["import os", 'os.environ.setdefault("KERAS_BACKEND", "jax")']
        if dtype == "float64":  # (without it, JAX computes dtype="float64" in float32)
            lines += ["import jax", 'jax.config.update("jax_enable_x64", True)']
        lines += ["import numpy as np", "import keras", "", data]
        y, x = "t", "x"
        if case.classes:
            if len(case.shape) > 2:
                lines.append("x = np.moveaxis(x, 1, -1)  # classes last, as Keras takes them")
                if case.probabilities:
                    lines.append("t = np.moveaxis(t, 1, -1)")
            if not case.probabilities and case.label_smoothing:
                lines.append(f"t = np.eye({case.shape[1]})[t.astype(int)]  # one-hot")
            elif not case.probabilities:
                lines.append("t = t.astype(int)")
        sw = ", sample_weight=w" if case.sample_weight is not None else ""
        lines.append(f"loss = keras.losses.{name}({', '.join(args)})")
        lines.append(f"print(np.asarray(loss({y}, {x}{sw})).tolist())")
        return "\n".join(lines) + "\n"


class _Binary(Accumulator):
    """BinaryCrossentropy: elementwise terms, their mean over the last axis per sample."""

    def add(self, x: F64, t: F64, start: int) -> None:
        dtype, case = self.dtype, self.case
        p = np.asarray(x, dtype=dtype)
        y = np.asarray(t, dtype=dtype)
        eps = case.label_smoothing
        if eps:
            y = y * (1.0 - eps) + 0.5 * eps
        if case.logits:
            elements = -1.0 * y * log_sigmoid(p) - (1.0 - y) * log_sigmoid(-p)
        else:
            lo, hi = np.asarray(EPSILON, dtype=dtype), np.asarray(1.0 - EPSILON, dtype=dtype)
            self.clips.add(p, float(lo), float(hi), start)
            p = np.clip(p, lo, hi)
            elements = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
        # a 1-D input's last axis is the whole input: its elements are kept for the mean
        self.parts.append(elements if elements.ndim == 1 else _mean_last(elements, dtype))

    def finish(self) -> LibOutcome:
        case, dtype = self.case, self.dtype
        rules: list[Rule] = []
        eps = case.label_smoothing
        if eps:
            rules.append(Rule("smoothing", f"smoothing y·(1 − {eps:g}) + {eps:g}/2 on "
                                           f"binary labels"))
            self.steps.append(f"y' = y·(1 − {eps:g}) + {eps:g}/2")
        if case.logits:
            self.steps.append("ℓ = −y·log_sigmoid(x) − (1 − y)·log_sigmoid(−x)  (no clip)")
        else:
            hi_text = "1 − 1e-7" if dtype == "float64" else "0.99999988"
            rule = self.clips.rule("1e-7", hi_text)
            if rule is not None:
                rules.append(rule)
            self.steps += [f"p' = max(min(p, {hi_text}), 1e-7)",
                           "ℓ = −(y·ln p' + (1 − y)·ln(1 − p'))"]
        values = self.kept()
        one_d = len(case.shape) == 1
        if one_d:
            values = _mean_last(values, dtype)
            rules.append(Rule("last axis", (
                f"1-D input: the last-axis mean is the mean of all {case.size} values, "
                f"and it is the loss whatever the reduction") if case.sample_weight is None
                else f"1-D input: the last-axis mean of all {case.size} values is taken "
                     f"first, then multiplied by each sample weight"))
        self.steps.append(f"per sample: the mean over the last axis ({case.shape[-1]} "
                          f"values), taken in float32")
        if dtype == "float64":
            rules.append(Rule("float32 mean", "the last-axis mean is taken in float32 even "
                                              "for dtype=\"float64\" (Keras on JAX/torch)"))
        return _reduce(self, values, None, rules)


class _Categorical(Accumulator):
    """(Sparse)CategoricalCrossentropy from logits, classes last: a value per position."""

    def __init__(self, library: Library, case: Case, dtype: str) -> None:
        super().__init__(library, case, dtype)
        self.masks: list[Array] = []

    def add(self, x: F64, t: F64, start: int) -> None:
        dtype, case = self.dtype, self.case
        logits = classes_last(np.asarray(x, dtype=dtype))
        classes = logits.shape[-1]
        eps = case.label_smoothing
        if case.probabilities or eps:
            if not case.probabilities and ignored_in(t, case):
                raise Lacking(f"label smoothing needs CategoricalCrossentropy on one-hot "
                              f"targets, which has no ignore_class (targets equal "
                              f"--ignore-index {case.ignore_index})")
            target = class_targets(case, t, classes, dtype)
            if eps:
                c = np.asarray(classes, dtype=dtype)
                target = target * (1.0 - eps) + (np.asarray(eps, dtype=dtype) / c)
            self.parts.append(-np.sum(target * log_softmax(logits), axis=-1))
            return
        y = t
        valid = y != case.ignore_index
        y = np.where(valid, y, 0)
        if not valid.all():
            logits = np.where(valid[..., None], logits, 0)
        values = -np.sum(one_hot(y, classes, dtype) * log_softmax(logits), axis=-1)
        self.parts.append(np.where(valid, values, np.asarray(0.0, dtype=dtype)))
        self.masks.append(valid)

    def finish(self) -> LibOutcome:
        case = self.case
        rules: list[Rule] = []
        eps = case.label_smoothing
        if eps:
            self.steps.append(f"t' = t·(1 − {eps:g}) + {eps:g}/{case.shape[1]}")
        if case.probabilities or eps:
            self.steps.append("ℓ = −Σ_c t_c·log_softmax(x)_c")
        else:
            self.steps.append("ℓ = −log_softmax(x)[y]")
        mask = None
        if case.ignored:
            mask = np.concatenate(self.masks)
            rules.append(Rule("ignore", f"ignore_class={case.ignore_index} masks "
                                        f"{plural(case.ignored, 'target')}"))
        return _reduce(self, self.kept(), mask, rules)


def _reduce(acc: Accumulator, values: Array, mask: Array | None, rules: list[Rule]
            ) -> LibOutcome:
    """Keras' reduce_weighted_values: values × sample_weight (a mask folded into it),
    then none, ``sum``, or ``sum_over_batch_size`` (Σ / how many values there are)."""
    case, dtype = acc.case, acc.dtype
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
        acc.steps.append("each sample's value × its sample_weight")
    if case.reduction == "none" or weighted.ndim == 0:
        loss = float(weighted) if weighted.ndim == 0 else float("nan")
        return acc.outcome(loss, None if weighted.ndim == 0 else weighted,
                           np.atleast_1d(values), rules)
    total = np.asarray(np.sum(weighted, dtype=np.float64), dtype=dtype)
    if case.reduction == "mean":
        n = np.asarray(weighted.size, dtype=dtype)
        loss = float(total / n) if weighted.size else 0.0  # (divide_no_nan)
        if mask is not None:  # (each kept value weighted total/valid: Σ kept / valid)
            kept = int(np.count_nonzero(mask))
            acc.steps.append(f"sum_over_batch_size with ignore_class: the {kept} kept "
                             f"value{'s' if kept != 1 else ''} weighted {weighted.size}/{kept}, "
                             f"Σ / {weighted.size} = Σ kept / {kept}")
        else:
            acc.steps.append(f"sum_over_batch_size: Σ / {weighted.size}")
    else:
        loss = float(total)
        acc.steps.append("sum: Σ")
    return acc.outcome(loss, None, values, rules)


def _mean_last(values: Array, dtype: str) -> Array:
    """``ops.mean(values, axis=-1)``: in float32 whatever the dtype (Keras' type promotion
    on its JAX and torch backends computes a float64 mean in float32, then casts back),
    summed here in float64 and rounded, within a step of XLA's own order."""
    mean32 = np.asarray(np.mean(values.astype(np.float32), axis=-1, dtype=np.float64),
                        dtype=np.float32)
    return mean32.astype(dtype)


LIBRARY = Keras()
