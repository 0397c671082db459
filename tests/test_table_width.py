"""Tables fit the width and never cut a number: a sweep of widths 20 … 140.

For every case and width W the breakdown is rendered as the command line renders it
(``render_text``), and:

(a) no line is wider than W — except what cannot fit whole: a single word (a number in a
    very narrow terminal), or a table already at its smallest (the row labels, one column,
    the ``…`` of the hidden ones, and the row mean where there is one), which is printed
    at its own width rather than cut.  At the default precision (4 decimals) every case
    fits from 40 columns up (the README's promise, kept to the letter);
(b) no cell holds ``…`` except the markers themselves: the hidden columns' ``…``, and the
    ``⋮`` or ``3, …`` of hidden rows and positions;
(c) every cell of a value column is a number (or, for an ignored target, ``—``; never
    blank) that reads as a float, is written as ``rounded`` writes it with that precision
    (so nothing was cut from it), and in the matrix tables equals the value it stands for,
    rounded (σ(x), the terms, the gradient, the row mean).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.cells import cell_len

import bcecli
from bcecli.api import _source
from bcecli.compute.engine import Inputs, compute
from bcecli.compute.outcome import Keep, Outcome
from bcecli.losses.base import Matrix
from bcecli.losses.numerics import sigmoid
from bcecli.report.console import render_text
from bcecli.report.numbers import rounded

SAMPLES = Path(__file__).parent.parent / "samples"
WIDTHS = range(20, 141)
FITS_FROM = 40
"""At the default precision, every line fits a terminal this wide or wider."""


@dataclass
class Case:
    """A result, its outcome as the command line computes it (with --grad, the gradient
    table too), and the arrays its tables show."""

    result: bcecli.Result
    outcome: Outcome
    sigma: np.ndarray | None

    @property
    def vector(self) -> bool:
        return len(self.outcome.input_shape) == 1


def _case(fn: Callable[..., bcecli.Result], x: Any, t: Any, grad: bool = False,
          sigma: bool = False, rows: int = 20, **options: Any) -> Case:
    """The result of ``fn``, and the outcome the command line computes with
    ``--max-rows rows`` (and ``--grad``: the gradient kept for the shown rows)."""
    r = fn(x, t, **options)
    o = r.outcome
    kinds = {param.name for param in o.loss_fn.params if param.kind is Matrix}
    matrices = {name: _source(np.asarray(v, dtype=np.float64), name)
                for name, v in options.items() if name in kinds}
    inputs = Inputs(_source(np.asarray(x, dtype=np.float64), "input"),
                    _source(np.asarray(t, dtype=np.float64), "target"), matrices)
    denominator = (o.denominator if o.options.reduction == "mean" else 1.0) if grad else None
    with np.errstate(all="ignore"):
        outcome = compute(o.loss_fn, o.options, inputs, keep=Keep.rows(rows), grad=denominator)
    s = sigmoid(np.asarray(x, dtype=np.float64)) if sigma else None
    return Case(r, outcome, s)


def _csv(name: str, file: str) -> np.ndarray:
    return np.loadtxt(SAMPLES / name / file, delimiter=",", ndmin=2)


RED_X = [[123456.7, -98765.4, 1e-9, 3.3, 12345678.9, 5.5]]
RED_T = [[0, 1, 0, 1, 0, 1]]
RED_W = [1e6, 2, 3, 4, 5, 6]
L = [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.2, -0.3, 0.4], [0.0, 2.5, -2.0]]


def _random(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform [0, 1) numbers, normal ones, and 0/1 targets."""
    rng = np.random.default_rng(seed)
    return rng.random(shape), rng.normal(0, 1, shape), (rng.random(shape) > 0.5) * 1.0


def _cases() -> Iterator[tuple[str, Callable[[], Case], tuple[int, ...]]]:
    yield ("red-team", lambda: _case(bcecli.bce_logits, RED_X, RED_T, grad=True, sigma=True,
                                     weight=RED_W), (0, 4, 10, 17))
    yield ("tutorial-3x3-sigmoid-bce", lambda: _case(
        bcecli.bce, _csv("tutorial-3x3-sigmoid-bce", "input.csv"),
        _csv("tutorial-3x3-sigmoid-bce", "target.csv"), grad=True, sigma=True, sigmoid=True),
        (4, 17))
    yield ("ce-32x10x5-kdim", lambda: _case(
        bcecli.ce, np.array(json.loads((SAMPLES / "ce-32x10x5-kdim" / "input.json").read_text())),
        np.loadtxt(SAMPLES / "ce-32x10x5-kdim" / "target.csv", delimiter=","), rows=4),
        (4, 17))
    yield ("ce-weight-smoothing-ignore", lambda: _case(
        bcecli.ce, L, [0, 2, 1, 1], grad=True, weight=[1, 2, 3], label_smoothing=0.1,
        ignore_index=1), (4, 17))
    yield ("ce-probabilities", lambda: _case(
        bcecli.ce, L, [[0.7, 0.2, 0.1], [0, 0, 1], [0.2, 0.2, 0.6], [0.5, 0.5, 0]],
        label_smoothing=0.2), (4,))
    yield ("nll-weight-ignore", lambda: _case(
        bcecli.nll, [[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3], [-1.1, -1.1, -1.1]], [0, 1, 2],
        grad=True, weight=[1, 2, 3], ignore_index=2), (4,))
    u, z, y = _random((3, 40), 7)  # 40 columns of numbers from 1e-12 to 1e12
    yield ("wide-mixed", lambda: _case(bcecli.bce_logits, z * 10.0 ** np.round(24 * u - 12), y,
                                       sigma=True, reduction="sum"), (4, 17))
    yield ("vector", lambda: _case(bcecli.bce_logits, [1e-9, -3.5, 2e8], [1, 0, 1], grad=True,
                                   sigma=True), (4,))
    yield ("300000-rows", lambda: _case(bcecli.bce, *_random((300000, 3), 8)[::2]), (4,))


