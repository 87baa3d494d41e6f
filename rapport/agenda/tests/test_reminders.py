"""The daily run makes reminders from the card's facts, the cadence and the holidays, and
running it again the same day changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from rapport.agenda import reminders
from rapport.agenda.models import Source, Task

MONDAY = dt.date(2027, 5, 10)


def test_a_birthday_within_the_week_becomes_a_reminder_with_a_greeting_in_the_contacts_language(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1980-05-12")
    reminders.generate(as_of=MONDAY)
    task = Task.objects.get(source=Source.BIRTHDAY)
    assert task.owner.username == "rep_ana" and task.card == person
    assert task.due_on == dt.date(2027, 5, 12)
    assert "47" in task.why
    assert task.suggestion.startswith("¡Feliz cumpleaños, María García")


def test_running_the_day_twice_makes_nothing_new(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1980-05-12")
    first = reminders.generate(as_of=MONDAY)
    second = reminders.generate(as_of=MONDAY)
    assert first["created"] >= 1 and second["created"] == 0
    assert Task.objects.filter(source=Source.BIRTHDAY).count() == 1


def test_a_birthday_corrected_later_moves_its_reminder(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1980-05-12")
    reminders.generate(as_of=MONDAY)
    fact(person, "birth_date", "1980-05-14")
    counts = reminders.generate(as_of=MONDAY)
    task = Task.objects.get(source=Source.BIRTHDAY)
    assert task.due_on == dt.date(2027, 5, 14) and counts["moved"] == 1


def test_a_birthday_corrected_out_of_the_week_removes_its_reminder(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1980-05-12")
    reminders.generate(as_of=MONDAY)
    fact(person, "birth_date", "1980-09-01")
    reminders.generate(as_of=MONDAY)
    assert not Task.objects.filter(source=Source.BIRTHDAY).exists()


def test_29_february_is_remembered_on_28_february_in_a_common_year(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1988-02-29")
    reminders.generate(as_of=dt.date(2027, 2, 25))
    assert Task.objects.get(source=Source.BIRTHDAY).due_on == dt.date(2027, 2, 28)


def test_29_february_stays_on_29_february_in_a_leap_year(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1988-02-29")
    reminders.generate(as_of=dt.date(2028, 2, 25))
    assert Task.objects.get(source=Source.BIRTHDAY).due_on == dt.date(2028, 2, 29)


def test_a_family_date_without_a_year_is_reminded_and_says_the_year_is_not_known(person: Any, fact: Any) -> None:
    fact(person, "family_dates", "Daughter Lucía: 13 May. Mother's birthday 2 de septiembre")
    reminders.generate(as_of=MONDAY)
    task = Task.objects.get(source=Source.FAMILY_DATE)
    assert task.due_on == dt.date(2027, 5, 13)
    assert "year not known" in task.why


def test_the_spouses_birthday_and_the_wedding_anniversary_are_reminded(person: Any, fact: Any) -> None:
    fact(person, "spouse_birth_date", "1982-05-11")
    fact(person, "wedding_anniversary", "2005-05-15")
    reminders.generate(as_of=MONDAY)
    assert set(Task.objects.values_list("source", flat=True)) >= {Source.SPOUSE_BIRTHDAY, Source.WEDDING}
    assert "22" in Task.objects.get(source=Source.WEDDING).why


def test_a_tier_a_customer_not_heard_from_gets_a_keep_in_touch_reminder(make_org: Any) -> None:
    org = make_org(name="Ferretería Ruiz", tier="A")
    reminders.generate(as_of=timezone.localdate() + dt.timedelta(days=30))
    task = Task.objects.get(source=Source.CADENCE)
    assert task.card == org and "30 days" in task.why


def test_any_logged_activity_resets_the_keep_in_touch_clock(make_org: Any, users: Any) -> None:
    from rapport.activities.services import log_activity

    org = make_org(name="Ferretería Ruiz", tier="A")
    later = timezone.localdate() + dt.timedelta(days=30)
    reminders.generate(as_of=later)
    assert Task.objects.open().filter(source=Source.CADENCE).count() == 1
    log_activity(user=users["rep_ben"], data={"kind": "email", "summary": "Sent the catalogue", "cards": [org.pk]})
    reminders.generate(as_of=later)
    assert Task.objects.open().filter(source=Source.CADENCE).count() == 0


def test_a_card_without_tier_or_stage_has_no_clock(make_org: Any) -> None:
    make_org(name="Someone")
    reminders.generate(as_of=timezone.localdate() + dt.timedelta(days=400))
    assert not Task.objects.filter(source=Source.CADENCE).exists()


def test_holiday_greetings_go_to_the_rep_by_the_customers_country_in_its_language(make_org: Any) -> None:
    make_org(name="Ferretería Ruiz", tier="A", addresses=[{"city": "Bilbao", "country": "ES"}])
    make_org(name="Almacenes Sur", tier="B", addresses=[{"city": "Sevilla", "country": "ES"}])
    reminders.generate(as_of=dt.date(2027, 12, 20))
    task = Task.objects.get(source=Source.HOLIDAY, key__startswith="holiday:ES:")
    assert task.due_on == dt.date(2027, 12, 25) and task.detail["customers"] == 2
    assert "Natividad del Señor" in task.title and "Spain" in task.title
    assert "felices fiestas" in task.suggestion


def test_chinese_new_year_is_greeted_for_chinese_speaking_customers_anywhere(make_person: Any, fact: Any) -> None:
    wang = make_person(given_name="Wei", family_name="Wang", tier="A", addresses=[{"city": "Madrid", "country": "ES"}])
    fact(wang, "languages_spoken", ["chinese"])
    reminders.generate(as_of=dt.date(2027, 2, 1))
    task = Task.objects.get(key__startswith="festival:chinese_new_year")
    assert task.due_on == dt.date(2027, 2, 6) and "春节" in task.title


def test_reminders_are_written_in_their_owners_language(person: Any, fact: Any, users: Any) -> None:
    users["rep_ana"].language = "es"
    users["rep_ana"].save()
    fact(person, "birth_date", "1980-05-12")
    reminders.generate(as_of=MONDAY)
    assert Task.objects.get(source=Source.BIRTHDAY).title == "Cumpleaños de María García"


def test_a_registered_daily_source_adds_its_reminders_once(person: Any, users: Any) -> None:
    from rapport.core import extensions

    def source(as_of: dt.date) -> list[Any]:
        return [extensions.ReminderSpec(owner_id=users["rep_ana"].pk, key=f"{person.pk}", due_on=as_of, title="Silent regular", card_id=person.pk)]

    extensions.register_reminder_source("test.source", source)
    try:
        reminders.generate(as_of=MONDAY)
        reminders.generate(as_of=MONDAY)
    finally:
        extensions._reminder_sources.pop("test.source")
    assert Task.objects.filter(source=Source.OTHER, title="Silent regular").count() == 1


def test_a_greeting_not_sent_within_the_week_expires(person: Any, fact: Any) -> None:
    fact(person, "birth_date", "1980-05-12")
    reminders.generate(as_of=MONDAY)
    reminders.generate(as_of=MONDAY + dt.timedelta(days=10))
    assert Task.objects.get(source=Source.BIRTHDAY).done_at is not None
