"""The figures behind the console's charts, from the rows `report timeliness` counts: how many units sent
each report on time, how late the late ones were, and one unit's record year by year.

Pure: status rows and the as-of day in, plain values out. Every figure counts obligations with
``readside.owed_outcome``, the rule of the timeliness table, so the charts and the table always agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from calendars.words import number
from reminder_service.domain.status import StatusRow
from reminder_service.services.readside import owed_outcome

# What a cell of a unit's history shows, beside its words: the four outcomes, and "open" for a report
# not owed yet (not yet due, due soon, or sent before a deadline still ahead).
Mark = Literal["on_time", "late", "missing", "waived", "open"]


@dataclass(frozen=True)
class ReportRate:
    """One report of a year over the units that owe it."""

    code: str
    title: str
    owed: int
    on_time: int
    late: int
    missing: int
    waived: int

    @property
    def percent(self) -> float | None:
        """Share sent on time of those owed, in per cent; None while none is owed yet."""
        return 100 * self.on_time / self.owed if self.owed else None


def percent_text(value: float | None) -> str:
    """"80%", "66,7%" (Vietnamese decimal comma), "—" when there is nothing to divide."""
    if value is None:
        return "—"
    rounded = round(value, 1)
    text = f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}".replace(".", ",")
    return f"{text}%"


def report_order(rows: Sequence[StatusRow]) -> list[str]:
    """Report codes in the order of the year: by the calendar day their deadline most often falls on
    (so that a unit's years line up: plan, quarter I, six months, …), then by code."""
    # Counted in one pass over (code, deadline) pairs: a province's year is 50,000 rows.
    pairs = Counter((row.obligation, row.effective_deadline) for row in rows)
    days: dict[str, Counter[tuple[int, int]]] = {}
    for (code, deadline), count in pairs.items():
        found = days.setdefault(code, Counter())
        if deadline is not None:
            found[(deadline.month, deadline.day)] += count

    def key(code: str) -> tuple[tuple[int, int], str]:
        common = days[code].most_common(1)
        return (common[0][0] if common else (13, 0)), code

    return sorted(days, key=key)


def rates_by_report(rows: Sequence[StatusRow], as_of: date) -> list[ReportRate]:
    """Per report code of the rows (one year's), in the order of the year."""
    tally = Counter((row.obligation, owed_outcome(row, as_of)) for row in rows)
    titles = {row.obligation: row for row in rows}
    rates = []
    for code in report_order(rows):
        on_time, late, missing = tally[(code, "on_time")], tally[(code, "late")], tally[(code, "missing")]
        rates.append(ReportRate(code, yearless(titles[code].title, titles[code].year), on_time + late + missing,
                                on_time, late, missing, tally[(code, "waived")]))
    return rates


@dataclass(frozen=True)
class Bucket:
    """Owed reports whose working days late (sent late) or overdue (not sent, or still incomplete) fall
    between low and high (None: no upper bound)."""

    label: str
    low: int
    high: int | None
    late: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.late + self.missing

    def holds(self, days: int) -> bool:
        return days >= self.low and (self.high is None or days <= self.high)


# A report sent on the day off right after its deadline is late by no working day: its own bucket,
# shown only when some report is in it.
ZERO_BUCKET = Bucket("0", 0, 0)
BUCKETS = (Bucket("1–2", 1, 2), Bucket("3–5", 3, 5), Bucket("6–10", 6, 10), Bucket("11–20", 11, 20),
           Bucket("> 20", 21, None))


def days_late(rows: Sequence[StatusRow], as_of: date) -> list[Bucket]:
    """How late the late and the missing reports are, in working days: their counts add up to the
    timeliness table's "Nộp muộn" plus "Chưa nộp hoặc còn thiếu"."""
    counts: dict[str, Counter[str]] = {}
    buckets = (ZERO_BUCKET, *BUCKETS)
    for row in rows:
        outcome = owed_outcome(row, as_of)
        if outcome not in ("late", "missing"):
            continue
        days = row.status.working_days or 0
        bucket = next(b for b in buckets if b.holds(days))
        counts.setdefault(bucket.label, Counter())[outcome] += 1
    filled = [Bucket(b.label, b.low, b.high, counts.get(b.label, Counter())["late"],
                     counts.get(b.label, Counter())["missing"]) for b in buckets]
    return filled if filled[0].total else filled[1:]


@dataclass(frozen=True)
class Cell:
    """One report of one year in a unit's history: the outcome it counts as, and in words."""

    mark: Mark
    words: str
    days: int | None = None


@dataclass(frozen=True)
class UnitHistory:
    years: tuple[int, ...]
    codes: tuple[str, ...]
    titles: dict[str, str]
    cells: dict[tuple[int, str], Cell]

    def counts(self) -> Counter[Mark]:
        return Counter(cell.mark for cell in self.cells.values())


def cell_of(row: StatusRow, as_of: date) -> Cell:
    status, outcome = row.status, owed_outcome(row, as_of)
    days = status.working_days
    if outcome == "on_time":
        return Cell("on_time", "Đúng hạn")
    if outcome == "late":
        return Cell("late", f"Muộn {number(days or 0)} ngày", days)
    if outcome == "missing":
        if status.code == "incomplete":
            return Cell("missing", f"Thiếu, quá hạn {number(days or 0)} ngày", days)
        return Cell("missing", f"Quá hạn {number(days or 0)} ngày", days)
    if outcome == "waived":
        return Cell("waived", "Miễn")
    if status.code == "submitted_on_time":
        return Cell("open", "Đã nộp, chưa đến hạn")
    if status.code == "incomplete":
        return Cell("open", "Còn thiếu, chưa quá hạn")
    return Cell("open", "Sắp đến hạn" if status.code == "due_soon" else "Chưa đến hạn")


def unit_history(rows: Sequence[StatusRow], as_of: date) -> UnitHistory:
    """One unit's rows of every year (``load_rows`` without a year) as years × reports, oldest first.
    A report code names the same report each year (plan, q1, h1, …), so a column is one report."""
    titles: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.year):
        titles[row.obligation] = yearless(row.title, row.year)  # the latest year's wording
    return UnitHistory(
        years=tuple(sorted({row.year for row in rows})),
        codes=tuple(report_order(rows)),
        titles=titles,
        cells={(row.year, row.obligation): cell_of(row, as_of) for row in rows},
    )


def yearless(title: str, year: int) -> str:
    """"Báo cáo CCHC Quý I/2026" → "Báo cáo CCHC Quý I", "Kế hoạch CCHC năm 2026" → "Kế hoạch CCHC năm":
    the same words for every year."""
    for tail in (f"/{year}", f" {year}"):
        if title.endswith(tail):
            return title[: -len(tail)]
    return title
