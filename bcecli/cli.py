"""The Typer commands: parse options, open the inputs, dispatch, render. Nothing else.

Errors become messages in one place, :func:`bcecli.run.execute`; :func:`main` only turns
Ctrl-C and a closed pipe into exit statuses.
"""

from __future__ import annotations

import os
import signal
import sys
from enum import StrEnum
from typing import Annotated

import typer

from bcecli import __version__
from bcecli.errors import ExitCode

EPILOG_EXIT = "Exit status: 0 ok, 1 --expect not met, 2 usage or input error."


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
    """Binary and multi-class cross-entropy, exactly as PyTorch computes them."""


InputOpt = Annotated[str, typer.Option("--input", "-i", help="Input: a path (.csv .tsv .json "
                                       ".npy), '-' for stdin, inline JSON '[...]' or a number.")]
TargetOpt = Annotated[str, typer.Option("--target", "-t", help="Target, in the same forms as "
                                        "--input.")]
ReductionOpt = Annotated[ReductionChoice, typer.Option("--reduction", "-r",
                                                       help="mean, sum or none.")]
FormatOpt = Annotated[FormatChoice, typer.Option("--format", "-f", help="table, plain, json "
                                                 "or csv.")]
DTypeOpt = Annotated[DTypeChoice, typer.Option("--dtype", help="Compute in float64 or float32 "
                                               "(PyTorch's default dtype).")]
PrecisionOpt = Annotated[int, typer.Option("--precision", "-p", min=0, max=17,
                                           help="Digits shown in tables and --explain.")]
ExpectOpt = Annotated[float | None, typer.Option("--expect", help="Exit 1 unless the loss is "
                                                 "close to this value (numpy.isclose).")]
RtolOpt = Annotated[float, typer.Option("--rtol", min=0.0, help="Relative tolerance for "
                                        "--expect.")]
AtolOpt = Annotated[float, typer.Option("--atol", min=0.0, help="Absolute tolerance for "
                                        "--expect.")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Write the calculation out step "
                                          "by step.")]
MaxRowsOpt = Annotated[int, typer.Option("--max-rows", min=0, help="Rows shown in tables and "
                                         "--explain: the first and last half; 0 shows all.")]
WeightOpt = Annotated[str | None, typer.Option("--weight", "-w", help="Weight, in the same "
                                               "forms as --input.")]


@app.command("bce", short_help="Binary cross-entropy on probabilities (BCELoss).")
def bce(
    input: InputOpt,
    target: TargetOpt,
    sigmoid: Annotated[bool, typer.Option("--sigmoid", help="Apply a sigmoid to the input "
                                          "first (BCELoss()(Sigmoid()(x), y)).")] = False,
    weight: WeightOpt = None,
    reduction: ReductionOpt = ReductionChoice.mean,
    format: FormatOpt = FormatChoice.table,
    dtype: DTypeOpt = DTypeChoice.float64,
    precision: PrecisionOpt = 4,
    expect: ExpectOpt = None,
    rtol: RtolOpt = 1e-5,
    atol: AtolOpt = 1e-8,
    explain: ExplainOpt = False,
    max_rows: MaxRowsOpt = 20,
) -> None:
    """Binary cross-entropy on probabilities, like torch.nn.BCELoss.

    ℓ = −w·[y·ln p + (1 − y)·ln(1 − p)], each ln clamped at −100; p and y in [0, 1].
    --sigmoid takes logits x and uses p = σ(x), as BCELoss()(Sigmoid()(x), y) does.

    \b
    Examples:
      bcecli bce -i '[[0.9, 0.1, 0.3], [0.4, 0.8, 0.2]]' -t '[[1, 0, 0], [0, 1, 0]]'
          the terms and row means, then "mean of 6 terms = 0.2541"
      bcecli bce --sigmoid --explain -i samples/tutorial-3x3-sigmoid-bce/input.csv
                 -t samples/tutorial-3x3-sigmoid-bce/target.csv
          σ(x), every term written out, then "mean of 9 terms = 0.7193"
      bcecli bce --sigmoid -i x.csv -t y.csv -w '[1, 2, 3]' -f plain
          one weight per column; the loss alone, e.g. 1.5579392012099138

    Exit status: 0 ok, 1 --expect not met, 2 usage or input error.
    """
    from bcecli.run import Request, execute

    execute(Request("bce", input, target, weight, None, reduction.value, format.value,
                    dtype.value, precision, expect, rtol, atol, explain, max_rows,
                    sigmoid=sigmoid))


