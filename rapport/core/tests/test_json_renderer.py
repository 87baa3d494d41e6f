"""The API's JSON renderer writes what ninja's own renderer writes, faster."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from typing import Any

from django.utils.translation import gettext_lazy
from ninja.renderers import JSONRenderer
from pydantic import BaseModel

from rapport.cards.models import Kind
from rapport.core.api import FastJSONRenderer, api


class _Colour(enum.Enum):
    RED = "red"


class _Point(BaseModel):
    x: int
    at: dt.datetime


def _values() -> list[Any]:
    utc = dt.timezone.utc
    madrid = dt.timezone(dt.timedelta(hours=1))
    return [
        {"at": dt.datetime(2026, 12, 6, 4, 7, 32, 123456, tzinfo=utc), "plain": dt.datetime(2026, 12, 6, 4, 7, 32, tzinfo=utc)},
        {"local": dt.datetime(2026, 3, 1, 9, 30, tzinfo=madrid), "naive": dt.datetime(2026, 3, 1, 9, 30, 0, 5)},
        {"early": dt.datetime(1, 1, 1, 0, 0, 0, 999, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
         "late": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc), "seconds_off": dt.datetime(2026, 6, 1, tzinfo=dt.timezone(dt.timedelta(seconds=5)))},
        {"day": dt.date(2026, 2, 28), "time": dt.time(17, 45, 0, 250000), "span": dt.timedelta(days=2, seconds=5)},
        {"money": decimal.Decimal("1234.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
        {"label": gettext_lazy("Person"), "kind": Kind.PERSON},
        {1: "one", 2: ["two", 2.5, -0.0, 1e-7, 10**15], "nested": {"none": None, "yes": True, "text": "ñ 王 \u2028 \"q\" \\"}},
        [_Point(x=1, at=dt.datetime(2026, 1, 1, tzinfo=utc))],
        {"empty": [], "tuple": (1, 2), "big": 2**62, "float": 0.1 + 0.2},
    ]


def test_the_api_renders_the_same_json_as_ninjas_renderer() -> None:
    assert isinstance(api.renderer, FastJSONRenderer)
    plain, fast = JSONRenderer(), FastJSONRenderer()
    for value in _values():
        expected = plain.render(None, value, response_status=200)  # type: ignore[arg-type]
        written = fast.render(None, value, response_status=200)  # type: ignore[arg-type]
        assert json.loads(written) == json.loads(expected), value


def test_dates_and_times_read_as_before_to_the_millisecond_with_utc_as_z() -> None:
    written = json.loads(FastJSONRenderer().render(None, _values()[0], response_status=200))  # type: ignore[arg-type]
    assert written == {"at": "2026-12-06T04:07:32.123Z", "plain": "2026-12-06T04:07:32Z"}


def test_a_plain_enum_is_written_as_its_value() -> None:
    # ninja's encoder wrote str() of an enum that is not also a str or int ("_Colour.RED"); the
    # API's answers hold none (their choices are Django's, which are str), and the value is what
    # a client can use.
    assert FastJSONRenderer().render(None, {"colour": _Colour.RED}, response_status=200) == b'{"colour":"red"}'  # type: ignore[arg-type]
