"""Parquet and Arrow inputs (the extra bcecli[arrow]); skipped without pyarrow, except where
CI asks for them (BCECLI_REQUIRE_ARROW=1, after installing the extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bcecli.cli import app

if os.environ.get("BCECLI_REQUIRE_ARROW"):
    import pyarrow as pa
else:
    pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")

runner = CliRunner()
N = 250_000


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("arrow")
    rng = np.random.default_rng(5)
    p, y = rng.random(N), (rng.random(N) < 0.5).astype(np.int64)
    logits = rng.normal(size=(N, 3)).astype(np.float32)
    table = pa.table({"id": [f"r{i}" for i in range(N)], "label": y, "prob": p,
                      "logits": pa.FixedSizeListArray.from_arrays(pa.array(logits.ravel()), 3)})
    pq.write_table(table, tmp / "v.parquet", row_group_size=100_000)
    feather.write_feather(table, tmp / "v.feather")
    with pa.OSFile(str(tmp / "v.arrows"), "wb") as sink, \
            pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=70_000)
    np.save(tmp / "p.npy", p)
    np.save(tmp / "y.npy", y.astype(np.float64))
    return {"dir": tmp, "p": p, "y": y, "logits": logits}


@pytest.mark.parametrize("name", ["v.parquet", "v.feather", "v.arrows"])
def test_columns_of_an_arrow_file_equal_npy(data: dict[str, Any], name: str) -> None:
    path = data["dir"] / name
    r = run("bce", "-i", f"{path}:prob", "-t", f"{path}:label", "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    npy = run("bce", "-i", str(data["dir"] / "p.npy"), "-t", str(data["dir"] / "y.npy"),
              "-f", "json")
    assert out["loss"] == json.loads(npy.stdout)["loss"]
    assert out["input_shape"] == [N, 1]


def test_a_fixed_size_list_column_is_a_row_of_logits(data: dict[str, Any]) -> None:
    path = data["dir"] / "v.parquet"
    r = run("ce", "-i", f"{path}:logits", "-t", f"{path}:label", "-f", "json",
            "--dtype", "float64")
    assert r.exit_code == 0, r.stderr
    x, y = data["logits"].astype(np.float64), data["y"]
    lse = np.log(np.exp(x).sum(axis=1))
    want = np.mean(lse - x[np.arange(N), y])
    assert json.loads(r.stdout)["loss"] == pytest.approx(want, rel=1e-12)


def test_a_text_column_without_a_selector_is_refused(data: dict[str, Any]) -> None:
    path = data["dir"] / "v.parquet"
    r = run("bce", "-i", str(path), "-t", f"{path}:label")
    assert r.exit_code == 2 and "column 'id' holds string, not numbers" in r.stderr


def test_a_null_is_refused_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"p": pa.array([0.5, None, 0.25])}), path)
    r = run("bce", "-i", str(path), "-t", "[1, 0, 1]")
    assert r.exit_code == 2 and f"{path}, row 2, column 'p': a null" in r.stderr


def test_stdin_and_sniffing(data: dict[str, Any], tmp_path: Path) -> None:
    odd = tmp_path / "preds.bin"
    odd.write_bytes((data["dir"] / "v.parquet").read_bytes())
    a = run("bce", "-i", f"{odd}:prob", "-t", f"{odd}:label", "-f", "plain")
    assert a.exit_code == 0, a.stderr
    proc = subprocess.run([sys.executable, "-m", "bcecli", "bce", "-i", "-:prob", "-t",
                           f"{odd}:label", "-f", "plain"], input=odd.read_bytes(),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == a.stdout


def test_an_empty_table(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"p": pa.array([], type=pa.float64())}), path)
    r = run("bce", "-i", str(path), "-t", "[]", "-r", "sum", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == 0.0


def test_a_missing_column_lists_the_columns(data: dict[str, Any]) -> None:
    path = data["dir"] / "v.feather"
    r = run("bce", "-i", f"{path}:score", "-t", f"{path}:label")
    assert r.exit_code == 2
    assert "no column 'score'; its columns: id, label, prob, logits" in r.stderr


def test_a_null_name_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": ["a", None, "c"], "p": [0.1, 0.3, 0.6], "y": [0, 1, 0]}),
                   path)
    r = CliRunner().invoke(app, ["bce", "-i", f"{path}:p", "-t", f"{path}:y", "--id", "id"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f"bcecli: error: {path}, row 2, column 'id': a null (missing) name; "
                        f"bcecli neither drops nor invents values\n")


def test_column_names_are_escaped_where_shown(tmp_path: Path) -> None:
    path = tmp_path / "nc.parquet"
    pq.write_table(pa.table({"a\nb": [0.1, 0.2], "e\x1b[2Jx": [0.3, 0.4]}), path)
    r = CliRunner().invoke(app, ["bce", "-i", f"{path}", "-t", "[[0, 1], [1, 0]]",
                                 "--explain"])
    assert r.exit_code == 0 and "\x1b" not in r.stdout and "e\\x1b[2Jx" in r.stdout
    assert "a\\nb" in r.stdout
