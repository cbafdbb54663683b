"""Vietnamese date wording for views; the single definition lives with the calendar rules."""

from calendars.words import NONE_MARK, WEEKDAYS, dmy, number, range_text, weekday, weekday_dmy

__all__ = ["NONE_MARK", "WEEKDAYS", "dmy", "number", "range_text", "weekday", "weekday_dmy"]
