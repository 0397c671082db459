"""What ``--like`` and ``--compare`` print: a library's loss with the rules that acted, and
one row per library beside PyTorch's.

Human output is a few lines and a table drawn by rich at the width; ``-f json`` an object;
``-f plain`` the loss alone (``--like``) or one ``library<TAB>loss`` line per library
(``--compare``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.table import Table

from bcecli.libraries.base import Case, LibOutcome, Library
from bcecli.report.console import print_lines, text_console
from bcecli.report.machine import FORMAT_VALUES, json_number, rows_json
from bcecli.report.numbers import exact, rounded, to_ascii
from bcecli.report.numbers import shape as fmt_shape

WHY = 24
"""The narrowest the why column of --compare's table gets (wider where a word is); where
rich cannot draw the table within the width that way, --compare is a list instead."""


@dataclass(eq=False)
class Compared:
    """One row of --compare: a library's outcome, or why it cannot express the case."""

    library: Library
    outcome: LibOutcome | None
    lacks: str | None = None

    def difference(self, torch: LibOutcome | None) -> tuple[float, float] | None:
        """(absolute, relative) difference from PyTorch's loss."""
        if self.outcome is None or torch is None or math.isnan(torch.loss):
            return None
        d = self.outcome.loss - torch.loss
        rel = abs(d) / abs(torch.loss) if torch.loss else (0.0 if d == 0 else math.inf)
        return d, rel

    def why(self, torch: LibOutcome | None) -> list[str]:
        """The rules that make it differ from PyTorch's, as measured on this data."""
        if self.outcome is None:
            return [f"cannot express: {self.lacks}"]
        texts = [r.text for r in self.outcome.rules]
        if torch is not None and self.outcome.dtype != torch.dtype:
            texts.append(self.outcome.dtype)
        return texts


def like_text(case: Case, library: Library, out: LibOutcome, p: int, width: int | None,
              color: bool, explain: bool, ascii: bool, max_rows: int) -> str:
    """A library's loss for people: the call, the rules that acted, the values it reduces
    (``--max-rows`` of them) and the loss."""
    console, buf = text_console(width, color)
    lines = [f"As {library.title} computes it · {out.dtype} · reduction {case.reduction} · "
             f"input {fmt_shape(case.shape)}", f"  {out.call}"]
    if explain:
        lines += ["", "Step by step:", *(f"  {s}" for s in out.steps)]
    lines += [f"  rule: {r.text}" for r in out.rules]
    print_lines(console, lines, width, ascii)
    values = out.values if out.values is not None else out.per_sample
    flat = np.asarray(values).reshape(-1)
    title = "unreduced values" if out.values is not None else "per-sample values"
    g = to_ascii if ascii else (lambda s: s)
    table = Table(title=g(title), box=box.ASCII if ascii else box.HEAVY_HEAD,
                  show_edge=True)
    table.add_column("sample", justify="right")
    table.add_column("value", justify="right")
    weights = case.sample_weight if case.sample_weight is not None and \
        flat.size == case.sample_weight.size else None
    if weights is not None:
        table.add_column("sample weight", justify="right")
    shown = _shown(flat.size, max_rows)
    for i in shown:
        if i is None:
            table.add_row(g("⋮"), g("⋮"), *([g("⋮")] if weights is not None else []))
            continue
        cells = [str(i), rounded(float(flat[i]), p)]
        if weights is not None:
            cells.append(exact(float(weights[i]), "float64", whole=True))
        table.add_row(*cells)
    if flat.size:
        console.print(table, crop=False)
    if out.values is None:
        print_lines(console, [f"{case.reduction} = {exact(out.loss, out.dtype)}"], width, ascii)
    else:
        print_lines(console, [f"reduction none: the {flat.size} values above, unreduced"], width,
               ascii)
    return buf.getvalue()


