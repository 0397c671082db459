"""Samples as records (row, id, loss, target, prediction): the worst samples in JSON and
CSV, and ``-f ndjson``'s one JSON object per sample, written a block at a time.

Each field is turned into text a column at a time (the shortest text that reads back as
the number, as everywhere in bcecli's machine output), then the records are joined.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from bcecli.report.machine import Held, json_texts

if TYPE_CHECKING:
    from bcecli.compute.outcome import Outcome, Row
    from bcecli.losses.base import Loss

Array = NDArray[Any]


def _json_column(values: Array, dtype: str) -> list[str]:
    """A field of every sample as JSON texts: numbers, or a list per sample."""
    if values.dtype.kind in "iub":
        return [str(v) for v in values.reshape(values.shape[0], -1)[:, 0].tolist()] \
            if values.ndim == 1 else [json.dumps(v) for v in values.tolist()]
    if values.ndim == 1:
        return json_texts(values, dtype)
    n = values.shape[0]
    flat = json_texts(values.reshape(-1), dtype)
    w = len(flat) // n if n else 0
    return ["[" + ", ".join(flat[i * w:(i + 1) * w]) + "]" for i in range(n)]


def json_lines(names: list[str], columns: list[list[str]]) -> list[str]:
    """One JSON object per sample from its fields' texts."""
    keys = [json.dumps(n) + ": " for n in names]
    return ["{" + ", ".join(k + v for k, v in zip(keys, values, strict=True)) + "}"
            for values in zip(*columns, strict=True)]


def _fields(loss: Loss[Any, Any], opts: Any, plan: Any, inputs: Array, targets: Array,
            per_row: int) -> dict[str, Array]:
    """The loss's fields of rows, one entry per row (a row of per-position values where a
    row holds several samples and the records are per row)."""
    fields = loss.sample_fields(opts, plan, inputs, targets)
    n = inputs.shape[0]
    if loss.terms_are_samples and per_row > 1:
        return {k: v.reshape(n, per_row) if v.ndim == 1 else v.reshape(n, per_row, -1)
                for k, v in fields.items()}
    return fields


def row_records(outcome: Outcome, rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Rows (the worst ones) as record columns of JSON texts: names and columns."""
    from bcecli.report.display import row_value

    names = ["row"]
    columns = [[str(r.index) for r in rows]]
    if any(r.name is not None for r in rows):
        names.append("id")
        columns.append([json.dumps(r.name) for r in rows])
    names.append("loss")
    columns.append(json_texts(np.array([row_value(outcome, r) for r in rows]), outcome.dtype))
    if rows:
        per_row = rows[0].terms.size
        fields = _fields(outcome.loss_fn, outcome.options, outcome.plan,
                         np.stack([r.input for r in rows]), np.stack([r.target for r in rows]),
                         per_row)
        for name, values in fields.items():
            names.append(name)
            columns.append(_json_column(values, outcome.dtype))
    else:
        names.extend(["target"])
        columns.append([])
    return names, columns


def csv_table(names: list[str], columns: list[list[str]]) -> str:
    """Record columns of JSON texts as CSV: lists spread over numbered columns
    (``target_0``, ``target_1``, …), ``null`` written ``nan``, strings as CSV fields."""
    import csv
    import io

    cells: list[list[str]] = []
    header: list[str] = []
    for name, column in zip(names, columns, strict=True):
        if not any(t[:1] in '["' for t in column):  # numbers and nulls, as they are
            header.append(name)
            cells.append(["nan" if t == "null" else t for t in column])
            continue
        parsed = [json.loads(t) for t in column]
        width = max((len(v) for v in parsed if isinstance(v, list)), default=0)
        if width:
            header.extend(f"{name}_{j}" for j in range(width))
            cells.append([",".join(_csv_cell(x) for x in v) if isinstance(v, list)
                          else _csv_cell(v) for v in parsed])
        else:
            header.append(name)
            cells.append([_csv_cell(v) for v in parsed])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    text = out.getvalue()
    lines = [",".join(row) for row in zip(*cells, strict=True)]
    return text + "".join(line + "\n" for line in lines)


def _csv_cell(v: object) -> str:
    if v is None:
        return "nan"
    if isinstance(v, str):  # (the name as it is, quoted where it holds what CSV quotes
        # or a control character)
        if any(c in v for c in ',"\n\r') or not v.isprintable():
            return '"' + v.replace('"', '""') + '"'
        return v
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return json.dumps(v)


class NdjsonSink:
    """``-f ndjson``: one JSON object per sample (row, position for K-dimensional inputs,
    id, loss, and the loss's fields: target, prediction), written a block at a time from
    what the engine gives each block's samples."""

    wants_samples = True

    def __init__(self, out: Held, dtype: str) -> None:
        self.out, self.dtype = out, dtype

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating],
              grad: NDArray[np.floating] | None = None, *, start: int = 0,
              names: list[str] | None = None,
              samples: tuple[NDArray[np.float64], dict[str, Array]] | None = None) -> None:
        assert samples is not None
        losses, fields = samples
        n = terms.shape[0] if terms.ndim else 1
        if losses.size == 0:
            return  # (no samples: no lines)
        per_row = losses.size // n  # (1, or a K-dimensional row's positions)
        rows = np.arange(start, start + n, dtype=np.int64)
        names_out, columns = ["row"], [[str(i) for i in np.repeat(rows, per_row).tolist()]]
        if per_row > 1:
            shape = terms.shape[1:]
            at = np.indices(shape).reshape(len(shape), -1).T
            names_out.append("position")
            columns.append([json.dumps(p) for p in at.tolist()] * n)
        if names is not None:
            names_out.append("id")
            columns.append([json.dumps(v) for v in names for _ in range(per_row)])
        names_out.append("loss")
        columns.append(json_texts(losses, self.dtype))
        for name, values in fields.items():
            names_out.append(name)
            columns.append(_json_column(values, self.dtype))
        self.out.write("".join(line + "\n" for line in json_lines(names_out, columns)))


__all__ = ["NdjsonSink", "csv_table", "json_lines", "row_records"]
