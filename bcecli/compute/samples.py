"""The per-sample view of a run: a summary of the samples' losses and the worst samples.

A sample is a row of the input (a position for the losses over classes, whose terms are
one per sample); its loss is the row's mean term (its sum under ``-r sum``), the value the
table's last column shows.  Each block's samples are described on the thread pool
(:class:`SamplePart`) and added in row order to a :class:`Samples`, whose memory is bounded:
the losses themselves are kept up to :data:`EXACT_SAMPLES`, past that they are counted in
bins of 1/4096 of an octave (quantiles then within 0.013 % of the exact ones, and said to
be approximate).  The worst samples are a bounded heap (:class:`Worst`), not a sort.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bcecli.losses.base import Groups

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
EXACT_SAMPLES = 1 << 20
"""Samples whose losses are kept as they are for the quantiles (8 MiB); past that, binned."""
BIN_SHIFT = 40
"""A loss's bin is its float64 bits shifted right this much: 12 bits of its mantissa kept,
4096 bins per octave, each at most 2⁻¹² of its value wide."""
DENSE_BINS = 1 << 20
"""Bins counted in one array (8 MiB): 256 octaves around the first losses binned."""
QUANTILES = (50, 90, 99)
HISTOGRAM_BINS = 10


@dataclass
class SamplePart:
    """One block's samples, described on the pool."""

    losses: F64
    """The counted samples' losses, finite or not (NaN ones included)."""
    uncounted: int
    """Samples that count nothing in the mean (an ignored target, a class weight of 0)."""
    group_keys: I64
    group_sums: F64
    group_counts: I64
    """Per-class sums and counts of the block (keys from :meth:`Loss.groups`)."""
    correct: int | None = None
    """Counted samples whose most likely class is the target (losses over classes)."""


def sample_losses(terms_are_samples: bool, total: bool, values: F64, row_sums: F64,
                  row_values: F64) -> F64:
    """A block's samples' losses: its terms where each is a sample (the losses over classes),
    else each row's mean (its sum for ``-r sum``), as the table's last column shows.

    >>> sample_losses(False, False, np.array([[1.0, 3.0]]), np.array([4.0]), np.array([2.0]))
    array([2.])
    """
    if terms_are_samples:
        return values.reshape(-1)
    return row_sums if total else row_values


def describe(losses: F64, uncounted: int = 0, groups: Groups | None = None) -> SamplePart:
    """A block's part: its counted samples' losses, how many did not count, and its
    per-class sums (:meth:`bcecli.losses.base.Loss.groups`)."""
    if groups is None:
        empty = np.empty(0, np.int64)
        return SamplePart(losses, uncounted, empty, np.empty(0, np.float64), empty)
    return SamplePart(losses, uncounted, groups.keys, groups.sums, groups.counts,
                      groups.correct)


def _bins(values: F64) -> I64:
    """Each value's bin: monotone in the value (negative values below 0's bin)."""
    v = values + 0.0  # (−0.0 is 0.0)
    bits = np.abs(v).view(np.int64) >> BIN_SHIFT
    out: I64 = np.where(v < 0, -bits - 1, bits)
    return out


def _bin_value(key: int) -> float:
    """The middle of a bin (its values differ from it by at most 2⁻¹³ of their size); the
    bin of infinity is infinity."""
    mag = abs(key + 1) if key < 0 else key
    if mag << BIN_SHIFT >= 0x7FF0000000000000:
        return -math.inf if key < 0 else math.inf
    middle = float(np.array([(mag << BIN_SHIFT) + (1 << (BIN_SHIFT - 1))],
                            dtype=np.int64).view(np.float64)[0])
    return -middle if key < 0 else middle


@dataclass
class Summary:
    """What :class:`Samples` says at the end."""

    count: int
    uncounted: int
    nan: int
    mean: float
    std: float
    minimum: float
    maximum: float
    quantiles: dict[int, float]
    exact: bool
    """Whether the quantiles and the histogram are of the losses themselves (else of their
    bins, within 2⁻¹³ of each value)."""
    histogram: list[tuple[float, float, int]]
    """(low, high, count) of equal-width bins from the least to the greatest finite loss."""
    infinite: int
    groups: dict[int, tuple[int, float]]
    """Per class key: (count, mean loss)."""
    correct: int | None

    @property
    def accuracy(self) -> float | None:
        """The share of counted samples whose most likely class is the target."""
        if self.correct is None or self.count == 0:
            return None
        return self.correct / self.count


