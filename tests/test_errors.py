"""Bad inputs: each one exits 2 with one clear line on stderr and nothing on stdout.

Every message is checked for the parts that let a user find the problem: the file, the line
and column (or JSON path, or .npy index), the offending text, or both shapes.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shlex
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npformat

import bcecli
from bcecli.errors import BceError

GOOD_X = "0.5,-1.5\n2,0\n"
GOOD_T = "1,0\n0,1\n"


def fails(cli, *args: str, input: str | bytes | None = None, parts: tuple[str, ...] = ()
          ) -> str:
    """Run the CLI, expect exit 2 with one ``bcecli: error:`` line; return the message."""
    result = cli(*args, input=input)
    err = result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), err
    assert result.exit_code == 2, (result.exit_code, result.stdout, err)
    assert result.stdout == ""
    assert "Traceback" not in err
    assert err.startswith("bcecli: error: "), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, (part, err)
    return err


@pytest.fixture
def target(write) -> str:
    return write("target.csv", GOOD_T)


@pytest.fixture
def inp(write) -> str:
    return write("input.csv", GOOD_X)


def npy_bytes(array: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    npformat.write_array(buf, array, **kw)
    return buf.getvalue()


def npy_header(text: bytes, data: bytes = b"") -> bytes:
    header = text.ljust(117) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


# --------------------------------------------------------------------------- files


def test_missing_file(cli, target):
    fails(cli, "bce-logits", "-i", "no/such/file.csv", "-t", target,
          parts=("--input", "no such file", "no/such/file.csv"))


def test_missing_target_file(cli, inp):
    fails(cli, "bce-logits", "-i", inp, "-t", "nope.json", parts=("--target", "nope.json"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(cli, write, target):
    path = write("secret.csv", GOOD_X)
    os.chmod(path, 0)
    try:
        fails(cli, "bce-logits", "-i", path, "-t", target, parts=("cannot read", path))
    finally:
        os.chmod(path, 0o644)


def test_unreadable_directory_entry(cli, tmp_path, target):
    """A path through something that is not a directory cannot be opened."""
    plain = tmp_path / "plain.csv"
    plain.write_text(GOOD_X)
    fails(cli, "bce-logits", "-i", str(plain / "x.csv"), "-t", target,
          parts=("--input: cannot read", str(plain / "x.csv"), "Not a directory"))


def test_directory(cli, tmp_path, target):
    fails(cli, "bce-logits", "-i", str(tmp_path), "-t", target,
          parts=(str(tmp_path), "is a directory"))


@pytest.mark.parametrize("name", ["empty.csv", "empty.json", "empty.npy", "empty.txt", "empty"])
def test_empty_file(cli, write, target, name):
    path = write(name, b"")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "empty"))


@pytest.mark.parametrize("name", ["blank.csv", "blank.json", "blank.txt"])
def test_whitespace_only(cli, write, target, name):
    path = write(name, " \n\t\r\n   \n")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "only whitespace"))


def test_empty_argument(cli, target):
    fails(cli, "bce-logits", "-i", "  ", "-t", target, parts=("--input", "empty"))


def test_header_and_no_data(cli, write, target):
    path = write("header.csv", "a,b\n\n")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "header row but no data"))


def test_header_only_tsv_no_newline(cli, write, target):
    path = write("header.tsv", "logit_a\tlogit_b")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "header row but no data"))


# --------------------------------------------------------------------------- CSV cells


@pytest.mark.parametrize(
    ("text", "line", "column", "shown"),
    [
        ("1,2\n3,abc\n", 2, 2, "'abc'"),
        ("1,2\n3,4\n5,0x1F\n", 3, 2, "'0x1F'"),
        ("1,2\n1_000,4\n", 2, 1, "'1_000'"),
        ("1,2\n3,4e\n", 2, 2, "'4e'"),
        ("1,2\n3,--4\n", 2, 2, "'--4'"),
        ("1,2\n3,1.2.3\n", 2, 2, "'1.2.3'"),
        ("1,2\n3,\uff14\n", 2, 2, "'\uff14'"),  # a full-width digit is not ASCII
        ("1,2\n-,4\n", 2, 1, "'-'"),
        ("1,2\n.,4\n", 2, 1, "'.'"),
        ("1,2\na,b\n", 2, 1, "'a'"),  # a header in the middle is data that is not numbers
        ("1,2\r\n\r\n\r\n3,x\r\n", 4, 2, "'x'"),  # CRLF and blank lines still counted
        ("1;2\n3;4\n", 1, 1, "'1;2'"),  # semicolons are not a separator (and not a header)
        ("1,2\n3 4,5\n", 2, 1, "'3 4'"),
    ],
)
def test_non_numeric_cell(cli, write, target, text, line, column, shown):
    path = write("cells.csv", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}, column {column}", shown, "not a number"))


def test_non_numeric_cell_in_target(cli, write, inp):
    path = write("t.csv", "1,0\n0,yes\n")
    fails(cli, "bce-logits", "-i", inp, "-t", path,
          parts=(f"{path}, line 2, column 2", "'yes'"))


def test_non_numeric_cell_tsv(cli, write, target):
    path = write("cells.tsv", "1\t2\n3\tn/a\n")
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line 2, column 2", "'n/a'"))


def test_non_numeric_cell_whitespace_stdin(cli, target):
    fails(cli, "bce-logits", "-i", "-", "-t", target, input="1 2\n3 four\n",
          parts=("stdin (--input), line 2, column 2", "'four'"))


def test_non_numeric_far_down(cli, write, tmp_path):
    """An error past the first block (1 MiB) still names its own line."""
    n = 250_000
    rows = ["0.25,0.75"] * n
    rows[n - 3] = "0.25,oops"
    x = write("big.csv", "\n".join(rows) + "\n")
    t = write("big_t.csv", "1,0\n" * n)
    fails(cli, "bce-logits", "-i", x, "-t", t, "-f", "plain",
          parts=(f"{x}, line {n - 2}, column 2", "'oops'"))


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("1,2\n3\n", 2, "1 field where the first row has 2"),
        ("1,2\n3,4,5\n", 2, "3 fields where the first row has 2"),
        ("1\n2\n3,4\n", 3, "2 fields where the first row has 1"),
    ],
)
def test_ragged_rows(cli, write, target, text, line, fields):
    path = write("ragged.csv", text)
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(f"{path}, line {line}", fields))


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("1,2,\n3,4,\n", 1, 3), ("1,,2\n3,4,5\n", 1, 2), ("1,2\n3,\n", 2, 2), (",1\n2,3\n", 1, 1)],
)
def test_trailing_or_doubled_separator(cli, write, target, text, line, column):
    path = write("sep.csv", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}, column {column}", "empty field"))


@pytest.mark.parametrize(
    ("text", "line"),
    [("1,2\n# more\n3,4\n", 2), ("1,2\n3,4\n  #,#\n", 3)],
)
def test_comment_lines(cli, write, target, text, line):
    """A comment line among the data is an error (those before the data are skipped, as
    numpy.savetxt writes them: test_edges.py)."""
    path = write("comment.csv", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}", "comment"))


def test_trailing_comment_in_a_field(cli, write, target):
    path = write("comment2.csv", "1,2\n3,4 # note\n")
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line 2, column 2", "'4 # note'"))


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [('"1",2\n3,4\n', 1, 1), ('1,2\n3,"4"\n', 2, 2), ('1,2"\n3,4\n', 1, 2),
     ("1,'2'\n3,4\n", 1, 2), ('1,2\n"3,4"\n', 2, 1)],
)
def test_quotes(cli, write, target, text, line, column):
    path = write("quotes.csv", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}, column {column}", "quoted"))


def test_old_mac_line_endings(cli, write, target):
    path = write("cr.csv", "1,2\r3,4\r")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(f"{path}, line 1, column 2",))


@pytest.mark.parametrize(
    ("text", "line", "column", "shown"),
    [("1,nan\n3,4\n", 1, 2, "nan"), ("1,2\n-inf,4\n", 2, 1, "-inf"),
     ("1,2\n3,Infinity\n", 2, 2, "inf"), ("1,2\n3,1e999\n", 2, 2, "inf"),
     ("1,2\n3,NaN\n", 2, 2, "nan")],
)
def test_nan_and_infinity_csv(cli, write, target, text, line, column, shown):
    path = write("nan.csv", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}, column {column}", f"value {shown} is not a finite"))


def test_nan_in_target_csv(cli, write, inp):
    path = write("t.csv", "1,0\nnan,1\n")
    fails(cli, "bce-logits", "-i", inp, "-t", path,
          parts=(f"{path}, line 2, column 1", "target value nan"))


def test_nan_in_weight_csv(cli, write, inp, target):
    path = write("w.csv", "1,1\n1,nan\n")
    fails(cli, "bce-logits", "-i", inp, "-t", target, "-w", path,
          parts=(f"{path}, line 2, column 2", "weight value nan"))


def test_nan_inline_number(cli):
    fails(cli, "bce-logits", "-i", "nan", "-t", "1", parts=("--input", "nan"))


@pytest.mark.parametrize(
    ("data", "line"),
    [(b"1,2\n3,\xff\n", 2), (b"\xc3\x28,1\n", 1), (b"1,2\n3,4\n\xed\xa0\x80,1\n", 3)],
)
def test_invalid_utf8(cli, write, target, data, line):
    path = write("latin.csv", data)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}", "not valid UTF-8"))


def test_utf16_text(cli, write, target):
    path = write("utf16.csv", "1,2\n3,4\n".encode("utf-16"))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path,))


@pytest.mark.parametrize("name", ["garbage.csv", "garbage.bin", "garbage"])
def test_binary_garbage(cli, write, target, name):
    data = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path = write(name, data)
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path,))


def test_nul_byte(cli, write, target):
    path = write("nul.csv", b"1,2\n3,\x004\n")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(f"{path}, line 2", "NUL"))


# --------------------------------------------------------------------------- shapes


def test_shape_mismatch_rows(cli, write, target):
    path = write("three.csv", "1,2\n3,4\n5,6\n")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=("(3, 2)", "(2, 2)", "shape"))


def test_shape_mismatch_columns(cli, write, target):
    path = write("wide.csv", "1,2,3\n4,5,6\n")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=("(2, 3)", "(2, 2)"))


def test_shape_mismatch_fewer_rows_streamed(cli, write):
    x = write("x.csv", "0.5,0.5\n" * 70_000)
    t = write("t.csv", "1,0\n" * 69_999)
    fails(cli, "bce-logits", "-i", x, "-t", t, parts=("(70000, 2)", "(69999, 2)"))


def test_shape_mismatch_json(cli):
    fails(cli, "bce", "-i", "[[0.5, 0.5]]", "-t", "[0.5, 0.5, 0.5]",
          parts=("(1, 2)", "(3,)"))


def test_shape_mismatch_scalar(cli, target):
    fails(cli, "bce-logits", "-i", "0.5", "-t", target,
          parts=("() (a scalar)", "(2, 2)"))


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [("-w", "[1, 2, 3]", "(3,)"), ("-w", "[[1], [2], [3]]", "(3, 1)"),
     ("--pos-weight", "[1, 2, 3]", "(3,)"), ("--pos-weight", "[[[1, 2]]]", "(1, 1, 2)")],
)
def test_weight_does_not_broadcast(cli, inp, target, option, value, shown):
    err = fails(cli, "bce-logits", "-i", inp, "-t", target, option, value,
                parts=(shown, "(2, 2)", "does not broadcast"))
    assert ("--pos-weight" in err) == (option == "--pos-weight")


def test_weight_file_does_not_broadcast(cli, write, inp, target):
    w = write("w.csv", "1,2\n3,4\n5,6\n")
    fails(cli, "bce-logits", "-i", inp, "-t", target, "-w", w,
          parts=("--weight", "(3, 2)", "(2, 2)"))


def test_bce_weight_does_not_broadcast(cli):
    fails(cli, "bce", "-i", "[[0.5, 0.5]]", "-t", "[[1, 0]]", "-w", "[1, 2, 3]",
          parts=("--weight", "(3,)", "(1, 2)"))


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("x", "t", "where", "shown"),
    [("1.5,0.5\n0.5,0.5\n", "1,0\n0,1\n", "x.csv, line 1, column 1", "input value 1.5"),
     ("0.5,0.5\n0.5,-0.25\n", "1,0\n0,1\n", "x.csv, line 2, column 2", "input value -0.25"),
     ("0.5,0.5\n0.5,0.5\n", "1,0\n0,2\n", "t.csv, line 2, column 2", "target value 2"),
     ("0.5,0.5\n0.5,0.5\n", "1,-1e-9\n0,1\n", "t.csv, line 1, column 2", "target value -1e-09")],
)
def test_bce_outside_unit_interval(cli, write, x, t, where, shown):
    xp, tp = write("x.csv", x), write("t.csv", t)
    fails(cli, "bce", "-i", xp, "-t", tp, parts=(where, shown, "outside [0, 1]"))


def test_bce_outside_unit_interval_json(cli):
    fails(cli, "bce", "-i", "[[0.5, 0.5], [0.5, 0.5]]", "-t", "[[1, 0], [0, 1.5]]",
          parts=("--target (inline JSON) [1][1]", "1.5", "outside [0, 1]"))


@pytest.mark.parametrize(
    ("text", "where", "shown"),
    [("[[1, NaN], [3, 4]]", "[0][1]", "nan"), ("[[1, 2], [Infinity, 4]]", "[1][0]", "inf"),
     ("[[1, 2], [3, -Infinity]]", "[1][1]", "-inf"), ("[[1, 2], [3, 1e400]]", "[1][1]", "inf")],
)
def test_nan_and_infinity_json(cli, write, target, text, where, shown):
    path = write("nan.json", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path} {where}", f"value {shown} is not a finite"))


def test_float32_overflow(cli):
    fails(cli, "bce-logits", "-i", "[1e39]", "-t", "[1]", "--dtype", "float32",
          parts=("[0]", "overflows float32"))


# --------------------------------------------------------------------------- ce


@pytest.fixture
def logits(write) -> str:
    return write("logits.csv", "2,0.5,-1\n0.1,0.2,3\n")


@pytest.mark.parametrize(
    ("t", "where", "shown"),
    [("[0, 3]", "[1]", "target class 3 is out of range for 3 classes (valid: 0 to 2, or the "
                        "ignore index -100)"),
     ("[-1, 0]", "[0]", "target class -1 is out of range"),
     # an integer as an integer (it was 1e+30), and the float64 reading said
     ("[0, 1e30]", "[1]", "target class 1000000000000000019884624838656 (as read: float64 "
                          "rounds whole numbers beyond 2**53) is out of range"),
     ("[0, 9223372036854775807]", "[1]", "target class 9223372036854775808 (as read"),
     ("[0, -4e15]", "[1]", "target class -4000000000000000 is out of range")],
)
def test_ce_class_out_of_range(cli, logits, t, where, shown):
    fails(cli, "ce", "-i", logits, "-t", t, parts=(f"--target (inline JSON) {where}", shown))


LOG_P = "[[-0.5, -1.0], [-0.2, -2]]"


@pytest.mark.parametrize("index", [str(2**63 - 1), str(2**53), str(-2**53), str(-2**63)])
@pytest.mark.parametrize("command", ["ce", "nll"])
def test_ignore_index_beyond_2_53_is_refused(cli, command, index):
    """Targets are read as float64, so one beyond 2**53 cannot be told apart from the ignore
    index: torch gives 0.5 for 2**63 - 1 (its targets are int64) and raises 'Target
    9007199254740993 is out of bounds' where 9007199254740993 read as 2**53 was ignored."""
    target = f"[0, {index}]"
    fails(cli, command, "-i", LOG_P, "-t", target, "--ignore-index", index,
          parts=(f"--ignore-index {index} is out of range: targets are read as float64",
                 "below 2**53 = 9007199254740992", "between -9007199254740991 and "
                 "9007199254740991"))
    fn = bcecli.ce if command == "ce" else bcecli.nll
    with pytest.raises(BceError, match=f"--ignore-index {index} is out of range"):
        fn(eval(LOG_P), [0, 1], ignore_index=int(index))


