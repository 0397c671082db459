"""bcecli: binary and multi-class cross-entropy, exactly as PyTorch computes them.

The loss functions (``bcecli.bce``, ``bcecli.bce_logits``, ``bcecli.ce``, ...) come from
the registry in :mod:`bcecli.losses`; they are imported on first use, so that the command
line starts without them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (typing is not imported: this module runs before the signals are set)
if TYPE_CHECKING:
    from typing import Any

__version__ = "2.0.0.dev0"


def __getattr__(name: str) -> Any:
    if name == "Result":
        from bcecli.api import Result

        return Result
    if name == "BceError":
        from bcecli.errors import BceError

        return BceError
    from bcecli.losses import API

    if name in API:
        return API[name]
    raise AttributeError(f"module 'bcecli' has no attribute {name!r}")


def __dir__() -> list[str]:
    from bcecli.losses import API

    return sorted([*globals(), "BceError", "Result", *API])
