"""Chunked reading gives the in-memory result: every command and option, any block size,
any number of threads, every route (file, stdin, .npy, JSON, inline).

Files are read in blocks (``delimited.BLOCK_BYTES``, ``npy.BLOCK_BYTES``) parsed and computed
on a thread pool (``BCECLI_THREADS``); these tests shrink the blocks so that small files
cross every boundary, and compare with the same data given inline (one block): the numbers
must be identical to the last bit, since sums are taken in fixed chunks and added exactly.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli import app as app_module
from bcecli.cli import app
from bcecli.compute import exactsum
from bcecli.io import delimited, npy
from bcecli.losses import LOSSES

RNG = np.random.default_rng(2020)
N, C = 37, 4
runner = CliRunner()


def _csv(path: Path, a: np.ndarray, header: bool = False) -> str:
    a2 = a.reshape(len(a), -1) if a.ndim > 1 else a.reshape(-1, 1)
    lines = [",".join(f"c{j}" for j in range(a2.shape[1]))] if header else []
    lines += [",".join(repr(float(v)) for v in row) for row in a2]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _cases(tmp: Path) -> list[tuple[str, list[str], list[str]]]:
    """(name, file-based args, inline args) for the same data and options."""
    p = RNG.random((N, C))
    p[0, 0], p[1, 1] = 0.0, 1.0
    y = (RNG.random((N, C)) < 0.5).astype(float)
    y[3] = RNG.random(C)
    x = RNG.normal(scale=3, size=(N, C))
    w_full = RNG.random((N, C))
    w_col = RNG.random((N, 1))
    idx = RNG.integers(0, C, N).astype(float)
    idx[[2, 9, 30]] = -100
    probs = RNG.dirichlet(np.ones(C), N)
    files = {
        "p": _csv(tmp / "p.csv", p, header=True), "y": _csv(tmp / "y.csv", y),
        "x": _csv(tmp / "x.csv", x), "wf": _csv(tmp / "wf.csv", w_full),
        "wc": _csv(tmp / "wc.csv", w_col), "idx": _csv(tmp / "idx.csv", idx),
        "probs": _csv(tmp / "probs.csv", probs),
        "idx1": _csv(tmp / "idx1.csv", np.where(idx < 0, 1, idx)),
    }
    np.save(tmp / "x.npy", x)
    np.save(tmp / "y.npy", y)
    j = {k: json.dumps(v.tolist()) for k, v in
         {"p": p, "y": y, "x": x, "wf": w_full, "wc": w_col, "idx": idx.astype(int),
          "probs": probs, "idx1": np.where(idx < 0, 1, idx).astype(int)}.items()}
    cw = "[0.5, 2.0, 1.0, 3.0]"
    return [
        ("bce", ["bce", "-i", files["p"], "-t", files["y"]], ["bce", "-i", j["p"], "-t", j["y"]]),
        ("bce-weight-full", ["bce", "-i", files["p"], "-t", files["y"], "-w", files["wf"]],
         ["bce", "-i", j["p"], "-t", j["y"], "-w", j["wf"]]),
        ("bce-sigmoid-weight-row", ["bce", "--sigmoid", "-i", files["x"], "-t", files["y"],
                                    "-w", cw], ["bce", "--sigmoid", "-i", j["x"], "-t", j["y"],
                                                "-w", cw]),
        ("bce-logits-pos-weight", ["bce-logits", "-i", files["x"], "-t", files["y"],
                                   "--pos-weight", cw, "-w", files["wc"]],
         ["bce-logits", "-i", j["x"], "-t", j["y"], "--pos-weight", cw, "-w", j["wc"]]),
        ("bce-logits-npy", ["bce-logits", "-i", str(tmp / "x.npy"), "-t", str(tmp / "y.npy")],
         ["bce-logits", "-i", j["x"], "-t", j["y"]]),
        ("ce-indices", ["ce", "-i", files["x"], "-t", files["idx"], "-w", cw,
                        "--label-smoothing", "0.2"],
         ["ce", "-i", j["x"], "-t", j["idx"], "-w", cw, "--label-smoothing", "0.2"]),
        ("ce-ignore", ["ce", "-i", files["x"], "-t", files["idx1"], "--ignore-index", "1"],
         ["ce", "-i", j["x"], "-t", j["idx1"], "--ignore-index", "1"]),
        ("ce-probs", ["ce", "-i", files["x"], "-t", files["probs"], "-w", cw,
                      "--label-smoothing", "0.1"],
         ["ce", "-i", j["x"], "-t", j["probs"], "-w", cw, "--label-smoothing", "0.1"]),
    ]


def _json(args: list[str], *extra: str, threads: int = 1, input: bytes | None = None) -> dict:
    r = runner.invoke(app, [*args, "-f", "json", "--elements", *extra], input=input,
                      env={"BCECLI_THREADS": str(threads)})
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def _nan(values: list[float | None]) -> list[float]:
    """JSON writes NaN (a ce row whose targets are all ignored) as null."""
    return [float("nan") if v is None else v for v in values]


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_blocks_give_the_in_memory_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          block: int, reduction: str) -> None:
    monkeypatch.setattr(delimited, "BLOCK_BYTES", block)
    monkeypatch.setattr(npy, "BLOCK_BYTES", max(8, block))
    monkeypatch.setattr(exactsum, "CHUNK", 16)  # chunks that straddle the blocks
    for threads in (1, 3):
        for name, files, inline in _cases(tmp_path):
            got = _json(files, "-r", reduction, threads=threads)
            want = _json(inline, "-r", reduction)
            assert got["elements"] == want["elements"], name
            assert _nan(got["row_means"]) == pytest.approx(_nan(want["row_means"]), rel=0,
                                                          abs=0, nan_ok=True), name
            assert got["loss"] == want["loss"], name  # bit for bit: the sum is exact
            assert got["count"] == want["count"] and got["denominator"] == want["denominator"]


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_threads_give_the_one_thread_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            threads: int) -> None:
    """The whole JSON (loss, counts, warnings) of a many-thread run equals a one-thread run,
    and the table keeps the same first and last rows."""
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 7)
    for name, files, _ in _cases(tmp_path):
        one = _json(files, threads=1)
        assert _json(files, threads=threads) == one, name
        at = files.index("-i") + 1
        piped = [*files[:at], "-", *files[at + 1:]]
        stdin = _json(piped, threads=threads, input=Path(files[at]).read_bytes())
        assert stdin == one, name
        table = runner.invoke(app, [*files, "--max-rows", "6"],
                              env={"BCECLI_THREADS": str(threads)})
        assert table.exit_code == 0, (name, table.stderr)
        assert "31 rows hidden" in table.stdout, name
        for row in (r"│\s+0 │", r"│\s+36 │"):
            assert re.search(row, table.stdout), (name, row)
        assert not re.search(r"│\s+18 │", table.stdout), name


def test_every_route_prints_the_same_loss(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """-f plain is bit-identical for a CSV path (any threads), stdin, .npy, .npz, JSON and
    inline JSON, over more terms than one chunk holds."""
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(npy, "BLOCK_BYTES", 4096)
    rng = np.random.default_rng(5)
    x = rng.normal(scale=4, size=(exactsum.CHUNK // 3 + 77, 4))
    y = (rng.random(x.shape) < 0.5).astype(float)
    xc, yc = _csv(tmp_path / "x.csv", x), _csv(tmp_path / "y.csv", y)
    np.save(tmp_path / "x.npy", x)
    np.savez_compressed(tmp_path / "x.npz", logits=x)
    (tmp_path / "x.json").write_text(json.dumps(x.tolist()))
    routes = {
        "csv-1": (["-i", xc], 1, None), "csv-2": (["-i", xc], 2, None),
        "csv-7": (["-i", xc], 7, None),
        "stdin": (["-i", "-"], 2, (tmp_path / "x.csv").read_bytes()),
        "npy": (["-i", str(tmp_path / "x.npy")], 2, None),
        "npz": (["-i", str(tmp_path / "x.npz") + ":logits"], 2, None),
        "json": (["-i", str(tmp_path / "x.json")], 2, None),
        "inline": (["-i", json.dumps(x.tolist())], 1, None),
    }
    for reduction in ("mean", "sum"):
        printed = {}
        for route, (args, threads, data) in routes.items():
            r = runner.invoke(app, ["bce-logits", *args, "-t", yc, "-f", "plain", "-r",
                                    reduction], input=data,
                              env={"BCECLI_THREADS": str(threads)})
            assert r.exit_code == 0, (route, r.stderr)
            printed[route] = r.stdout
        assert len(set(printed.values())) == 1, printed


def test_ignored_first_half_warns_nothing(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The loss is finalised once: a block whose targets are all ignored says nothing."""
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 64)
    x = RNG.normal(size=(400, 3))
    t = np.where(np.arange(400) < 200, -100, RNG.integers(0, 3, 400))
    for threads in (1, 4):
        doc = _json(["ce", "-i", _csv(tmp_path / "x.csv", x), "-t",
                     _csv(tmp_path / "t.csv", t.astype(float))], threads=threads)
        assert doc["loss"] is not None and doc["denominator"] == 200.0
        assert "warnings" not in doc


