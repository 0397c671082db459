"""Property-based tests: whatever arrives, bcecli computes the right number or exits 2.

Valid CSV and JSON are mutated (bytes inserted, deleted, replaced; lines duplicated or
swapped; the text truncated) and fed to the CLI as files and on stdin, with random bytes
besides.  Every run must end in exit 0 with a number or exit 2 with one ``bcecli: error:``
line and nothing on stdout; never another status, never a traceback.

For inputs made of plain ASCII text, a small reference reader written here (:func:`oracle`)
decides independently whether the input is valid and what it holds; bcecli must then
agree: exit 0 with the value computed here with numpy, or exit 2.

``tests/fuzz_campaign.py`` runs the same checks on many more inputs.
"""

from __future__ import annotations

import json
import math
import random
import re
import warnings
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bcecli.cli import app

BOM = b"\xef\xbb\xbf"
NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\Z",
                    re.IGNORECASE | re.ASCII)
CLEAN = re.compile(rb"[\t\n\r\x20-\x7e]*\Z")
INTERESTING = (b"0123456789.,-+eE \t\r\n#\"'[]{}:;nNaAiIfFtTyYx_\x00\xff\xef\xbb\xbf\x93\x0c"
               b"\x1c\xc2\xa0")
SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck),
            "derandomize": True}


class Invalid(Exception):
    """The reference reader's verdict: bcecli must exit 2."""


# --------------------------------------------------------------------------- reference reader


def _is_name(field: str) -> bool:
    return not NUMBER.match(field) and any(c.isalpha() or c == "_" for c in field)


def oracle_delimited(data: bytes, sep: str | None | bool) -> np.ndarray:
    """CSV/TSV/whitespace text as bcecli documents it; ``sep=True`` sniffs the separator.

    Blank means spaces and tabs only: a stray carriage return (not ending a line), a vertical
    tab or a form feed is neither a separator nor space around a number.
    """
    data = data.removeprefix(BOM)
    lines = [raw[:-1] if raw.endswith("\r") else raw for raw in data.decode("ascii").split("\n")]
    first = next((i for i, line in enumerate(lines) if line.strip(" \t")
                  and not line.lstrip(" \t").startswith("#")), None)  # (leading comments)
    if first is None:
        raise Invalid("no data")

    def blanks(line: str) -> list[str]:
        return re.split(r"[ \t]+", line.strip(" \t"))

    if sep is True:
        line = lines[first]
        sep = "\t" if "\t" in line else "," if "," in line else None if len(blanks(line)) > 1 \
            else ","

    def split(line: str) -> list[str]:
        return blanks(line) if sep is None else line.split(sep)

    head = lines[first]
    names = [f.strip(" \t") for f in split(head)]
    ncols = len(names)
    header = bool(names) and all(f and not NUMBER.match(f) for f in names) and \
        any(_is_name(f) for f in names)  # (README: no field is a number, one is a name)
    start = first + 1 if header else first
    rows = []
    for line in lines[start:]:
        if not line.strip(" \t"):
            continue
        if line.lstrip(" \t").startswith("#"):
            raise Invalid("comment")
        fields = [f.strip(" \t") for f in split(line)]
        if len(fields) != ncols:
            raise Invalid("ragged")
        if not all(NUMBER.match(f) for f in fields):
            raise Invalid("not a number")
        rows.append([float(f) for f in fields])
    if not rows:
        raise Invalid("no rows")
    return np.array(rows, dtype=np.float64)


def oracle_json(data: bytes) -> np.ndarray:
    data = data.removeprefix(BOM)
    if not data.strip():
        raise Invalid("empty")
    steps = np.cumsum([1 if c == 0x5B else -1 if c == 0x5D else 0 for c in data])
    if steps.size and steps.max() > 32:
        raise Invalid("too deep")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise Invalid("invalid JSON") from None

    def shape(node: object) -> tuple[int, ...]:
        if isinstance(node, bool) or not isinstance(node, int | float | list):
            raise Invalid("not a number")
        if isinstance(node, int) and abs(node) > 1e308:
            raise Invalid("too large")
        if not isinstance(node, list):
            return ()
        shapes = {shape(child) for child in node}
        if len(shapes) > 1:
            raise Invalid("ragged")
        return (len(node), *(shapes.pop() if shapes else ()))

    shape(obj)
    return np.array(obj, dtype=np.float64)


