from __future__ import annotations


def size_text(size: int) -> str:
    """1536 -> "1.5 KiB", for the commands' reports."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def count_text(number: int, noun: str) -> str:
    """(1, "file") -> "1 file", (3, "file") -> "3 files"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
