"""--like, --compare, --emit and --sample-weight on the command line: what users see, the
refusals (exit 2, nothing on stdout), and the emitted snippets, which were run in the real
libraries (scripts/gen_emit.py) and printed bcecli's numbers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli.cli import app

ROOT = Path(__file__).resolve().parent.parent
EMIT = json.loads((ROOT / "tests" / "golden" / "libraries" / "emit.json").read_text())
P = "[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]"
Y = "[[1, 0, 0], [0, 1, 0]]"
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("record", EMIT["cases"],
                         ids=[f"{r['library']}-{i}" for i, r in enumerate(EMIT["cases"])])
def test_emitted_snippet_is_the_one_that_ran(record: dict[str, Any]) -> None:
    """The snippet is unchanged since it was run in the library, and what it printed there
    is the number --like prints (to the library's precision)."""
    r = invoke(*record["args"], "--emit", record["library"])
    assert r.exit_code == 0, r.output
    assert r.stdout == record["snippet"]
    like = invoke(*record["args"], "--like", record["library"], "-f", "json")
    assert like.exit_code == 0, like.output
    got = np.asarray(json.loads(like.stdout)["loss"], dtype=np.float64)
    want = np.asarray(record["printed"], dtype=np.float64)
    dtype = json.loads(like.stdout)["dtype"]
    # (Keras' binary losses take their last-axis mean in float32 even in float64)
    float32_step = dtype == "float32" or (record["library"] == "keras"
                                          and record["args"][0] != "ce")
    rtol = 2.5e-7 if float32_step else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol)


def test_like_keras_shows_the_clip_and_the_float32_number() -> None:
    r = invoke("bce", "-i", P, "-t", Y, "--like", "keras")
    assert r.exit_code == 0, r.output
    assert "  keras.losses.BinaryCrossentropy()(y, p)\n" in r.stdout and "· float32 ·" in r.stdout
    assert "clip to [1e-7, 0.99999988] changed 2 of 6 elements" in r.stdout
    assert r.stdout.rstrip().endswith("mean = 8.170753")
    plain = invoke("bce", "-i", P, "-t", Y, "--like", "keras", "-f", "plain")
    assert plain.stdout == "8.170753\n"


def test_like_dtype_float64_overrides_the_library_default() -> None:
    r = invoke("ce", "-i", "[[2, 0.5, -1], [0.1, 3, 0.2]]", "-t", "[0, 1]", "--like", "optax",
               "--dtype", "float64", "-f", "json")
    out = json.loads(r.stdout)
    assert out["dtype"] == "float64" and out["like"] == "optax"
    torch = json.loads(invoke("ce", "-i", "[[2, 0.5, -1], [0.1, 3, 0.2]]", "-t", "[0, 1]",
                              "-f", "json").stdout)
    assert out["loss"] == pytest.approx(torch["loss"], rel=1e-15)


def test_compare_json_names_each_library_and_the_rule() -> None:
    r = invoke("bce", "-i", P, "-t", Y, "--compare", "-f", "json")
    assert r.exit_code == 0, r.output
    libs = json.loads(r.stdout)["libraries"]
    assert libs["torch"]["loss"] == pytest.approx(36.189957816502776, rel=1e-15)
    assert libs["keras"]["loss"] == pytest.approx(8.170753, rel=1e-6)
    assert libs["sklearn"]["loss"] == pytest.approx(14.871175612875161, rel=1e-15)
    assert libs["optax"] == {"expressible": False, "lacks": libs["optax"]["lacks"]}
    assert "takes logits" in libs["optax"]["lacks"]
    assert [rule["rule"] for rule in libs["keras"]["rules"]] == ["clip"]
    assert libs["keras"]["difference"] == pytest.approx(8.170753 - 36.189957816502776,
                                                        rel=1e-6)


