#!/usr/bin/env python3
"""Generate tests/data/derived-examples.json: examples derived from the tutorials' ones,
for losses the tutorials do not cover, with PyTorch's results.

- nll-3x5-log-probs: ``NLLLoss`` on ``log_softmax`` of the ce-3x5 example's logits: the
  seeds' point that CrossEntropyLoss is LogSoftmax followed by NLLLoss.

Run in the generation venv (scripts/setup_genvenv.sh), then ``python scripts/make_samples.py``:

    .genvenv/bin/python scripts/gen_derived_examples.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "tutorial-examples.json"
OUT = ROOT / "tests" / "data" / "derived-examples.json"


def main() -> None:
    examples = {e["name"]: e for e in json.loads(REFERENCE.read_text())["examples"]}
    ce = examples["ce-3x5-indices"]
    logits = torch.tensor(ce["input"], dtype=torch.float64)
    log_probs = F.log_softmax(logits, dim=1)
    target = torch.tensor(ce["target"])
    results = {}
    for dtype, name in ((torch.float64, "torch_float64"), (torch.float32, "torch_float32")):
        x = log_probs.to(dtype)
        results[name] = {"loss": F.nll_loss(x, target).item(),
                         "elements": F.nll_loss(x, target, reduction="none").tolist()}
    nll = {"name": "nll-3x5-log-probs", "source": "derived from ce-3x5-indices",
           "command": "nll", "options": {}, "input": log_probs.tolist(),
           "target": ce["target"], **results,
           "note": "log_softmax of the ce-3x5-indices logits (float64): NLLLoss of it is "
                   "that example's CrossEntropyLoss."}
    OUT.write_text(json.dumps({"generated_with": f"torch {torch.__version__}",
                               "examples": [nll]}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
