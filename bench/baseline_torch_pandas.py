"""Baseline for target 2: the same as baseline_pandas.py, with PyTorch doing the loss.

``pandas.read_csv(header=None)`` for both files, then
``torch.nn.functional.binary_cross_entropy_with_logits(x, y)`` (mean reduction, float64).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
import torch
import typer


def main(
    input: Annotated[str, typer.Option("--input", "-i")],
    target: Annotated[str, typer.Option("--target", "-t")],
) -> None:
    x = torch.from_numpy(pd.read_csv(input, header=None).to_numpy(dtype=np.float64))
    y = torch.from_numpy(pd.read_csv(target, header=None).to_numpy(dtype=np.float64))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(x, y)
    print(repr(float(loss.item())))


if __name__ == "__main__":
    typer.run(main)
