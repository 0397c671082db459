"""Edge cases found by cross-checking with PyTorch 2.13: shapes read from files, empty
inputs, no classes, float32 sigmoid saturation.

Where a number is written here it is what torch 2.13 printed for the same input; elsewhere a
file-based run is compared with the same data given inline in its exact shape, a route the
golden and live tests check against torch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

RNG = np.random.default_rng(7)


def _json(cli: Callable[..., Result], *args: str) -> dict:
    r = cli(*args, "-f", "json", "--elements")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def _csv(path: Path, a: np.ndarray) -> str:
    path.write_text("".join(",".join(repr(float(v)) for v in row) + "\n"
                            for row in np.atleast_2d(a)))
    return str(path)


def _inline(a: np.ndarray) -> str:
    return json.dumps(a.tolist())


@pytest.mark.parametrize(("x", "target"), [
    # (input, target as it stands for) ; the target is written to CSV as a column or a row
    (RNG.normal(size=(4, 3)), np.array([0, 2, 1, 1])),
    (RNG.normal(size=(3, 3)), np.array([0, 1, 2])),          # N = C: a row is still indices
    (RNG.normal(size=(1, 4)), np.array([3])),                 # one sample
    (RNG.normal(size=(5, 1)), np.array([0, 0, 0, 0, 0])),    # C = 1: a column is indices
])
@pytest.mark.parametrize("layout", ["column", "row"])
def test_csv_class_indices_as_a_column_or_a_row(cli, tmp_path, x, target, layout) -> None:
    t = target.reshape(-1, 1) if layout == "column" else target.reshape(1, -1)
    files = _json(cli, "ce", "-i", _csv(tmp_path / "x.csv", x), "-t", _csv(tmp_path / "t.csv", t))
    inline = _json(cli, "ce", "-i", _inline(x), "-t", _inline(target))
    assert files["options"]["target"] == "class indices"
    assert files["loss"] == inline["loss"] and files["elements"] == inline["elements"]


def test_a_one_row_target_for_one_sample_of_as_many_classes_is_probabilities(cli, tmp_path):
    x, t = RNG.normal(size=(1, 3)), np.array([[0.2, 0.3, 0.5]])
    files = _json(cli, "ce", "-i", _csv(tmp_path / "x.csv", x), "-t", _csv(tmp_path / "t.csv", t))
    inline = _json(cli, "ce", "-i", _inline(x), "-t", _inline(t))
    assert files["options"]["target"] == "class probabilities"
    assert files["loss"] == inline["loss"]


@pytest.mark.parametrize(("x_shape", "t_shape"), [((2, 2, 3), (2, 3)), ((2, 3, 1), (2, 1)),
                                                  ((1, 3, 2), (1, 2))])
@pytest.mark.parametrize("target_kind", ["npy", "csv"])
def test_k_dimensional_input_from_npy_with_file_targets_and_weights(
        cli, tmp_path, x_shape, t_shape, target_kind) -> None:
    """The target stands for itself (no column squeezing); class weights are per class."""
    x = RNG.normal(size=x_shape)
    t = RNG.integers(0, x_shape[1], size=t_shape)
    w = _inline(RNG.uniform(0.5, 2, size=x_shape[1]))
    np.save(tmp_path / "x.npy", x)
    if target_kind == "npy":
        np.save(tmp_path / "t.npy", t)
        target = str(tmp_path / "t.npy")
    else:
        target = _csv(tmp_path / "t.csv", t)
    files = _json(cli, "ce", "-i", str(tmp_path / "x.npy"), "-t", target, "-w", w)
    inline = _json(cli, "ce", "-i", _inline(x), "-t", _inline(t), "-w", w)
    assert files["loss"] == pytest.approx(inline["loss"], rel=1e-15)
    assert files["element_shape"] == list(t_shape)


def test_class_weights_from_a_csv_column_with_a_streamed_input(cli, tmp_path) -> None:
    x, t, w = RNG.normal(size=(6, 3)), RNG.integers(0, 3, size=(6, 1)), np.array([[1], [2], [3]])
    files = _json(cli, "ce", "-i", _csv(tmp_path / "x.csv", x), "-t", _csv(tmp_path / "t.csv", t),
                  "-w", _csv(tmp_path / "w.csv", w))
    inline = _json(cli, "ce", "-i", _inline(x), "-t", _inline(t[:, 0]), "-w", "[1, 2, 3]")
    assert files["loss"] == pytest.approx(inline["loss"], rel=1e-15)


@pytest.mark.parametrize("command", ["bce", "bce-logits"])
def test_empty_npy_inputs(cli, tmp_path, command) -> None:
    """torch: the mean of no elements is nan, their sum 0, and reduction none []."""
    np.save(tmp_path / "e.npy", np.zeros((0, 3)))
    e = str(tmp_path / "e.npy")
    mean = _json(cli, command, "-i", e, "-t", e)
    assert mean["loss"] is None and mean["count"] == 0 and mean["input_shape"] == [0, 3]
    assert any("no terms" in w for w in mean["warnings"])
    assert _json(cli, command, "-i", e, "-t", e, "-r", "sum")["loss"] == 0.0
    assert _json(cli, command, "-i", e, "-t", e, "-r", "none")["loss"] == []


def test_empty_ce_input(cli, tmp_path) -> None:
    np.save(tmp_path / "e.npy", np.zeros((0, 3)))
    np.save(tmp_path / "t.npy", np.zeros((0,), dtype=np.int64))
    e, t = str(tmp_path / "e.npy"), str(tmp_path / "t.npy")
    assert _json(cli, "ce", "-i", e, "-t", "[]")["loss"] is None
    assert _json(cli, "ce", "-i", e, "-t", t, "-r", "sum")["loss"] == 0.0
    # an empty target of the input's shape is still class probabilities, checked as such
    assert _json(cli, "ce", "-i", e, "-t", e)["options"]["target"] == "class probabilities"
    r = cli("ce", "-i", e, "-t", e, "--ignore-index", "1")
    assert r.exit_code == 2 and "class probabilities" in r.stderr


def test_no_classes(cli) -> None:
    """C = 0: torch gives nan for the mean, -0.0 terms for probabilities, and refuses any
    class index but the ignore index."""
    probs = _json(cli, "ce", "-i", "[[], []]", "-t", "[[], []]", "-r", "none")
    assert probs["loss"] == [-0.0, -0.0]
    assert _json(cli, "ce", "-i", "[[], []]", "-t", "[[], []]")["loss"] is None
    assert _json(cli, "ce", "-i", "[[], []]", "-t", "[-100, -100]")["loss"] is None
    r = cli("ce", "-i", "[[], []]", "-t", "[0, -100]")
    assert r.exit_code == 2 and "no classes (C = 0)" in r.stderr and r.stdout == ""
    for extra in (["--explain"], []):
        assert cli("ce", "-i", "[[], []]", "-t", "[[], []]", *extra).exit_code == 0


def test_sigmoid_float32_saturates_like_torch(cli) -> None:
    """torch: σ(-90) is 0 in float32 (e^90 overflows), so BCELoss clamps ln 0 at -100; and
    float32 σ(8.078542) rounds as torch's does."""
    r = cli("bce", "--sigmoid", "-i", "[-90.0, 8.078542]", "-t", "[1, 1]", "--dtype", "float32",
            "-r", "none", "-f", "plain")
    assert r.stdout.split() == ["100.0", "0.0003099922"]  # (a vector: one value a line)


