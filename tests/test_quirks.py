"""Inputs that look odd but are fine: each must simply give the right number.

The expected values are computed here, independently, with numpy; the parser tiers of
:mod:`bcecli.delimited` are checked against ``float()`` bit for bit, and against themselves
at every block size.
"""

from __future__ import annotations

import io
import math
import random
import warnings

import numpy as np
import pytest
from numpy.lib import format as npformat

from bcecli.errors import BceError
from bcecli.io import delimited, textparse

X = np.array([[0.5, -1.5, 2.0], [3.25, 0.0, -0.125]])
Y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])


def bce_logits_mean(x, y) -> float:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))))


def bce_mean(p, y) -> float:
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return float(np.mean(-(y * np.maximum(np.log(p), -100)
                               + (1 - y) * np.maximum(np.log1p(-p), -100))))


def ce_mean(x, classes) -> float:
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=1, keepdims=True)
    logz = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(logz - x[np.arange(len(classes)), classes]))


EXPECTED = bce_logits_mean(X, Y)
Y_CSV = "1,0,1\n0,1,1\n"


def value(cli, *args: str, input: str | bytes | None = None) -> float:
    """Run with --format plain; expect exit 0, no stderr, one number on stdout."""
    result = cli(*args, "--format", "plain", input=input)
    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return float(result.stdout)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


@pytest.fixture
def y_csv(write) -> str:
    return write("y.csv", Y_CSV)


# --------------------------------------------------------------------------- text forms


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plain.csv", "0.5,-1.5,2\n3.25,0,-0.125\n"),
        ("bom.csv", "\ufeff0.5,-1.5,2\n3.25,0,-0.125\n"),
        ("crlf.csv", "0.5,-1.5,2\r\n3.25,0,-0.125\r\n"),
        ("bom_crlf.csv", "\ufeff0.5,-1.5,2\r\n3.25,0,-0.125\r\n"),
        ("no_final_newline.csv", "0.5,-1.5,2\n3.25,0,-0.125"),
        ("no_final_newline_crlf.csv", "0.5,-1.5,2\r\n3.25,0,-0.125"),
        ("spaces.csv", " 0.5 , -1.5,2 \n3.25 ,\t0 ,  -0.125\n"),
        ("exponents.csv", "5e-1,-1.5E0,2E+0\n325e-2,0e0,-1.25e-1\n"),
        ("signs_dots.csv", "+.5,-1.5,2.\n+3.25,-0,-.125\n"),
        ("header.csv", "a,b,c\n0.5,-1.5,2\n3.25,0,-0.125\n"),
        ("quoted_header.csv", '"a","b","c"\n0.5,-1.5,2\n3.25,0,-0.125\n'),
        ("bom_header.csv", "\ufeffa,b,c\r\n0.5,-1.5,2\r\n3.25,0,-0.125\r\n"),
        ("blank_lines.csv", "\n\n0.5,-1.5,2\n\n  \n3.25,0,-0.125\n\n\n"),
        ("tabs.tsv", "0.5\t-1.5\t2\n3.25\t0\t-0.125\n"),
        ("header.tsv", "a\tb\tc\n0.5\t-1.5\t2\n3.25\t0\t-0.125\n"),
        ("spaces.tsv", "0.5 \t -1.5\t2\r\n3.25\t 0\t-0.125\r\n"),
        ("sniffed.txt", "0.5 -1.5 2\n3.25   0\t-0.125\n"),
        ("sniffed_commas", "0.5,-1.5,2\n3.25,0,-0.125\n"),
        ("leading_zeros.csv", "00.50,-01.5,0002\n3.250,0.000,-0.1250\n"),
    ],
)
def test_text_forms(cli, write, y_csv, name, text):
    path = write(name, text)
    assert close(value(cli, "bce-logits", "-i", path, "-t", y_csv), EXPECTED)


@pytest.mark.parametrize(
    "text",
    ["0.5 -1.5 2\n3.25 0 -0.125\n", "  0.5   -1.5  2  \n\n3.25\t0 -0.125",
     "0.5,-1.5,2\n3.25,0,-0.125",
     "\ufeff0.5\t-1.5\t2\r\n3.25\t0\t-0.125\r\n", "[[0.5, -1.5, 2], [3.25, 0, -0.125]]",
     "\ufeff [[0.5, -1.5, 2],\n [3.25, 0, -0.125]]\n"],
)
def test_stdin_forms(cli, y_csv, text):
    assert close(value(cli, "bce-logits", "-i", "-", "-t", y_csv, input=text.encode()), EXPECTED)