def test_ignore_index_comparisons_are_exact_below_2_53(cli):
    """torch: 0.5 with the target 2**53 - 1 ignored; 'Target 9007199254740993 is out of
    bounds' (read as 9007199254740992, which is not the ignore index 2**53 - 1)."""
    big = str(2**53 - 1)
    r = cli("nll", "-i", LOG_P, "-t", f"[0, {big}]", "--ignore-index", big, "-f", "plain")
    assert (r.exit_code, r.stdout) == (0, "0.5\n")
    fails(cli, "nll", "-i", LOG_P, "-t", "[0, 9007199254740993]", "--ignore-index", big,
          parts=("target class 9007199254740992 (as read: float64 rounds whole numbers beyond "
                 "2**53) is out of range for 2 classes (valid: 0 to 1, or the ignore index "
                 f"{big})",))
    assert bcecli.nll(eval(LOG_P), [0, 2**53 - 1], ignore_index=2**53 - 1).loss == 0.5


@pytest.mark.parametrize(("text", "where", "shown"), [
    ("0\n7\n", "line 2, column 1", ("target class 7", "valid: 0 to 2")),  # a column
    ("0,7\n", "line 1, column 2", ("class 7",)),  # a row
    ("\n0\n\n5\n", "line 4, column 1", ("class 5",)),  # lines counted past blank ones
])
def test_ce_class_out_of_range_in_csv(cli, write, logits, text, where, shown):
    t = write("classes.csv", text)
    fails(cli, "ce", "-i", logits, "-t", t, parts=(f"{t}, {where}", *shown))


