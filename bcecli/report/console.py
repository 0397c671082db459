"""The human output as text: --explain's lines, then the tables, for a terminal or a file."""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console

from bcecli.compute.outcome import Outcome
from bcecli.report.explain import explain
from bcecli.report.numbers import to_ascii
from bcecli.report.samples import shows_summary, summary_lines, worst_view
from bcecli.report.table import render_table, wrap


def render_text(outcome: Outcome, precision: int, width: int | None, color: bool,
                with_explain: bool = False, ascii: bool = False) -> str:
    """The breakdown as text; ``width`` None (or under 1): as wide as it needs (a pipe);
    ``ascii``: written in ASCII (``--ascii``, or a stream that cannot encode the symbols).

    Every line fits the width, broken at spaces (a continued line of ``--explain`` is
    indented two more), except what cannot fit whole: a word wider than the width, or a
    table whose row labels, one column and the ``…`` of the hidden ones are wider.  Those
    are printed whole, for the terminal to fold, rather than cut.  Without a width every
    line of ``--explain`` is printed whole."""
    if width is not None and width < 1:
        width = None
    console, buf = text_console(width, color)
    shown = outcome
    if outcome.worst is not None:
        shown = worst_view(outcome)
    if with_explain:
        print_lines(console, explain(shown, precision), width, ascii)
        console.print()
    render_table(shown, console, precision, width, ascii)
    if shows_summary(outcome):
        console.print()
        print_lines(console, summary_lines(outcome, precision, width, ascii), width, ascii)
    return buf.getvalue()


def text_console(width: int | None, color: bool) -> tuple[Console, io.StringIO]:
    """A rich console writing into a string: colour or none, the width (None: as wide as
    each line needs)."""
    buf = io.StringIO()
    return Console(file=buf, force_terminal=color, no_color=not color, highlight=False,
                   width=width or 10_000, legacy_windows=False), buf


def print_lines(console: Console, lines: Iterable[str], width: int | None,
                ascii: bool) -> None:
    """Lines of text, each broken at spaces to the width (continued two further in)."""
    for line in lines:
        for part in wrap(to_ascii(line) if ascii else line, width, hang=2):
            console.print(part, markup=False, soft_wrap=True, highlight=False)
