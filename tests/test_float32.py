"""float32 elements against PyTorch's kernels, in ulps (tests/golden/sweeps/float32.json).

bcecli computes float32 as PyTorch's CPU kernels do: float32 arithmetic, with exp, log and
log1p correctly rounded.  Where PyTorch sums over classes (probability targets, label
smoothing) its summation order differs from numpy's, which costs an ulp or two.  A change
in rounding (numpy's float32 exp, say) shows here as more elements off and larger drifts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bcecli

SWEEP = json.loads((Path(__file__).parent / "golden" / "sweeps" / "float32.json").read_text())


def ulps(a: np.ndarray, b: object) -> np.ndarray:
    x = np.asarray(a, dtype=np.float32).ravel()
    y = np.asarray(b, dtype=np.float64).astype(np.float32).ravel()
    assert x.shape == y.shape
    return np.abs(x.view(np.int32).astype(np.int64) - y.view(np.int32).astype(np.int64))


def _computed() -> dict[str, tuple[np.ndarray, float, int]]:
    """Each kernel: (bcecli's elements, the share that must be exact, the worst ulps)."""
    s = SWEEP
    x, y = np.array(s["logits"]), np.array(s["labels"])
    p, soft = np.array(s["probabilities"]), np.array(s["soft_targets"])
    cx, ct, cw = np.array(s["ce_input"]), np.array(s["ce_target"]), np.array(s["ce_weight"])
    cp = np.array(s["ce_probabilities"])
    f32 = {"dtype": "float32", "reduction": "none"}
    return {
        "bce_sigmoid": (bcecli.bce(x, y, sigmoid=True, **f32).terms, 0.93, 12),
        "bce_logits": (bcecli.bce_logits(x, y, **f32).terms, 0.96, 4),
        "bce": (bcecli.bce(p, soft, **f32).terms, 0.95, 2),
        "ce": (bcecli.ce(cx, ct, **f32).terms, 0.97, 3),
        "ce_weight_smoothing": (bcecli.ce(cx, ct, weight=cw, label_smoothing=0.1, **f32).terms,
                                0.87, 4),
        "ce_prob": (bcecli.ce(cx, cp, **f32).terms, 0.5, 3),
        "ce_prob_weight_smoothing": (bcecli.ce(cx, cp, weight=cw, label_smoothing=0.2,
                                               **f32).terms, 0.48, 3),
    }


COMPUTED = _computed()


@pytest.mark.parametrize("kernel", sorted(COMPUTED))
def test_float32_kernel_ulps(kernel: str) -> None:
    got, exact_share, worst = COMPUTED[kernel]
    d = ulps(got, SWEEP[kernel])
    assert (d == 0).mean() >= exact_share, (kernel, np.bincount(np.minimum(d, 9)))
    assert d.max() <= worst, (kernel, np.bincount(np.minimum(d, 9)))


def test_nll_of_torch_log_softmax_is_exact() -> None:
    """nll on log-probabilities is a pick and a negation: exact whatever the input."""
    s = SWEEP
    import bcecli.losses.numerics as num

    cx = np.array(s["ce_input"], dtype=np.float32)
    lsm = num.log_softmax(cx).log_probs.astype(np.float64)
    got = bcecli.nll(lsm, np.array(s["ce_target"]), dtype="float32", reduction="none").terms
    want = bcecli.ce(cx.astype(np.float64), np.array(s["ce_target"]), dtype="float32",
                     reduction="none").terms
    assert np.array_equal(got, want)
