"""The forecast and pipeline reports: buckets by month, currencies apart, visibility,
conversion between steps, time in step, win rate and loss reasons, and a fixed number of
queries. Deals and their step moves are written directly, so every date is under control."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from rapport.accounts.models import Team
from rapport.core.errors import ValidationError
from rapport.deals import reports
from rapport.deals.models import DEFAULT_PROBABILITY, STEP_ORDER, Deal, StepMove

pytestmark = pytest.mark.django_db
START = dt.date(2026, 6, 1)
DAY = 86400


def at(day: str, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def deal(
    card: Any,
    *,
    amount: str = "1000",
    currency: str = "EUR",
    step: str = "analyse",
    status: str = "open",
    expected_close: str | None = "2026-07-15",
    probability: int | None = None,
    closed_at: dt.datetime | None = None,
    close_reason: str = "",
    path: list[tuple[str, str]] | None = None,
    owner: Any = None,
) -> Deal:
    """A deal on ``card`` as the services keep it (weighted amount, the card's visibility copies),
    with one step move per (step, day) of ``path``, the first being its creation."""
    value = Decimal(amount)
    effective = 100 if status == "won" else 0 if status == "lost" else (probability or DEFAULT_PROBABILITY[step])
    path = path or [(step, "2026-01-05")]
    made = Deal.objects.create(
        card=card, name=f"Deal {step}", amount=value, currency=currency, step=step, status=status,
        expected_close=dt.date.fromisoformat(expected_close) if expected_close else None, probability=probability,
        weighted=(value * effective / 100).quantize(Decimal("0.01")), closed_at=closed_at, close_reason=close_reason,
        owner_id=owner.pk if owner else card.owner_id, team_id=card.team_id, card_owner_id=card.owner_id,
        card_team_id=card.team_id, step_entered_at=at(path[-1][1]), created_at=at(path[0][1]),
        steps_reached=sum({1 << STEP_ORDER.index(to_step) for to_step, _day in path}),
    )
    previous, entered = "", at(path[0][1])
    for to_step, day in path:
        moved = at(day)
        StepMove.objects.create(deal=made, from_step=previous, to_step=to_step, moved_at=moved,
                                seconds_in_previous=int((moved - entered).total_seconds()) if previous else None)
        previous, entered = to_step, moved
    return made


@pytest.fixture
def cards(make_org: Any) -> dict[str, Any]:
    """rep_ana's organisation (team North) and rep_bo_other_team's (team South)."""
    return {"north": make_org(name="Distribuidora Norte S.A."), "south": make_org(owner="rep_bo_other_team", name="Sur Ltda.")}


# --- forecast -----------------------------------------------------------------------------------------


def test_the_forecast_puts_open_deals_in_the_month_they_are_expected_to_close(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="1000", step="analyse", expected_close="2026-07-01")
    deal(cards["north"], amount="500", step="present_value", expected_close="2026-07-31")
    deal(cards["north"], amount="200", probability=50, expected_close="2026-09-10")
    report = reports.forecast(users["admin"], start=START, months=6)
    assert report["months"] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    eur = report["series"]["EUR"]["months"]
    assert eur["2026-07"] == {"count": 2, "amount": "1500.00", "weighted": "400.00", "won_count": 0, "won_amount": "0.00"}
    assert eur["2026-09"]["weighted"] == "100.00" and eur["2026-08"]["count"] == 0
    assert report["series"]["EUR"]["open"] == {"count": 3, "amount": "1700.00", "weighted": "500.00"}


def test_overdue_undated_and_later_open_deals_have_buckets_of_their_own(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="100", expected_close="2026-05-31")
    deal(cards["north"], amount="200", expected_close=None)
    deal(cards["north"], amount="300", expected_close="2026-12-01")
    deal(cards["north"], amount="400", expected_close="2026-11-30")
    eur = reports.forecast(users["admin"], start=dt.date(2026, 6, 17), months=6)["series"]["EUR"]
    assert eur["overdue"]["amount"] == "100.00" and eur["overdue"]["count"] == 1
    assert eur["no_date"]["amount"] == "200.00"
    assert eur["later"]["amount"] == "300.00"
    assert eur["months"]["2026-11"]["amount"] == "400.00"


def test_each_currency_is_a_series_of_its_own_and_never_added_to_another(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="1000", currency="EUR")
    deal(cards["north"], amount="700", currency="USD")
    deal(cards["north"], amount="90", currency="USD", status="won", step="follow_up", closed_at=at("2026-07-02"))
    report = reports.forecast(users["admin"], start=START, months=3)
    assert report["currencies"] == ["EUR", "USD"]
    assert report["series"]["EUR"]["months"]["2026-07"]["amount"] == "1000.00"
    assert report["series"]["USD"]["months"]["2026-07"]["amount"] == "700.00"
    assert report["series"]["USD"]["months"]["2026-07"]["won_amount"] == "90.00"
    assert report["series"]["EUR"]["months"]["2026-07"]["won_amount"] == "0.00"


def test_won_amounts_count_in_the_month_the_deal_was_closed(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="300", status="won", step="follow_up", expected_close="2026-09-01", closed_at=at("2026-06-30", 23))
    deal(cards["north"], amount="50", status="won", step="follow_up", closed_at=at("2026-07-01", 0))
    deal(cards["north"], amount="999", status="won", step="follow_up", closed_at=at("2026-05-31", 23))  # before the window
    deal(cards["north"], amount="70", status="lost", step="analyse", closed_at=at("2026-06-10"))
    eur = reports.forecast(users["admin"], start=START, months=2)["series"]["EUR"]
    assert eur["months"]["2026-06"]["won_amount"] == "300.00" and eur["months"]["2026-06"]["won_count"] == 1
    assert eur["months"]["2026-07"]["won_amount"] == "50.00"
    assert eur["won_amount"] == "350.00" and eur["open"]["count"] == 0


def test_a_rep_does_not_see_other_teams_deals_in_the_forecast(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="1000")
    deal(cards["south"], amount="5000")
    deal(cards["south"], amount="800", status="won", step="follow_up", closed_at=at("2026-06-10"))
    mine = reports.forecast(users["rep_ana"], start=START, months=3)["series"]["EUR"]
    assert mine["open"]["amount"] == "1000.00" and mine["won_amount"] == "0.00"
    theirs = reports.forecast(users["rep_bo_other_team"], start=START, months=3)["series"]["EUR"]
    assert theirs["open"]["amount"] == "5000.00" and theirs["won_amount"] == "800.00"
    assert reports.forecast(users["manager_mei"], start=START, months=3)["series"]["EUR"]["open"]["amount"] == "1000.00"


def test_the_owner_and_team_filters_narrow_the_forecast(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="1000")
    deal(cards["north"], amount="250", owner=users["rep_ben"])
    deal(cards["south"], amount="5000")
    admin = users["admin"]
    by_ben = reports.forecast(admin, owner_id=users["rep_ben"].pk, start=START, months=3)["series"]["EUR"]
    assert by_ben["open"]["amount"] == "250.00"
    south = Team.objects.get(name="South")
    assert reports.forecast(admin, team_id=south.pk, start=START, months=3)["series"]["EUR"]["open"]["amount"] == "5000.00"


def test_the_forecast_refuses_a_window_of_no_months_or_too_many(users: Any) -> None:
    for months in (0, reports.MAX_MONTHS + 1):
        with pytest.raises(ValidationError):
            reports.forecast(users["admin"], months=months)


def test_the_reports_answer_plain_json(users: Any, cards: Any) -> None:
    deal(cards["north"], path=[("analyse", "2026-01-05"), ("build_trust", "2026-02-01")], step="build_trust")
    json.dumps(reports.forecast(users["admin"]))
    json.dumps(reports.pipeline(users["admin"]))


# --- pipeline -----------------------------------------------------------------------------------------


def test_the_pipeline_counts_open_deals_and_amounts_per_step_and_currency(users: Any, cards: Any) -> None:
    deal(cards["north"], amount="100", step="analyse")
    deal(cards["north"], amount="200", step="analyse", currency="USD")
    deal(cards["north"], amount="300", step="present_value")
    deal(cards["north"], amount="900", step="analyse", status="lost", closed_at=at("2026-03-01"))
    steps = reports.pipeline(users["admin"])["steps"]
    assert steps["analyse"]["count"] == 2
    assert steps["analyse"]["by_currency"] == {"EUR": {"count": 1, "amount": "100.00"}, "USD": {"count": 1, "amount": "200.00"}}
    assert steps["present_value"]["by_currency"] == {"EUR": {"count": 1, "amount": "300.00"}}
    assert list(steps) == STEP_ORDER and steps["analyse"]["label"] == "Analyse the customer"


def test_conversion_counts_the_deals_that_reached_the_next_step_or_a_later_one_or_were_won(users: Any, cards: Any) -> None:
    card = cards["north"]
    # Stays at analyse; goes one step on; skips build_trust; reaches present_value; won from analyse.
    deal(card, path=[("analyse", "2026-01-05")])
    deal(card, step="build_trust", path=[("analyse", "2026-01-05"), ("build_trust", "2026-01-20")])
    deal(card, step="discover_needs", path=[("analyse", "2026-01-05"), ("discover_needs", "2026-01-25")])
    deal(card, step="present_value", path=[("analyse", "2026-01-05"), ("build_trust", "2026-01-10"),
                                           ("discover_needs", "2026-01-15"), ("present_value", "2026-02-01")])
    deal(card, status="won", closed_at=at("2026-02-10"), path=[("analyse", "2026-01-05")])
    conversion = {c["from"]: c for c in reports.pipeline(users["admin"])["conversion"]}
    assert conversion["analyse"] == {"from": "analyse", "to": "build_trust", "entered": 5, "converted": 4, "rate": 0.8}
    assert (conversion["build_trust"]["entered"], conversion["build_trust"]["converted"]) == (2, 1)
    assert (conversion["discover_needs"]["entered"], conversion["discover_needs"]["converted"]) == (2, 1)
    assert (conversion["present_value"]["entered"], conversion["present_value"]["converted"]) == (1, 0)
    assert conversion["win_commitment"]["rate"] is None


def test_a_deal_that_went_back_a_step_counts_once_and_as_having_reached_the_further_one(users: Any, cards: Any) -> None:
    deal(cards["north"], step="build_trust", path=[
        ("analyse", "2026-01-05"), ("build_trust", "2026-01-10"), ("discover_needs", "2026-01-20"),
        ("build_trust", "2026-02-01"),
    ])
    conversion = {c["from"]: c for c in reports.pipeline(users["admin"])["conversion"]}
    assert (conversion["build_trust"]["entered"], conversion["build_trust"]["converted"]) == (1, 1)
    assert (conversion["discover_needs"]["entered"], conversion["discover_needs"]["converted"]) == (1, 0)


def test_conversion_counts_every_deal_that_ever_reached_a_step_whatever_the_period(users: Any, cards: Any) -> None:
    deal(cards["north"], step="build_trust", path=[("analyse", "2025-12-20"), ("build_trust", "2026-01-10")])
    deal(cards["north"], step="analyse", path=[("analyse", "2026-03-05")])
    conversion = reports.pipeline(users["admin"], since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31))["conversion"]
    assert (conversion[0]["entered"], conversion[0]["converted"], conversion[0]["rate"]) == (2, 1, 0.5)


def test_a_deal_won_where_it_stands_counts_as_converted_even_after_going_back(users: Any, cards: Any) -> None:
    deal(cards["north"], step="build_trust", status="won", closed_at=at("2026-03-01"), path=[
        ("analyse", "2026-01-05"), ("build_trust", "2026-01-10"), ("analyse", "2026-01-20"), ("build_trust", "2026-02-01"),
    ])
    deal(cards["north"], step="build_trust", status="won", closed_at=at("2026-03-01"),
         path=[("analyse", "2026-01-05"), ("build_trust", "2026-01-10")])
    conversion = {c["from"]: c for c in reports.pipeline(users["admin"])["conversion"]}
    assert (conversion["analyse"]["entered"], conversion["analyse"]["converted"]) == (2, 2)
    assert (conversion["build_trust"]["entered"], conversion["build_trust"]["converted"]) == (2, 2)
    assert conversion["discover_needs"]["entered"] == 0


def test_conversion_agrees_with_replaying_each_deals_moves_one_by_one(users: Any, cards: Any) -> None:
    """Randomised: forward runs, skips, steps back, repeats, wins and losses, counted from the
    grouped moves, give what walking every deal's own history gives."""
    rng = random.Random(11)
    expected_entered = {s: 0 for s in STEP_ORDER}
    expected_converted = {s: 0 for s in STEP_ORDER}
    for i in range(60):
        k = rng.randrange(0, 3)
        path = [STEP_ORDER[k]]
        for _ in range(rng.randrange(0, 6)):
            k = max(0, min(5, k + rng.choice((1, 1, 1, 2, -1, 0))))
            path.append(STEP_ORDER[k])
        status = rng.choice(("open", "open", "won", "lost"))
        deal(cards["north"], step=path[-1], status=status, closed_at=at("2026-03-01") if status != "open" else None,
             path=[(s, (dt.date(2026, 1, 1) + dt.timedelta(days=3 * j)).isoformat()) for j, s in enumerate(path)])
        top = max(STEP_ORDER.index(s) for s in path)
        for s in set(path):
            expected_entered[s] += 1
            expected_converted[s] += status == "won" or top > STEP_ORDER.index(s)
    conversion = reports.pipeline(users["admin"])["conversion"]
    assert [c["entered"] for c in conversion] == [expected_entered[s] for s in STEP_ORDER[:-1]]
    assert [c["converted"] for c in conversion] == [expected_converted[s] for s in STEP_ORDER[:-1]]


def test_average_days_in_a_step_come_from_the_moves_that_left_it_in_the_period(users: Any, cards: Any) -> None:
    card = cards["north"]
    deal(card, step="build_trust", path=[("analyse", "2026-01-01"), ("build_trust", "2026-01-11")])  # 10 days
    deal(card, step="discover_needs", path=[("analyse", "2026-01-01"), ("build_trust", "2026-01-21"),  # 20 days
                                            ("discover_needs", "2026-03-02")])  # 40 days in build_trust, left in March
    report = reports.pipeline(users["admin"], since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31))
    assert report["time_in_step"]["analyse"] == {"moves": 2, "average_days": 15.0}
    assert report["time_in_step"]["build_trust"] == {"moves": 0, "average_days": None}
    everything = reports.pipeline(users["admin"])["time_in_step"]
    assert everything["build_trust"] == {"moves": 1, "average_days": 40.0}


