"""The Typer commands: one per registered loss, its options parsed, the run dispatched.

The options every loss shares are declared once (:data:`SHARED`); a loss adds its own
(:attr:`~bcecli.losses.base.Loss.params`).  Help comes from the loss's :class:`Help`, not
from docstrings, so it survives ``python -OO``.  Errors become messages in one place,
:func:`bcecli.app.execute`; the option parser's own (a missing option, a bad value) are
said by :class:`Group` in the same one-line form.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from bcecli import __version__
from bcecli.errors import ExitCode
from bcecli.libraries import NAMES
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
    ndjson = "ndjson"
    markdown = "markdown"
    md = "md"


class DTypeChoice(StrEnum):
    float64 = "float64"
    float32 = "float32"


LibraryChoice = StrEnum("LibraryChoice", {n: n for n in NAMES})  # type: ignore[misc]
"""The libraries of ``--like`` and ``--emit``, from the registry."""


def _click_error(name: str) -> type[Exception]:
    """Click's exception class of this name: Typer's own copy of click (0.2x) or click's,
    whichever Typer raises (both are bases of ``typer.BadParameter``)."""
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == name:
            return cls
    raise LookupError(name)  # pragma: no cover


ClickException = _click_error("ClickException")
UsageError = _click_error("UsageError")


class Group(TyperGroup):
    """The ``bcecli`` command group: Typer's, with the parser's errors said as bcecli says
    every error: one line on stderr, ``bcecli: error: <what> (see 'bcecli CMD --help')``,
    and exit status 2, instead of click's usage block and ``Error:`` line (or the help, for
    no command at all).  ``--help`` and ``--version`` are as they were."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Click's ``main(args, prog_name, complete_var, standalone_mode, ...)``."""
        kwargs.update(zip(("args", "prog_name", "complete_var", "standalone_mode"), args,
                          strict=False))
        standalone_mode = kwargs.pop("standalone_mode", True)
        argv = list(sys.argv[1:] if kwargs.get("args") is None else kwargs["args"])
        kwargs["args"] = argv
        try:
            status = super().main(standalone_mode=False, **kwargs)
        except UsageError as exc:
            status = _error(usage_message(exc, argv), argv)
        except ClickException as exc:  # (none is raised by bcecli's options; for safety)
            status = _error(_sentence(exc.format_message()), argv)  # type: ignore[attr-defined]
        except typer.Abort:  # Ctrl-C or Ctrl-D at a prompt (bcecli asks nothing)
            _say("bcecli: interrupted\n")
            status = ExitCode.INTERRUPTED
        status = 0 if status is None else status
        if standalone_mode:
            sys.exit(status)
        return status


_INT = re.compile(r"\s*[+-]?[0-9]+\s*")
_FLOAT = re.compile(r"\s*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|infinity|nan)\s*",
                    re.IGNORECASE)


class _Plain:
    """An option's value read as bcecli's options take them (a whole number, a number, one
    of a few words, text), checked against the option's min and max: what Typer 0.2x asks
    pydantic to do, without importing pydantic (80 ms of every run's start-up)."""

    def __init__(self, kind: type, low: float | None, high: float | None) -> None:
        self.kind, self.low, self.high = kind, low, high

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None or isinstance(value, self.kind) and (
                self.kind is bool or not isinstance(value, bool)):
            got = value
        elif self.kind is bool:  # (a flag: click gives a bool; said like the others)
            raise typer.BadParameter(f"{str(value)!r} should be a flag, without a value",
                                     ctx=ctx, param=param)
        elif issubclass(self.kind, StrEnum):
            choices = [m.value for m in self.kind]
            if str(value) not in choices:
                raise typer.BadParameter(f"{str(value)!r} is not one of "
                                         f"{', '.join(map(repr, choices))}", ctx=ctx,
                                         param=param)
            got = self.kind(str(value))
        elif self.kind is int:
            if not _INT.fullmatch(str(value)):
                raise typer.BadParameter(f"{str(value)!r} should be a valid integer",
                                         ctx=ctx, param=param)
            got = int(str(value))
        elif self.kind is float:
            if not _FLOAT.fullmatch(str(value)):
                raise typer.BadParameter(f"{str(value)!r} should be a valid number",
                                         ctx=ctx, param=param)
            got = float(str(value))
        else:
            got = str(value)
        number = got if isinstance(got, int | float) and not isinstance(got, bool) else None
        if number is not None and self.low is not None and number < self.low:
            raise typer.BadParameter(f"{str(value)!r} should be greater than or equal to "
                                     f"{self.low:g}", ctx=ctx, param=param)
        if number is not None and self.high is not None and number > self.high:
            raise typer.BadParameter(f"{str(value)!r} should be less than or equal to "
                                     f"{self.high:g}", ctx=ctx, param=param)
        return got


