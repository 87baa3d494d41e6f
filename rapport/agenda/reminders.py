"""The daily reminder run (``rapport agenda remind``): the reminders that make themselves.

- dates from the card's facts: birthdays, the spouse's birthday, the wedding anniversary and
  the family dates written in the family items, with or without their year;
- company anniversaries: the years an organisation has been our customer (on the day of its
  first order) and the round years since its founding (*Year founded*);
- holiday greetings by the customer's country (the `holidays` library) and festivals by the
  language they speak, one reminder per rep, country and holiday, with a suggested message;
- the keep-in-touch cadence by tier and relationship stage, reset by any logged activity;
- whatever other apps register as a daily source (silent regulars…).

Idempotent: each reminder has a key, one per owner; running twice on a day changes nothing,
and a date corrected on the card moves (or removes) its reminder on the next run.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from rapport.agenda import content
from rapport.agenda.models import DATE_SOURCES, ContactClock, Mark, Source, Task
from rapport.core.extensions import reminder_sources

# Catalog items holding a date of the card, and the reminder each one makes.
DATE_ITEMS = {"birth_date": Source.BIRTHDAY, "spouse_birth_date": Source.SPOUSE_BIRTHDAY, "wedding_anniversary": Source.WEDDING}
# Free-text family items: every date written in them ("Ana, 3 March"; "wedding --06-20") counts.
TEXT_ITEMS = ("family_dates", "children")
CHUNK = 500
_speakers: dict[int, str] = {}


def _speak(owner_id: int) -> Any:
    """Reminder texts are written in their owner's language."""
    return override(_speakers.get(owner_id) or settings.LANGUAGE_CODE)


@dataclass
class Wanted:
    owner_id: int
    key: str
    source: str
    due_on: dt.date
    title: str
    why: str = ""
    card_id: int | None = None
    suggestion: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _chunks(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _window(as_of: dt.date) -> list[dt.date]:
    return [as_of + dt.timedelta(days=n) for n in range(content.cadence().lead_days + 1)]


# --- the keep-in-touch clocks ---------------------------------------------------------------------------


def refresh_clocks() -> int:
    """Moves each customer's clock to its latest logged activity; reads only the activities
    logged since the last run. Closes the keep-in-touch reminders those activities answered."""
    from rapport.activities.models import Participant

    mark = Mark.objects.filter(name="clocks").first()
    since = mark.number if mark else 0
    newest = Participant.objects.aggregate(top=Max("activity_id"))["top"] or 0
    if newest <= since:
        return 0
    latest = (Participant.objects.filter(activity_id__gt=since, activity_id__lte=newest).values("card_id")
              .annotate(last=Max("activity__occurred_at")).order_by().values_list("card_id", "last"))
    moved = 0
    batch: dict[int, dt.date] = {}
    for card_id, last in latest.iterator(chunk_size=5000):
        batch[card_id] = timezone.localtime(last).date() if timezone.is_aware(last) else last.date()
        if len(batch) >= 5000:
            moved += _store_clocks(batch)
            batch = {}
    moved += _store_clocks(batch)
    Mark.objects.update_or_create(name="clocks", defaults={"at": timezone.now(), "number": newest})
    return moved


def _store_clocks(days: dict[int, dt.date]) -> int:
    if not days:
        return 0
    with transaction.atomic():
        ids = list(days)
        known: dict[int, dt.date | None] = {}
        for part in _chunks(ids):
            known.update(ContactClock.objects.filter(card_id__in=part).values_list("card_id", "last_contact_on"))
        new = [ContactClock(card_id=i, last_contact_on=d) for i, d in days.items() if i not in known]
        ContactClock.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        later = [ContactClock(card_id=i, last_contact_on=d) for i, d in days.items()
                 if i in known and (known[i] is None or known[i] < d)]  # type: ignore[operator]
        ContactClock.objects.bulk_update(later, ["last_contact_on"], batch_size=1000)
        for part in _chunks(ids):
            Task.objects.open().filter(card_id__in=part, source=Source.CADENCE).update(done_at=timezone.now())
    return len(new) + len(later)


def _cadence(as_of: dt.date, names: dict[int, str]) -> Iterator[Wanted]:
    """A reminder for each customer whose keep-in-touch interval ends within the window and
    who has none open yet. The database picks them (tier by tier, stage by stage), so a day
    with nothing new reads no customer into Python."""
    from django.db.models import Exists, OuterRef, Subquery

    from rapport.cards.models import Card
    from rapport.relationships.models import ContactProfile

    plan = content.cadence()
    horizon = as_of + dt.timedelta(days=plan.lead_days)

    def since_before(cutoff: dt.date) -> Q:
        start = timezone.make_aware(dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time.min))
        return Q(last__lte=cutoff) | Q(last__isnull=True, created_at__lt=start)

    due = Q(pk__in=[])
    for tier, days in plan.tiers.items():
        due |= Q(tier=tier) & since_before(horizon - dt.timedelta(days=days))
    for stage, days in plan.stages.items():
        due |= Q(stage=stage) & since_before(horizon - dt.timedelta(days=days))
    stages = ContactProfile.objects.filter(person_id=OuterRef("pk")).values("stage")[:1]
    clocks = ContactClock.objects.filter(card_id=OuterRef("pk")).values("last_contact_on")[:1]
    waiting = Task.objects.filter(card_id=OuterRef("pk"), source=Source.CADENCE, done_at__isnull=True)
    cards = (Card.objects.filter(archived_at__isnull=True, owner__is_active=True)
             .filter(Q(tier__in=list(plan.tiers)) | Q(relationship_profile__stage__in=list(plan.stages)))
             .annotate(stage=Subquery(stages), last=Subquery(clocks)).filter(due).exclude(Exists(waiting))
             .values_list("id", "owner_id", "display_name", "tier", "stage", "last", "created_at"))
    for card_id, owner_id, name, tier, stage, last, created in cards.iterator(chunk_size=5000):
        interval = plan.days_for(tier, stage or "")
        if interval is None:
            continue
        since = last or timezone.localtime(created).date()
        due_on = since + dt.timedelta(days=interval)
        if due_on > horizon:
            continue
        names[card_id] = name
        title, known, unknown = _cadence_texts(owner_id)
        why = known % {"day": since.isoformat(), "days": interval} if last else unknown % {"days": interval}
        yield Wanted(owner_id=owner_id, key=f"cadence:{card_id}:{since.isoformat()}", source=str(Source.CADENCE), due_on=due_on,
                     title=title % {"name": name}, why=why, card_id=card_id)


