"""Cross-check the CLI against PyTorch live, on random cases generated at test time.

Skipped when torch is not installed.  The cases are seeded (``BCECLI_LIVE_SEED`` picks
another seed) so a failure can be reproduced; each test id carries its case number.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import traceback
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

SEED = int(os.environ.get("BCECLI_LIVE_SEED", "7321"))
PER_COMMAND = 80
TOLERANCE = {"float64": (1e-12, 1e-15), "float32": (2e-6, 1e-6)}
REDUCTIONS = ("mean", "sum", "none")
NP_DTYPE = {"float64": np.float64, "float32": np.float32}
TORCH_DTYPE = {"float64": torch.float64, "float32": torch.float32}


# --------------------------------------------------------------------------- random cases


def _values(a: np.ndarray, dtype: str) -> Any:
    """Exact Python floats of the array rounded to dtype."""
    return np.asarray(a, dtype=np.float64).astype(NP_DTYPE[dtype]).astype(np.float64).tolist()


def _weight(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, kinds: list[str]):
    kind = kinds[int(rng.integers(len(kinds)))]
    if kind == "none":
        return None
    if kind == "scalar":
        return float(np.float64(rng.uniform(0.1, 3.0)).astype(NP_DTYPE[dtype]))
    wshape = {
        "full": shape,
        "last": shape[-1:],
        "row": (1, shape[-1]),
        "col": (shape[0], 1) if len(shape) == 2 else (1,),
        "bad": (shape[-1] + 1,),
    }[kind]
    return _values(rng.uniform(0.1, 3.0, size=wshape), dtype)


def _shape(rng: np.random.Generator) -> tuple[int, ...]:
    if rng.random() < 0.3:
        return (int(rng.integers(1, 10)),)
    return (int(rng.integers(1, 7)), int(rng.integers(1, 8)))


def _sprinkle(rng: np.random.Generator, a: np.ndarray, values: list[float], frac: float):
    mask = rng.random(a.shape) < frac
    a[mask] = rng.choice(values, size=int(mask.sum()))
    return a


def bce_case(rng: np.random.Generator) -> dict[str, Any]:
    dtype = str(rng.choice(["float64", "float32"]))
    shape = _shape(rng)
    sigmoid = bool(rng.random() < 0.4)
    if sigmoid:
        x = _sprinkle(rng, rng.normal(0, 3, shape), [0.0, 30.0, -30.0, 1e4, -1e4], 0.1)
    else:
        x = _sprinkle(rng, rng.uniform(0, 1, shape), [0.0, 1.0, 0.5, 1e-7], 0.2)
    t = rng.uniform(0, 1, shape) if rng.random() < 0.5 else rng.integers(0, 2, shape) * 1.0
    kinds = ["none", "full", "last", "scalar", "row", "col", "bad"]
    return {
        "command": "bce",
        "args": {"reduction": str(rng.choice(REDUCTIONS)), "dtype": dtype, "sigmoid": sigmoid,
                 "weight": _weight(rng, shape, dtype, kinds)},
        "input": _values(x, dtype),
        "target": _values(t, dtype),
    }


def bce_logits_case(rng: np.random.Generator) -> dict[str, Any]:
    dtype = str(rng.choice(["float64", "float32"]))
    shape = _shape(rng)
    x = _sprinkle(rng, rng.normal(0, 4, shape), [0.0, 1e4, -1e4, 1e9, -1e9, 50.0, -50.0], 0.15)
    r = rng.random()
    if r < 0.4:
        t = rng.integers(0, 2, shape) * 1.0
    elif r < 0.9:
        t = rng.uniform(0, 1, shape)
    else:
        t = rng.uniform(-0.5, 1.5, shape)
        x = rng.normal(0, 4, shape)  # no cancellation of huge terms with targets outside [0, 1]
    kinds = ["none", "none", "full", "last", "scalar", "row", "col", "bad"]
    return {
        "command": "bce-logits",
        "args": {"reduction": str(rng.choice(REDUCTIONS)), "dtype": dtype,
                 "weight": _weight(rng, shape, dtype, kinds),
                 "pos_weight": _weight(rng, shape, dtype, kinds)},
        "input": _values(x, dtype),
        "target": _values(t, dtype),
    }


def ce_case(rng: np.random.Generator) -> dict[str, Any]:
    dtype = str(rng.choice(["float64", "float32"]))
    c = int(rng.integers(1, 7))
    layout = int(rng.integers(4))
    if layout == 0:
        shape: tuple[int, ...] = (c,)
    elif layout == 1:
        shape = (int(rng.integers(1, 7)), c)
    elif layout == 2:
        shape = (int(rng.integers(1, 4)), c, int(rng.integers(1, 5)))
    else:
        shape = (int(rng.integers(1, 3)), c, int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    x = rng.normal(0, 3, shape)
    if rng.random() < 0.2:
        x = _sprinkle(rng, x, [1e4, -1e4], 0.3)
    ls = float(rng.choice([0.0, 0.0, 0.05, 0.1, 0.5, 1.0]))
    ignore_index = -100
    axis = 0 if len(shape) == 1 else 1
    if rng.random() < 0.6:  # class indices
        tshape = () if len(shape) == 1 else (shape[0], *shape[2:])
        t = rng.integers(0, c, size=tshape)
        r = rng.random()
        if r < 0.3:
            ignore_index = int(rng.choice([-100, 0, 1, -1, c]))
            mask = rng.random(tshape) < 0.4
            t[mask] = ignore_index
        elif r < 0.35 and t.size:
            t.flat[0] = int(rng.choice([c, -1]))  # out of range
        target: Any = int(t) if t.ndim == 0 else t.tolist()
    else:  # class probabilities
        z = rng.normal(0, 1.5, shape)
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        target = _values(e / e.sum(axis=axis, keepdims=True), dtype)
    weight = None
    if rng.random() < 0.4:
        n = c if rng.random() < 0.9 else c + 1
        weight = _values(rng.uniform(0.1, 3.0, n), dtype)
    return {
        "command": "ce",
        "args": {"reduction": str(rng.choice(REDUCTIONS)), "dtype": dtype, "weight": weight,
                 "ignore_index": ignore_index, "label_smoothing": ls},
        "input": _values(x, dtype),
        "target": target,
    }


MAKERS = {"bce": bce_case, "bce-logits": bce_logits_case, "ce": ce_case}
PARAMS = [(command, i) for command in MAKERS for i in range(PER_COMMAND)]


def make_case(command: str, i: int) -> dict[str, Any]:
    rng = np.random.default_rng([SEED, list(MAKERS).index(command), i])
    return MAKERS[command](rng)


# --------------------------------------------------------------------------- torch


def _t(v: Any, dtype: str):
    return None if v is None else torch.tensor(v, dtype=TORCH_DTYPE[dtype])


def torch_loss(case: dict[str, Any], reduction: str):
    a = case["args"]
    dtype = a["dtype"]
    x, w = _t(case["input"], dtype), _t(a.get("weight"), dtype)
    if case["command"] == "bce":
        p = torch.sigmoid(x) if a["sigmoid"] else x
        return F.binary_cross_entropy(p, _t(case["target"], dtype), weight=w,
                                      reduction=reduction)
    if case["command"] == "bce-logits":
        return F.binary_cross_entropy_with_logits(
            x, _t(case["target"], dtype), weight=w, pos_weight=_t(a.get("pos_weight"), dtype),
            reduction=reduction)
    target = case["target"]
    flat = np.asarray(target).reshape(-1)
    if np.issubdtype(flat.dtype, np.integer):
        y = torch.tensor(target, dtype=torch.long)
    else:
        y = _t(target, dtype)
    return F.cross_entropy(x, y, weight=w, ignore_index=a["ignore_index"],
                           label_smoothing=a["label_smoothing"], reduction=reduction)


# --------------------------------------------------------------------------- the CLI


def cli_args(case: dict[str, Any]) -> list[str]:
    a = case["args"]
    args = [case["command"], "--input", json.dumps(case["input"]),
            "--target", json.dumps(case["target"]), "--reduction", a["reduction"],
            "--dtype", a["dtype"], "--format", "json"]
    if a.get("weight") is not None:
        args += ["--weight", json.dumps(a["weight"])]
    if a.get("sigmoid"):
        args.append("--sigmoid")
    if a.get("pos_weight") is not None:
        args += ["--pos-weight", json.dumps(a["pos_weight"])]
    if case["command"] == "ce":
        args += ["--ignore-index", str(a["ignore_index"]),
                 "--label-smoothing", repr(a["label_smoothing"])]
    return args


def _floats(v: Any) -> Any:
    if isinstance(v, list):
        return [_floats(x) for x in v]
    return math.nan if v is None else float(v)


def assert_close(actual: Any, expected: Any, dtype: str, what: str, scale: float = 0.0) -> None:
    rtol, atol = TOLERANCE[dtype]
    a = np.asarray(_floats(actual), dtype=np.float64)
    e = np.asarray(_floats(expected), dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN mismatch {a} vs {e}"
    assert np.array_equal(np.isinf(a), np.isinf(e)), f"{what}: inf mismatch {a} vs {e}"
    assert np.array_equal(a[np.isinf(e)], e[np.isinf(e)]), f"{what}: {a} vs {e}"
    fin = np.isfinite(e)
    tol = atol + rtol * np.maximum(np.abs(e[fin]), scale)
    diff = np.abs(a[fin] - e[fin])
    assert (diff <= tol).all(), (
        f"{what} ({dtype}): max |diff| {diff.max():.3g} (tol {tol[np.argmax(diff - tol)]:.3g})"
        f"\nbcecli {a.tolist()}\ntorch  {e.tolist()}")


@pytest.fixture(scope="module")
def cli():
    from typer.testing import CliRunner

    from bcecli.cli import app

    runner = CliRunner()
    return lambda args: runner.invoke(app, args)


def test_live_cases_are_varied() -> None:
    cases = [make_case(c, i) for c, i in PARAMS]
    assert len(cases) >= 200
    errors = 0
    for case in cases:
        try:
            torch_loss(case, case["args"]["reduction"])
        except Exception:  # noqa: BLE001
            errors += 1
    assert 0 < errors < len(cases) // 3, errors
    assert {c["args"]["dtype"] for c in cases} == {"float64", "float32"}
    assert {c["args"]["reduction"] for c in cases} == set(REDUCTIONS)


@pytest.mark.parametrize(("command", "i"), PARAMS, ids=[f"{c}-{i}" for c, i in PARAMS])
def test_live(command: str, i: int, cli) -> None:
    case = make_case(command, i)
    args = cli_args(case)
    result = cli(args)
    detail = (f"\nseed {SEED}, {command} case {i}: bcecli {shlex.join(args)}\n"
              f"exit {result.exit_code}\nstdout {result.stdout[:1500]!r}\n"
              f"stderr {result.stderr[:1500]!r}")
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        detail += "\n" + "".join(traceback.format_exception(*result.exc_info))
    reduction = case["args"]["reduction"]
    try:
        loss = torch_loss(case, reduction)
    except Exception as exc:  # noqa: BLE001 - any torch error means bcecli must refuse
        assert result.exit_code == 2, f"torch raised {exc!r}" + detail
        assert result.stdout.strip() == "" and result.stderr.strip(), detail
        return
    assert result.exit_code == 0, detail
    out = json.loads(result.stdout)
    elements = torch_loss(case, "none")
    dtype = case["args"]["dtype"]
    assert_close(out["elements"], elements.tolist(), dtype, "elements" + detail)
    el = elements.abs().to(torch.float64)
    scale = 0.0
    if reduction == "sum":
        scale = float(el.sum())
    elif reduction == "mean" and command != "ce":
        scale = float(el.mean()) if el.numel() else 0.0
    assert_close(out["loss"], loss.tolist(), dtype, "loss" + detail, scale)
