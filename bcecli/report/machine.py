"""Machine-readable output: plain, CSV and JSON, in bounded memory, all or nothing.

Numbers are written as the shortest text that round-trips in the computation's dtype
(``0.7193247832556007`` in float64, ``0.7193248`` in float32); NaN is ``nan`` in CSV and
plain output and ``null`` in JSON.  Output is held (in memory, then in a temporary file)
until the whole input has been read and checked, so an input error leaves stdout empty;
``--stream`` writes it as it comes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
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


def json_texts(values: NDArray[np.floating], dtype: str) -> list[str]:
    """Every number bcecli writes in JSON comes from here: the shortest text that reads back
    as the value in ``dtype``, and ``null`` for NaN and ±infinity (JSON has no such
    numbers; Python's ``Infinity`` is not JSON).

    >>> json_texts(np.array([0.5, np.inf, -np.inf, np.nan]), "float64")
    ['0.5', 'null', 'null', 'null']
    """
    return _texts(values, dtype, "null")


def json_number(value: float, dtype: str) -> float | None:
    """One number for a JSON object built by :func:`json.dumps`, as :func:`json_texts`
    gives it (None is ``null``).

    >>> json_number(float("inf"), "float64"), json_number(0.7193248271942139, "float32")
    (None, 0.7193248)
    """
    text = json_texts(np.array([value], dtype=np.float64), dtype)[0]
    return None if text == "null" else float(text)


class Held:
    """stdout that gets nothing unless the run succeeds: all of the output or none of it.

    Output is kept in memory up to ``hold`` characters, then in a temporary file, and
    written by :meth:`commit` once the whole input has been read and checked; an error
    before that leaves stdout empty.  With ``streaming`` (``--stream``) it is written as it
    comes instead: an input error found later then follows what was written, and the
    message says so.  A failed write (a full disk) is a :class:`BceError`.
    """

    def __init__(self, stream: IO[str], hold: int = HOLD_BYTES, streaming: bool = False
                 ) -> None:
        self.stream = stream
        self.hold = hold
        self.parts: list[str] = []
        self.size = 0
        self.flowing = streaming
        self.written = False
        """Whether anything reached the stream (for the message of a late error)."""
        self.spill: IO[str] | None = None

    def _put(self, text: str | None) -> None:
        """Write text (None: flush); a failed write (not a closed pipe) is a BceError."""
        try:
            if text is None:
                self.stream.flush()
            elif text:
                self.stream.write(text)
                self.written = True
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise BceError(f"cannot write the output: {exc.strerror or exc}") from None

    def write(self, text: str) -> None:
        """Write, or hold until :meth:`commit`."""
        if self.flowing:
            self._put(text)
        elif self.spill is not None:
            self._to_spill(text)
        else:
            self.parts.append(text)
            self.size += len(text)
            if self.size > self.hold:
                import tempfile

                try:
                    self.spill = tempfile.TemporaryFile("w+", encoding="utf-8")
                except OSError as exc:
                    raise _spill_error(exc) from None
                for part in self.parts:  # (one by one: no joined copy of them all)
                    self._to_spill(part)
                self.parts = []

    def _to_spill(self, text: str) -> None:
        assert self.spill is not None
        try:
            self.spill.write(text)
        except OSError as exc:
            raise _spill_error(exc) from None

    def release(self) -> None:
        """The input is read and checked: write what was held, and let the rest flow."""
        self._put("".join(self.parts))
        self.parts = []
        if self.spill is not None:
            try:
                self.spill.flush()
                self.spill.seek(0)
                while chunk := self.spill.read(FORMAT_VALUES * 16):
                    self._put(chunk)
            except OSError as exc:
                raise _spill_error(exc) from None
            self.discard()
        self.flowing = True

    def commit(self) -> None:
        """The run succeeded: write what was held back, and flush."""
        self.release()
        self._put(None)

    def discard(self) -> None:
        """Drop what was held (the run failed), and the temporary file."""
        self.parts = []
        if self.spill is not None:
            self.spill.close()
            self.spill = None


def _spill_error(exc: OSError) -> BceError:
    import tempfile

    return BceError(f"cannot hold the output in a temporary file in {tempfile.gettempdir()} "
                    f"({exc.strerror or exc}); free some space there, set TMPDIR to another "
                    f"folder, or give --stream to write the output as it comes")


class CsvSink:
    """Elementwise losses (or, with ``grads``, ∂L/∂x) as CSV, one line per input row."""

    def __init__(self, out: Held, dtype: str, grads: bool = False) -> None:
        self.out = out
        self.dtype = dtype
        self.grads = grads

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating],
              grad: NDArray[np.floating] | None = None, **_: object) -> None:
        if self.grads and grad is not None:
            terms = grad
        width = math.prod(terms.shape[1:])  # one line per input row, terms flattened
        if width == 0:  # rows of nothing: empty lines, a bounded number at a time
            rows = terms.shape[0] if terms.ndim else 1
            for start in range(0, rows, FORMAT_VALUES * 16):
                self.out.write("\n" * min(FORMAT_VALUES * 16, rows - start))
            return
        if width > FORMAT_VALUES:  # rows wider than a slice: each row a slice at a time
            for row in terms.reshape(terms.shape[0], width):
                for start in range(0, width, FORMAT_VALUES):
                    texts = _texts(row[start:start + FORMAT_VALUES], self.dtype, "nan")
                    self.out.write(("," if start else "") + ",".join(texts))
                self.out.write("\n")
            return
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
        self.grads = tempfile.SpooledTemporaryFile(max_size=HOLD_BYTES, mode="w+")
        self.has_grad = False
        self.first = True

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating],
              grad: NDArray[np.floating] | None = None, **_: object) -> None:
        """Rows of terms (rows, ...): a row of one term is written as the number alone."""
        sep = "" if self.first else ", "
        self.first = False
        try:  # (past HOLD_BYTES a spool is a file in TMPDIR, which may be full)
            self.elements.write(sep)
            for piece in rows_json(terms, self.dtype):
                self.elements.write(piece)
            self.rows.write(sep + ", ".join(json_texts(row_values, self.dtype)))
            if grad is not None:
                self.has_grad = True
                self.grads.write(sep)
                for piece in rows_json(grad, self.dtype):
                    self.grads.write(piece)
        except OSError as exc:
            raise _json_spool_error(exc) from None

    def __enter__(self) -> JsonSink:
        return self

    def __exit__(self, *exc: object) -> None:
        for spool in (self.elements, self.rows, self.grads):
            try:
                spool.close()
            except OSError:  # (what it held is not needed any more)
                pass

    def chunks(self, which: IO[str], size: int = 1 << 20) -> Iterator[str]:
        """What a spool holds, from the start, a chunk at a time."""
        try:
            which.seek(0)
            while chunk := which.read(size):
                yield chunk
        except OSError as exc:
            raise _json_spool_error(exc) from None

    def copy(self, which: IO[str], out: Held) -> None:
        for chunk in self.chunks(which):
            out.write(chunk)


def _json_spool_error(exc: OSError) -> BceError:
    import tempfile

    return BceError(f"cannot hold the JSON output in a temporary file in "
                    f"{tempfile.gettempdir()} ({exc.strerror or exc}); free some space "
                    f"there, or set TMPDIR to a folder with room (JSON is written once the "
                    f"loss is known, so its elements wait in a temporary file; -f csv -r none "
                    f"--stream needs none)")


def rows_json(rows: NDArray[np.floating], dtype: str) -> Iterator[str]:
    """Rows (rows, ...) as JSON items, in pieces of a bounded number of values (a row
    wider than that, in several): a row of one value is the number alone.

    >>> "".join(rows_json(np.array([[0.5, 1.0], [2.0, 3.0]]), "float64"))
    '[0.5, 1.0], [2.0, 3.0]'
    """
    if rows.ndim <= 1:  # rows of single values (a vector's, or ce's per sample)
        for start in range(0, rows.size, FORMAT_VALUES):
            yield (", " if start else "") + ", ".join(
                json_texts(rows.reshape(-1)[start:start + FORMAT_VALUES], dtype))
        return
    if rows.size == 0:  # rows of no values (shape (N, 0)): each the same text, made once
        yield ", ".join([json.dumps(np.zeros(rows.shape[1:]).tolist())] * rows.shape[0])
        return
    if math.prod(rows.shape[1:]) <= FORMAT_VALUES:  # (a block of narrow rows: one text)
        yield ", ".join(json.dumps(_nested(r, dtype)) if r.ndim > 1 else
                        "[" + ", ".join(json_texts(r, dtype)) + "]" for r in rows)
        return
    for i, row in enumerate(rows):
        yield ", " if i else ""
        if row.ndim > 1:
            yield json.dumps(_nested(row, dtype))
            continue
        yield "["
        for start in range(0, row.size, FORMAT_VALUES):
            yield (", " if start else "") + ", ".join(
                json_texts(row[start:start + FORMAT_VALUES], dtype))
        yield "]"


def _nested(a: NDArray[np.floating], dtype: str) -> object:
    if a.ndim == 0:
        return json_number(float(a), dtype)
    return [_nested(x, dtype) for x in a]


def write_json(outcome: Outcome, sink: JsonSink | None, out: Held) -> None:
    """One JSON object: command, reduction, dtype, shapes, counts, options, the loss, the
    samples' summary, the worst samples (``--top``) and warnings; with a sink (``-r none``,
    ``--elements``, ``--grad``), the elements and row values too."""
    from bcecli.report.samples import summary_json, worst_records

    o = outcome.options
    loss = json_number(outcome.loss, o.dtype)
    head = {
        "command": outcome.loss_fn.name, "reduction": o.reduction, "dtype": o.dtype,
        "input_shape": list(outcome.input_shape), "element_shape": list(outcome.element_shape),
        "count": outcome.count,
        "sum": json_number(outcome.total, o.dtype),
        "denominator": _denominator(outcome.denominator),
        "options": _numbers(outcome.loss_fn.json_options(outcome)),
    }
    out.write(json.dumps(head)[:-1])
    if sink is not None:
        element_rank = len(outcome.element_shape)
        for key in ("elements", "loss") if o.reduction == "none" else ("elements",):
            out.write(f', "{key}": ')
            _write_elements(sink, out, element_rank)
        out.write(', "row_means": [')
        sink.copy(sink.rows, out)
        out.write("]")
        if sink.has_grad:
            out.write(', "grad": ')
            # one sample's rows ((C,) for ce): the input itself, else the rows in a list
            _write_elements(sink, out, len(outcome.element_shape), sink.grads)
    if o.reduction != "none":
        out.write(f', "loss": {json.dumps(loss)}')
    if outcome.samples is not None:
        out.write(f', "summary": {json.dumps(summary_json(outcome))}')
    if outcome.worst is not None:
        from bcecli.report.records import json_lines

        names, columns = worst_records(outcome)
        out.write(', "top": [' + ", ".join(json_lines(names, columns)) + "]")
    if outcome.warnings:
        out.write(f', "warnings": {json.dumps(outcome.warnings)}')
    out.write("}\n")


def _denominator(value: float) -> float | int | None:
    """A count as an integer, a sum of class weights as its float64 value; ``null`` where it
    is not finite (weights that overflow)."""
    if isinstance(value, int):
        return value
    return json_number(value, "float64")


def _numbers(record: dict[str, object]) -> dict[str, object]:
    """A loss's JSON options with every float through :func:`json_number`."""
    return {k: json_number(v, "float64") if isinstance(v, float) else v
            for k, v in record.items()}


def _write_elements(sink: JsonSink, out: Held, rank: int, spool: IO[str] | None = None
                    ) -> None:
    """The spooled rows wrapped in their own nesting (a scalar: the number)."""
    spool = sink.elements if spool is None else spool
    if rank == 0:
        out.write("".join(sink.chunks(spool)).strip() or "null")
        return
    out.write("[")
    sink.copy(spool, out)
    out.write("]")
