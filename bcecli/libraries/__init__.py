"""The library registry: the rules ``--like``, ``--compare`` and ``--emit`` know.

Adding a library: write its module (a :class:`~bcecli.libraries.base.Library` subclass
and its ``LIBRARY`` instance) and add its name to ``NAMES``; the command line's choices,
--compare's rows and the README's table come from here.  A module is imported when its
library is first asked for, not when the command line starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bcecli.libraries.base import Library

NAMES = ("torch", "keras", "sklearn", "optax")
"""The libraries by ``--like`` name (each the module ``bcecli.libraries.NAME``), torch
first."""


class _Registry(Mapping[str, "Library"]):
    """The libraries by name, each module imported on first use."""

    def __getitem__(self, name: str) -> Library:
        if name not in NAMES:
            raise KeyError(name)
        module = importlib.import_module(f"bcecli.libraries.{name}")
        library: Library = module.LIBRARY
        return library

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


LIBRARIES: Mapping[str, Library] = _Registry()
"""The libraries by ``--like`` name, torch first."""


def rules_table() -> str:
    """The README's table of each library's rules, made from the modules' summaries.

    >>> rules_table().splitlines()[0]
    '| | torch | keras | sklearn | optax |'
    """
    libraries = list(LIBRARIES.values())
    topics = [topic for topic, _ in libraries[0].summary]
    lines = ["| | " + " | ".join(LIBRARIES) + " |", "|---" * (len(LIBRARIES) + 1) + "|"]
    for topic in topics:
        cells = [dict(lib.summary)[topic] for lib in libraries]
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