def test_overflow_counts_every_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 64)
    x = np.full((300, 2), 1e308)
    y = np.zeros((300, 2))
    for threads in (1, 4):
        doc = _json(["bce-logits", "-i", _csv(tmp_path / "x.csv", x), "-t",
                     _csv(tmp_path / "y.csv", y), "-w", "10"], threads=threads)
        assert doc["warnings"] == ["600 elementwise terms overflow float64 to infinity, as in "
                                   "PyTorch"]


@pytest.mark.parametrize("threads", ["0", "-1", "x", "\u0661", "2.5"])
def test_bad_thread_count_is_a_usage_error(threads: str) -> None:
    r = runner.invoke(app, ["bce", "-i", "[0.5]", "-t", "[1]"],
                      env={"BCECLI_THREADS": threads})
    assert r.exit_code == 2 and "BCECLI_THREADS" in r.stderr and r.stdout == ""


@pytest.mark.parametrize("threads", [1, 4])
def test_error_far_down_is_reported_with_its_line(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  threads: int) -> None:
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 32)
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("".join(f"{i / 100}\n" for i in range(100)))
    y.write_text("".join(("1.5" if i in (90, 95) else "0") + "\n" for i in range(100)))
    r = runner.invoke(app, ["bce", "-i", str(x), "-t", str(y), "-f", "plain"],
                      env={"BCECLI_THREADS": str(threads)})
    assert r.exit_code == 2 and r.stdout == ""
    assert "y.csv, line 91, column 1" in r.stderr and "1.5" in r.stderr


