"""Write ../shared/reference/tutorial-examples.json's examples as ready-to-run sample files.

Usage: python scripts/make_samples.py [path/to/tutorial-examples.json]
Writes samples/<example>/input.*, target.* and samples/README.md (commands and losses).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "tutorial-examples.json"


def _write(path: Path, data: object) -> str:
    rank = 0
    probe = data
    while isinstance(probe, list):
        rank, probe = rank + 1, probe[0] if probe else None
    if rank == 2:
        out = path.with_suffix(".csv")
        out.write_text("".join(",".join(repr(float(v)) if isinstance(v, float) else str(v)
                                         for v in row) + "\n" for row in data))  # type: ignore[union-attr]
    else:
        out = path.with_suffix(".json")
        out.write_text(json.dumps(data) + "\n")
    return out.name


def main() -> None:
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE
    examples = json.loads(reference.read_text())["examples"]
    lines = ["# Samples", "",
             "The examples of the tutorials bcecli was conceived from, with the loss bcecli",
             "prints, which is PyTorch 2.13's. Run from the repository root.", "",
             "| example | command | loss (float64) | loss (float32) |", "|---|---|---|---|"]
    for ex in examples:
        folder = ROOT / "samples" / ex["name"]
        folder.mkdir(parents=True, exist_ok=True)
        target = ex["target"]
        if ex["command"] == "ce" and isinstance(target, list) and target and \
                not isinstance(target[0], list):
            target = [[t] for t in target]  # one column of class indices
        x = _write(folder / "input", ex["input"])
        t = _write(folder / "target", target)
        flags = " --sigmoid" if ex["options"].get("sigmoid") else ""
        cmd = (f"bcecli {ex['command']}{flags} -i samples/{ex['name']}/{x} "
               f"-t samples/{ex['name']}/{t}")
        lines.append(f"| {ex['name']} | `{cmd}` | {ex['torch_float64']['loss']!r} | "
                     f"{ex['torch_float32']['loss']!r} |")
    (ROOT / "samples" / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