@pytest.mark.parametrize("t", ["[0, 1.5]", "[0.5, 1]"])
def test_ce_non_integer_class(cli, logits, t):
    fails(cli, "ce", "-i", logits, "-t", t, parts=(
        "not a whole number; class-index targets must be integers (or give class "
        "probabilities, of the input's shape (…, 3))",))


@pytest.mark.parametrize(("command", "also"), [
    ("ce", " (or give class probabilities, of the input's shape (…, 5))\n"),
    ("nll", "\n"),  # nll takes no probabilities: no such advice
])
def test_non_integer_class_message_is_not_the_blocks(cli, tmp_path, command, also):
    """The message gave the shape of the block being read, (11646, 5), as the input's
    (300000, 5), and advised probabilities for nll."""
    np.save(tmp_path / "x5.npy", np.zeros((300_000, 5)))
    (tmp_path / "y.csv").write_text("1\n" * 299_999 + "2.5\n")
    err = fails(cli, command, "-i", tmp_path / "x5.npy", "-t", tmp_path / "y.csv")
    assert err.endswith(", line 300000, column 1: target 2.5 is not a whole number; "
                        "class-index targets must be integers" + also)


@pytest.mark.parametrize(("x", "t", "shown"), [
    ("[1, 2, 3]", "1.5", "of the input's shape (3,))"),  # a vector is read whole
    ("[[[1, 2], [2, 3]]]", "[[0, 0.5]]", "of the input's shape (…, 2, 2))"),
    ("[[1], [2]]", "[0, 0.5]", "of the input's shape (…, 1), as JSON or .npy: CSV reads a "
                               "single column as class indices)"),
])
def test_non_integer_class_advice_by_shape(cli, x, t, shown):
    fails(cli, "ce", "-i", x, "-t", t, parts=("or give class probabilities, " + shown,))
    fails(cli, "nll", "-i", x, "-t", t, parts=("must be integers\n",))


