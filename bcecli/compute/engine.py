"""Compute any loss over sources read block by block, keeping only what the output needs.

The engine knows losses only through :class:`~bcecli.losses.base.Loss`.  It reads the
input's blocks in order, pairs each with the same rows of the target (and of any option
given per row, such as a full-shape weight), and has the loss compute each pair's terms on
the thread pool.  The results come back in row order and are reduced there: exact sums
(:mod:`bcecli.compute.exactsum`), per-row values, the first and last rows for the table,
warnings, and the elementwise terms for a sink that streams them.  The loss is finalised
once, at the end.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bcecli.compute.exactsum import ChunkedSum, split_chunks
from bcecli.compute.outcome import Keep, Outcome, Row, Warnings, finalize
from bcecli.compute.pool import Pool, Weighed
from bcecli.compute.samples import SamplePart, Samples, Worst, describe, sample_losses
from bcecli.compute.streams import Stream, Streams
from bcecli.errors import BceError
from bcecli.io.source import Block, RowFeed, Source, joined
from bcecli.losses.base import BlockTerms, Loss, Options, Paired, ShapeTrouble
from bcecli.report.numbers import Shape
from bcecli.report.numbers import shape as fmt_shape

F64 = NDArray[np.float64]
TEN_AND_TEN = Keep(10, 10)
FOLLOWER_AHEAD = 2
"""Blocks of the target (and per-row options) parsed ahead of the one in use: their blocks
are cut by bytes too, and a short row (a label file) makes a block of many rows."""


class Sink(Protocol):
    """Receives the elementwise terms of consecutive rows as they are computed."""

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating],
              grad: NDArray[np.floating] | None = None, *, start: int = 0,
              names: list[str] | None = None,
              samples: tuple[F64, dict[str, NDArray[Any]]] | None = None) -> None:
        """Terms shaped (rows, ...), one value per row, and ∂L/∂x (rows, ...) if asked;
        ``start``: the first row's index; ``names``: the rows' names; ``samples``: for a
        sink whose ``wants_samples`` is true, the samples' losses and the loss's fields of
        them (:meth:`~bcecli.losses.base.Loss.sample_fields`)."""


class Collect:
    """A sink that keeps every block's terms, row values and gradients (the Python API's
    arrays; --like's PyTorch terms for reduction none)."""

    def __init__(self) -> None:
        self.terms: list[NDArray[np.floating]] = []
        self.rows: list[NDArray[np.floating]] = []
        self.grads: list[NDArray[np.floating]] = []

    def write(self, terms: NDArray[np.floating], row_values: NDArray[np.floating],
              grad: NDArray[np.floating] | None = None, **_: object) -> None:
        self.terms.append(terms)
        self.rows.append(row_values)
        if grad is not None:
            self.grads.append(grad)


def joined_parts(parts: list[NDArray[np.floating]], shape: tuple[int, ...], dtype: Any
                 ) -> NDArray[np.floating]:
    """Blocks of rows as one array of the given shape."""
    if not parts:
        return np.empty(shape, dtype=dtype)
    return np.concatenate([p.reshape(-1) for p in parts]).reshape(shape)


@dataclass
class Inputs:
    """The sources of a run: input, target and the loss's matrix options by name."""

    x: Source
    t: Source
    extras: dict[str, Source] = field(default_factory=dict)
    names: Source | None = None
    """The rows' names (``--id``): blocks of text, one per input row."""


@dataclass
class _Result:
    """What the computation of one block gives back to be reduced in order."""

    start: int
    terms: NDArray[np.floating]
    row_values: F64
    value_parts: tuple[F64, bool, F64, F64]
    den_parts: tuple[F64, bool, F64, F64] | None
    loss_parts: list[tuple[float, tuple[F64, bool, F64, F64]]] | None
    grad: NDArray[np.floating] | None
    count: int
    infinite: int
    rows: list[Row]
    warnings: list[tuple[str, str, int]]
    data: tuple[NDArray[np.floating], NDArray[np.floating]] | None = None
    samples: SamplePart | None = None
    worst: list[tuple[float, int, Row]] = field(default_factory=list)
    names: list[str] | None = None
    each: tuple[F64, dict[str, NDArray[Any]]] | None = None
    """Each sample's loss and fields, for a sink that writes them."""


