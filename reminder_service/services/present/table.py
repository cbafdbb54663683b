"""Plain-text tables that line up in a terminal, Vietnamese diacritics included."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    """Columns a string takes: combining marks take none, East Asian wide characters two."""
    total = 0
    for char in unicodedata.normalize("NFC", text):
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1
    return total


def _pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: str = "  ") -> str:
    sizes = [width(h) for h in headers]
    for row in rows:
        sizes = [max(size, width(cell)) for size, cell in zip(sizes, row, strict=True)]
    lines = [
        gap.join(_pad(h, s) for h, s in zip(headers, sizes, strict=True)).rstrip(),
        gap.join("─" * s for s in sizes),
    ]
    lines.extend(gap.join(_pad(c, s) for c, s in zip(row, sizes, strict=True)).rstrip() for row in rows)
    return "\n".join(lines)