def test_ce_non_integer_class_csv(cli, write, logits):
    t = write("classes.csv", "0\n1.25\n")
    fails(cli, "ce", "-i", logits, "-t", t,
          parts=(f"{t}, line 2, column 1", "1.25", "not a whole number"))


def test_ce_nan_class(cli, write, logits):
    t = write("classes.csv", "0\nnan\n")
    fails(cli, "ce", "-i", logits, "-t", t, parts=(f"{t}, line 2, column 1", "nan"))


@pytest.mark.parametrize(
    ("t", "shown"),
    [("[0, 1, 2]", "(3,)"), ("[[0, 1]]", "(1, 2)"), ("[[0, 1, 2]]", "(1, 3)"), ("1", "()")],
)
def test_ce_target_wrong_shape(cli, logits, t, shown):
    fails(cli, "ce", "-i", logits, "-t", t, parts=("(2, 3)", "(2,)", shown))


def test_ce_target_wrong_shape_csv(cli, write, logits):
    t = write("classes.csv", "0\n1\n2\n")
    fails(cli, "ce", "-i", logits, "-t", t, parts=("(2, 3)", "(3,)"))


@pytest.mark.parametrize(("w", "shown"), [("[1, 2]", "(2,)"), ("[1, 2, 3, 4]", "(4,)"),
                                          ("[[1, 2, 3], [1, 2, 3]]", "(2, 3)")])
def test_ce_class_weight_wrong_length(cli, logits, w, shown):
    fails(cli, "ce", "-i", logits, "-t", "[0, 1]", "-w", w,
          parts=("--weight", "(3,)", shown))


@pytest.mark.parametrize("eps", ["1.5", "-0.1", "nan", "inf"])
def test_ce_label_smoothing_outside(cli, logits, eps):
    fails(cli, "ce", "-i", logits, "-t", "[0, 1]", "--label-smoothing", eps,
          parts=("--label-smoothing", "between 0 and 1"))


def test_ce_scalar_input(cli):
    fails(cli, "ce", "-i", "2.5", "-t", "0", parts=("class dimension", "scalar"))


def test_ce_no_classes(cli):
    fails(cli, "ce", "-i", "[[], []]", "-t", "[0, 0]", parts=("no classes",))


# --------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("[[1, 2], [3, 4]", 1, 16), ("[[1, 2],\n [3, x]]", 2, 6), ("[[1, 2], [3, 4],]", 1, 17),
     ("[[1, 2]\n[3, 4]]", 2, 1), ("[[1, 2], [3, 4]] []", 1, 18), ("[01, 2]", 1, 3),
     ("[[1, 2], [3, 4]] // note", 1, 18), ("[1, 2, ", 1, 8), ("[", 1, 2)],
)
def test_json_invalid(cli, write, target, text, line, column):
    path = write("bad.json", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line {line}, column {column}", "invalid JSON"))


def test_json_invalid_inline(cli, target):
    fails(cli, "bce-logits", "-i", "[[1, 2], [3, 4]", "-t", target,
          parts=("--input (inline JSON), line 1, column 16", "invalid JSON"))


def test_json_invalid_stdin(cli, target):
    fails(cli, "bce-logits", "-i", "-", "-t", target, input="[[1, 2],\n [3, 4]",
          parts=("stdin (--input), line 2, column 8", "invalid JSON"))


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [('{"a": [1, 2]}', "", "an object"), ('[[1, {"a": 1}], [3, 4]]', " [0][1]", "an object"),
     ('[["1", 2], [3, 4]]', " [0][0]", "the string '1'"),
     ('[[1, null], [3, 4]]', " [0][1]", "null"), ('[[1, 2], [true, 4]]', " [1][0]", "true"),
     ('[[1, 2], [3, false]]', " [1][1]", "false"), ('"0.5"', "", "the string"),
     ("null", "", "null")],
)
def test_json_not_numbers(cli, write, target, text, where, what):
    path = write("x.json", text)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}{where}: {what}", "is not a number"))


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [("[[1, 2], [3]]", "[1]", "ragged nesting"), ("[[1, 2], 3]", "[1]", "expected an array"),
     ("[1, [2, 3]]", "[1]", "expected a number"), ("[[], [1]]", "[1]", "ragged"),
     ("[[[1, 2]], [[3, 4], [5, 6]]]", "[1]", "ragged")],
)
def test_json_ragged(cli, write, target, text, where, what):
    path = write("x.json", text)
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(f"{path} {where}", what))


def test_json_deep_nesting_file(cli, write, target):
    path = write("deep.json", "[" * 100_000 + "]" * 100_000)
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(path, "nested too deeply", "at most 32"))


def test_json_deep_nesting_inline(cli, target):
    fails(cli, "bce-logits", "-i", "[" * 100_000 + "1" + "]" * 100_000, "-t", target,
          parts=("--input (inline JSON)", "nested"))


def test_json_deep_nesting_unbalanced(cli, write, target):
    path = write("deep.json", "[" * 100_000)
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "nested"))


def test_json_deep_nesting_objects(cli, write, target):
    path = write("deep.json", '[{"a": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}]")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "nested too deeply"))


def test_json_deep_nesting_behind_string_brackets(cli, write, target):
    path = write("deep.json", '["' + "]" * 500 + '", ' + "[" * 100_000 + "]" * 100_000 + "]")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path,))


def test_json_huge_integer(cli, write, target):
    path = write("big.json", "[[1, " + "9" * 400 + "], [3, 4]]")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(f"{path} [0][1]", "too large"))


def test_json_integer_beyond_python_digit_limit(cli, write, target):
    path = write("big.json", "[[1, 2],\n [3, " + "7" * 5000 + "]]")
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line 2, column 6", "5000 digits", "too large"))


def test_json_invalid_utf8(cli, write, target):
    path = write("x.json", b"[[1, 2],\n [3, \xff]]")
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(f"{path}, line 2", "not valid UTF-8"))


