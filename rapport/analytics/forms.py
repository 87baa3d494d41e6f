"""What the report forms share: the range of days a report may be asked about."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext as _

from rapport.analytics.schemas import MAX_DATE, MIN_DATE


def report_day(day: dt.date | None) -> dt.date | None:
    """``day`` if a report may be asked about it (the API's bounds), else a form error."""
    if day is not None and not MIN_DATE <= day <= MAX_DATE:
        raise forms.ValidationError(_("Choose a date between %(first)s and %(last)s.")
                                    % {"first": MIN_DATE.isoformat(), "last": MAX_DATE.isoformat()})
    return day
