"""The command line: exit codes, streams, formats, help, and real subprocess runs."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli.cli import app

ROOT = Path(__file__).parent.parent
X = "[[-0.4089,-1.2471,0.5907],[-0.4897,-0.8267,-0.7349],[0.5241,-0.1246,-0.4751]]"
Y = "[[0,1,1],[0,0,1],[1,0,1]]"
LOSS = 0.7193247832556007
runner = CliRunner()


def invoke(*args: str, input: str | None = None):  # noqa: ANN201
    return runner.invoke(app, list(args), input=input)


def test_plain_prints_the_shortest_round_trip_repr() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "0.7193247832556007\n", "")


def test_float32_plain() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "--dtype", "float32")
    # torch sums the float32 terms in float32 (0.7193248); bcecli accumulates in float64 and
    # rounds once, so the two may differ by an ulp of float32
    assert abs(float(r.stdout) - 0.7193248271942139) <= 2 * 6e-8
    assert len(r.stdout.strip()) <= 10


def test_sum_and_none() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "-r", "sum")
    assert float(r.stdout) == pytest.approx(LOSS * 9, rel=1e-14)
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "-r", "none")
    rows = [list(map(float, line.split(","))) for line in r.stdout.splitlines()]
    assert len(rows) == 3 and all(len(row) == 3 for row in rows)
    assert np.mean(rows) == pytest.approx(LOSS, rel=1e-14)


def test_csv_format_gives_elements_for_any_reduction() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "csv")
    assert r.stdout.splitlines()[0].startswith("0.5094530825023091,1.4996756400438156,")


def test_json_object() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "json", "--elements")
    doc = json.loads(r.stdout)
    assert doc["command"] == "bce-logits" and doc["reduction"] == "mean"
    assert doc["dtype"] == "float64" and doc["loss"] == LOSS
    assert np.shape(doc["elements"]) == (3, 3) and len(doc["row_means"]) == 3
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "json", "-r", "none")
    doc = json.loads(r.stdout)
    assert doc["loss"] == doc["elements"] and np.shape(doc["loss"]) == (3, 3)


def test_json_ce_elements_shaped_like_the_target() -> None:
    x = json.dumps(np.arange(24.0).reshape(2, 3, 4).tolist())
    r = invoke("ce", "-i", x, "-t", "[[0,1,2,0],[1,1,1,1]]", "-f", "json", "-r", "none")
    assert np.shape(json.loads(r.stdout)["elements"]) == (2, 4)
    r = invoke("ce", "-i", "[1.0, 2.0, 3.0]", "-t", "2", "-f", "json", "-r", "none")
    doc = json.loads(r.stdout)
    assert doc["loss"] == pytest.approx(-3 + math.log(math.exp(1) + math.exp(2) + math.exp(3)))


def test_nan_is_null_in_json_and_warned() -> None:
    r = invoke("ce", "-i", "[[1.0, 2.0]]", "-t", "[-100]", "-f", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["loss"] is None
    assert "warning" in r.stderr and "ignore" in r.stderr


def _strict_json(text: str) -> dict:  # type: ignore[type-arg]
    """JSON as a strict parser reads it: NaN, Infinity and -Infinity are not JSON."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    doc = json.loads(text, parse_constant=refuse)
    assert isinstance(doc, dict)
    return doc


