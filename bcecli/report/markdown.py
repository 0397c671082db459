"""The breakdown as Markdown (``-f markdown``): GitHub-flavoured tables and LaTeX math.

The same parts as the terminal's breakdown, from the same specs: the header line, each
table of :func:`~bcecli.report.table.table_specs` as a GFM pipe table (the rows kept by
``--max-rows``, a ``⋮`` row where rows are hidden; every column, since a page has no
width to fit), and the summary line.  With ``--explain``, the loss's own explain lines,
written in :data:`~bcecli.report.notation.TEX` (``$…$`` inline, ``$$…$$`` on lines of
their own), which GitHub, KaTeX and MathJax render; an indented line is a list item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from bcecli.compute.outcome import Outcome
from bcecli.report.display import column_label, header, summary
from bcecli.report.explain import explain
from bcecli.report.notation import TEX, escape
from bcecli.report.numbers import plural, rounded, to_ascii
from bcecli.report.samples import shows_summary, summary_lines, worst_title, worst_view
from bcecli.report.specs import LinesSpec, MatrixSpec
from bcecli.report.table import table_specs


def render_markdown(outcome: Outcome, precision: int, with_explain: bool = False,
                    ascii: bool = False) -> str:
    """The breakdown as a Markdown document; ``ascii``: in ASCII (``--ascii``)."""
    g: Callable[[str], str] = (lambda t: escape(to_ascii(t))) if ascii else escape
    whole = outcome
    if outcome.worst is not None:  # (--top: the worst rows are the ones shown)
        outcome = worst_view(outcome)
    blocks = [f"**{g(header(outcome))}**"]
    if outcome.ranked:
        blocks.append(f"**{g(worst_title(outcome))}**")
    if with_explain:
        lines = explain(outcome, precision, replace(TEX, ascii=ascii))
        blocks.extend(explain_blocks(to_ascii(line) if ascii else line for line in lines))
    for spec in table_specs(outcome, precision):
        blocks.append(f"*{g(spec.title)}*")
        blocks.append("\n".join(_matrix(outcome, spec, precision, g)
                                if isinstance(spec, MatrixSpec) else _lines(spec, g)))
    blocks.append(f"**{g(summary(outcome, precision))}**")
    if outcome.hidden > 0 and outcome.ranked:
        blocks.append(g(f"{plural(outcome.hidden, 'other row')} not shown"))
    elif outcome.hidden > 0:
        blocks.append(g(f"{plural(outcome.hidden, 'row')} hidden (--max-rows 0 shows all)"))
    if shows_summary(whole):  # (its histogram's bars line up in a code block)
        said = list(summary_lines(whole, precision, 100, ascii))
        blocks.append(g(said[0]))
        blocks.append("```\n" + "\n".join(to_ascii(line[2:]) if ascii else line[2:]
                                           for line in said[1:]) + "\n```")
    return "\n\n".join(blocks) + "\n"


def explain_blocks(lines: Iterable[str]) -> list[str]:
    """Explain lines as Markdown blocks: a line indented two is a list item, four a
    nested one (consecutive items make one list); any other line is a paragraph.

    >>> explain_blocks(["Step 1", "  row 0: $a$", "    $b$", "", "Loss: $c$"])
    ['Step 1', '- row 0: $a$\\n  - $b$', 'Loss: $c$']
    """
    blocks: list[str] = []
    items: list[str] = []
    for line in lines:
        depth = len(line) - len(line.lstrip(" "))
        if line.strip() and depth >= 2:
            items.append("  " * (min(depth, 4) // 2 - 1) + "- " + line.strip())
            continue
        if items:
            blocks.append("\n".join(items))
            items = []
        if line.strip():
            blocks.append(line)
    if items:
        blocks.append("\n".join(items))
    return blocks


def table(columns: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """A GFM pipe table: the header, its separator (numbers right-aligned, the first
    column of labels too, as the terminal's tables show them), a line per row.

    >>> list(table(["row", "a|b"], [["0", "1.5"]]))
    ['| row | a|b |', '|---:|---:|', '| 0 | 1.5 |']
    """
    yield "| " + " | ".join(columns) + " |"
    yield "|" + "|".join("---:" for _ in columns) + "|"
    for cells in rows:
        yield "| " + " | ".join(cells) + " |"


def _matrix(outcome: Outcome, spec: MatrixSpec, p: int, g: Callable[[str], str]
            ) -> Iterator[str]:
    """A matrix spec: a line per kept row, every element, the total where there is one."""
    shown = outcome.kept()
    n = spec.values(shown[0]).size if shown else 0
    vector = len(outcome.input_shape) == 1
    labels = [g(spec.vector_label if vector else spec.label_prefix + column_label(outcome, j))
              for j in range(n)]
    total = spec.total if spec.total is not None and spec.total_label and not vector else None
    columns = ["row", *labels, *([g(spec.total_label or "")] if total else [])]

    def rows() -> Iterator[list[str]]:
        for row in outcome.rows():
            if row is None:
                yield [g("⋮")] * len(columns)
                continue
            cells = [rounded(float(v), p) for v in spec.values(row)]
            yield [g(row.label), *cells, *([rounded(total(row), p)] if total else [])]

    return table(columns, rows())


def _lines(spec: LinesSpec, g: Callable[[str], str]) -> Iterator[str]:
    """A table of named columns, a line per sample (``⋮`` for hidden ones)."""
    width = len(spec.columns)
    return table([g(c) for c in spec.columns],
                 ([g(label), *([g("⋮")] * (width - 1) if cells is None else
                               [g(c.text) for c in cells])] for label, cells in spec.lines))


__all__ = ["explain_blocks", "render_markdown", "table"]
