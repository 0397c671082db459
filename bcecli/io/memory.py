"""Refusing up front what would not fit in memory, instead of crashing half-way."""

from __future__ import annotations

from bcecli.errors import BceError


def available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def guard_memory(name: str, size: int, what: str, factor: int) -> None:
    """Refuse ``size`` bytes of ``what`` that take ``factor`` times as much memory to read,
    when that is more than is available.

    >>> guard_memory("x.json", 10, "JSON", 10)  # 100 bytes: fine
    """
    available = available_memory()
    need = size * factor
    if available is not None and need > available:
        raise BceError(
            f"{name} is {size / 2**30:.1f} GiB of {what}, which needs about "
            f"{need / 2**30:.1f} GiB of memory to read, more than the "
            f"{available / 2**30:.1f} GiB available; CSV, TSV and C-order .npy files are "
            f"streamed in bounded memory"
        )