CE2 = "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]"
STRICT_JSON_CASES = {  # edge cases of every number in the JSON object, and what it is
    "denominator overflows": (["ce", "-i", CE2, "-t", "[0, 2]", "-w", "[1e308, 1, 1e308]"],
                              {"denominator": None, "loss": 0.0}),
    "denominator overflows float32": (["ce", "-i", CE2, "-t", "[0, 2]", "-w",
                                       "[3e38, 1, 3e38]", "--dtype", "float32"],
                                      {"denominator": None, "loss": 0.0}),
    "term and sum overflow": (["ce", "-i", "[[2.0, 0.5, -1.0], [0.1, 0.2, -30.0]]", "-t",
                               "[0, 2]", "-w", "[1e308, 1, 1e308]"],
                              {"sum": None, "loss": None, "denominator": None}),
    "negative weights cancel": (["nll", "-i", "[[-1.0, -2.0], [-3.0, -4.0]]", "-t", "[0, 1]",
                                 "-w", "[1, -1]"], {"denominator": 0.0, "loss": None}),
    "every target ignored": (["ce", "-i", CE2, "-t", "[-100, -100]"],
                             {"loss": None, "count": 2, "denominator": 0.0}),
    "sum overflows": (["bce-logits", "-i", "[1e308, 1e308]", "-t", "[0, 0]", "-r", "sum"],
                      {"loss": None, "sum": None}),
    "none with inf": (["bce-logits", "-i", "[1e308, 1]", "-t", "[0, 1]", "-w", "[10, 1]",
                       "-r", "none"], {"loss": [None, 0.31326168751822286]}),
    "empty": (["bce", "-i", "[]", "-t", "[]"], {"loss": None, "count": 0}),
    "no classes": (["ce", "-i", "[[], []]", "-t", "[[], []]"], {"loss": None}),
    "smoothing with C = 0": (["ce", "-i", "[[], []]", "-t", "[-100, -100]",
                              "--label-smoothing", "0.1"], {"loss": None}),
    "float32 sum overflows": (["bce-logits", "-i", "[3e38, 3e38]", "-t", "[0, 0]", "-r", "sum",
                               "--dtype", "float32"], {"loss": None}),
}


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("case", list(STRICT_JSON_CASES))
def test_json_is_strict_json_for_every_edge_case(case: str, grad: bool) -> None:
    """The README: NaN and infinity are null. "denominator": Infinity was written."""
    args, want = STRICT_JSON_CASES[case]
    r = invoke(*args, "-f", "json", *(["--grad"] if grad else []))
    assert r.exit_code == 0, r.stderr
    doc = _strict_json(r.stdout)
    for key, value in want.items():
        assert doc[key] == value, (key, doc[key])


def test_an_infinite_denominator_is_warned() -> None:
    """torch computes 0.0 without a word: the terms are finite, the class weights' sum is
    inf in float64 (3e38 + 3e38 in float32, where bcecli gave 0.17545639, as if summed in
    float64), and the gradient is all zeros."""
    for dtype in ("float64", "float32"):
        w = "[1e308, 1, 1e308]" if dtype == "float64" else "[3e38, 1, 3e38]"
        r = invoke("ce", "-i", CE2, "-t", "[0, 2]", "-w", w, "--dtype", dtype, "-f", "plain")
        assert (r.exit_code, r.stdout) == (0, "0.0\n")
        assert r.stderr == (f"bcecli: warning: the mean's denominator, the counted targets' "
                            f"class weights Σ w[y], overflows {dtype} to inf, so the mean is "
                            f"0.0, as in PyTorch\n")
        r = invoke("ce", "-i", CE2, "-t", "[0, 2]", "-w", w, "--dtype", dtype, "-f", "csv",
                   "--grad")
        assert r.stdout.replace("-", "") == "0.0,0.0,0.0\n0.0,0.0,0.0\n"
    r = invoke("ce", "-i", CE2, "-t", "[0, 2]", "-w", "[1e308, 1, 1e308]", "-r", "sum",
               "-f", "plain")  # torch: 3.5091276117862246e+307, and nothing to say
    assert (r.stdout, r.stderr) == ("3.5091276117862246e+307\n", "")


def test_expect_exit_codes() -> None:
    ok = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "--expect", "0.7193",
                "--rtol", "1e-4")
    assert ok.exit_code == 0 and ok.stderr == ""
    bad = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "--expect", "0.8")
    assert bad.exit_code == 1
    assert bad.stderr.count("\n") == 1 and "0.7193247832556007" in bad.stderr
    none = invoke("bce-logits", "-i", X, "-t", Y, "-r", "none", "--expect", "1")
    assert none.exit_code == 2 and none.stdout == ""


