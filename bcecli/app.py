"""One command run, from parsed options to output and exit status.

:func:`execute` is the one place where :class:`~bcecli.errors.BceError` is caught: its
message goes to stderr, stdout stays empty, and the exit status is 2.  Everything the run
needs from the process (the standard streams, whether they are terminals, the width, the
environment variables) comes in an :class:`Environment`, so tests can pass their own.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

import numpy as np

from bcecli.errors import BceError, ExitCode
from bcecli.losses.base import Loss

PROGRESS_BYTES = 64 << 20
BIG_BYTES = 16 << 20
"""Inputs from this size on are read with the memory allocator tuned for big arrays."""
FORMATS = ("table", "plain", "json", "csv", "ndjson", "markdown")


@dataclass
class Environment:
    """What a run takes from the process it runs in."""

    stdin: BinaryIO | None
    stdout: IO[str] | None
    stderr: IO[str] | None
    env: Mapping[str, str] = field(default_factory=dict)
    stdout_tty: bool = False
    stderr_tty: bool = False
    width: int | None = None
    """The terminal's width, when stdout is a terminal."""
    pipe_width: int | None = None
    """The width of the terminal a pipeline runs in (stderr's), when stdout is a pipe
    (``bcecli ... | less``): used after COLUMNS."""
    ascii: bool = False
    """Whether to write in ASCII (``--ascii``)."""

    @classmethod
    def current(cls) -> Environment:
        """This process's streams and environment."""
        import shutil

        stdin = getattr(sys.stdin, "buffer", None) if sys.stdin is not None else None
        stdout_tty = _isatty(sys.stdout)
        width = shutil.get_terminal_size((100, 24)).columns if stdout_tty else None
        stderr_tty = _isatty(sys.stderr)
        pipe_width = None
        if not stdout_tty and stderr_tty:
            try:
                pipe_width = os.get_terminal_size(sys.stderr.fileno()).columns or None
            except (OSError, ValueError, AttributeError):
                pipe_width = None
        return cls(stdin, sys.stdout, sys.stderr, os.environ, stdout_tty, stderr_tty, width,
                   pipe_width=pipe_width)


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(callable(isatty) and isatty())
    except (OSError, ValueError):
        return False


@dataclass(eq=False)
class Request:
    """A command line, parsed."""

    loss: Loss[Any, Any]
    input: str
    target: str
    values: dict[str, Any] = field(default_factory=dict)
    """The loss's own options (not matrices), by name."""
    matrices: dict[str, str] = field(default_factory=dict)
    """The loss's matrix options given (``weight``), as typed."""
    reduction: str = "mean"
    format: str = "table"
    dtype: str | None = None
    """float64 or float32; None: float64, or the --like library's default."""
    precision: int = 4
    expect: float | None = None
    expect_text: str | None = None
    """``--expect`` as typed (its number is :attr:`expect`, set from it if not given)."""
    rtol: float | None = None
    atol: float | None = None
    """``--rtol``, ``--atol``; both None: half a unit of the last digit of --expect."""
    explain: bool = False
    max_rows: int = 20
    stream: bool = False
    """Write streamed output as it comes, not all or nothing (``--stream``)."""
    ascii: bool = False
    """Write the human output and messages in ASCII (``--ascii``)."""
    grad: bool = False
    """Also compute ∂L/∂x (``--grad``)."""
    like: str = "torch"
    """Compute as this library does (``--like``)."""
    compare: bool = False
    """A row per library (``--compare``)."""
    emit: str | None = None
    """Print a snippet for this library (``--emit``)."""
    sample_weight: str | None = None
    """One weight per sample, as typed (``--sample-weight``)."""
    smoothing: float = 0.0
    """Keras' binary label smoothing (``--label-smoothing`` of bce and bce-logits)."""
    header: bool | None = None
    """Whether delimited files' first lines name their columns (None: guessed)."""
    top: int = 0
    """Show the ``top`` samples of greatest loss (``--top``)."""
    elements: bool = False
    """Write every element in JSON (``--elements``; always with ``-r none``)."""
    id: str | None = None
    """The column that names the rows (``--id``): of the input's file, or FILE:COLUMN."""

    @property
    def libraries(self) -> bool:
        """Whether another library's rules are asked for (not PyTorch's breakdown)."""
        return (self.like != "torch" or self.compare or self.emit is not None
                or self.sample_weight is not None or bool(self.smoothing))


