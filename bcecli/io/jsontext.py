"""JSON input: nested arrays of numbers, any depth, with located errors.

A fast path hands text made only of brackets, commas and numbers to ``json`` and numpy;
anything else (strings, booleans, nulls, objects, NaN literals, ragged nesting) is walked
to find the first offending value and say where it is, as a JSON path like ``[2][1]``.
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np

from bcecli.errors import BceError
from bcecli.io.memory import guard_memory
from bcecli.io.source import F64, ByteStream, Format, Locator, Opening, Source, in_memory
from bcecli.io.textparse import printable

MAX_DEPTH = 32
JSON_MEMORY_FACTOR = 10
"""Bytes of memory per byte of JSON text while it is parsed (text, lists of floats, array)."""
READ_BYTES = 1 << 24
_NUMERIC_JSON = re.compile(rb"[\s\[\],0-9eE+\-.]*\Z")
_LONG_INTEGER = re.compile(rb"(?<![\d.])-?\d{%d,}(?![\d.eE])"
                           % ((sys.get_int_max_str_digits() or 4300) + 1))


def _path(idx: tuple[int, ...]) -> str:
    return "".join(f"[{i}]" for i in idx)


def _at(name: str, idx: tuple[int, ...]) -> str:
    return f"{name} {_path(idx)}" if idx else name


def json_locator(name: str) -> Locator:
    """A locator naming elements by their JSON path, e.g. ``x.json [1][2]``."""
    return lambda idx: _at(name, tuple(idx))


def _depth(obj: object) -> int:
    """How deep the first items nest (the rank, when the nesting is not ragged)."""
    depth = 0
    while isinstance(obj, list):
        depth += 1
        obj = obj[0] if obj else None
    return depth


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value[:30]!r}"
    if isinstance(value, dict):
        return "an object"
    return repr(value)[:30]


def _walk(obj: object, name: str) -> tuple[int, ...]:
    """The shape of nested lists of numbers, or a BceError naming the first bad place."""
    shape: list[int] | None = None
    stack: list[tuple[object, tuple[int, ...]]] = [(obj, ())]
    leaf_depth: int | None = None
    while stack:
        node, idx = stack.pop()
        if isinstance(node, list):
            if leaf_depth is not None and len(idx) >= leaf_depth:
                raise BceError(f"{_at(name, idx)}: expected a number, found an array "
                               f"(the nesting is ragged)")
            if shape is None or len(shape) <= len(idx):
                shape = (shape or []) + [len(node)]
            elif shape[len(idx)] != len(node):
                raise BceError(f"{_at(name, idx)}: ragged nesting, {len(node)} items where "
                               f"earlier arrays at this depth have {shape[len(idx)]}")
            if not node:
                if leaf_depth is None:
                    leaf_depth = len(idx) + 1
                continue
            stack.extend((child, (*idx, i)) for i, child in reversed(list(enumerate(node))))
        elif isinstance(node, int | float) and not isinstance(node, bool):
            if leaf_depth is None:
                leaf_depth = len(idx)
            elif leaf_depth != len(idx):
                raise BceError(f"{_at(name, idx)}: expected an array, found a number "
                               f"(the nesting is ragged)")
            if isinstance(node, int) and abs(node) > 1e308:
                raise BceError(f"{_at(name, idx)}: {str(node)[:20]}... is too large")
        else:
            raise BceError(f"{_at(name, idx)}: {_describe(node)} is not a number")
    return tuple(shape or ()) if isinstance(obj, list) else ()


def _long_integer(data: bytes, name: str) -> BceError:
    found = _LONG_INTEGER.search(data)
    if found is None:
        return BceError(f"{name}: invalid JSON: a number too long to read")
    start = found.start()
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    return BceError(f"{name}, line {line}, column {column}: an integer of "
                    f"{found.end() - start} digits is too large")


def parse_json(data: bytes, name: str, key: str | None = None) -> F64:
    """Parse JSON text holding a number or nested arrays of numbers into a float64 array;
    with ``key``, an object's array of that name (``preds.json:logits``).

    >>> parse_json(b"[[1, 2], [3, 4.5]]", "x").tolist()
    [[1.0, 2.0], [3.0, 4.5]]
    >>> parse_json(b'{"ids": ["a"], "logits": [0.5]}', "x", "logits").tolist()
    [0.5]
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise BceError(f"{name} is empty" if not data else f"{name} holds no data (only "
                       f"whitespace)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BceError(f"{name}, line {line}: not valid UTF-8 text (byte "
                       f"0x{data[exc.start]:02x})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BceError(f"{name}, line {exc.lineno}, column {exc.colno}: invalid JSON: "
                       f"{exc.msg}") from None
    except RecursionError:
        raise BceError(f"{name}: nested too deeply (at most {MAX_DEPTH} levels of arrays "
                       f"are supported)") from None
    except ValueError:  # an integer longer than Python converts (sys.int_max_str_digits)
        raise _long_integer(data, name) from None
    if key is not None:
        if not isinstance(obj, dict):
            raise BceError(f"{name}: ':{printable(key)}' selects an array of a JSON object, "
                           f"but the file holds {_describe(obj)}")
        if key not in obj:
            keys = ", ".join(printable(str(k)) for k in list(obj)[:20]) or "none"
            raise BceError(f"{name}: the object has no key '{printable(key)}'; its keys: "
                           f"{keys}")
        obj = obj[key]
        name = f"{name}:{printable(key)}"
        data = b""  # (the fast path reads the text; the selected part is not the text)
    depth = _depth(obj)
    if depth > MAX_DEPTH:
        raise BceError(f"{name}: arrays nested {depth} deep; at most {MAX_DEPTH} levels are "
                       f"supported")
    if _NUMERIC_JSON.match(data):
        try:
            return np.array(obj, dtype=np.float64)
        except (ValueError, OverflowError):
            pass
    shape = _walk(obj, name)
    return np.array(obj, dtype=np.float64).reshape(shape)


def from_bytes(data: bytes, name: str, key: str | None = None) -> Source:
    """A source holding the array that JSON text describes (or its object's ``key``)."""
    label = name if key is None else f"{name}:{printable(key)}"
    return in_memory(label, parse_json(data, name, key), json_locator(label), len(data))


def _read_all(stream: ByteStream, name: str) -> bytes:
    """All of a JSON stream, refusing it as soon as it grows past what memory can parse."""
    parts, size = [], 0
    while more := stream.read(READ_BYTES):
        parts.append(more)
        size += len(more)
        guard_memory(name, size, "JSON", JSON_MEMORY_FACTOR)
    return b"".join(parts)


def open_json(opening: Opening) -> Source:
    """A JSON file (parsed whole, after a check that it fits in memory)."""
    name = opening.name
    if opening.size is not None:
        guard_memory(name, opening.size, "JSON", JSON_MEMORY_FACTOR)
    return from_bytes(_read_all(opening.stream, name), name, opening.selector)


FORMAT = Format("json", {".json": None},
                sniff=lambda first: _looks_json(first),
                open=open_json)
"""JSON: by extension, and text whose first character opens an array (``{`` and ``"`` too,
to say what is wrong with them)."""


def _looks_json(first: bytes) -> bool:
    """JSON begins with ``[``, ``{`` or a string (said what is wrong with it); a first line
    of quoted fields and separators (``"prob","label"``, Python's csv.writer with
    QUOTE_NONNUMERIC) is a CSV header, not a JSON string.

    >>> _looks_json(b'[[0.5]]'), _looks_json(b'"prob","label"\\n0.1,1\\n'), _looks_json(b'"x"')
    (True, False, True)
    """
    text = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{"):
        return True
    if text[:1] != b'"':
        return False
    line = text.split(b"\n", 1)[0]
    return not re.search(rb'"\s*[,;\t]\s*"', line)
