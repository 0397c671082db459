"""``-f markdown``: the breakdown as GitHub-flavoured Markdown, with LaTeX math for --explain.

Each case is kept as a file in tests/snapshots/markdown/ (regenerate them with
``pytest tests/test_markdown.py --update-snapshots`` and read the diff), like the terminal's
snapshots (tests/test_snapshots.py); the committed sample samples/bce-explain.md must be
what bcecli prints now.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcecli import bce_logits
from bcecli.cli import app
from bcecli.losses import LOSSES
from bcecli.report.markdown import explain_blocks
from bcecli.report.notation import escape, tex_number

ROOT = Path(__file__).parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots" / "markdown"
SAMPLE = ROOT / "samples" / "bce-explain.md"
SAMPLE_ARGS = ["bce", "--sigmoid", "-i", "samples/tutorial-3x3-sigmoid-bce/input.csv",
               "-t", "samples/tutorial-3x3-sigmoid-bce/target.csv", "-f", "markdown",
               "--explain"]
"""The command that wrote samples/bce-explain.md, from the repository root (the README's)."""

X = "[[-0.4089, -1.2471, 0.5907], [-0.4897, -0.8267, -0.7349], [0.5241, -0.1246, -0.4751]]"
Y = "[[0, 1, 1], [0, 0, 1], [1, 0, 1]]"
L = "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.2, -0.3, 0.4], [0.0, 2.5, -2.0]]"
T = "[[0.7, 0.2, 0.1], [0, 0, 1], [0.2, 0.2, 0.6], [0.5, 0.5, 0]]"
S = "samples/"
CASES = [
    ("bce", ["bce", "-i", f"{S}tutorial-2x3-probabilities/input.csv",
             "-t", f"{S}tutorial-2x3-probabilities/target.csv"]),
    ("bce-sigmoid", ["bce", "--sigmoid", "-i", f"{S}tutorial-3x3-sigmoid-bce/input.csv",
                     "-t", f"{S}tutorial-3x3-sigmoid-bce/target.csv"]),
    ("bce-logits-pos-weight", ["bce-logits", "-i", X, "-t", Y, "--pos-weight", "[1, 2, 3]",
                               "-w", "0.5"]),
    ("ce-indices", ["ce", "-i", f"{S}ce-3x5-indices/input.csv",
                    "-t", f"{S}ce-3x5-indices/target.csv"]),
    ("ce-weight-smoothing-ignore", ["ce", "-i", L, "-t", "[0, 2, 1, 1]", "-w", "[1, 2, 3]",
                                    "--label-smoothing", "0.1", "--ignore-index", "1"]),
    ("ce-probabilities", ["ce", "-i", L, "-t", T, "--label-smoothing", "0.2"]),
    ("nll", ["nll", "-i", f"{S}nll-3x5-log-probs/input.csv",
             "-t", f"{S}nll-3x5-log-probs/target.csv"]),
    ("nll-weight-ignore", ["nll", "-i", "[[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3]]",
                           "-t", "[0, 2]", "-w", "[1, 2, 3]", "--ignore-index", "2"]),
    ("bce-hidden-rows", ["bce", "--sigmoid", "-i", f"{S}tutorial-batch-32x5/input.csv",
                         "-t", f"{S}tutorial-batch-32x5/target.csv", "--max-rows", "4"]),
]


def _run(*args: str, ok: bool = True, width: int = 60) -> tuple[str, str]:
    r = CliRunner().invoke(app, [str(ROOT / a) if a.startswith(S) else a for a in args],
                           env={"NO_COLOR": "1", "COLUMNS": str(width)})
    if ok:
        assert r.exit_code == 0, r.stderr
    return r.stdout.replace(str(ROOT), "<repo>"), r.stderr


@pytest.mark.parametrize("explain", [False, True], ids=["table", "explain"])
@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_snapshot(name: str, args: list[str], explain: bool, update_snapshots: bool) -> None:
    text, _ = _run(*args, "-f", "markdown", *(["--explain"] if explain else []))
    path = SNAPSHOTS / f"{name}--{'explain' if explain else 'table'}.md"
    if update_snapshots:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no snapshot {path.name}: run pytest --update-snapshots"
    assert text == path.read_text(), f"{path.name} changed; if intended, --update-snapshots"


def test_no_stale_snapshots() -> None:
    names = {f"{n}--{v}.md" for n, _ in CASES for v in ("table", "explain")}
    assert {p.name for p in SNAPSHOTS.glob("*.md")} == names


def test_the_committed_sample_is_what_bcecli_prints() -> None:
    text, _ = _run(*SAMPLE_ARGS)
    assert text == SAMPLE.read_text(), "samples/bce-explain.md is stale: rewrite it with " \
        "bcecli " + " ".join(SAMPLE_ARGS) + " > samples/bce-explain.md"


def test_the_readme_shows_the_sample_command_and_its_output() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bcecli " + " ".join(SAMPLE_ARGS) in readme
    assert "(samples/bce-explain.md)" in readme
    shown = readme.split("<!-- markdown-sample -->")[1]  # (lines of the sample, as they are)
    lines = [line for line in shown.splitlines() if line.strip()]
    assert len(lines) > 10 and set(lines) <= set(SAMPLE.read_text().splitlines())


def _cells(line: str) -> list[str]:
    """A GFM table line's cells: split at the pipes that are not escaped."""
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]


