"""PyTorch's rules: bcecli's own computation (``torch.nn.functional``'s losses).

- ``bce`` → ``F.binary_cross_entropy(p, y)``: each log clamped at −100;
- ``bce-logits`` → ``F.binary_cross_entropy_with_logits(x, y)``;
- ``ce`` → ``F.cross_entropy(x, y)``, ``nll`` → ``F.nll_loss(x, y)``.

The mean divides by the number of elements, or by Σ w[y] for a class-weighted loss on
class indices (but by N on probabilities).  No sample weights, no binary smoothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bcecli.libraries.base import F64, Accumulator, Array, Case, LibOutcome, Library, Rule

FUNCTIONS = {"bce": "binary_cross_entropy", "bce-logits": "binary_cross_entropy_with_logits",
             "ce": "cross_entropy", "nll": "nll_loss"}


class Torch(Library):
    name = "torch"
    title = "PyTorch"
    default_dtype = "float64"
    summary = (
        ("formula", "BCELoss: −(y·ln p + (1 − y)·ln(1 − p)); BCEWithLogitsLoss: stable "
                    "log-sigmoid; CrossEntropyLoss: −Σ t·log_softmax(x)"),
        ("clipping", "BCELoss clamps each ln at −100 (p = 0, y = 1 gives 100)"),
        ("reduction", "Σ ℓ / number of elements; with class weights on indices Σ ℓ / Σ w[y]"),
        ("weights", "weight (per element or per class), pos_weight; no sample weights"),
        ("smoothing", "CrossEntropyLoss only: t·(1 − ε) + ε/C; none for BCE"),
        ("dtype", "float32 by default in PyTorch; bcecli's default is float64"),
    )

    def lacks(self, case: Case) -> str | None:
        if case.sample_weight is not None:
            return ("its losses take no sample weights (weight is per element or per "
                    "class); use --like keras or sklearn, or --weight")
        if case.label_smoothing and not case.classes:
            return ("BCELoss and BCEWithLogitsLoss have no label smoothing (Keras' binary "
                    "smoothing: --like keras)")
        return None

    def call(self, case: Case, dtype: str) -> str:
        x = "torch.sigmoid(x)" if case.loss == "bce" and case.sigmoid else (
            "x" if case.logits or case.loss == "nll" else "p")
        args = [x, "t" if case.probabilities else "y"]
        for name, value in self._keywords(case).items():
            args.append(f"{name}={value}")
        for flag in case.torch_only:
            name = flag.removeprefix("--").replace("-", "_")
            if name not in case.options or case.options[name] is None:
                args.append(f"{name}={name}")
        if case.reduction != "mean":
            args.append(f"reduction={case.reduction!r}")
        return f"F.{FUNCTIONS[case.loss]}({', '.join(args)})"

    def _keywords(self, case: Case) -> dict[str, str]:
        out = {}
        for name, value in case.options.items():
            if name in ("sigmoid",) or value is None:
                continue
            if name == "ignore_index" and value == -100:
                continue
            if name == "label_smoothing" and not value:
                continue
            out[name] = name if isinstance(value, np.ndarray) else repr(value)
        return out

    def start(self, case: Case, dtype: str) -> Accumulator:
        return TorchRules(self, case, dtype, keep=True)

    def observer(self, case: Case, dtype: str) -> TorchRules:
        """What a run of bcecli's own computation adds: the rules that acted (the clamp),
        without keeping the data (:meth:`TorchRules.described` takes the run's outcome)."""
        return TorchRules(self, case, dtype, keep=False)

    def emit(self, case: Case, dtype: str, data: str) -> str:
        lines = ["import numpy as np", "import torch", "import torch.nn.functional as F", "",
                 data]
        x = f"torch.tensor(x, dtype=torch.{dtype})"
        lines.append(f"x = {x}")
        if case.classes and not case.probabilities:
            lines.append("y = torch.tensor(t, dtype=torch.long)")
        else:
            lines.append(f"{'t' if case.probabilities else 'y'} = torch.tensor(t, "
                         f"dtype=torch.{dtype})")
        for name, value in case.options.items():
            if isinstance(value, np.ndarray):
                lines.append(f"{name} = torch.tensor({value.tolist()!r}, dtype=torch.{dtype})")
        call = self.call(case, dtype).replace("(p,", "(x,")
        lines.append(f"print({call}.tolist())")
        return "\n".join(lines) + "\n"


class TorchRules(Accumulator):
    """bcecli's own computation (PyTorch's rules) and the rules that acted on the data."""

    def __init__(self, library: Library, case: Case, dtype: str, keep: bool) -> None:
        super().__init__(library, case, dtype)
        self.keep = keep
        self.targets: list[F64] = []
        self.clamped = 0

    def add(self, x: F64, t: F64, start: int) -> None:
        if self.case.loss == "bce":
            self.clamped += _clamped(x, t, self.case.sigmoid)
        if self.keep:
            self.parts.append(x)
            self.targets.append(t)

    def finish(self) -> LibOutcome:
        from bcecli.api import run_arrays
        from bcecli.losses import LOSSES

        case = self.case
        options: dict[str, Any] = {k: v for k, v in case.options.items() if v is not None}
        x = self.kept().reshape(case.shape)
        t = np.concatenate(self.targets) if self.targets else np.empty(0)
        result = run_arrays(LOSSES[case.loss], x, t, reduction=case.reduction,
                            dtype=self.dtype, **options)
        return self.described(result.outcome, result.terms)

    def described(self, outcome: Any, terms: Array | None) -> LibOutcome:
        """A run's outcome with the rules that acted on the data; ``terms`` the
        elementwise terms (needed for reduction none)."""
        case = self.case
        rules = []
        if self.clamped and outcome.infinite == 0:
            rules.append(Rule("clamp", f"ln clamped at −100 for {self.clamped} of "
                                       f"{case.size} elements"))
        if case.reduction == "mean" and outcome.denominator != outcome.count:
            rules.append(Rule("class weights", f"the mean divides by Σ w[y] = "
                                               f"{outcome.denominator:g}, not N"))
        values = terms if case.reduction == "none" else None
        if values is not None and case.unbatched:
            values = np.asarray(values).reshape(())
        loss = float("nan") if case.reduction == "none" else float(outcome.loss)
        self.steps.append("as the breakdown of bcecli's own table (PyTorch's rules)")
        return LibOutcome(self.library.name, self.library.call(case, outcome.dtype),
                          outcome.dtype, loss, values,
                          np.asarray(terms if terms is not None else []).reshape(-1), rules,
                          self.steps)


def _clamped(x: F64, t: F64, sigmoid: bool) -> int:
    """How many elements of a bce block meet the −100 clamp of the log they use."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        p = x if not sigmoid else 1.0 / (1.0 + np.exp(-x))
        lo = np.where(t != 0, np.log(p) < -100, False)
        hi = np.where(t != 1, np.log1p(-p) < -100, False)
    return int(np.count_nonzero(lo | hi))


LIBRARY = Torch()
