"""The loss registry: every command and API function comes from this list.

Adding a loss: write its module (a :class:`~bcecli.losses.base.Loss` subclass, its ``LOSS``
instance and its API function named like the command) and add the module to ``MODULES``;
the command line, the Python API, the help and the README's checks pick it up from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bcecli.losses import bce, bce_logits, cross_entropy, nll
from bcecli.losses.base import Loss

MODULES = (bce, bce_logits, cross_entropy, nll)
LOSSES: dict[str, Loss[Any, Any]] = {m.LOSS.name: m.LOSS for m in MODULES}
"""The losses by command name, in the order of ``bcecli --help``."""
API: dict[str, Callable[..., Any]] = {m.LOSS.api_name: getattr(m, m.LOSS.api_name)
                                      for m in MODULES}
"""The Python API functions by name (``bcecli.bce_logits``)."""