def test_ignore_index_with_probability_targets_is_refused(cli) -> None:
    """torch: 'ignore_index is not supported for floating point target' (for index ≥ 0)."""
    r = cli("ce", "-i", "[[1, 2]]", "-t", "[[0.5, 0.5]]", "--ignore-index", "0")
    assert r.exit_code == 2 and "class probabilities" in r.stderr and r.stdout == ""
    assert cli("ce", "-i", "[[1, 2]]", "-t", "[[0.5, 0.5]]", "--ignore-index", "-1").exit_code == 0


def test_out_of_range_options(cli) -> None:
    r = cli("ce", "-i", "[[1, 2, 3]]", "-t", "[1]", "--ignore-index", "99999999999999999999")
    assert r.exit_code == 2 and "below 2**53" in r.stderr
    r = cli("ce", "-i", "[[1, 2, 3]]", "-t", "[1]", "--label-smoothing", "-0.1")
    assert r.exit_code == 2 and "between 0 and 1" in r.stderr and "PyTorch" in r.stderr


def test_infinite_terms_warned_for_reduction_none(cli) -> None:
    r = cli("bce", "-i", "[0.5]", "-t", "[1]", "-w", "[1e308]", "--dtype", "float32", "-r", "none",
            "-f", "plain")
    assert r.exit_code == 2  # 1e308 does not fit float32: refused, not turned into inf
    r = cli("bce-logits", "-i", "[1e308, 1]", "-t", "[0, 1]", "-w", "[10, 1]", "-r", "none",
            "-f", "plain")
    assert r.exit_code == 0 and r.stdout.startswith("inf\n")
    assert "1 elementwise term overflows float64 to infinity" in r.stderr