def test_stdin_for_one_input(tmp_path: Path) -> None:
    t = tmp_path / "t.csv"
    t.write_text("0,1,1\n0,0,1\n1,0,1\n")
    csv = "-0.4089,-1.2471,0.5907\n-0.4897,-0.8267,-0.7349\n0.5241,-0.1246,-0.4751\n"
    r = invoke("bce-logits", "-i", "-", "-t", str(t), "-f", "plain", input=csv)
    assert float(r.stdout) == pytest.approx(LOSS, rel=1e-15)
    r = invoke("bce-logits", "-i", "-", "-t", str(t), "-f", "plain", input=X)
    assert float(r.stdout) == pytest.approx(LOSS, rel=1e-15)


def test_both_from_stdin_is_a_usage_error() -> None:
    r = invoke("bce-logits", "-i", "-", "-t", "-", input="1\n")
    assert r.exit_code == 2 and r.stdout == "" and "stdin" in r.stderr


def test_scalar_weights() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "--pos-weight", "2",
               "--weight", "0.5")
    x, y = np.array(json.loads(X)), np.array(json.loads(Y), dtype=float)
    ls = np.minimum(x, 0) - np.log1p(np.exp(-abs(x)))
    want = np.mean(0.5 * ((1 - y) * x - (1 + y) * ls))
    assert float(r.stdout) == pytest.approx(want, rel=1e-14)


def test_header_names_label_the_table(tmp_path: Path) -> None:
    xf, yf = tmp_path / "x.csv", tmp_path / "y.csv"
    xf.write_text("cat,dog,bird\n0.9,0.1,0.3\n0.4,0.8,0.2\n")
    yf.write_text("cat,dog,bird\n1,0,0\n0,1,0\n")
    r = invoke("bce", "-i", str(xf), "-t", str(yf))
    assert r.exit_code == 0
    assert "ℓ cat" in r.stdout and "ℓ bird" in r.stdout and "0.2541" in r.stdout


def test_big_table_shows_head_and_tail_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 4))
    y = (rng.random((500, 4)) < 0.5).astype(float)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    np.savetxt(tmp_path / "y.csv", y, delimiter=",", fmt="%d")
    r = invoke("bce-logits", "-i", str(tmp_path / "x.csv"), "-t", str(tmp_path / "y.csv"),
               "--max-rows", "6")
    assert r.exit_code == 0
    assert "494 rows hidden" in r.stdout
    lines = r.stdout.splitlines()
    assert any(line.strip().startswith("│ 499 ") or "│ 499 │" in line for line in lines)
    assert not any("│ 250 │" in line for line in lines)


def test_ce_table_and_explain() -> None:
    r = invoke("ce", "-i", "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]", "-t", "[0, 2]", "-w",
               "[1, 2, 3]", "--explain")
    assert r.exit_code == 0
    assert "−x[y] + ln Σ_j exp(x_j)" in r.stdout
    assert "class 0: −2 + ln(e^2 + e^0.5 + e^(−1)) = −2 + 2.2413 = 0.2413" \
        in r.stdout
    assert "Σ ℓ / Σ w[y]" in r.stdout
    assert "x[target]" in r.stdout and "p(target)" in r.stdout