@lru_cache(maxsize=16)
def _cadence_texts_in(language: str) -> tuple[str, str, str]:
    with override(language):
        return (_("Get in touch with %(name)s"),
                _("Last contact on %(day)s; this customer should hear from us every %(days)s days."),
                _("No contact logged yet; this customer should hear from us every %(days)s days."))


def _cadence_texts(owner_id: int) -> tuple[str, str, str]:
    """The keep-in-touch texts in the owner's language, looked up once per language."""
    return _cadence_texts_in(_speakers.get(owner_id) or settings.LANGUAGE_CODE)


# --- dates from facts ----------------------------------------------------------------------------------


def _day_suffixes(window: list[dt.date]) -> list[str]:
    """The "-MM-DD" endings of the window's dates; 29 February counts on 28 February of a common year."""
    endings = {f"-{d.month:02d}-{d.day:02d}" for d in window}
    for d in window:
        if d.month == 2 and d.day == 28 and not content._leap(d.year):
            endings.add("-02-29")
    return sorted(endings)


def _dates(as_of: dt.date) -> Iterator[tuple[int, int, str, str, content.DayOfYear, dt.date]]:
    """(card, owner, source, item key, the remembered day, its date in the window) for every fact
    date that falls in the window."""
    from rapport.cards.models import CurrentValue

    window = _window(as_of)
    first, last = window[0], window[-1]
    ends = Q()
    for ending in _day_suffixes(window):
        ends |= Q(value_text__endswith=ending)
    rows = (CurrentValue.objects.filter(item__key__in=list(DATE_ITEMS), archived=False, owner_id__gt=0).filter(ends)
            .values_list("card_id", "owner_id", "item__key", "value_text"))
    for card_id, owner_id, key, text in rows.iterator(chunk_size=5000):
        day = content.parse_day(text)
        if day is None:
            continue
        due = day.next_on_or_after(first)
        if due <= last:
            yield card_id, owner_id, DATE_ITEMS[key], key, day, due
    texts = (CurrentValue.objects.filter(item__key__in=TEXT_ITEMS, archived=False, owner_id__gt=0)
             .values_list("card_id", "owner_id", "item__key", "fact__value"))
    for card_id, owner_id, key, value in texts.iterator(chunk_size=5000):
        for day in content.parse_days(value if isinstance(value, str) else ""):
            due = day.next_on_or_after(first)
            if due <= last:
                yield card_id, owner_id, Source.FAMILY_DATE, key, day, due


