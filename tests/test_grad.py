"""``--grad`` and ``Result.grad``: ∂loss/∂input as PyTorch's backward computes it.

The expected gradients are torch autograd's, from ``scripts/gen_grad.py``
(tests/golden/gradients/grad.json): every golden loss case again, and cases of its own at
the edges (the BCE clamp at p = 0 and 1, logits at ±17 … ±1e3, every target ignored, zero
weights).
A finite-difference check shows the rules are the derivative where they should be, and
where torch's rule deliberately is not (the BCE clamp).  Then the outputs: JSON, CSV,
plain, the table, --explain, stdin read twice, and big inputs streamed.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bcecli
from bcecli.errors import BceError
from tests.test_golden import cli_args, decode, deliberately_refused, npy_files

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
LOSS_CASES = {c["id"]: c for name in ("golden.json", "nll.json")
              for c in json.loads((GOLDEN_DIR / name).read_text())["cases"]}
ALL_GRAD = json.loads((GOLDEN_DIR / "gradients" / "grad.json").read_text())["cases"]
GRAD = [c for c in ALL_GRAD if not ("of" in c and deliberately_refused(LOSS_CASES[c["of"]]))]
"""The cases bcecli computes (it refuses a negative label smoothing, where torch smooths
nothing; tests/test_golden.py checks that)."""

# |bcecli − torch| <= RTOL·|torch| + K·scale, scale = M/D (see scripts/gen_grad.py)
RTOL = {"float64": 1e-12, "float32": 3e-7}
K = {"float64": 1e-15, "float32": 3e-7}


def full_case(entry: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The case (its loss case for those that refer to one) and the expected gradient."""
    if "of" in entry:
        return LOSS_CASES[entry["of"]], entry["grad"]
    return entry, entry["expect"]["grad"]


def api_call(case: dict[str, Any]) -> bcecli.Result:
    """The case through the Python API."""
    a = dict(case["args"])
    shapes = case.get("shapes", {})
    x = np.asarray(case["input"], dtype=np.float64).reshape(shapes.get("input") or
                                                             np.shape(case["input"]))
    t = np.asarray(case["target"], dtype=np.float64).reshape(shapes.get("target") or
                                                              np.shape(case["target"]))
    if case["command"] != "bce":
        a.pop("sigmoid", None)
    function = getattr(bcecli, case["command"].replace("-", "_"))
    return function(x, t, **{k: v for k, v in a.items() if v is not None})


