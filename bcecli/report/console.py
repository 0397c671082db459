"""The human output as text: --explain's lines, then the tables, for a terminal or a file."""

from __future__ import annotations

import io

from rich.console import Console

from bcecli.compute.outcome import Outcome
from bcecli.report.explain import explain
from bcecli.report.numbers import to_ascii
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
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, highlight=False,
                      width=width or 10_000, legacy_windows=False)
    if with_explain:
        for line in explain(outcome, precision):
            for part in wrap(to_ascii(line) if ascii else line, width, hang=2):
                console.print(part, markup=False, soft_wrap=True, highlight=False)
        console.print()
    render_table(outcome, console, precision, width, ascii)
    return buf.getvalue()
