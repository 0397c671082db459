"""One command run, from parsed options to output and exit status.

This is the one place where :class:`~bcecli.errors.BceError` is caught: its message goes to
stderr, stdout stays empty, and the exit status is 2.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal, cast

import numpy as np
import typer

from bcecli.blocks import Matrix
from bcecli.checks import check_label_smoothing
from bcecli.engine import run
from bcecli.errors import BceError, ExitCode
from bcecli.losses import Reduction
from bcecli.outcome import Command, DType, Keep, Options, Outcome
from bcecli.output import CsvSink, Held, JsonSink, fmt_number, write_json
from bcecli.sources import is_number_text, open_matrix

if TYPE_CHECKING:
    from bcecli.parallel import Split

PROGRESS_BYTES = 64 << 20

Format = Literal["table", "plain", "json", "csv"]


@dataclass(frozen=True)
class Request:
    """A command line, parsed."""

    command: Command
    input: str
    target: str
    weight: str | None
    pos_weight: str | None
    reduction: str
    format: str
    dtype: str
    precision: int
    expect: float | None
    rtol: float
    atol: float
    explain: bool
    max_rows: int
    sigmoid: bool = False
    ignore_index: int = -100
    label_smoothing: float = 0.0

    def options(self) -> Options:
        return Options(command=self.command, reduction=cast(Reduction, self.reduction),
                       dtype=cast(DType, self.dtype), sigmoid=self.sigmoid,
                       ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)


def _stderr(message: str) -> None:
    if sys.stderr is not None:  # (closed: nowhere to say it; the exit status still tells)
        sys.stderr.write(message + "\n")


def execute(req: Request, stdout: IO[str] | None = None) -> None:
    """Run a request; exits through typer.Exit with the right status.

    The one place where errors become messages: a :class:`BceError` (and running out of
    memory, or an input that cannot be read) is one line on stderr and exit status 2.
    """
    stream = stdout or sys.stdout
    out = Held(stream)
    try:
        if stream is None:
            raise BceError("standard output is closed; bcecli writes its results there")
        with np.errstate(all="ignore"):  # inf and NaN are computed as in PyTorch, and said
            outcome = _compute(req, out)
        out.commit()
    except BceError as exc:
        late = " (the output written before it is incomplete)" if out.flowing else ""
        _stderr(f"bcecli: error: {exc.message}{late}")
        raise typer.Exit(ExitCode.TROUBLE) from None
    except MemoryError:
        _stderr("bcecli: error: out of memory: the input is too big for this machine in this "
                "form (CSV, TSV and C-order .npy files are streamed in bounded memory)")
        raise typer.Exit(ExitCode.TROUBLE) from None
    except BrokenPipeError:
        raise
    except OSError as exc:  # a read that fails half-way (an I/O error, a vanished file)
        where = f"{exc.filename}: " if exc.filename else ""
        _stderr(f"bcecli: error: cannot read the input: {where}{exc.strerror or exc}")
        raise typer.Exit(ExitCode.TROUBLE) from None
    for warning in outcome.warnings:
        _stderr(f"bcecli: warning: {warning}")
    if req.expect is not None:
        loss = outcome.loss
        if not bool(np.isclose(loss, req.expect, rtol=req.rtol, atol=req.atol,
                               equal_nan=True)):
            _stderr(f"bcecli: expected {req.expect!r} but the loss is "
                    f"{fmt_number(loss, req.dtype)} (rtol {req.rtol:g}, atol {req.atol:g})")
            raise typer.Exit(ExitCode.CHECK_FAILED)


def _check_options(req: Request) -> None:
    """What Typer's types cannot say about the options, and their combinations."""
    if req.expect is not None and req.reduction == "none":
        raise BceError("--expect compares one number; it needs --reduction mean or sum")
    if req.explain and req.format != "table":
        raise BceError(f"--explain writes the calculation out for people, above the table; "
                       f"it does not go with --format {req.format}")
    if req.input.strip() == "-" and req.target.strip() == "-":
        raise BceError("--input and --target cannot both be read from stdin ('-'); "
                       "give one of them as a file")
    for name, tol in (("--rtol", req.rtol), ("--atol", req.atol)):
        if not math.isfinite(tol):
            raise BceError(f"{name} must be a finite number; got {tol!r}")
    if req.command == "ce":  # before any file is opened
        check_label_smoothing(req.label_smoothing)
    if not -2**63 <= req.ignore_index < 2**63:
        raise BceError(f"--ignore-index must fit in 64 bits; got {req.ignore_index}")