def _fact_dates(as_of: dt.date, names: dict[int, str], languages: dict[int, str]) -> Iterator[Wanted]:
    found = list(_dates(as_of))
    _load_cards({card_id for card_id, *_rest in found}, names, languages)
    for card_id, owner_id, source, item, day, due in found:
        with _speak(owner_id):
            yield _date_reminder(card_id, owner_id, source, item, day, due, names.get(card_id, ""), languages.get(card_id, "en"))


def _date_reminder(card_id: int, owner_id: int, source: str, item: str, day: content.DayOfYear, due: dt.date, name: str,
                   language: str) -> Wanted:
    titles: dict[str, str] = {
        Source.BIRTHDAY: _("Birthday of %(name)s"), Source.SPOUSE_BIRTHDAY: _("Birthday of the partner of %(name)s"),
        Source.WEDDING: _("Wedding anniversary of %(name)s"), Source.FAMILY_DATE: _("Family date of %(name)s"),
    }
    years = day.years_on(due)
    why = (_("%(day)s, from the card (%(years)s years).") % {"day": due.isoformat(), "years": years} if years
           else _("%(day)s, from the card (year not known).") % {"day": due.isoformat()})
    # One date per date item, so a corrected date moves its reminder; a family text holds several.
    which = item if item in DATE_ITEMS else f"{item}:{day.month:02d}-{day.day:02d}"
    return Wanted(
        owner_id=owner_id, key=f"{str(source)}:{card_id}:{which}:{due.year}", source=str(source),
        due_on=due, title=titles[source] % {"name": name}, why=why, card_id=card_id,
        suggestion=content.greeting(str(source), language, name=name, years=str(years or "")),
    )


def _load_cards(card_ids: Iterable[int], names: dict[int, str], languages: dict[int, str]) -> None:
    """The names of these cards and the language each is greeted in."""
    from rapport.cards.models import Address, Card, CurrentValue

    wanted = [i for i in card_ids if i not in languages]
    for part in _chunks(wanted):
        names.update(Card.objects.filter(pk__in=part).values_list("id", "display_name"))
        spoken: dict[int, str] = {}
        for card_id, text in CurrentValue.objects.filter(card_id__in=part, item__key="languages_spoken").values_list("card_id", "value_text"):
            for word, language in content.SPOKEN.items():
                if f"|{word}|" in text:
                    spoken.setdefault(card_id, language)
        countries: dict[int, str] = {}
        for card_id, country in Address.objects.filter(card_id__in=part).exclude(country="").order_by("card_id", "position", "id").values_list("card_id", "country"):
            countries.setdefault(card_id, country.upper())
        for card_id in part:
            languages[card_id] = spoken.get(card_id) or content.COUNTRY_LANGUAGE.get(countries.get(card_id, ""), "en")


# --- company anniversaries -----------------------------------------------------------------------------

# *Year founded* holds no day: a round anniversary (every ``ROUND_YEARS`` years) is reminded
# on this day of the anniversary year, early enough to plan a visit or a word of thanks.
FOUNDING_DAY = (1, 15)
ROUND_YEARS = 5


def _month_days(window: list[dt.date]) -> list[tuple[int, int]]:
    """(month, day) of each date of the window; 29 February counts on 28 February of a common year."""
    days = {(d.month, d.day) for d in window}
    if any(d.month == 2 and d.day == 28 and not content._leap(d.year) for d in window):
        days.add((2, 29))
    return sorted(days)


