"""How much memory this process may still allocate, for refusing absurd sizes up front."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["available_memory", "size_text"]


def available_memory() -> int | None:
    """Bytes this process may still allocate: the least of MemAvailable and the cgroup's
    limit minus its usage (Linux); physical free pages elsewhere; None when unknown."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    v1 = "/sys/fs/cgroup/memory/memory."
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         (v1 + "limit_in_bytes", v1 + "usage_in_bytes")):
        try:
            cap = Path(limit).read_text().strip()
            if cap != "max" and int(cap) < 2 ** 60:
                found.append(max(int(cap) - int(Path(usage).read_text().strip()), 0))
            break
        except (OSError, ValueError):
            continue
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(found)


def size_text(n: float) -> str:
    """``n`` bytes as a size for a message: ``512 bytes``, ``3.2 GiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"
