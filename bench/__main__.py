"""Run every benchmark and print the figures as one table."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from datetime import date, timedelta

from calendars.library import BUILTIN_DIRECTIVES, load_library
from calendars.workdays import WorkCalendar


def _timed(action: Callable[[], object], repeat: int = 5) -> float:
    """Best of ``repeat`` runs, in seconds: the least disturbed by whatever else the machine does."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    seconds = _timed(lambda: load_library([BUILTIN_DIRECTIVES]))
    rows.append(("load built-in directives", f"{seconds * 1000:.1f} ms", "—"))
    library = load_library([BUILTIN_DIRECTIVES])

    def century() -> None:
        workdays = WorkCalendar()  # a cold cache: the cost an operator pays on start-up
        for year in range(2000, 2101):
            library.calendar("cchc", year, workdays)

    seconds = _timed(century, repeat=3)
    rows.append(("cchc calendars 2000–2100, cold", f"{seconds * 1000:.0f} ms", "< 2000 ms"))
    warm = WorkCalendar()
    for year in range(2000, 2101):
        library.calendar("cchc", year, warm)
    seconds = _timed(lambda: library.calendar("cchc", 2026, warm), repeat=50)
    rows.append(("one year's calendar, warm", f"{seconds * 1e6:.0f} µs", "< 10 ms"))
    start = date(2021, 1, 1)
    seconds = _timed(lambda: [warm.shift(start + timedelta(days=i), -5) for i in range(3650)])
    rows.append(("shift by -5 wd × 3,650 days", f"{seconds * 1000:.1f} ms", "—"))

    from bench import daemon, endtoend, memory, province, register, web

    province.run(rows)
    daemon.run(rows)
    endtoend.run(rows)
    register.run(rows)
    web.run(rows)
    memory.idle_daemon(rows)

    width = max(len(r[0]) for r in rows)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"{'benchmark':<{width}}  {'measured':>13}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>13}  {target}")


if __name__ == "__main__":
    main()
