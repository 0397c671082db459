"""Every tutorial example, in float64 and float32, against PyTorch 2.13's recorded results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli.cli import app

DATA = json.loads((Path(__file__).parent / "data" / "tutorial-examples.json").read_text())
DERIVED = json.loads((Path(__file__).parent / "data" / "derived-examples.json").read_text())
EXAMPLES = DATA["examples"] + DERIVED["examples"]
TOL = {"float64": {"rtol": 1e-12, "atol": 1e-15}, "float32": {"rtol": 2e-6, "atol": 1e-7}}


def _run(example: dict, dtype: str, *extra: str) -> dict:
    args = [example["command"], "-i", json.dumps(example["input"]), "-t",
            json.dumps(example["target"]), "--dtype", dtype, "-f", "json", "--elements", *extra]
    if example["options"].get("sigmoid"):
        args.append("--sigmoid")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_there_are_nine_examples_and_the_derived_ones() -> None:
    assert len(DATA["examples"]) == 9 and [e["name"] for e in DERIVED["examples"]] == [
        "nll-3x5-log-probs"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_tutorial_loss_and_elements(example: dict, dtype: str) -> None:
    ref = example[f"torch_{dtype}"]
    out = _run(example, dtype)
    np.testing.assert_allclose(out["loss"], ref["loss"], **TOL[dtype])
    np.testing.assert_allclose(np.array(out["elements"]), np.array(ref["elements"]),
                               **TOL[dtype])
    if "row_means" in ref:
        np.testing.assert_allclose(out["row_means"], ref["row_means"], **TOL[dtype])


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_tutorial_plain_is_bit_exact_in_float64(example: dict) -> None:
    args = [example["command"], "-i", json.dumps(example["input"]), "-t",
            json.dumps(example["target"]), "-f", "plain"]
    if example["options"].get("sigmoid"):
        args.append("--sigmoid")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0
    assert float(result.stdout) == pytest.approx(example["torch_float64"]["loss"], rel=1e-15)


def test_3x3_table_shows_the_tutorial_numbers() -> None:
    ex = EXAMPLES[0]
    result = CliRunner().invoke(app, ["bce", "--sigmoid", "-i", json.dumps(ex["input"]),
                                      "-t", json.dumps(ex["target"])])
    assert result.exit_code == 0
    text = result.stdout
    for number in ["0.3992", "0.2232", "0.6435", "0.5095", "1.4997", "0.4408", "0.8166",
                   "0.6558", "0.6855", "mean of 9 terms = 0.7193"]:
        assert number in text
    assert text.index("0.3992") < text.index("0.5095"), "probabilities come first"


def test_3x3_explain_writes_the_hand_calculation() -> None:
    ex = EXAMPLES[0]
    result = CliRunner().invoke(app, ["bce", "--sigmoid", "--explain", "-i",
                                      json.dumps(ex["input"]), "-t", json.dumps(ex["target"])])
    assert result.exit_code == 0
    text = result.stdout
    assert "0 × ln 0.3992 + (1 − 0) × ln(1 − 0.3992) = −0.5095" in text
    assert "(0.5095 + 1.4997 + 0.4408) / 3 = 0.8166" in text
    assert "(0.8166 + 0.6558 + 0.6855) / 3 = 0.7193" in text


def test_samples_readme_commands_print_the_listed_losses() -> None:
    """Each command prints the listed loss; float64 is PyTorch's exactly, float32 within one
    float32 step of PyTorch's."""
    root = Path(__file__).parent.parent
    rows = [line.split("|") for line in (root / "samples" / "README.md").read_text().splitlines()
            if line.startswith("| ") and "`bcecli " in line]
    assert len(rows) == len(EXAMPLES)
    for row in rows:
        cmd = row[2].strip().strip("`").split()[1:]
        cmd = [str(root / a) if a.startswith("samples/") else a for a in cmd]
        for column, dtype in ((3, "float64"), (5, "float32")):
            result = CliRunner().invoke(app, [*cmd, "-f", "plain", "--dtype", dtype])
            assert result.exit_code == 0, result.stderr
            assert result.stdout.strip() == row[column].strip(), (row, dtype)
        assert float(row[3]) == float(row[4])
        ours, torch32 = np.float32(row[5]), np.float32(row[6])
        assert abs(int(ours.view(np.int32)) - int(torch32.view(np.int32))) <= 1, row