def test_row_count_mismatch_names_both_shapes(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delimited, "BLOCK_BYTES", 16)
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("".join(f"{i},{i}\n" for i in range(40)))
    y.write_text("".join("0,1\n" for _ in range(43)))
    r = runner.invoke(app, ["bce-logits", "-i", str(x), "-t", str(y), "-r", "none", "-f", "csv"])
    assert r.exit_code == 2 and r.stdout == ""
    assert "(40, 2)" in r.stderr and "(43, 2)" in r.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         tty: bool) -> None:
    """Big inputs draw a bar on stderr when it is a terminal (the size limit is lowered here);
    stdout gets the loss either way."""
    monkeypatch.setattr(app_module, "PROGRESS_BYTES", 0)
    err = _Terminal() if tty else io.StringIO()
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("0.5,1\n" * 1000)
    y.write_text("1,0\n" * 1000)
    out = io.StringIO()
    env = app_module.Environment(None, out, err, {}, stderr_tty=tty)
    req = app_module.Request(LOSSES["bce-logits"], str(x), str(y), format="plain")
    assert app_module.execute(req, env) == 0
    want = (math.log1p(math.exp(-0.5)) + 1 + math.log1p(math.exp(-1))) / 2
    assert float(out.getvalue()) == pytest.approx(want, rel=1e-15)
    assert ("reading" in err.getvalue() and "x.csv" in err.getvalue()) == tty


def test_no_bar_while_streaming_to_the_same_terminal(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """--stream to a terminal: the output's lines show the progress; a bar on that terminal
    would be glued to them."""
    monkeypatch.setattr(app_module, "PROGRESS_BYTES", 0)
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("0.5,1\n" * 1000)
    y.write_text("1,0\n" * 1000)
    for stdout_tty, bar in ((True, False), (False, True)):
        err, out = _Terminal(), io.StringIO()
        env = app_module.Environment(None, out, err, {}, stdout_tty=stdout_tty,
                                     stderr_tty=True)
        req = app_module.Request(LOSSES["bce-logits"], str(x), str(y), format="csv",
                                 reduction="none", stream=True)
        assert app_module.execute(req, env) == 0
        assert out.getvalue().count("\n") == 1000
        assert ("reading" in err.getvalue()) == bar


@pytest.mark.parametrize("shape", [(37, 4), (2, 3, 5)])
def test_npy_blocks_and_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                shape: tuple[int, ...]) -> None:
    monkeypatch.setattr(npy, "BLOCK_BYTES", 64)
    x = RNG.normal(scale=3, size=shape)
    y = (RNG.random(shape) < 0.5).astype(float)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    for reduction in ("mean", "sum"):
        files = runner.invoke(app, ["bce-logits", "-i", str(tmp_path / "x.npy"), "-t",
                                    str(tmp_path / "y.npy"), "-f", "plain", "-r", reduction],
                              env={"BCECLI_THREADS": "3"})
        inline = runner.invoke(app, ["bce-logits", "-i", json.dumps(x.tolist()), "-t",
                                     json.dumps(y.tolist()), "-f", "plain", "-r", reduction])
        assert files.exit_code == 0, files.stderr
        assert files.stdout == inline.stdout
    table = runner.invoke(app, ["bce-logits", "-i", str(tmp_path / "x.npy"), "-t",
                                str(tmp_path / "y.npy"), "--max-rows", "2"])
    assert (f"{shape[0] - 2} rows hidden" in table.stdout) == (shape[0] > 2)