def test_win_rate_and_loss_reasons_count_the_deals_closed_in_the_period(users: Any, cards: Any) -> None:
    card = cards["north"]
    deal(card, status="won", step="follow_up", closed_at=at("2026-02-01"))
    for reason in ("price", "price", "no_budget"):
        deal(card, status="lost", step="present_value", closed_at=at("2026-02-15"), close_reason=reason)
    deal(card, status="lost", step="analyse", closed_at=at("2025-11-15"), close_reason="timing")  # before the period
    deal(card, status="open")
    report = reports.pipeline(users["admin"], since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 31))
    assert (report["won"], report["lost"], report["win_rate"]) == (1, 3, 0.25)
    assert report["lost_reasons"] == [
        {"reason": "price", "label": "Price", "count": 2},
        {"reason": "no_budget", "label": "No budget", "count": 1},
    ]
    assert reports.pipeline(users["admin"])["lost"] == 4


def test_a_rep_does_not_see_other_teams_deals_in_the_pipeline(users: Any, cards: Any) -> None:
    deal(cards["north"], step="build_trust", path=[("analyse", "2026-01-05"), ("build_trust", "2026-01-20")])
    deal(cards["south"], step="analyse", amount="7000")
    deal(cards["south"], status="lost", close_reason="price", closed_at=at("2026-02-01"))
    mine = reports.pipeline(users["rep_ana"])
    assert mine["steps"]["analyse"]["count"] == 0 and mine["steps"]["build_trust"]["count"] == 1
    assert mine["conversion"][0]["entered"] == 1 and mine["lost"] == 0 and mine["lost_reasons"] == []
    theirs = reports.pipeline(users["rep_bo_other_team"])
    assert theirs["steps"]["analyse"]["by_currency"] == {"EUR": {"count": 1, "amount": "7000.00"}}
    assert theirs["conversion"][0]["entered"] == 2 and theirs["lost"] == 1