@dataclass
class _Progress:
    """Rows read so far, for shape messages."""

    x_rows: int = 0


def compute(loss: Loss[Any, Any], opts: Options, inputs: Inputs, *, pool: Pool | None = None,
            keep: Keep = TEN_AND_TEN, sink: Sink | None = None,
            progress: Callable[[], None] | None = None,
            grad: float | None = None,
            data: Callable[[NDArray[np.floating], NDArray[np.floating]], None] | None = None,
            samples: bool = False, top: int = 0) -> Outcome:
    """The loss of the inputs under the options, with the rows and sums the report needs.

    ``grad``: also ∂L/∂x, for the kept rows and the sink; its value is the mean's
    denominator (known from a first run; any number for sum and none).  ``data``: called
    with each block's input rows and target rows as the loss read them (class indices from
    a CSV column, say), in order, for computations of other libraries' rules.
    ``samples``: also summarise the samples' losses (:mod:`bcecli.compute.samples`);
    ``top``: also keep the rows of the ``top`` greatest losses.
    """
    pool = pool or Pool(1)
    behind = partial(pool.ordered, ahead=FOLLOWER_AHEAD)  # (a target block serves many rows)
    xs = Stream(inputs.x.blocks(pool.ordered))
    ts = Stream(inputs.t.blocks(behind))
    first_x, first_t = xs.peek(), ts.peek()
    if first_x is None or first_t is None:
        raise BceError("no data")  # sources raise a clearer message first
    text = frozenset(name for name, source in (("input", inputs.x), ("target", inputs.t),
                                               *inputs.extras.items()) if source.text)
    loss.adapt(opts, Streams(xs, ts), text)
    whole = loss.whole(xs.peek() or first_x)  # (as adapted: a file's one value, a scalar)
    if whole:
        xs, ts = Stream(iter([joined(list(xs))])), Stream(iter([joined(list(ts))]))
    first_x, first_t = xs.peek(), ts.peek()
    assert first_x is not None and first_t is not None
    if top:
        _top_fits(top, math.prod(first_x.data.shape[1:]))
    per_row: dict[str, RowFeed] = {}
    at_once: dict[str, Block] = {}
    for name, source in inputs.extras.items():
        stream = Stream(source.blocks(behind))
        first = stream.peek()
        assert first is not None
        if not whole and loss.by_rows(name, first, stream.peek(1) is not None,
                                      first_x.data.ndim):
            per_row[name] = RowFeed(stream, first.data.shape[1:])
        else:
            at_once[name] = joined(list(stream))
    read = _Progress()
    feed_t = RowFeed(ts)
    names = None if inputs.names is None else RowFeed(Stream(inputs.names.blocks(behind)))
    try:
        plan = loss.plan(opts, first_x, first_t, at_once, text)
        run = _Run(loss, opts, plan, keep, whole, all_rows=sink is not None, grad=grad,
                   data=data, samples=samples, top=top,
                   per_sample=bool(getattr(sink, "wants_samples", False)))
        if whole and names is not None:
            run.names = _all_names(names, first_x.rows, inputs)
        jobs = _whole(run, first_x, first_t, read) if whole else \
            _pairs(run, xs, feed_t, first_t, per_row, read, names, inputs)
        for result in pool.ordered(jobs):
            run.reduce(result, sink)
            if progress is not None:
                progress()
    except ShapeTrouble:
        more, ended = _count_rows(b.rows for b in xs)
        if not ended:  # (an endless stream, `yes 0.5 | bcecli ...`, is never counted out)
            raise BceError(f"shapes do not line up: the input ({inputs.x.name}) goes on "
                           f"past {read.x_rows + more:,} rows, more than the target has; "
                           f"bcecli stopped counting there") from None
        _shape_error(loss, opts, read.x_rows + more, first_x, first_t,
                     feed_t, at_once, per_row, whole)
    if names is not None and not whole and names.take(1) is not None:
        _names_error(names, read.x_rows, inputs)
    x_shape = first_x.data.shape if whole else (read.x_rows, *first_x.data.shape[1:])
    t_shape = first_t.data.shape if whole else _rows_of(first_t, feed_t.served)
    extra_shapes = {n: b.data.shape for n, b in at_once.items()}
    extra_shapes |= {n: (f.served, *f.trailing) for n, f in per_row.items()}
    loss.check_shapes(opts, x_shape, t_shape, extra_shapes)
    for source in (inputs.x, inputs.t, *inputs.extras.values()):
        for note in source.notes:  # (what a reader guessed: a header, an index column)
            run.warn.add(note, note)
    return run.finish(x_shape, inputs.x.column_names, extra_shapes)