def execute(req: Request, env: Environment) -> int:
    """Run a request; the exit status.

    The one place where errors become messages: a :class:`BceError` (and running out of
    memory, or an input that cannot be read) is one line on stderr and exit status 2.
    """
    from bcecli.io.textparse import escape_non_ascii
    from bcecli.report.machine import Held, fmt_number
    from bcecli.report.numbers import encodes

    if req.ascii or c_locale(env.env):
        env.ascii = True
    # (text from the input is escaped, not rewritten, where the output is in ASCII)
    escape_non_ascii(env.ascii or not encodes(env.stderr) or not encodes(env.stdout))
    out = Held(env.stdout, streaming=req.stream) if env.stdout is not None else None
    try:
        if out is None:
            raise BceError("standard output is closed; bcecli writes its results there")
        with np.errstate(all="ignore"):  # inf and NaN are computed as in PyTorch, and said
            outcome = _compute(req, env, out)
        out.commit()
    except BceError as exc:
        late = " (the output written before it is incomplete)" if out and out.written else ""
        if out is not None:
            out.discard()
        _say(env, f"bcecli: error: {exc.message}{late}")
        return ExitCode.TROUBLE
    except MemoryError:
        if out is not None:
            out.discard()
        _say(env, f"bcecli: error: {_no_memory(req)}")
        return ExitCode.TROUBLE
    except BrokenPipeError:
        raise
    except OSError as exc:  # a read that fails half-way (an I/O error, a vanished file)
        where = f"{exc.filename}: " if exc.filename else ""
        _say(env, f"bcecli: error: cannot read the input: {where}{exc.strerror or exc}")
        return ExitCode.TROUBLE
    for warning in outcome.warnings:
        _say(env, f"bcecli: warning: {warning}")
    if req.expect is not None:
        loss = outcome.loss
        rtol, atol, said = tolerance(req)
        if not bool(np.isclose(loss, req.expect, rtol=rtol, atol=atol, equal_nan=True)):
            shown = req.expect_text.strip() if req.expect_text else repr(req.expect)
            _say(env, f"bcecli: expected {shown} but the loss is "
                      f"{fmt_number(loss, outcome.dtype)} ({said})")
            return ExitCode.CHECK_FAILED
    return ExitCode.OK


def c_locale(env: Mapping[str, str]) -> bool:
    """Whether the locale asks for ASCII (``LC_ALL=C``, ``LANG=POSIX``): Python writes UTF-8
    there all the same (PEP 538 and 540), but the terminal may not show it.

    >>> c_locale({"LC_ALL": "C"}), c_locale({"LANG": "C.UTF-8"}), c_locale({})
    (True, False, False)
    >>> c_locale({"LANG": "C", "LC_CTYPE": "C.UTF-8"})  # (as Python coerced LANG=C)
    True
    """
    value = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
    if value in ("C", "POSIX"):
        return True
    # (Python coerces a C locale to C.UTF-8 and says so in LC_CTYPE: LANG still tells)
    return (not env.get("LC_ALL") and env.get("LANG", "") in ("C", "POSIX")
            and env.get("LC_CTYPE", "").lower() in ("c.utf-8", "c.utf8"))


def _no_memory(req: Request) -> str:
    """What running out of memory says: what held the most, as far as the options tell."""
    if req.format in ("table", "markdown") and req.max_rows == 0:
        return ("out of memory: --max-rows 0 keeps every row for the table, which is drawn "
                "whole; show fewer rows (--max-rows N), or write every value with -r none "
                "-f csv, which streams")
    if req.libraries:
        return ("out of memory: --like and --compare keep a value per sample (per element for "
                "scikit-learn's and optax's binary losses) until the end")
    return ("out of memory: the input is too big for this machine in this form (CSV, TSV and "
            "C-order .npy files are streamed in bounded memory)")


_DECIMAL = re.compile(r"\s*[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*")


def tolerance(req: Request) -> tuple[float, float, str]:
    """--expect's (rtol, atol) and how to say them: the options given (numpy.isclose's
    defaults for the other), or, with neither, half a unit of the last digit typed.

    >>> tolerance(Request(None, "", "", expect=0.7193, expect_text="0.7193"))[1:]
    (5e-05, '±5e-05, half a unit of the last digit typed')
    >>> tolerance(Request(None, "", "", expect=2e-3, expect_text="2e-3"))[1]
    0.0005
    """
    if req.rtol is not None or req.atol is not None:
        rtol = 1e-5 if req.rtol is None else req.rtol
        atol = 1e-8 if req.atol is None else req.atol
        return rtol, atol, f"rtol {rtol:g}, atol {atol:g}"
    match = _DECIMAL.fullmatch(req.expect_text or "")
    if match is None:  # (nan, inf, or a number given otherwise: exactly)
        return 0.0, 0.0, "exactly"
    digits = len(match.group(2) or "") - int(match.group(3) or 0)
    atol = 0.5 * 10.0 ** -digits
    return 0.0, atol, f"±{atol:g}, half a unit of the last digit typed"