def test_the_owner_and_team_filters_narrow_the_pipeline(users: Any, cards: Any) -> None:
    deal(cards["north"], step="build_trust", path=[("analyse", "2026-01-05"), ("build_trust", "2026-01-20")])
    deal(cards["north"], owner=users["rep_ben"])
    by_ben = reports.pipeline(users["admin"], owner_id=users["rep_ben"].pk)
    assert by_ben["steps"]["analyse"]["count"] == 1 and by_ben["conversion"][0]["entered"] == 1
    south = Team.objects.get(name="South")
    assert reports.pipeline(users["admin"], team_id=south.pk)["conversion"][0]["entered"] == 0


def test_a_period_that_ends_before_it_starts_is_refused(users: Any) -> None:
    with pytest.raises(ValidationError):
        reports.pipeline(users["admin"], since=dt.date(2026, 3, 1), until=dt.date(2026, 2, 1))


@pytest.mark.parametrize("who", ["admin", "rep_ana", "manager_mei"])
def test_the_reports_take_a_fixed_number_of_queries_however_many_deals(users: Any, cards: Any, who: str,
                                                                       django_assert_num_queries: Any) -> None:
    user = users[who]
    reports.forecast(user)  # the user's teams, read once per request, are not the report's
    for i in range(12):
        step = STEP_ORDER[i % 5]
        deal(cards["north"] if i % 2 else cards["south"], step=step, currency=("EUR", "USD")[i % 2],
             path=[(s, f"2026-01-{j + 1:02d}") for j, s in enumerate(STEP_ORDER[: STEP_ORDER.index(step) + 1])])
    with django_assert_num_queries(2):
        reports.forecast(user)
    with django_assert_num_queries(4):
        reports.pipeline(user, since=dt.date(2026, 1, 1))