def compare(actual: np.ndarray, expected: np.ndarray, dtype: str, scale: float, what: str
            ) -> float:
    """Assert agreement; the largest |diff| / (|torch| + scale) seen, for the report."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    a, e = actual.astype(np.float64), expected
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN at other places\n{a}\n{e}"
    inf = np.isinf(e)
    assert np.array_equal(np.isinf(a), inf) and np.array_equal(a[inf], e[inf]), \
        f"{what}: infinities differ\n{a}\n{e}"
    fin = np.isfinite(e)
    diff = np.abs(a[fin] - e[fin])
    tol = RTOL[dtype] * np.abs(e[fin]) + K[dtype] * scale
    bad = diff > tol
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(f"{what} ({dtype}): {int(bad.sum())} of {bad.size} differ; "
                             f"first bcecli {a[fin][i]!r} torch {e[fin][i]!r} tol {tol[i]:.3g}"
                             f"\nbcecli {a.tolist()}\ntorch  {e.tolist()}")
    with np.errstate(invalid="ignore"):
        rel = diff / (np.abs(e[fin]) + scale)
    return float(np.nanmax(rel)) if diff.size and not np.isnan(rel).all() else 0.0


# --------------------------------------------------------------------------- the golden file


def test_grad_file_is_not_vacuous() -> None:
    of = [c for c in ALL_GRAD if "of" in c]
    own = [c for c in ALL_GRAD if "of" not in c]
    ok_losses = [c for c in LOSS_CASES.values() if "error" not in c["expect"]]
    assert len(of) == len(ok_losses) > 450, "every golden case that computes has a gradient"
    commands = Counter(c["command"] for c in own)
    assert set(commands) == {"bce", "bce-logits", "ce", "nll"}
    flat = json.dumps([c["expect"]["grad"] for c in own])
    assert '"nan"' in flat, "a zero-weight mean: NaN, as torch"
    assert any(abs(v) > 1e11 for c in own for v in np.ravel(decode(c["expect"]["grad"]))
               if math.isfinite(v)), "the BCE clamp: about -1e12"
    inputs = json.dumps([c["input"] for c in own])
    for edge in ("1000.0", "100.0", "40.0", "17.0"):
        assert edge in inputs and f"-{edge}" in inputs


@pytest.mark.parametrize("entry", GRAD, ids=[c["id"] for c in GRAD])
def test_grad_agrees_with_torch(entry: dict[str, Any]) -> None:
    case, expected = full_case(entry)
    dtype = case["args"]["dtype"]
    result = api_call(case)
    want = np.asarray(decode(expected), dtype=np.float64)
    shape = case.get("shapes", {}).get("input")
    if shape is not None:
        want = want.reshape(shape)
    assert result.grad.dtype == np.dtype(dtype)
    compare(np.asarray(result.grad), want, dtype, entry["scale"], entry["id"])


def test_all_ignored_gives_nan_loss_and_zero_gradient() -> None:
    r = bcecli.ce([[1.0, 2.0], [3.0, 4.0]], [1, 1], ignore_index=1)
    assert math.isnan(r.loss)
    assert r.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    # D = 0 but nothing ignored: −w[y]/D is 0/0, torch's NaN, at the target's place; ce
    # spreads it over the row through the softmax
    r = bcecli.nll([[1.0, 2.0]], [0], weight=[0.0, 1.0])
    assert math.isnan(r.loss) and str(r.grad.tolist()) == "[[nan, 0.0]]"
    r = bcecli.ce([[1.0, 2.0]], [0], weight=[0.0, 1.0])
    assert math.isnan(r.loss) and np.isnan(r.grad).all()


def test_bce_clamp_is_torchs_float_epsilon() -> None:
    """max(p(1 − p), 1e-12f): the float constant, 9.99999996e-13, not 1e-12."""
    r = bcecli.bce([[0.0, 1.0]], [[1.0, 0.0]], reduction="sum")
    eps = float(np.float32(1e-12))
    assert r.grad.tolist() == [[-1 / eps, 1 / eps]]
    assert r.grad[0, 0] != -1e12
    assert r.loss == 200.0  # the loss is clamped at 100 a term


def test_float32_sigmoid_saturates_like_torch() -> None:
    """σ(17) is exactly 1 in float32: (1 − 0)/max(0, 1e-12f)·(1 − σ)·σ = 1e12·0 = 0."""
    r = bcecli.bce([[17.0]], [[0.0]], sigmoid=True, dtype="float32")
    assert r.grad.tolist() == [[0.0]]
    r = bcecli.bce([[17.0]], [[0.0]], sigmoid=True)
    assert r.grad[0, 0] == pytest.approx(1.0, rel=1e-6)  # float64: σ(17) < 1


# --------------------------------------------------------------------------- finite differences


def central(f: Any, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, element by element."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


SMOOTH = {
    "bce": (lambda x, r: bcecli.bce(x, [[1, 0, 0.3], [0, 1, 0.5]], weight=[1, 2, 0.5],
                                    reduction=r),
            np.array([[0.3, 0.6, 0.9], [0.2, 0.45, 0.7]])),
    "bce --sigmoid": (lambda x, r: bcecli.bce(x, [[1, 0, 1], [0, 1, 0]], sigmoid=True,
                                              reduction=r),
                      np.array([[-0.4089, -1.2471, 0.5907], [-0.1, 2.0, -3.0]])),
    "bce-logits": (lambda x, r: bcecli.bce_logits(x, [[1, 0, 0.2], [0, 1, 1]],
                                                  pos_weight=[2, 0.5, 3], weight=[[1], [3]],
                                                  reduction=r),
                   np.array([[0.5, -1.5, 2.0], [3.0, 0.1, -0.7]])),
    "ce": (lambda x, r: bcecli.ce(x, [2, 0, 1], weight=[1, 2, 0.5], label_smoothing=0.2,
                                  reduction=r),
           np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [0.3, 0.3, 0.3]])),
    "ce probabilities": (lambda x, r: bcecli.ce(x, [[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]],
                                                weight=[1, 2, 0.5], label_smoothing=0.1,
                                                reduction=r),
                         np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])),
    "ce K-dim": (lambda x, r: bcecli.ce(x, [[0, 2], [1, 1]], ignore_index=2, reduction=r),
                 np.array([[[1.0, 0.2], [2.0, -1.0], [0.5, 0.0]],
                           [[0.0, 0.3], [-1.0, 1.5], [3.0, 2.0]]])),
    "nll": (lambda x, r: bcecli.nll(x, [0, 2], weight=[2, 1, 0.5], reduction=r),
            np.array([[-0.5, -1.0, -2.0], [-3.0, -0.1, -0.7]])),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_grad_is_the_derivative_where_the_loss_is_smooth(name: str, reduction: str) -> None:
    run, x = SMOOTH[name]

    def total(v: np.ndarray) -> float:
        return float(np.sum(run(v, reduction).loss))  # none: d(Σ ℓ)/dx

    numeric = central(total, x)
    analytic = run(x, reduction).grad
    assert np.abs(numeric).max() > 1e-2, "a gradient that is not zero"
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)


def test_bce_clamp_is_where_the_rule_is_not_the_derivative() -> None:
    """At p = 0 with y = 1 the loss is clamped at 100 (flat: a derivative of 0), but
    torch's backward gives −1/1e-12f: bcecli follows torch, not the derivative."""
    def total(v: np.ndarray) -> float:
        return float(bcecli.bce(v, [[1.0]], reduction="sum").loss)

    x = np.array([[1e-50]])  # p(1 − p) < 1e-12f: the clamp bites, ln p ≈ −115 → −100
    assert central(total, x, h=1e-52)[0, 0] == 0.0
    assert bcecli.bce(x, [[1.0]], reduction="sum").grad[0, 0] == pytest.approx(-1.0e12, rel=1e-8)


