"""The data of an ``--emit`` snippet: inline when small, else loaded from the same files."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bcecli.errors import BceError
from bcecli.io.textparse import printable
from bcecli.libraries.base import F64, Case

if TYPE_CHECKING:
    from bcecli.app import Request

INLINE_VALUES = 10_000
"""Values a snippet writes out inline; larger data is loaded from its files."""


def data_code(case: Case, req: Request, data: tuple[F64, F64] | None) -> str:
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
    given = {"x": req.input, "t": req.target, "w": req.sample_weight}
    lines = [f"{name} = {_loader(given[name] or '', shape, name)}"
             for name, shape in shapes.items() if shape is not None]
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


def _loader(arg: str, shape: tuple[int, ...], name: str) -> str:
    """numpy code loading a file given as ``arg`` (``FILE`` or ``FILE:COLUMNS``) into an
    array of ``shape``, reading it as bcecli does: its separator, header, pandas index
    column, comment lines and BOM; the path made absolute."""
    from bcecli.io import split_selector

    path, selector = split_selector(arg.strip())
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path) or ext in (".json", ".npz", ".parquet", ".pq", ".feather",
                                           ".arrow", ".ipc", ".arrows"):
        raise BceError(f"--emit writes up to {INLINE_VALUES:,} values inline; larger data must "
                       f"come from .npy, .csv or .tsv files for the snippet to load ({name} is "
                       f"'{printable(arg)}')")
    where = repr(os.path.abspath(path))
    if ext == ".npy" or _starts(path, b"\x93NUMPY"):
        if selector is not None:
            raise BceError(f"--emit: a .npy file has no columns to select ({name} is "
                           f"'{printable(arg)}')")
        return f"np.load({where}).astype(np.float64).reshape({shape})"
    return _text_loader(path, where, selector, shape, name)


def _starts(path: str, magic: bytes) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(magic)) == magic


def _text_loader(path: str, where: str, selector: str | None, shape: tuple[int, ...],
                 name: str) -> str:
    """``np.loadtxt`` of a delimited file, with what bcecli's reader made of its head."""
    from bcecli.io import columns, delimited

    with open(path, "rb") as fh:
        first = fh.read(1 << 20)
    text = first.removeprefix(b"\xef\xbb\xbf")
    lines = text.split(b"\n")
    skip = 0
    while skip < len(lines) and (not lines[skip].strip(b" \t\r")
                                 or lines[skip].lstrip(b" \t").startswith(b"#")):
        skip += 1
    head, _ = delimited.read_head(b"\n".join(lines[skip:]), path, None, skip + 1)
    keep: list[int] | None = None
    if selector is not None:
        keep = columns.resolve(selector, head.column_names, head.ncols, path)
    elif head.index:
        keep = list(range(1, head.ncols))
    sep = head.dialect.sep
    delimiter = "None" if sep is None else repr(sep.decode())
    usecols = "" if keep is None else f", usecols={keep}"
    return (f"np.loadtxt({where}, delimiter={delimiter}, skiprows={head.data_line - 1}"
            f"{usecols}, ndmin=2, encoding=\"utf-8-sig\").reshape({shape})")