def _customer_since(as_of: dt.date) -> Iterator[tuple[int, int, content.DayOfYear, dt.date]]:
    """(organisation, owner, first order day, its anniversary in the window): the organisations
    whose first counted order (confirmed or delivered) falls on a day of the window."""
    from django.db.models import Exists, OuterRef

    from rapport.cards.models import Kind
    from rapport.commerce.models import Order, OrderStatus

    window = _window(as_of)
    first, last = window[0], window[-1]
    on_days = Q(pk__in=[])
    for month, day_of_month in _month_days(window):
        on_days |= Q(ordered_on__month=month, ordered_on__day=day_of_month)
    counted = [OrderStatus.CONFIRMED, OrderStatus.DELIVERED]
    earlier = Order.objects.filter(card_id=OuterRef("card_id"), status__in=counted, ordered_on__lt=OuterRef("ordered_on"))
    rows = (Order.objects.filter(on_days, status__in=counted, ordered_on__lt=first, card__kind=Kind.ORGANIZATION,
                                 card__archived_at__isnull=True, card__owner__is_active=True)
            .exclude(Exists(earlier)).values_list("card_id", "card__owner_id", "ordered_on").distinct())
    for card_id, owner_id, ordered_on in rows.iterator(chunk_size=5000):
        day = content.DayOfYear(ordered_on.month, ordered_on.day, ordered_on.year)
        due = day.next_on_or_after(first)
        if due <= last and day.years_on(due):
            yield card_id, owner_id, day, due


def _founded(as_of: dt.date) -> Iterator[tuple[int, int, int, dt.date]]:
    """(organisation, owner, year founded, reminder day) for the round anniversaries whose
    reminder day falls in the window."""
    from rapport.cards.models import CurrentValue, Kind

    window = _window(as_of)
    days = [d for d in window if (d.month, d.day) == FOUNDING_DAY]
    if not days:
        return
    due = days[0]
    rows = (CurrentValue.objects.filter(item__key="founded_year", kind=Kind.ORGANIZATION, archived=False, owner_id__gt=0)
            .values_list("card_id", "owner_id", "value_text"))
    for card_id, owner_id, text in rows.iterator(chunk_size=5000):
        year = int(text) if isinstance(text, str) and text.isdigit() else 0
        years = due.year - year
        # A year outside 1850..today, or not a round anniversary, is no reason to call.
        if 1850 <= year < due.year and years % ROUND_YEARS == 0:
            yield card_id, owner_id, year, due


def ordered_on_key(day: content.DayOfYear) -> str:
    # The first order's date is in the key: an earlier order learned later is a new anniversary,
    # and the reminder of the old date goes away with the other stale dates.
    return f"{day.year}-{day.month:02d}-{day.day:02d}"


def _company_anniversaries(as_of: dt.date, names: dict[int, str], languages: dict[int, str]) -> Iterator[Wanted]:
    since = list(_customer_since(as_of))
    founded = list(_founded(as_of))
    _load_cards({row[0] for row in since} | {row[0] for row in founded}, names, languages)
    for card_id, owner_id, day, due in since:
        name = names.get(card_id, "")
        years = day.years_on(due) or 0
        with _speak(owner_id):
            yield Wanted(
                owner_id=owner_id, key=f"{Source.COMPANY_ANNIVERSARY.value}:{card_id}:customer_since:{ordered_on_key(day)}:{due.year}",
                source=str(Source.COMPANY_ANNIVERSARY), due_on=due, card_id=card_id,
                title=_("%(name)s: %(years)s years as our customer") % {"name": name, "years": years},
                why=_("First order on %(day)s.") % {"day": dt.date(day.year or due.year, day.month, day.day).isoformat()},
                suggestion=content.greeting(str(Source.COMPANY_ANNIVERSARY), languages.get(card_id, "en"), name=name, years=str(years)),
            )
    for card_id, owner_id, year, due in founded:
        name = names.get(card_id, "")
        years = due.year - year
        with _speak(owner_id):
            yield Wanted(
                owner_id=owner_id, key=f"{Source.COMPANY_ANNIVERSARY.value}:{card_id}:founded:{due.year}",
                source=str(Source.COMPANY_ANNIVERSARY), due_on=due, card_id=card_id,
                title=_("%(name)s turns %(years)s this year") % {"name": name, "years": years},
                why=_("Founded in %(year)s (the day is not known).") % {"year": year},
                suggestion=content.greeting(str(Source.COMPANY_ANNIVERSARY), languages.get(card_id, "en"), name=name, years=str(years)),
            )