def _say(env: Environment, message: str) -> None:
    """A line on stderr, in ASCII where asked or where stderr cannot encode it; if stderr
    cannot take it (closed, a full disk), the exit status still tells."""
    from bcecli.report.numbers import encodes, to_ascii
    from bcecli.signals import write_stderr

    if env.ascii or not encodes(env.stderr, message):
        message = to_ascii(message)
    if env.stderr is not None:
        write_stderr(env.stderr.write, message + "\n")


def _check(req: Request, env: Environment) -> None:
    """What the option parser cannot say about the options and their combinations."""
    from bcecli.io.textparse import printable as printable_text

    if req.expect_text is not None and req.expect is None:
        text = req.expect_text.strip()
        if not (_DECIMAL.fullmatch(text) and any(c.isdigit() for c in text)) and \
                text.lower().lstrip("+-") not in ("nan", "inf", "infinity"):
            raise BceError(f"--expect: '{printable_text(text)}' should be a valid number "
                           f"(see 'bcecli {req.loss.name} --help')")
        req.expect = float(text)
    if req.expect is not None and req.reduction == "none":
        raise BceError("--expect compares one number; it needs --reduction mean or sum")
    from bcecli.compute.samples import MAX_TOP

    if req.top > MAX_TOP:
        raise BceError(f"--top {req.top}: at most {MAX_TOP:,} samples are kept for --top (each "
                       f"whole, in memory); to rank every sample, write them with -f ndjson "
                       f"(or -r none -f csv) and sort")
    if req.top and req.format == "plain":
        raise BceError("--top lists samples; it goes with -f table, markdown, json, csv or "
                       "ndjson, not with -f plain (which writes the loss alone)")
    if req.top and req.reduction == "none" and req.format in ("csv", "ndjson"):
        raise BceError(f"--top lists the worst samples, -r none -f {req.format} every one; "
                       f"give one of them")
    if req.grad and req.format == "ndjson":
        raise BceError("-f ndjson writes each sample's loss; the gradient is written with "
                       "-f csv --grad (or -f json --grad)")
    if req.top and req.grad and req.format in ("csv", "ndjson"):
        raise BceError(f"--top with -f {req.format} lists the worst samples, --grad the "
                       f"gradient instead of the losses; give one of them")
    if req.id is not None and not req.id.strip():
        raise BceError("--id is empty; give the column of names (a header name, a 1-based "
                       "position, or FILE:COLUMN)")
    if req.id is not None and req.libraries:
        raise BceError("--id names the rows of PyTorch's breakdown; --like, --compare and "
                       "--emit show no rows")
    if req.explain and req.format not in ("table", "markdown"):
        raise BceError(f"--explain writes the calculation out for people, with the table (or "
                       f"in Markdown); it does not go with --format {req.format}")
    args = {"--input": req.input, "--target": req.target,
            **{f"--{n.replace('_', '-')}": v for n, v in req.matrices.items()},
            **({"--sample-weight": req.sample_weight} if req.sample_weight else {})}
    stdin = [name for name, arg in args.items() if arg.strip().partition(":")[0] == "-"]
    if stdin == ["--input", "--target"] and all(args[n].strip().startswith("-:")
                                               for n in stdin):
        stdin = ["--input"]  # (columns of one CSV on stdin: read once, for both)
    if len(stdin) > 1:
        both = "both" if len(stdin) == 2 else "all"
        raise BceError(f"{', '.join(stdin[:-1])} and {stdin[-1]} cannot {both} be read from "
                       f"stdin ('-'); give all but one of them as files")
    _read_once(args, stdin[0] if stdin else None)
    if req.stream:
        _not_into_an_input(args, _fileno(env.stdout))
    for name, tol in (("--rtol", req.rtol), ("--atol", req.atol)):
        if tol is not None and not math.isfinite(tol):
            raise BceError(f"{name}: {tol!r} should be a finite number (see 'bcecli "
                           f"{req.loss.name} --help')")


