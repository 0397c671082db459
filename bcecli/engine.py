"""Compute a loss over matrices read block by block, keeping only what the output needs.

The engine pairs the rows of input and target (and of a full-shape weight), checks every
block with located messages, computes the elementwise terms with :mod:`bcecli.losses`,
and accumulates the sum, the denominator of the mean, per-row values and the first and
last rows for the table.  Elementwise terms go to a sink as they are computed, so that
``--reduction none`` output streams.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bcecli import checks, losses
from bcecli.blocks import Block, Matrix, RowFeed, joined, materialize
from bcecli.checks import Shape, fmt_shape
from bcecli.errors import BceError
from bcecli.outcome import DType, Keep, Options, Outcome, Row, Warnings, finalize

TEN_AND_TEN = Keep(10, 10)


class Sink(Protocol):
    """Receives the elementwise terms of consecutive rows as they are computed."""

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating]) -> None:
        """Terms shaped (rows, ...) and one value per row."""


def _cast(block: Block, what: str, dtype: DType) -> NDArray[np.floating]:
    checks.check_finite(block.data, what, block.locate)
    if dtype == "float64":
        return block.data
    with np.errstate(over="ignore"):
        out = block.data.astype(np.float32)
    bad = checks.first_index(~np.isfinite(out))
    if bad is not None:
        raise BceError(f"{block.locate(bad)}: {what} value {checks.fmt_value(block.data[bad])} "
                       f"overflows float32")
    return out


class _Weights:
    """A weight of any broadcastable shape, served for a block of rows."""

    def __init__(self, block: Block | None, name: str, ndim: int, dtype: DType) -> None:
        self.name = name
        self.array = None if block is None else _cast(block, name.replace("_", "-"), dtype)
        self.by_row = self.array is not None and self.array.ndim == ndim and ndim >= 2 \
            and self.array.shape[0] != 1

    def rows(self, start: int, shape: Shape) -> NDArray[np.floating] | None:
        if self.array is None:
            return None
        w = self.array[start:start + shape[0]] if self.by_row else self.array
        try:
            if np.broadcast_shapes(w.shape, shape) == shape:
                return w
        except ValueError:
            pass
        raise _ShapeTrouble()

    def check(self, shape: Shape) -> None:
        if self.array is not None:
            checks.check_weight(self.array, shape, self.name)


class _ShapeTrouble(Exception):
    """Rows do not line up; the full shapes are needed for the message."""


def _ce_text_target(first_t: Block, rest_t: Iterator[Block], first_x: Block,
                    rest_x: Iterator[Block]
                    ) -> tuple[Block, Iterator[Block], Iterator[Block]]:
    """A ce target read from CSV/TSV (always rows of fields) as the shape it stands for.

    Class indices for an (N, C) input are a vector (N,): in a file, one column, or one row
    unless the input is a single sample of as many classes (then the row holds its class
    probabilities).  For a (C,) input, one value is the class index and one row of C values
    the probabilities.  Anything else (probabilities (N, C), indices (N, d1) of a 3-D
    input) stands for itself.  Returns the target's blocks, and all the input's blocks.
    """
    x_shape, data, loc = first_x.data.shape, first_t.data, first_t.locate
    xs = _chain(first_x, rest_x)
    if len(x_shape) > 2 or data.ndim != 2:
        return first_t, rest_t, xs
    if data.shape[1] == 1 and len(x_shape) == 2:
        def column(b: Block) -> Block:
            at = b.locate
            return Block(b.data[:, 0], lambda idx: at((idx[0], 0)))
        return column(first_t), (column(b) for b in rest_t), xs
    if data.shape[0] != 1:
        return first_t, rest_t, xs
    more = list(rest_t)  # a first block of one row: the file is one row, or blocks are tiny
    if more:
        return first_t, iter(more), xs
    row = Block(data[0], lambda idx: loc((0, *idx)))
    if len(x_shape) == 1:
        if data.shape[1] == 1:
            return Block(data.reshape(()), lambda idx: loc((0, 0))), iter(()), xs
        return row, iter(()), xs
    second = next(rest_x, None)  # is the input one sample (N = 1)?
    xs = _chain(first_x, iter(()) if second is None else _chain(second, rest_x))
    if first_x.rows == 1 and second is None and data.shape[1] == x_shape[1]:
        return first_t, iter(()), xs
    return row, iter(()), xs


def run(options: Options, input_m: Matrix, target_m: Matrix, weight_m: Matrix | None = None,
        pos_weight_m: Matrix | None = None, sink: Sink | None = None,
        keep: Keep = TEN_AND_TEN,
        progress: Callable[[], None] | None = None, row_offset: int = 0,
        check_rows: bool = True) -> Outcome:
    """Compute the loss of ``options.command`` over the matrices, block by block."""
    dtype = options.dtype
    first_x = next(input_m.blocks, None)
    first_t = next(target_m.blocks, None)
    if first_x is None or first_t is None:
        raise BceError("no data")  # readers raise a clearer message first
    xs: Iterator[Block] = _chain(first_x, input_m.blocks)
    ts: Iterator[Block] = _chain(first_t, target_m.blocks)
    is_ce = options.command == "ce"
    if is_ce and target_m.text:
        first_t, rest_t, xs = _ce_text_target(first_t, target_m.blocks, first_x,
                                              input_m.blocks)
        ts = _chain(first_t, rest_t)
    whole = input_m.whole or target_m.whole or first_x.data.ndim < 2
    if whole:
        first_x = joined(list(xs))
        xs, ts = iter([first_x]), iter([joined(list(ts))])
    x_ndim = first_x.data.ndim
    weight = _Weights(materialize(weight_m) if weight_m else None, "weight", x_ndim, dtype)
    pos_weight = _Weights(materialize(pos_weight_m) if pos_weight_m else None, "pos_weight",
                          x_ndim, dtype)
    state = _State(options, keep, sink)
    state.weight_shapes = (None if weight.array is None else weight.array.shape,
                           None if pos_weight.array is None else pos_weight.array.shape)
    if is_ce:
        state.prepare_ce(first_x.data.shape, weight)
    if whole:
        x_shape = first_x.data.shape
        t_block = next(ts)
        if not is_ce and first_x.data.shape != t_block.data.shape:
            checks.check_same_shape(first_x.data.shape, t_block.data.shape)
        if not is_ce:
            weight.check(x_shape)
            pos_weight.check(x_shape)
        state.block(0, first_x, t_block, weight, pos_weight)
        return state.finish(x_shape, input_m.column_names)
    feed_t = RowFeed(ts)
    start, pending = row_offset, 0
    try:
        for xb in xs:
            if xb.rows == 0:  # an empty .npy's one block: checked like any, adds nothing
                if not is_ce and xb.data.shape[1:] != first_t.data.shape[1:]:
                    raise _ShapeTrouble()
                state.block(start, xb, Block(first_t.data[:0], first_t.locate), weight,
                            pos_weight)
                continue
            pending = xb.rows
            tb = feed_t.take(xb.rows)
            if tb is None or tb.rows != xb.rows or (
                    not is_ce and xb.data.shape[1:] != tb.data.shape[1:]):
                raise _ShapeTrouble()
            state.block(start, xb, tb, weight, pos_weight)
            start, pending = start + xb.rows, 0
            if progress is not None:
                progress()
        if feed_t.take(1) is not None:
            raise _ShapeTrouble()
    except _ShapeTrouble:
        _raise_shapes(options, start + pending, row_offset, xs, feed_t, first_x, first_t,
                      weight, pos_weight)
    x_shape = (start, *first_x.data.shape[1:])
    if check_rows and not is_ce:  # ce's class weights were checked against C already
        weight.check(x_shape)
        pos_weight.check(x_shape)
    return state.finish(x_shape, input_m.column_names)


def _chain(first: Block, rest: Iterator[Block]) -> Iterator[Block]:
    yield first
    yield from rest


def _raise_shapes(options: Options, done: int, offset: int, xs: Iterator[Block],
                  feed_t: RowFeed,
                  first_x: Block, first_t: Block, weight: _Weights, pos_weight: _Weights
                  ) -> None:
    """Work out the full shapes (reading to the end) and raise the right message."""
    x_rows = done + sum(b.rows for b in xs)
    t_rows = offset + feed_t.served + feed_t.count_rest()
    x_shape = (x_rows, *first_x.data.shape[1:])
    t_shape = (t_rows, *first_t.data.shape[1:])
    if options.command == "ce":
        checks.ce_layout(x_shape, t_shape, None, options.label_smoothing)
    else:
        checks.check_same_shape(x_shape, t_shape)
    weight.check(x_shape)
    pos_weight.check(t_shape)
    raise BceError(f"shapes do not line up: input {fmt_shape(x_shape)}, target "
                   f"{fmt_shape(t_shape)}")


class _State:
    """Running sums, per-row values and retained rows."""

    def __init__(self, options: Options, keep: Keep, sink: Sink | None) -> None:
        self.options = options
        self.keep = keep
        self.sink = sink
        self.total = 0.0
        self.denominator = 0.0
        self.count = 0
        self.rows_done = 0
        self.head: list[Row] = []
        self.tail: deque[Row] = deque(maxlen=keep.tail)
        self.warn = Warnings()
        self.layout: checks.CeLayout | None = None
        self.class_weight: NDArray[np.floating] | None = None
        self.infinite = 0
        self.probabilities = False
        self.ndim = 0
        self.weight_shapes: tuple[Shape | None, Shape | None] = (None, None)

    def prepare_ce(self, first_shape: Shape, weight: _Weights) -> None:
        if weight.array is not None:
            w = weight.array
            if w.ndim == 2 and 1 in w.shape:
                w = w.reshape(-1)
            checks.ce_layout((first_shape[0], *first_shape[1:]) if first_shape else first_shape,
                             (first_shape[0], *first_shape[2:]) if len(first_shape) > 1
                             else (), w, self.options.label_smoothing)
            self.class_weight = w

    def block(self, start: int, xb: Block, tb: Block, weight: _Weights,
              pos_weight: _Weights) -> None:
        o = self.options
        x = _cast(xb, "input", o.dtype)
        if o.command == "ce":
            terms, t = self._ce(x, xb, tb)
            w_rows = pw_rows = None
        else:
            t = _cast(tb, "target", o.dtype)
            w_rows = weight.rows(start, x.shape)
            pw_rows = pos_weight.rows(start, x.shape)
            if o.command == "bce":
                p = losses.sigmoid(x) if o.sigmoid else x
                if not o.sigmoid:
                    checks.check_unit_interval(x, "input", xb.locate)
                checks.check_unit_interval(t, "target", tb.locate)
                terms = losses.bce_terms(p, t, w_rows)
            else:
                self.warn.add("target01", checks.outside_unit_warning(t, "target", tb.locate),
                              int(np.count_nonzero((t < 0) | (t > 1))))
                terms = losses.bce_logits_terms(x, t, w_rows, pw_rows)
        self._accumulate(start, x, t, terms, w_rows, pw_rows)

    def _ce(self, x: NDArray[np.floating], xb: Block, tb: Block
            ) -> tuple[losses.Terms, NDArray[np.floating]]:
        o = self.options
        if self.layout is None:
            full_x = (x.shape[0], *x.shape[1:]) if x.ndim else ()
            t_shape = tb.data.shape
            self.layout = checks.ce_layout(full_x, t_shape, self.class_weight,
                                           o.label_smoothing, o.ignore_index)
            self.probabilities = self.layout.probabilities
        layout = checks.CeLayout(x.shape, self.probabilities)
        if tb.data.shape != (x.shape if self.probabilities else layout.element_shape):
            raise _ShapeTrouble()
        w = self.class_weight
        if self.probabilities:
            t = _cast(tb, "target", o.dtype)
            sums = np.sum(t, axis=0 if x.ndim == 1 else 1)
            off = np.abs(sums - 1) > 1e-3
            if off.any() and layout.n_classes:  # (no classes: nothing to sum, said apart)
                bad = checks.first_index(off) or ()
                where = tb.locate(bad[:1]) + (f", position {bad[1:]}" if bad[1:] else "")
                self.warn.add("sum1", f"{where}: class probabilities sum to "
                              f"{float(sums[bad] if bad else sums):.6g}, not 1",
                              int(np.count_nonzero(off)))
            self.warn.add("p01", checks.outside_unit_warning(t, "target probability",
                                                             tb.locate),
                          int(np.count_nonzero((t < 0) | (t > 1))))
            terms = losses.ce_prob_terms(layout.logits_last(x), layout.targets_last(t),
                                         w, o.label_smoothing)
            return terms, t
        idx = layout.class_indices(tb.data, o.ignore_index, tb.locate)
        terms = losses.ce_index_terms(layout.logits_last(x), idx, w, o.ignore_index,
                                      o.label_smoothing)
        return terms, tb.data.astype(x.dtype)

    def _accumulate(self, start: int, x: NDArray[np.floating], t: NDArray[np.floating],
                    terms: losses.Terms, w: NDArray[np.floating] | None,
                    pw: NDArray[np.floating] | None) -> None:
        nrows = x.shape[0] if x.ndim >= 2 else 1
        is_ce = self.options.command == "ce"
        if x.ndim >= 2:  # the shape of one row's terms
            rest: Shape = x.shape[2:] if is_ce else x.shape[1:]
        else:
            rest = () if is_ce else x.shape
        values = terms.values.reshape(nrows, math.prod(rest))
        row_sums = values.sum(axis=1, dtype=np.float64)
        if terms.denominators is None:  # every term counts 1
            row_dens = np.full(nrows, float(values.shape[1]))
        else:
            row_dens = terms.denominators.reshape(values.shape).sum(axis=1, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            row_values = row_sums / row_dens
        block_total = float(np.sum(values, dtype=np.float64))  # (pairwise: torch's last bit)
        self.total += block_total
        if not math.isfinite(block_total):  # which terms are infinite, not only their sum?
            self.infinite += int(np.count_nonzero(np.isinf(values)))
        self.denominator += float(row_dens.sum())
        self.count += values.size
        self.ndim = x.ndim
        if self.sink is not None:
            self.sink.write(terms.values.reshape(nrows, *rest) if len(rest) > 1 else values,
                            row_values)
        x_rows = x.reshape(nrows, *x.shape[1:]) if x.ndim >= 2 else x.reshape(1, *x.shape)
        t_rows = t.reshape(nrows, *t.shape[1:]) if t.ndim >= 2 or (
            self.options.command == "ce" and t.ndim == 1 and x.ndim == 2) else t.reshape(
            1, *t.shape)
        for i in self._kept(start, nrows):
            local = i - start
            self._keep(Row(
                index=i, input=x_rows[local], target=t_rows[local], terms=values[local],
                value=float(row_values[local]), denominator=float(row_dens[local]),
                weight=None if w is None else np.broadcast_to(w, x.shape).reshape(
                    x_rows.shape)[local],
                pos_weight=None if pw is None else np.broadcast_to(pw, x.shape).reshape(
                    x_rows.shape)[local],
            ))
        self.rows_done = start + nrows

    def _kept(self, start: int, n: int) -> list[int]:
        head = range(start, min(start + n, self.keep.head))
        tail = range(max(start, start + n - self.keep.tail, self.keep.head), start + n)
        return [*head, *tail]

    def _keep(self, row: Row) -> None:
        if row.index < self.keep.head:
            self.head.append(row)
        else:
            self.tail.append(row)

    def finish(self, x_shape: Shape, column_names: list[str] | None) -> Outcome:
        o = self.options
        if o.command == "ce":
            element_shape: Shape = (x_shape[0], *x_shape[2:]) if len(x_shape) > 1 else ()
        else:
            element_shape = x_shape
        outcome = Outcome(
            options=o, loss=math.nan, total=self.total, denominator=self.denominator,
            count=self.count, input_shape=x_shape, element_shape=element_shape,
            nrows=self.rows_done, head=self.head, tail=list(self.tail),
            warnings=[], column_names=column_names, probabilities=self.probabilities,
            class_weight=self.class_weight, weight_shape=self.weight_shapes[0],
            pos_weight_shape=self.weight_shapes[1], infinite=self.infinite, notes=self.warn,
        )
        return finalize(outcome)
