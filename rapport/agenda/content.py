"""The agenda's playbook data (keep-in-touch cadence, greetings, festivals) and the calendar
arithmetic of remembered dates: a day learned without its year, and 29 February."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "es", "zh-hans", "ro")
# The language a customer is greeted in, from the country of its address, when the card does
# not say which languages the person speaks.
COUNTRY_LANGUAGE = {
    **dict.fromkeys(("ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV", "NI",
                     "CR", "PA", "UY", "PR", "GQ"), "es"),
    **dict.fromkeys(("CN", "SG", "TW", "HK", "MO"), "zh-hans"),
    **dict.fromkeys(("RO", "MD"), "ro"),
}
# ``languages_spoken`` choices of the catalog, by the language we write in.
SPOKEN = {"spanish": "es", "chinese": "zh-hans", "romanian": "ro", "english": "en"}


@lru_cache(maxsize=1)
def _yaml(name: str) -> Any:
    with (DATA / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@dataclass(frozen=True)
class Cadence:
    tiers: dict[str, int]
    stages: dict[str, int]
    lead_days: int
    holiday_tiers: tuple[str, ...]
    touch_times: int
    touch_days: int

    def days_for(self, tier: str, stage: str) -> int | None:
        """The keep-in-touch interval of a card: the shortest its tier and stage ask for."""
        options = [d for d in (self.tiers.get(tier or ""), self.stages.get(stage or "")) if d]
        return min(options) if options else None


@lru_cache(maxsize=1)
def cadence() -> Cadence:
    raw = _yaml("cadence.yaml")
    return Cadence(
        tiers={str(k): int(v) for k, v in (raw.get("tiers") or {}).items()},
        stages={str(k): int(v) for k, v in (raw.get("stages") or {}).items()},
        lead_days=int(raw.get("lead_days", 7)),
        holiday_tiers=tuple(raw.get("holiday_tiers") or ()),
        touch_times=int(raw["touch_limit"]["times"]),
        touch_days=int(raw["touch_limit"]["days"]),
    )


def greeting(occasion: str, language: str, **values: str) -> str:
    """The suggested greeting for an occasion in ``language`` (English when not translated)."""
    texts = _yaml("greetings.yaml").get(occasion) or {}
    text = texts.get(language) or texts.get("en") or ""
    # safe_substitute: an edited text with a stray "$" prints it rather than failing.
    return Template(text).safe_substitute(values).strip()


@dataclass(frozen=True)
class Festival:
    key: str
    languages: tuple[str, ...]
    labels: dict[str, str]
    lunar: str = ""
    solar: tuple[int, int] | None = None

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]

    def date_in(self, year: int) -> dt.date | None:
        if self.solar:
            return dt.date(year, *self.solar)
        from holidays.calendars.chinese import _ChineseLunisolar

        try:
            found, _estimated = getattr(_ChineseLunisolar(), f"{self.lunar}_date")(year)
        except (AttributeError, KeyError, TypeError, ValueError):  # a year the calendar does not cover
            return None
        return found if isinstance(found, dt.date) else None


@lru_cache(maxsize=1)
def festivals() -> tuple[Festival, ...]:
    result = []
    for raw in _yaml("festivals.yaml"):
        solar = raw.get("solar")
        result.append(Festival(key=raw["key"], languages=tuple(raw["languages"]), labels=raw["labels"],
                               lunar=raw.get("lunar", ""), solar=(int(solar["month"]), int(solar["day"])) if solar else None))
    return tuple(result)


# --- remembered dates -------------------------------------------------------------------------------

MONTHS = {
    # English, Spanish and Romanian month names (and their usual short forms) to month numbers.
    **{name: i + 1 for i, name in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                             "september", "october", "november", "december"))},
    **{name: i + 1 for i, name in enumerate(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                                             "septiembre", "octubre", "noviembre", "diciembre"))},
    **{name: i + 1 for i, name in enumerate(("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie",
                                             "august", "septembrie", "octombrie", "noiembrie", "decembrie"))},
    "setiembre": 9,
}


@dataclass(frozen=True)
class DayOfYear:
    """A date remembered every year: its month and day, and the year when known."""

    month: int
    day: int
    year: int | None = None

    def on(self, year: int) -> dt.date:
        """The date in ``year``; 29 February falls on 28 February in a common year."""
        if self.month == 2 and self.day == 29 and not _leap(year):
            return dt.date(year, 2, 28)
        return dt.date(year, self.month, self.day)

    def next_on_or_after(self, day: dt.date) -> dt.date:
        this_year = self.on(day.year)
        return this_year if this_year >= day else self.on(day.year + 1)

    def years_on(self, date: dt.date) -> int | None:
        """How many years the date marks on ``date`` (an age, an anniversary); unknown without a year."""
        if self.year is None or date.year <= self.year:
            return None
        return date.year - self.year


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _valid(month: int, day: int, year: int | None) -> DayOfYear | None:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    try:
        dt.date(year if year is not None else 2000, month, day)  # 2000: a leap year, so 29 February passes
    except ValueError:
        return None
    if year is not None and not 1850 <= year <= 2200:
        return None
    return DayOfYear(month, day, year)


_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NO_YEAR_ISO = re.compile(r"(?<![\d-])--(\d{1,2})-(\d{1,2})(?!\d)")  # ISO 8601 "--05-12"
_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}))?(?![\d/.])")  # day first: 12/05, 12.05.1980
_WORDS = re.compile(r"(?<!\w)(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:de\s+)?([^\W\d_]{3,10})\.?(?:\s+(?:de\s+)?(\d{4}))?(?!\w)", re.IGNORECASE)
_WORDS_US = re.compile(r"(?<!\w)([^\W\d_]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?(?!\w)", re.IGNORECASE)
_CHINESE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")


def _month(word: str) -> int | None:
    word = word.casefold()
    if word in MONTHS:
        return MONTHS[word]
    matches = {n for name, n in MONTHS.items() if len(word) >= 3 and name.startswith(word)}
    return matches.pop() if len(matches) == 1 else None


def parse_days(text: Any, *, limit: int = 20) -> list[DayOfYear]:
    """Every date written in a text, with or without its year: "1980-05-12", "--05-12",
    "12/05", "12 May", "12 de mayo de 1980", "May 12", "5月12日". Impossible dates (31 April,
    29 February of a common year) are skipped, not guessed."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:2000]
    found: list[tuple[int, DayOfYear]] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], month: int | None, day: str, year: str | None) -> None:
        if month is None or any(s < match.end() and match.start() < e for s, e in taken):
            return
        parsed = _valid(month, int(day), int(year) if year else None)
        if parsed is not None:
            found.append((match.start(), parsed))
            taken.append((match.start(), match.end()))

    for m in _ISO.finditer(text):
        add(m, int(m.group(2)), m.group(3), m.group(1))
    for m in _NO_YEAR_ISO.finditer(text):
        add(m, int(m.group(1)), m.group(2), None)
    for m in _CHINESE.finditer(text):
        add(m, int(m.group(2)), m.group(3), m.group(1))
    for m in _NUMERIC.finditer(text):
        add(m, int(m.group(2)), m.group(1), m.group(3))
    for m in _WORDS.finditer(text):
        add(m, _month(m.group(2)), m.group(1), m.group(3))
    for m in _WORDS_US.finditer(text):
        add(m, _month(m.group(1)), m.group(2), m.group(3))
    return [day for _pos, day in sorted(found, key=lambda pair: pair[0])][:limit]


