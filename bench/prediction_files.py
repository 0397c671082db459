#!/usr/bin/env python3
"""Prediction files (issue 11): one file holding several columns, against the same values in
files of their own, and Parquet against a minimal pyarrow script.

Usage: python bench/prediction_files.py [--rows N] [--repeat K] [--threads 1,2] [--bcecli CMD]
                                       [--no-parquet]

- CSV: a file of id (``s0000123``), label and prob (``%.6f``) columns read as
  ``-i f.csv:prob -t f.csv:label``, against the same text as ``-i prob.csv -t label.csv``
  (target: ≤ 1.2×), at each thread count (``BCECLI_THREADS``).
- Parquet (needs pyarrow): the benchmark's 1M×10 logits and labels as one Parquet file with
  100k-row groups, ``-i f.parquet:x0-x9 -t f.parquet:y0-y9``, against a minimal pyarrow +
  numpy script that streams the file by batches and computes the same loss (targets: ≤ 1.2×
  its time and its peak memory).

The cases compared are run in interleaved rounds (each round runs every case once, the
order alternating), so that a load from other processes falls on all of them alike.
Prints median wall times, peak RSS (ru_maxrss of the child, the largest of the rounds) and
the ratios, as markdown.
"""

from __future__ import annotations

import argparse
import os
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


def once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall time and peak RSS (MB) of one run, and its output."""
    proc = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    status, kib, wall = proc.stderr.strip().split("\n")[-1].split()
    if int(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed: {proc.stderr}")
    return float(wall), int(kib) / 1024, proc.stdout.strip()


def interleaved(cases: dict[str, tuple[list[str], dict[str, str] | None]], repeat: int
                ) -> dict[str, tuple[float, float, str]]:
    """Median wall time, peak RSS and last output of each case, over ``repeat`` rounds that
    run every case once (in turn, the order reversed every other round), after a warm-up."""
    walls: dict[str, list[float]] = {k: [] for k in cases}
    peaks: dict[str, list[float]] = {k: [] for k in cases}
    outs: dict[str, str] = {}
    names = list(cases)
    for k in names:  # warm-up: the page cache, bytecode
        once(*cases[k])
    for r in range(repeat):
        for k in names if r % 2 == 0 else names[::-1]:
            wall, peak, out = once(*cases[k])
            walls[k].append(wall)
            peaks[k].append(peak)
            outs[k] = out
    return {k: (statistics.median(walls[k]), max(peaks[k]), outs[k]) for k in names}


def write_csv(d: Path, rows: int, rng: np.random.Generator) -> None:
    """both.csv (id, label, prob), p.csv and y.csv: the same text, built as bytes by numpy
    (fixed widths: ``s0000123,1,0.123456``)."""
    p = np.rint(rng.random(rows) * 1e6).astype(np.int64)  # prob = p / 10^6, 6 decimals
    y = (rng.random(rows) < 0.5).astype(np.uint8)
    ids = np.arange(rows, dtype=np.int64)
    prob = np.empty((rows, 9), dtype=np.uint8)  # "d.dddddd\n"
    prob[:, 0] = 48 + p // 10**6
    prob[:, 1] = ord(".")
    for j in range(6):
        prob[:, 2 + j] = 48 + (p // 10 ** (5 - j)) % 10
    prob[:, 8] = 10
    both = np.empty((rows, 20), dtype=np.uint8)  # "s0000123,1,0.123456\n"
    both[:, 0] = ord("s")
    for j in range(7):
        both[:, 1 + j] = 48 + (ids // 10 ** (6 - j)) % 10
    both[:, 8] = both[:, 10] = ord(",")
    both[:, 9] = 48 + y
    both[:, 11:] = prob
    (d / "both.csv").write_bytes(b"id,label,prob\n" + both.tobytes())
    (d / "p.csv").write_bytes(prob.tobytes())
    (d / "y.csv").write_bytes(np.stack([48 + y, np.full(rows, 10, np.uint8)], 1).tobytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--no-parquet", action="store_true")
    ap.add_argument("--bcecli", default=str(Path(sys.executable).with_name("bcecli")))
    a = ap.parse_args()
    table = ["| case | median s | peak RSS MB | ratio | target |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rng = np.random.default_rng(1)
        write_csv(d, a.rows, rng)
        one = [a.bcecli, "bce", "-i", f"{d}/both.csv:prob", "-t", f"{d}/both.csv:label", "-f",
               "plain"]
        two = [a.bcecli, "bce", "-i", f"{d}/p.csv", "-t", f"{d}/y.csv", "-f", "plain"]
        cases = {}
        threads = [t.strip() for t in a.threads.split(",")]
        for t in threads:
            env = {"BCECLI_THREADS": t}
            cases[f"one {t}"], cases[f"two {t}"] = (one, env), (two, env)
        got = interleaved(cases, a.repeat)
        for t in threads:
            o, w = got[f"one {t}"], got[f"two {t}"]
            assert o[2] == w[2], (o[2], w[2])
            table.append(f"| {a.rows:,} rows, one CSV by columns, {t} thread{'s' * (t != '1')}"
                         f" | {o[0]:.3f} | {o[1]:.0f} | {o[0] / w[0]:.2f} | ≤ 1.2 |")
            table.append(f"| the same in two files, {t} thread{'s' * (t != '1')} | "
                         f"{w[0]:.3f} | {w[1]:.0f} | | |")
        try:
            if a.no_parquet:
                raise ImportError
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            table.append("| Parquet | skipped | | | |")
        else:
            x = rng.normal(size=(1_000_000, 10))
            t = (rng.random((1_000_000, 10)) < 0.5).astype(np.float64)
            arrays = pa.table({**{f"x{j}": x[:, j] for j in range(10)},
                               **{f"y{j}": t[:, j] for j in range(10)}})
            pq.write_table(arrays, d / "f.parquet", row_group_size=100_000)
            pair = interleaved({
                "ours": ([a.bcecli, "bce-logits", "-i", f"{d}/f.parquet:x0-x9", "-t",
                          f"{d}/f.parquet:y0-y9", "-f", "plain"], None),
                "base": ([sys.executable, "-c", BASELINE, f"{d}/f.parquet"], None)}, a.repeat)
            ours, base = pair["ours"], pair["base"]
            assert abs(float(ours[2]) - float(base[2])) <= 1e-12 * abs(float(base[2]))
            table.append(f"| 10M values, Parquet by columns | {ours[0]:.3f} | {ours[1]:.0f} | "
                         f"{ours[0] / base[0]:.2f} time, {ours[1] / base[1]:.2f} memory | "
                         f"≤ 1.2, ≤ 1.2 |")
            table.append(f"| pyarrow + numpy script | {base[0]:.3f} | {base[1]:.0f} | | |")
    print("\n".join(table))


if __name__ == "__main__":
    main()