def test_npy_rows_that_do_not_match(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", RNG.normal(size=(6, 3)))
    np.save(tmp_path / "short.npy", RNG.normal(size=(5, 3)))
    r = runner.invoke(app, ["bce-logits", "-i", str(tmp_path / "c.npy"), "-t",
                            str(tmp_path / "short.npy")])
    assert r.exit_code == 2 and "(6, 3)" in r.stderr and "(5, 3)" in r.stderr


@pytest.mark.parametrize("fmt", ["%.6f", "%.3e", "%r"])
def test_long_lines_are_parsed_a_piece_at_a_time(monkeypatch: pytest.MonkeyPatch,
                                                 fmt: str) -> None:
    """A row of millions of numbers was parsed in one go: the fast tier's masks and index
    arrays (8 bytes a field, several of them) made 2.6 GB of two 64 MiB lines.  Pieces of
    a line now go through the numpy tiers, with the same values to the last bit."""
    from bcecli.io import textparse

    monkeypatch.setattr(textparse, "LONG_LINE", 64)
    seen: list[int] = []
    fast = textparse.fast_parse

    def watch(buf: bytes, sep: int, ncols: int) -> np.ndarray | None:
        seen.append(len(buf))
        return fast(buf, sep, ncols)

    monkeypatch.setattr(textparse, "fast_parse", watch)
    rows = RNG.normal(size=(3, 500)) * 10.0 ** RNG.integers(-3, 3, size=(3, 500))
    text = "".join(",".join(fmt % v if fmt != "%r" else repr(float(v)) for v in row) + "\n"
                   for row in rows)
    block = textparse.parse_lines(text.encode(), "x.csv", 1, textparse.Dialect(b","), 500)
    assert block.error is None
    want = np.array([[float(f) for f in line.split(",")] for line in text.splitlines()])
    assert np.array_equal(block.data, want)
    assert seen and max(seen) <= 64 + 30  # (a piece: up to the separator before 64 bytes)
    bad = text.replace(",", ",x", 1).encode()  # a bad field: said as before, with its column
    block = textparse.parse_lines(bad, "x.csv", 1, textparse.Dialect(b","), 500)
    assert block.data.shape == (0, 500)
    assert str(block.error).startswith("x.csv, line 1, column 2: 'x")


def test_a_long_first_line_is_not_split_into_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """The header check split the first line into a list of strings, twice: 2 GB of
    Python strings for a 64 MiB line of numbers (1.55 GB peak for two such rows)."""
    from bcecli.io.textparse import Dialect

    split = Dialect.split
    longest: list[int] = []

    def watch(self: Dialect, line: str) -> list[str]:
        longest.append(len(line))
        return split(self, line)

    monkeypatch.setattr(Dialect, "split", watch)
    line = ",".join(["0.5"] * 100_000).encode()
    head, at = delimited.read_head(line + b"\n0.5\n", "x.csv", None)
    assert (head.ncols, head.column_names, head.data_line, at) == (100_000, None, 1, 0)
    assert max(longest) <= 256
    head, at = delimited.read_head(b"a,b\n1,2\n", "x.csv", None)  # names: a header
    assert (head.ncols, head.column_names, head.data_line, at) == (2, ["a", "b"], 2, 4)


class _Endless:
    """A stdin that never ends (`yes 0.5`)."""

    def read(self, n: int = -1) -> bytes:
        n = 1 << 16 if n is None or n < 0 else n
        return (b"0.5\n" * (n // 4 + 1))[:n]

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)


def test_an_endless_input_that_cannot_match_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """`yes 0.5 | bcecli bce -i - -t '[0.5, 0.5]'` ran until killed: the rows past the
    target's are counted for the message, but not for ever."""
    import bcecli.compute.engine as engine

    monkeypatch.setattr(engine, "COUNT_BLOCKS", 3)
    out, err = io.StringIO(), io.StringIO()
    env = app_module.Environment(_Endless(), out, err, {})  # type: ignore[arg-type]
    req = app_module.Request(LOSSES["bce"], "-", "[0.5, 0.5]", format="plain")
    assert app_module.execute(req, env) == 2
    assert out.getvalue() == ""
    assert "goes on past" in err.getvalue() and "stopped counting" in err.getvalue()
