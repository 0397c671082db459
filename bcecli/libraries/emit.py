"""The data of an ``--emit`` snippet: inline when small, else loaded from the same files."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bcecli.errors import BceError
from bcecli.libraries.base import F64, Case

if TYPE_CHECKING:
    from bcecli.app import Request
    from bcecli.io.source import Source

INLINE_VALUES = 10_000
"""Values a snippet writes out inline; larger data is loaded from its files."""


def data_code(case: Case, req: Request, sources: dict[str, Source],
              data: tuple[F64, F64] | None) -> str:
    """Code defining ``x``, ``t`` (and ``w``, the sample weights) as numpy arrays: inline
    when ``data`` (the input and target, kept while small) is small enough, else loaded
    from the files they came from."""
    if data is not None:
        arrays = {"x": data[0], "t": data[1]}
        if case.sample_weight is not None:
            arrays["w"] = case.sample_weight
        if sum(a.size for a in arrays.values()) <= INLINE_VALUES:
            return "\n".join(f"{name} = np.array({_literal(a)})" for name, a in arrays.items())
    shapes = {"x": case.shape, "t": _target_shape(case),
              "w": (case.shape[0],) if case.sample_weight is not None else None}
    given = {"x": (req.input, sources["input"]), "t": (req.target, sources["target"]),
             "w": (req.sample_weight, None)}
    lines = []
    for name, shape in shapes.items():
        if shape is None:
            continue
        arg, source = given[name]
        lines.append(f"{name} = {_loader(arg or '', source, shape, name)}")
    return "\n".join(lines)


def _target_shape(case: Case) -> tuple[int, ...]:
    """The target's shape: the input's, or without the class axis for class indices."""
    if case.classes and not case.probabilities:
        return (case.shape[0], *case.shape[2:])
    return case.shape


def _literal(a: F64) -> str:
    """An array as a Python literal whose floats read back exactly."""
    if a.ndim == 0:
        return repr(float(a))
    return repr(a.tolist())


def _loader(arg: str, source: Source | None, shape: tuple[int, ...], name: str) -> str:
    """numpy code loading a file given as ``arg`` into an array of ``shape``."""
    path = arg.strip()
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise BceError(f"--emit writes up to {INLINE_VALUES:,} values inline; larger data must "
                       f"come from .npy, .csv or .tsv files for the snippet to load ({name} is "
                       f"{arg!r})")
    if ext == ".npy":
        return f"np.load({path!r}).astype(np.float64).reshape({shape})"
    if ext in (".csv", ".tsv", ".txt"):
        delimiter = "\\t" if ext == ".tsv" else ","
        header = 1 if source is not None and source.column_names else 0
        return (f"np.loadtxt({path!r}, delimiter=\"{delimiter}\", skiprows={header}, "
                f"ndmin=2).reshape({shape})")
    raise BceError(f"--emit writes up to {INLINE_VALUES:,} values inline; larger data must "
                   f"come from .npy, .csv or .tsv files for the snippet to load ({name} is "
                   f"{arg!r})")