def test_target_from_stdin(cli, write):
    x = write("x.json", "[[0.5, -1.5, 2], [3.25, 0, -0.125]]")
    assert close(value(cli, "bce-logits", "-i", x, "-t", "-", input=Y_CSV), EXPECTED)


def test_exponent_forms(cli, write):
    x = [1e-3, 2e1, -3.5e-2, 1e0, 0.0]
    text = "1e-3,2E+1,-3.5e-02,1E0,0e-5\n"
    path, t = write("x.csv", text), write("t.csv", "1,0,1,0,1\n")
    assert close(value(cli, "bce-logits", "-i", path, "-t", t),
                 bce_logits_mean([x], [[1, 0, 1, 0, 1]]))


def test_weights_and_header(cli, write):
    x = write("x.csv", "p,q,r\n0.5,-1.5,2\n3.25,0,-0.125\n")
    t = write("t.csv", "p,q,r\n1,0,1\n0,1,1\n")
    w = write("w.csv", "2,1,0.5\n")
    terms = np.maximum(X, 0) - X * Y + np.log1p(np.exp(-np.abs(X)))
    expect = float(np.mean(terms * np.array([2, 1, 0.5])))
    assert close(value(cli, "bce-logits", "-i", x, "-t", t, "-w", w), expect)


def test_bce_on_probabilities(cli, write):
    p = np.array([[0.9, 0.1, 0.3], [0.4, 0.8, 0.2]])
    y = np.array([[1, 0, 0], [0, 1, 0]])
    path = write("p.csv", "0.9, 0.1, 0.3\r\n0.4, 0.8, 0.2")
    t = write("t.tsv", "1\t0\t0\n0\t1\t0\n")
    assert close(value(cli, "bce", "-i", path, "-t", t), bce_mean(p, y))


def test_bce_clamps_at_zero_and_one(cli):
    got = value(cli, "bce", "-i", "[0, 1, 0.5]", "-t", "[1, 0, 1]")
    assert close(got, (100 + 100 + math.log(2)) / 3)


def test_ce_class_column_with_header(cli, write):
    x = write("x.csv", "a,b,c\n2,0.5,-1\n0.1,0.2,3\n")
    t = write("t.csv", "label\n0\n2\n")
    expect = ce_mean([[2, 0.5, -1], [0.1, 0.2, 3]], [0, 2])
    assert close(value(cli, "ce", "-i", x, "-t", t), expect)


def test_ce_class_row(cli, write):
    x = write("x.csv", "2,0.5,-1\n0.1,0.2,3\n")
    t = write("t.csv", "0,2")
    expect = ce_mean([[2, 0.5, -1], [0.1, 0.2, 3]], [0, 2])
    assert close(value(cli, "ce", "-i", x, "-t", t), expect)


def test_ce_float_class_indices(cli):
    expect = ce_mean([[2, 0.5, -1], [0.1, 0.2, 3]], [0, 2])
    assert close(value(cli, "ce", "-i", "[[2, 0.5, -1], [0.1, 0.2, 3]]", "-t", "[0.0, 2e0]"),
                 expect)


# --------------------------------------------------------------------------- .npy


def npy(array: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    npformat.write_array(buf, array, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    "array",
    [X, np.asfortranarray(X), X.astype(">f8"), np.ascontiguousarray(X[:, ::-1])[:, ::-1]],
    ids=["C", "Fortran", "big-endian", "copied"],
)
def test_npy_float64(cli, write, y_csv, array):
    path = write("x.npy", npy(array))
    assert close(value(cli, "bce-logits", "-i", path, "-t", y_csv), EXPECTED)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_npy_versions(cli, write, y_csv, version):
    path = write("x.npy", npy(X, version=version))
    assert close(value(cli, "bce-logits", "-i", path, "-t", y_csv), EXPECTED)


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float16, np.int8, np.int32, np.int64, np.uint8, np.uint64, bool]
)
@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_dtypes(cli, write, dtype, order):
    rng = np.random.default_rng(5)
    if dtype is bool:
        x = rng.random((4, 3)) < 0.5
    elif np.issubdtype(dtype, np.integer):
        x = rng.integers(0, 5, (4, 3)).astype(dtype)
    else:
        x = (rng.normal(size=(4, 3)) * 3).astype(dtype)
    x = np.asfortranarray(x) if order == "F" else x
    y = (rng.random((4, 3)) < 0.5).astype(np.uint8)
    xp, yp = write("x.npy", npy(x)), write("y.npy", npy(np.asfortranarray(y)))
    expect = bce_logits_mean(x.astype(np.float64), y)
    assert close(value(cli, "bce-logits", "-i", xp, "-t", yp), expect)


