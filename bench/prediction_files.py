#!/usr/bin/env python3
"""Prediction files (issue 11): one file holding several columns, against the same values in
files of their own, and Parquet against a minimal pyarrow script.

Usage: python bench/prediction_files.py [--rows N] [--repeat K] [--bcecli CMD]

- CSV: a file of id, label, prob columns read as ``-i f.csv:prob -t f.csv:label``, against
  ``-i prob.csv -t label.csv`` (target: ≤ 1.2×).
- Parquet (needs pyarrow): the benchmark's 1M×10 logits and labels as one Parquet file with
  100k-row groups, ``-i f.parquet:x0-x9 -t f.parquet:y0-y9``, against a minimal pyarrow +
  numpy script that streams the file by batches and computes the same loss (targets: ≤ 1.2×
  its time and its peak memory).

Prints median wall times, peak RSS (ru_maxrss of the child) and the ratios, as markdown.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BASELINE = """
import sys, numpy as np, pyarrow.parquet as pq
pf = pq.ParquetFile(sys.argv[1])
xs = [f"x{j}" for j in range(10)]; ys = [f"y{j}" for j in range(10)]
total, n = 0.0, 0
for b in pf.iter_batches(batch_size=65536, columns=xs + ys):
    x = np.column_stack([b.column(c).to_numpy() for c in xs])
    y = np.column_stack([b.column(c).to_numpy() for c in ys])
    total += float((np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).sum())
    n += x.size
print(total / n)
"""


WRAP = ("import os, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE); out = p.stdout.read(); "
        "_, s, u = os.wait4(p.pid, 0); sys.stdout.write(out.decode()); "
        "print(os.waitstatus_to_exitcode(s), u.ru_maxrss, time.perf_counter() - t, "
        "file=sys.stderr)")
"""Runs a command from a small process: Linux charges a child at least its parent's RSS at
the spawn, and this script's (holding the data it wrote) is large."""


def run(cmd: list[str], repeat: int) -> tuple[float, float, str]:
    """Median wall time and peak RSS (MB) of ``repeat`` runs, and the last output."""
    walls, peaks, out = [], [], ""
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True,
                              text=True)
        status, kib, wall = proc.stderr.strip().split("\n")[-1].split()
        if int(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed: {proc.stderr}")
        walls.append(float(wall))
        peaks.append(int(kib) / 1024)
        out = proc.stdout.strip()
    return statistics.median(walls), max(peaks), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bcecli", default=str(Path(sys.executable).with_name("bcecli")))
    a = ap.parse_args()
    rows = ["| case | median s | peak RSS MB | ratio | target |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rng = np.random.default_rng(1)
        p, y = rng.random(a.rows), (rng.random(a.rows) < 0.5).astype(int)
        with open(d / "both.csv", "w") as f:
            f.write("id,label,prob\n")
            f.writelines(f"row-{i},{b},{q:.6f}\n"
                         for i, (b, q) in enumerate(zip(y, p, strict=True)))
        (d / "p.csv").write_text("".join(f"{q:.6f}\n" for q in p))
        (d / "y.csv").write_text("".join(f"{b}\n" for b in y))
        one = run([a.bcecli, "bce", "-i", f"{d}/both.csv:prob", "-t", f"{d}/both.csv:label",
                   "-f", "plain"], a.repeat)
        two = run([a.bcecli, "bce", "-i", f"{d}/p.csv", "-t", f"{d}/y.csv", "-f", "plain"],
                  a.repeat)
        assert one[2] == two[2], (one[2], two[2])
        rows.append(f"| {a.rows:,} rows, one CSV by columns | {one[0]:.3f} | {one[1]:.0f} | "
                    f"{one[0] / two[0]:.2f} | ≤ 1.2 |")
        rows.append(f"| the same in two files | {two[0]:.3f} | {two[1]:.0f} | | |")
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            rows.append("| Parquet | skipped: pyarrow not installed | | | |")
        else:
            x = rng.normal(size=(1_000_000, 10))
            t = (rng.random((1_000_000, 10)) < 0.5).astype(np.float64)
            table = pa.table({**{f"x{j}": x[:, j] for j in range(10)},
                              **{f"y{j}": t[:, j] for j in range(10)}})
            pq.write_table(table, d / "f.parquet", row_group_size=100_000)
            ours = run([a.bcecli, "bce-logits", "-i", f"{d}/f.parquet:x0-x9", "-t",
                        f"{d}/f.parquet:y0-y9", "-f", "plain"], a.repeat)
            base = run([sys.executable, "-c", BASELINE, f"{d}/f.parquet"], a.repeat)
            assert abs(float(ours[2]) - float(base[2])) <= 1e-12 * abs(float(base[2]))
            rows.append(f"| 10M values, Parquet by columns | {ours[0]:.3f} | {ours[1]:.0f} | "
                        f"{ours[0] / base[0]:.2f} time, {ours[1] / base[1]:.2f} memory | "
                        f"≤ 1.2, ≤ 1.2 |")
            rows.append(f"| pyarrow + numpy script | {base[0]:.3f} | {base[1]:.0f} | | |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
