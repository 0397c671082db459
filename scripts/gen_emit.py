#!/usr/bin/env python3
"""Run the snippets ``bcecli --emit LIB`` prints, in the generation venv, and record what
each printed: tests/golden/libraries/emit.json.  tests/test_emit.py checks that bcecli
still emits the same snippets and that each printed bcecli's own --like number.

    GENVENV=DIR bash scripts/setup_genvenv.sh all   # once
    .venv/bin/python scripts/gen_emit.py --python $GENVENV/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "libraries" / "emit.json"
S = "samples/tutorial-3x3-sigmoid-bce"
CASES: list[tuple[str, list[str]]] = [
    (lib, args) for args, libs in [
        (["bce", "-i", "[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]",
          "-t", "[[1, 0, 0], [0, 1, 0]]"], ["torch", "keras", "sklearn"]),
        (["bce", "-i", "[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]",
          "-t", "[[1, 0, 0], [0, 1, 0]]", "--sample-weight", "[1, 3]"], ["keras", "sklearn"]),
        (["bce", "--sigmoid", "-i", f"{S}/input.csv", "-t", f"{S}/target.csv"],
         ["torch", "keras", "sklearn", "optax"]),
        (["bce-logits", "-i", "[[2.0, -50.0], [0.3, 10000.0]]", "-t", "[[1, 0], [0, 1]]",
          "--label-smoothing", "0.1"], ["keras"]),
        (["bce-logits", "-i", "[[2.0, -50.0], [0.3, 10000.0]]", "-t", "[[1, 0], [0, 1]]",
          "-r", "sum", "--dtype", "float64"], ["torch", "keras", "optax"]),
        (["ce", "-i", "[[2.0, 0.5, -1.0], [0.1, 3.0, 0.2], [30.0, -30.0, 0.0]]",
          "-t", "[0, 1, 2]"], ["torch", "keras", "sklearn", "optax"]),
        (["ce", "-i", "[[2.0, 0.5, -1.0], [0.1, 3.0, 0.2]]", "-t", "[0, 1]",
          "--label-smoothing", "0.2"], ["torch", "keras", "optax"]),
        (["ce", "-i", "[[2.0, 0.5, -1.0], [0.1, 3.0, 0.2]]",
          "-t", "[[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]]", "-r", "none"], ["torch", "keras", "optax"]),
        (["ce", "-i", "[[[1.0, 2.0], [0.5, -1.0]], [[0.0, 3.0], [2.0, 2.0]]]",
          "-t", "[[0, 1], [1, 0]]"], ["torch", "keras", "optax"]),
        (["bce", "-i", "[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]",
          "-t", "[[1, 0, 0], [0, 1, 0]]", "--dtype", "float64"], ["keras"]),
        (["ce", "-i", "[[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]]", "-t", "[0, 2]",
          "--dtype", "float64"], ["keras", "optax"]),
        (["ce", "-i", "[[2.0, 0.5, -1.0], [0.0, 1.0, 3.0], [1.0, 2.0, 0.0]]",
          "-t", "[0, 1, 1]", "--ignore-index", "1", "--dtype", "float64"], ["keras"]),
    ] for lib in libs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--python", required=True, help="the generation venv's python")
    ap.add_argument("--bcecli", default=str(ROOT / ".venv" / "bin" / "bcecli"))
    a = ap.parse_args()
    records = []
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    for lib, args in CASES:
        snippet = subprocess.run([a.bcecli, *args, "--emit", lib], capture_output=True,
                                 text=True, check=True, cwd=ROOT).stdout
        ran = subprocess.run([a.python, "-"], input=snippet, capture_output=True, text=True,
                             env=env, cwd=ROOT)
        if ran.returncode != 0:
            sys.exit(f"{lib} {args}: the snippet failed:\n{snippet}\n{ran.stderr}")
        printed = ran.stdout.strip().splitlines()[-1]
        records.append({"library": lib, "args": args, "snippet": snippet,
                        "printed": json.loads(printed)})
        print(lib, " ".join(args), "->", printed, file=sys.stderr)
    OUT.write_text(json.dumps({"doc": __doc__.strip().splitlines()[0], "cases": records},
                              indent=1) + "\n")


if __name__ == "__main__":
    main()
