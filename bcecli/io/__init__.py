"""Inputs: what the user typed (a path, ``-``, inline JSON or a number) as a :class:`Source`.

:data:`FORMATS` is the one place a source's format is decided: a file's extension names
its format; without a known extension (and for stdin) the first bytes are shown to each
format's ``sniff`` in turn, delimited text last.  ``FILE:SELECTOR`` (``preds.npz:logits``)
passes the selector to the format; a path that exists as typed is always a path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import BinaryIO

import numpy as np

from bcecli.errors import BceError
from bcecli.io import arrow, delimited, jsontext, npy, npz
from bcecli.io.source import ByteStream, Format, Opening, Prefixed, Source, Tee, in_memory
from bcecli.io.textparse import is_number, printable

FORMATS: tuple[Format, ...] = (npy.FORMAT, npz.FORMAT, arrow.FORMAT, jsontext.FORMAT,
                               delimited.FORMAT)
"""Every input format, in the order their ``sniff`` is asked; delimited text claims the rest."""
MAX_SNIFF = 1 << 24
"""Blank bytes read past, at most, before the first one that tells the format."""
_BLANK = b"\xef\xbb\xbf \t\r\n"


def is_number_text(text: str) -> bool:
    """True when an argument is a plain number, e.g. ``2`` or ``-1.5e-3``."""
    return is_number(text.strip())


def _by_extension(path: str) -> tuple[Format, str | None] | None:
    ext = os.path.splitext(path)[1].lower()
    for fmt in FORMATS:
        if ext in fmt.extensions:
            return fmt, fmt.extensions[ext]
    return None


def _sniff(stream: ByteStream) -> tuple[Format, ByteStream]:
    """The format from the first bytes (read past blank space, up to ``MAX_SNIFF``)."""
    parts = [stream.read(1 << 16)]
    size = len(parts[0])
    while parts[-1] and not parts[-1].lstrip(_BLANK) and size < MAX_SNIFF:  # blank so far
        parts.append(stream.read(1 << 16))
        size += len(parts[-1])
    first = b"".join(parts)
    fmt = next(f for f in FORMATS if f.sniff(first))
    return fmt, Prefixed(first, stream)


def _open(opening: Opening, known: tuple[Format, str | None] | None) -> Source:
    if known is None:
        fmt, stream = _sniff(opening.stream)
        return fmt.open(replace(opening, stream=stream))
    fmt, variant = known
    return fmt.open(replace(opening, variant=variant))


def open_source(arg: str, option: str, stdin: BinaryIO | None, replay: bool = False,
                header: bool | None = None, names: bool = False) -> Source:
    """Open the matrix named by a command-line argument.

    ``[...]`` is inline JSON, a plain number a scalar, ``-`` standard input, anything else
    a path, optionally followed by ``:SELECTOR``.  With ``replay`` the source can be read
    a second time (:attr:`Source.reopen`): a file is opened again; what comes from a pipe
    is kept in a temporary file as it is read.  ``header``: whether a delimited file's
    first line names its columns (``--header``/``--no-header``; None: guessed).
    ``names``: read the one selected column as the rows' names (``--id``).
    """
    source = _open_names(arg, option, header) if names else \
        _open_arg(arg, option, stdin, replay, header)
    if source.reopen is None:
        source.reopen = lambda: open_source(arg, option, None, header=header, names=names)
    return source


def open_pair(x_arg: str, t_arg: str, stdin: BinaryIO | None, replay: bool = False,
              header: bool | None = None) -> tuple[Source, Source]:
    """The input and the target: :func:`open_source` of each, except that two selections of
    columns of one delimited file (``-i f.csv:prob -t f.csv:label``) are read from one
    reading of it (:func:`bcecli.io.delimited.twin_sources`), each block parsed once."""
    twins = _twins(x_arg, t_arg, stdin, replay, header)
    if twins is not None:
        return twins
    x = open_source(x_arg, "--input", stdin, replay, header)
    try:
        return x, open_source(t_arg, "--target", stdin, replay, header)
    except BaseException:
        x.close()
        raise


def _twins(x_arg: str, t_arg: str, stdin: BinaryIO | None, replay: bool,
           header: bool | None) -> tuple[Source, Source] | None:
    """Twin sources where both arguments select columns of the same regular delimited file,
    named alike, or of stdin (``-i -:prob -t -:label``); None otherwise (each is opened on
    its own, as any argument is)."""
    if x_arg.strip().startswith("-:") and t_arg.strip().startswith("-:"):
        return _stdin_twins(x_arg.strip()[2:], t_arg.strip()[2:], stdin, replay, header)
    text = x_arg.strip()
    if text != x_arg or text[:1] in ("[", "{", '"', "-") or is_number_text(text):
        return None
    path, x_sel = split_selector(x_arg)
    t_path, t_sel = split_selector(t_arg)
    if x_sel is None or t_sel is None or t_path != path or \
            _by_extension(path) != (delimited.FORMAT, "csv") and \
            _by_extension(path) != (delimited.FORMAT, "tsv"):
        return None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fh = open(path, "rb")
    except (OSError, ValueError):
        return None  # (said by open_source)
    size = os.fstat(fh.fileno()).st_size
    opening = Opening(fh, printable(path if path.isprintable() else repr(path)), size,
                      _by_extension(path)[1], None, None, path, header)  # type: ignore[index]
    args = ((x_arg, "--input"), (t_arg, "--target"))

    def alone(side: int) -> Source:
        return open_source(*args[side], None, header=header)

    try:
        x, t = delimited.twin_sources(opening, (x_sel, t_sel), alone)
    except BaseException:
        fh.close()
        raise
    for source, (arg, option) in zip((x, t), args, strict=True):
        source.closer = _then(source.closer, fh.close)
        source.reopen = partial(open_source, arg, option, None, header=header)
    return x, t


def _stdin_twins(x_sel: str, t_sel: str, stdin: BinaryIO | None, replay: bool,
                 header: bool | None) -> tuple[Source, Source]:
    """Columns of one CSV or TSV text on stdin for the input and the target, read once for
    both (a pipe is read only once); kept in a temporary file as it is read where it must
    be read again (the gradient of a mean)."""
    if stdin is None:
        raise BceError("--input: stdin ('-') is closed; give a file instead")
    fmt, stream = _sniff(stdin)
    if fmt is not delimited.FORMAT:
        what = {"npy": ".npy", "npz": ".npz", "arrow": "Parquet or Arrow",
                "json": "JSON"}.get(fmt.name, fmt.name)
        raise BceError(f"--input and --target both select columns of stdin, which holds "
                       f"{what} data: that works for CSV or TSV text; give the file")
    tee = Tee(stream, "stdin") if replay else None

    def alone(side: int) -> Source:
        raise BceError("stdin is read once for both --input and --target, and one went on "
                       "far past the other; give the data as a file")

    def pair(data: ByteStream) -> tuple[Source, Source]:
        opening = Opening(data, "stdin", None, None, None, None, "-", header)
        return delimited.twin_sources(opening, (x_sel, t_sel), alone)

    x, t = pair(tee if tee is not None else stream)
    if tee is not None:
        again: list[tuple[Source, Source]] = []

        def reopen(side: int) -> Source:
            if not again:  # (the second reading: both sides from the kept copy, once)
                again.append(pair(tee.replay()))
                again[0][1].closer = _then(again[0][1].closer, tee.close)
            return again[0][side]

        x.reopen, t.reopen = partial(reopen, 0), partial(reopen, 1)
    return x, t


def _open_arg(arg: str, option: str, stdin: BinaryIO | None, replay: bool,
              header: bool | None = None) -> Source:
    text = arg.strip()
    if text[:1] in ("[", "{", '"'):  # JSON; bytes that are not UTF-8 stay as they came
        return jsontext.from_bytes(text.encode("utf-8", "surrogateescape"),
                                   f"{option} (inline JSON)")
    if is_number_text(text):
        return in_memory(f"{option} value", np.array(float(text)), lambda idx: f"{option} value")
    if text == "-" or text.startswith("-:"):  # stdin, optionally with a selector
        if stdin is None:
            raise BceError(f"{option}: stdin ('-') is closed; give a file instead")
        selector = text[2:] if text.startswith("-:") else None
        opening = Opening(stdin, f"stdin ({option})", selector=selector, header=header)
        return _replayable(opening, None) if replay else _open(opening, None)
    if not text:
        raise BceError(f"{option} is empty; give a path, '-', inline JSON or a number")
    path, selector = split_selector(arg)
    return _open_path(path, selector, option, replay, header)


def _open_names(arg: str, option: str, header: bool | None) -> Source:
    """A column of names: ``FILE:COLUMN`` of a CSV, TSV, Parquet or Arrow file."""
    path, selector = split_selector(arg)
    if selector is None:
        raise BceError(f"{option}: give the column of names as FILE:COLUMN")
    source = _open_path(path, selector, option, header=header, names=True)
    if not source.text:
        source.close()
        raise BceError(f"{option}: {printable(path)} is not a table of columns; --id reads "
                       f"a column of a CSV, TSV, Parquet or Arrow file")
    return source


def _replayable(opening: Opening, known: tuple[Format, str | None] | None) -> Source:
    """A source from a stream read once (a pipe), kept as it is read so that it can be
    read again."""
    tee = Tee(opening.stream, opening.name)
    source = _open(replace(opening, stream=tee), known)

    def reopen() -> Source:
        again = _open(replace(opening, stream=tee.replay()), known)
        again.closer = _then(again.closer, tee.close)
        return again

    source.reopen = reopen
    return source


def split_selector(arg: str) -> tuple[str, str | None]:
    """``preds.npz:logits`` → the path and ``logits``, unless the whole exists as a path.

    The longest part before a colon that exists as a path is the path, so that an array
    whose name holds a colon is selected too (``preds.npz:a:b``: the array ``a:b``).
    """
    if ":" not in arg or os.path.lexists(arg):
        return arg, None
    at = len(arg)
    while (at := arg.rfind(":", 0, at)) > 0:
        if os.path.lexists(arg[:at]):
            return arg[:at], arg[at + 1:]
    return arg, None


def _open_path(path: str, selector: str | None, option: str, replay: bool = False,
               header: bool | None = None, names: bool = False) -> Source:
    name = printable(path if path.isprintable() else repr(path))  # one line, whatever it holds
    try:
        st = os.stat(path)
    except (FileNotFoundError, ValueError):  # ValueError: a NUL in the path
        raise BceError(f"{option}: no such file: {name}") from None
    except OSError as exc:
        raise BceError(f"{option}: cannot read {name}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BceError(f"{option}: {name} is a directory, not a file")
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise BceError(f"{option}: cannot read {name}: {exc.strerror}") from None
    regular = stat.S_ISREG(st.st_mode)
    size = st.st_size if regular else None
    stream: ByteStream = fh
    if size == 0:  # empty, or a /proc file whose size says nothing
        first = fh.read(1)
        if not first:
            fh.close()
            raise BceError(f"{option}: {name} is empty")
        stream, size = Prefixed(first, fh), None

    def reopen() -> BinaryIO:
        return open(path, "rb")

    opening = Opening(stream, name, size, None, selector, reopen if regular else None, path,
                      header, names)
    try:
        if replay and not regular:  # a FIFO, /dev/stdin: it cannot be opened again
            source = _replayable(opening, _by_extension(path))
        else:
            source = _open(opening, _by_extension(path))
    except BaseException:
        fh.close()
        raise
    source.closer = _then(source.closer, fh.close)
    return source


def _then(first: Callable[[], None] | None, second: Callable[[], None]) -> Callable[[], None]:
    """Close ``first`` (if any), then ``second`` whatever happens."""
    if first is None:
        return second

    def close() -> None:
        try:
            first()
        finally:
            second()

    return close
