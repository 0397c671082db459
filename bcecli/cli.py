"""The Typer commands: one per registered loss, its options parsed, the run dispatched.

The options every loss shares are declared once (:data:`SHARED`); a loss adds its own
(:attr:`~bcecli.losses.base.Loss.params`).  Help comes from the loss's :class:`Help`, not
from docstrings, so it survives ``python -OO``.  Errors become messages in one place,
:func:`bcecli.app.execute`.
"""

from __future__ import annotations

import inspect
from enum import StrEnum
from typing import Annotated, Any

import typer

from bcecli import __version__
from bcecli.errors import ExitCode
from bcecli.losses import LOSSES
from bcecli.losses.base import Loss, Matrix, Param

EPILOG_EXIT = ("Exit status: 0 ok, 1 --expect not met, 2 usage or input error.\n\n"
               "Environment: BCECLI_THREADS (threads; default: the CPUs, at most 8; never more "
               "than 16), NO_COLOR, FORCE_COLOR, COLUMNS, TMPDIR.")


class ReductionChoice(StrEnum):
    mean = "mean"
    sum = "sum"
    none = "none"


class FormatChoice(StrEnum):
    table = "table"
    plain = "plain"
    json = "json"
    csv = "csv"


class DTypeChoice(StrEnum):
    float64 = "float64"
    float32 = "float32"


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Binary and multi-class cross-entropy, exactly as PyTorch computes them, with the "
    "work shown.\n\n\b\nExamples:\n"
    "  bcecli bce --sigmoid -i x.csv -t y.csv --explain   the hand calculation, then the table\n"
    "  bcecli bce-logits -i logits.npy -t labels.csv -f plain   the loss alone\n"
    "  bcecli ce -i '[[2.0, 0.5, -1.0]]' -t '[0]' -f json   one JSON object\n\n"
    "Run 'bcecli COMMAND --help' for a command's options.\n\n" + EPILOG_EXIT,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bcecli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    pass


def _option(name: str, annotation: Any, default: Any, *flags: str, **kw: Any
            ) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[annotation, typer.Option(*flags, **kw)])


HEAD = [
    _option("input", str, inspect.Parameter.empty, "--input", "-i",
            help="Input: a path (.csv .tsv .json .npy), '-' for stdin, inline JSON '[...]' or "
                 "a number."),
    _option("target", str, inspect.Parameter.empty, "--target", "-t",
            help="Target, in the same forms as --input."),
]
"""The options every loss takes first."""
SHARED = [
    _option("reduction", ReductionChoice, ReductionChoice.mean, "--reduction", "-r",
            help="mean, sum or none."),
    _option("format", FormatChoice, FormatChoice.table, "--format", "-f",
            help="table, plain, json or csv."),
    _option("dtype", DTypeChoice, DTypeChoice.float64, "--dtype",
            help="Compute in float64 or float32 (PyTorch's default dtype)."),
    _option("precision", int, 4, "--precision", "-p", min=0, max=17,
            help="Digits shown in tables and --explain."),
    _option("expect", float | None, None, "--expect",
            help="Exit 1 unless the loss is close to this value (numpy.isclose)."),
    _option("rtol", float, 1e-5, "--rtol", min=0.0, help="Relative tolerance for --expect."),
    _option("atol", float, 1e-8, "--atol", min=0.0, help="Absolute tolerance for --expect."),
    _option("explain", bool, False, "--explain", help="Write the calculation out step by step."),
    _option("max_rows", int, 20, "--max-rows", min=0,
            help="Rows shown in tables and --explain: the first and last half; 0 shows all."),
    _option("grad", bool, False, "--grad",
            help="Also compute the gradient ∂L/∂x as PyTorch's backward gives it (a table, "
                 "'grad' in JSON; -f csv/plain print it instead of the losses)."),
    _option("ascii", bool, False, "--ascii",
            help="Write tables, --explain and messages in ASCII (also when the output cannot "
                 "show the symbols)."),
    _option("stream", bool, False, "--stream",
            help="Write -r none output as it comes, not all at the end (an input error may "
                 "then follow part of it)."),
]
"""The options every loss takes after its own."""


def _param(p: Param) -> inspect.Parameter:
    kind: Any = str | None if p.kind is Matrix else p.kind
    return _option(p.name, kind, p.default, *p.flags, help=p.help)


def _help(loss: Loss[Any, Any]) -> str:
    h = loss.help
    examples = "\n".join(f"  bcecli {cmd}\n      {what}" for cmd, what in h.examples)
    return "\n\n".join([h.title, "\b\n" + "\n".join(h.formula), *h.notes,
                        "\b\nExamples:\n" + examples, EPILOG_EXIT])


def _command(loss: Loss[Any, Any]) -> Any:
    """The Typer command of a loss: its signature is the shared options and its own."""
    own = {p.name for p in loss.params}
    matrices = {p.name for p in loss.matrix_params}

    def command(**kw: Any) -> None:
        from bcecli.app import Environment, Request, execute

        req = Request(
            loss, kw["input"], kw["target"],
            values={k: v for k, v in kw.items() if k in own and k not in matrices},
            matrices={k: v for k, v in kw.items() if k in matrices and v is not None},
            reduction=kw["reduction"].value, format=kw["format"].value,
            dtype=kw["dtype"].value, precision=kw["precision"], expect=kw["expect"],
            rtol=kw["rtol"], atol=kw["atol"], explain=kw["explain"], max_rows=kw["max_rows"],
            stream=kw["stream"], ascii=kw["ascii"], grad=kw["grad"])
        try:
            status = execute(req, Environment.current())
        except KeyboardInterrupt:  # where no signal handler is set (bcecli.__main__ sets
            _say("bcecli: interrupted\n")  # one): Typer would exit 130 without a word
            status = ExitCode.INTERRUPTED
        raise typer.Exit(status)

    params = [*HEAD, *map(_param, loss.params), *SHARED]
    command.__dict__["__signature__"] = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = loss.api_name
    return command


for _loss in LOSSES.values():
    app.command(_loss.name, help=_help(_loss), short_help=_loss.help.short)(_command(_loss))


def run() -> None:
    """Run the app (:func:`bcecli.__main__.main` sets the signals first).

    A reader that went away ends quietly; a stream that cannot take what is left in it at
    the end (stderr on a full disk) changes nothing: the exit status stays the run's.
    """
    import codecs
    import sys

    from bcecli.errors import ExitCode
    from bcecli.report.numbers import ascii_fallback

    codecs.register_error("bcecli-ascii", ascii_fallback)
    for stream in (sys.stdout, sys.stderr):  # what a stream cannot encode: its ASCII form
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(errors="bcecli-ascii")
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:  # (only where no signal handler is set)
        _say("bcecli: interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _silence(sys.stdout)
        sys.exit(ExitCode.OK)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                _silence(stream)


def main() -> None:
    """The console script's former entry point: the same as ``bcecli``."""
    from bcecli.__main__ import main as entry

    entry()


def _say(text: str) -> None:
    import sys

    try:
        if sys.stderr is not None:
            sys.stderr.write(text)
    except (OSError, ValueError):
        pass


def _silence(stream: object) -> None:
    """Point a stream that failed at /dev/null, so that Python's last flush succeeds."""
    import os

    fileno = getattr(stream, "fileno", None)
    try:
        if callable(fileno):
            os.dup2(os.open(os.devnull, os.O_WRONLY), fileno())
    except (OSError, ValueError):
        pass