def _fileno(stream: object) -> int | None:
    """A stream's file descriptor, if it has one."""
    try:
        return int(stream.fileno())  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def _arg_stats(args: dict[str, str], on_stdin: str | None
               ) -> Iterator[tuple[str, str, os.stat_result]]:
    """The options that name a file or a pipe, each with its path and its stat (a file
    that cannot be stat'ed is left to its opening to say what is wrong)."""
    from bcecli.io import split_selector

    for name, arg in args.items():
        text = arg.strip()
        if text[:1] in ("[", "{", '"') or not text:
            continue
        path = "-" if name == on_stdin else split_selector(text)[0]  # (FILE:SELECTOR)
        try:
            st = os.fstat(0) if name == on_stdin else os.stat(path)
        except (OSError, ValueError):
            continue
        yield name, path, st


def _not_into_an_input(args: dict[str, str], fd: int | None) -> None:
    """``--stream >> x.csv`` with x.csv an input: each line written would be read again,
    and the file would grow until the disk is full (cat refuses it too)."""
    import stat

    from bcecli.io.textparse import printable

    try:
        out = os.fstat(fd) if fd is not None else None
    except OSError:
        out = None
    if out is None or not stat.S_ISREG(out.st_mode):
        return
    for name, path, st in _arg_stats(args, None):
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            raise BceError(f"the output is the file {name} reads ({printable(path)}); "
                           f"with --stream it would read what it writes, without end")


def _read_once(args: dict[str, str], on_stdin: str | None) -> None:
    """Two options naming one pipe (a FIFO twice, or /dev/stdin beside '-') would wait for
    each other for ever: a pipe's bytes can be read only once."""
    import stat

    seen: dict[tuple[int, int], str] = {}
    for name, _, st in _arg_stats(args, on_stdin):
        if not stat.S_ISFIFO(st.st_mode):
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise BceError(f"{seen[key]} and {name} name the same pipe, whose data can be read "
                           f"only once; give one of them as a file")
        seen[key] = name


def _compute(req: Request, env: Environment, out: Any) -> Any:
    from bcecli.compute.engine import Inputs, compute
    from bcecli.compute.outcome import Keep
    from bcecli.compute.pool import Pool, default_threads
    from bcecli.io import open_pair, open_source
    from bcecli.report.machine import CsvSink, JsonSink, write_json

    _check(req, env)
    _terminal_stdin(req, env)
    if req.libraries:
        from bcecli.libraries.run import run_libraries

        return run_libraries(req, env, out)
    dtype = req.dtype or "float64"
    opts = req.loss.make_options({**req.values, "reduction": req.reduction,
                                  "dtype": dtype})
    keep = Keep.rows(req.max_rows)
    twice = req.grad and req.reduction == "mean"  # the gradient needs the mean's denominator
    with ExitStack() as opened, Pool(default_threads(env.env)) as pool:
        x, t = open_pair(req.input, req.target, env.stdin, twice, req.header)
        opened.callback(x.close)
        opened.callback(t.close)
        extras = {name: opened.enter_context(
            open_source(arg, f"--{name.replace('_', '-')}", env.stdin, twice, req.header))
            for name, arg in req.matrices.items()}
        names = None if req.id is None else opened.enter_context(
            open_source(_id_arg(req), "--id", None, header=req.header, names=True))
        if (x.size_bytes or 0) >= BIG_BYTES:
            _tune_malloc()
        every = req.reduction == "none" or req.elements or req.grad
        json_sink = opened.enter_context(JsonSink(dtype)) if req.format == "json" and every \
            else None
        csv_sink: Any = CsvSink(out, dtype, grads=req.grad) if not req.top and (
            req.format == "csv" or (req.format == "plain" and every)) else None
        if req.format == "ndjson" and not req.top:
            from bcecli.report.records import NdjsonSink

            csv_sink = NdjsonSink(out, dtype)
        samples = req.format == "json" or (req.format in ("table", "markdown")
                                           and req.max_rows > 0)
        grad = None
        if req.grad:
            grad = 1.0
            if twice:  # a first reading for the denominator, then the same data again
                with _progress(env, x.name, x.size_bytes, req.stream) as bar:
                    tick = None if bar is None else (lambda: bar(x.consumed[0]))
                    first = compute(req.loss, opts, Inputs(x, t, extras), pool=pool,
                                    keep=Keep(0, 0), progress=tick)
                if names is not None:
                    names = opened.enter_context(_again(names))
                grad = first.denominator
                x, t = (opened.enter_context(_again(s)) for s in (x, t))
                extras = {n: opened.enter_context(_again(s)) for n, s in extras.items()}
        with _progress(env, x.name, x.size_bytes, req.stream) as bar:
            tick = None if bar is None else (lambda: bar(x.consumed[0]))
            outcome = compute(req.loss, opts, Inputs(x, t, extras, names), pool=pool, keep=keep,
                              sink=json_sink or csv_sink, progress=tick, grad=grad,
                              samples=samples, top=req.top)
        if twice and not _same_data(first, outcome):
            raise BceError("the data changed between the two readings that the gradient of a "
                           f"mean needs ({first.count} terms summing to {first.total!r}, then "
                           f"{outcome.count} summing to {outcome.total!r}); give files that "
                           f"stay as they are while bcecli runs")
        out.release()  # the input is read and checked: the output may flow now
        if req.format == "json":
            write_json(outcome, json_sink, out)
        elif req.top and req.format in ("csv", "ndjson"):
            from bcecli.report.records import csv_table, json_lines
            from bcecli.report.samples import worst_records

            fields, columns = worst_records(outcome)
            out.write(csv_table(fields, columns) if req.format == "csv" else
                      "".join(line + "\n" for line in json_lines(fields, columns)))
        elif req.format == "plain" and csv_sink is None:
            from bcecli.report.machine import fmt_number

            out.write(fmt_number(outcome.loss, dtype) + "\n")
        elif req.format == "table":
            out.write(_human(req, env, outcome))
        elif req.format == "markdown":
            from bcecli.report.markdown import render_markdown

            out.write(render_markdown(outcome, req.precision, req.explain,
                                      human_style(env)[2]))
    return outcome


