"""Baseline for target 2: a Typer script that reads the CSV files with pandas.

``pandas.read_csv(header=None)`` (the fast C parser) for both files, then the mean of the
numerically stable binary cross-entropy on logits, ``max(x, 0) - x*y + log1p(exp(-|x|))``,
in numpy.  It holds both whole tables in memory; bcecli should be at least as fast while
staying in flat memory.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
import typer


def main(
    input: Annotated[str, typer.Option("--input", "-i")],
    target: Annotated[str, typer.Option("--target", "-t")],
) -> None:
    x = pd.read_csv(input, header=None).to_numpy(dtype=np.float64)
    y = pd.read_csv(target, header=None).to_numpy(dtype=np.float64)
    loss = np.maximum(x, 0.0) - x * y + np.log1p(np.exp(-np.abs(x)))
    print(repr(float(loss.mean())))


if __name__ == "__main__":
    typer.run(main)