@pytest.mark.parametrize("header", ["a,b,-", "p,1-p,%", "x,y,×"])
def test_a_header_with_a_field_of_no_letter_is_a_header(tmp_path: Path, header: str) -> None:
    """README: a header row is a first row in which no field is a number."""
    from typer.testing import CliRunner

    from bcecli.cli import app

    path = tmp_path / "h.csv"
    path.write_text(f"{header}\n0.5,2,-1\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["bce-logits", "-i", str(path), "-t", "[[1, 0, 1]]",
                                 "-f", "json", "--elements"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["input_shape"] == [1, 3]


def test_leading_comment_lines_are_skipped_as_numpy_writes_them(tmp_path: Path) -> None:
    """numpy.savetxt(header=...) starts a file with '#' lines: skipped, as loadtxt does;
    lines are still counted from the top of the file in messages."""
    from typer.testing import CliRunner

    from bcecli.cli import app

    rng = np.random.default_rng(4)
    x = rng.random((30_000, 4))
    path = tmp_path / "p.csv"
    np.savetxt(path, x, delimiter=",", header="p0,p1,p2,p3\nwritten by numpy")
    y = (rng.random((30_000, 4)) < 0.5).astype(float)
    np.save(tmp_path / "y.npy", y)
    r = CliRunner().invoke(app, ["bce", "-i", str(path), "-t", str(tmp_path / "y.npy"),
                                 "-f", "json", "--elements"], env={"BCECLI_THREADS": "2"})
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["input_shape"] == [30_000, 4]
    want = -np.mean(y * np.log(x) + (1 - y) * np.log1p(-x))
    assert out["loss"] == pytest.approx(want, rel=1e-12)
    bad = tmp_path / "bad.csv"
    bad.write_text("# a\n# b\n0.5,x\n")
    r = CliRunner().invoke(app, ["bce", "-i", str(bad), "-t", "[[0, 1]]"])
    assert r.exit_code == 2 and "bad.csv, line 3, column 2: 'x' is not a number" in r.stderr


@pytest.mark.parametrize(("x", "t"), [
    ("v.npy", "col.csv"), ("col_p.csv", "v_t.npy"), ("v.npy", "row.csv"),
    ("row_p.csv", "v_t.npy"), ("[0.2, 0.7, 0.9]", "col.csv"), ("col_p.csv", "[0, 1, 1]"),
])
def test_a_vector_pairs_with_a_file_column_or_row(tmp_path: Path, x: str, t: str) -> None:
    """A (N,) array and a one-column (or one-row) CSV stand for the same vector."""
    from typer.testing import CliRunner

    from bcecli.cli import app

    np.save(tmp_path / "v.npy", np.array([0.2, 0.7, 0.9]))
    np.save(tmp_path / "v_t.npy", np.array([0.0, 1.0, 1.0]))
    (tmp_path / "col.csv").write_text("0\n1\n1\n")
    (tmp_path / "row.csv").write_text("0,1,1\n")
    (tmp_path / "col_p.csv").write_text("0.2\n0.7\n0.9\n")
    (tmp_path / "row_p.csv").write_text("0.2,0.7,0.9\n")
    args = [a if a.startswith("[") else str(tmp_path / a) for a in (x, t)]
    r = CliRunner().invoke(app, ["bce", "-i", args[0], "-t", args[1], "-f", "json", "--elements"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["input_shape"] == [3]
    want = -(np.log(0.8) + np.log(0.7) + np.log(0.9)) / 3
    assert out["loss"] == pytest.approx(want, rel=1e-15)