CASES = list(_cases())


@dataclass
class Drawn:
    """A table as printed: its lines' indices in the output, its header and rows of cells."""

    lines: list[int]
    header: list[str]
    rows: list[list[str]]


def _tables(lines: list[str]) -> list[Drawn]:
    """The tables of an output (heavy box, or ASCII2 with ``--ascii``)."""
    out: list[Drawn] = []
    current: Drawn | None = None
    for i, line in enumerate(lines):
        if current is None and re.match(r"^[┏+][━-]", line):
            current = Drawn([i], [], [])
            out.append(current)
        elif current is not None and line[:1] in "┃│|┡└+" and line[-1:] in "┃│|┩┘+":
            current.lines.append(i)
            if line[0] in "┃│|":
                cells = [c.strip() for c in re.split("[┃│|]", line)[1:-1]]
                if not current.header:
                    current.header = cells
                else:
                    current.rows.append(cells)
            if line[0] in "└" or (line[0] == "+" and current.rows):
                current = None
        else:
            current = None
    return out


def _number_format(p: int) -> re.Pattern[str]:
    fixed = r"-?\d+" + (rf"\.\d{{{p}}}" if p else "")
    return re.compile(rf"^(?:{fixed}|-?\d\.\d{{{max(p, 1)}}}e[+-]\d\d\d?|nan|-?inf)$")


MARKERS = {"…", "...", "⋮", ":"}
LABEL_COLUMNS = {"row", "target", "target (p)"}


def _value(case: Case, head: str, row: int) -> float | None:
    """What a matrix table's cell stands for, from the arrays (None: not a matrix column)."""
    r = case.result
    if head in ("row mean", "row sum"):
        terms = np.asarray(r.terms)[row]
        return float(np.sum(terms)) if head == "row sum" else float(r.row_means[row])
    m = re.fullmatch(r"(ℓ|l|∂|d) (\d+)|(\d+)|(p|ℓ|l|∂L/∂x|dL/dx)", head)
    if m is None:
        return None
    kind = m.group(1) or m.group(4) or "σ"
    j = int(m.group(2) or m.group(3) or 0)
    pick: Callable[[np.ndarray], float] = (lambda a: float(a[row])) if case.vector \
        else (lambda a: float(a[row, j]))
    if kind in ("ℓ", "l"):
        return pick(np.asarray(r.terms))
    if kind in ("∂", "d", "∂L/∂x", "dL/dx"):
        return pick(r.grad)
    assert case.sigma is not None
    return pick(case.sigma)


def _is_matrix(case: Case, t: Drawn) -> bool:
    """Whether a table shows a matrix (one column per element); ce and nll show their
    per-sample table of named columns, and a matrix only for the gradient."""
    if case.outcome.loss_fn.name not in ("ce", "nll"):
        return True
    return all(h in MARKERS or re.fullmatch(r"(∂|d) \d+|∂L/∂x|dL/dx", h) for h in t.header[1:])


def check(case: Case, text: str, width: int, p: int) -> None:
    lines = text.splitlines()
    drawn = _tables(lines)
    in_table = {i: t for t in drawn for i in t.lines}
    fmt = _number_format(p)
    # (a) the width
    for i, line in enumerate(lines):
        if cell_len(line) <= width:
            continue
        assert not (p <= 4 and width >= FITS_FROM), (width, line)
        if i in in_table:
            values = [h for h in in_table[i].header[1:] if h not in MARKERS
                      and h not in ("row mean", "row sum")]
            hides = any(h in MARKERS for h in in_table[i].header)
            assert len(values) == 1 and hides, \
                (width, "a table wider than the terminal that could hide more", line)
        else:
            # (one word: an operator and its operand, ``ln σ(−1.2e+07)]``, are one term)
            word = re.sub(r"(?:(?:ln|exp|Σ\S*) )+|\([^\s()]*\) = ", "", line.strip())
            assert " " not in word, (width, "a line of words wider than the width",
                                             line)
    for t in drawn:
        is_matrix = _is_matrix(case, t)
        for cells in t.rows:
            if cells[0] in MARKERS:
                assert all(c in MARKERS for c in cells), cells  # a row of ⋮
                continue
            for head, cell in zip(t.header, cells, strict=True):
                # (b) an ellipsis only as a marker
                if "…" in cell or "..." in cell:
                    assert cell in MARKERS and head in MARKERS or (
                        head == "row" and re.fullmatch(r"\d+, (…|\.\.\.)", cell)), \
                        (width, head, cell)
                    continue
                if head in MARKERS:
                    pytest.fail(f"a cell under the hidden columns' marker: {cell!r}")
                if head in LABEL_COLUMNS:
                    continue
                if not is_matrix and cell in ("—", "-", "no classes"):
                    continue  # nothing to show: an ignored target's x[target], its weight
                # (c) whole numbers, as rounded writes them, equal to what they stand for
                assert fmt.match(cell), (width, head, cell)
                float(cell)
                if is_matrix:
                    value = _value(case, head, int(cells[0]))
                    assert value is not None
                    assert cell == rounded(value, p), (width, head, cells[0], cell)
                elif head in ("ℓ", "l"):
                    at = tuple(int(i) for i in cells[0].split(", "))
                    assert cell == rounded(float(np.asarray(case.result.terms)[at]), p), \
                        (width, at, cell)