def _plain_values(param: Any) -> None:
    """Give a Typer option of bcecli's kinds the plain reading (:class:`_Plain`); an option
    of another kind keeps Typer's own."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return
    annotation = descriptor.annotation
    options = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)] \
        if isinstance(annotation, types.UnionType) else [annotation]
    if len(options) != 1 or not isinstance(options[0], type) or \
            not (issubclass(options[0], StrEnum) or options[0] in (bool, int, float, str)):
        return
    info = descriptor.parameter_info
    param._runtime_param = _Plain(options[0], getattr(info, "min", None),
                                  getattr(info, "max", None))


def _use_plain_values() -> None:
    """Every option of this process (the help options Typer makes on the fly included) is
    read by :class:`_Plain` where it can be; a Typer without these internals is left as it
    is (only slower to start)."""
    for cls in (getattr(typer.core, "TyperOption", None), getattr(typer.core, "TyperArgument",
                                                                      None)):
        runtime = getattr(cls, "get_runtime_param", None)
        if cls is None or runtime is None or getattr(runtime, "plain", False):
            continue

        def get_runtime_param(self: Any, _typer: Any = runtime) -> Any:
            _plain_values(self)
            return _typer(self)

        get_runtime_param.plain = True  # type: ignore[attr-defined]
        cls.get_runtime_param = get_runtime_param


_use_plain_values()


def _error(message: str, argv: list[str]) -> int:
    from bcecli.io.textparse import escape_non_ascii, printable
    from bcecli.report.numbers import encodes, to_ascii

    escape_non_ascii("--ascii" in argv or not encodes(sys.stderr))
    line = f"bcecli: error: {printable(message)}"
    _say((to_ascii(line) if "--ascii" in argv else line) + "\n")
    return ExitCode.TROUBLE


def usage_message(exc: Exception, argv: list[str]) -> str:
    """What a usage error of the parser says, in a few words, then where to look.

    Names the option and what it takes: ``--reduction: 'avg' is not one of 'mean', 'sum',
    'none' (see 'bcecli bce --help')``.
    """
    ctx = getattr(exc, "ctx", None)
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    if ctx is None:  # (an option without its value: said before there is a context)
        names = [next((a for a in argv if a in LOSSES), "")][:1]
    see = f"(see '{' '.join(['bcecli', *reversed(names)]).strip()} --help')"
    kind = type(exc).__name__
    param = getattr(exc, "param", None)
    if kind == "NoArgsIsHelpError":
        what = f"no command given; the commands: {', '.join(LOSSES)}"
    elif kind == "NoSuchOption":
        option = str(getattr(exc, "option_name", ""))
        what = f"no such option: {option}"
        elsewhere = [loss.name for loss in LOSSES.values()
                     if any(option in p.flags for p in loss.params)]
        close = _closest(option, getattr(exc, "possibilities", None) or [])
        if elsewhere:
            what += f" (an option of {' and '.join(elsewhere)})"
        elif close:
            what += f" (did you mean {' or '.join(close)}?)"
    elif kind == "MissingParameter" and param is not None:
        what = f"missing option {_flags(param)}"
    elif isinstance(exc, typer.BadParameter) and param is not None:
        what = f"{_flags(param).split(' ')[0]}: {_reason(exc)}"
    else:
        what = _sentence(getattr(exc, "message", "") or str(exc))
        if what.startswith("no such command"):  # (Typer may have a suggestion)
            what, _, guess = what.partition(". Did you mean ")
            what += f" (did you mean {guess})" if guess else \
                f"; the commands: {', '.join(LOSSES)}"
    return f"{what} {see}"


def _closest(typed: str, options: list[str]) -> list[str]:
    """The options most like the one typed (click offers every one over a low bar:
    ``--sigmod`` got ``--id or --sigmoid``).

    >>> _closest("--sigmod", ["--id", "--sigmoid"]), _closest("--wieght", ["--weight"])
    (['--sigmoid'], ['--weight'])
    """
    from difflib import SequenceMatcher

    scored = [(SequenceMatcher(None, typed, o).ratio(), o) for o in options]
    best = max((r for r, _ in scored), default=0.0)
    return sorted(o for r, o in scored if r >= best - 0.05)


def _flags(param: Any) -> str:
    """An option's names, the long one first: ``--reduction (-r)``."""
    opts = sorted(getattr(param, "opts", []) or [param.name], key=lambda o: -len(o))
    return str(opts[0]) + (f" ({', '.join(opts[1:])})" if opts[1:] else "")