def _id_arg(req: Request) -> str:
    """``--id``'s column as FILE:COLUMN: a column of the input's file unless it names a
    file of its own."""
    from bcecli.io import split_selector
    from bcecli.io.textparse import printable

    assert req.id is not None
    if split_selector(req.id)[1] is not None:
        return req.id
    file, colon, _ = req.id.rpartition(":")
    if colon and ("/" in file or os.path.splitext(file)[1]):  # (FILE:COLUMN, FILE missing)
        raise BceError(f"--id: no such file: {printable(file)}")
    path, _ = split_selector(req.input.strip())
    if path == "-" or path.startswith("-:") or path[:1] in ("[", "{", '"') or \
            not os.path.isfile(path):
        raise BceError(f"--id '{printable(req.id)}' names a column of the input's file, but "
                       f"the input is not a file; give the column as FILE:COLUMN")
    return f"{path}:{req.id}"


class _Typed:
    """stdin typed at a terminal: the first end of file (Ctrl-D) ends it; a terminal would
    otherwise wait again at each later read (three Ctrl-D were needed)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.ended = stream, False

    def read(self, n: int = -1, /) -> bytes:
        if self.ended:
            return b""
        data = self.stream.read1(n) if n and n > 0 and hasattr(self.stream, "read1") \
            else self.stream.read(n)
        if not data:
            self.ended = True
        return data


def _terminal_stdin(req: Request, env: Environment) -> None:
    """A matrix read from stdin at a terminal: say what bcecli waits for, and end on the
    first Ctrl-D."""
    args = {"--input": req.input, "--target": req.target,
            **{f"--{n.replace('_', '-')}": v for n, v in req.matrices.items()}}
    waiting = [name for name, arg in args.items() if arg.strip().partition(":")[0] == "-"]
    if not waiting or env.stdin is None or not _isatty(env.stdin):
        return
    env.stdin = _Typed(env.stdin)  # type: ignore[assignment]
    _say(env, f"bcecli: reading {' and '.join(waiting)} from the terminal; end with Ctrl-D")


def _same_data(first: Any, second: Any) -> bool:
    """Whether two readings gave the same terms: their count and their exact sums (the sums
    are the same to the last bit for the same numbers, see README "Sums")."""
    def key(o: Any) -> tuple[int, str, str]:
        return o.count, repr(float(o.total)), repr(float(o.denominator))

    return key(first) == key(second)


def _again(source: Any) -> Any:
    """The same data, from the start."""
    if source.reopen is None:
        raise BceError(f"{source.name} cannot be read a second time")
    return source.reopen()


def _tune_malloc() -> None:
    """Keep freed blocks' memory for the next blocks instead of fresh pages each time (glibc's
    allocator hands arrays over 128 KiB to mmap): 10-15 % faster on a big CSV; and one heap
    for all threads, so that the pool's threads reuse each other's freed blocks (a heap per
    thread kept each one's peak: 14 MB more).  Only the command line does this, for big
    inputs, before the pool starts its threads; nothing happens elsewhere than glibc."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: arrays up to 64 MiB from the heap
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: and the heap is not trimmed each time
        libc.mallopt(-8, 1)  # M_ARENA_MAX: one heap for all threads, which reuse each other's
    except (OSError, AttributeError):
        pass


BAR_CLEAR = b"\r\x1b[2K\x1b[?25h"
"""What a signal writes first while the bar is shown: its line cleared, the cursor shown."""
BAR_REFRESH = 0.1
"""Seconds between two drawings of the bar, at most."""
BAR_FIXED = 28
"""Columns of the bar's line besides the label and the bar: bytes read of the total (up to
17, '950.0/950.0 MB'), time left (7) and the spaces between them."""


@contextmanager
def _progress(env: Environment, name: str, size: int | None, streaming: bool = False
              ) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for big inputs, only when stderr is a terminal (of 60
    columns or more, and not TERM=dumb, which cannot redraw a line), and not while
    ``--stream`` writes the output to that terminal.

    Yields a function taking the bytes of the input read so far, or None for no bar.  The
    bar is drawn by that function, in this thread (no thread of rich's: none to start, none
    to race a signal's line).  It is always one line, two columns short of the terminal's
    width, so that the ``^C`` a terminal echoes stays on it; a signal clears that line
    (:func:`bcecli.signals.undo_on_stop`), and so does the end of the reading.
    """
    dumb = env.env.get("TERM", "").lower() in ("dumb", "unknown")  # (no cursor movement)
    # (output streamed to the same terminal shows the progress itself, and a bar's line
    # would be glued to its lines)
    shared = streaming and env.stdout_tty
    if (size or 0) < PROGRESS_BYTES or env.stderr is None or not env.stderr_tty or dumb \
            or shared:
        yield None
        return
    import time

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column

    from bcecli.signals import forget, undo_on_stop

    console = Console(file=env.stderr, force_terminal=True)
    console.width = console.width - 2
    room = console.width - BAR_FIXED
    if room < 30:
        yield None
        return
    bar_width = min(40, room // 2)
    columns = [TextColumn("[progress.description]{task.description}",
                          table_column=Column(no_wrap=True)),
               BarColumn(bar_width=bar_width, table_column=Column(no_wrap=True)),
               DownloadColumn(table_column=Column(no_wrap=True)),
               TimeRemainingColumn(table_column=Column(no_wrap=True))]
    undo_on_stop(BAR_CLEAR)
    try:
        with Progress(*columns, console=console, transient=True, auto_refresh=False) as bar:
            task = bar.add_task(escape(_label(name, room - bar_width)), total=size)
            drawn = [time.monotonic()]

            def tick(done: int) -> None:
                bar.update(task, completed=done)
                now = time.monotonic()
                if now - drawn[0] >= BAR_REFRESH:
                    drawn[0] = now
                    bar.refresh()

            yield tick
    finally:
        forget(BAR_CLEAR)


def _label(name: str, room: int) -> str:
    """``reading NAME`` in ``room`` columns (15 or more): the end of the name if need be.

    >>> _label("x.csv", 20), _label("a/long/path/x.csv", 16)
    ('reading x.csv', 'reading …h/x.csv')
    """
    text = f"reading {name}"
    return text if len(text) <= room else "reading …" + name[-(room - 9):]


def human_style(env: Environment) -> tuple[int | None, bool, bool]:
    """Width, colour and ASCII of human output: colour on a terminal unless NO_COLOR is set
    (or FORCE_COLOR asks for it); the terminal's width, or COLUMNS, or as wide as needed;
    ASCII where asked or where stdout cannot encode the symbols."""
    from bcecli.report.numbers import encodes

    color = (env.stdout_tty or bool(env.env.get("FORCE_COLOR"))) and not env.env.get("NO_COLOR")
    width = env.width
    if width is None and env.env.get("COLUMNS", "").strip().isdigit():
        width = int(env.env["COLUMNS"])
    if width is None:
        width = env.pipe_width
    return width, color, env.ascii or not encodes(env.stdout)


def _human(req: Request, env: Environment, outcome: Any) -> str:
    """The table, after --explain's lines (see :func:`human_style`)."""
    from bcecli.report.console import render_text

    width, color, ascii = human_style(env)
    return render_text(outcome, req.precision, width, color, req.explain, ascii)