@functools.cache
def _made(name: str) -> Case:
    return next(make for n, make, _ in CASES if n == name)()


ASCII = {"red-team", "nll-weight-ignore"}
"""Cases also drawn in ASCII at 4 decimals (``--ascii``: ``...`` for ``…``, 3 wide)."""


EXPLAIN = {"red-team", "tutorial-3x3-sigmoid-bce", "ce-32x10x5-kdim",
           "ce-weight-smoothing-ignore", "nll-weight-ignore"}
"""Cases also swept with ``--explain`` (its lines above the tables), at 4 decimals (the
red-team input at every precision)."""


@pytest.mark.parametrize(("name", "p"), [(n, p) for n, _, ps in CASES for p in ps],
                         ids=[f"{n}-p{p}" for n, _, ps in CASES for p in ps])
def test_every_width(name: str, p: int) -> None:
    case = _made(name)
    for width in WIDTHS:
        table = render_text(case.outcome, p, width, False, False)
        check(case, table, width, p)
        if name in ASCII and p == 4:
            check(case, render_text(case.outcome, p, width, False, False, True), width, p)
        if name in EXPLAIN and (p == 4 or name == "red-team"):
            text = render_text(case.outcome, p, width, False, True)
            check(case, text, width, p)
            assert text.endswith("\n\n" + table)
            for line in text[:-len(table)].splitlines():  # --explain's own lines
                assert not re.search(r"[^\s(]…|…[^\s,)]", line), (width, line)  # elisions


def test_the_drawn_width_is_riches() -> None:
    """The arithmetic the column choice uses is how wide rich draws a table."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    from bcecli.report.table import drawn_width

    for ascii in (False, True):
        for widths in ([3], [3, 1], [5, 12, 1, 7, 9], [1] * 12, [24, 24]):
            table = Table(title="t")
            for _ in widths:
                table.add_column("", no_wrap=True)
            table.add_row(*("9" * w for w in widths))
            if ascii:
                table.box = box.ASCII2
            console = Console(width=1000, file=io.StringIO())
            console.print(table)
            drawn = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
            assert {len(line) for line in drawn[1:]} == {drawn_width(widths)}


@pytest.mark.parametrize("width", [40, 55, 60, 80])
def test_the_red_team_command(width: int) -> None:
    """The command that cut numbers at 40, 55 and 60 columns, through the command line."""
    from typer.testing import CliRunner

    from bcecli.cli import app

    r = CliRunner().invoke(app, ["bce-logits", "-i", str(RED_X), "-t", str(RED_T), "-w",
                                 str(RED_W)], env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert r.exit_code == 0
    assert all(cell_len(line) <= width for line in r.stdout.splitlines()), r.stdout
    assert "0.99…" not in r.stdout and "e+…" not in r.stdout and "r…" not in r.stdout
    assert "mean of 6 terms = 2.0586e+10" in r.stdout
    assert "┃  ┃" not in r.stdout and "││" not in r.stdout


@pytest.mark.parametrize(("command", "ascii"), [("nll", False), ("nll", True), ("ce", False)])
def test_an_ignored_target_is_marked(command: str, ascii: bool) -> None:
    """An ignored target has no x[target] nor weight (nor, for ce, ln Σ exp x and
    p(target)): a dash says so, where a blank looked like a number lost."""
    from typer.testing import CliRunner

    from bcecli.cli import app

    r = CliRunner().invoke(app, [command, "-i", "[[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3]]",
                                 "-t", "[0, 2]", "-w", "[1, 2, 3]", "--ignore-index", "2",
                                 *(["--ascii"] if ascii else [])],
                           env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert r.exit_code == 0
    line = next(line for line in r.stdout.splitlines() if "(ignored)" in line)
    cells = [c.strip() for c in re.split("[│|]", line)[1:-1]]
    dash = "-" if ascii else "—"
    assert cells[:2] == ["1", "2 (ignored)"] and cells[-1 if command == "nll" else -2] == \
        "0.0000"
    assert all(c == dash for c in cells[2:-1 if command == "nll" else -2]), cells
    assert cells[-1] == ("0.0000" if command == "nll" else dash)