def test_json_utf16(cli, write, target):
    path = write("x.json", "[[1, 2], [3, 4]]".encode("utf-16"))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path,))


# --------------------------------------------------------------------------- .npy


def test_npy_truncated_data(cli, write, target):
    path = write("x.npy", npy_bytes(np.ones((2, 2)))[:-5])
    fails(cli, "bce-logits", "-i", path, "-t", target,
          parts=(path, "truncated", "(2, 2)"))


def test_npy_truncated_fortran(cli, write, target):
    path = write("x.npy", npy_bytes(np.asfortranarray(np.ones((2, 2))))[:-1])
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "truncated"))


def test_npy_truncated_header(cli, write, target):
    path = write("x.npy", npy_bytes(np.ones((2, 2)))[:30])
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "not a valid .npy"))


def test_npy_magic_only(cli, write, target):
    path = write("x.npy", b"\x93NUMPY")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "not a valid .npy"))


def test_npy_bad_magic(cli, write, target):
    path = write("x.npy", b"1,2\n3,4\n")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "not a valid .npy"))


@pytest.mark.parametrize(
    "header",
    [b"{'descr': 'zz', 'fortran_order': False, 'shape': (2, 2), }",
     b"{'descr': '<f8', 'fortran_order': False, 'shape': ('a', 2), }",
     b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }",
     b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'x': 1}",
     b"{'descr': '<f8', 'fortran_order': False}",
     b"__import__('os').system('touch /tmp/bcecli-pwned')",
     b"not a dict at all"],
)
def test_npy_bad_header(cli, write, target, header):
    path = write("x.npy", npy_header(header, b"\0" * 32))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "not a valid .npy"))


def test_npy_unknown_version(cli, write, target):
    data = bytearray(npy_bytes(np.ones((2, 2))))
    data[6] = 9
    path = write("x.npy", bytes(data))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "version"))


@pytest.mark.parametrize("fortran", [False, True])
def test_npy_header_promises_too_much(cli, write, target, fortran):
    header = (b"{'descr': '<f8', 'fortran_order': %s, 'shape': (99999999999999, 2), }"
              % (b"True" if fortran else b"False"))
    path = write("x.npy", npy_header(header, b"\0" * 64))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "(99999999999999, 2)"))


def test_npy_header_shape_overflows(cli, write, target):
    header = (b"{'descr': '<f8', 'fortran_order': False, "
              b"'shape': (99999999999, 99999999999, 9999999999), }")
    path = write("x.npy", npy_header(header))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "corrupt"))


@pytest.mark.parametrize("array", [np.ones((2, 2)), np.asfortranarray(np.ones((2, 2))),
                                   np.array(1.0)])
def test_npy_extra_bytes(cli, write, target, array):
    path = write("x.npy", npy_bytes(array) + b"junk")
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, "extra bytes"))