def _shown(n: int, max_rows: int) -> list[int | None]:
    """Indices of n values shown: all, or the first and last halves of ``max_rows``."""
    if max_rows <= 0 or n <= max_rows:
        return list(range(n))
    head = (max_rows + 1) // 2
    return [*range(head), None, *range(n - max_rows // 2, n)]


def like_json(case: Case, library: Library, out: LibOutcome) -> Iterator[str]:
    """One JSON object: the library, its call, its dtype, the rules and the loss (for
    reduction none the values, else the per-sample values and the loss), in pieces of a
    bounded size (the values are many: 10M for optax on the benchmark's data)."""
    record: dict[str, object] = {
        "command": case.loss, "like": library.name, "call": out.call, "dtype": out.dtype,
        "reduction": case.reduction, "input_shape": list(case.shape),
        "rules": [{"rule": r.key, "effect": r.text} for r in out.rules],
    }
    yield json.dumps(record)[:-1]
    if out.values is not None:
        yield ', "loss": '
        yield from _array_json(np.asarray(out.values), out.dtype)
    else:
        yield ', "per_sample": '
        yield from _array_json(np.asarray(out.per_sample), out.dtype)
        yield f', "loss": {json.dumps(json_number(out.loss, out.dtype))}'
    yield "}\n"


def _array_json(a: np.ndarray, dtype: str) -> Iterator[str]:
    """An array as nested JSON lists, a bounded number of values at a time."""
    if a.ndim == 0:
        yield json.dumps(json_number(float(a), dtype))
        return
    yield "["
    step = max(1, FORMAT_VALUES // max(1, a[:1].size))  # (rows a slice at a time)
    for start in range(0, a.shape[0], step):
        yield ", " if start else ""
        yield from rows_json(a[start:start + step], dtype)
    yield "]"


def like_plain(out: LibOutcome) -> str:
    """The loss alone, or the unreduced values one per line."""
    if out.values is None:
        return exact(out.loss, out.dtype) + "\n"
    return "".join(exact(float(v), out.dtype) + "\n" for v in np.asarray(out.values).ravel())


def compare_text(case: Case, rows: list[Compared], p: int, width: int | None, color: bool,
                 ascii: bool, explain: bool = False) -> str:
    """One table: a row per library with its call, loss, difference from PyTorch and why;
    with ``explain``, each library's calculation above it."""
    console, buf = text_console(width, color)
    if explain:
        for row in rows:
            if row.outcome is not None and row.library.name != "torch":
                print_lines(console, [f"As {row.library.title} computes it ({row.outcome.dtype}):",
                                 *(f"  {step}" for step in row.outcome.steps), ""],
                       width, ascii)
    torch = rows[0].outcome
    g = to_ascii if ascii else (lambda s: s)
    print_lines(console, [f"{case.loss} · reduction {case.reduction} · input "
                     f"{fmt_shape(case.shape)}: one data set under each library's rules"],
           width, ascii)
    calls = [max(map(len, r.outcome.call.split())) for r in rows  # (wrapped at spaces)
             if r.outcome is not None] or [0]
    whys = max([WHY, *(len(word) for r in rows for text in r.why(torch)
                       for word in text.split())])
    table = Table(box=box.ASCII if ascii else box.HEAVY_HEAD, show_lines=True)
    for name, justify, whole in (("library", "left", False), ("loss (vs torch)", "right", True),
                                 ("why", "left", False)):
        table.add_column(name, justify=justify, overflow="fold",  # type: ignore[arg-type]
                         no_wrap=whole, ratio=None if whole else 1,
                         min_width=None if whole else (whys if name == "why" else
                                                       max(calls)))
    for row in rows:
        o = row.outcome
        diff = row.difference(torch)
        loss = "—" if o is None else ("(unreduced)" if o.values is not None
                                      else exact(o.loss, o.dtype))
        vs = "" if diff is None or row.library.name == "torch" else "equal" if diff[0] == 0 \
            else (
            f"{_signed(diff[0], p)} ({rounded(diff[1] * 100, 2)}%)" if math.isfinite(diff[1])
            else _signed(diff[0], p))
        lib = f"{row.library.name} ({o.dtype})" if o is not None else row.library.name
        call = "" if o is None else o.call
        why = row.why(torch)
        text = "\n".join(why) if why else ("the same rules" if row.library.name != "torch"
                                           else "the reference")
        table.add_row(g(f"{lib}\n{call}" if call else lib), g(f"{loss}\n{vs}" if vs else loss),
                      g(text))
    if width is None or _fits(table, width):
        console.print(table, crop=False)
        return buf.getvalue()
    # (a narrower terminal: a list, where a table would cut calls, words and numbers)
    for row in rows:
        o = row.outcome
        diff = row.difference(torch)
        head = f"{row.library.name}: —" if o is None else (
            f"{row.library.name} ({o.dtype}): "
            + ("unreduced" if o.values is not None else exact(o.loss, o.dtype))
            + ("" if diff is None or row.library.name == "torch" else
               "  (equal)" if diff[0] == 0 else
               f"  ({_signed(diff[0], p)}, {rounded(diff[1] * 100, 2)}%)"))
        console.print()
        print_lines(console, [head], width, ascii)
        if o is not None:
            for part in _code_lines(o.call, width, "  "):
                console.print(to_ascii(part) if ascii else part, markup=False,
                              soft_wrap=True, highlight=False)
        print_lines(console, [f"  {why}" for why in row.why(torch)], width, ascii)
    return buf.getvalue()


def _fits(table: Table, width: int) -> bool:
    """Whether rich draws the table within the width (it keeps every call's names and every
    word whole, so a narrow terminal gets a wider table)."""
    console, buf = text_console(width, False)
    console.print(table, crop=False)
    return max((cell_len(line) for line in buf.getvalue().splitlines()), default=0) <= width


def _code_lines(code: str, width: int, indent: str) -> list[str]:
    """A call over lines of ``width``, broken after ``(``, ``,`` and ``.`` (never inside a
    name), continuation lines indented two more.

    >>> _code_lines("keras.losses.Sparse(from_logits=True)(y, x)", 24, "  ")
    ['  keras.losses.Sparse(', '    from_logits=True)(y,', '    x)']
    """
    import re

    pieces = [p for p in re.split(r"(?<=[(,.])\s*", code) if p]
    lines: list[str] = []
    current = indent
    for piece in pieces:
        if current.strip() and len(current) + len(piece) > width:
            lines.append(current.rstrip())
            current = indent + "  "
        current += piece if current.strip() or not piece.startswith(" ") else piece.lstrip()
        if piece.endswith(","):
            current += " "
    lines.append(current.rstrip())
    return lines


def _signed(v: float, p: int) -> str:
    text = rounded(v, max(p, 4)) if abs(v) >= 1e-4 or v == 0 else f"{v:.3e}"
    return text if text.startswith("-") else "+" + text


def compare_json(case: Case, rows: list[Compared]) -> Iterator[str]:
    """--compare as one JSON object: a record per library (in bounded pieces)."""
    torch = rows[0].outcome
    yield json.dumps({"command": case.loss, "reduction": case.reduction,
                      "input_shape": list(case.shape)})[:-1] + ', "libraries": {'
    for i, row in enumerate(rows):
        o = row.outcome
        yield (", " if i else "") + json.dumps(row.library.name) + ": "
        if o is None:
            yield json.dumps({"expressible": False, "lacks": row.lacks})
            continue
        diff = row.difference(torch)
        record: dict[str, object] = {
            "expressible": True, "call": o.call, "dtype": o.dtype,
            "rules": [{"rule": r.key, "effect": r.text} for r in o.rules],
        }
        if diff is not None:
            record["difference"] = json_number(diff[0], "float64")
            record["relative_difference"] = json_number(diff[1], "float64")
        yield json.dumps(record)[:-1] + ', "loss": '
        if o.values is not None:
            yield from _array_json(np.asarray(o.values), o.dtype)
        else:
            yield json.dumps(json_number(o.loss, o.dtype))
        yield "}"
    yield "}}\n"


def compare_plain(rows: list[Compared]) -> str:
    """``library<TAB>loss`` per library (``-`` where it cannot express the case)."""
    lines = []
    for row in rows:
        o = row.outcome
        value = "-" if o is None else ("unreduced" if o.values is not None
                                       else exact(o.loss, o.dtype))
        lines.append(f"{row.library.name}\t{value}\n")
    return "".join(lines)
