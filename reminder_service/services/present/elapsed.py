"""How long ago something happened, in the words `reminder-service health` and the console's «Vận hành» share.
Pure: both moments are given, in Vietnamese wall time."""

from __future__ import annotations

from datetime import datetime, timedelta


def duration(span: timedelta) -> str:
    """"7 phút", "2 giờ 5 phút", "3 ngày 4 giờ"; under a minute is "dưới 1 phút"."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"
    if hours:
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    return f"{minutes} phút" if minutes else "dưới 1 phút"


def ago(then: datetime | None, now: datetime) -> str:
    """"cách đây 4 phút"; "chưa có lần nào" when it never happened. A moment after ``now`` (the console
    run with `--as-of` a day before the service's real ticks) has no "ago" worth saying."""
    if then is None:
        return "chưa có lần nào"
    if then > now:
        return "sau thời điểm đang xem"
    if now - then < timedelta(minutes=1):
        return "vừa xong"
    return f"cách đây {duration(now - then)}"
