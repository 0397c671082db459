#!/usr/bin/env python3
"""bcecli under address-space limits: every run succeeds or says one clean line.

Usage: python bench/limits.py [--from MIB] [--to MIB] [--step MIB] [--threads N ...]

Writes a 300,000 x 10 CSV of logits (``%.17g``, about 60 MB, so that blocks take numpy's
slower parsing tier) and its 0/1 targets, then runs ``bcecli bce-logits -f plain`` on them
under ``ulimit -v`` (RLIMIT_AS) of each size in the range, with each thread count.  A run
is ``ok`` (exit 0, the right loss, nothing on stderr), ``clean`` (exit 2, nothing on
stdout, one ``bcecli: error: ...`` line) or ``BAD`` (anything else: a traceback, another
status, another message).  Near the edge a run may go either way from one try to the next
(threads are scheduled differently); only BAD is a defect.  Prints a markdown table and
exits 1 if any run was BAD.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def generate(folder: Path) -> tuple[Path, Path, str]:
    """The input, the target and the loss (computed here, as bcecli should print it)."""
    folder.mkdir(parents=True, exist_ok=True)
    x_path, t_path = folder / "x.csv", folder / "t.csv"
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300_000, 10))
    t = (rng.random((300_000, 10)) < 0.5).astype(int)
    if not x_path.exists() or not t_path.exists():
        np.savetxt(x_path, x, delimiter=",", fmt="%.17g")
        np.savetxt(t_path, t, delimiter=",", fmt="%d")
    args = [sys.executable, "-m", "bcecli", "bce-logits", "-i", str(x_path), "-t",
            str(t_path), "-f", "plain"]
    want = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    return x_path, t_path, want


def run(bcecli: list[str], x: Path, t: Path, threads: int, limit: int, want: str) -> str:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "BCECLI_THREADS": str(threads)}
    proc = subprocess.run([*bcecli, "bce-logits", "-i", str(x), "-t", str(t), "-f", "plain"],
                          capture_output=True, text=True, env=env, preexec_fn=cap,
                          timeout=600)
    err = proc.stderr
    if proc.returncode == 0 and proc.stdout.strip() == want and not err:
        return "ok"
    if proc.returncode == 2 and not proc.stdout and err.count("\n") == 1 \
            and err.startswith("bcecli: error: "):
        return "clean"
    return f"BAD (exit {proc.returncode}: {' | '.join(err.strip().splitlines()[-3:])[:200]})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="low", type=int, default=100, help="MiB (default 100)")
    parser.add_argument("--to", dest="high", type=int, default=400, help="MiB (default 400)")
    parser.add_argument("--step", type=int, default=20, help="MiB (default 20)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 8])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data" / "limits")
    parser.add_argument("--bcecli", default=str(Path(sys.executable).parent / "bcecli"))
    opts = parser.parse_args()
    x, t, want = generate(opts.data_dir)
    sizes = list(range(opts.low, opts.high + 1, opts.step))
    lines = [f"`bcecli bce-logits -f plain` on 300,000 x 10 values of CSV (`%.17g`, 60 MB) "
             f"under `ulimit -v`; loss {want}.", "",
             "| ulimit -v (MiB) | " + " | ".join(f"{n} thread{'s' * (n > 1)}"
                                                 for n in opts.threads) + " |",
             "|---|" + "---|" * len(opts.threads)]
    bad = 0
    for mib in sizes:
        cells = []
        for threads in opts.threads:
            verdict = run(opts.bcecli.split(), x, t, threads, mib << 20, want)
            bad += verdict.startswith("BAD")
            cells.append(verdict)
            print(f"{mib:5} MiB  {threads:2} threads  {verdict}", file=sys.stderr)
        lines.append(f"| {mib} | " + " | ".join(cells) + " |")
    lines += ["", f"{bad} BAD run{'s' * (bad != 1)}."]
    print("\n".join(lines))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