@dataclass
class Samples:
    """The samples of a run, added block by block in row order, in bounded memory."""

    count: int = 0
    uncounted: int = 0
    nan: int = 0
    infinite: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    inf_sum: float = 0.0
    kept: list[F64] = field(default_factory=list)
    kept_size: int = 0
    bins: bool = False
    base: int = 0
    dense: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    bin_keys: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    bin_counts: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    group_sums: dict[int, float] = field(default_factory=dict)
    group_counts: dict[int, int] = field(default_factory=dict)
    correct: int | None = None

    def add(self, part: SamplePart) -> None:
        """Add a block's samples."""
        self.uncounted += part.uncounted
        losses = part.losses
        nan = np.isnan(losses)
        if nan.any():
            self.nan += int(nan.sum())
            losses = losses[~nan]
        if part.correct is not None:
            self.correct = (self.correct or 0) + part.correct
        for key, s, c in zip(part.group_keys.tolist(), part.group_sums.tolist(),
                             part.group_counts.tolist(), strict=True):
            self.group_sums[key] = self.group_sums.get(key, 0.0) + s
            self.group_counts[key] = self.group_counts.get(key, 0) + c
        n = losses.size
        if n == 0:
            return
        finite = np.isfinite(losses)
        if not finite.all():
            self.infinite += int((~finite).sum())
            self.inf_sum += float(losses[~finite].sum())  # (inf, -inf, or NaN for both)
        fin = losses[finite] if not finite.all() else losses
        if fin.size:
            with np.errstate(over="ignore"):  # (Chan et al.'s merge of means and squares)
                mean = float(fin.mean())
                m2 = float(np.sum((fin - mean) ** 2))
            old = self.count - self.infinite + int((~finite).sum())  # finite ones so far
            total = old + fin.size
            delta = mean - self.mean
            self.m2 += m2 + delta * delta * old * fin.size / total
            self.mean += delta * fin.size / total
        self.count += n
        self.minimum = min(self.minimum, float(losses.min()))
        self.maximum = max(self.maximum, float(losses.max()))
        if not self.bins and self.kept_size + n <= EXACT_SAMPLES:
            self.kept.append(losses.copy())
            self.kept_size += n
            return
        if not self.bins:  # from here on, counted in bins
            self.bins = True
            for kept in self.kept:
                self._bin(kept)
            self.kept, self.kept_size = [], 0
        self._bin(losses)

    def _bin(self, values: F64) -> None:
        """Count values in their bins: a window of DENSE_BINS counts (256 octaves) centred
        on the first values binned, and the rare bins outside it merged sparsely."""
        if values.size == 0:
            return
        keys = _bins(values)
        if self.dense.size == 0:
            self.base = int(np.median(keys)) - DENSE_BINS // 2
            self.dense = np.zeros(DENSE_BINS, np.int64)
        local = keys - self.base
        inside = (local >= 0) & (local < DENSE_BINS)
        if not inside.all():
            self._sparse(keys[~inside])
            local = local[inside]
        if local.size:
            lo = int(local.min())
            self.dense[lo:lo + int(local.max()) - lo + 1] += np.bincount(local - lo)

    def _sparse(self, keys: I64) -> None:
        uniq, counts = np.unique(keys, return_counts=True)
        if self.bin_keys.size:
            uniq = np.concatenate([self.bin_keys, uniq])
            counts = np.concatenate([self.bin_counts, counts])
            uniq, inverse = np.unique(uniq, return_inverse=True)
            counts = np.bincount(inverse, weights=counts).astype(np.int64)
        self.bin_keys, self.bin_counts = uniq.astype(np.int64), counts.astype(np.int64)

    def summary(self) -> Summary:
        """The summary of everything added."""
        n = self.count
        finite = n - self.infinite
        mean, std = self.mean, math.sqrt(self.m2 / (finite - 1)) if finite > 1 else math.nan
        if self.infinite:  # (the mean of losses some of which are infinite)
            mean, std = self.inf_sum, math.nan
        values, weights = self._values()
        groups = {k: (c, self.group_sums[k] / c if c else math.nan)
                  for k, c in sorted(self.group_counts.items())}
        return Summary(
            count=n, uncounted=self.uncounted, nan=self.nan,
            mean=mean if n else math.nan, std=std,
            minimum=self.minimum if n else math.nan, maximum=self.maximum if n else math.nan,
            quantiles={q: _quantile(values, weights, q / 100) for q in QUANTILES},
            exact=not self.bins, histogram=_histogram(values, weights),
            infinite=self.infinite, groups=groups, correct=self.correct)

    def _values(self) -> tuple[F64, I64 | None]:
        """The losses (unsorted), or the middles of their bins, sorted, with their counts."""
        if not self.bins:  # (in no order: np.quantile partitions, which is faster)
            return (np.concatenate(self.kept) if self.kept else np.empty(0)), None
        seen = np.flatnonzero(self.dense)
        keys = np.concatenate([seen + self.base, self.bin_keys])
        counts = np.concatenate([self.dense[seen], self.bin_counts])
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        middles = np.array([_bin_value(k) for k in keys.tolist()])
        middles = np.clip(middles, self.minimum, self.maximum)  # (the ends are known exactly)
        return middles, counts


