"""How much more memory this process can take: checked before a read that would otherwise die in
native code (a reader's allocation failing inside Rust aborts the process, or hangs it printing a
backtrace) instead of raising MemoryError where we can answer it with a sentence."""

from __future__ import annotations

import sys


def headroom() -> int | None:
    """Bytes this process can still allocate, as far as the system tells; None when it can't tell."""
    limits = [n for n in (_address_space_left(), _available_memory()) if n is not None]
    return min(limits) if limits else None


def fits(needed: int) -> bool:
    """False only when `needed` bytes surely won't fit (unknown headroom: assume they do)."""
    room = headroom()
    return room is None or needed <= room


def _address_space_left() -> int | None:
    """What an address-space limit (ulimit -v, RLIMIT_AS) leaves above this process's size."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * resource.getpagesize()
        return max(0, soft - size)
    except (ImportError, OSError, ValueError, IndexError):
        return None


def _available_memory() -> int | None:
    """Memory the system can hand out without swapping hard (Linux MemAvailable; Windows: commit left)."""
    if sys.platform == "win32":
        return _windows_commit_left()
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _windows_commit_left() -> int | None:    # pragma: no cover - Windows only
    try:
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                        ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                        ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                        ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

        status = MemoryStatus()
        status.dwLength = ctypes.sizeof(MemoryStatus)
        if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return None
        return int(min(status.ullAvailPageFile, status.ullAvailVirtual))
    except (OSError, AttributeError, ValueError):
        return None


__all__ = ["fits", "headroom"]
