"""Datetime macros of the filter language (``@now``, ``@todayStart``, ``@yesterday``...), in UTC.

Dates are stored as ``YYYY-MM-DD HH:MM:SS.mmmZ`` text, so macros that stand for instants become text
in that format and compare correctly with date fields; the calendar parts (``@day``, ``@month``...)
are numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ...tools.datetimes import format_datetime


def _month_end(now: datetime) -> datetime:
    first_next = (now.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return first_next - timedelta(milliseconds=1)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


MACROS: dict[str, Callable[[datetime], str | int]] = {
    "@now": lambda n: format_datetime(n),
    "@yesterday": lambda n: format_datetime(n - timedelta(days=1)),
    "@tomorrow": lambda n: format_datetime(n + timedelta(days=1)),
    "@second": lambda n: n.second,
    "@minute": lambda n: n.minute,
    "@hour": lambda n: n.hour,
    "@day": lambda n: n.day,
    "@month": lambda n: n.month,
    "@year": lambda n: n.year,
    # Go's Weekday: Sunday is 0.
    "@weekday": lambda n: (n.weekday() + 1) % 7,
    "@todayStart": lambda n: format_datetime(_day_start(n)),
    "@todayEnd": lambda n: format_datetime(_day_start(n) + timedelta(days=1) - timedelta(milliseconds=1)),
    "@monthStart": lambda n: format_datetime(_day_start(n).replace(day=1)),
    "@monthEnd": lambda n: format_datetime(_month_end(n)),
    "@yearStart": lambda n: format_datetime(_day_start(n).replace(month=1, day=1)),
    "@yearEnd": lambda n: format_datetime(datetime(n.year + 1, 1, 1) - timedelta(milliseconds=1)),
}


def macro_value(name: str, now: datetime | None = None) -> str | int | None:
    macro = MACROS.get(name)
    if macro is None:
        return None
    return macro(now or datetime.now(UTC).replace(tzinfo=None))
