#!/usr/bin/env python3
"""Generate tests/golden/sweeps/float32.json: many float32 elements computed by PyTorch.

The golden cases (gen_golden.py) cover every option on small inputs; this sweep covers
many values of the float32 kernels themselves (sigmoid, log_sigmoid, log_softmax, BCELoss
terms, cross-entropy with indices and with probabilities), so that a change in how bcecli
rounds float32 shows as a drift in ulps.  Run it in the generation venv:

    scripts/setup_genvenv.sh && .genvenv/bin/python scripts/gen_sweep32.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "sweeps" / "float32.json"
SEED = 20_261_130


def f64(t: torch.Tensor | np.ndarray) -> list[object]:
    a = t.numpy() if isinstance(t, torch.Tensor) else t
    return np.asarray(a, dtype=np.float64).tolist()


def main() -> None:
    rng = np.random.default_rng(SEED)
    logits = np.concatenate([rng.uniform(-20, 20, 1500), rng.uniform(-110, 110, 300),
                             rng.normal(0, 3, 200)]).astype(np.float32)
    labels = (rng.random(logits.size) < 0.5).astype(np.float32)
    x, y = torch.tensor(logits), torch.tensor(labels)
    p = np.concatenate([rng.random(1500), 10.0 ** -rng.uniform(1, 8, 250),
                        1 - 10.0 ** -rng.uniform(1, 7, 250)]).astype(np.float32)
    soft = np.where(rng.random(2000) < 0.3, rng.random(2000),
                    rng.random(2000) < 0.5).astype(np.float32)
    ce_x = (rng.normal(0, 3, (600, 7)) * np.where(rng.random((600, 1)) < 0.2, 10, 1)
            ).astype(np.float32)
    ce_t = rng.integers(0, 7, 600)
    ce_w = rng.uniform(0.2, 3, 7).astype(np.float32)
    ce_p = rng.dirichlet(np.ones(7), 600).astype(np.float32)
    cx, ct, cw, cp = map(torch.tensor, (ce_x, ce_t, ce_w, ce_p))
    out = {
        "doc": f"float32 sweep from torch {torch.__version__} (scripts/gen_sweep32.py); "
               "elementwise results, reduction='none'",
        "logits": f64(logits), "labels": f64(labels),
        "bce_sigmoid": f64(F.binary_cross_entropy(torch.sigmoid(x), y, reduction="none")),
        "bce_logits": f64(F.binary_cross_entropy_with_logits(x, y, reduction="none")),
        "probabilities": f64(p), "soft_targets": f64(soft),
        "bce": f64(F.binary_cross_entropy(torch.tensor(p), torch.tensor(soft),
                                          reduction="none")),
        "ce_input": f64(ce_x), "ce_target": ce_t.tolist(), "ce_weight": f64(ce_w),
        "ce_probabilities": f64(ce_p),
        "ce": f64(F.cross_entropy(cx, ct, reduction="none")),
        "ce_weight_smoothing": f64(F.cross_entropy(cx, ct, weight=cw, label_smoothing=0.1,
                                                   reduction="none")),
        "ce_prob": f64(F.cross_entropy(cx, cp, reduction="none")),
        "ce_prob_weight_smoothing": f64(F.cross_entropy(cx, cp, weight=cw, label_smoothing=0.2,
                                                        reduction="none")),
        "nll_log_softmax": f64(F.nll_loss(F.log_softmax(cx, 1), ct, reduction="none")),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