def test_npy_on_stdin(cli, y_csv):
    assert close(value(cli, "bce-logits", "-i", "-", "-t", y_csv, input=npy(X)), EXPECTED)


def test_npy_without_extension(cli, write, y_csv):
    path = write("logits", npy(X))
    assert close(value(cli, "bce-logits", "-i", path, "-t", y_csv), EXPECTED)


def test_npy_three_dims_fortran(cli, write):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(3, 2, 4))
    y = (rng.random((3, 2, 4)) < 0.5).astype(float)
    xp = write("x.npy", npy(np.asfortranarray(x)))
    yp = write("y.json", str(y.tolist()))
    assert close(value(cli, "bce-logits", "-i", xp, "-t", yp), bce_logits_mean(x, y))


def test_npy_many_blocks(cli, write):
    """More rows than one 4 MiB block of the .npy reader."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300_000, 3))
    y = (rng.random((300_000, 3)) < 0.5).astype(np.float32)
    xp, yp = write("x.npy", npy(x)), write("y.npy", npy(y))
    assert close(value(cli, "bce-logits", "-i", xp, "-t", yp), bce_logits_mean(x, y))


# --------------------------------------------------------------------------- JSON, inline


@pytest.mark.parametrize(
    ("x", "y", "expect"),
    [("0.5", "1", bce_logits_mean(0.5, 1)), ("-2e-1", "0", bce_logits_mean(-0.2, 0)),
     ("[0.5, -1.5, 2]", "[1, 0, 1]", bce_logits_mean([0.5, -1.5, 2], [1, 0, 1])),
     (" [ 0.5 ,\n -1.5 ] ", "[1,0]", bce_logits_mean([0.5, -1.5], [1, 0])),
     ("[[0.5, -1.5, 2], [3.25, 0, -0.125]]", "[[1, 0, 1], [0, 1, 1]]", EXPECTED),
     ("[[[1e-3], [2E+1]]]", "[[[1], [0]]]", bce_logits_mean([1e-3, 20.0], [1, 0])),
     (" 7 ", " 1 ", bce_logits_mean(7, 1)), ("+1.5", "0", bce_logits_mean(1.5, 0))],
)
def test_inline(cli, x, y, expect):
    assert close(value(cli, "bce-logits", "-i", x, "-t", y), expect)


@pytest.mark.parametrize(
    ("text", "x"),
    [("0.5", 0.5), ("-3", -3.0), ("[0.5, -1.5, 2]", [0.5, -1.5, 2.0]),
     ("\ufeff[1.5e0, -2]", [1.5, -2.0]), ("[[0.5, -1.5, 2], [3.25, 0, -0.125]]", X.tolist()),
     ("[123456789012345678901234567890, 0]", [1.2345678901234568e29, 0.0])],
)
def test_json_files(cli, write, text, x):
    path = write("x.json", text)
    y = np.zeros_like(np.asarray(x, dtype=float))
    target = write("y.json", str(y.tolist()))
    assert close(value(cli, "bce-logits", "-i", path, "-t", target), bce_logits_mean(x, y))


def test_json_scalar_broadcast_target(cli):
    """A scalar input against a scalar target; a 1-D target against a 1-D input."""
    assert close(value(cli, "bce-logits", "-i", "[2]", "-t", "[0.25]"),
                 bce_logits_mean([2], [0.25]))


# --------------------------------------------------------------------------- warnings


def warn_run(cli, *args: str) -> tuple[float, str]:
    result = cli(*args, "--format", "plain")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("bcecli: warning: ") for line in lines), lines
    return float(result.stdout), result.stderr


def test_warning_bce_logits_targets_outside(cli, write):
    x = write("x.csv", "0.5,-1\n2,0\n")
    t = write("t.csv", "1,0\n0,1.5\n")
    got, err = warn_run(cli, "bce-logits", "-i", x, "-t", t)
    assert close(got, bce_logits_mean([[0.5, -1], [2, 0]], [[1, 0], [0, 1.5]]))
    assert f"{t}, line 2, column 2" in err and "1.5" in err and "outside [0, 1]" in err


def test_warning_ce_every_target_ignored(cli):
    got, err = warn_run(cli, "ce", "-i", "[[2, 0.5, -1], [0.1, 0.2, 3]]", "-t", "[-100, -100]")
    assert math.isnan(got)
    assert "NaN" in err and "ignore" in err


def test_warning_ce_every_target_ignored_custom_index(cli):
    result = cli("ce", "-i", "[[2, 0.5], [0.1, 0.2]]", "-t", "[1, 1]", "--ignore-index", "1",
                 "--format", "plain")
    assert result.exit_code == 0
    assert result.stdout == "nan\n"
    assert result.stderr.startswith("bcecli: warning: ")


@pytest.mark.parametrize(("args", "want"), [
    # torch: a target equal to the ignore index is ignored even where it is no class
    (["nll", "-t", "[0, 5]", "--ignore-index", "5"], "0.5"),
    (["nll", "-t", "[0, -1]", "--ignore-index", "-1"], "0.5"),
    (["ce", "-t", "[0, 7]", "--ignore-index", "7", "--label-smoothing", "0.1"],
     "0.4990769841801067"),
    (["ce", "-t", "[0, -5]", "--ignore-index", "-5"], "0.4740769841801067"),
    (["ce", "-t", "[0, -9007199254740991]", "--ignore-index", "-9007199254740991"],
     "0.4740769841801067"),
    # float32: the ignore index 2**24 + 1 is no float32, but targets stay as read
    (["ce", "-t", "[0, 16777217]", "--ignore-index", "16777217", "--dtype", "float32"],
     "0.474077"),
])
def test_ignored_targets_outside_the_classes(cli, args, want):
    r = cli(args[0], "-i", "[[-0.5, -1.0], [-0.2, -2]]", *args[1:], "-f", "plain")
    assert (r.exit_code, r.stdout.strip()) == (0, want), r.stderr


@pytest.mark.parametrize("command", ["ce", "nll"])
def test_float32_ignored_target_shows_as_ignored(cli, command):
    """The row's target was rounded to float32 (16777216) for the table: an IndexError."""
    r = cli(command, "-i", "[[-0.5, -1.0], [-0.2, -2]]", "-t", "[0, 16777217]",
            "--ignore-index", "16777217", "--dtype", "float32", "--explain", "--grad")
    assert r.exit_code == 0, r.stderr
    assert "row 1: target 16777217 is the ignore index → ℓ = 0, not counted" in r.stdout
    assert "16777217 (ignored)" in r.stdout


