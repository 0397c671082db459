"""optax's rules (JAX): one value per example, no reduction, no weights.

- ``bce --sigmoid`` / ``bce-logits`` → ``optax.sigmoid_binary_cross_entropy(x, y)``:
  ℓ = −y·log_sigmoid(x) − (1 − y)·log_sigmoid(−x), per element.
- ``ce`` → ``optax.softmax_cross_entropy_with_integer_labels(x, y)`` (class indices) or
  ``optax.softmax_cross_entropy(x, t)`` (probabilities; or one-hot indices smoothed by
  ``optax.smooth_labels``: t·(1 − ε) + ε/C).

optax does not reduce: ``-r mean`` is ``jnp.mean`` of its values, ``-r sum`` ``jnp.sum``,
``-r none`` the values themselves.  It has no weights of any kind, no ignore index and no
loss on probabilities.  float32 unless ``--dtype float64`` (``jax_enable_x64``).
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
    class_targets,
    classes_last,
    ignored_in,
    log_sigmoid,
    log_softmax,
    reduce,
)


class Optax(Library):
    name = "optax"
    title = "optax"
    default_dtype = "float32"
    summary = (
        ("formula", "sigmoid_binary_cross_entropy: −y·log_sigmoid(x) − (1 − y)·"
                    "log_sigmoid(−x); softmax_cross_entropy: −Σ t·log_softmax(x)"),
        ("clipping", "none (logits only)"),
        ("reduction", "none: per-example values; mean and sum are jnp.mean and jnp.sum"),
        ("weights", "none"),
        ("smoothing", "optax.smooth_labels: t·(1 − ε) + ε/C"),
        ("dtype", "float32 (float64 with jax_enable_x64)"),
    )

    def lacks(self, case: Case) -> str | None:
        if case.loss == "nll":
            return "it has no loss on log-probabilities like NLLLoss"
        if case.loss == "bce" and not case.sigmoid:
            return ("it has no binary cross-entropy on probabilities: "
                    "sigmoid_binary_cross_entropy takes logits (bce --sigmoid, bce-logits)")
        if case.torch_only:
            return f"its losses take no {' or '.join(case.torch_only)}"
        if case.sample_weight is not None:
            return "its losses take no sample weights"
        if case.label_smoothing and not case.classes:
            return "it has no binary label smoothing"
        return None

    def _fn(self, case: Case) -> tuple[str, str]:
        """The function and its target argument."""
        if not case.classes:
            return "sigmoid_binary_cross_entropy", "y"
        if case.probabilities:
            target = "optax.smooth_labels(t, ε)" if case.label_smoothing else "t"
            return "softmax_cross_entropy", target
        if case.label_smoothing:
            return "softmax_cross_entropy", "optax.smooth_labels(one_hot(y), ε)".replace(
                "ε", repr(case.label_smoothing))
        return "softmax_cross_entropy_with_integer_labels", "y"

    def call(self, case: Case, dtype: str) -> str:
        fn, target = self._fn(case)
        target = target.replace("ε", repr(case.label_smoothing))
        x = "moveaxis(x, 1, -1)" if case.classes and len(case.shape) > 2 else "x"
        inner = f"optax.{fn}({x}, {target})"
        return {"mean": f"jnp.mean({inner})", "sum": f"jnp.sum({inner})"}.get(
            case.reduction, inner)

    def start(self, case: Case, dtype: str) -> Accumulator:
        return _PerExample(self, case, dtype)

    def emit(self, case: Case, dtype: str, data: str) -> str:
        lines = ["import jax"]
        if dtype == "float64":
            lines.append('jax.config.update("jax_enable_x64", True)')
        lines += ["import jax.numpy as jnp", "import numpy as np", "import optax", "", data,
                  f"x = jnp.asarray(x, dtype=jnp.{dtype})"]
        fn, target = self._fn(case)
        if case.classes:
            if len(case.shape) > 2:
                lines.append("x = jnp.moveaxis(x, 1, -1)  # classes last")
                if case.probabilities:
                    lines.append("t = np.moveaxis(t, 1, -1)")
            if case.probabilities:
                lines.append(f"t = jnp.asarray(t, dtype=jnp.{dtype})")
                if case.label_smoothing:
                    lines.append(f"t = optax.smooth_labels(t, {case.label_smoothing!r})")
            elif case.label_smoothing:
                lines.append(f"t = optax.smooth_labels(jax.nn.one_hot(t.astype(int), "
                             f"{case.shape[1]}, dtype=jnp.{dtype}), "
                             f"{case.label_smoothing!r})")
            else:
                lines.append("t = jnp.asarray(t.astype(int))")
        else:
            lines.append(f"t = jnp.asarray(t, dtype=jnp.{dtype})")
        inner = f"optax.{fn}(x, t)"
        value = {"mean": f"jnp.mean({inner})", "sum": f"jnp.sum({inner})"}.get(
            case.reduction, inner)
        lines.append(f"print(np.asarray({value}).tolist())")
        return "\n".join(lines) + "\n"


class _PerExample(Accumulator):
    """optax's per-example values, kept whole (they are what -r none gives)."""

    def add(self, x: F64, t: F64, start: int) -> None:
        dtype, case = self.dtype, self.case
        x = np.asarray(x, dtype=dtype)
        if not case.classes:
            y = np.asarray(t, dtype=dtype)
            self.parts.append(-y * log_sigmoid(x) - (1.0 - y) * log_sigmoid(-x))
            return
        if ignored_in(t, case):
            raise Lacking(f"it has no ignore index (targets equal {case.ignore_index})")
        logits = classes_last(x)
        classes = logits.shape[-1]
        if case.probabilities or case.label_smoothing:
            target = class_targets(case, t, classes, dtype)
            if case.label_smoothing:
                eps = case.label_smoothing
                target = (1.0 - eps) * target + eps / classes  # (ε/C in Python, rounded once)
            self.parts.append(-np.sum(target * log_softmax(logits), axis=-1))
            return
        top = np.max(logits, axis=-1, keepdims=True)
        lse = np.log(np.sum(np.exp(logits - top), axis=-1)) + top[..., 0]
        label = np.take_along_axis(logits, t.astype(np.int64)[..., None], axis=-1)[..., 0]
        self.parts.append(lse - label)

    def finish(self) -> LibOutcome:
        case = self.case
        eps = case.label_smoothing
        if not case.classes:
            self.steps.append("ℓ = −y·log_sigmoid(x) − (1 − y)·log_sigmoid(−x)")
        elif case.probabilities or eps:
            if eps:
                self.steps.append(f"t' = smooth_labels(t, {eps:g}) = (1 − {eps:g})·t + "
                                  f"{eps:g}/{case.shape[1]}")
            self.steps.append("ℓ = −Σ_c t_c·log_softmax(x)_c")
        else:
            self.steps.append("ℓ = logsumexp(x) − x[y]")
        values = self.kept()
        if case.reduction == "none":
            return self.outcome(float("nan"), values, values, [])
        self.steps.append(f"jnp.{case.reduction} of the {values.size} values")
        return self.outcome(reduce(values, case.reduction, self.dtype), None, values, [])


LIBRARY = Optax()