def test_explain_writes_typographic_minus_and_no_negative_zero() -> None:
    """'+ -6294.023382' had an ASCII hyphen, and row 1's −ln p = −0.0 (torch's term is -0.0
    too, and stays so in csv) was written '= -0.000000'."""
    x, t = "[[-6300, -6294.5, -6295], [1000, 0, -3]]", "[0, 0]"
    r = invoke("ce", "-i", x, "-t", t, "--explain", "-p", "6")
    lines = r.stdout.splitlines()
    assert ("  row 0: class 0: −(−6300) + ln(e^(−6300) + e^(−6294.5) + e^(−6295)) = "
            "6300 + (−6294.023382) = 5.976618") in lines
    assert "  row 1: class 0: −1000 + ln(e^1000 + e^0 + e^(−3)) = −1000 + 1000.000000 = " \
        "0.000000" in lines
    assert "-0.000000" not in r.stdout
    assert invoke("ce", "-i", x, "-t", t, "-r", "none", "-f", "csv").stdout == \
        "5.976617603089336\n-0.0\n"  # torch: tensor([5.9766, -0.0000])
    r = invoke("nll", "-i", "[[0.5, 1.0], [0.2, 2]]", "-t", "[0, 1]", "-w", "[1, -3]",
               "--explain", "--grad")  # torch: -2.75
    assert "Loss: (−0.5000 + 6.0000) / (1 + (−3)) = −2.7500  [mean = Σ ℓ / Σ w[y] = " \
        "5.5000 / −2 = −2.7500]" in r.stdout
    assert "  ∂L/∂x₁ = −(−3)·onehot(1)/(−2) = [0.0000, −1.5000]" in r.stdout
    r = invoke("ce", "-i", "[[1, 2], [3, 4]]", "-t", "[0, -100]", "--explain")
    assert "  row 1: target −100 is the ignore index → ℓ = 0, not counted" in r.stdout


@pytest.mark.parametrize(("v", "p", "text"), [
    (-0.0, 6, "0.000000"), (0.0, 4, "0.0000"), (-5e-07, 6, "-5.000000e-07"),
    (-4e-05, 4, "-4.0000e-05"), (4.9e-05, 4, "4.9000e-05"), (-6e-05, 4, "-0.0001"),
    (-0.3, 0, "-0"), (-0.0, 0, "0"), (0.71932478, 4, "0.7193"),
])
def test_rounded_never_shows_a_negative_zero(v: float, p: int, text: str) -> None:
    """README: numbers too small for the precision switch to scientific notation; −5e−07
    at 6 decimals was '-0.000000', and −0.0 '-0.0000'."""
    from bcecli.report.numbers import rounded

    assert rounded(v, p) == text


@pytest.mark.parametrize(("args", "mean"), [
    (["ce", "-t", "[0, -100]"], "Σ ℓ / kept targets = 1.3133 / 1 = 1.3133"),
    (["ce", "-t", "[0, 1]", "-w", "[2, 0.5]"], "Σ ℓ / Σ w[y] = 2.7832 / 2.5000 = 1.1133"),
    (["nll", "-t", "[-100, -100]"], "Σ ℓ / kept targets = 0.0000 / 0 = nan"),
])
def test_reduction_none_footer_means_what_reduction_mean_gives(args: list[str],
                                                                mean: str) -> None:
    """'their mean' divided by every term, ignored targets included (0.6566 for the first;
    torch's mean, and bcecli -r mean, are 1.3133 and 1.1133)."""
    x = "[[1, 2], [3, 4]]"
    none = invoke(args[0], "-i", x, *args[1:], "-r", "none").stdout.splitlines()[-1]
    assert none == (f"reduction none: the 2 elementwise terms above, unreduced (their sum "
                    f"{mean.split(' = ')[1].split(' / ')[0]}; their mean as reduction mean "
                    f"counts them, {mean})")
    assert invoke(args[0], "-i", x, *args[1:]).stdout.splitlines()[-1] == f"mean = {mean}"


