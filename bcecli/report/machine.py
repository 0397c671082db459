"""Machine-readable output: plain, CSV and JSON, streamed with bounded memory.

Numbers are written as the shortest text that round-trips in the computation's dtype
(``0.7193247832556007`` in float64, ``0.7193248`` in float32); NaN is ``nan`` in CSV and
plain output and ``null`` in JSON.  Output is held back until it passes a few megabytes,
so an input error found late in a small or medium input leaves stdout empty.
"""

from __future__ import annotations

import json
import math
from typing import IO

import numpy as np
from numpy.typing import NDArray

from bcecli.compute.outcome import Outcome
from bcecli.errors import BceError
from bcecli.report.numbers import exact

HOLD_BYTES = 8 << 20
FORMAT_VALUES = 1 << 16
"""Values turned into text at a time: their strings cost about 60 bytes each."""


def fmt_number(value: float, dtype: str) -> str:
    """The shortest text that reads back as the same number in ``dtype``.

    >>> fmt_number(0.7193247832556007, "float64"), fmt_number(0.7193248271942139, "float32")
    ('0.7193247832556007', '0.7193248')
    """
    return exact(value, dtype)


def _texts(values: NDArray[np.floating], dtype: str, nan: str) -> list[str]:
    flat = values.reshape(-1)
    if dtype == "float32":
        out = [str(v) for v in flat.astype(np.float32)]
    else:
        out = [repr(v) for v in flat.tolist()]
    if nan != "nan" and not np.isfinite(flat).all():
        out = [nan if t in ("nan", "inf", "-inf") else t for t in out]
    return out


class Held:
    """stdout that keeps the first ``HOLD_BYTES`` back until the run succeeds.

    Beyond that the output streams (``-r none`` of a big input): an input error found later
    then comes after what was written, and the message says so.  A failed write (a full
    disk) is a :class:`BceError`.
    """

    def __init__(self, stream: IO[str], hold: int = HOLD_BYTES) -> None:
        self.stream = stream
        self.hold = hold
        self.parts: list[str] = []
        self.size = 0
        self.flowing = False

    def _put(self, text: str | None) -> None:
        """Write text (None: flush); a failed write (not a closed pipe) is a BceError."""
        try:
            if text is None:
                self.stream.flush()
            else:
                self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise BceError(f"cannot write the output: {exc.strerror or exc}") from None

    def write(self, text: str) -> None:
        if self.flowing:
            self._put(text)
            return
        self.parts.append(text)
        self.size += len(text)
        if self.size > self.hold:
            self.flowing = True
            self._put("".join(self.parts))
            self.parts = []

    def commit(self) -> None:
        """The run succeeded: write what was held back."""
        self._put("".join(self.parts))
        self.parts = []
        self._put(None)


class CsvSink:
    """Elementwise losses as CSV, one line per input row."""

    def __init__(self, out: Held, dtype: str) -> None:
        self.out = out
        self.dtype = dtype

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating]) -> None:
        width = max(1, math.prod(terms.shape[1:]))  # one line per input row, terms flattened
        step = max(1, FORMAT_VALUES // width)  # format a slice at a time: bounded memory
        for start in range(0, terms.shape[0], step):
            texts = _texts(terms[start:start + step], self.dtype, "nan")
            rows = zip(*[iter(texts)] * width, strict=True)
            self.out.write("\n".join(map(",".join, rows)) + "\n")


class JsonSink:
    """Elementwise losses and per-row values spooled to disk, for one JSON object at the end."""

    def __init__(self, dtype: str) -> None:
        import tempfile

        self.dtype = dtype
        self.elements = tempfile.SpooledTemporaryFile(max_size=HOLD_BYTES, mode="w+")
        self.rows = tempfile.SpooledTemporaryFile(max_size=HOLD_BYTES, mode="w+")
        self.first = True

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating]) -> None:
        sep = "" if self.first else ", "
        self.first = False
        self.elements.write(sep + ", ".join(_row_json(r, self.dtype) for r in terms))
        self.rows.write(sep + ", ".join(_texts(row_values, self.dtype, "null")))

    def __enter__(self) -> JsonSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.elements.close()
        self.rows.close()

    def copy(self, which: IO[str], out: Held) -> None:
        which.seek(0)
        while chunk := which.read(1 << 20):
            out.write(chunk)


def _row_json(row: NDArray[np.floating], dtype: str) -> str:
    return json.dumps(_nested(row, dtype)) if row.ndim > 1 else \
        "[" + ", ".join(_texts(row, dtype, "null")) + "]"


def _nested(a: NDArray[np.floating], dtype: str) -> object:
    if a.ndim == 0:
        v = float(a)
        return float(fmt_number(v, dtype)) if math.isfinite(v) else None
    return [_nested(x, dtype) for x in a]


def write_json(outcome: Outcome, sink: JsonSink, out: Held) -> None:
    """One JSON object: command, reduction, dtype, shapes, elements, row values and loss."""
    o = outcome.options
    loss = float(fmt_number(outcome.loss, o.dtype)) if math.isfinite(outcome.loss) else None
    head = {
        "command": outcome.loss_fn.name, "reduction": o.reduction, "dtype": o.dtype,
        "input_shape": list(outcome.input_shape), "element_shape": list(outcome.element_shape),
        "count": outcome.count,
        "sum": float(fmt_number(outcome.total, o.dtype)) if math.isfinite(outcome.total) else None,
        "denominator": outcome.denominator,
        "options": outcome.loss_fn.json_options(outcome),
    }
    out.write(json.dumps(head)[:-1] + ", ")
    element_rank = len(outcome.element_shape)
    for key in ("elements", "loss") if o.reduction == "none" else ("elements",):
        out.write(f'"{key}": ')
        _write_elements(sink, out, element_rank)
        out.write(", ")
    out.write('"row_means": [')
    sink.copy(sink.rows, out)
    out.write("]")
    if o.reduction != "none":
        out.write(f', "loss": {json.dumps(loss)}')
    if outcome.warnings:
        out.write(f', "warnings": {json.dumps(outcome.warnings)}')
    out.write("}\n")


def _write_elements(sink: JsonSink, out: Held, rank: int) -> None:
    """Rows were spooled as ``[..], [..]``; wrap them to the elements' own nesting."""
    if rank == 0:
        sink.elements.seek(0)
        text = sink.elements.read()
        out.write(text.strip()[1:-1])
        return
    if rank == 1:
        sink.elements.seek(0)
        text = sink.elements.read(1 << 16)
        out.write("[")
        while text:
            out.write(text.replace("[", "").replace("]", ""))
            text = sink.elements.read(1 << 16)
        out.write("]")
        return
    out.write("[")
    sink.copy(sink.elements, out)
    out.write("]")
