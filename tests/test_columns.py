"""FILE:COLUMNS: columns of one CSV/TSV picked by name, position or range, the others never
read as numbers."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli import io
from bcecli.cli import app
from bcecli.io import columns, delimited
from bcecli.io.textparse import Dialect

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def val(tmp_path: Path) -> Path:
    path = tmp_path / "val.csv"
    path.write_text("id,label,p0,p1,p2\nabc,1,0.9,0.2,0.1\ndéf,0,0.2,0.7,0.3\n"
                    "x y,1,0.6,0.5,0.5\n", encoding="utf-8")
    return path


def test_by_name(val: Path) -> None:
    r = run("bce", "-i", f"{val}:p0", "-t", f"{val}:label", "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["input_shape"] == [3, 1]
    assert out["loss"] == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.6)) / 3,
                                        rel=1e-15)


@pytest.mark.parametrize("selector", ["p0,p1,p2", "p0-p2", "3-5", "3,p1,5"])
def test_several_columns_by_names_positions_and_ranges(val: Path, selector: str) -> None:
    r = run("ce", "-i", f"{val}:{selector}", "-t", f"{val}:label", "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["input_shape"] == [3, 3]
    x = np.array([[0.9, 0.2, 0.1], [0.2, 0.7, 0.3], [0.6, 0.5, 0.5]])
    y = np.array([1, 0, 1])
    lse = np.log(np.exp(x).sum(axis=1))
    assert out["loss"] == pytest.approx(np.mean(lse - x[np.arange(3), y]), rel=1e-14)


def test_the_header_names_the_table_columns(val: Path) -> None:
    r = run("bce", "-i", f"{val}:p2,p0", "-t", f"{val}:label,label")
    assert r.exit_code == 0, r.stderr
    assert "ℓ p2" in r.stdout and "ℓ p0" in r.stdout


def test_a_missing_column_lists_the_columns(val: Path) -> None:
    r = run("bce", "-i", f"{val}:prob", "-t", f"{val}:label")
    assert r.exit_code == 2 and r.stdout == ""
    assert f"{val}: no column 'prob'; its columns: id, label, p0, p1, p2" in r.stderr


def test_errors_name_the_file_column(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("id,label,prob\na,1,0.9\nb,0,x\n")
    r = run("bce", "-i", f"{path}:prob", "-t", f"{path}:label")
    assert r.exit_code == 2 and f"{path}, line 3, column 3: 'x' is not a number" in r.stderr
    path.write_text("id,label,prob\na,1,0.9\nb,0,7\n")
    r = run("bce", "-i", f"{path}:prob", "-t", f"{path}:label")
    assert r.exit_code == 2 and f"{path}, line 3, column 3: input value 7" in r.stderr
    path.write_text("id,label,prob\na,1,0.9\nb,0\n")
    r = run("bce", "-i", f"{path}:prob", "-t", f"{path}:label")
    assert r.exit_code == 2 and f"{path}, line 3: 2 fields where the first row has 3" \
        in r.stderr


def test_a_path_with_a_colon_is_a_path(tmp_path: Path) -> None:
    path = tmp_path / "a:b.csv"
    path.write_text("0.5,0.25\n")
    r = run("bce", "-i", str(path), "-t", "[[1, 0]]", "-f", "plain")
    assert r.exit_code == 0, r.stderr


def test_tsv_and_whitespace_files(tmp_path: Path) -> None:
    tsv = tmp_path / "v.tsv"
    tsv.write_text("name\tlabel\tprob\nfirst one\t1\t0.9\nsecond\t0\t0.2\n")
    r = run("bce", "-i", f"{tsv}:prob", "-t", f"{tsv}:2", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-15)
    txt = tmp_path / "v.txt"
    txt.write_text("id label prob\na 1 0.9\n\nb 0 0.2\n")
    r = run("bce", "-i", f"{txt}:prob", "-t", f"{txt}:label", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-15)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_a_big_file_by_columns_equals_two_files(tmp_path: Path, threads: str) -> None:
    """200k rows over many blocks, CRLF line ends: the same loss as the columns in files of
    their own."""
    rng = np.random.default_rng(7)
    n = 200_000
    p = rng.random(n)
    y = (rng.random(n) < 0.5).astype(int)
    ids = [f"row-{i}" for i in range(n)]
    lines = [f"{i},{a},{b!r},{c!r}" for i, a, b, c in zip(ids, y, p.tolist(),
                                                         rng.random(n).tolist(), strict=True)]
    both = tmp_path / "both.csv"
    both.write_bytes(("id,label,prob,other\r\n" + "\r\n".join(lines) + "\r\n").encode())
    (tmp_path / "p.csv").write_text("\n".join(map(repr, p.tolist())) + "\n")
    (tmp_path / "y.csv").write_text("\n".join(map(str, y)) + "\n")
    env = {"BCECLI_THREADS": threads}
    one = run("bce", "-i", f"{both}:prob", "-t", f"{both}:label", "-f", "plain", env=env)
    two = run("bce", "-i", str(tmp_path / "p.csv"), "-t", str(tmp_path / "y.csv"), "-f",
              "plain", env=env)
    assert one.exit_code == 0, one.stderr
    assert one.stdout == two.stdout
    want = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    assert float(one.stdout) == pytest.approx(want, rel=1e-12)


def test_a_ragged_line_far_down_is_said_at_its_line(tmp_path: Path) -> None:
    rows = [f"r{i},1,0.5" for i in range(100_000)]
    rows[76_543] = "r,1"
    path = tmp_path / "v.csv"
    path.write_text("id,label,prob\n" + "\n".join(rows) + "\n")
    r = run("bce", "-i", f"{path}:prob", "-t", f"{path}:label")
    assert r.exit_code == 2 and f"{path}, line 76545: 2 fields" in r.stderr


def test_a_json_object_of_arrays(tmp_path: Path) -> None:
    path = tmp_path / "preds.json"
    path.write_text(json.dumps({"id": ["a", "b"], "logits": [[1, 2], [0.5, -1]],
                                "labels": [1, 0]}))
    r = run("ce", "-i", f"{path}:logits", "-t", f"{path}:labels", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    x = np.array([[1, 2], [0.5, -1]])
    lse = np.log(np.exp(x).sum(axis=1))
    assert float(r.stdout) == pytest.approx(np.mean(lse - x[[0, 1], [1, 0]]), rel=1e-15)
    r = run("ce", "-i", f"{path}:nope", "-t", f"{path}:labels")
    assert r.exit_code == 2 and "has no key 'nope'; its keys: id, logits, labels" in r.stderr
    (tmp_path / "a.json").write_text("[1, 2]")
    r = run("bce-logits", "-i", f"{tmp_path / 'a.json'}:x", "-t", "[1, 0]")
    assert r.exit_code == 2 and "selects an array of a JSON object" in r.stderr


# ------------------------------------------------ files as pandas writes them (scripts/
# make_pandas_fixtures.py): to_csv with and without its index, with unnamed columns

PANDAS = Path(__file__).parent / "data" / "pandas"
LABELS = [0, 2, 1, 1]


def _ce(x: np.ndarray, y: list[int]) -> float:
    lse = np.log(np.exp(x).sum(axis=1))
    return float(np.mean(lse - x[np.arange(len(y)), y]))


@pytest.mark.parametrize(("name", "warning"), [
    ("unnamed.csv", "line 1, '0,1,2', read as column names"),
    ("unnamed_index.csv", "the first column, headed '', is pandas' index: skipped"),
    ("named_index.csv", "the first column, headed '', is pandas' index: skipped"),
])
def test_pandas_files_read_as_their_frame(name: str, warning: str) -> None:
    probs = np.load(PANDAS / "probs.npy")
    r = run("ce", "-i", str(PANDAS / name), "-t", str(PANDAS / "labels.csv"), "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["input_shape"] == [4, 3]
    assert out["loss"] == pytest.approx(_ce(probs, LABELS), rel=1e-14)
    assert warning in r.stderr


def test_no_header_reads_pandas_names_as_data() -> None:
    r = run("ce", "-i", str(PANDAS / "unnamed.csv"), "-t", "[0, 2, 1, 1, 0]", "--no-header",
            "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["input_shape"] == [5, 3] and r.stderr == ""


def test_a_pandas_prediction_file_by_columns() -> None:
    probs = np.load(PANDAS / "probs.npy")
    path = PANDAS / "predictions.csv"
    r = run("ce", "-i", f"{path}:p0-p2", "-t", f"{path}:label", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == pytest.approx(_ce(probs, LABELS), rel=1e-14)


def test_a_first_row_of_0_1_above_whole_numbers_is_data_and_said() -> None:
    """pandas' header 0,1 above one-hot rows looks like a row of labels: read as data, with
    a warning naming --header; --header reads it as names."""
    onehot = str(PANDAS / "onehot.csv")
    p = "[[0.2, 0.8], [0.6, 0.4], [0.1, 0.9], [0.5, 0.5]]"
    r = run("bce", "-i", p, "-t", onehot, "-f", "plain")
    assert r.exit_code == 0, r.stderr
    assert "read as data; if it is pandas' names for unnamed columns, give --header" in r.stderr
    r = run("bce", "-i", "[[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]", "-t", onehot, "--header",
            "-f", "plain")
    assert r.exit_code == 0, r.stderr
    want = -np.mean(np.log([0.8, 0.8, 0.6, 0.6, 0.9, 0.9]))
    assert float(r.stdout) == pytest.approx(want, rel=1e-15) and r.stderr == ""


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path) -> None:
    """The core has no pyarrow: a Parquet file (by extension or by its magic bytes) is one
    line naming the extra to install (pyarrow's import is blocked here, installed or not)."""
    import subprocess
    import sys

    for name in ("v.parquet", "v.bin"):
        path = tmp_path / name
        path.write_bytes(b"PAR1" + bytes(64) + b"PAR1")
        block = ("import sys\nclass Block:\n    def find_spec(self, name, path, target=None):\n"
                 "        if name.split('.')[0] == 'pyarrow':\n"
                 "            raise ImportError(name)\nsys.meta_path.insert(0, Block())\n"
                 "from bcecli.__main__ import main\nmain()\n")
        proc = subprocess.run([sys.executable, "-c", block, "bce", "-i", str(path), "-t",
                               "[1]"], capture_output=True, timeout=120)
        assert proc.returncode == 2 and proc.stdout == b""
        assert proc.stderr == (f"bcecli: error: {path}: reading Parquet needs pyarrow, which "
                               f"bcecli installs as an extra: pip install 'bcecli[arrow]'\n"
                               ).encode()


# ------------------------------------------------ selected columns read in place, and one
# reading of a file shared by -i FILE:COLUMNS and -t FILE:COLUMNS


def _random_field(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
    k = rng.randint(0, len(digits))
    text = rng.choice([digits, digits[:k] + "." + digits[k:], "." + digits, digits + "."])
    field = rng.choice(["", "", "-"]) + text
    if rng.random() < 0.05:  # what the in-place reader leaves to the parser's tiers
        field = rng.choice(["1e5", "+1", " 1", "1 ", "nan", "1..2", "--1", "1-", "-", ".",
                            "1.2.3", "0x1", "1,5"])
    return field


@pytest.mark.parametrize("seed", range(4))
def test_read_in_place_is_float_to_the_bit(seed: int) -> None:
    """Where the in-place reader takes a block, every number is float()'s, sign of zero
    included; where it declines, the field is no plain decimal of at most 15 digits."""
    rng = random.Random(seed)
    taken = 0
    for _ in range(400):
        ncols = rng.randint(1, 5)
        rows = [[_random_field(rng) for _ in range(ncols)] for _ in range(rng.randint(1, 30))]
        keep = rng.sample(range(ncols), rng.randint(1, ncols))
        buf = "".join(",".join(r) + "\n" for r in rows).encode()
        got = columns.parse_selected(buf, Dialect(b","), ncols, keep)
        plain = all(_plain(r[k]) for r in rows for k in keep)
        if not plain or any("," in f for r in rows for f in r):  # (a ragged line)
            assert got is None
            continue
        assert got is not None, (rows, keep)
        taken += 1
        want = np.array([[float(r[k]) for k in keep] for r in rows])
        assert got.tobytes() == want.tobytes(), (rows, keep)
    assert taken > 50  # (the in-place reader really is exercised)


def _plain(field: str) -> bool:
    body = field.removeprefix("-")
    digits = body.replace(".", "", 1)
    return digits.isdigit() and 1 <= len(digits) <= 15


def test_read_in_place_leaves_the_id_column_alone() -> None:
    buf = "s0000001,1,0.25\r\nx y z é,0,-7.5\r\n".encode()
    got = columns.parse_selected(buf, Dialect(b","), 3, [2, 1])
    assert got is not None and got.tolist() == [[0.25, 1.0], [-7.5, 0.0]]
    assert columns.parse_selected(b"a,1,0.5\nb,1\n", Dialect(b","), 3, [2]) is None  # ragged
    assert columns.parse_selected(b"a,1,0.5\n\nb,1,2\n", Dialect(b","), 3, [2]) is None
    assert columns.parse_selected(b"a 1 0.5\n", Dialect(None), 3, [2]) is None


def _file(tmp_path: Path, n: int, broken: dict[int, str] | None = None) -> Path:
    rng = np.random.default_rng(3)
    lines = [f"s{i:07d},{int(b)},{p:.6f}" for i, (b, p) in
             enumerate(zip(rng.random(n) < 0.5, rng.random(n), strict=True))]
    for at, line in (broken or {}).items():
        lines[at] = line
    path = tmp_path / "f.csv"
    path.write_text("id,label,prob\n" + "\n".join(lines) + "\n")
    return path


def _alone(monkeypatch: pytest.MonkeyPatch, path: str, *args: str, threads: str = "2"
           ) -> tuple[Any, Any]:
    """A run with the file read once for both, and with each read on its own."""
    shared = run(*args, env={"BCECLI_THREADS": threads})
    monkeypatch.setattr(io, "_twins", lambda *a: None)
    own = run(*args, env={"BCECLI_THREADS": threads})
    monkeypatch.undo()
    return shared, own


@pytest.mark.parametrize("threads", ["1", "2", "3"])
@pytest.mark.parametrize(("broken", "status"), [
    ({}, 0), ({30_000: "s,1,2e-1"}, 0), ({10: "s,1,0.5\r"}, 0), ({60_000: ""}, 0),
    ({40_000: "s,x,0.5"}, 2), ({40_000: "s,1,x", 50_000: "s,x,0.5"}, 2),
    ({50_000: "s,1,0.5", 20_000: "s,1,1.5"}, 2), ({45_000: "s,1"}, 2),
    ({45_000: "s,1,0.5,9"}, 2)])
def test_one_reading_for_both_gives_what_two_give(tmp_path: Path, threads: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   broken: dict[int, str], status: int) -> None:
    """Output, message and status are those of the file read on its own for each, errors
    at their lines and in their order, over many blocks."""
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 1 << 16)
    path = _file(tmp_path, 80_000, broken)
    for args in (("bce", "-i", f"{path}:prob", "-t", f"{path}:label", "-f", "plain"),
                 ("bce", "-i", f"{path}:prob", "-t", f"{path}:label", "--grad", "-f", "csv"),
                 ("bce", "-i", f"{path}:3,2", "-t", f"{path}:label,label", "-r", "none",
                  "-f", "csv")):
        shared, own = _alone(monkeypatch, str(path), *args, threads=threads)
        monkeypatch.setattr(delimited, "BLOCK_BYTES", 1 << 16)
        assert (shared.exit_code, shared.stdout, shared.stderr) == \
            (own.exit_code, own.stdout, own.stderr)
        assert shared.exit_code == status, shared.stderr


def test_a_side_fallen_behind_reads_on_its_own(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A shape message counts the input to its end before the target: the target, once it
    lags by more than TWIN_QUEUE blocks, reads the file itself (no pile of blocks)."""
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 1 << 16)
    monkeypatch.setattr(delimited, "TWIN_QUEUE", 2)
    path = _file(tmp_path, 60_000)
    parted = []
    part = delimited._Twins._part

    def watch(self: Any, side: int) -> None:
        parted.append(side)
        part(self, side)

    monkeypatch.setattr(delimited._Twins, "_part", watch)
    args = ("bce", "-i", f"{path}:label,prob", "-t", f"{path}:prob")
    shared, own = _alone(monkeypatch, str(path), *args)
    assert parted == [1]
    assert shared.exit_code == own.exit_code == 2
    assert shared.stderr == own.stderr
    assert "input is (60000, 2) but target is (60000, 1)" in shared.stderr
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2))
    got = {"input": [], "target": []}
    with monkeypatch.context() as m:
        m.setattr(delimited, "TWIN_QUEUE", 2)
        x_src, t_src = io.open_pair(f"{path}:label,prob", f"{path}:prob", None)
        with x_src, t_src:
            got["input"] = [b.data for b in x_src.blocks()]  # all of it first
            got["target"] = [b.data for b in t_src.blocks()]
    assert np.array_equal(np.concatenate(got["input"]), x)
    assert np.array_equal(np.concatenate(got["target"])[:, 0], x[:, 1])


def test_columns_of_one_csv_on_stdin_for_input_and_target(tmp_path: Path) -> None:
    """`predict | bcecli bce -i -:prob -t -:label`: stdin is read once, for both."""
    import subprocess

    rng = np.random.default_rng(5)
    p, y = rng.uniform(0.01, 0.99, 3000), (rng.random(3000) < 0.5).astype(int)
    text = "id,label,prob\n" + "".join(f"s{i},{y[i]},{float(p[i])!r}\n" for i in range(3000))
    path = tmp_path / "v.csv"
    path.write_text(text)
    bcecli = [sys.executable, "-m", "bcecli"]
    for extra in (["-f", "plain"], ["--grad", "-f", "csv"]):
        piped = subprocess.run([*bcecli, "bce", "-i", "-:prob", "-t", "-:label", *extra],
                               input=text.encode(), capture_output=True, timeout=120)
        filed = subprocess.run([*bcecli, "bce", "-i", f"{path}:prob", "-t", f"{path}:label",
                                *extra], capture_output=True, timeout=120)
        assert piped.returncode == 0 and piped.stderr == b"", piped.stderr
        assert piped.stdout == filed.stdout
    terms = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    plain = subprocess.run([*bcecli, "bce", "-i", "-:prob", "-t", "-:label", "-f", "plain"],
                           input=text.encode(), capture_output=True, timeout=120)
    assert float(plain.stdout) == pytest.approx(terms.mean(), rel=1e-15)
    np.save(tmp_path / "p.npy", p)
    refused = subprocess.run([*bcecli, "bce", "-i", "-:a", "-t", "-:b"],
                             input=(tmp_path / "p.npy").read_bytes(), capture_output=True,
                             timeout=120)
    assert refused.returncode == 2 and refused.stdout == b""
    assert refused.stderr == (b"bcecli: error: --input and --target both select columns of "
                              b"stdin, which holds .npy data: that works for CSV or TSV text; "
                              b"give the file\n")


def test_nothing_after_the_colon_is_refused(tmp_path: Path) -> None:
    """`FILE:` (a shell variable left empty) read every column but the first, exit 0."""
    path = tmp_path / "s.csv"
    path.write_text("0.1,0.2,0.3,0.4\n")
    r = CliRunner().invoke(app, ["bce", "-i", f"{path}:", "-t", "[[0, 0, 0]]"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"bcecli: error: {path}: nothing after ':' selects a column; give "
                        f"FILE:COLUMNS (header names or 1-based positions)\n")


def test_stdin_pair_with_other_libraries_and_quoted_headers(tmp_path: Path) -> None:
    import subprocess

    text = '"prob","label"\n0.1,1\n0.7,0\n0.4,1\n'
    path = tmp_path / "q.csv"
    path.write_text(text)
    bcecli = [sys.executable, "-m", "bcecli", "bce"]
    for extra in (["-f", "plain"], ["--like", "keras", "-f", "plain"],
                  ["--compare", "-f", "plain"]):
        piped = subprocess.run([*bcecli, "-i", "-:prob", "-t", "-:label", *extra],
                               input=text.encode(), capture_output=True, timeout=120)
        filed = subprocess.run([*bcecli, "-i", f"{path}:prob", "-t", f"{path}:label", *extra],
                               capture_output=True, timeout=120)
        assert piped.returncode == 0 and piped.stdout == filed.stdout, piped.stderr
