"""Baseline for target 1: a minimal Typer + numpy script.

Loads both CSV files with ``numpy.loadtxt`` and prints the mean of the numerically
stable binary cross-entropy on logits, ``max(x, 0) - x*y + log1p(exp(-|x|))``.
It is what someone would write in five minutes; bcecli should start about as fast.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer


def main(
    input: Annotated[str, typer.Option("--input", "-i")],
    target: Annotated[str, typer.Option("--target", "-t")],
) -> None:
    x = np.loadtxt(input, delimiter=",", dtype=np.float64, ndmin=2)
    y = np.loadtxt(target, delimiter=",", dtype=np.float64, ndmin=2)
    loss = np.maximum(x, 0.0) - x * y + np.log1p(np.exp(-np.abs(x)))
    print(repr(float(loss.mean())))


if __name__ == "__main__":
    typer.run(main)
