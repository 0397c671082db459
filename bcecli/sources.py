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
from bcecli.memory import guard_memory

EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": None, ".json": "json",
              ".npy": "npy"}
JSON_MEMORY_FACTOR = 10
"""Bytes of memory per byte of JSON text while it is parsed (text, lists of floats, array)."""
READ_BYTES = 1 << 24
MAX_SNIFF = 1 << 24
"""Blank bytes read past, at most, before the first one that tells the format."""
_BLANK = b"\xef\xbb\xbf \t\r\n"
_STDIN_TAKEN: weakref.WeakSet[object] = weakref.WeakSet()
"""Standard input streams already given to one argument: a second ``-`` is an error."""


def is_number_text(text: str) -> bool:
    """True when an argument is a plain number, e.g. ``2`` or ``-1.5e-3``."""
    return delimited.is_number(text.strip())


def _whole(name: str, array: np.ndarray, locate: Locator, size: int | None = None) -> Matrix:
    return Matrix(name, iter([Block(array, locate)]), size_bytes=size, whole=True)


def _from_json_bytes(data: bytes, name: str) -> Matrix:
    array = jsontext.parse_json(data, name)
    return _whole(name, array, jsontext.json_locator(name), len(data))


def _read_json(stream: ByteStream, name: str) -> bytes:
    """All of a JSON stream, refusing it as soon as it grows past what memory can parse."""
    parts, size = [], 0
    while more := stream.read(READ_BYTES):
        parts.append(more)
        size += len(more)
        guard_memory(name, size, "JSON", JSON_MEMORY_FACTOR)
    return b"".join(parts)


def _sniff(stream: ByteStream) -> tuple[str | None, ByteStream]:
    """The format from the first bytes past any blank space: .npy, JSON or delimited text."""
    parts = [stream.read(1 << 16)]
    size = len(parts[0])
    while parts[-1] and not parts[-1].lstrip(_BLANK) and size < MAX_SNIFF:  # blank so far
        parts.append(stream.read(1 << 16))
        size += len(parts[-1])
    first = b"".join(parts)
    start = first.lstrip(_BLANK)[:1]
    kind = ("npy" if first.startswith(npyfile.MAGIC) else
            "json" if start and start in b'[{"' else None)
    return kind, _Prefixed(first, stream)


def _open_stream(stream: ByteStream, name: str, kind: str | None, size: int | None) -> Matrix:
    consumed = [0]
    if kind is None:
        kind, stream = _sniff(stream)
    if kind == "json":
        if size is not None:
            guard_memory(name, size, "JSON", JSON_MEMORY_FACTOR)
        return _from_json_bytes(_read_json(stream, name), name)
    if kind == "npy":
        shape, blocks = npyfile.read_npy(stream, name, consumed, file_size=size)
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
    if text[:1] in ("[", "{", '"'):  # JSON; bytes that are not UTF-8 stay as they came
        return _from_json_bytes(text.encode("utf-8", "surrogateescape"),
                                f"{option} (inline JSON)")
    if is_number_text(text):
        return _whole(f"{option} value", np.array(float(text)), lambda idx: f"{option} value")
    if text == "-":
        if stdin is None:
            raise BceError(f"{option}: stdin ('-') is closed; give a file instead")
        if stdin in _STDIN_TAKEN:
            raise BceError(f"{option}: stdin ('-') is already read for another option; "
                           f"only one input can come from stdin")
        try:
            _STDIN_TAKEN.add(stdin)
        except TypeError:  # a stream that cannot be weakly referenced; run.py passes one
            pass
        return _open_stream(stdin, f"stdin ({option})", None, None)
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
    stream: ByteStream = fh
    if size == 0:  # empty, or a /proc file whose size says nothing
        first = fh.read(1)
        if not first:
            fh.close()
            raise BceError(f"{option}: {name} is empty")
        stream, size = _Prefixed(first, fh), None
    try:
        matrix = _open_stream(stream, name, kind, size)
    except BaseException:
        fh.close()
        raise
    matrix.blocks = _closing(matrix.blocks, fh)
    matrix.closer = fh.close
    return matrix


def _closing(blocks: Iterator[Block], fh: BinaryIO) -> Iterator[Block]:
    try:
        yield from blocks
    finally:
        fh.close()
