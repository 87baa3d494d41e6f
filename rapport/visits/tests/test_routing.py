"""The day's route: the planned order, opening hours, visits left out and why, the page, the
calendar file, the API and the command line."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.cli import main
from rapport.visits import routing
from rapport.visits.services import set_site, set_start_point

DAY = dt.date(2027, 3, 15)  # a Monday
LAT, LON = 40.4, -3.70  # Madrid: one degree of longitude here is about 85 km


pytestmark = pytest.mark.django_db


@pytest.fixture
def place(users: Any, make_org: Any) -> Any:
    """A customer of rep_ana at a place (longitude offset east of the start), with opening hours."""

    def make(name: str, east: float | None, *, opens: str = "", closes: str = "", closed: list[int] | None = None,
             owner: str = "rep_ana") -> Any:
        card = make_org(owner=owner, name=name)
        data: dict[str, Any] = {"opens_at": opens, "closes_at": closes, "closed_weekdays": closed or []}
        if east is not None:
            data.update(latitude=str(LAT), longitude=f"{LON + east:.6f}")
        set_site(user=users[owner], card=card, data=data)
        return card

    return make


@pytest.fixture
def start(users: Any) -> Any:
    return set_start_point(user=users["rep_ana"], data={"label": "Office", "latitude": str(LAT), "longitude": str(LON),
                                                        "leaves_at": "08:00"})


def _names(route: routing.Route) -> list[str]:
    return [s.visit.card.display_name for s in route.stops]


def _zigzag(place: Any, make_visit: Any) -> list[Any]:
    """Four customers 4 km apart on a line east of the office, typed in zig-zag: 3, 1, 4, 2."""
    cards = {k: place(f"Stop {k}", 0.05 * k) for k in (1, 2, 3, 4)}
    return [make_visit(card=cards[k], date=DAY.isoformat(), position=i, duration_minutes=30) for i, k in enumerate((3, 1, 4, 2))]


def test_a_zig_zag_day_is_reordered_along_the_line(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    _zigzag(place, make_visit)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert _names(route) == ["Stop 1", "Stop 2", "Stop 3", "Stop 4"]
    leg = routing.road_km(routing.Point(LAT, LON), routing.Point(LAT, LON + 0.05))
    assert route.planned.km == pytest.approx(4 * leg, abs=0.2)
    # Typed: 0→3, 3→1, 1→4, 4→2 = 3 + 2 + 3 + 2 legs.
    assert route.typed.km == pytest.approx(10 * leg, abs=0.2)
    assert route.saving.minutes > 0 and route.saving.km == pytest.approx(6 * leg, abs=0.2)
    assert 55 < route.saving.percent < 65 and route.typed_fits
    first = route.stops[0]
    assert first.arrival == first.start == dt.time(8, round(leg / 40 * 60)) and first.departure == dt.time(8, round(leg / 40 * 60) + 30)
    assert not route.unplaced and not route.assumed_start


def test_the_planned_order_is_never_longer_than_the_typed_order(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    rng = random.Random(7)
    for day_offset in range(5):
        day = DAY + dt.timedelta(days=7 * day_offset)
        for i in range(6):
            card = place(f"Customer {day_offset}-{i}", rng.uniform(-0.4, 0.4))
            make_visit(card=card, date=day.isoformat(), position=i, duration_minutes=30)
        route = routing.plan_route(users["rep_ana"], users["rep_ana"], day)
        assert len(route.stops) == 6
        assert route.planned.minutes <= route.typed.minutes and route.planned.km <= route.typed.km + 0.1
        assert route.saving.minutes >= 0


def test_a_shop_opening_at_two_comes_after_the_morning_visits(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    late = place("Opens after lunch", 0.05, opens="14:00", closes="19:00")
    make_visit(card=late, date=DAY.isoformat(), position=1)
    make_visit(card=place("Far morning", 0.30, opens="08:00", closes="13:00"), date=DAY.isoformat(), position=2)
    make_visit(card=place("Near morning", 0.10, opens="08:00", closes="13:00"), date=DAY.isoformat(), position=3)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert _names(route)[-1] == "Opens after lunch"
    last = route.stops[-1]
    assert last.start == dt.time(14, 0) and last.waiting_minutes > 0 and last.arrival < dt.time(14, 0)
    assert all(s.start <= dt.time(13, 0) for s in route.stops[:-1])
    # Typed, the afternoon shop came first: the rep would have waited there until 14:00 and
    # reached the morning shops after they closed.
    assert not route.typed_fits


def test_a_customer_closed_that_weekday_is_left_out_with_the_reason(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    make_visit(card=place("Open", 0.05), date=DAY.isoformat())
    closed = make_visit(card=place("Closed on Mondays", 0.10, closed=[0]), date=DAY.isoformat())
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert _names(route) == ["Open"]
    assert [(u.visit.pk, u.kind) for u in route.unplaced] == [(closed.pk, "closed")]
    assert "Monday" in route.unplaced[0].reason


def test_a_visit_whose_window_misses_the_opening_hours_is_left_out(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    card = place("Closes early", 0.05, opens="08:00", closes="12:00")
    visit = make_visit(card=card, date=DAY.isoformat(), window_start="11:30", window_end="15:00", duration_minutes=60)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert not route.stops and route.unplaced[0].visit.pk == visit.pk and route.unplaced[0].kind == "no_time"
    assert "12:00" in route.unplaced[0].reason and "60" in route.unplaced[0].reason


def test_visits_that_cannot_all_fit_are_dropped_and_reported(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    # Two two-hour visits that must both start between 09:00 and 09:30.
    for i in range(2):
        make_visit(card=place(f"Rush {i}", 0.05 * (i + 1)), date=DAY.isoformat(), window_start="09:00", window_end="09:30",
                   duration_minutes=120)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert len(route.stops) == 1 and len(route.unplaced) == 1 and route.unplaced[0].kind == "no_time"
    assert "09:00" in route.unplaced[0].reason


def test_customers_without_a_location_are_reported(users: Any, place: Any, make_visit: Any, org: Any, start: Any) -> None:
    make_visit(card=place("Located", 0.05), date=DAY.isoformat())
    nowhere = make_visit(card=place("No coordinates", None), date=DAY.isoformat())
    no_site = make_visit(card=org, date=DAY.isoformat())
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert _names(route) == ["Located"]
    assert {(u.visit.pk, u.kind) for u in route.unplaced} == {(nowhere.pk, "no_location"), (no_site.pk, "no_location")}
    assert all("location" in u.reason for u in route.unplaced)


def test_without_a_start_point_the_day_starts_at_the_first_visit_at_half_past_eight(users: Any, place: Any, make_visit: Any) -> None:
    _zigzag(place, make_visit)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert route.assumed_start and route.leaves_at == dt.time(8, 30)
    assert route.start is not None and route.start.longitude == pytest.approx(LON + 0.15)  # Stop 3 was typed first
    assert route.stops[0].start == dt.time(8, 30) and route.stops[0].leg_km == 0
    assert route.planned.minutes <= route.typed.minutes


def test_a_day_of_twenty_five_visits_with_windows_is_planned(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    rng = random.Random(25)
    for i in range(25):
        opens = rng.choice(["", "08:00", "09:00", "10:00"])
        card = place(f"Shop {i}", rng.uniform(-0.25, 0.25), opens=opens, closes=rng.choice(["", "19:00", "20:00"]))
        window = {"window_start": "13:00", "window_end": "17:00"} if i % 6 == 0 else {}
        make_visit(card=card, date=DAY.isoformat(), position=i, duration_minutes=20, **window)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert len(route.stops) + len(route.unplaced) == 25 and len(route.stops) >= 20
    assert route.planned.minutes <= route.typed.minutes or not route.typed_fits
    assert [s.number for s in route.stops] == list(range(1, len(route.stops) + 1))
    assert all(a.departure <= b.arrival for a, b in zip(route.stops, route.stops[1:], strict=False))


def test_the_navigation_link_goes_from_the_start_through_the_stops(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    _zigzag(place, make_visit)
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    url = routing.navigation_url(route)
    assert url.startswith("https://www.google.com/maps/dir/?api=1&origin=40.4,-3.7&destination=40.4,-3.5&")
    assert "waypoints=40.4,-3.65|40.4,-3.6|40.4,-3.55" in url
    assert routing.geo_url(route.stops[0].point, "Stop 1").startswith("geo:40.4,-3.65?q=40.4,-3.65(Stop")


# --- the page, the calendar, the API, the command line ----------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_route_page_shows_the_stops_the_saving_and_the_map(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    _zigzag(place, make_visit)
    make_visit(card=place("Closed on Mondays", 0.3, closed=[0]), date=DAY.isoformat())
    response = _client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Stop 1") < html.index("Stop 2") < html.index("Stop 3") < html.index("Stop 4")
    assert "against your order" in html and "Open in navigation" in html and "https://www.google.com/maps/dir/" in html
    assert "closed on Monday" in html and "Closed on Mondays" in html
    assert 'id="route-map-data"' in html and "visits/vendor/leaflet/leaflet.js" in html and "visits/route.js" in html
    assert f"/visits/route/{DAY.isoformat()}.ics" in html
    assert "no_location" not in html and "no_time" not in html  # no internal codes on screen


def test_the_map_draws_without_tiles_and_uses_the_tile_server_setting(users: Any, place: Any, make_visit: Any, start: Any, settings: Any) -> None:
    _zigzag(place, make_visit)
    settings.RAPPORT_MAP_TILES = ""
    html = _client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}/").content.decode()
    assert '"tiles": ""' in html and '"n": 4' in html and "route-map-plain" in html
    settings.RAPPORT_MAP_TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
    html = _client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}/").content.decode()
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html and "route-map-plain" not in html


def test_a_manager_opens_a_day_of_one_of_their_people(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    _zigzag(place, make_visit)
    response = _client(users["manager_mei"]).get(f"/visits/route/{DAY.isoformat()}/?user={users['rep_ana'].pk}")
    assert response.status_code == 200 and "Stop 4" in response.content.decode()


def test_another_teams_rep_and_unknown_users_get_not_found(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    _zigzag(place, make_visit)
    bo = _client(users["rep_bo_other_team"])
    assert bo.get(f"/visits/route/{DAY.isoformat()}/?user={users['rep_ana'].pk}").status_code == 404
    assert bo.get(f"/visits/route/{DAY.isoformat()}.ics?user={users['rep_ana'].pk}").status_code == 404
    assert _client(users["rep_ben"]).get(f"/visits/route/{DAY.isoformat()}/?user={users['rep_ana'].pk}").status_code == 404
    assert _client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}/?user=999999").status_code == 404
    assert _client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}/?user=abc").status_code == 404
    own = bo.get(f"/visits/route/{DAY.isoformat()}/")  # their own day: none of rep_ana's customers
    assert own.status_code == 200 and "Stop 1" not in own.content.decode()


def test_a_malformed_day_is_not_found(users: Any) -> None:
    client = _client(users["rep_ana"])
    for bad in ("2027-02-30", "15-03-2027", "20270315", "tomorrow"):
        assert client.get(f"/visits/route/{bad}/").status_code == 404
    assert client.get("/route/?day=2027-13-01").status_code == 404


def test_the_route_without_a_day_opens_today(users: Any) -> None:
    from django.utils import timezone

    response = _client(users["rep_ana"]).get("/visits/route/")
    assert response.status_code == 302 and response["Location"] == f"/visits/route/{timezone.localdate().isoformat()}/"
    response = _client(users["manager_mei"]).get(f"/visits/route/?day=2027-03-15&user={users['rep_ana'].pk}")
    assert response["Location"] == f"/visits/route/2027-03-15/?user={users['rep_ana'].pk}"


def test_the_calendar_file_has_one_event_per_visit(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    from icalendar import Calendar

    visits = _zigzag(place, make_visit)
    unplaced = make_visit(card=place("Closed on Mondays", 0.3, closed=[0]), date=DAY.isoformat())
    make_visit(card=place("Tuesday shop", 0.1), date=(DAY + dt.timedelta(days=1)).isoformat())
    response = _client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert sorted(str(e["uid"]) for e in events) == sorted(f"visit-{v.pk}@rapport" for v in [*visits, unplaced])
    first = min((e for e in events if "Closed" not in str(e["summary"])), key=lambda e: e.decoded("dtstart"))
    assert str(first["summary"]) == "Stop 1"
    closed = next(e for e in events if str(e["summary"]) == "Closed on Mondays")
    assert "Not on the route" in str(closed["description"])
    week = _client(users["rep_ana"]).get(f"/visits/route/{(DAY + dt.timedelta(days=2)).isoformat()}.ics?week=1")
    assert len(Calendar.from_ical(week.content).walk("VEVENT")) == 6


def test_the_calendar_event_describes_the_objectives(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    from icalendar import Calendar

    from rapport.visits import content

    key = next(iter(content.objectives()))
    make_visit(card=place("With objective", 0.05), date=DAY.isoformat(), objectives=[key], purpose="Spring range")
    events = Calendar.from_ical(_client(users["rep_ana"]).get(f"/visits/route/{DAY.isoformat()}.ics").content).walk("VEVENT")
    description = str(events[0]["description"])
    assert "Spring range" in description and content.objectives()[key].label in description


def _api(user: Any) -> Client:
    from rapport.commerce.tests.factories import api

    return api(user)


def test_the_api_answers_the_ordered_stops_times_distances_and_saving(users: Any, place: Any, make_visit: Any, start: Any) -> None:
    _zigzag(place, make_visit)
    response = _api(users["rep_ana"]).get(f"/api/v1/routes/{DAY.isoformat()}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["customer"]["name"] for s in body["stops"]] == ["Stop 1", "Stop 2", "Stop 3", "Stop 4"]
    assert [s["number"] for s in body["stops"]] == [1, 2, 3, 4]
    assert body["stops"][0]["arrival"] <= body["stops"][0]["start"] < body["stops"][0]["departure"]
    assert body["saving"]["minutes"] > 0 and body["planned"]["km"] < body["typed"]["km"]
    assert body["start"]["label"] == "Office" and body["start"]["assumed"] is False
    assert body["navigation_url"].startswith("https://www.google.com/maps/dir/?api=1")
    assert body["user"] == {"id": users["rep_ana"].pk, "name": "rep_ana"}


def test_the_api_refuses_a_malformed_date_and_a_foreign_user(users: Any) -> None:
    response = _api(users["rep_ana"]).get("/api/v1/routes/2027-02-30")
    assert response.status_code == 422 and "date" in response.json()["errors"]
    assert _api(users["rep_bo_other_team"]).get(f"/api/v1/routes/2027-03-15?user={users['rep_ana'].pk}").status_code == 404
    assert _api(users["manager_mei"]).get(f"/api/v1/routes/2027-03-15?user={users['rep_ana'].pk}").status_code == 200


def test_the_command_line_plans_a_visit_and_prints_the_route_with_the_saving(
    users: Any, place: Any, make_visit: Any, start: Any, capsys: Any,
) -> None:
    _zigzag(place, make_visit)
    extra = place("Planned from the shell", 0.25)
    assert main(["visits", "plan", "--organization", str(extra.pk), "--date", DAY.isoformat(), "--from", "09:00",
                 "--until", "17:00", "--duration", "25", "--user", "rep_ana"]) == 0
    visit_id = int(capsys.readouterr().out.strip())
    from rapport.visits.models import Visit

    visit = Visit.objects.get(pk=visit_id)
    assert (visit.window_start, visit.window_end, visit.duration_minutes) == (dt.time(9), dt.time(17), 25)
    assert main(["visits", "route", "--date", DAY.isoformat(), "--user", "rep_ana"]) == 0
    printed = capsys.readouterr().out
    assert "Saving:" in printed and "against the typed order" in printed and "Stop 1" in printed
    assert main(["visits", "route", "--date", DAY.isoformat(), "--user", "rep_ana", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert len(body["stops"]) == 5 and body["saving"]["minutes"] > 0
    assert main(["visits", "route", "--date", "someday", "--user", "rep_ana"]) == 2
    assert main(["visits", "route", "--date", DAY.isoformat(), "--user", "rep_bo_other_team", "--owner", "rep_ana"]) == 2


def test_the_road_factor_and_speed_come_from_the_settings(users: Any, place: Any, make_visit: Any, start: Any, settings: Any) -> None:
    _zigzag(place, make_visit)
    straight = routing.haversine_km(routing.Point(LAT, LON), routing.Point(LAT, LON + 0.05))
    settings.RAPPORT_ROUTE_ROAD_FACTOR, settings.RAPPORT_ROUTE_SPEED_KMH = 1.0, 60
    route = routing.plan_route(users["rep_ana"], users["rep_ana"], DAY)
    assert route.stops[0].leg_km == pytest.approx(straight, abs=0.05)
    assert route.stops[0].leg_minutes == round(straight / 60 * 60)
    assert route.planned.km == pytest.approx(4 * straight, abs=0.1)