# --------------------------------------------------------------------------- outputs


TUTORIAL = Path(__file__).resolve().parent.parent / "samples" / "tutorial-3x3-logits"
X3 = [[-0.4089, -1.2471, 0.5907], [-0.4897, -0.8267, -0.7349], [0.5241, -0.1246, -0.4751]]
T3 = [[0, 1, 1], [0, 0, 1], [1, 0, 1]]


def tutorial_grad() -> np.ndarray:
    """(σ(x) − y)/9, straight from the formula."""
    x, y = np.array(X3), np.array(T3, dtype=float)
    return (1 / (1 + np.exp(-x)) - y) / 9


def test_tutorial_inputs_are_the_sample() -> None:
    x = np.loadtxt(TUTORIAL / "input.csv", delimiter=",", ndmin=2)
    assert x.tolist() == X3


def test_json_has_the_gradient_in_the_inputs_shape(cli: Any) -> None:
    r = cli("bce-logits", "-i", TUTORIAL / "input.csv", "-t", TUTORIAL / "target.csv",
            "--grad", "-f", "json")
    assert r.exit_code == 0, r.stderr
    grad = np.array(json.loads(r.stdout)["grad"])
    np.testing.assert_allclose(grad, tutorial_grad(), rtol=1e-15)
    assert round(grad[0, 0], 4) == 0.0444


def test_json_without_grad_has_no_gradient(cli: Any) -> None:
    r = cli("bce-logits", "-i", TUTORIAL / "input.csv", "-t", TUTORIAL / "target.csv",
            "-f", "json")
    assert "grad" not in json.loads(r.stdout)