def oracle(data: bytes, kind: str | None) -> np.ndarray:
    """What bcecli must read from ``data`` (kind: 'csv', 'tsv', 'json' or None to sniff)."""
    if kind is None:
        kind = "json" if data.lstrip(BOM + b" \t\r\n")[:1] == b"[" else None
    if kind == "json":
        array = oracle_json(data)
    else:
        array = oracle_delimited(data, {"csv": ",", "tsv": "\t"}.get(kind or "", True))
    if not np.isfinite(array).all():
        raise Invalid("not finite")
    return array


# --------------------------------------------------------------------------- the losses


def bce_logits_mean(x: np.ndarray, y: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))))


def ce_mean(x: np.ndarray, t: np.ndarray, ignore: int = -100) -> float:
    """Class indices (N,) or probabilities (N, C); Invalid where bcecli must refuse."""
    m = x.max(axis=1, keepdims=True)
    logp = x - (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))
    if t.shape == x.shape:
        return float(np.mean(-(t * logp).sum(axis=1)))
    if (t != np.floor(t)).any():
        raise Invalid("not whole")
    if (((t < 0) | (t >= x.shape[1])) & (t != ignore)).any():
        raise Invalid("out of range")
    keep = t != ignore
    if not keep.any():
        return math.nan
    idx = t[keep].astype(int)
    return float(np.mean(-logp[np.flatnonzero(keep), idx]))


# --------------------------------------------------------------------------- running


RUNNER = CliRunner()


@dataclass
class Outcome:
    status: str  # "ok", "rejected" or "other"
    value: float | None
    detail: str


def run_cli(args: list[str], stdin: bytes | None = None) -> Outcome:
    """Run in-process and check the invariants that hold for every input.

    With ``--format plain`` (and no ``--reduction none``) stdout must be one number.
    """
    plain = "plain" in args and "none" not in args
    with warnings.catch_warnings(record=True) as caught:  # those a real run would print
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", RuntimeWarning)
        warnings.simplefilter("always", UserWarning)
        result = RUNNER.invoke(app, args, input=stdin)
    out, err = result.stdout, result.stderr
    if caught:
        return Outcome("other", None, f"Python warning: {caught[0].message!s} "
                                      f"({caught[0].filename}:{caught[0].lineno})")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return Outcome("other", None, f"exception {result.exception!r}")
    if "Traceback" in out + err:
        return Outcome("other", None, "traceback:\n" + err)
    if result.exit_code == 2:
        if out != "" or not err.startswith("bcecli: error: ") or err.count("\n") != 1:
            return Outcome("other", None, f"bad rejection: out={out!r} err={err!r}")
        return Outcome("rejected", None, err)
    if result.exit_code == 0:
        if any(not line.startswith("bcecli: warning: ") for line in err.splitlines()):
            return Outcome("other", None, f"stderr on success: {err!r}")
        if not plain:
            if not out:
                return Outcome("other", None, "nothing on stdout")
            if "--format" in args and args[args.index("--format") + 1] == "json":
                try:
                    json.loads(out)
                except ValueError:
                    return Outcome("other", None, f"invalid JSON on stdout: {out!r}")
            return Outcome("ok", None, err)
        try:
            return Outcome("ok", float(out), err)
        except ValueError:
            return Outcome("other", None, f"not a number on stdout: {out!r}")
    return Outcome("other", None, f"exit {result.exit_code}: out={out!r} err={err!r}")


