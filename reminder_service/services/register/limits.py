"""How much a register file may hold before it is refused, and how those sizes read in Vietnamese.

A district's incoming register holds a few thousand documents a year; a whole people's committee's, a few
tens of thousands. The bounds sit well above that, so a genuine export is never refused, and well below
what exhausts a small server: past them the file is refused with a message, never read half-way.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # The file as it sits on disk (.csv or .xlsx): a 100,000-row .xlsx export is about 5 MB.
    file_bytes: int = 20 * MIB
    # Documents (rows with a sender, a summary or a date): ten years of a busy office in one file.
    rows: int = 100_000
    # .xlsx: every part inflated. A 100,000-row sheet written with inline strings is about 60 MB.
    unpacked_bytes: int = 100 * MIB
    # .xlsx: inflated / compressed size of a part over 1 MiB; sheets compress about 12:1, bombs 1000:1.
    ratio: int = 100
    # .xlsx: parts in the package; an export has about ten.
    members: int = 1_000
    # .xlsx: elements of a part openpyxl builds as a tree (workbook, styles, relationships), and of the
    # elements of a streamed part (sheet, shared strings) that are not inside one of its rows or strings.
    # About 300 bytes each once built: 200,000 is 60 MB. An Excel styles part has a few thousand.
    tree_elements: int = 200_000
    # .xlsx: rows (or shared strings) in a streamed part: Excel's own limit, 1,048,576 rows a sheet.
    units: int = 1_048_576
    # .xlsx: elements inside one row or one shared string, which openpyxl holds until its end: Excel's
    # 16,384 columns, each a cell with its value, formula and inline text.
    unit_elements: int = 65_536
    # .xlsx: elements in all the parts read; bounds the time a hostile file can cost (about 10 s). A
    # 100,000-row Excel export has about 2.5 million.
    package_elements: int = 4_000_000


LIMITS = Limits()


def thousands(value: int) -> str:
    """100000 → "100.000", as Vietnamese writes it."""
    return f"{value:,}".replace(",", ".")


def megabytes(size: int) -> str:
    """Whole megabytes as such ("20"), others with one decimal after a comma ("25,3")."""
    if size % MIB == 0:
        return thousands(size // MIB)
    return f"{size / MIB:.1f}".replace(".", ",")