def _quantile(values: F64, weights: I64 | None, q: float) -> float:
    """numpy's default (linear) quantile of values (sorted where they have ``weights``, each
    counted that many times); of two equal infinite neighbours, that infinity."""
    if values.size == 0:
        return math.nan
    total = values.size if weights is None else int(weights.sum())
    pos = (total - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    if weights is None:
        a, b = (float(v) for v in np.partition(values, (lo, hi))[[lo, hi]])
    else:
        cum = np.cumsum(weights)
        a = float(values[np.searchsorted(cum, lo, side="right")])
        b = float(values[np.searchsorted(cum, hi, side="right")])
    if a == b or hi == lo:
        return a
    return a + (b - a) * (pos - lo)


def _histogram(values: F64, weights: I64 | None) -> list[tuple[float, float, int]]:
    """Counts in HISTOGRAM_BINS equal bins from the least to the greatest finite value (one
    bin where they are all equal)."""
    finite = np.isfinite(values)
    if not finite.all():
        values = values[finite]
        weights = None if weights is None else weights[finite]
    if values.size == 0:
        return []
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        total = values.size if weights is None else int(weights.sum())
        return [(lo, hi, total)]
    try:
        counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(lo, hi),
                                     weights=weights)
    except ValueError:  # (a range of a few ulps: too narrow for ten bins, one then)
        total = values.size if weights is None else int(weights.sum())
        return [(lo, hi, total)]
    return [(float(edges[i]), float(edges[i + 1]), int(round(c))) for i, c in enumerate(counts)]


MAX_TOP = 10_000
"""The most samples ``--top`` keeps (each kept whole, with its inputs and targets)."""


class Worst:
    """The ``k`` samples of greatest loss seen so far (NaN and +inf greatest; of equal
    losses, the earlier row): a min-heap of at most ``k``, whose least loss is the bar a
    block's rows must pass to be kept at all."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.heap: list[tuple[float, int, Any]] = []
        self.bar = -math.inf
        """The least loss kept, once ``k`` are kept: only greater ones can enter."""

    def candidates(self, losses: F64, counted: NDArray[np.bool_]) -> list[int]:
        """The positions in a block of the rows that may enter (on any thread: the bar
        only rises, so an older one lets more rows through, never fewer)."""
        key = np.where(np.isnan(losses), np.inf, losses)
        at = np.flatnonzero(counted & (key > self.bar)) if self.bar > -math.inf else \
            np.flatnonzero(counted)
        if at.size > self.k:
            at = at[np.argpartition(-key[at], self.k - 1)[:self.k]]
        return [int(i) for i in at]

    def push(self, loss: float, index: int, row: Any) -> None:
        """Offer a sample (in row order)."""
        item = (math.inf if math.isnan(loss) else loss, -index, row)
        if len(self.heap) < self.k:
            heapq.heappush(self.heap, item)
        elif item[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)
        if len(self.heap) == self.k:
            self.bar = self.heap[0][0]

    def rows(self) -> list[Any]:
        """The kept samples, greatest loss first."""
        return [row for _, _, row in sorted(self.heap, key=lambda t: t[:2], reverse=True)]
