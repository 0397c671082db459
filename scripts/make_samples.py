"""Write the tutorials' examples as ready-to-run sample files.

Usage: python scripts/make_samples.py [path/to/tutorial-examples.json]
Reads ../shared/reference/tutorial-examples.json and tests/data/derived-examples.json
(examples for losses the tutorials do not cover, from scripts/gen_derived_examples.py);
writes samples/<example>/input.*, target.* and samples/README.md (commands and losses).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "tutorial-examples.json"
DERIVED = ROOT / "tests" / "data" / "derived-examples.json"


def _write(path: Path, data: list[object]) -> str:
    """A matrix as CSV (values as the reference writes them), anything else as JSON."""
    rows = [r for r in data if isinstance(r, list)]
    if rows and len(rows) == len(data) and not any(isinstance(v, list) for r in rows for v in r):
        out = path.with_suffix(".csv")
        out.write_text("".join(",".join(repr(float(v)) if isinstance(v, float) else str(v)
                                         for v in row) + "\n" for row in rows))
    else:
        out = path.with_suffix(".json")
        out.write_text(json.dumps(data) + "\n")
    return out.name


def _plain(cmd: str, dtype: str) -> str:
    """What the sample's command prints with ``-f plain`` in ``dtype``."""
    args = [sys.executable, "-m", "bcecli", *cmd.split()[1:], "-f", "plain", "--dtype", dtype]
    return subprocess.run(args, cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def main() -> None:
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE
    examples = [*json.loads(reference.read_text())["examples"],
                *json.loads(DERIVED.read_text())["examples"]]
    lines = ["# Samples", "",
             "The examples of the tutorials bcecli was conceived from, with the loss bcecli",
             "prints (`-f plain`) beside PyTorch 2.13's. Run from the repository root.", "",
             "In float64 every loss is PyTorch's to the last digit. In float32 both sides",
             "round each term to float32, but PyTorch adds the terms in float32 in an order",
             "set by its vectorised kernels, while bcecli adds them in float64 and rounds",
             "once; the two can differ by one float32 step (about 6e-8 relative).", "",
             "| example | command | loss | PyTorch | `--dtype float32` | PyTorch float32 |",
             "|---|---|---|---|---|---|"]
    for ex in examples:
        folder = ROOT / "samples" / ex["name"]
        folder.mkdir(parents=True, exist_ok=True)
        target = ex["target"]
        if ex["command"] in ("ce", "nll") and isinstance(target, list) and target and \
                not isinstance(target[0], list):
            target = [[t] for t in target]  # one column of class indices
        x = _write(folder / "input", ex["input"])
        t = _write(folder / "target", target)
        flags = " --sigmoid" if ex["options"].get("sigmoid") else ""
        cmd = (f"bcecli {ex['command']}{flags} -i samples/{ex['name']}/{x} "
               f"-t samples/{ex['name']}/{t}")
        ours = [_plain(cmd, dtype) for dtype in ("float64", "float32")]
        torch32 = str(np.float32(ex["torch_float32"]["loss"]))
        lines.append(f"| {ex['name']} | `{cmd}` | {ours[0]} | {ex['torch_float64']['loss']!r} "
                     f"| {ours[1]} | {torch32} |")
    (ROOT / "samples" / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