def same(a: float, b: float, tol: float = 0.0) -> bool:
    """Equal to 1e-12 relative, or within ``tol`` (rounding of terms as big as the inputs)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=max(tol, 1e-300))


def tolerance(x: np.ndarray) -> float:
    """PyTorch's formulas cancel terms of the size of |x| (e.g. x = -24.7, y = 0 gives
    -24.7 + 24.7 + log1p(e^-24.7)); the formulas here do not, so allow a few ulps of |x|."""
    with np.errstate(over="ignore"):
        return 8 * np.finfo(np.float64).eps * float(np.mean(np.abs(x)) + 1) if x.size else 0.0


def check(outcome: Outcome, expect: float | None | type[Invalid], what: str,
          tol: float = 0.0) -> str | None:
    """None when all is well, else what went wrong.

    ``expect``: a number (must be computed), Invalid (must be rejected), or None (unknown:
    only the invariants are checked).
    """
    if outcome.status == "other":
        return f"{what}: {outcome.detail}"
    if expect is Invalid and outcome.status != "rejected":
        return f"{what}: accepted ({outcome.value}) an input the reference rejects"
    if isinstance(expect, float):
        if outcome.status != "ok":
            return f"{what}: rejected a valid input: {outcome.detail.strip()}"
        if outcome.value is None or not same(outcome.value, expect, tol):
            return f"{what}: {outcome.value} but the reference computes {expect}"
    return None


# --------------------------------------------------------------------------- generating


def base_matrix(rng: random.Random, rows: int, cols: int) -> np.ndarray:
    return np.array([[round(rng.uniform(-4, 4), rng.randint(0, 6)) for _ in range(cols)]
                     for _ in range(rows)])


def to_csv(x: np.ndarray, rng: random.Random, sep: str = ",") -> bytes:
    header = sep.join(f"c{i}" for i in range(x.shape[1])) + "\n" if rng.random() < 0.2 else ""
    fmt = rng.choice(["{!r}", "{:.6f}", "{:.17g}", "{:e}"])
    eol = rng.choice(["\n", "\n", "\r\n"])
    body = eol.join(sep.join(fmt.format(float(v)) for v in row) for row in x)
    return (header + body + (eol if rng.random() < 0.8 else "")).encode()


def to_json(x: np.ndarray, rng: random.Random) -> bytes:
    return json.dumps(x.tolist(), indent=rng.choice([None, 1])).encode()


CHUNKS = [b"nan", b"inf", b"1e999", b"-", b"..", b"# c\n", b'"', b"\n\n", b",,", b"[", b"]",
          b"null", b"1e-3", b"\r", b"\t", b" ", BOM, b"99999999999999999999"]
"""Whole pieces inserted by :func:`mutate` (``fuzz_campaign.py --overflow`` adds 1e308)."""


def mutate(data: bytes, rng: random.Random, count: int | None = None) -> bytes:
    """A few random edits: insert, delete or replace bytes; duplicate or swap lines; cut."""
    buf = bytearray(data)
    for _ in range(count if count is not None else rng.randint(1, 3)):
        op = rng.choice(["insert", "insert", "delete", "replace", "replace", "dup", "swap",
                         "truncate", "chunk"])
        pos = rng.randint(0, len(buf))
        if op == "insert":
            buf[pos:pos] = bytes([rng.choice(INTERESTING)])
        elif op == "delete" and buf:
            del buf[min(pos, len(buf) - 1)]
        elif op == "replace" and buf:
            buf[min(pos, len(buf) - 1)] = rng.choice(INTERESTING)
        elif op in ("dup", "swap"):
            lines = bytes(buf).split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if op == "dup":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            buf = bytearray(b"\n".join(lines))
        elif op == "truncate":
            del buf[pos:]
        elif op == "chunk":
            buf[pos:pos] = rng.choice(CHUNKS)
    return bytes(buf)


@dataclass
class Case:
    args: list[str]
    stdin: bytes | None
    expect: float | None | type[Invalid]
    what: str
    tol: float = 0.0


def expected_bce(data: bytes, kind: str | None, y: np.ndarray
                 ) -> tuple[float | None | type[Invalid], float]:
    if not CLEAN.match(data):
        return None, 0.0
    try:
        x = oracle(data, kind)
    except Invalid:
        return Invalid, 0.0
    if x.shape != y.shape:
        return Invalid, 0.0
    return bce_logits_mean(x, y), tolerance(x)


def bce_case(rng: random.Random, tmp: str, data: bytes | None = None) -> Case:
    """bce-logits on a mutated (or given) input, as a file of some kind or on stdin."""
    rows, cols = rng.randint(1, 4), rng.randint(1, 4)
    x = base_matrix(rng, rows, cols)
    y = (np.array([[rng.random() < 0.5 for _ in range(cols)] for _ in range(rows)])
         .astype(np.float64))
    target = f"{tmp}/y.csv"
    with open(target, "w") as fh:
        fh.write("\n".join(",".join(str(int(v)) for v in row) for row in y) + "\n")
    how = rng.choice(["csv", "csv", "json", "txt", "tsv", "stdin"])
    if data is None:
        base = to_json(x, rng) if how == "json" or (how == "stdin" and rng.random() < 0.4) \
            else to_csv(x, rng, "\t" if how == "tsv" else rng.choice([",", ",", " "])
                        if how in ("txt", "stdin") else ",")
        data = mutate(base, rng) if rng.random() < 0.9 else base
    if how == "stdin":
        args = ["bce-logits", "-i", "-", "-t", target, "-f", "plain"]
        expect, tol = expected_bce(data, None, y)
        return Case(args, data, expect, f"stdin {data!r}", tol)
    path = f"{tmp}/x.{how}"
    with open(path, "wb") as fh:
        fh.write(data)
    kind = {"csv": "csv", "tsv": "tsv", "json": "json", "txt": None}[how]
    expect, tol = (Invalid, 0.0) if not data else expected_bce(data, kind, y)
    args = ["bce-logits", "-i", path, "-t", target, "-f", "plain"]
    return Case(args, None, expect, f"{how} file {data!r}", tol)


def ce_case(rng: random.Random, tmp: str) -> Case:
    """ce with a mutated target: a column of class indices, a row, or probabilities."""
    n, c = 3, 4
    x = base_matrix(rng, n, c)
    xpath = f"{tmp}/logits.csv"
    with open(xpath, "w") as fh:
        fh.write("\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n")
    form = rng.choice(["column", "row", "probabilities"])
    classes = [rng.randrange(c) if rng.random() < 0.9 else -100 for _ in range(n)]
    if form == "column":
        text = "".join(f"{k}\n" for k in classes)
    elif form == "row":
        text = ",".join(map(str, classes)) + "\n"
    else:
        p = np.array([[rng.random() for _ in range(c)] for _ in range(n)])
        p = p / p.sum(axis=1, keepdims=True)
        text = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in p)
    data = mutate(text.encode(), rng) if rng.random() < 0.9 else text.encode()
    tpath = f"{tmp}/classes.csv"
    with open(tpath, "wb") as fh:
        fh.write(data)
    args = ["ce", "-i", xpath, "-t", tpath, "-f", "plain"]
    expect: float | None | type[Invalid] = None
    if not data:
        expect = Invalid
    elif CLEAN.match(data):
        try:
            t = oracle(data, "csv")
            if t.shape == x.shape:
                expect = ce_mean(x, t)
            elif t.shape in ((n, 1), (1, n)):
                expect = ce_mean(x, t.reshape(-1))
            else:
                expect = Invalid
        except Invalid:
            expect = Invalid
    return Case(args, None, expect, f"ce target {data!r}", tolerance(x))


def random_bytes_case(rng: random.Random, tmp: str) -> Case:
    data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if rng.random() < 0.5:
        data = bytes(rng.choice(INTERESTING) for _ in range(rng.randint(0, 64)))
    return bce_case(rng, tmp, data)


OUTPUTS = [["--format", "table"], ["--format", "json"], ["--format", "csv"],
           ["--format", "json", "--reduction", "none"], ["--format", "csv", "--reduction", "none"],
           ["--format", "table", "--reduction", "sum", "--explain"], ["--dtype", "float32"]]


def vary_output(case: Case, rng: random.Random) -> Case:
    """Sometimes another output (table, JSON, CSV, --explain, float32): only the verdict and
    the invariants are checked then, not the number."""
    if rng.random() < 0.7 or case.args[-2:] != ["-f", "plain"]:
        return case
    extra = rng.choice(OUTPUTS)
    args = case.args[:-2] + extra
    if "--dtype" in extra:
        args += ["-f", "json"]
    expect = Invalid if case.expect is Invalid else None
    return Case(args, case.stdin, expect, f"{case.what} {' '.join(extra)}")


def check_case(case: Case) -> str | None:
    return check(run_cli(case.args, case.stdin), case.expect, case.what, case.tol)


# --------------------------------------------------------------------------- properties


@settings(max_examples=400, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_inputs(tmp_path_factory, seed):
    tmp = str(tmp_path_factory.mktemp("fuzz"))
    rng = random.Random(seed)
    problem = check_case(vary_output(bce_case(rng, tmp), rng))
    assert problem is None, problem


@settings(max_examples=200, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_ce_targets(tmp_path_factory, seed):
    tmp = str(tmp_path_factory.mktemp("fuzz"))
    rng = random.Random(seed)
    problem = check_case(vary_output(ce_case(rng, tmp), rng))
    assert problem is None, problem


@settings(max_examples=150, **SETTINGS)
@given(data=st.binary(max_size=200), ext=st.sampled_from(["csv", "tsv", "json", "npy", "txt",
                                                          "", "dat"]))
def test_random_bytes_as_file(tmp_path_factory, data, ext):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / (f"x.{ext}" if ext else "x")
    path.write_bytes(data)
    outcome = run_cli(["bce-logits", "-i", str(path), "-t", "[[1]]", "-f", "plain"])
    assert outcome.status != "other", outcome.detail


@settings(max_examples=150, **SETTINGS)
@given(data=st.binary(max_size=200))
def test_random_bytes_on_stdin(data):
    outcome = run_cli(["bce-logits", "-i", "[[0.5]]", "-t", "-", "-f", "plain"], data)
    assert outcome.status != "other", outcome.detail


@settings(max_examples=150, **SETTINGS)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789.,-+eE[] \n\t\"nullaNIfity{}:")),
                    max_size=60))
def test_inline_arguments(text):
    """Whatever is typed after -i: inline JSON, a number, or a path that does not exist."""
    if not text.strip() or text.strip() == "-" or text.startswith("-"):
        return
    outcome = run_cli(["bce-logits", "-i", text, "-t", "[1, 0]", "-f", "plain"])
    assert outcome.status != "other", outcome.detail
    try:
        expect = oracle_json(text.encode()) if text.strip().startswith("[") else None
    except Invalid:
        expect = None
        assert outcome.status == "rejected", (text, outcome)
    if expect is not None and expect.shape == (2,) and np.isfinite(expect).all():
        assert outcome.status == "ok", (text, outcome.detail)
        assert same(outcome.value, bce_logits_mean(expect, np.array([1.0, 0.0])),
                    tolerance(expect))


@settings(max_examples=60, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 400))
def test_truncated_npy(tmp_path_factory, seed, cut):
    import io

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 4)).astype(rng.choice([np.float64, np.float32, np.int16]))
    if seed % 2:
        x = np.asfortranarray(x)
    buf = io.BytesIO()
    np.save(buf, x)
    data = buf.getvalue()
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "x.npy"
    path.write_bytes(data[:cut] if cut < len(data) else data + b"\0" * (cut - len(data)))
    y = (rng.random((3, 4)) < 0.5).astype(float)
    outcome = run_cli(["bce-logits", "-i", str(path), "-t", json.dumps(y.tolist()),
                       "-f", "plain"])
    if cut == len(data):
        assert outcome.status == "ok"
        assert same(outcome.value, bce_logits_mean(x.astype(np.float64), y),
                    tolerance(x.astype(np.float64)))
    else:
        assert outcome.status == "rejected", outcome.detail


def test_reference_reader_agrees_on_clean_inputs(tmp_path):
    """The reference reader itself: valid inputs read back exactly."""
    rng = random.Random(0)
    for _ in range(50):
        x = base_matrix(rng, rng.randint(1, 4), rng.randint(1, 4))
        assert np.array_equal(oracle(to_csv(x, rng), "csv"), x)
        assert np.array_equal(oracle(to_json(x, rng), "json"), x)


def option_case(rng: random.Random, tmp: str) -> Case:
    """Valid data under random options: weights of random shapes, every output, --explain."""
    command = rng.choice(["bce", "bce-logits", "ce"])
    n, c = rng.randint(1, 5), rng.randint(1, 4)
    x = base_matrix(rng, n, c)
    if command == "bce":
        x = np.clip(np.abs(x) / 4, 0, 1)
    if command == "ce" and rng.random() < 0.6:
        y = np.array([rng.randrange(c) if rng.random() < 0.8 else -100 for _ in range(n)],
                     dtype=float)
    else:
        y = np.array([[rng.random() < 0.5 for _ in range(c)] for _ in range(n)], dtype=float)
    forms = {"json": lambda a: json.dumps(a.tolist()).encode(),
             "csv": lambda a: to_csv(a.reshape(len(a), -1) if a.ndim else a.reshape(1, 1), rng)}
    paths = []
    for name, a in (("x", x), ("y", y)):
        form = rng.choice(list(forms))
        path = f"{tmp}/{name}.{form}"
        with open(path, "wb") as fh:
            fh.write(forms[form](a))
        paths.append(path)
    args = [command, "-i", paths[0], "-t", paths[1]]
    if rng.random() < 0.5:
        shape = rng.choice([(c,), (1, c), (n, c), (n, 1), (c + 1,), (), (n,)])
        w = np.array([rng.uniform(0, 2) for _ in range(math.prod(shape))]).reshape(shape)
        args += ["-w", json.dumps(w.tolist())]
    if command == "bce-logits" and rng.random() < 0.4:
        args += ["--pos-weight", json.dumps([rng.uniform(0, 3) for _ in range(
            rng.choice([c, 1, c + 1]))])]
    if command == "bce" and rng.random() < 0.3:
        args.append("--sigmoid")
    if command == "ce" and rng.random() < 0.4:
        args += ["--label-smoothing", str(rng.choice([0, 0.1, 0.5, 1]))]
    if command == "ce" and rng.random() < 0.2:
        args += ["--ignore-index", str(rng.choice([-100, 0, 1]))]
    args += rng.choice([["-f", "plain"], ["-f", "table"], ["-f", "json"], ["-f", "csv"],
                        ["--explain"], ["-f", "table", "--max-rows", "2"]])
    args += rng.choice([[], ["-r", "sum"], ["-r", "none"], ["--dtype", "float32"],
                        ["--expect", "0.5", "--rtol", "1"]])
    return Case(args, None, None, " ".join(args))


@settings(max_examples=250, **SETTINGS)
@given(seed=st.integers(0, 2**32 - 1))
def test_option_combinations(tmp_path_factory, seed):
    tmp = str(tmp_path_factory.mktemp("fuzz"))
    case = option_case(random.Random(seed), tmp)
    result_args = case.args
    if "--expect" in result_args:  # exit 1 is --expect's own answer
        result = RUNNER.invoke(app, result_args)
        assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
        assert "Traceback" not in result.stderr and (
            result.exception is None or isinstance(result.exception, SystemExit))
        return
    problem = check_case(case)
    assert problem is None, problem