# --- holidays ------------------------------------------------------------------------------------------

HOLIDAY_LANGUAGE = {"en": "en_US", "es": "es", "ro": "ro", "zh-hans": "zh_CN"}


def _public_holidays(country: str, language: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, str, str]]:
    """(date, stable key, name in ``language``) of a country's public holidays in the window."""
    import holidays

    years = sorted({first.year, last.year})
    try:
        plain = holidays.country_holidays(country, years=years, observed=False)
    except (NotImplementedError, KeyError, ValueError):  # a country the library does not know
        return []
    try:
        named = holidays.country_holidays(country, years=years, observed=False, language=HOLIDAY_LANGUAGE.get(language))
    except (NotImplementedError, KeyError, ValueError):
        named = plain
    found = []
    for day in sorted(plain):
        if first <= day <= last:
            key = "".join(ch if ch.isalnum() else "_" for ch in plain[day].casefold())[:40]
            found.append((day, key, named.get(day) or plain[day]))
    return found


def _holidays(as_of: dt.date) -> Iterator[Wanted]:
    """One greeting reminder per rep, holiday and country (or festival and language), saying
    how many of the rep's customers it concerns and what to write to them."""
    from rapport.cards.models import Address, CurrentValue

    plan = content.cadence()
    window = _window(as_of)
    first, last = window[0], window[-1]
    addresses = Address.objects.filter(card__archived_at__isnull=True, card__owner__is_active=True).exclude(country="")
    if plan.holiday_tiers:
        addresses = addresses.filter(card__tier__in=list(plan.holiday_tiers))
    countries: dict[int, str] = {}
    owners: dict[int, int] = {}
    for card_id, owner_id, country in addresses.order_by("card_id", "position", "id").values_list("card_id", "card__owner_id", "country").iterator(chunk_size=5000):
        if card_id not in countries:
            countries[card_id] = country.upper()
            owners[card_id] = owner_id
    spoken: dict[int, str] = {}
    rows = CurrentValue.objects.filter(item__key="languages_spoken", archived=False)
    if plan.holiday_tiers:
        rows = rows.filter(card__tier__in=list(plan.holiday_tiers))
    for card_id, owner_id, text in rows.values_list("card_id", "owner_id", "value_text").iterator(chunk_size=5000):
        for word, language in content.SPOKEN.items():
            if f"|{word}|" in text:
                spoken.setdefault(card_id, language)
                owners.setdefault(card_id, owner_id)
    by_country: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    by_language: dict[tuple[int, str], int] = Counter()
    for card_id, owner_id in owners.items():
        country = countries.get(card_id, "")
        language = spoken.get(card_id) or content.COUNTRY_LANGUAGE.get(country, "en")
        if country:
            by_country[(owner_id, country)][language] += 1
        by_language[(owner_id, language)] += 1
    calendars: dict[tuple[str, str], list[tuple[dt.date, str, str]]] = {}
    for (owner_id, country), languages in sorted(by_country.items()):
        language = languages.most_common(1)[0][0]
        if (country, language) not in calendars:
            calendars[(country, language)] = _public_holidays(country, language, first, last)
        count = sum(languages.values())
        for day, key, name in calendars[(country, language)]:
            yield _greeting(owner_id, f"holiday:{country}:{key}:{day.isoformat()}", day, name, country, language, count)
    for festival in content.festivals():
        for year in sorted({first.year, last.year}):
            festival_day = festival.date_in(year)
            if festival_day is None or not first <= festival_day <= last:
                continue
            for (owner_id, language), count in sorted(by_language.items()):
                if language in festival.languages:
                    yield _greeting(owner_id, f"festival:{festival.key}:{language}:{festival_day.isoformat()}", festival_day,
                                    festival.label(language), "", language, count)


def _greeting(owner_id: int, key: str, day: dt.date, name: str, country: str, language: str, count: int) -> Wanted:
    with _speak(owner_id):
        return _greeting_in(owner_id, key, day, name, country, language, count)


