"""Turn what the user typed (a path, ``-``, inline JSON or a number) into a :class:`Matrix`.

The format comes from the file's extension; without one (and for stdin) the content is
sniffed: ``\\x93NUMPY`` is .npy, a first ``[`` is JSON, anything else delimited text.
"""

from __future__ import annotations

import os
import stat
import weakref
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from bcecli import delimited, jsontext, npyfile
from bcecli.blocks import Block, ByteStream, Matrix
from bcecli.checks import Locator
from bcecli.errors import BceError

EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": None, ".json": "json",
              ".npy": "npy"}
JSON_MEMORY_FACTOR = 6
_STDIN_TAKEN: weakref.WeakSet[object] = weakref.WeakSet()
"""Standard input streams already given to one argument: a second ``-`` is an error."""
"""Bytes of memory per byte of JSON text while it is parsed (lists of floats), about."""


def is_number_text(text: str) -> bool:
    """True when an argument is a plain number, e.g. ``2`` or ``-1.5e-3``."""
    return delimited.is_number(text.strip())


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _whole(name: str, array: np.ndarray, locate: Locator, size: int | None = None) -> Matrix:
    return Matrix(name, iter([Block(array, locate)]), size_bytes=size, whole=True)


def _from_json_bytes(data: bytes, name: str) -> Matrix:
    array = jsontext.parse_json(data, name)
    return _whole(name, array, jsontext.json_locator(name), len(data))


def _guard_memory(name: str, size: int, what: str) -> None:
    available = _available_memory()
    need = size * JSON_MEMORY_FACTOR
    if available is not None and need > available:
        raise BceError(
            f"{name} is {size / 2**30:.1f} GiB of {what}, which needs about "
            f"{need / 2**30:.1f} GiB of memory to read, more than the "
            f"{available / 2**30:.1f} GiB available; convert it to .npy or CSV, which "
            f"bcecli streams"
        )


def _open_stream(stream: ByteStream, name: str, kind: str | None, size: int | None) -> Matrix:
    consumed = [0]
    if kind is None:
        first = stream.read(1 << 16)
        if first.startswith(npyfile.MAGIC):
            kind = "npy"
        elif first.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
            kind = "json"
        stream = _Prefixed(first, stream)
    if kind == "json":
        if size is not None:
            _guard_memory(name, size, "JSON")
        matrix = _from_json_bytes(stream.read(), name)
        return matrix
    if kind == "npy":
        shape, blocks = npyfile.read_npy(stream, name, consumed)
        return Matrix(name, blocks, size_bytes=size, consumed=consumed, whole=len(shape) < 2)
    dialect = {"csv": delimited.Dialect(b","), "tsv": delimited.Dialect(b"\t")}.get(kind or "")
    head, text_blocks = delimited.iter_blocks(stream, name, dialect, consumed)
    return Matrix(name, text_blocks, column_names=head.column_names, size_bytes=size,
                  consumed=consumed, text=True)


class _Prefixed:
    """A read-only stream that first gives back bytes already read for sniffing."""

    def __init__(self, prefix: bytes, stream: ByteStream) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            data, self._prefix = self._prefix + self._stream.read(), b""
            return data
        if self._prefix:
            data, self._prefix = self._prefix[:n], self._prefix[n:]
            if len(data) < n:
                data += self._stream.read(n - len(data))
            return data
        return self._stream.read(n)


def open_matrix(arg: str, option: str, stdin: BinaryIO | None) -> Matrix:
    """Open the matrix named by a command-line argument.

    ``[...]`` is inline JSON, a plain number a scalar, ``-`` standard input, anything else
    a path.
    """
    text = arg.strip()
    if text.startswith("["):
        return _from_json_bytes(text.encode(), f"{option} (inline JSON)")
    if text.startswith("{"):
        raise BceError(f"{option}: inline JSON must be a number or (nested) arrays of numbers, "
                       f"not an object")
    if is_number_text(text):
        return _whole(f"{option} value", np.array(float(text)), lambda idx: f"{option} value")
    if text == "-":
        if stdin is None or stdin in _STDIN_TAKEN:
            raise BceError(f"{option}: stdin ('-') is already read for another option; "
                           f"only one input can come from stdin")
        try:
            _STDIN_TAKEN.add(stdin)
        except TypeError:  # a stream that cannot be weakly referenced; run.py passes one
            pass
        return _open_stream(stdin, "stdin", None, None)
    if not text:
        raise BceError(f"{option} is empty; give a path, '-', inline JSON or a number")
    return _open_path(arg, option)


def _open_path(path: str, option: str) -> Matrix:
    name = path if path.isprintable() else repr(path)  # one line, whatever the path holds
    try:
        st = os.stat(path)
    except (FileNotFoundError, ValueError):  # ValueError: a NUL in the path
        raise BceError(f"{option}: no such file: {name}") from None
    except OSError as exc:
        raise BceError(f"{option}: cannot read {name}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BceError(f"{option}: {name} is a directory, not a file")
    ext = os.path.splitext(path)[1].lower()
    kind = EXTENSIONS.get(ext)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise BceError(f"{option}: cannot read {name}: {exc.strerror}") from None
    size = st.st_size if stat.S_ISREG(st.st_mode) else None
    if size == 0:
        fh.close()
        raise BceError(f"{name} is empty")
    try:
        matrix = _open_stream(fh, name, kind, size)
    except BaseException:
        fh.close()
        raise
    matrix.blocks = _closing(matrix.blocks, fh)
    return matrix


def _closing(blocks: Iterator[Block], fh: BinaryIO) -> Iterator[Block]:
    try:
        yield from blocks
    finally:
        fh.close()