def test_compare_table_at_80_columns() -> None:
    r = runner.invoke(app, ["bce", "-i", P, "-t", Y, "--compare"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, r.stdout
    text = r.stdout
    for needle in ("torch (float64)", "keras (float32)", "sklearn (float64)", "cannot",
                   "36.189957816502776", "8.170753"):
        assert needle in text


def test_sample_weights_divide_by_n_under_keras_and_by_the_sum_under_sklearn() -> None:
    args = ["bce-logits", "-i", "[[2, -1], [0.3, 1]]", "-t", "[[1, 0], [0, 1]]",
            "--sample-weight", "[1, 3]", "--dtype", "float64", "-f", "plain"]
    x = np.array([[2, -1], [0.3, 1]])
    y = np.array([[1, 0], [0, 1]])
    terms = np.logaddexp(0, x) - y * x
    rows = terms.mean(axis=1)
    keras = float(invoke(*args, "--like", "keras").stdout)
    sklearn = float(invoke(*args, "--like", "sklearn").stdout)
    assert keras == pytest.approx((rows[0] * 1 + rows[1] * 3) / 2, rel=1e-6)
    assert sklearn == pytest.approx((terms[0].sum() * 1 + terms[1].sum() * 3) / 8, rel=1e-12)


@pytest.mark.parametrize(("args", "words"), [
    (["bce", "-i", P, "-t", Y, "--like", "optax"], "optax cannot express this"),
    (["bce", "-i", P, "-t", Y, "--sample-weight", "[1, 2]"], "PyTorch cannot express"),
    (["bce", "-i", P, "-t", Y, "--label-smoothing", "0.1"], "have no label smoothing"),
    (["bce", "-i", P, "-t", Y, "--like", "optax", "--sample-weight", "[1, 2]"], "optax"),
    (["bce", "-i", P, "-t", "[[1, 0, 0.5], [0, 1, 0]]", "--like", "sklearn"],
     "not soft targets"),
    (["bce", "-i", P, "-t", Y, "--like", "sklearn", "-r", "none"], "no unreduced form"),
    (["bce", "-i", P, "-t", Y, "--like", "keras", "-w", "[1, 2, 3]"], "Keras cannot"),
    (["bce-logits", "-i", "[[1, 2]]", "-t", "[[1, 0]]", "--pos-weight", "[2, 2]",
      "--like", "keras"], "--pos-weight"),
    (["ce", "-i", "[[1, 2, 3]]", "-t", "[0]", "-w", "[1, 2, 3]", "--like", "optax"],
     "optax cannot"),
    (["ce", "-i", "[[1, 2, 3]]", "-t", "[[0.2, 0.3, 0.5]]", "--like", "sklearn"],
     "class-probability targets"),
    (["ce", "-i", "[[[1, 2], [3, 4]]]", "-t", "[[0, 1]]", "--like", "sklearn"], "3-D"),
    (["nll", "-i", "[[-1, -2]]", "-t", "[0]", "--like", "keras"], "NLLLoss"),
    (["ce", "-i", "[[1, 2, 3], [1, 1, 1]]", "-t", "[0, 2]", "--like", "keras",
      "--sample-weight", "[1, 2, 3]"], "--sample-weight has shape (3,)"),
    (["bce", "-i", P, "-t", Y, "--like", "keras", "--grad"], "--grad"),
    (["bce", "-i", P, "-t", Y, "--compare", "--expect", "1"], "--expect"),
    (["bce", "-i", P, "-t", Y, "--emit", "optax"], "optax cannot express"),
    (["bce-logits", "-i", "[[0.2, -1], [1, 0.5]]", "-t", "[[0, 1], [1, 0]]",
      "--sample-weight", "[-1, 1]", "--like", "sklearn"], "the sample weights sum to 0"),
    (["bce", "-i", P, "-t", "[[0.25, 0, 1], [0, 1, 0]]", "--emit", "sklearn"],
     "not soft targets (target[0, 0] is 0.25)"),
    (["ce", "-i", "[[2, 0.5, -1], [0, 1, 3]]", "-t", "[0, 1]", "--ignore-index", "1",
      "--emit", "optax"], "optax cannot express this: it has no ignore index"),
])
def test_refusals_exit_2_with_nothing_on_stdout(args: list[str], words: str) -> None:
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert words in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1


def test_expect_checks_the_library_loss() -> None:
    ok = invoke("bce", "-i", P, "-t", Y, "--like", "keras", "--expect", "8.170753")
    assert ok.exit_code == 0, ok.output
    bad = invoke("bce", "-i", P, "-t", Y, "--like", "keras", "--expect", "36.19")
    assert bad.exit_code == 1 and "8.170753" in bad.stderr


def test_emit_large_data_loads_the_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x, t = tmp_path / "x.npy", tmp_path / "t.csv"
    np.save(x, rng.normal(size=(3000, 4)))
    np.savetxt(t, rng.integers(0, 2, size=(3000, 4)), delimiter=",", fmt="%d",
               header="a,b,c,d", comments="")
    r = invoke("bce-logits", "-i", str(x), "-t", str(t), "--emit", "optax")
    assert r.exit_code == 0, r.output
    assert f"x = np.load({str(x)!r}).astype(np.float64).reshape((3000, 4))" in r.stdout
    assert (f"np.loadtxt({str(t)!r}, delimiter=',', skiprows=1, ndmin=2, "
            f"encoding=\"utf-8-sig\")") in r.stdout
    namespace: dict[str, Any] = {"np": np}
    exec(r.stdout.split("\n\n", 1)[1].split("x = jnp")[0], namespace)  # the data part
    assert namespace["x"].shape == (3000, 4) and namespace["t"].shape == (3000, 4)
    assert os.path.exists(str(x))


def test_readme_states_each_library_rules_as_the_modules_do() -> None:
    from bcecli.libraries import rules_table

    assert rules_table() in (ROOT / "README.md").read_text()


GRID_DATA = {
    "bce": ["bce", "-i", P, "-t", Y],
    "bce-sigmoid": ["bce", "--sigmoid", "-i", "[[2, -1, 0.5], [0, 3, -2]]", "-t", Y],
    "bce-logits": ["bce-logits", "-i", "[[2, -1, 0.5], [0, 3, -2]]", "-t", Y],
    "bce-1d": ["bce", "-i", "[0.2, 0.7, 0.9]", "-t", "[0, 1, 1]"],
    "ce-indices": ["ce", "-i", "[[2, 0.5, -1], [0.1, 3, 0.2]]", "-t", "[0, 2]"],
    "ce-probabilities": ["ce", "-i", "[[2, 0.5, -1], [0.1, 3, 0.2]]",
                         "-t", "[[0.7, 0.2, 0.1], [0, 0.5, 0.5]]"],
    "ce-kdim": ["ce", "-i", "[[[1, 2], [0.5, -1]], [[0, 3], [2, 2]]]", "-t", "[[0, 1], [1, 0]]"],
    "nll": ["nll", "-i", "[[-0.5, -1.2], [-2, -0.1]]", "-t", "[0, 1]"],
}
GRID_OPTIONS = {
    "plain": [], "sum": ["-r", "sum"], "none": ["-r", "none"],
    "sample-weight": ["--sample-weight", "SAMPLES"], "smoothing": ["--label-smoothing", "0.1"],
    "weight": ["-w", "WEIGHT"], "ignore": ["--ignore-index", "0"],
    "pos-weight": ["--pos-weight", "2"],
}
WEIGHTS = {"bce-1d": "2", "ce-kdim": "[1, 2]", "nll": "[1, 2]"}
"""A --weight that fits each data set (else one per column of three)."""


def _fitted(data: str, option: str) -> list[str]:
    """The option's arguments with weights that fit the data set."""
    fit = {"WEIGHT": WEIGHTS.get(data, "[1, 2, 3]"),
           "SAMPLES": "[1, 3, 2]" if data == "bce-1d" else "[1, 3]"}
    return [fit.get(a, a) for a in GRID_OPTIONS[option]]


TITLES = {"torch": "PyTorch", "keras": "Keras", "sklearn": "scikit-learn", "optax": "optax"}


@pytest.mark.parametrize("library", ["torch", "keras", "sklearn", "optax"])
@pytest.mark.parametrize("option", list(GRID_OPTIONS))
@pytest.mark.parametrize("data", list(GRID_DATA))
def test_every_combination_computes_or_is_refused_by_name(data: str, option: str,
                                                           library: str) -> None:
    """Each loss × option × library: a loss on stdout (exit 0), or exit 2 with one line that
    names the library and what it lacks (or, for an option the command does not have or
    data it does not fit, the usual usage error), never a traceback."""
    options = _fitted(data, option)
    r = invoke(*GRID_DATA[data], *options, "--like", library, "-f", "json")
    assert "Traceback" not in r.output
    if r.exit_code == 0:
        out = json.loads(r.stdout)
        assert out.get("like", "torch") == library or library == "torch"
        return
    assert r.exit_code == 2, r.output
    assert r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
    usage = "no such option" in r.stderr or (  # (an option of PyTorch's that does not fit)
        data == "ce-probabilities" and option == "ignore" and "class-index" in r.stderr)
    assert f"{TITLES[library]} cannot express this" in r.stderr or usage, r.stderr


@pytest.mark.parametrize(("data", "option", "library", "computes"), [
    ("bce", "plain", "optax", False), ("bce-sigmoid", "plain", "optax", True),
    ("bce", "sample-weight", "keras", True), ("bce", "sample-weight", "sklearn", True),
    ("bce", "sample-weight", "torch", False), ("bce", "smoothing", "keras", True),
    ("bce", "smoothing", "torch", False), ("bce", "smoothing", "sklearn", False),
    ("ce-probabilities", "plain", "sklearn", False), ("ce-kdim", "plain", "sklearn", False),
    ("ce-kdim", "plain", "keras", True), ("ce-kdim", "sample-weight", "keras", False),
    ("ce-indices", "ignore", "keras", True), ("ce-indices", "ignore", "optax", False),
    ("ce-indices", "ignore", "sklearn", False), ("ce-indices", "smoothing", "optax", True),
    ("nll", "plain", "keras", False), ("nll", "plain", "torch", True),
    ("ce-indices", "none", "sklearn", False), ("ce-indices", "none", "keras", True),
    ("bce-1d", "sum", "keras", True), ("bce", "weight", "torch", True),
    ("bce", "weight", "keras", False), ("ce-indices", "weight", "sklearn", False),
    ("nll", "weight", "torch", True),
])
def test_which_combinations_each_library_expresses(data: str, option: str, library: str,
                                                   computes: bool) -> None:
    options = _fitted(data, option)
    r = invoke(*GRID_DATA[data], *options, "--like", library, "-f", "json")
    assert (r.exit_code == 0) is computes, r.output
    if not computes:
        assert f"{TITLES[library]} cannot express this" in r.stderr


def test_readme_compare_screen_is_what_bcecli_prints() -> None:
    command = ("bce -i '[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]' -t '[[1, 0, 0], [0, 1, 0]]' "
               "--compare")
    readme = (ROOT / "README.md").read_text()
    start = readme.index(f"$ bcecli {command}\n") + len(f"$ bcecli {command}\n")
    shown = readme[start:readme.index("```", start)]
    r = runner.invoke(app, ["bce", "-i", P, "-t", Y, "--compare"],
                      env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert r.stdout == shown


def test_emit_loads_files_as_bcecli_reads_them(tmp_path: Path) -> None:
    """Whitespace-separated text, a BOM, comment lines, a header on the sample weights and
    FILE:COLUMNS: the snippet's loaders give the arrays bcecli read."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(2000, 6)), (rng.random((2000, 6)) < 0.5).astype(float)
    w = rng.random(2000)
    np.savetxt(tmp_path / "x.txt", x, fmt="%.17g", header="logits")  # ('#' line first)
    (tmp_path / "y.csv").write_bytes(b"\xef\xbb\xbf" + "\n".join(
        ",".join(str(int(v)) for v in row) for row in y).encode() + b"\n")
    (tmp_path / "w.csv").write_text("weight\n" + "\n".join(map(repr, w.tolist())) + "\n")
    both = tmp_path / "both.csv"
    both.write_text("id," + ",".join(f"p{j}" for j in range(6)) + "\n" + "".join(
        f"r{i}," + ",".join(map(repr, row)) + "\n" for i, row in enumerate(x.tolist())))
    for args, want_x in ((["-i", str(tmp_path / "x.txt")], x),
                         (["-i", f"{both}:p0-p5"], x)):
        r = invoke("bce-logits", *args, "-t", str(tmp_path / "y.csv"), "--sample-weight",
                   str(tmp_path / "w.csv"), "--emit", "keras")
        assert r.exit_code == 0, r.output
        data = r.stdout.split("\n\n", 1)[1].split("\nloss = ")[0]
        namespace: dict[str, Any] = {"np": np}
        exec(data, namespace)
        np.testing.assert_array_equal(namespace["x"], want_x)
        np.testing.assert_array_equal(namespace["t"], y)
        np.testing.assert_array_equal(namespace["w"], w)


@pytest.mark.parametrize(("args", "words"), [
    (["bce-logits", "-i", "[[1, 1e300]]", "-t", "[[0, 1]]", "--like", "keras"],
     "input[0, 1] is 1e+300, beyond float32"),
    (["bce", "-i", "[]", "-t", "[]", "--like", "sklearn"], "at least one sample"),
    (["bce", "-i", "[1]", "-t", "[1]", "--like", "keras", "--emit", "optax"],
     "does not go with --compare or --like"),
    (["bce", "-i", P, "-t", Y, "--compare", "-r", "none", "-f", "csv"], "with --compare use"),
])
def test_more_refusals(args: list[str], words: str) -> None:
    r = invoke(*args)
    assert r.exit_code == 2 and r.stdout == "" and words in r.stderr, r.output


def test_compare_drops_a_library_that_cannot_hold_the_values() -> None:
    r = invoke("bce-logits", "-i", "[[1, 1e300]]", "-t", "[[0, 1]]", "--compare", "-f",
               "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1] == "keras\t-" and r.stdout.splitlines()[3] == "optax\t-"


@pytest.mark.parametrize("columns", [60, 80, 100, 120, 140, 160, 200])
def test_compare_never_outgrows_the_terminal(columns: int) -> None:
    """A table where it fits, else a list: no line wider than the terminal (at 120 a table
    of 139 columns was drawn, which the terminal folded)."""
    r = runner.invoke(app, ["ce", "-i", "[[2, 0.5, -1], [0.1, 3, 0.2], [30, -30, 0]]", "-t",
                            "[0, 1, 1]", "--compare"], env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output
    assert max(len(line) for line in r.stdout.splitlines()) <= columns
    assert "20.116970920392905" in r.stdout and "12.13152205009859" in r.stdout