class _Trap:
    """Unpickling this creates a file: proof that the reader unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_npy_object_array_never_unpickled(cli, tmp_path, target):
    marker = tmp_path / "unpickled"
    path = tmp_path / "objects.npy"
    array = np.empty((2, 2), dtype=object)
    array[:] = [[_Trap(str(marker)), 1], [2, 3]]
    np.save(path, array, allow_pickle=True)
    assert b"unpickled" in path.read_bytes()  # the trap really is in the file
    fails(cli, "bce-logits", "-i", str(path), "-t", target,
          parts=(str(path), "Python objects", "never unpickles"))
    assert not marker.exists()


def test_npy_pickle_bytes_with_npy_name(cli, tmp_path, target):
    marker = tmp_path / "unpickled"
    path = tmp_path / "x.npy"
    path.write_bytes(pickle.dumps(_Trap(str(marker))))
    fails(cli, "bce-logits", "-i", str(path), "-t", target, parts=(str(path),))
    assert not marker.exists()


def test_npy_object_array_from_stdin(cli, tmp_path, target):
    marker = tmp_path / "unpickled"
    array = np.empty((2, 2), dtype=object)
    array[:] = [[_Trap(str(marker)), 1], [2, 3]]
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    fails(cli, "bce-logits", "-i", "-", "-t", target, input=buf.getvalue(),
          parts=("stdin", "Python objects"))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("array", "dtype"),
    [(np.array([["a", "b"], ["c", "d"]]), "<U1"), (np.ones((2, 2), dtype=complex), "complex"),
     (np.zeros((2, 2), dtype="datetime64[D]"), "datetime64"),
     (np.zeros((2, 2), dtype=[("a", "f8")]), "dtype")],
)
def test_npy_non_numeric_dtype(cli, write, target, array, dtype):
    path = write("x.npy", npy_bytes(array))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(path, dtype))


def test_npy_nan(cli, write, target):
    path = write("x.npy", npy_bytes(np.array([[1.0, 2.0], [np.nan, 4.0]])))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=(f"{path} [1, 0]", "nan"))


def test_npy_shape_mismatch(cli, write, target):
    path = write("x.npy", npy_bytes(np.ones((2, 2, 2))))
    fails(cli, "bce-logits", "-i", path, "-t", target, parts=("(2, 2, 2)", "(2, 2)"))


def test_npy_garbage_on_stdin(cli, target):
    fails(cli, "bce-logits", "-i", "-", "-t", target, input=b"\x93NUMPY\x01\x00garbage",
          parts=("stdin", "not a valid .npy"))


# --------------------------------------------------------------------------- stdin


def test_both_from_stdin(cli):
    fails(cli, "bce-logits", "-i", "-", "-t", "-", input="1,2\n",
          parts=("--input", "--target", "stdin"))


def test_target_and_weight_from_stdin(cli):
    fails(cli, "bce-logits", "-i", "[[1, 2]]", "-t", "-", "-w", "-", input="1,0\n",
          parts=("--weight", "stdin"))


@pytest.mark.parametrize(("data", "shown"), [("", "stdin (--input) is empty"),
                                             (" \n\t\n", "only whitespace")])
def test_stdin_without_data(cli, target, data, shown):
    fails(cli, "bce-logits", "-i", "-", "-t", target, input=data, parts=(shown,))


def test_stdin_binary_garbage(cli, target):
    data = bytes(range(256)) * 4
    fails(cli, "bce-logits", "-i", "-", "-t", target, input=data, parts=("stdin",))


# --------------------------------------------------------------------------- options


BCE_HELP = "(see 'bcecli bce-logits --help')"


@pytest.mark.parametrize(
    ("args", "said"),
    [(["bce-logits", "-i", "1", "-t", "1", "--bogus"], f"no such option: --bogus {BCE_HELP}"),
     (["bce-logits", "-i", "1", "-t", "1", "--reduction", "avg"],
      f"--reduction: 'avg' is not one of 'mean', 'sum', 'none' {BCE_HELP}"),
     (["bce-logits", "-i", "1", "-t", "1", "--format", "xml"],
      f"--format: 'xml' is not one of 'table', 'plain', 'json', 'csv', 'ndjson', 'markdown', "
      f"'md' {BCE_HELP}"),
     (["bce-logits", "-i", "1", "-t", "1", "--dtype", "float16"],
      f"--dtype: 'float16' is not one of 'float64', 'float32' {BCE_HELP}"),
     (["bce-logits", "-i", "1", "-t", "1", "--precision", "-1"], "--precision: '-1' "),
     (["bce-logits", "-i", "1", "-t", "1", "--precision", "x"], "--precision: 'x' "),
     (["bce-logits", "-i", "1", "-t", "1", "--max-rows", "-1"], "--max-rows: '-1' "),
     (["bce-logits", "-i", "1", "-t", "1", "--expect", "abc"], "--expect: 'abc' "),
     (["ce", "-i", "[1, 2]", "-t", "0", "--ignore-index", "1.5"], "--ignore-index: '1.5' "),
     (["bce-logits", "-i", "1"], f"missing option --target (-t) {BCE_HELP}"),
     (["bce-logits", "-t", "1"], f"missing option --input (-i) {BCE_HELP}"),
     (["bce-logits", "-i"], f"option '-i' requires an argument {BCE_HELP}"),
     (["bce-logits", "-i", "1", "-t", "1", "extra"], "extra"),
     (["softmax", "-i", "1", "-t", "1"],
      "no such command 'softmax'; the commands: bce, bce-logits, ce, nll (see 'bcecli --help')"),
     (["bce", "-i", "0.5", "-t", "1", "--pos-weight", "2"], "no such option: --pos-weight"),
     (["bce", "-i", "0.5", "-t", "1", "--sigmod"],
      "no such option: --sigmod (did you mean --sigmoid?) (see 'bcecli bce --help')"),
     (["--bogus"], "no such option: --bogus (see 'bcecli --help')"),
     ([], "no command given; the commands: bce, bce-logits, ce, nll (see 'bcecli --help')")],
)
def test_usage_errors_are_one_line(cli, args, said):
    """The parser's own errors were click's block (usage, 'Try ... for help.', 'Error: ...'),
    and no command at all printed the help: now one line, like every other error."""
    err = fails(cli, *args, parts=(said,))
    assert err.endswith(" --help')\n"), err


def test_usage_errors_in_ascii(cli):
    err = fails(cli, "bce", "-i", "1", "-t", "1", "--ascii", "-r", "médian")
    assert err.isascii() and "--reduction: 'm\\xe9dian' is not one of" in err


def test_help_and_version_are_as_they_were(cli):
    for args in (["--help"], ["-h"], ["bce", "--help"], ["ce", "-h"]):
        result = cli(*args)
        assert result.exit_code == 0 and result.stdout.startswith("Usage: ")
        assert result.stderr == ""
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("bcecli ")


def test_expect_needs_a_single_number(cli):
    fails(cli, "bce-logits", "-i", "[1, 2]", "-t", "[1, 0]", "--reduction", "none",
          "--expect", "1", parts=("--expect",))


# --------------------------------------------------------------------------- pipes, signals


@pytest.fixture(scope="module")
def big_files(tmp_path_factory) -> tuple[str, str]:
    """About 40 MB of logits and 8 MB of targets (1.6 million rows of 5 columns)."""
    tmp = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(1)
    chunk_x = "".join(",".join(f"{v:.6f}" for v in row) + "\n"
                      for row in rng.normal(size=(4000, 5)))
    chunk_t = "".join(",".join(str(int(v)) for v in row) + "\n"
                      for row in rng.random((4000, 5)) < 0.5)
    x, t = tmp / "big.csv", tmp / "big_t.csv"
    x.write_text(chunk_x * 400)
    t.write_text(chunk_t * 400)
    return str(x), str(t)


def _bcecli() -> list[str]:
    return [sys.executable, "-m", "bcecli"]


def test_broken_pipe_is_quiet(big_files):
    x, t = big_files
    command = " ".join(shlex.quote(a) for a in [*_bcecli(), "bce-logits", "-i", x, "-t", t,
                                                "--reduction", "none", "--format", "csv"])
    script = f"{command} | head -1; echo \"status=${{PIPESTATUS[0]}}\" >&2"
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    first = proc.stdout.splitlines()
    assert len(first) == 1 and len(first[0].split(",")) == 5
    status = int(proc.stderr.rsplit("status=", 1)[1])
    noise = proc.stderr.rsplit("status=", 1)[0]
    assert "Traceback" not in noise and "BrokenPipe" not in noise and "Error" not in noise, noise
    assert status in (0, 141), (status, noise)


def _wait_until_reading(proc: subprocess.Popen, path: str, timeout: float = 20.0) -> None:
    """Until the process has the input open (past its imports), or ~1 s without /proc."""
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    deadline = time.monotonic() + timeout
    if not fd_dir.exists():
        time.sleep(1.0)
        return
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(os.readlink(fd) == path for fd in fd_dir.iterdir()):
                return
        except OSError:
            pass
        time.sleep(0.02)


@pytest.mark.parametrize(
    "output",
    [["--format", "plain"], ["--format", "csv", "--reduction", "none"], ["--format", "json"]],
    ids=["plain", "csv-none", "json"],
)
def test_sigint_exits_130_quietly(big_files, output):
    x, t = big_files
    proc = subprocess.Popen([*_bcecli(), "bce-logits", "-i", x, "-t", t, *output],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_until_reading(proc, x)
        time.sleep(0.05)
        assert proc.poll() is None, "finished before the interrupt; use a bigger file"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode(errors="replace")
    assert proc.returncode == 130, (proc.returncode, text)
    assert "Traceback" not in text, text


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("how", ["path", "stdin"])
def test_endless_binary_stream_does_not_hang(how):
    """/dev/zero never sends a newline: the NUL bytes must be refused, not read forever."""
    args = [*_bcecli(), "bce-logits", "-t", "1"]
    if how == "path":
        proc = subprocess.run([*args, "-i", "/dev/zero"], capture_output=True, text=True,
                              timeout=60)
    else:
        with open("/dev/zero", "rb") as zero:
            proc = subprocess.run([*args, "-i", "-"], stdin=zero, capture_output=True,
                                  text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("bcecli: error: ") and "NUL" in proc.stderr


def test_nul_after_long_line(cli, write):
    path = write("x.csv", b"1,2\n" + b"\0" * 3_000_000)
    fails(cli, "bce-logits", "-i", path, "-t", "[[1, 0]]", parts=(f"{path}, line 2", "NUL"))


@pytest.mark.parametrize(
    ("args", "loss"),
    [(["bce-logits", "-i", "[1e308, 1e308]", "-t", "[0, 0]"], "inf"),
     (["bce-logits", "-i", "[3e38, 3e38]", "-t", "[0, 0]", "--dtype", "float32"], "inf"),
     # 0.693·1e308 twice is 1.39e308 < 1.8e308: no overflow (torch: 6.9315e+307)
     (["bce", "-i", "[0.5, 0.5]", "-t", "[1, 0]", "-w", "[1e308, 1e308]"],
      "6.931471805599452e+307"),
     (["ce", "-i", "[[1e308, -1e308]]", "-t", "[1]"], "inf")],
)
def test_overflow_to_inf_is_quiet(args, loss):
    """The loss is inf where PyTorch's is, said in a warning; no Python warning text."""
    proc = subprocess.run([*_bcecli(), *args, "--format", "plain"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == loss + "\n"
    lines = proc.stderr.splitlines()
    assert all(line.startswith("bcecli: warning: ") for line in lines), proc.stderr
    assert (loss == "inf") == any("overflows" in line for line in lines), proc.stderr


# --------------------------------------------------------------------------- found by fuzzing


def test_inline_json_that_is_not_utf8(cli) -> None:
    fails(cli, "bce-logits", "-i", "[0.5\udcff]", "-t", "[1]",
          parts=("--input (inline JSON)", "not valid UTF-8"))


@pytest.mark.parametrize(("header", "shown"), [
    (b"{\n", "not a plain Python dict literal"),
    (b"{'descr':'<f8','fortran_order':False,'shape':(0,99999999999999999999)}",
     "far more than any file holds"),
    (b"{'descr':'<f8','fortran_order':False,'shape':(" + b"1," * 65 + b")}", "65 dimensions"),
])
def test_broken_npy_headers(cli, write, header, shown) -> None:
    head = header + b"\n"
    data = b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + b"\0" * 8
    fails(cli, "bce-logits", "-i", write("a.npy", data), "-t", "[1]", parts=(shown,))


def test_npy_header_from_python_2_gives_no_warning(cli, write) -> None:
    head = b"{'descr':'<f8','fortran_order':False,'shape':(1L,)}\n"
    data = b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + \
        np.float64(0.5).tobytes()
    path = write("p.npy", data)
    proc = subprocess.run([*_bcecli(), "bce-logits", "-i", path, "-t", "[1]", "-f", "plain"],
                          capture_output=True, text=True, timeout=60)
    # ln(1 + e^-0.5) = 0.4740769841801067: the header is read, and numpy's warning is not shown
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "0.4740769841801067\n", "")


@pytest.mark.parametrize("option", ["--rtol", "--atol"])
def test_infinite_tolerances_are_refused(cli, option) -> None:
    fails(cli, "bce-logits", "-i", "[1]", "-t", "[1]", "--expect", "1", option, "inf",
          parts=(option, "finite"))


def test_huge_max_rows_shows_everything(cli) -> None:
    r = cli("bce-logits", "-i", "[[1], [2], [3]]", "-t", "[[1], [0], [1]]", "--max-rows",
            "99999999999999999999999")
    assert r.exit_code == 0 and "hidden" not in r.stdout


def test_a_full_disk_is_an_error(tmp_path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*_bcecli(), "bce-logits", "-i", "[1]", "-t", "[1]", "-f", "plain"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("bcecli: error: cannot write")
    assert proc.stderr.count("\n") == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("grad", [[], ["--grad"]])
def test_json_spool_on_a_full_disk_is_said_as_such(cli, monkeypatch, tmp_path, grad):
    """The JSON spool's file on a full TMPDIR (/dev/full: ENOSPC) was blamed on the input:
    'cannot read the input: No space left on device'."""
    import tempfile

    from bcecli.report import machine

    def full(*args: object, **kw: object) -> object:
        mode = str(kw.pop("mode", "w+b"))
        kw.pop("dir", None), kw.pop("prefix", None), kw.pop("suffix", None)
        kw.pop("delete", None)
        return open("/dev/full", mode.replace("+", "").replace("w", "r+"), **kw)

    monkeypatch.setattr(machine, "HOLD_BYTES", 256)  # the spool rolls over to a file early
    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    x = json.dumps(np.linspace(-3, 3, 2000).tolist())
    t = json.dumps([1] * 2000)
    fails(cli, "bce-logits", "-i", x, "-t", t, "-f", "json", "--elements", *grad, parts=(
        f"cannot hold the JSON output in a temporary file in {tempfile.gettempdir()} (No space "
        f"left on device); free some space there, or set TMPDIR to a folder with room",))


def test_closed_stdout_and_stdin() -> None:
    proc = subprocess.run([*_bcecli(), "bce-logits", "-i", "[1]", "-t", "[1]"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=60, close_fds=True,
                          preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2 and "standard output is closed" in proc.stderr
    proc = subprocess.run([*_bcecli(), "bce-logits", "-i", "-", "-t", "[1]"],
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: os.close(0))
    assert proc.returncode == 2 and "stdin ('-') is closed" in proc.stderr


@pytest.mark.parametrize("data", [b"0.5 -1.5\r2 0\r", b"0.5,-1.5\r2,0\r", b"1,\x0b2\n"])
def test_stray_control_characters_are_not_separators(cli, write, data) -> None:
    """A bare carriage return (old Mac line end) or a vertical tab never splits fields."""
    fails(cli, "bce-logits", "-i", write("m.txt", data), "-t", "[[1, 0, 0, 1]]",
          parts=("m.txt, line 1",))


def test_nul_in_the_header_row(cli, write) -> None:
    fails(cli, "bce-logits", "-i", write("n.csv", b"a\0,b\n0.5,-1.5\n"), "-t", "[[1, 0]]",
          parts=("n.csv, line 1", "NUL"))


def test_a_line_that_never_ends_is_refused(cli, write, monkeypatch) -> None:
    from bcecli.io import delimited

    monkeypatch.setattr(delimited, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 64)
    fails(cli, "bce-logits", "-i", write("w.csv", ",".join(["0.5"] * 2000)), "-t", "0.5",
          parts=("w.csv, line 1", "longer than"))
    fails(cli, "bce-logits", "-i", "-", "-t", "0.5", input="1," * 5000,
          parts=("stdin (--input), line 1", "longer than"))
    fails(cli, "bce-logits", "-i", write("w2.csv", "1,2\n" + "3," * 1000), "-t", "[[1, 0]]",
          parts=("w2.csv, line 2", "longer than"))


def test_a_wide_table_formats_only_what_it_shows(cli, write) -> None:
    row = ",".join(["0.5"] * 200_000) + "\n"
    r = cli("bce-logits", "-i", write("w.csv", row), "-t", write("t.csv", row))
    assert r.exit_code == 0 and "199988 columns hidden" in r.stdout
    assert "ℓ 199999" in r.stdout and "ℓ 9 " in r.stdout


def test_proc_files_are_not_empty(cli) -> None:
    fails(cli, "bce-logits", "-i", "/proc/self/status", "-t", "[1]", parts=("is not a number",))


@pytest.mark.parametrize(("data", "shown"), [(b'{"a": [1]}', "an object is not a number"),
                                             (b'"abc"', "the string 'abc' is not a number"),
                                             (b"\n" * 70_000 + b"[[0.5]]", None)])
def test_json_is_recognised_by_its_first_character(cli, data, shown) -> None:
    if shown is None:
        r = cli("bce", "-i", "-", "-t", "[[1]]", "-f", "plain", input=data)
        assert r.exit_code == 0 and r.stdout == "0.6931471805599453\n"
    else:
        fails(cli, "bce", "-i", "-", "-t", "1", input=data, parts=("stdin (--input)", shown))


# ------------------------------------------------------------------ the first error wins
# The error said is the one at the earliest row; at one row, a line that cannot be read
# before a bad value, the input before the target before a per-row option.  Block sizes
# and thread counts change nothing.

SIZES = [(64, "1"), (64, "2"), (1 << 20, "1"), (1 << 20, "2")]


@pytest.fixture(params=SIZES, ids=lambda p: f"block{p[0]}-threads{p[1]}")
def blocks(request, monkeypatch) -> None:
    from bcecli.io import delimited

    monkeypatch.setattr(delimited, "BLOCK_BYTES", request.param[0])
    monkeypatch.setenv("BCECLI_THREADS", request.param[1])


@pytest.mark.parametrize("data, line, what", [
    (b'0.5\n"0.5"\n0.5\x00\n', 2, "'\"0.5\"' is not a number"),  # a quote before a NUL
    (b"0.5\nabc\n\xff\n", 2, "'abc' is not a number"),  # before bad UTF-8
    (b"0.5\n\xff\nabc\n0\x00\n", 2, "not valid UTF-8"),
    (b"0.5\n0.5\x00\n\xff\n", 2, "binary data (a NUL byte)"),
    (b"1.5\nabc\n", 1, "input value 1.5 is outside [0, 1]"),  # a value before a syntax error
    (b"1.5\nnan\n", 1, "input value 1.5 is outside [0, 1]"),  # out of range before NaN
    (b"0.5\n" * 300 + b"2\n" + b"0.5\n" * 300 + b"x\n", 301, "input value 2 is outside"),
], ids=["quote-nul", "text-utf8", "utf8-nul", "nul-utf8", "range-text", "range-nan",
        "range-text-far"])
def test_the_error_of_the_first_bad_line_is_said(cli, write, blocks, data: bytes, line: int,
                                                 what: str) -> None:
    rows = data.count(b"\n")
    err = fails(cli, "bce", "-i", write("m.csv", data), "-t", write("o.csv", "1\n" * rows))
    assert err.startswith(f"bcecli: error: {write('m.csv', data)}, line {line}"), err
    assert what in err, err


@pytest.mark.parametrize("n", [10, 1000, 100_000])
def test_which_error_is_said_does_not_depend_on_where_blocks_end(cli, write, blocks,
                                                                 n: int) -> None:
    path = write("m.csv", "1.5\n" + "0.5\n" * n + "nan\n")
    err = fails(cli, "bce", "-i", path, "-t", path)
    assert err == f"bcecli: error: {path}, line 1, column 1: input value 1.5 is outside " \
                  f"[0, 1]; BCELoss needs probabilities (use --sigmoid or bce-logits for " \
                  f"logits)\n"


@pytest.mark.parametrize("x_bad, t_bad, said", [
    (("value", 300), ("text", 200), "t.csv, line 200"),
    (("value", 200), ("text", 300), "x.csv, line 200"),
    (("text", 200), ("value", 100), "t.csv, line 100"),
    (("text", 200), ("text", 200), "x.csv, line 200"),  # one row: the input first
    (("value", 200), ("text", 200), "t.csv, line 200"),  # a line unread before a value
    (("value", 200), ("value", 200), "x.csv, line 200"),
])
def test_errors_of_input_and_target_come_in_row_order(cli, write, blocks, x_bad, t_bad,
                                                      said: str) -> None:
    def lines(bad: tuple[str, int]) -> str:
        out = ["0.5\n"] * 400
        out[bad[1] - 1] = "2\n" if bad[0] == "value" else "x\n"
        return "".join(out)

    err = fails(cli, "bce", "-i", write("x.csv", lines(x_bad)), "-t",
                write("t.csv", lines(t_bad)))
    assert f"{said}, column 1: " in err, err


def test_a_target_whose_second_block_starts_badly(cli, write, monkeypatch) -> None:
    """ce looks at the target's second block before computing (is the file one row?):
    its error must still wait for the input's rows before it."""
    from bcecli.io import delimited

    monkeypatch.setattr(delimited, "BLOCK_BYTES", 64)
    row = ",".join(["0.025"] * 40) + "\n"  # a row longer than a block: a block each
    x = write("x.csv", "nan" + row[5:] + row)
    t = write("t.csv", row + "x," + row[6:])
    err = fails(cli, "ce", "-i", x, "-t", t)
    assert err.startswith(f"bcecli: error: {x}, line 1, column 1: input value nan is not a "
                          f"finite number"), err
