#!/usr/bin/env python3
"""Peak memory of bcecli over a matrix of input shapes, formats, losses and outputs.

Usage: python bench/memory.py [--values N] [--threads N ...] [--data-dir DIR] [--out FILE]

Generates inputs of about N values (default 8,000,000: 64 MB as float64) in several shapes
and formats, runs bcecli on each combination with each output format, and prints a
markdown table of peak RSS (MB of 10^6 bytes) and wall time, one table per thread count
(``--threads 2 8``: BCECLI_THREADS; default: bcecli's default).  Every run is spawned from a
small child process (Linux charges a child at least its parent's RSS at the spawn), so the
figures are bcecli's own.  README.md states the bound these figures show.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WRAP = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], "
        "stdout=subprocess.DEVNULL); _, s, u = os.wait4(p.pid, 0); "
        "print(os.waitstatus_to_exitcode(s), u.ru_maxrss, file=sys.stderr)")
OUTPUTS = {"plain": ["-f", "plain"], "table": ["-f", "table"],
           "csv": ["-r", "none", "-f", "csv"], "json": ["-f", "json"]}


def generate(folder: Path, values: int) -> dict[str, dict[str, str]]:
    """The inputs of each shape, by format: {shape: {"x.npy": path, ...}}."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    rows = values // 10
    shapes: dict[str, dict[str, str]] = {}

    def save(name: str, x: np.ndarray, t: np.ndarray, fmt: str = "%.6f") -> dict[str, str]:
        files = {}
        for kind, a, f in (("x", x, fmt), ("t", t, "%.8g")):
            np.save(folder / f"{name}-{kind}.npy", a)
            np.savez_compressed(folder / f"{name}-{kind}.npz", a=a)
            if a.ndim <= 2:
                np.savetxt(folder / f"{name}-{kind}.csv", a.reshape(len(a), -1),
                           delimiter=",", fmt=f)
                files[f"{kind}.csv"] = str(folder / f"{name}-{kind}.csv")
            files[f"{kind}.npy"] = str(folder / f"{name}-{kind}.npy")
            files[f"{kind}.npz"] = str(folder / f"{name}-{kind}.npz")
        return files

    shapes["matrix (N, 10)"] = save("m", rng.normal(size=(rows, 10)),
                                    (rng.random((rows, 10)) < 0.5).astype(float))
    shapes["vector (N,)"] = save("v", rng.normal(size=values),
                                 (rng.random(values) < 0.5).astype(float))
    shapes["ce labels (N, 10) + (N,)"] = save("c", rng.normal(size=(rows, 10)),
                                              rng.integers(0, 10, rows).astype(float), "%.6f")
    wide = max(values // 40, 1000)
    shapes["wide rows (40, N/40)"] = save("w", rng.normal(size=(40, wide)),
                                          rng.dirichlet(np.ones(wide), 40))
    shapes["K-dim (N/100, 10, 10)"] = save("k", rng.normal(size=(rows // 10, 10, 10)),
                                           rng.integers(0, 10, (rows // 10, 10)).astype(float))
    small = rng.normal(size=(min(rows, 100_000), 10))
    (folder / "j-x.json").write_text(json.dumps(small.tolist()))
    (folder / "j-t.json").write_text(json.dumps((small > 0).astype(int).tolist()))
    shapes["JSON (100k, 10)"] = {"x.json": str(folder / "j-x.json"),
                                 "t.json": str(folder / "j-t.json")}
    return shapes


def command(shape: str) -> list[str]:
    if shape.startswith(("ce", "K-dim")):
        return ["ce"]
    if shape.startswith("wide"):
        return ["ce"]  # probability targets
    return ["bce-logits"]


def measure(bcecli: list[str], args: list[str], threads: int | None = None
            ) -> tuple[int, float, float]:
    env = dict(os.environ)
    if threads is not None:
        env["BCECLI_THREADS"] = str(threads)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAP, *bcecli, *args], capture_output=True,
                          timeout=3600, env=env)
    wall = time.perf_counter() - start
    status, kib = proc.stderr.decode().strip().split("\n")[-1].split()
    return int(status), int(kib) * 1024 / 1e6, wall


def table(bcecli: list[str], shapes: dict[str, dict[str, str]], values: int,
          threads: int | None) -> list[str]:
    """The lines of one table: every shape, format and output on ``threads`` threads."""
    said = "default threads" if threads is None else f"BCECLI_THREADS={threads}"
    lines = [f"Peak RSS (MB) and wall time of `bcecli` on about {values:,} values, "
             f"{os.cpu_count()} CPUs, {said}; each input as CSV, .npy and .npz "
             f"(compressed), and a JSON one.", "",
             "| shape | format | loss | " + " | ".join(OUTPUTS) + " |",
             "|---|---|---|" + "---|" * len(OUTPUTS)]
    worst = 0.0
    for shape, files in shapes.items():
        for fmt in ("csv", "npy", "npz", "json"):
            if f"x.{fmt}" not in files:
                continue
            cells = []
            for name, extra in OUTPUTS.items():
                args = [*command(shape), "-i", files[f"x.{fmt}"], "-t", files[f"t.{fmt}"],
                        *extra]
                status, mb, wall = measure(bcecli, args, threads)
                worst = max(worst, mb)
                cells.append(f"{mb:.0f} ({wall:.1f} s)" if status == 0 else f"exit {status}")
                print(f"{threads or '-':>3} {shape:28} {fmt:5} {name:6} {cells[-1]}",
                      file=sys.stderr)
            lines.append(f"| {shape} | {fmt} | {command(shape)[0]} | " + " | ".join(cells)
                         + " |")
    return [*lines, "", f"Highest peak: {worst:.0f} MB.", ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=8_000_000)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data" / "memory")
    parser.add_argument("--threads", type=int, nargs="+", default=[None],
                        help="BCECLI_THREADS for each table (default: bcecli's own)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--bcecli", default=str(Path(sys.executable).parent / "bcecli"))
    opts = parser.parse_args()
    bcecli = opts.bcecli.split()
    shapes = generate(opts.data_dir, opts.values)
    lines: list[str] = []
    for threads in opts.threads:
        lines += table(bcecli, shapes, opts.values, threads)
    text = "\n".join(lines) + "\n"
    print(text)
    if opts.out:
        opts.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