def _reason(exc: Exception) -> str:
    """Why a value was refused, with the value: ``'x' should be a valid integer``.

    Typer 0.2x says what pydantic says (``Input should be ...``, ``Value error, ...``),
    without the value; click said ``'x' is not a valid integer.``.
    """
    text = str(getattr(exc, "message", exc)).strip().removeprefix("Value error, ")
    if text.startswith("Input should be "):
        rest = text.removeprefix("Input should be ").split(", unable to parse")[0]
        errors = getattr(exc.__cause__, "errors", None)
        try:
            value = errors()[0]["input"] if callable(errors) else None
        except (LookupError, TypeError):
            value = None
        text = f"{value!r} should be {rest}" if isinstance(value, str) else f"should be {rest}"
    return text.rstrip(".")


def _sentence(text: str) -> str:
    """Click's message as part of bcecli's line: ``No such command 'x'.`` -> ``no such
    command 'x'``."""
    text = " ".join(text.split()).rstrip(".")
    return text[:1].lower() + text[1:]


app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    help="Binary and multi-class cross-entropy, exactly as PyTorch computes them, with the "
    "work shown.\n\n\b\nExamples:\n"
    "  bcecli bce --sigmoid -i x.csv -t y.csv --explain   the hand calculation, then the table\n"
    "  bcecli bce-logits -i logits.npy -t labels.csv -f plain   the loss alone\n"
    "  bcecli ce -i '[[2.0, 0.5, -1.0]]' -t '[0]' -f json   one JSON object\n"
    "  bcecli bce -i p.csv -t y.csv --compare   the loss under torch's, keras', "
    "sklearn's, optax's rules\n\n"
    "Run 'bcecli COMMAND --help' for a command's options.\n\n" + EPILOG_EXIT,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=Group,
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
            help="Input: a path (.csv .tsv .json .npy .npz; .parquet .feather with the arrow "
                 "extra), FILE:COLUMNS, '-' for stdin, inline JSON '[...]' or a number."),
    _option("target", str, inspect.Parameter.empty, "--target", "-t",
            help="Target, in the same forms as --input."),
]
"""The options every loss takes first."""
SHARED = [
    _option("reduction", ReductionChoice, ReductionChoice.mean, "--reduction", "-r",
            help="mean, sum or none."),
    _option("format", FormatChoice, FormatChoice.table, "--format", "-f",
            help="table, plain, json, csv, ndjson (one JSON object per sample) or markdown "
                 "(md: the same; GitHub-flavoured tables, and LaTeX math with --explain)."),
    _option("dtype", DTypeChoice | None, None, "--dtype",
            help="Compute in float64 or float32 (PyTorch's default dtype). Default: float64, "
                 "or the --like library's own (float32 for keras and optax)."),
    _option("precision", int, 4, "--precision", "-p", min=0, max=17,
            help="Digits shown in tables and --explain."),
    _option("expect", str | None, None, "--expect",
            help="Exit 1 unless the loss is close to this value: to the precision typed, or "
                 "by --rtol/--atol."),
    _option("rtol", float | None, None, "--rtol", min=0.0,
            help="Relative tolerance for --expect (with --atol: numpy.isclose's)."),
    _option("atol", float | None, None, "--atol", min=0.0,
            help="Absolute tolerance for --expect. Without --rtol and --atol: half a unit "
                 "of the last digit typed (--expect 0.7193 means ±0.00005)."),
    _option("explain", bool, False, "--explain", help="Write the calculation out step by step."),
    _option("max_rows", int, 20, "--max-rows", min=0,
            help="Rows shown in tables and --explain: the first and last half; 0 shows all."),
    _option("grad", bool, False, "--grad",
            help="Also compute the gradient ∂L/∂x as PyTorch's backward gives it (a table, "
                 "'grad' in JSON; -f csv/plain print it instead of the losses)."),
    _option("like", LibraryChoice, "torch", "--like",
            help="Compute as this library does: torch, keras, sklearn or optax (their "
                 "clipping, reduction, weights, smoothing and default dtype)."),
    _option("compare", bool, False, "--compare",
            help="One row per library: its equivalent call, its loss, the difference from "
                 "PyTorch's and the rule that makes it."),
    _option("emit", LibraryChoice | None, None, "--emit",
            help="Print a runnable Python snippet that recomputes the loss in that "
                 "library."),
    _option("sample_weight", str | None, None, "--sample-weight",
            help="One weight per sample, shape (N,), as Keras' and scikit-learn's "
                 "sample_weight (not PyTorch's: use --like keras or sklearn)."),
    _option("header", bool | None, None, "--header/--no-header",
            help="Whether the first line of CSV/TSV files names the columns (default: "
                 "guessed: a first row in which no field is a number)."),
    _option("top", int, 0, "--top", min=0,
            help="Show the K samples of greatest loss (row, target, prediction, loss): a "
                 "table, 'top' in JSON, or CSV/NDJSON records with -f csv/ndjson."),
    _option("id", str | None, None, "--id",
            help="A column whose values name the rows (in tables, --explain, --top and "
                 "ndjson): of the input's file, by name or position, or FILE:COLUMN."),
    _option("elements", bool, False, "--elements",
            help="-f json: also write every element and row value (always with -r none)."),
    _option("ascii", bool, False, "--ascii",
            help="Write tables, --explain and messages in ASCII (also when the output cannot "
                 "show the symbols)."),
    _option("stream", bool, False, "--stream",
            help="Write -r none output as it comes, not all at the end (an input error may "
                 "then follow part of it)."),
]
"""The options every loss takes after its own."""
BINARY_SMOOTHING = _option(
    "binary_smoothing", float, 0.0, "--label-smoothing",
    help="Keras' binary label smoothing, y·(1 − ε) + ε/2 (with --like keras; PyTorch's "
         "BCE losses have none).")


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
            reduction=kw["reduction"].value,
            format="markdown" if kw["format"] is FormatChoice.md else kw["format"].value,
            dtype=kw["dtype"] and kw["dtype"].value, precision=kw["precision"],
            expect_text=kw["expect"],
            rtol=kw["rtol"], atol=kw["atol"], explain=kw["explain"],
            max_rows=kw["max_rows"], stream=kw["stream"], ascii=kw["ascii"], grad=kw["grad"],
            like=str(getattr(kw["like"], "value", kw["like"])), compare=kw["compare"],
            emit=kw["emit"] and kw["emit"].value, sample_weight=kw["sample_weight"],
            smoothing=kw.get("binary_smoothing", 0.0), header=kw["header"], top=kw["top"],
            elements=kw["elements"], id=kw["id"])
        try:
            status = execute(req, Environment.current())
        except KeyboardInterrupt:  # where no signal handler is set (bcecli.__main__ sets
            _say("bcecli: interrupted\n")  # one): Typer would exit 130 without a word
            status = ExitCode.INTERRUPTED
        raise typer.Exit(status)

    params = [*HEAD, *map(_param, loss.params), *SHARED]
    if loss.binary_smoothing:  # (ce has a label smoothing of its own, PyTorch's)
        params.insert(len(HEAD) + len(loss.params), BINARY_SMOOTHING)
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
        app(standalone_mode=True)  # (Group.main says the usage errors and exits)
    except BrokenPipeError:
        _silence(sys.stdout)
        sys.exit(ExitCode.OK)
    finally:
        from bcecli.signals import write_stderr

        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is sys.stderr and stream is not None:
                    if not write_stderr(lambda _, s=stream: s.flush(), ""):
                        _silence(stream)  # (what it holds is dropped: no second try)
                elif stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                _silence(stream)


def main() -> None:
    """The console script's former entry point: the same as ``bcecli``."""
    from bcecli.__main__ import main as entry

    entry()


def _say(text: str) -> None:
    import sys

    from bcecli.signals import write_stderr

    if sys.stderr is not None:
        write_stderr(sys.stderr.write, text)


def _silence(stream: object) -> None:
    """Point a stream that failed at /dev/null, so that Python's last flush succeeds."""
    import os

    fileno = getattr(stream, "fileno", None)
    try:
        if callable(fileno):
            os.dup2(os.open(os.devnull, os.O_WRONLY), fileno())
    except (OSError, ValueError):
        pass
