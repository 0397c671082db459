"""A run under other libraries' rules: ``--like``, ``--compare`` and ``--emit``.

The data is read and checked as for PyTorch's loss (the same readers, the same messages,
the same blocks on the same thread pool); each block goes to every asked library's
computation as it comes (:class:`~bcecli.libraries.case.Feed`), which keeps only the
values that library reduces, one per sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bcecli.compute.engine import Collect, Inputs, compute, joined_parts
from bcecli.errors import BceError
from bcecli.libraries import LIBRARIES
from bcecli.libraries.base import Accumulator, Case, Lacking, LibOutcome
from bcecli.libraries.case import Feed, case_of, read_whole
from bcecli.libraries.emit import INLINE_VALUES, data_code
from bcecli.libraries.torch import LIBRARY as TORCH
from bcecli.libraries.torch import TorchRules
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
    if req.emit is not None and (req.compare or req.like != "torch"):
        raise BceError("--emit prints one library's snippet; it does not go with --compare "
                       "or --like")
    if req.compare and req.like != "torch":
        raise BceError("--compare shows every library; it does not go with --like")
    if req.grad:
        raise BceError("--grad gives the gradient as PyTorch's backward does; it does not go "
                       "with --like, --compare, --emit or --sample-weight")
    if req.expect is not None and (req.compare or req.emit):
        raise BceError("--expect checks one loss; it goes with --like, not with --compare "
                       "or --emit")
    if req.format == "csv" and req.compare:
        raise BceError("--format csv writes one library's unreduced values: with --compare "
                       "use --format table, plain or json")
    if req.format == "csv" and req.reduction != "none":
        raise BceError("--format csv writes unreduced values; with --like use -r none, "
                       "or --format plain or json")
    if req.format == "ndjson" or req.top:
        what = "--top" if req.top else "--format ndjson"
        raise BceError(f"{what} lists PyTorch's samples; --like, --compare, --emit and "
                       f"--sample-weight show libraries' losses (give them apart)")
    if req.format == "markdown":
        raise BceError("--format markdown writes PyTorch's breakdown; with --like, --compare, "
                       "--emit or --sample-weight use --format table, plain or json")
    if req.explain and req.format != "table":
        raise BceError("--explain goes with --format table")
    if req.stream:
        raise BceError("--stream does not go with --like, --compare or --emit: other "
                       "libraries' rules reduce once the whole data is read")
    if req.smoothing and not 0.0 <= req.smoothing <= 1.0:
        raise BceError(f"--label-smoothing must be between 0 and 1; got {req.smoothing!r}")


def run_libraries(req: Request, env: Environment, out: Held) -> LibraryRun:
    """Read the data once, computing it under each asked library's rules as it comes."""
    import warnings

    _check(req)

    with warnings.catch_warnings():  # (numpy's "mean of empty slice": the result says it)
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run(req, env, out)


def _run(req: Request, env: Environment, out: Held) -> LibraryRun:
    from bcecli.compute.outcome import Keep
    from bcecli.compute.pool import Pool, default_threads
    from bcecli.io import open_pair, open_source

    torch_dtype = req.dtype or "float64"
    opts = req.loss.make_options({**req.values, "reduction": req.reduction,
                                  "dtype": torch_dtype})
    names = list(LIBRARIES) if req.compare else [req.emit or req.like]
    with ExitStack() as opened, Pool(default_threads(env.env)) as pool:
        sw = None
        if req.sample_weight is not None:
            with open_source(req.sample_weight, "--sample-weight", env.stdin,
                             header=req.header) as source:
                sw = read_whole(source)
        case = case_of(req.loss, opts, set(req.matrices), sw, req.smoothing)
        # (what a library lacks is said at the first block, when the shapes are known)
        # (--emit computes too: what only the data shows a library lacks is refused)
        accumulators: dict[str, Accumulator] = {name: _start(name, case, req)
                                                for name in names}
        feed = Feed(case, accumulators, keep=INLINE_VALUES if req.emit else 0,
                    strict=not req.compare)
        x, t = open_pair(req.input, req.target, env.stdin, header=req.header)
        opened.callback(x.close)
        opened.callback(t.close)
        extras = {name: opened.enter_context(
            open_source(arg, f"--{name.replace('_', '-')}", env.stdin, header=req.header))
            for name, arg in req.matrices.items()}
        terms = Collect() if req.reduction == "none" else None
        outcome = compute(req.loss, opts, Inputs(x, t, extras), pool=pool, keep=Keep(0, 0),
                          sink=terms, data=feed)
        feed.done(outcome.input_shape)
    out.release()
    if req.emit is not None:
        library = LIBRARIES[req.emit]
        library.refuse(case)
        dtype = req.dtype or library.default_dtype
        out.write(library.emit(case, dtype, data_code(case, req, feed.data())))
        return LibraryRun(float("nan"), dtype)
    results: dict[str, LibOutcome] = {}
    for name, acc in accumulators.items():
        try:
            results[name] = _finish(acc, outcome, terms)
        except Lacking as exc:  # (what the reduction finds: weights that sum to 0)
            feed.lacking[name] = str(exc)
            if not req.compare:
                raise LIBRARIES[name].cannot(str(exc)) from None
    if req.compare:
        rows = [Compared(LIBRARIES[name], results.get(name), feed.lacking.get(name))
                for name in names]
        for piece in _compare_output(req, env, case, rows):
            out.write(piece)
        return LibraryRun(float("nan"), torch_dtype, outcome.warnings)
    library = LIBRARIES[req.like]
    result = results[req.like]  # (a strict feed raised what the library lacks)
    if req.format == "json":
        for piece in like_json(case, library, result):
            out.write(piece)
    elif req.format in ("plain", "csv"):
        out.write(like_plain(result))
    else:
        from bcecli.app import human_style

        width, color, ascii = human_style(env)
        out.write(like_text(case, library, result, req.precision, width, color,
                            req.explain, ascii, req.max_rows))
    return LibraryRun(result.loss, result.dtype,
                      outcome.warnings if library is TORCH else [])


def _start(name: str, case: Case, req: Request) -> Accumulator:
    library = LIBRARIES[name]
    if library is TORCH:  # (the run itself is PyTorch's computation: only its rules)
        return TORCH.observer(case, req.dtype or TORCH.default_dtype)
    return library.start(case, req.dtype or library.default_dtype)


def _finish(acc: Accumulator, outcome: Any, terms: Collect | None) -> LibOutcome:
    if isinstance(acc, TorchRules) and not acc.keep:
        return acc.described(outcome, None if terms is None else joined_parts(
            terms.terms, outcome.element_shape, np.float64))
    return acc.finish()


def _compare_output(req: Request, env: Environment, case: Case, rows: list[Compared]
                    ) -> Iterator[str]:
    if req.format == "json":
        yield from compare_json(case, rows)
        return
    if req.format == "plain":
        yield compare_plain(rows)
        return
    from bcecli.app import human_style

    width, color, ascii = human_style(env)
    yield compare_text(case, rows, req.precision, width, color, ascii, req.explain)
