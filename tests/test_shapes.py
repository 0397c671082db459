"""Shapes: what stands for the same vector computes; where shapes truly disagree, the message
gives both shapes and says what would fit (each hint checked against the shapes it names).

A one-column CSV, a one-row CSV and a (N,) array stand for the same vector; a file of one
value beside a scalar argument stands for a scalar.  Every failure exits 2 with one
``bcecli: error:`` line and nothing on stdout (see tests/test_errors.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from numpy.lib import format as npformat

from bcecli.losses.checks import same_shape_hint

P5 = [0.1, 0.2, 0.3, 0.4, 0.5]
Y5 = [0, 1, 0, 1, 1]


def npy(array: object) -> bytes:
    buf = io.BytesIO()
    npformat.write_array(buf, np.asarray(array, dtype=np.float64))
    return buf.getvalue()


def fails_with(cli: Callable[..., object], message: str, *args: str, input: str | None = None
               ) -> None:
    """Exit 2, nothing on stdout, and exactly this one line on stderr."""
    result = cli(*args, input=input)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr == f"bcecli: error: {message}\n"


def loss_of(cli: Callable[..., object], *args: str, input: str | None = None) -> float:
    result = cli(*args, "-f", "plain", input=input)
    assert result.exit_code == 0, result.stderr
    return float(result.stdout)


def bce(p: list[float], y: list[int]) -> float:
    pa, ya = np.array(p), np.array(y)
    return float(-np.mean(ya * np.log(pa) + (1 - ya) * np.log1p(-pa)))


# ------------------------------------------------------------------ what computes


@pytest.mark.parametrize("target", ["column", "row"])
@pytest.mark.parametrize("command", ["bce", "bce-logits"])
def test_a_vector_pairs_with_a_one_column_or_one_row_csv(cli, write, command: str,
                                                         target: str) -> None:
    x = write("x.npy", npy(P5))
    text = "".join(f"{v}\n" for v in Y5) if target == "column" else ",".join(map(str, Y5))
    t = write("t.csv", text + "\n" * (target == "row"))
    vector = write("t.npy", npy(Y5))
    assert loss_of(cli, command, "-i", x, "-t", t) == loss_of(cli, command, "-i", x, "-t",
                                                              vector)
    # the reverse: a one-column (or one-row) CSV input beside a vector target
    xs = write("x.csv", "".join(f"{v}\n" for v in P5) if target == "column"
               else ",".join(map(str, P5)) + "\n")
    assert loss_of(cli, command, "-i", xs, "-t", vector) == \
        loss_of(cli, command, "-i", x, "-t", vector)


def test_a_vector_pairs_with_a_one_column_csv_for_ce(cli, write) -> None:
    x = write("x.npy", npy(np.full((5, 3), 0.5)))
    for t in (write("t.csv", "0\n1\n2\n0\n1\n"), write("r.csv", "0,1,2,0,1\n")):
        assert loss_of(cli, "ce", "-i", x, "-t", t) == pytest.approx(np.log(3), rel=1e-15)


@pytest.mark.parametrize(("stdin_side", "stdin", "other"), [
    ("-i", "0.25\n", "1"), ("-t", "1\n", "0.25"), ("-i", "0.25", "1")])
def test_a_scalar_on_stdin_pairs_with_a_scalar_argument(cli, stdin_side: str, stdin: str,
                                                        other: str) -> None:
    args = ["-i", "-", "-t", other] if stdin_side == "-i" else ["-i", other, "-t", "-"]
    assert loss_of(cli, "bce", *args, input=stdin) == pytest.approx(np.log(4), rel=1e-15)
    assert loss_of(cli, "bce", "-i", "0.25", "-t", "1") == pytest.approx(np.log(4), rel=1e-15)


# ------------------------------------------------------------------ what would fit


def test_a_csv_column_against_several_columns(cli, write) -> None:
    path = write("f.csv", "id,label,p0,p1,p2\n" + "".join(f"s{i},1,0.5,0.2,0.3\n"
                                                          for i in range(5)))
    fails_with(cli, "shape mismatch: input is (5, 3) but target is (5, 1); they must be the "
               "same: the target has 5 rows in one column, the input 3 columns (from a CSV, "
               "TSV or Parquet file, FILE:COLUMNS picks the columns that go together)",
               "bce", "-i", f"{path}:p0-p2", "-t", f"{path}:label")
    fails_with(cli, "shape mismatch: input is (5, 2) but target is (5, 3); they must be the "
               "same: both have 5 rows, the input 2 columns and the target 3 (from a CSV, TSV "
               "or Parquet file, FILE:COLUMNS picks the columns that go together)",
               "bce", "-i", f"{path}:p0,p1", "-t", f"{path}:label,label,label")
    assert loss_of(cli, "bce", "-i", f"{path}:p0", "-t", f"{path}:label") == \
        pytest.approx(np.log(2), rel=1e-15)  # (what the hint says fits, does)


def test_an_npy_column_or_row_against_a_vector(cli, write) -> None:
    vector, column, row = (write("v.npy", npy(P5)), write("c.npy", npy(np.c_[Y5])),
                           write("r.npy", npy([Y5])))
    fails_with(cli, "shape mismatch: input is (5,) but target is (5, 1); they must be the "
               "same: did you mean the target as a vector? it is one column of 5 values (a "
               "one-column CSV file stands for the vector; reshape an .npy or JSON array to "
               "(5,))", "bce", "-i", vector, "-t", column)
    fails_with(cli, "shape mismatch: input is (1, 5) but target is (5,); they must be the "
               "same: did you mean the input as a vector? it is one row of 5 values (a "
               "one-row CSV file stands for the vector; reshape an .npy or JSON array to "
               "(5,))", "bce-logits", "-i", write("x.npy", npy([P5])), "-t",
               write("y.npy", npy(Y5)))
    fails_with(cli, "shape mismatch: ce input is (5, 3), so the target must be class indices "
               "of shape (5,) or class probabilities of shape (5, 3); got (1, 5): did you mean "
               "the target as a vector, (5,)? it is one row of 5 class indices (a one-row CSV "
               "file stands for the vector; reshape an .npy or JSON array)",
               "ce", "-i", write("m.npy", npy(np.full((5, 3), 0.5))), "-t", row)


def test_transposed(cli, write) -> None:
    x = write("x.npy", npy(np.full((4, 3), 0.5)))
    t = write("t.csv", "1,0,1,0\n0,0,1,1\n1,1,1,0\n")
    fails_with(cli, "shape mismatch: input is (4, 3) but target is (3, 4); they must be the "
               "same: did you mean the target transposed, (4, 3)? (a row per sample, as the "
               "input has)", "bce", "-i", x, "-t", t)
    fails_with(cli, "shape mismatch: input is (4, 3) but target is (3, 4); they must be the "
               "same: did you mean the target transposed, (4, 3)? (a row per sample, as the "
               "input has)", "bce-logits", "-i", x, "-t", t)


def test_a_matrix_against_a_vector_of_as_many_values(cli, write) -> None:
    matrix, vector = write("m.npy", npy(np.full((4, 3), 0.5))), write("v.npy", npy([1] * 12))
    fails_with(cli, "shape mismatch: input is (4, 3) but target is (12,); they must be the "
               "same: did you mean the target reshaped to (4, 3)? it holds 12 values, as many "
               "as the input (reshaped row by row)", "bce", "-i", matrix, "-t", vector)
    fails_with(cli, "shape mismatch: input is (12,) but target is (4, 3); they must be the "
               "same: did you mean the input reshaped to (4, 3)? it holds 12 values, as many "
               "as the target (reshaped row by row)", "bce", "-i", write("x.npy", npy(
                   [0.5] * 12)), "-t", write("t.npy", npy(np.ones((4, 3)))))


def test_lengths_that_differ_are_said(cli, write) -> None:
    x = write("x.npy", npy(P5))
    fails_with(cli, "shape mismatch: input is (5,) but target is (4,); they must be the same: "
               "the input has 5 values, the target 4", "bce", "-i", x, "-t",
               write("t.csv", "0\n1\n0\n1\n"))
    fails_with(cli, "shape mismatch: input is (5, 3) but target is (6, 3); they must be the "
               "same: the input has 5 rows, the target 6", "bce", "-i",
               write("m.npy", npy(np.full((5, 3), 0.5))), "-t",
               write("n.npy", npy(np.ones((6, 3)))))
    fails_with(cli, "shape mismatch: ce input is (5, 3), so the target must be class indices "
               "of shape (5,) or class probabilities of shape (5, 3); got (4,): the input has "
               "5 rows, the target 4 values", "ce", "-i", write("c.npy", npy(np.zeros((5, 3)))),
               "-t", "[0, 1, 2, 0]")


def test_one_value_against_a_scalar(cli) -> None:
    fails_with(cli, "shape mismatch: input is (1,) but target is () (a scalar); they must be "
               "the same: did you mean a scalar input? it holds one value: give it as a number",
               "bce", "-i", "[0.5]", "-t", "1")
    fails_with(cli, "shape mismatch: input is (1, 2) but target is () (a scalar); they must be "
               "the same: the input holds 2 values, the target one", "bce", "-i", "-", "-t",
               "1", input="0.5,0.5\n")
    fails_with(cli, "shape mismatch: input is () (a scalar) but target is (2,); they must be "
               "the same: the target holds 2 values, the input one", "bce-logits", "-i", "3",
               "-t", "[1, 0]")


@pytest.mark.parametrize("x", [(5, 3), (5,), (1, 5), (5, 1), (), (1,), (2, 3, 4), (4, 3)])
@pytest.mark.parametrize("t", [(3, 5), (15,), (5,), (5, 1), (), (1,), (5, 2), (6, 3), (4,)])
def test_every_did_you_mean_fits(x: tuple[int, ...], t: tuple[int, ...]) -> None:
    """A hint names a change that makes the shapes equal, never one that does not."""
    hint = same_shape_hint(x, t)
    if x == t:
        return
    if "transposed" in hint:
        assert t[::-1] == x
    if "reshaped to" in hint or "as a vector" in hint or "a scalar" in hint:
        assert int(np.prod(x)) == int(np.prod(t))
    if "columns of each" in hint or "one column of the" in hint:
        assert len(x) == len(t) == 2 and x[0] == t[0]