@pytest.mark.parametrize("command", ["bce", "bce-logits", "ce"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    r = invoke(command, "--help")
    assert r.exit_code == 0
    assert "Example" in r.stdout and "--input" in r.stdout and "--reduction" in r.stdout


def test_version_and_root_help() -> None:
    assert invoke("--version").stdout.startswith("bcecli 2.")
    r = invoke("--help")
    assert "bce-logits" in r.stdout and "Exit status" in r.stdout


def test_unknown_option_and_choice_exit_2() -> None:
    r = invoke("bce", "-i", X, "-t", Y, "--nope")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith("bcecli: error: no such option: --nope ")  # (click may guess)
    assert r.stderr.endswith(" (see 'bcecli bce --help')\n") and r.stderr.count("\n") == 1
    r = invoke("bce", "-i", X, "-t", Y, "-r", "median")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ("bcecli: error: --reduction: 'median' is not one of 'mean', 'sum', "
                        "'none' (see 'bcecli bce --help')\n")


@pytest.mark.parametrize("args", [[], ["bogus"], ["bce"], ["bce", "-i", "1", "-t", "1", "-r"],
                                  ["bce", "-i", "1", "-t", "1", "-p", "x"],
                                  ["ce", "-i", "1", "-t", "1", "x"]],
                         ids=["no-command", "unknown-command", "missing-option",
                              "missing-value", "bad-int", "extra-argument"])
def test_usage_errors_of_the_installed_command_are_one_line(args: list[str]) -> None:
    """The command itself (not only in-process): one line, exit 2, nothing on stdout; it was
    click's block of four lines (and the help for no command)."""
    p = subprocess.run([sys.executable, "-m", "bcecli", *args], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.startswith("bcecli: error: ") and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.endswith(" --help')\n") and "\x1b" not in p.stderr


def _installed(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


def test_subprocess_installed_command() -> None:
    exe = _installed("bcecli")
    sample = ROOT / "samples" / "tutorial-3x3-sigmoid-bce"
    p = subprocess.run([exe, "bce", "--sigmoid", "-i", str(sample / "input.csv"), "-t",
                        str(sample / "target.csv")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "mean of 9 terms = 0.7193" in p.stdout and p.stderr == ""


def test_subprocess_python_m() -> None:
    p = subprocess.run([sys.executable, "-m", "bcecli", "bce-logits", "-i", X, "-t", Y, "-f",
                        "plain"], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, "0.7193247832556007\n")
    p = subprocess.run([sys.executable, "-m", "bcecli", "bce-logits", "-i", "/nonexistent.csv",
                        "-t", Y], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr
    assert "no such file" in p.stderr


def test_every_sample_path_in_help_and_readmes_exists() -> None:
    """Worked examples must run: every samples/... path they name is in the repository."""
    root = Path(__file__).resolve().parent.parent
    texts = [invoke(c, "--help").stdout for c in ("bce", "bce-logits", "ce")]
    texts += [invoke("--help").stdout, (root / "README.md").read_text(),
              (root / "samples" / "README.md").read_text()]
    paths = {m for text in texts for m in re.findall(r"samples/[\w./-]+\.\w+", text)}
    assert len(paths) >= 10
    assert [p for p in paths if not (root / p).is_file()] == []


def test_readme_states_every_formula_as_written_once() -> None:
    """The formula lives once, in each loss's Help; the README quotes the same lines."""
    from bcecli.losses import LOSSES

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for loss in LOSSES.values():
        for line in loss.help.formula:
            assert line in readme, (loss.name, line)
        assert f"`bcecli {loss.name}`" in readme, loss.name


def test_readme_python_example_runs() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(code.replace("print(r)", "str(r)"), namespace)
    loss = namespace["r"].loss
    assert f"r.loss          # {loss!r} " in code


def test_installed_version_is_the_packages() -> None:
    """pip and ``bcecli --version`` name the same version (pyproject reads __version__)."""
    from importlib.metadata import version

    import bcecli

    assert version("bcecli") == bcecli.__version__


def test_keyboard_interrupt_without_a_signal_handler_is_said(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where bcecli.__main__ has set no handler (in-process, the Python API's callers), a
    KeyboardInterrupt became Typer's silent Exit(130)."""
    import bcecli.app

    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(bcecli.app, "execute", interrupted)
    r = invoke("bce-logits", "-i", X, "-t", Y)
    assert (r.exit_code, r.stdout, r.stderr) == (130, "", "bcecli: interrupted\n")


@pytest.mark.parametrize(("words", "cword", "want"), [
    ("bcecli bce-l", 1, ["bce-logits"]),
    ("bcecli bce --red", 2, ["--reduction"]),
    ("bcecli bce -r ", 3, ["mean", "sum", "none"]),
    ("bcecli ce --like ", 3, ["torch", "keras", "sklearn", "optax"]),
])
def test_shell_completion(words: str, cword: int, want: list[str]) -> None:
    """Typer's completion (bash protocol): commands, options and their choices."""
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(cword),
           "_BCECLI_COMPLETE": "complete_bash"}
    script = str(Path(sys.executable).with_name("bcecli"))  # (the variable is named after it)
    proc = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == want


def test_show_completion_prints_the_script() -> None:
    env = {**os.environ, "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION":
           "1"}
    script = str(Path(sys.executable).with_name("bcecli"))
    proc = subprocess.run([script, "--show-completion", "bash"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "_bcecli_completion" in proc.stdout and "complete_bash" in proc.stdout


@pytest.mark.parametrize(("typed", "status", "said"), [
    ("0.7193", 0, ""), ("0.71932", 0, ""), ("0.7194", 1, "±5e-05, half a unit"),
    ("0.72", 0, ""), ("7.193e-1", 0, ""), ("0.719324783", 0, ""),
    ("0.719326", 1, "±5e-07, half a unit"),
])
def test_expect_compares_to_the_precision_typed(typed: str, status: int, said: str) -> None:
    """--expect with the number the table shows passes; without --rtol/--atol the tolerance is
    half a unit of the last digit typed (the loss is 0.7193247832556007)."""
    r = invoke("bce-logits", "-i", X, "-t", Y, "-f", "plain", "--expect", typed)
    assert r.exit_code == status, r.stderr
    assert said in r.stderr


def test_expect_that_is_no_number() -> None:
    r = invoke("bce-logits", "-i", X, "-t", Y, "--expect", "abc")
    assert r.exit_code == 2 and "--expect: 'abc' should be a valid number" in r.stderr


def test_hints_point_the_right_way() -> None:
    """A bce target of 2 is about targets, not --sigmoid; an option of another command
    names that command."""
    r = invoke("bce", "-i", "[0.5]", "-t", "[2]")
    assert r.exit_code == 2 and "--sigmoid" not in r.stderr and "ce's targets" in r.stderr
    r = invoke("bce", "-i", "[0.5]", "-t", "[1]", "--pos-weight", "2")
    assert r.exit_code == 2 and "no such option: --pos-weight (an option of bce-logits)" \
        in r.stderr


@pytest.mark.parametrize(("args", "words"), [
    (["ce", "-i", "[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]", "-t", "[0, 1]"],
     "look like probabilities, but CrossEntropyLoss takes logits"),
    (["nll", "-i", "[[0.7, 0.3], [0.4, 0.6]]", "-t", "[0, 1]"],
     "but NLLLoss takes log-probabilities"),
    (["bce-logits", "-i", "[[0.7, 0.2], [0.1, 0.8]]", "-t", "[[1, 0], [0, 1]]"],
     "but BCEWithLogitsLoss takes logits"),
])
def test_inputs_that_look_like_probabilities_are_said(args: list[str], words: str) -> None:
    """The softmax-applied-twice mistake: said when every row looks like probabilities."""
    r = invoke(*args, "-f", "plain")
    assert r.exit_code == 0 and words in r.stderr


@pytest.mark.parametrize("args", [
    ["ce", "-i", "[[0.7, 0.2, 0.1], [2.0, 0.8, 0.1]]", "-t", "[0, 1]"],  # one row of logits
    ["ce", "-i", "[[0.7, 0.2, 0.1]]", "-t", "[0]"],  # one row: no evidence
    ["bce-logits", "-i", "[[0.7, 2.0], [0.1, 0.8]]", "-t", "[[1, 0], [0, 1]]"],
    ["bce-logits", "-i", "[[1, 0], [0, 1]]", "-t", "[[1, 0], [0, 1]]"],  # 0/1 alone
])
def test_logits_are_not_suspected(args: list[str]) -> None:
    r = invoke(*args, "-f", "plain")
    assert r.exit_code == 0 and r.stderr == ""


def test_a_transposed_ce_input_is_suggested() -> None:
    r = invoke("ce", "-i", "[[1, 2, 3], [0, 1, 2]]", "-t", "[0, 1, 1]")
    assert r.exit_code == 2
    assert "the target would fit the input transposed, (3, 2)" in r.stderr
