"""A run under other libraries' rules: ``--like``, ``--compare`` and ``--emit``.

The data is read and checked as for PyTorch's loss (the same readers, the same messages),
every row kept; then each library computes from it.  This holds the whole data in memory
(PyTorch's breakdown streams).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bcecli.errors import BceError
from bcecli.libraries import LIBRARIES
from bcecli.libraries.base import Case, LibOutcome
from bcecli.libraries.case import Collected, case_of, read_whole
from bcecli.libraries.emit import data_code
from bcecli.libraries.torch import LIBRARY as TORCH
from bcecli.report.libraries import (
    Compared,
    compare_json,
    compare_plain,
    compare_text,
    like_json,
    like_plain,
    like_text,
)

if TYPE_CHECKING:
    from bcecli.app import Environment, Request
    from bcecli.report.machine import Held


@dataclass
class LibraryRun:
    """What a library run gives the caller: the loss to check, its dtype, warnings."""

    loss: float
    dtype: str
    warnings: list[str] = field(default_factory=list)


def _check(req: Request) -> None:
    if req.grad:
        raise BceError("--grad gives the gradient as PyTorch's backward does; it does not go "
                       "with --like, --compare, --emit or --sample-weight")
    if req.expect is not None and (req.compare or req.emit):
        raise BceError("--expect checks one loss; it goes with --like, not with --compare "
                       "or --emit")
    if req.format == "csv" and (req.compare or req.reduction != "none"):
        raise BceError("--format csv writes unreduced values; with --like use -r none, "
                       "or --format plain or json")
    if req.explain and req.format != "table":
        raise BceError("--explain goes with --format table")
    if req.stream:
        raise BceError("--stream does not go with --like, --compare or --emit: other "
                       "libraries' rules are computed on the whole data at once")
    if req.smoothing and not 0.0 <= req.smoothing <= 1.0:
        raise BceError(f"--label-smoothing must be between 0 and 1; got {req.smoothing!r}")


def run_libraries(req: Request, env: Environment, out: Held) -> LibraryRun:
    """Read the data once, then compute it under the asked library's rules."""
    from bcecli.compute.engine import Inputs, compute
    from bcecli.compute.outcome import Keep
    from bcecli.compute.pool import Pool, default_threads
    from bcecli.io import open_source

    _check(req)
    torch_dtype = req.dtype or "float64"
    opts = req.loss.make_options({**req.values, "reduction": req.reduction,
                                  "dtype": torch_dtype})
    with ExitStack() as opened, Pool(default_threads(env.env)) as pool:
        x = opened.enter_context(open_source(req.input, "--input", env.stdin))
        t = opened.enter_context(open_source(req.target, "--target", env.stdin))
        extras = {name: opened.enter_context(
            open_source(arg, f"--{name.replace('_', '-')}", env.stdin))
            for name, arg in req.matrices.items()}
        sw = None
        if req.sample_weight is not None:
            with open_source(req.sample_weight, "--sample-weight", env.stdin) as source:
                sw = read_whole(source)
        collected = Collected()
        outcome = compute(req.loss, opts, Inputs(x, t, extras), pool=pool, keep=Keep(0, 0),
                          sink=collected, data=collected.data)
        case = case_of(outcome, collected, set(req.matrices), sw, req.smoothing)
        sources = {"input": x, "target": t}
    out.release()
    if req.emit is not None:
        library = LIBRARIES[req.emit]
        library.refuse(case)
        dtype = req.dtype or library.default_dtype
        out.write(library.emit(case, dtype, data_code(case, req, sources)))
        return LibraryRun(float("nan"), dtype)
    if req.compare:
        rows = _compare(case, req, outcome, collected)
        out.write(_compare_output(req, env, case, rows))
        return LibraryRun(float("nan"), torch_dtype, outcome.warnings)
    library = LIBRARIES[req.like]
    library.refuse(case)
    dtype = req.dtype or library.default_dtype
    result = outcome_as_library(outcome, case, collected) if library.name == "torch" else \
        library.compute(case, dtype)
    if req.format == "json":
        out.write(like_json(case, library, result))
    elif req.format in ("plain", "csv"):
        out.write(like_plain(result))
    else:
        from bcecli.app import human_style

        width, color, ascii = human_style(env)
        out.write(like_text(case, library, result, req.precision, width, color,
                            req.explain, ascii, req.max_rows))
    return LibraryRun(result.loss, dtype, outcome.warnings if library.name == "torch" else [])


def outcome_as_library(outcome: Any, case: Case, collected: Collected) -> LibOutcome:
    """PyTorch's own outcome (bcecli's computation) as a library's."""
    return TORCH.described(case, outcome, collected.arrays(outcome)[2])


def _compare(case: Case, req: Request, outcome: Any, collected: Collected
             ) -> list[Compared]:
    rows = []
    for library in LIBRARIES.values():
        lacks = library.lacks(case)
        if lacks is not None:
            rows.append(Compared(library, None, lacks))
            continue
        if library is TORCH:  # (the run's own outcome: it has the weights)
            rows.append(Compared(library, outcome_as_library(outcome, case, collected)))
            continue
        dtype = req.dtype or library.default_dtype
        rows.append(Compared(library, library.compute(case, dtype)))
    return rows


def _compare_output(req: Request, env: Environment, case: Case, rows: list[Compared]) -> str:
    if req.format == "json":
        return compare_json(case, rows)
    if req.format == "plain":
        return compare_plain(rows)
    from bcecli.app import human_style

    width, color, ascii = human_style(env)
    return compare_text(case, rows, req.precision, width, color, ascii, req.explain)
