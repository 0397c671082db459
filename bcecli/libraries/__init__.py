"""The library registry: the rules ``--like``, ``--compare`` and ``--emit`` know.

Adding a library: write its module (a :class:`~bcecli.libraries.base.Library` subclass
and its ``LIBRARY`` instance) and add the module to ``MODULES``; the command line's
choices, --compare's rows and the README's table come from here.
"""

from __future__ import annotations

from bcecli.libraries import keras, optax, sklearn, torch
from bcecli.libraries.base import Library

MODULES = (torch, keras, sklearn, optax)
LIBRARIES: dict[str, Library] = {m.LIBRARY.name: m.LIBRARY for m in MODULES}
"""The libraries by ``--like`` name, torch first."""


def rules_table() -> str:
    """The README's table of each library's rules, made from the modules' summaries.

    >>> rules_table().splitlines()[0]
    '| | torch | keras | sklearn | optax |'
    """
    topics = [topic for topic, _ in MODULES[0].LIBRARY.summary]
    lines = ["| | " + " | ".join(LIBRARIES) + " |", "|---" * (len(LIBRARIES) + 1) + "|"]
    for topic in topics:
        cells = [dict(lib.summary)[topic] for lib in LIBRARIES.values()]
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