TOP_BYTES = 256 << 20
"""What --top's kept rows may take: each keeps its inputs, targets and terms (about 40
bytes a value, with the row's arrays and their copies)."""


def _top_fits(top: int, per_row: int) -> None:
    """Refuse a --top whose rows would not fit TOP_BYTES (a ce row of 50,000 logits)."""
    need = top * max(per_row, 1) * 40
    if need > TOP_BYTES:
        fit = max(1, TOP_BYTES // (max(per_row, 1) * 40))
        raise BceError(f"--top {top:,}: each row holds {per_row:,} values, so {top:,} rows "
                       f"kept whole would take about {need >> 20:,} MB; at most {fit:,} fit in "
                       f"{TOP_BYTES >> 20} MB (or write every sample's loss with -f ndjson and "
                       f"sort)")


def _whole(run: _Run, x: Block, t: Block, read: _Progress) -> Iterator[Callable[[], _Result]]:
    """The one job of inputs read whole (vectors, scalars, in-memory data)."""
    read.x_rows = x.rows
    yield partial(run.block, Paired(0, x, t, {}))


def _names_error(names: RowFeed, rows: int | None, inputs: Inputs) -> None:
    """The names (``--id``) are not one per input row (``rows`` None: fewer than the
    input's rows, which are not all read)."""
    assert inputs.names is not None
    count = names.served + names.count_rest()
    has = f"has {rows:,} rows" if rows is not None else "has more rows"
    raise BceError(f"--id: {inputs.names.name} has {count:,} names, but the input "
                   f"({inputs.x.name}) {has}; --id needs one name per input row")


def _all_names(names: RowFeed, rows: int, inputs: Inputs) -> NDArray[Any]:
    """Every name at once (an input read whole)."""
    parts = names.take_parts(rows)
    if parts is None or _count(parts) != rows or names.take(1) is not None:
        _names_error(names, rows, inputs)
    assert parts is not None
    return np.concatenate([p.data.reshape(-1) for p in parts]) if parts else \
        np.empty(0, object)


def _pairs(run: _Run, xs: Stream, feed_t: RowFeed, first_t: Block,
           per_row: Mapping[str, RowFeed], read: _Progress, names: RowFeed | None = None,
           inputs: Inputs | None = None) -> Iterator[Callable[[], _Result]]:
    """Jobs computing each block of input rows with the same rows of the others.

    Where the target (or a per-row option) cannot be read at some row, the rows before it
    are computed first, then its error is raised: errors come in the order of their rows.
    """
    for xb in xs:
        start = read.x_rows
        read.x_rows += xb.rows
        feeds = {"": feed_t, **per_row}
        taken: dict[str, list[Block]] = {}
        for name, feed in feeds.items():
            if xb.data.ndim and xb.rows == 0:  # an empty matrix's one block: adds nothing
                if name == "":
                    taken[name] = [Block(first_t.data[:0], first_t.locate)]
                continue
            parts = feed.take_parts(xb.rows)
            if parts is None or (feed.error is None and _count(parts) != xb.rows):
                raise ShapeTrouble()
            taken[name] = parts
        rows = min([xb.rows, *(_count(p) for p in taken.values())])
        if rows < xb.rows:  # something could not be read at this row: what comes before
            xb = Block(xb.data[:rows], xb.locate)
            taken = {n: _first_rows(p, rows) for n, p in taken.items()}
        errors = [feeds[n].error for n, p in taken.items() if _count(p) == rows]
        read.x_rows = start + xb.rows
        t_parts = taken.pop("")
        nbytes = xb.data.nbytes + sum(b.data.nbytes for p in (t_parts, *taken.values())
                                      for b in p)
        labels = None
        if names is not None:
            parts = names.take_parts(xb.rows)
            if parts is None or _count(parts) != xb.rows:
                assert inputs is not None
                _names_error(names, None, inputs)
            assert parts is not None
            labels = np.concatenate([p.data.reshape(-1) for p in parts]) if parts else \
                np.empty(0, object)
        yield Weighed(partial(run.pair, start, xb, t_parts, taken, labels), nbytes)
        for error in errors:  # the earliest (the target's before an option's at one row)
            if error is not None:
                raise error
    if feed_t.take(1) is not None or any(f.take(1) is not None for f in per_row.values()):
        raise ShapeTrouble()


def _first(paired: Paired, n: int, size: int | None = None) -> Paired:
    """The first ``n`` rows of a block and of the rows paired with it; with ``size``, as
    many rows as that, the last of the ``n`` repeated."""
    def rows(block: Block) -> Block:
        if not block.data.ndim:
            return block
        data = block.data[:n]
        if size is not None:
            data = np.concatenate([data, np.repeat(data[-1:], size - n, axis=0)])
        return Block(data, block.locate)

    return Paired(paired.start, rows(paired.x), rows(paired.t),
                  {name: rows(b) for name, b in paired.extras.items()})


def _count(parts: list[Block]) -> int:
    return sum(b.rows for b in parts)


def _first_rows(parts: list[Block], n: int) -> list[Block]:
    """The first ``n`` rows of consecutive blocks."""
    out = []
    for block in parts:
        if n <= 0:
            break
        out.append(block if block.rows <= n else Block(block.data[:n], block.locate))
        n -= block.rows
    return out


def _rows_of(first: Block, rows: int) -> Shape:
    """The shape of a matrix of ``rows`` rows like ``first`` (a scalar stays a scalar)."""
    return first.data.shape if first.data.ndim == 0 else (rows, *first.data.shape[1:])


COUNT_BLOCKS = 1024
"""Blocks of the rest of an input read to count its rows for a shape message, at most
(about 1 GiB of text, seconds): an endless stream is not counted for ever."""


def _count_rows(rows: Iterator[int]) -> tuple[int, bool]:
    """The sum of the rows of up to COUNT_BLOCKS blocks, and whether that was all of them."""
    total = 0
    for n, r in enumerate(rows):
        if n >= COUNT_BLOCKS:
            return total, False
        total += r
    return total, True


def _shape_error(loss: Loss[Any, Any], opts: Options, x_rows: int, first_x: Block,
                 first_t: Block, feed_t: RowFeed, at_once: Mapping[str, Block],
                 per_row: Mapping[str, RowFeed], whole: bool) -> None:
    """Work out the full shapes (reading to the end) and raise the right message."""
    if whole:
        x_shape, t_shape = first_x.data.shape, first_t.data.shape
    else:
        x_shape = (x_rows, *first_x.data.shape[1:])
        t_shape = _rows_of(first_t, feed_t.served + feed_t.count_rest())
    extra_shapes = {n: b.data.shape for n, b in at_once.items()}
    extra_shapes |= {n: (f.served + f.count_rest(), *f.trailing) for n, f in per_row.items()}
    loss.check_shapes(opts, x_shape, t_shape, extra_shapes)
    raise BceError(f"shapes do not line up: input {fmt_shape(x_shape)}, target "
                   f"{fmt_shape(t_shape)}")


class _Run:
    """One computation: the blocks' terms (on any thread) and their reduction (in order)."""

    def __init__(self, loss: Loss[Any, Any], opts: Options, plan: Any, keep: Keep,
                 whole: bool, all_rows: bool, grad: float | None = None,
                 data: Callable[[NDArray[np.floating], NDArray[np.floating]], None] | None
                 = None, samples: bool = False, top: int = 0, per_sample: bool = False
                 ) -> None:
        self.loss, self.opts, self.plan, self.keep, self.whole = loss, opts, plan, keep, whole
        self.all_rows = all_rows
        self.data = data
        self.grad = grad
        self.total = ChunkedSum()
        self.weights = ChunkedSum()
        self.count = 0
        self.counted = 0.0
        self.infinite = 0
        self.rows_done = 0
        self.head: list[Row] = []
        self.tail: deque[Row] = deque(maxlen=keep.tail)
        self.warn = Warnings()
        self.parts: list[tuple[float, ChunkedSum]] = []
        self.per_sample = per_sample
        """Whether the sink writes each sample (its loss and fields)."""
        self.names: NDArray[Any] | None = None
        """Every row's name, for an input read whole (``--id``)."""
        self.samples = Samples() if samples else None
        self.top = top
        self.worst = Worst(top) if top > 0 else None

    def pair(self, start: int, x: Block, t: list[Block], extras: dict[str, list[Block]],
             names: NDArray[Any] | None = None) -> _Result:
        """Join the rows taken from several blocks (here, on the pool), then compute."""
        return self.block(Paired(start, x, joined(t), {n: joined(p) for n, p in extras.items()}),
                          names)

    def block(self, paired: Paired, names: NDArray[Any] | None = None) -> _Result:
        """The terms of a block and everything reduced from them (runs on the pool);
        ``names``: its rows' names (``--id``)."""
        if names is None and self.names is not None:  # (an input read whole)
            names = self.names
        try:
            bt = self.loss.terms(self.opts, self.plan, paired)
        except BceError as exc:
            raise self._earliest(paired, exc) from None
        values = bt.values
        nrows, k = values.shape
        rest = self.loss.element_shape(paired.x.data.shape)[1:]  # one row's elements
        v64 = values.astype(np.float64, copy=False)
        flat = v64.reshape(-1)
        offset = paired.start * k
        parts = split_chunks(flat, offset)
        d64 = None if bt.denominators is None else \
            bt.denominators.astype(np.float64, copy=False)
        den_parts = None if d64 is None else split_chunks(d64.reshape(-1), offset)
        kept_rows = self._kept(paired.start, nrows)
        ranked = self.samples is not None or self.top > 0  # (every row's value needed)
        # each row's value: for every row where a sink or the samples want them, else for
        # the rows kept
        rows = slice(None) if self.all_rows or ranked else [i - paired.start for i in kept_rows]
        row_sums = v64[rows].sum(axis=1)
        row_dens = np.full(row_sums.shape, float(k)) if d64 is None else d64[rows].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            row_values = row_sums / row_dens
        head, _, sums, tail = parts  # (a term inf or NaN makes its chunk's sum so)
        finite = bool(np.isfinite(sums.sum() + head.sum() + tail.sum()))
        grads = None if self.grad is None else \
            self.loss.grad(self.opts, self.plan, paired, self.grad).reshape(bt.inputs.shape)
        whole_rows = self.all_rows or ranked

        def row(local: int, at: int) -> Row:
            return Row(
                index=paired.start + local, input=bt.inputs[local].copy(),
                target=bt.targets[local].copy(), terms=values[local].copy(),
                value=float(row_values[at]), denominator=float(row_dens[at]),
                extras={n: a[local].copy() for n, a in bt.extras.items()},
                grad=None if grads is None else grads[local].copy(),
                name=None if names is None else str(names[local]),
            )

        kept = [row(i - paired.start, i - paired.start if whole_rows else j)
                for j, i in enumerate(kept_rows)]
        total = self.opts.reduction == "sum"
        losses = sample_losses(self.loss.terms_are_samples, total, v64, row_sums, row_values) \
            if self.samples is not None or self.per_sample else None
        described = None if losses is None or self.samples is None else \
            self._samples(bt, losses, d64, row_dens)
        each = None if losses is None or not self.per_sample else \
            (losses, self.loss.sample_fields(self.opts, self.plan, bt.inputs, bt.targets))
        worst = []
        if self.worst is not None:  # (rows that count nothing, all ignored, are not ranked)
            key = sample_losses(False, total, v64, row_sums, row_values)  # (rows, K-dim too)
            worst = [(float(key[i]), paired.start + i, row(i, i))
                     for i in self.worst.candidates(key, row_dens != 0)]
        loss_parts = None if bt.parts is None else [
            (coef, split_chunks(part.astype(np.float64, copy=False).reshape(-1), offset))
            for coef, part in bt.parts]
        return _Result(paired.start, values.reshape(nrows, *rest), row_values, parts,
                       den_parts, loss_parts, grads, values.size,
                       0 if finite else int(np.count_nonzero(np.isinf(flat))), kept,
                       bt.warnings, (bt.inputs, bt.targets) if self.data else None,
                       described, worst,
                       None if names is None else [str(v) for v in names.tolist()], each)

    def _samples(self, bt: BlockTerms, losses: F64, d64: F64 | None, row_dens: F64
                 ) -> SamplePart:
        """A block's samples (rows, or terms for the losses over classes) described: the
        counted ones' losses and the loss's per-class sums."""
        if self.loss.terms_are_samples:  # (a sample counts unless its term counts nothing)
            counted = np.ones(losses.shape, bool) if d64 is None else d64.reshape(-1) != 0
        else:
            counted = row_dens != 0
        groups = self.loss.groups(self.opts, self.plan, bt, counted)
        return describe(losses if counted.all() else losses[counted],
                        int(counted.size - counted.sum()), groups)

    def _earliest(self, paired: Paired, exc: BceError) -> BceError:
        """The error of the earliest row of a block that has one, whatever its kind (a
        loss checks a block one kind at a time: a NaN anywhere before a value out of range);
        found by halving, only once the block is known to hold an error."""
        if self.whole or paired.x.data.ndim == 0:
            return exc
        rows = paired.x.rows
        lo, hi = 0, rows  # the first lo rows hold no error; the first hi rows do
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                self.loss.terms(self.opts, self.plan, _first(paired, mid))
            except BceError:
                hi = mid
            else:
                lo = mid
        if hi == rows:
            return exc
        try:  # said of a block of the same shape (messages may name it): the rest of its
            # rows copies of the first bad one, so that whatever fails, fails there
            self.loss.terms(self.opts, self.plan, _first(paired, hi, rows))
        except BceError as err:
            return err
        return exc  # (not reached: that row fails)

    def _kept(self, start: int, n: int) -> list[int]:
        head = range(start, min(start + n, self.keep.head))
        tail = range(max(start, start + n - self.keep.tail, self.keep.head), start + n)
        return [*head, *tail]

    def reduce(self, result: _Result, sink: Sink | None) -> None:
        """Add a block's results to the run's (in row order)."""
        self.total.add(*result.value_parts)
        if result.loss_parts is not None:
            if not self.parts:
                self.parts = [(coef, ChunkedSum()) for coef, _ in result.loss_parts]
            for (_, total), (_, part) in zip(self.parts, result.loss_parts, strict=True):
                total.add(*part)
        if result.den_parts is None:
            self.counted += result.count
        else:
            self.weights.add(*result.den_parts)
        self.count += result.count
        self.infinite += result.infinite
        for key, message, n in result.warnings:
            self.warn.add(key, message, n)
        for row in result.rows:
            (self.head if row.index < self.keep.head else self.tail).append(row)
        self.rows_done = result.start + (result.terms.shape[0] if result.terms.ndim else 1)
        if sink is not None:
            sink.write(result.terms, result.row_values, result.grad, start=result.start,
                       names=result.names, samples=result.each)
        if self.data is not None and result.data is not None:
            self.data(*result.data)
        if self.samples is not None and result.samples is not None:
            self.samples.add(result.samples)
        if self.worst is not None:
            for loss, index, row in sorted(result.worst, key=lambda w: w[1]):
                self.worst.push(loss, index, row)

    def finish(self, x_shape: Shape, column_names: list[str] | None,
               extra_shapes: dict[str, Shape]) -> Outcome:
        """The outcome, finalised once."""
        outcome = Outcome(
            loss_fn=self.loss, options=self.opts, plan=self.plan, total=self.total.value(),
            denominator=self.counted + self.weights.value(), count=self.count,
            input_shape=x_shape, element_shape=self.loss.element_shape(x_shape),
            nrows=self.rows_done, head=self.head, tail=list(self.tail),
            column_names=column_names, extra_shapes=extra_shapes, infinite=self.infinite,
            notes=self.warn, parts=[(coef, total.value()) for coef, total in self.parts],
            grad_denominator=self.grad,
            samples=None if self.samples is None else self.samples.summary(),
            worst=None if self.worst is None else self.worst.rows(),
        )
        return finalize(outcome)