def _compute(req: Request, out: Held) -> Outcome:
    _check_options(req)
    options = req.options()
    keep = Keep.rows(req.max_rows)
    split = _split_plan(req)
    if split is not None:
        from bcecli.parallel import run_split

        def weights() -> tuple[Matrix | None, Matrix | None]:
            return (open_matrix(req.weight, "--weight", None) if req.weight else None,
                    open_matrix(req.pos_weight, "--pos-weight", None) if req.pos_weight
                    else None)

        size = os.path.getsize(req.input)
        with _progress(req.input, size) as bar:
            outcome = run_split(options, split, weights, keep, bar)
        _write_result(req, outcome, out)
        return outcome
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    with ExitStack() as opened:  # every file closed, whatever happens
        input_m = opened.enter_context(open_matrix(req.input, "--input", stdin))
        target_m = opened.enter_context(open_matrix(req.target, "--target", stdin))
        weight_m = opened.enter_context(open_matrix(req.weight, "--weight", stdin)) \
            if req.weight else None
        pos_m = opened.enter_context(open_matrix(req.pos_weight, "--pos-weight", stdin)) \
            if req.pos_weight else None
        json_sink = opened.enter_context(JsonSink(req.dtype)) if req.format == "json" else None
        csv_sink = CsvSink(out, req.dtype) if req.format == "csv" or (
            req.format == "plain" and req.reduction == "none") else None
        with _progress(input_m.name, input_m.size_bytes) as bar:
            tick = None if bar is None else (lambda: bar(input_m.consumed[0]))
            outcome = run(options, input_m, target_m, weight_m, pos_m,
                          sink=json_sink or csv_sink, keep=keep, progress=tick)
        if json_sink is not None:
            write_json(outcome, json_sink, out)
        else:
            _write_result(req, outcome, out)
    return outcome


def _split_plan(req: Request) -> Split | None:
    """Two processes when both inputs are big files (CSV/TSV or .npy) and no stream is
    needed."""
    if req.format not in ("plain", "table") or req.reduction == "none":
        return None
    args = [req.input, req.target, req.weight or "", req.pos_weight or ""]
    if any(a.strip() == "-" for a in args) or any(a.lstrip().startswith("[")
                                                  for a in args[:2]):
        return None
    if is_number_text(req.input) or is_number_text(req.target):
        return None
    from bcecli.parallel import find_split

    return find_split(req.input, req.target)


@contextmanager
def _progress(name: str, size: int | None) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for big inputs, only when stderr is a terminal.

    Yields a function taking the bytes of the input read so far, or None for no bar.
    """
    size = size or 0
    if size < PROGRESS_BYTES or sys.stderr is None or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"reading {name}", total=size)
        yield lambda done: bar.update(task, completed=done)


def _write_result(req: Request, outcome: Outcome, out: Held) -> None:
    if req.format == "plain" and req.reduction != "none":
        out.write(fmt_number(outcome.loss, req.dtype) + "\n")
    elif req.format == "table":
        _human(req, outcome, out)


def _human(req: Request, outcome: Outcome, out: Held) -> None:
    """The table (after --explain's lines): colour on a terminal unless NO_COLOR is set (or
    FORCE_COLOR asks for it); the terminal's width, or COLUMNS, or as wide as needed."""
    import io
    import shutil

    from rich.console import Console

    from bcecli.explain import explain
    from bcecli.render import render_table

    buf = io.StringIO()
    stream = out.stream
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    env = os.environ
    color = (is_tty or bool(env.get("FORCE_COLOR"))) and not env.get("NO_COLOR")
    width: int | None = None
    if is_tty:
        width = shutil.get_terminal_size((100, 24)).columns
    elif env.get("COLUMNS", "").strip().isdigit():
        width = int(env["COLUMNS"])
    console = Console(file=buf, force_terminal=color, no_color=not color, highlight=False,
                      width=max(width or 10_000, 40), legacy_windows=False)
    if req.explain:
        for line in explain(outcome, req.precision):
            console.print(line, markup=False, soft_wrap=True, highlight=False)
        console.print()
    render_table(outcome, console, req.precision, width)
    out.write(buf.getvalue())
