"""Billing cycles: a month starting on the profile's `cycle_day` (1–28), in UTC like Meta's invoices.
A cycle is named by its first day; ledger entries and usage counters carry that date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def _utc_day(at: datetime | date) -> date:
    if isinstance(at, datetime):
        return at.astimezone(UTC).date() if at.tzinfo else at.date()
    return at


def cycle_start(cycle_day: int, at: datetime | date) -> date:
    """The first day of the cycle `at` falls in."""
    day = _utc_day(at)
    if day.day >= cycle_day:
        return day.replace(day=cycle_day)
    previous_month = day.replace(day=1) - timedelta(days=1)
    return previous_month.replace(day=cycle_day)


def cycle_after(start: date) -> date:
    """The first day of the next cycle (same day of the next month)."""
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def cycle_bounds(start: date) -> tuple[datetime, datetime]:
    """[start, end) of a cycle as aware UTC datetimes."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(cycle_after(start), time.min, tzinfo=UTC),
    )
