"""--like's rules against the real libraries: golden values from Keras 3, scikit-learn,
optax and PyTorch (scripts/gen_libraries.py, run in the generation venv)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bcecli.libraries import LIBRARIES
from bcecli.libraries.base import Case, Lacking

GOLDEN = json.loads((Path(__file__).parent / "golden" / "libraries" / "libraries.json")
                    .read_text())
CASES = [c for c in GOLDEN["cases"] if "without-x64" not in c["id"]]
"""(The without-x64 cases record Keras' dtype="float64" on JAX without jax_enable_x64, a
float32 computation: a pitfall of the environment, not a rule bcecli follows.)"""
ULPS32 = 2
"""float32 results agree within this many float32 steps (XLA's exp/log and sum order
differ from numpy's by a step); scikit-learn's, numpy itself, agree to the last bit."""


def _number(v: Any) -> float:
    return float(v) if not isinstance(v, str) else float(v.replace("inf", "inf"))


def _nested(v: Any) -> np.ndarray:
    if isinstance(v, list):
        return np.array([_nested(e) for e in v], dtype=np.float64)
    return np.array(_number(v))


REFUSED = {
    "ce-idx-oob": "class indices out of range: PyTorch raises; bcecli refuses for every library",
    "ce-idx-neg": "a negative class index: PyTorch raises; bcecli refuses for every library",
    "kdim-idx-sw-d2eqN": "Keras broadcasts sample_weight (N,) along d when d == N: refused",
}
"""Cases a library computes that bcecli refuses on purpose, with why."""


def _torch_weight(c: dict[str, Any]) -> np.ndarray | None:
    """PyTorch's equivalent of a sample weight (the golden's torch call): weight=(N, 1...)."""
    sw = c["options"].get("sample_weight")
    if sw is None or c["library"] != "torch":
        return None
    x = np.asarray(c["input"])
    return np.asarray(sw, dtype=np.float64).reshape(x.shape[0], *([1] * (x.ndim - 1)))


def case_of(c: dict[str, Any]) -> Case:
    o = c["options"]
    sw = None if c["library"] == "torch" else o.get("sample_weight")
    weight = _torch_weight(c)
    return Case(
        loss=c["loss"], shape=np.shape(c["input"]), reduction=o["reduction"],
        sigmoid=bool(o.get("sigmoid")), probabilities=c["target_kind"] == "prob",
        label_smoothing=float(o.get("label_smoothing") or 0.0),
        sample_weight=None if sw is None else np.asarray(sw, dtype=np.float64),
        ignore_index=int(o["ignore_index"]) if o.get("ignore_index") is not None else -100,
        classes=c["loss"] == "ce",
        options={k: v for k, v in (("sigmoid", o.get("sigmoid")),
                                   ("label_smoothing", o.get("label_smoothing")),
                                   ("ignore_index", o.get("ignore_index")))
                 if v is not None and (c["loss"] != "bce-logits" or k not in
                                       ("sigmoid", "label_smoothing"))
                 and (c["loss"] == "ce" or k != "ignore_index")
                 and (c["loss"] == "bce" or k != "sigmoid")
                 and (c["loss"] == "ce" or k != "label_smoothing")}
        | ({} if weight is None else {"weight": weight}))


def close(got: np.ndarray, want: np.ndarray, dtype: str, float32_step: bool = False) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False
    if dtype == "float32" or float32_step:
        step = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        tol = ULPS32 * np.maximum(step, np.finfo(np.float32).tiny)
    else:
        tol = 1e-12 * np.abs(want) + 1e-300
    same = (got == want) | (np.isnan(got) & np.isnan(want)) | (np.abs(got - want) <= tol)
    return bool(np.all(same))


def _expressible(c: dict[str, Any]) -> bool:
    return "error" not in c["result"]


@pytest.mark.parametrize("c", CASES, ids=[c["id"] for c in CASES])
def test_library_rules(c: dict[str, Any]) -> None:
    library = LIBRARIES[c["library"]]
    case = case_of(c)
    dtype = c["options"]["dtype"]
    x, t = _data(c)
    refused = [why for key, why in REFUSED.items() if key in c["id"]]
    if refused or not _expressible(c):
        assert library.lacks(case) is not None or _bcecli_refuses(case, x, t) \
            or _lacking(library, case, dtype, x, t), refused or c["result"]["error"]
        return
    lacks = library.lacks(case)
    assert lacks is None, lacks
    out = library.compute(case, dtype, x, t)
    want = _nested(c["result"]["loss"])
    if library.name == "sklearn":  # (numpy's own operations, in the same order)
        assert float(out.loss) == float(want), (out.loss, float(want))
    got = np.asarray(out.values) if out.values is not None else np.asarray(out.loss)
    # Keras' binary losses take their last-axis mean in float32 even for dtype="float64"
    f32 = c["library"] == "keras" and c["loss"] != "ce"
    assert close(got, want, dtype, f32), (got.tolist(), want.tolist(), out.call, c["call"])


def _data(c: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(c["input"], dtype=np.float64),
            np.asarray(c["target"], dtype=np.float64))


def _lacking(library: Any, case: Case, dtype: str, x: np.ndarray, t: np.ndarray) -> bool:
    """Whether the library's computation finds in the data what it cannot express."""
    from bcecli.errors import BceError

    try:
        library.compute(case, dtype, x, t)
    except (Lacking, BceError):  # (BceError: PyTorch's checks, which torch's rules run)
        return True
    return False


def _bcecli_refuses(case: Case, x: np.ndarray, t: np.ndarray) -> bool:
    """Whether bcecli's reading (PyTorch's checks) refuses the data."""
    from bcecli.api import run_arrays
    from bcecli.errors import BceError
    from bcecli.losses import LOSSES

    options = {k: v for k, v in case.options.items() if k != "weight"}
    try:
        run_arrays(LOSSES[case.loss], x, t, **options)
    except BceError:
        return True
    return bool(case.sample_weight is not None and LIBRARIES["keras"].lacks(case))


def test_golden_covers_what_the_issue_asks() -> None:
    ids = " ".join(c["id"] for c in CASES)
    libraries = {c["library"] for c in CASES}
    assert libraries == {"torch", "keras", "sklearn", "optax"}
    assert {c["options"]["dtype"] for c in CASES} == {"float32", "float64"}
    for needle in ("edge-p1.0-y0", "edge-p0.0-y1"):
        assert needle in ids
    assert any(c["options"].get("sample_weight") for c in CASES)
    assert any(c["options"].get("label_smoothing") for c in CASES)
    assert any(c["target_kind"] == "prob" for c in CASES)


def test_keras_float32_clip_numbers() -> None:
    """The issue's own numbers: p = 0, y = 1 gives 16.118 in float32 Keras (PyTorch 100,
    scikit-learn 36.04); p = 1, y = 0 gives 15.942 (float32's 1 − 1e-7 is 0.99999988)."""
    keras, sklearn = LIBRARIES["keras"], LIBRARIES["sklearn"]
    zero, one = np.array([[0.0]]), np.array([[1.0]])
    assert math.isclose(keras.compute(Case("bce", (1, 1)), "float32", zero, one).loss,
                        16.118095, rel_tol=1e-6)
    assert math.isclose(keras.compute(Case("bce", (1, 1)), "float32", one, zero).loss,
                        15.942385, rel_tol=1e-6)
    assert math.isclose(sklearn.compute(Case("bce", (1, 1)), "float64", zero, one).loss,
                        36.04365338911715, rel_tol=1e-12)