def test_warning_ce_probabilities_not_summing_to_one(cli):
    x = [[2, 0.5, -1], [0.1, 0.2, 3]]
    p = [[0.5, 0.2, 0.2], [0, 0, 1]]
    got, err = warn_run(cli, "ce", "-i", str(x), "-t", str(p))
    xa, pa = np.array(x), np.array(p)
    logz = np.log(np.exp(xa).sum(axis=1, keepdims=True))
    assert close(got, float(np.mean(-(pa * (xa - logz)).sum(axis=1))))
    assert "sum to 0.9" in err and "[0]" in err


def test_no_warning_for_clean_input(cli):
    result = cli("bce-logits", "-i", "[1, 2]", "-t", "[1, 0]", "--format", "plain")
    assert result.exit_code == 0 and result.stderr == ""


# --------------------------------------------------------------------------- parser tiers


def random_decimal(rng: random.Random) -> str:
    """Plain decimals with 1-15 digits: signs, leading and trailing dots, leading zeros."""
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 15)))
    form = rng.randrange(4)
    if form == 1:
        k = rng.randint(0, len(digits))
        text = digits[:k] + "." + digits[k:]
    elif form == 2:
        text = "." + digits
    elif form == 3:
        text = digits + "."
    else:
        text = digits
    return rng.choice(["", "", "-", "+"]) + text