def tables(text: str) -> list[list[list[str]]]:
    """Every GFM table of a Markdown text, as rows of cells (the header first), checked to
    be a table as GitHub reads one: a header line, a separator of as many cells, and every
    line as many cells."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].startswith("|"):
            block.append(lines[i])
            i += 1
        assert i == len(lines) or lines[i] == "", "a table ends with a blank line"
        head, sep, *body = (_cells(line) for line in block)
        assert all(re.fullmatch(r":?-{3,}:?", c) for c in sep), block[1]
        assert len(sep) == len(head) and all(len(row) == len(head) for row in body), block
        found.append([head, *body])
    return found


@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_tables_are_gfm_tables_with_the_terminal_tables_numbers(name: str,
                                                                args: list[str]) -> None:
    md, _ = _run(*args, "-f", "markdown")
    found = tables(md)
    term, _ = _run(*args, width=1000)  # (wide enough for every column)
    term_tables = [line for line in term.splitlines() if line.startswith("│")]
    numbers = re.compile(r"-?\d+\.\d+(?:e[+-]\d+)?")
    md_numbers = [n for table in found for row in table[1:] for cell in row
                  for n in numbers.findall(cell)]
    term_numbers = [n for line in term_tables for n in numbers.findall(line)]
    assert md_numbers and md_numbers == term_numbers  # (a wide terminal table: all columns)
    header = term.splitlines()[0]
    assert md.splitlines()[0] == f"**{escape(header)}**"
    last = [line for line in md.splitlines() if line.startswith("**")][-1]  # (the summary)
    assert last in (f"**{escape(line)}**" for line in term.splitlines())


def test_the_values_are_the_loss_s() -> None:
    md, _ = _run("bce-logits", "-i", X, "-t", Y, "--pos-weight", "[1, 2, 3]", "-w", "0.5",
                 "-f", "markdown")
    r = bce_logits(eval(X), eval(Y), pos_weight=[1, 2, 3], weight=0.5)
    probs, terms = tables(md)
    assert probs[0] == ["row", "0", "1", "2"]
    assert terms[0] == ["row", "ℓ 0", "ℓ 1", "ℓ 2", "row mean"]
    assert [row[1:4] for row in terms[1:]] == [[f"{v:.4f}" for v in row]
                                                for row in r.terms.tolist()]
    assert [row[4] for row in terms[1:]] == [f"{v:.4f}" for v in r.terms.mean(axis=1)]
    assert terms[1][1:] == ["0.2547", "1.4997", "0.6612", "0.8052"]
    assert md.rstrip().endswith(f"**mean of 9 terms = {r.loss:.4f}**")


def test_hidden_rows_are_a_row_of_dots() -> None:
    md, _ = _run(*CASES[-1][1], "-f", "markdown")
    probs, terms = tables(md)
    assert len(terms) == 1 + 4 + 1  # the header, 2 first, the ⋮ row, 2 last
    assert terms[3] == ["⋮"] * 7 and [r[0] for r in terms[1:]] == ["0", "1", "⋮", "30", "31"]
    assert "28 rows hidden (--max-rows 0 shows all)" in md


def test_explain_writes_each_element_in_latex() -> None:
    md, _ = _run(*SAMPLE_ARGS)
    assert "$$\n\\ell = -w \\cdot [y \\cdot \\max(\\ln p, -100) + (1 - y) \\cdot " \
        "\\max(\\ln(1 - p), -100)]\n$$" in md
    assert ("- row 0, column 0: $0 \\cdot \\ln 0.3992 + (1 - 0) \\cdot \\ln(1 - 0.3992) "
            "= -0.5095$") in md
    assert "- row 0: $\\sigma(-0.4089) = 0.3992$, $\\sigma(-1.2471) = 0.2232$" in md
    assert "Loss: $(0.8166 + 0.6558 + 0.6855) / 3 = 0.7193$ (mean of 9 terms = 0.7193)" in md
    _math_is_ascii_and_balanced(md)


def test_precision_reaches_the_math() -> None:
    md, _ = _run(*SAMPLE_ARGS, "-p", "6")
    assert "$0 \\cdot \\ln 0.399176 + (1 - 0) \\cdot \\ln(1 - 0.399176) = -0.509453$" in md
    assert "| 0 | 0.509453 | 1.499676 | 0.440793 | 0.816641 |" in md


def _math_is_ascii_and_balanced(md: str) -> None:
    """Every ``$…$`` closes on its line and ``$$`` on the line after its formula; the math
    is ASCII, with no unicode minus, and no ``\\text`` holds anything but ASCII."""
    body = re.sub(r"\$\$\n([^\n$]+)\n\$\$", "", md)
    for formula in re.findall(r"\$\$\n([^\n$]+)\n\$\$", md):
        assert formula.isascii(), formula
    for line in body.splitlines():
        assert line.count("$") % 2 == 0, line
        for formula in re.findall(r"\$([^$]+)\$", line):
            assert formula.isascii() and "−" not in formula, formula
            assert formula == formula.strip(), formula  # ($ x$ is not math on GitHub)


@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_every_explain_is_katex_friendly(name: str, args: list[str]) -> None:
    md, _ = _run(*args, "-f", "markdown", "--explain")
    _math_is_ascii_and_balanced(md)
    tables(md)


def test_ascii_markdown_is_ascii() -> None:
    for _, args in CASES:
        md, _ = _run(*args, "-f", "markdown", "--explain", "--ascii")
        assert md.isascii(), md
    md, _ = _run(*SAMPLE_ARGS, "--ascii")
    assert "**BCELoss on sigmoid(x) \\| reduction mean \\| float64 \\| input (3, 3)**" in md
    assert "| row | l 0 | l 1 | l 2 | row mean |" in md


def test_md_is_markdown_and_explain_goes_with_it_only_among_the_others() -> None:
    assert _run(*SAMPLE_ARGS[:-3], "-f", "md", "--explain") == _run(*SAMPLE_ARGS)
    for fmt in ("json", "csv", "plain"):
        _, err = _run(*SAMPLE_ARGS[:-3], "-f", fmt, "--explain", ok=False)
        assert f"does not go with --format {fmt}" in err


def test_markdown_with_another_library_is_refused() -> None:
    _, err = _run(*SAMPLE_ARGS[:-1], "--like", "keras", ok=False)
    assert "--format markdown writes PyTorch's breakdown" in err


def test_warnings_stay_on_stderr() -> None:
    out, err = _run("bce-logits", "-i", "[[0.2, 0.7], [0.3, 0.4]]", "-t", "[[0, 1], [1, 1]]",
                    "-f", "markdown")
    assert "bcecli: warning: every input value lies in [0, 1]" in err
    assert "warning" not in out and out.startswith("**BCEWithLogitsLoss")


def test_a_pipe_in_a_column_name_is_escaped(tmp_path: Path) -> None:
    x, y = tmp_path / "x.csv", tmp_path / "y.csv"
    x.write_text("a|b,c*d\n0.2,0.7\n")
    y.write_text("a|b,c*d\n0,1\n")
    md, _ = _run("bce", "-i", str(x), "-t", str(y), "-f", "markdown", "--explain")
    (terms,) = tables(md)
    assert terms[0] == ["row", "ℓ a\\|b", "ℓ c\\*d", "row mean"]
    assert "- row 0, column a\\|b: $" in md


def test_every_loss_has_its_formula_in_latex() -> None:
    for loss in LOSSES.values():
        assert len(loss.help.tex) == len(loss.help.formula), loss.name
        assert all(line.isascii() for line in loss.help.tex), loss.name


def test_explain_blocks_and_numbers() -> None:
    assert explain_blocks(["a", "  b", "", "c"]) == ["a", "- b", "c"]
    assert tex_number("-1.0000e-07") == "-1.0000 \\times 10^{-7}"
