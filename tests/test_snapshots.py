"""What people see, kept as files: the table and --explain for every sample and each loss.

Each case runs at fixed widths without colour; the output must equal its file in
tests/snapshots/.  After an intended change, regenerate them and read the diff:

    pytest tests/test_snapshots.py --update-snapshots
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcecli.cli import app

ROOT = Path(__file__).parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots"


def _samples() -> list[tuple[str, list[str]]]:
    rows = [line.split("|") for line in (ROOT / "samples" / "README.md").read_text().splitlines()
            if line.startswith("| ") and "`bcecli " in line]
    cases = []
    for row in rows:
        args = row[2].strip().strip("`").split()[1:]
        cases.append((row[1].strip(), [str(ROOT / a) if a.startswith("samples/") else a
                                       for a in args]))
    return cases


X = "[[-0.4089, -1.2471, 0.5907], [-0.4897, -0.8267, -0.7349], [0.5241, -0.1246, -0.4751]]"
Y = "[[0, 1, 1], [0, 0, 1], [1, 0, 1]]"
P = "[[0.9, 0.1, 0.3], [0.4, 0.8, 0.2]]"
L = "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.2, -0.3, 0.4], [0.0, 2.5, -2.0]]"
EXTRA = [
    ("bce-weight-sum", ["bce", "-i", P, "-t", "[[1, 0, 0], [0, 1, 0]]", "-w", "[1, 2, 3]",
                        "-r", "sum"]),
    ("bce-clamp", ["bce", "-i", "[[0.0, 1.0, 0.5]]", "-t", "[[1, 0, 1]]"]),
    ("bce-logits-pos-weight", ["bce-logits", "-i", X, "-t", Y, "--pos-weight", "[1, 2, 3]",
                               "-w", "0.5"]),
    ("bce-logits-saturated-none", ["bce-logits", "-i", "[[40, -40, 100]]", "-t", "[[1, 1, 0]]",
                                   "-r", "none"]),
    ("bce-logits-float32", ["bce-logits", "-i", X, "-t", Y, "--dtype", "float32"]),
    ("ce-weight-smoothing-ignore", ["ce", "-i", L, "-t", "[0, 2, 1, 1]", "-w", "[1, 2, 3]",
                                    "--label-smoothing", "0.1", "--ignore-index", "1"]),
    ("ce-probabilities", ["ce", "-i", L, "-t", "[[0.7, 0.2, 0.1], [0, 0, 1], [0.2, 0.2, 0.6], "
                          "[0.5, 0.5, 0]]", "--label-smoothing", "0.2"]),
    ("ce-all-ignored", ["ce", "-i", L, "-t", "[-100, -100, -100, -100]"]),
    ("nll-weight-ignore", ["nll", "-i", "[[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3], "
                           "[-1.1, -1.1, -1.1]]", "-t", "[0, 1, 2]", "-w", "[1, 2, 3]",
                           "--ignore-index", "2"]),
    ("nll-sum", ["nll", "-i", L, "-t", "[0, 2, 1, 1]", "-r", "sum"]),
    ("grad-bce-logits", ["bce-logits", "-i", X, "-t", Y, "--grad"]),
    ("grad-bce-clamp", ["bce", "-i", "[[0.0, 1.0, 0.5]]", "-t", "[[1, 0, 1]]", "--grad"]),
    ("grad-bce-sigmoid-weight", ["bce", "--sigmoid", "-i", X, "-t", Y, "-w", "[1, 2, 3]",
                                 "--grad", "-r", "sum"]),
    ("grad-ce-weight-smoothing-ignore", ["ce", "-i", L, "-t", "[0, 2, 1, 1]", "-w", "[1, 2, 3]",
                                         "--label-smoothing", "0.1", "--ignore-index", "1",
                                         "--grad"]),
    ("grad-ce-probabilities", ["ce", "-i", L, "-t", "[[0.7, 0.2, 0.1], [0, 0, 1], "
                               "[0.2, 0.2, 0.6], [0.5, 0.5, 0]]", "--grad", "-r", "none"]),
    ("grad-nll-weight-ignore", ["nll", "-i", "[[-0.2, -1.8, -3.1], [-2.5, -0.4, -1.3]]",
                                "-t", "[0, 2]", "-w", "[1, 2, 3]", "--grad"]),
    ("like-keras-clip", ["bce", "-i", "[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]",
                         "-t", "[[1, 0, 0], [0, 1, 0]]", "--like", "keras"]),
    ("like-sklearn-sample-weight", ["bce-logits", "-i", X, "-t", Y, "--sample-weight",
                                    "[1, 2, 0]", "--like", "sklearn"]),
    ("like-optax-ce-none", ["ce", "-i", L, "-t", "[0, 2, 1, 1]", "--label-smoothing", "0.1",
                            "--like", "optax", "-r", "none"]),
    ("compare-bce", ["bce", "-i", "[[0.0, 0.5, 1.0], [0.2, 0.9, 0.9999999]]",
                     "-t", "[[1, 0, 0], [0, 1, 0]]", "--compare"]),
    ("compare-ce-sample-weight", ["ce", "-i", L, "-t", "[0, 2, 1, 1]", "--sample-weight",
                                  "[1, 2, 3, 4]", "--compare"]),
]
CASES = [*_samples(), *EXTRA]
WIDTHS = (40, 60, 80, 120)


def _render(args: list[str], width: int) -> str:
    r = CliRunner().invoke(app, args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    return re.sub(re.escape(str(ROOT)), "<repo>", text)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("explain", [False, True], ids=["table", "explain"])
@pytest.mark.parametrize(("name", "args"), CASES, ids=[c[0] for c in CASES])
def test_snapshot(name: str, args: list[str], explain: bool, width: int,
                  update_snapshots: bool) -> None:
    text = _render([*args, *(["--explain"] if explain else [])], width)
    path = SNAPSHOTS / f"{name}--{'explain' if explain else 'table'}--{width}.txt"
    if update_snapshots:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no snapshot {path.name}: run pytest --update-snapshots"
    assert text == path.read_text(), f"{path.name} changed; if intended, --update-snapshots"


def test_no_stale_snapshots() -> None:
    names = {f"{n}--{v}--{w}.txt" for n, _ in CASES for v in ("table", "explain")
             for w in WIDTHS}
    assert {p.name for p in SNAPSHOTS.glob("*.txt")} == names


def test_no_line_is_wider_than_the_terminal() -> None:
    """From 60 columns every line fits; at 40, only a table already at its smallest (row
    labels, one column, the ``…`` of the hidden ones, the row mean) may be wider, drawn
    whole for the terminal to fold (tests/test_table_width.py checks which)."""
    for path in SNAPSHOTS.glob("*--*--*.txt"):
        width = int(path.stem.rsplit("--", 1)[1])
        for line in path.read_text().splitlines():
            table = line[:1] in "┏┃┡│└╇┗+|" if line else False
            assert len(line) <= width or (width < 60 and table), (path.name, line)


NUMBER_CUT = re.compile(r"\d…|…\d|\d\.\.\.")


def test_no_number_is_cut_and_no_term_is_broken() -> None:
    """No snapshot at any width holds a cut number (``2.0…``); no line of --explain breaks
    inside a term (``σ(−0.7349`` / ``) = 0.3241``) or a statistic (``p90`` / ``4.1578``)."""
    for path in SNAPSHOTS.glob("*--*--*.txt"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            assert not NUMBER_CUT.search(line), (path.name, line)
            last = line.split()[-1] if line.split() else ""
            assert not last.endswith(("σ(", "ln(", "exp(")), (path.name, line)
            assert last not in ("(", "ln", "exp", "Σ", "p50", "p90", "p99"), (path.name, line)
            assert not line.lstrip().startswith(")"), (path.name, line)
            assert line.strip() not in ("·", "=", "+"), (path.name, "a lone sign", line)
            if i and line.startswith("  ") and lines[i - 1].rstrip()[-1:].isdigit():
                assert not line.lstrip()[:1].isdigit() or " " in lines[i - 1].strip(), \
                    (path.name, lines[i - 1], line)