def check_fast(rows: list[list[str]], must_take: bool = False) -> bool:
    """The fast tier, where it accepts, and parse_lines always: bit-identical to float()."""
    ncols = len(rows[0])
    buf = "".join(",".join(r) + "\n" for r in rows).encode()
    expect = np.array([[float(f) for f in r] for r in rows])
    fast = textparse.fast_parse(buf, ord(","), ncols)
    if must_take:
        assert fast is not None, buf
    if fast is not None:
        assert fast.tobytes() == expect.tobytes(), (rows, fast, expect)
    block = textparse.parse_lines(buf, "x", 1, textparse.Dialect(b","), ncols)
    assert block.data.tobytes() == expect.tobytes(), (rows, block.data, expect)
    return fast is not None


@pytest.mark.parametrize("seed", range(5))
def test_fast_parse_bit_identical_to_float(seed):
    rng = random.Random(seed)
    taken = 0
    for _ in range(300):
        ncols, nrows = rng.randint(1, 6), rng.randint(1, 30)
        rows = [[random_decimal(rng).lstrip("+") for _ in range(ncols)] for _ in range(nrows)]
        taken += check_fast(rows)
    assert taken > 30  # the fast tier really is exercised


@pytest.mark.parametrize("seed", range(3))
def test_fast_parse_integer_column_always_taken(seed):
    rng = random.Random(50 + seed)
    for _ in range(300):
        check_fast([[rng.choice(["", "-"]) + str(rng.randrange(10 ** rng.randint(1, 14)))]
                    for _ in range(rng.randint(1, 40))], must_take=True)


@pytest.mark.parametrize("seed", range(3))
def test_fast_parse_uniform_decimals(seed):
    """Fields written with one format (``%.6f``), where a faster uniform path applies."""
    rng = random.Random(70 + seed)
    taken = 0
    for _ in range(300):
        k = rng.randint(0, 9)
        ncols, nrows = rng.randint(1, 5), rng.randint(1, 30)
        rows = [[f"{rng.uniform(-1e5, 1e5):.{k}f}" for _ in range(ncols)] for _ in range(nrows)]
        if k == 0 and rng.random() < 0.5:  # some with a trailing dot, some without
            rows = [[f + "." if rng.random() < 0.5 else f for f in r] for r in rows]
        taken += check_fast(rows, must_take=k > 0)
    assert taken > 100


def test_fast_parse_trailing_dots_mixed_with_integers():
    """Regression: '531396' among '260.' fields was read as 53139 (a dot column of weight 0)."""
    check_fast([["-97552370604."], ["260."], ["315."], ["531396"], ["8286667."]])
    check_fast([["1."], ["22"], ["3."]])
    check_fast([["1.", "22"], ["333", "4."]])


@pytest.mark.parametrize("seed", range(3))
def test_parse_lines_all_tiers_match_float(seed):
    """Mixed forms (exponents, '+', spaces, nan, inf) go through the slower tiers."""
    rng = random.Random(100 + seed)
    extras = ["1e-3", "2E+1", "-3.5e-02", " 4 ", "\t5", "nan", "-inf", "Infinity", "+7", "1e308"]
    for _ in range(200):
        ncols, nrows = rng.randint(1, 4), rng.randint(1, 10)
        rows = [[rng.choice(extras) if rng.random() < 0.3 else random_decimal(rng)
                 for _ in range(ncols)] for _ in range(nrows)]
        eol = rng.choice(["\n", "\r\n"])
        buf = "".join(",".join(r) + eol for r in rows).encode()
        expect = np.array([[float(f) for f in r] for r in rows])
        block = textparse.parse_lines(buf, "x", 1, textparse.Dialect(b","), ncols)
        assert block.data.tobytes() == expect.tobytes(), (rows, block.data)


def test_fast_parse_boundaries():
    cases = ["999999999999999", "-.000000000000001", "0.99999999999999", "123456789012345.",
             "-0", "0.", ".0", "-0.0", "000000000000001", "1.00000000000000"]
    for case in cases:
        check_fast([[case]], must_take=True)
        fast = textparse.fast_parse(f"{case}\n".encode(), ord(","), 1)
        assert np.signbit(fast[0, 0]) == case.startswith("-")
    check_fast([[c] for c in cases])
    check_fast([cases[:5], cases[5:]])


