"""Allocator settings for the daemon, so that memory a request freed goes back to the OS instead of piling up.

With many requests decoded at once in the thread pool, glibc's default of raising its mmap threshold after each large
free keeps later large blocks in per-thread heaps, and Arrow's bundled mimalloc keeps freed pages too: the daemon's
RSS then grows well past what requests hold at any moment (docs/operations.md#memory measures both).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

import pyarrow as pa

log = logging.getLogger(__name__)
# Blocks from this size up are mapped on their own and unmapped when freed; glibc's initial threshold, kept fixed.
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def return_freed_memory() -> list[str]:
    """Fix glibc's mmap threshold and give Arrow the system allocator, unless the environment already chose.

    MALLOC_MMAP_THRESHOLD_ and ARROW_DEFAULT_MEMORY_POOL, when set, win. Returns what was changed, for the log.
    """
    changed = []
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ and _mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        changed.append(f"malloc mmap threshold {MMAP_THRESHOLD}")
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())
        changed.append("arrow memory pool system")
    return changed


def _mallopt(option: int, value: int) -> bool:
    """glibc's mallopt; False where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(option, value))
    except (OSError, AttributeError, TypeError):
        return False