def parse_day(text: Any) -> DayOfYear | None:
    days = parse_days(text, limit=1)
    return days[0] if days else None


# --- time zones -------------------------------------------------------------------------------------


def valid_time_zone(name: Any) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# Countries over several time zones: the one most of their people live in (CLDR lists them
# alphabetically, which would put Spain in Ceuta and the United States on Adak island).
MAIN_ZONE = {"ES": "Europe/Madrid", "PT": "Europe/Lisbon", "MX": "America/Mexico_City", "US": "America/New_York",
             "CA": "America/Toronto", "BR": "America/Sao_Paulo", "CL": "America/Santiago", "EC": "America/Guayaquil",
             "AU": "Australia/Sydney", "RU": "Europe/Moscow"}


def country_time_zone(country: str) -> str:
    """The main time zone of a country, or "" when unknown."""
    if not country or len(country) != 2:
        return ""
    from babel.core import get_global

    zones = get_global("territory_zones").get(country.upper()) or []
    return MAIN_ZONE.get(country.upper()) or (str(zones[0]) if zones else "")


def zone_country(zone: str) -> str:
    """The country of an IANA time zone ("Europe/Bucharest" → "RO"), or "" when unknown."""
    if not zone:
        return ""
    from babel.core import get_global

    for country, main in MAIN_ZONE.items():
        if main == zone:
            return country
    country = str(get_global("zone_territories").get(zone, ""))
    # "ZZ" and "001" are babel's "unknown region" and "world" (Etc/GMT+1, UTC).
    return country if len(country) == 2 and country.isalpha() and country != "ZZ" else ""


def _reader_locale() -> Any:
    from babel import Locale, UnknownLocaleError
    from django.utils.translation import get_language, to_locale

    try:
        return Locale.parse(to_locale(get_language() or "en").replace("zh_Hans", "zh_Hans_CN"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def country_name(code: str) -> str:
    """A country's name in the active language ("España", "Spain", "西班牙")."""
    return str(_reader_locale().territories.get(code.upper(), code))


def language_name(code: str) -> str:
    """One of our languages' names in the active language."""
    return str(_reader_locale().languages.get({"zh-hans": "zh"}.get(code, code), code))
