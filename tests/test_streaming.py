"""Chunked reading gives the in-memory result: every command and option, any block size.

Files are read in blocks (``delimited.BLOCK_BYTES``, ``npyfile.BLOCK_BYTES``) and, when big,
in two processes (``parallel.MIN_BYTES``); these tests shrink those limits so that small
files cross every boundary, and compare with the same data given inline (one block).
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli import delimited, npyfile, parallel
from bcecli import run as run_module
from bcecli.cli import app

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


def _json(args: list[str], *extra: str) -> dict:
    r = runner.invoke(app, [*args, "-f", "json", *extra])
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
    monkeypatch.setattr(npyfile, "BLOCK_BYTES", max(8, block))
    for name, files, inline in _cases(tmp_path):
        got = _json(files, "-r", reduction)
        want = _json(inline, "-r", reduction)
        assert got["elements"] == want["elements"], name
        assert _nan(got["row_means"]) == pytest.approx(_nan(want["row_means"]), rel=1e-13,
                                                      nan_ok=True), name
        if reduction == "none":
            assert got["loss"] == want["loss"]
        else:
            assert got["loss"] == pytest.approx(want["loss"], rel=1e-13), name
        assert got["count"] == want["count"] and got["denominator"] == want["denominator"]


@pytest.mark.parametrize("block", [7, 1 << 20])
def test_two_processes_give_the_one_process_result(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  block: int) -> None:
    monkeypatch.setattr(delimited, "BLOCK_BYTES", block)
    split_calls: list[object] = []
    real_plan = parallel.plan

    def spy(*args: str) -> object:
        out = real_plan(*args)
        split_calls.append(out)
        return out

    for name, files, inline in _cases(tmp_path):
        want = runner.invoke(app, [*inline, "-f", "plain"])
        monkeypatch.setattr(parallel, "MIN_BYTES", 0)
        monkeypatch.setattr(parallel, "plan", spy)
        got = runner.invoke(app, [*files, "-f", "plain"])
        table = runner.invoke(app, [*files, "--max-rows", "6"])
        monkeypatch.undo()
        monkeypatch.setattr(delimited, "BLOCK_BYTES", block)
        assert got.exit_code == 0 and table.exit_code == 0, (name, got.stderr)
        assert float(got.stdout) == pytest.approx(float(want.stdout), rel=1e-13), name
        assert "31 rows hidden" in table.stdout, name
        for row in (r"│\s+0 │", r"│\s+36 │"):
            assert re.search(row, table.stdout), (name, row)
        assert not re.search(r"│\s+18 │", table.stdout), name
    assert sum(p is not None for p in split_calls) >= 6, "the files were really split"


def test_split_plan_finds_the_matching_target_line(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    x = tmp_path / "x.csv"
    y = tmp_path / "y.csv"
    x.write_text("a,b\n" + "".join(f"{i}.5,{i}.25\n" for i in range(100)))
    y.write_text("".join(f"{i % 2},1\n" for i in range(100)))
    parts = parallel.plan(str(x), str(y))
    assert parts is not None
    xp, yp = parts
    rows = xp.split_line - xp.head.data_line
    assert 0 < rows < 100 and yp.split_line - yp.head.data_line == rows
    assert x.read_bytes()[xp.split:].startswith(f"{rows}.5,".encode())
    assert y.read_bytes()[:yp.split].count(b"\n") == rows


def test_split_refuses_files_with_blank_lines(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("".join(f"{i}\n" for i in range(50)))
    y.write_text("".join(f"{i % 2}\n" + ("\n" if i == 10 else "") for i in range(50)))
    assert parallel.plan(str(x), str(y)) is None


def test_error_in_the_second_half_is_reported_with_its_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("".join(f"{i / 100}\n" for i in range(100)))
    y.write_text("".join(("1.5" if i == 90 else "0") + "\n" for i in range(100)))
    r = runner.invoke(app, ["bce", "-i", str(x), "-t", str(y), "-f", "plain"])
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
    monkeypatch.setattr(run_module, "PROGRESS_BYTES", 0)
    err = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("0.5,1\n" * 1000)
    y.write_text("1,0\n" * 1000)
    out = io.StringIO()
    run_module.execute(run_module.Request("bce-logits", str(x), str(y), None, None, "mean",
                                          "plain", "float64", 4, None, 1e-5, 1e-8, False, 20),
                       stdout=out)
    want = (math.log1p(math.exp(-0.5)) + 1 + math.log1p(math.exp(-1))) / 2
    assert float(out.getvalue()) == pytest.approx(want, rel=1e-15)
    assert ("reading" in err.getvalue() and "x.csv" in err.getvalue()) == tty


@pytest.mark.parametrize("shape", [(37, 4), (2, 3, 5)])
def test_npy_split_between_two_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         shape: tuple[int, ...]) -> None:
    """A C-order .npy is cut at its middle row; each process seeks to its half."""
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(npyfile, "BLOCK_BYTES", 64)
    x = RNG.normal(scale=3, size=shape)
    y = (RNG.random(shape) < 0.5).astype(float)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    split = parallel.find_split(str(tmp_path / "x.npy"), str(tmp_path / "y.npy"))
    assert split is not None and split.rows_before == shape[0] // 2
    for reduction in ("mean", "sum"):
        files = runner.invoke(app, ["bce-logits", "-i", str(tmp_path / "x.npy"), "-t",
                                    str(tmp_path / "y.npy"), "-f", "plain", "-r", reduction])
        inline = runner.invoke(app, ["bce-logits", "-i", json.dumps(x.tolist()), "-t",
                                     json.dumps(y.tolist()), "-f", "plain", "-r", reduction])
        assert files.exit_code == 0, files.stderr
        assert float(files.stdout) == pytest.approx(float(inline.stdout), rel=1e-14)
    table = runner.invoke(app, ["bce-logits", "-i", str(tmp_path / "x.npy"), "-t",
                                str(tmp_path / "y.npy"), "--max-rows", "2"])
    assert (f"{shape[0] - 2} rows hidden" in table.stdout) == (shape[0] > 2)


def test_npy_split_is_not_tried_on_fortran_order_or_mismatched_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    np.save(tmp_path / "f.npy", np.asfortranarray(RNG.normal(size=(6, 3))))
    np.save(tmp_path / "c.npy", RNG.normal(size=(6, 3)))
    np.save(tmp_path / "short.npy", RNG.normal(size=(5, 3)))
    assert parallel.find_split(str(tmp_path / "f.npy"), str(tmp_path / "c.npy")) is None
    assert parallel.find_split(str(tmp_path / "c.npy"), str(tmp_path / "short.npy")) is None
    r = runner.invoke(app, ["bce-logits", "-i", str(tmp_path / "c.npy"), "-t",
                            str(tmp_path / "short.npy")])
    assert r.exit_code == 2 and "(6, 3)" in r.stderr and "(5, 3)" in r.stderr