@pytest.mark.parametrize("text", ["1234567890123456\n", "1.234567890123456\n", "1e5\n", "+1\n",
                                  "1,2\n", "1-2\n", "--1\n", "1..2\n", "-\n", ".\n", "\n",
                                  " 1\n"])
def test_fast_parse_declines(text):
    """Anything beyond plain short decimals is left to the exact tiers."""
    assert textparse.fast_parse(text.encode(), ord(","), 1) is None


def blocks_of(data: bytes, block_bytes: int, dialect=None):
    source = delimited.text_source(io.BytesIO(data), "f.csv", dialect,
                                   block_bytes=block_bytes)
    parts = list(source.blocks())
    lines = [p.locate((i, 0)) for p in parts for i in range(p.rows)]
    head, _ = delimited.iter_jobs(io.BytesIO(data), "f.csv", dialect, [0])
    return head, np.concatenate([p.data for p in parts]), lines


def sample_text(rng: random.Random, ncols: int, nrows: int) -> tuple[bytes, np.ndarray, list]:
    lines, rows, numbers = [], [], []
    line_no = 0
    if rng.random() < 0.5:
        lines.append(",".join(f"col{i}" for i in range(ncols)))
        line_no += 1
    for _ in range(nrows):
        while rng.random() < 0.15:
            lines.append(rng.choice(["", "  ", "\t"]))
            line_no += 1
        row = [rng.choice([random_decimal(rng), "1e-3", " 2.5 ", "-7"]) for _ in range(ncols)]
        lines.append(",".join(row))
        line_no += 1
        rows.append([float(f) for f in row])
        numbers.append(line_no)
    eol = rng.choice(["\n", "\r\n"])
    data = eol.join(lines).encode() + (eol.encode() if rng.random() < 0.8 else b"")
    if rng.random() < 0.3:
        data = delimited.BOM + data
    return data, np.array(rows), numbers


@pytest.mark.parametrize("seed", range(4))
def test_blocks_of_every_size_agree(seed):
    rng = random.Random(seed)
    for _ in range(40):
        ncols = rng.randint(1, 4)
        data, expect, numbers = sample_text(rng, ncols, rng.randint(1, 25))
        for block_bytes in [1, 2, 3, 5, 7, 13, 64, 1 << 20]:
            head, got, lines = blocks_of(data, block_bytes)
            assert got.tobytes() == expect.tobytes(), (block_bytes, data)
            assert lines == [f"f.csv, line {n}, column 1" for n in numbers], (block_bytes, data)
            assert head.ncols == ncols


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 16, 100, 1 << 20])
def test_block_errors_name_the_same_line(block_bytes):
    data = b"a,b\r\n1,2\r\n\r\n3,4\r\n5,6\r\n\r\n\r\n7,x\r\n9,10\r\n"
    with pytest.raises(BceError, match=r"f\.csv, line 8, column 2: 'x' is not a number"):
        blocks_of(data, block_bytes)
    ragged = b"1,2\n3,4\n\n5\n"
    with pytest.raises(BceError, match=r"f\.csv, line 4: 1 field where the first row has 2"):
        blocks_of(ragged, block_bytes)


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 4, 5, 7])
def test_bom_split_across_blocks(block_bytes):
    head, got, _ = blocks_of(delimited.BOM + b"a,b\n1,2\n", block_bytes)
    assert head.column_names == ["a", "b"]
    assert got.tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("block_bytes", [1, 4, 9, 1 << 20])
def test_blank_tail_blocks_are_quiet(block_bytes):
    """A block of only blank lines must not make numpy warn on stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, got, _ = blocks_of(b"1,2\n3,4\n   \n\t\n  \n", block_bytes)
    assert got.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_whitespace_dialect_blocks():
    rng = random.Random(11)
    rows = [[random_decimal(rng) for _ in range(3)] for _ in range(50)]
    data = "".join("  ".join(r) + " \n" for r in rows).encode()
    expect = np.array([[float(f) for f in r] for r in rows])
    for block_bytes in [1, 5, 17, 1 << 20]:
        head, got, _ = blocks_of(data, block_bytes)
        assert head.dialect.sep is None
        assert got.tobytes() == expect.tobytes()