def _greeting_in(owner_id: int, key: str, day: dt.date, name: str, country: str, language: str, count: int) -> Wanted:
    where = (_("in %(country)s") % {"country": content.country_name(country)} if country
             else _("who speak %(language)s") % {"language": content.language_name(language)})
    return Wanted(
        owner_id=owner_id, key=key, source=str(Source.HOLIDAY), due_on=day,
        title=_("%(holiday)s: greet your customers %(where)s") % {"holiday": name, "where": where},
        why=_("%(count)s of your customers.") % {"count": count},
        suggestion=content.greeting("holiday", language, holiday=name),
        detail={"country": country, "language": language, "customers": count},
    )


# --- the run -------------------------------------------------------------------------------------------


def _from_sources(as_of: dt.date) -> Iterator[Wanted]:
    for name, source in sorted(reminder_sources().items()):
        for spec in source(as_of):
            yield Wanted(owner_id=spec.owner_id, key=f"{name}:{spec.key}"[:120], source=str(Source.OTHER), due_on=spec.due_on,
                         title=spec.title[:300], why=spec.why[:500], card_id=spec.card_id)


def generate(*, as_of: dt.date | None = None) -> dict[str, int]:
    """Makes the day's reminders for every user. Idempotent; returns what it did."""
    as_of = as_of or timezone.localdate()
    counts: Counter[str] = Counter()
    counts["clocks"] = refresh_clocks()
    names: dict[int, str] = {}
    languages: dict[int, str] = {}
    from rapport.accounts.models import User

    _speakers.clear()
    _cadence_texts_in.cache_clear()  # translations may have been reloaded since the last run
    _speakers.update((pk, lang) for pk, lang in User.objects.values_list("id", "language") if lang)
    wanted: list[Wanted] = []
    wanted.extend(_cadence(as_of, names))
    wanted.extend(_fact_dates(as_of, names, languages))
    wanted.extend(_company_anniversaries(as_of, names, languages))
    wanted.extend(_holidays(as_of))
    wanted.extend(_from_sources(as_of))
    counts.update(_store(wanted, as_of))
    return dict(counts)


def _store(wanted: list[Wanted], as_of: dt.date) -> Counter[str]:
    counts: Counter[str] = Counter()
    by_key = {(w.owner_id, w.key): w for w in wanted}
    existing: dict[tuple[int, str], tuple[int, dt.date, bool]] = {}
    keys = sorted({w.key for w in wanted})
    for part in _chunks(keys):
        for pk, owner_id, key, due_on, done_at in Task.objects.filter(key__in=part).values_list("id", "owner_id", "key", "due_on", "done_at"):
            existing[(owner_id, key)] = (pk, due_on, done_at is not None)
    new, moved = [], []
    now = timezone.now()
    for pair, w in by_key.items():
        found = existing.get(pair)
        if found is None:
            new.append(Task(owner_id=w.owner_id, key=w.key, source=w.source, due_on=w.due_on, title=w.title[:300], why=w.why[:500],
                            card_id=w.card_id, suggestion=w.suggestion, detail=w.detail, created_at=now, updated_at=now))
        elif not found[2] and found[1] != w.due_on:
            moved.append(Task(pk=found[0], due_on=w.due_on, updated_at=now))
    with transaction.atomic():
        Task.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        Task.objects.bulk_update(moved, ["due_on", "updated_at"], batch_size=1000)
        # A date removed or corrected on the card: its reminder still ahead goes away.
        horizon = as_of + dt.timedelta(days=content.cadence().lead_days)
        stale = [pk for pk, owner_id, key in Task.objects.open().filter(source__in=DATE_SOURCES, due_on__gte=as_of, due_on__lte=horizon)
                 .values_list("id", "owner_id", "key").iterator(chunk_size=5000) if (owner_id, key) not in by_key]
        for part in _chunks(stale):
            Task.objects.filter(pk__in=part).delete()
        # Greetings not sent within the lead time are no longer worth sending.
        expired = Task.objects.open().filter(source__in=[*DATE_SOURCES, Source.HOLIDAY],
                                             due_on__lt=as_of - dt.timedelta(days=content.cadence().lead_days))
        counts["expired"] = expired.update(done_at=now)
    counts["created"] = len(new)
    counts["moved"] = len(moved)
    counts["removed"] = len(stale)
    return counts
