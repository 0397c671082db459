"""Baseline for target 1: the same script as baseline_loadtxt.py, with PyTorch doing the loss.

Loads both CSV files with ``numpy.loadtxt`` and prints
``torch.nn.functional.binary_cross_entropy_with_logits(x, y)`` (mean reduction, float64).
Most of its wall time is ``import torch``; bcecli should need a quarter of it or less.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import torch
import typer


def main(
    input: Annotated[str, typer.Option("--input", "-i")],
    target: Annotated[str, typer.Option("--target", "-t")],
) -> None:
    x = torch.from_numpy(np.loadtxt(input, delimiter=",", dtype=np.float64, ndmin=2))
    y = torch.from_numpy(np.loadtxt(target, delimiter=",", dtype=np.float64, ndmin=2))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(x, y)
    print(repr(float(loss.item())))


if __name__ == "__main__":
    typer.run(main)
