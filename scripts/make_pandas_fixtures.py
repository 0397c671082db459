#!/usr/bin/env python3
"""Write the CSV files tests/test_columns.py reads, as pandas itself writes them (needs
pandas; run it in any venv that has it):

    python scripts/make_pandas_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "pandas"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    probs = rng.random((4, 3))
    probs /= probs.sum(axis=1, keepdims=True)
    pd.DataFrame(probs).to_csv(OUT / "unnamed.csv", index=False)  # header 0,1,2
    pd.DataFrame(probs).to_csv(OUT / "unnamed_index.csv")  # header ,0,1,2 and an index
    frame = pd.DataFrame(probs, columns=["p0", "p1", "p2"])
    frame.to_csv(OUT / "named_index.csv")
    frame.insert(0, "id", [f"sample {i}" for i in range(4)])
    frame.insert(1, "label", [0, 2, 1, 1])
    frame.to_csv(OUT / "predictions.csv", index=False)
    pd.DataFrame({"y": [0, 2, 1, 1]}).to_csv(OUT / "labels.csv", index=False)
    onehot = np.eye(2, dtype=int)[[1, 0, 1]]
    pd.DataFrame(onehot).to_csv(OUT / "onehot.csv", index=False)  # header 0,1, then 0/1 rows
    np.save(OUT / "probs.npy", probs)


if __name__ == "__main__":
    main()