@app.command("bce-logits", short_help="Binary cross-entropy on logits (BCEWithLogitsLoss).")
def bce_logits(
    input: InputOpt,
    target: TargetOpt,
    weight: WeightOpt = None,
    pos_weight: Annotated[str | None, typer.Option("--pos-weight", help="Weight of positive "
                                                   "examples, broadcast against the target "
                                                   "(usually one per column).")] = None,
    reduction: ReductionOpt = ReductionChoice.mean,
    format: FormatOpt = FormatChoice.table,
    dtype: DTypeOpt = DTypeChoice.float64,
    precision: PrecisionOpt = 4,
    expect: ExpectOpt = None,
    rtol: RtolOpt = 1e-5,
    atol: AtolOpt = 1e-8,
    explain: ExplainOpt = False,
    max_rows: MaxRowsOpt = 20,
) -> None:
    """Binary cross-entropy on logits, like torch.nn.BCEWithLogitsLoss (numerically stable).

    ℓ = w·[(1 − y)·x − (1 + (pw − 1)·y)·ln σ(x)], exact for logits of ±1e4 and beyond.

    \b
    Examples:
      bcecli bce-logits -i samples/tutorial-3x3-logits/input.csv
                        -t samples/tutorial-3x3-logits/target.csv
          σ(x), the terms, row means and "mean of 9 terms = 0.7193"
      bcecli bce-logits -i logits.csv -t labels.csv --pos-weight '[1, 2, 3]' -f plain
          positives of column 2 count twice, of column 3 three times
      bcecli bce-logits -i logits.npy -t labels.npy -r none -f csv | head
          the elementwise losses, streamed

    Exit status: 0 ok, 1 --expect not met, 2 usage or input error.
    """
    from bcecli.run import Request, execute

    execute(Request("bce-logits", input, target, weight, pos_weight, reduction.value,
                    format.value, dtype.value, precision, expect, rtol, atol, explain,
                    max_rows))


@app.command("ce", short_help="Cross-entropy over classes (CrossEntropyLoss).")
def ce(
    input: InputOpt,
    target: TargetOpt,
    weight: Annotated[str | None, typer.Option("--weight", "-w", help="One weight per class, "
                                               "shape (C,).")] = None,
    ignore_index: Annotated[int, typer.Option("--ignore-index", help="Targets equal to this "
                                              "class index are skipped.")] = -100,
    label_smoothing: Annotated[float, typer.Option("--label-smoothing", help="Label smoothing "
                                                   "ε in [0, 1].")] = 0.0,
    reduction: ReductionOpt = ReductionChoice.mean,
    format: FormatOpt = FormatChoice.table,
    dtype: DTypeOpt = DTypeChoice.float64,
    precision: PrecisionOpt = 4,
    expect: ExpectOpt = None,
    rtol: RtolOpt = 1e-5,
    atol: AtolOpt = 1e-8,
    explain: ExplainOpt = False,
    max_rows: MaxRowsOpt = 20,
) -> None:
    """Cross-entropy over classes on logits, like torch.nn.CrossEntropyLoss.

    Input (N, C), (C,) or (N, C, d1, ...); target class indices (the input's shape without C;
    in CSV one column or one row) or class probabilities (the input's shape).
    ℓ = w[y]·(−x[y] + ln Σ_j exp x_j); the mean is Σ ℓ / Σ w[y] over the counted targets.

    \b
    Examples:
      bcecli ce -i '[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]' -t '[0, 2]'
          one row per sample: logit, ln Σ exp, ℓ, p(target); "mean of 2 terms = 0.1755"
      bcecli ce -i '[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]' -t '[[0.7, 0.2, 0.1], [0, 0, 1]]'
          class probabilities as targets: mean 0.4755
      bcecli ce -i logits.csv -t labels.csv --label-smoothing 0.1 -w '[1, 2, 3]' --explain
          smoothing and class weights, written out for each sample
      bcecli ce -i logits.csv -t labels.csv --ignore-index 0 -f plain
          samples of class 0 are skipped

    Exit status: 0 ok, 1 --expect not met, 2 usage or input error.
    """
    from bcecli.run import Request, execute

    execute(Request("ce", input, target, weight, None, reduction.value, format.value,
                    dtype.value, precision, expect, rtol, atol, explain, max_rows,
                    ignore_index=ignore_index, label_smoothing=label_smoothing))


def main() -> None:
    """Entry point: run the app; Ctrl-C exits 130, a reader that went away ends quietly."""
    if hasattr(signal, "SIGPIPE"):  # `bcecli ... | head`: end quietly (status 141), as cat does
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.stderr.write("bcecli: interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitCode.OK)