def test_json_writes_nan_as_null(cli: Any) -> None:
    r = cli("nll", "-i", "[[1, 2]]", "-t", "[0]", "-w", "[0, 1]", "--grad", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["grad"] == [[None, 0.0]]  # NaN, 0.0


@pytest.mark.parametrize("fmt", ["csv", "plain"])
def test_csv_prints_the_gradient_row_by_row(cli: Any, fmt: str) -> None:
    r = cli("bce-logits", "-i", TUTORIAL / "input.csv", "-t", TUTORIAL / "target.csv",
            "--grad", "-f", fmt)
    assert r.exit_code == 0, r.stderr
    rows = [[float(v) for v in line.split(",")] for line in r.stdout.splitlines()]
    np.testing.assert_allclose(rows, tutorial_grad(), rtol=1e-15)


def test_csv_gradient_of_a_k_dim_input_is_one_line_a_sample(cli: Any) -> None:
    x = np.arange(12.0).reshape(2, 3, 2) / 5
    r = cli("ce", "-i", json.dumps(x.tolist()), "-t", "[[0, 2], [1, 1]]", "--grad", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    want = bcecli.ce(x, [[0, 2], [1, 1]]).grad.reshape(2, -1)
    np.testing.assert_allclose([[float(v) for v in line.split(",")] for line in lines], want,
                               rtol=1e-15)


def test_table_shows_the_gradient_with_its_rule(cli: Any) -> None:
    r = cli("bce-logits", "-i", TUTORIAL / "input.csv", "-t", TUTORIAL / "target.csv",
            "--grad", "-f", "table")
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "∂L/∂x = (σ(x) − y)/9" in out
    assert "0.0444" in out and "-0.0863" in out and "-0.0685" in out
    assert out.index("∂L/∂x") > out.index("row mean")  # after the terms


def test_explain_writes_each_gradient_out(cli: Any) -> None:
    r = cli("bce-logits", "-i", TUTORIAL / "input.csv", "-t", TUTORIAL / "target.csv",
            "--grad", "--explain")
    assert r.exit_code == 0, r.stderr
    assert "∂L/∂x₀₀ = (σ(−0.4089) − 0)/9 = (0.3992 − 0)/9 = 0.0444" in r.stdout


def test_explain_shows_the_clamp_where_it_bites(cli: Any) -> None:
    r = cli("bce", "-i", "[[0, 0.5]]", "-t", "[[1, 1]]", "--grad", "--explain")
    assert r.exit_code == 0, r.stderr
    assert "max(p·(1 − p), 1e−12)" in r.stdout  # the rule
    clamp_lines = [line for line in r.stdout.splitlines() if "1e−12" in line]
    assert any("∂L/∂p₀₀ = (0 − 1)/max(0·(1 − 0), 1e−12)/2" in line for line in clamp_lines)
    assert "∂L/∂p₀₁ = (0.5 − 1)/(0.5·(1 − 0.5))/2 = (−0.5000)/0.2500/2 = −1.0000" in r.stdout


def test_explain_shows_the_softmax_row_for_ce(cli: Any) -> None:
    r = cli("ce", "-i", "[[1, 2, 3]]", "-t", "[2]", "--grad", "--explain")
    assert r.exit_code == 0, r.stderr
    assert "∂L/∂x = softmax(x) − onehot(y)" in r.stdout or \
        "∂L/∂x = (softmax(x) − onehot(y))" in r.stdout
    assert ("∂L/∂x₀ = ([0.0900, 0.2447, 0.6652] − [0, 0, 1])/1 = [0.0900, 0.2447, −0.3348]"
            in r.stdout)


def test_explain_ce_with_weights_and_smoothing_groups_the_sum(cli: Any) -> None:
    r = cli("ce", "-i", "[[1, 2, 3], [0.5, 0.1, -1]]", "-t", "[2, 0]", "-w", "[1, 2, 0.5]",
            "--label-smoothing", "0.1", "--grad", "--explain")
    assert r.exit_code == 0, r.stderr
    assert ("∂L/∂x = ((1 − 0.1)·w[y]·(softmax(x) − onehot(y)) + "
            "0.1·(Σ_c w_c·softmax(x) − w)/3)/1.5000") in r.stdout
    assert "= [0.0118, 0.0480, −0.0598]" in r.stdout


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_stdin_is_read_twice_for_the_mean(cli: Any, reduction: str) -> None:
    """The mean's denominator is known only at the end: stdin is kept and read again."""
    x = "\n".join(",".join(str(v) for v in row) for row in X3) + "\n"
    r = cli("bce-logits", "-i", "-", "-t", str(TUTORIAL / "target.csv"), "--grad",
            "-f", "json", "-r", reduction, input=x)
    assert r.exit_code == 0, r.stderr
    want = tutorial_grad() * (9 if reduction != "mean" else 1)
    np.testing.assert_allclose(json.loads(r.stdout)["grad"], want, rtol=1e-15)


def test_cli_agrees_with_the_api_on_golden_cases(cli: Any, tmp_path: Path) -> None:
    """A sample of the golden cases through the command line's JSON."""
    checked = 0
    for entry in GRAD[::9]:
        case, expected = full_case(entry)
        files = npy_files(case, tmp_path)
        r = cli(*cli_args(case, files), "--grad")
        assert r.exit_code == 0, (entry["id"], r.stderr)
        got = np.asarray(decode(json.loads(r.stdout)["grad"]), dtype=np.float64)
        want = np.asarray(decode(expected), dtype=np.float64)
        want[np.isinf(want)] = np.nan  # JSON has no infinity: null
        shape = case.get("shapes", {}).get("input")
        compare(got, want if shape is None else want.reshape(shape), case["args"]["dtype"],
                entry["scale"], entry["id"])
        checked += 1
    assert checked > 90


def test_grad_of_a_big_input_streams(cli: Any, tmp_path: Path) -> None:
    """Rows in, gradient rows out: a 40 000-row CSV, mean (read twice) and none."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40_000, 3))
    y = (rng.random((40_000, 3)) < 0.5).astype(float)
    xp, yp = tmp_path / "x.csv", tmp_path / "y.csv"
    np.savetxt(xp, x, delimiter=",", fmt="%.17g")
    np.savetxt(yp, y, delimiter=",", fmt="%g")
    r = cli("bce-logits", "-i", xp, "-t", yp, "--grad", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    got = np.loadtxt(r.stdout.splitlines(), delimiter=",")
    np.testing.assert_allclose(got, (1 / (1 + np.exp(-x)) - y) / x.size, rtol=1e-13,
                               atol=1e-22)


def test_api_grad_is_computed_once_and_cached() -> None:
    r = bcecli.bce([[0.25]], [[0.0]])
    assert r.grad is r.grad
    assert r.grad.tolist() == [[4 / 3]]


def test_api_result_without_inputs_has_no_grad() -> None:
    r = bcecli.bce([[0.25]], [[0.0]])
    bare = bcecli.Result(r.outcome, r.terms, r.row_means)
    with pytest.raises(BceError, match="no gradient"):
        bare.grad  # noqa: B018


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_input_with_grad_mean(tmp_path: Path) -> None:
    """A FIFO can be read once: the mean's second reading comes from bcecli's own copy."""
    import subprocess
    import sys
    import threading

    fifo = tmp_path / "x.fifo"
    os.mkfifo(fifo)
    data = "\n".join(",".join(str(v) for v in row) for row in X3) + "\n"

    def feed() -> None:
        with open(fifo, "w") as f:
            f.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    p = subprocess.run([sys.executable, "-m", "bcecli", "bce-logits", "-i", str(fifo), "-t",
                        str(TUTORIAL / "target.csv"), "--grad", "-f", "csv"],
                       capture_output=True, text=True, timeout=60)
    writer.join()
    assert p.returncode == 0, p.stderr
    got = np.loadtxt(p.stdout.splitlines(), delimiter=",")
    np.testing.assert_allclose(got, tutorial_grad(), rtol=1e-15)


def test_data_changed_between_the_two_readings_is_an_error(cli: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """The mean's gradient reads the input twice: a file that changes in between (here the
    second reading sees other numbers) must not give a gradient with the old denominator."""
    import bcecli.app as app
    from bcecli.io import open_source

    x, other = tmp_path / "x.csv", tmp_path / "other.csv"
    x.write_text("0.5,1.5\n2.0,-1.0\n")
    other.write_text("0.5,1.5\n2.0,-1.5\n")  # the same shape, a number rewritten
    y = tmp_path / "y.csv"
    y.write_text("0,1\n1,0\n")
    real = app._again

    def again(source: Any) -> Any:
        if str(x) in source.name:
            return open_source(str(other), "--input", None)
        return real(source)

    monkeypatch.setattr(app, "_again", again)
    r = cli("bce-logits", "-i", x, "-t", y, "--grad", "-f", "csv")
    assert r.exit_code == 2 and r.stdout == ""
    assert "changed between the two readings" in r.stderr
    monkeypatch.setattr(app, "_again", real)
    r = cli("bce-logits", "-i", x, "-t", y, "--grad", "-f", "csv")
    assert r.exit_code == 0, r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_one_fifo_for_two_options_is_refused(tmp_path: Path) -> None:
    """A FIFO's data can be read once: named twice, bcecli would wait for ever."""
    import subprocess
    import sys

    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    p = subprocess.run([sys.executable, "-m", "bcecli", "bce-logits", "-i", str(fifo), "-t",
                        str(fifo), "--grad"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == ""
    assert "name the same pipe" in p.stderr
