"""Helpers for the analytics tests: the report's date and regular order rhythms."""

from __future__ import annotations

import datetime as dt

AS_OF = dt.date(2026, 6, 30)


def every(days: int, *, count: int, last: dt.date) -> list[dt.date]:
    """``count`` order days ``days`` apart, the last one on ``last``."""
    return [last - dt.timedelta(days=days * k) for k in range(count)][::-1]
