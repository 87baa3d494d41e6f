"""Simulated users of the load test, driven by ``bench.load.run`` (not meant to be run by hand).

The scenario comes from ``LOAD_SCENARIO``; ``LOAD_FIXTURE`` is the JSON file the runner wrote
(tokens, session cookies, card ids and search prefixes per benchmark user); ``LOAD_OUT`` is
where the writers scenario leaves the ids the server acknowledged.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import FastHttpUser, between, constant, events, task

SCENARIO = os.environ.get("LOAD_SCENARIO", "card_read")
FIXTURE: dict[str, Any] = json.loads(open(os.environ["LOAD_FIXTURE"], encoding="utf-8").read()) if os.environ.get("LOAD_FIXTURE") else {}
_people = itertools.count()
SLOT = re.compile(r'class="panel panel-slot[^"]*" hx-get="([^"]+)"')
# What a desktop browser loads on opening a card page: the first screen, then the sections that
# are in view, which htmx asks for one by one ("intersect once"). Measured in Chromium at
# 1440 x 900 on this data: five or six sections, the first two or three of each column; a phone
# (390 x 844) loads none or one until the rep scrolls.
SECTIONS_IN_VIEW = 3
acknowledged: list[int] = []
locked_answers = 0
server_errors = 0


class Bench(FastHttpUser):
    """One salesperson: a bench user's token, session and the cards that user can see."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        profiles = FIXTURE["users"]
        self.profile = profiles[next(_people) % len(profiles)]
        self.rng = random.Random()
        self.api = {"Authorization": f"Bearer {self.profile['token']}"}
        self.page = {"Cookie": f"sessionid={self.profile['session']}"}

    def person(self) -> int:
        return int(self.rng.choice(self.profile["people"]))

    def read_card(self) -> None:
        self.client.get(f"/api/v1/people/{self.person()}", headers=self.api, name="GET /api/v1/people/{id}")

    def search(self) -> None:
        self.client.post("/api/v1/search", json={"q": self.rng.choice(self.profile["prefixes"]), "limit": 20},
                         headers=self.api, name="POST /api/v1/search (prefix)")

    def log_activity(self) -> int | None:
        body = {"kind": "call", "summary": "Load test call", "cards": [self.person()]}
        with self.client.post("/api/v1/activities", json=body, headers=self.api, name="POST /api/v1/activities",
                              catch_response=True) as answer:
            return _acknowledge(answer)


def _acknowledge(answer: Any) -> int | None:
    """Counts what the writers scenario checks afterwards: acknowledged ids, lock errors."""
    global locked_answers, server_errors
    text = answer.text or ""
    if "locked" in text:
        locked_answers += 1
    if answer.status_code == 201:
        try:
            ident = int(answer.json()["id"])
        except (ValueError, KeyError, TypeError):
            answer.failure("201 without an id")
            return None
        acknowledged.append(ident)
        answer.success()
        return ident
    if answer.status_code >= 500:
        server_errors += 1
    answer.failure(f"HTTP {answer.status_code}")
    return None


if SCENARIO == "floor":

    class PlainView(Bench):
        """A plain Django view through the whole middleware: the floor the API is compared with."""

        @task
        def favicon(self) -> None:
            self.client.get("/favicon.ico", name="GET /favicon.ico (plain view)", allow_redirects=False)

elif SCENARIO == "card_read":

    class CardReader(Bench):
        @task
        def card(self) -> None:
            self.read_card()

elif SCENARIO == "search":

    class Searcher(Bench):
        @task
        def prefix(self) -> None:
            self.search()

elif SCENARIO == "day":

    class SalesRep(Bench):
        """A sales team's day: look customers up, open cards, log calls, add what was learned."""

        # Reading a card, thinking, typing: a person does not click without pause.
        wait_time = between(0.3, 1.2)

        @task(4)
        def search_task(self) -> None:
            self.search()

        @task(4)
        def card_api(self) -> None:
            self.read_card()

        def open_card(self, card: int, what: str) -> None:
            """The card page as a browser with scripts opens it: the first screen, then the
            sections in view (``SECTIONS_IN_VIEW`` of each column)."""
            headers = {"Cookie": f"{self.page['Cookie']}; rapport_js=1"}
            answer = self.client.get(f"/cards/{card}/", headers=headers, name=f"GET /cards/{{id}}/ ({what}, first screen)")
            html = answer.text or ""
            side = html.find('class="col-side"')
            main = SLOT.findall(html, 0, side if side >= 0 else len(html))
            rest = SLOT.findall(html, side) if side >= 0 else []
            for url in main[:SECTIONS_IN_VIEW] + rest[:SECTIONS_IN_VIEW]:
                self.client.get(url, headers={**headers, "HX-Request": "true"}, name="GET /cards/{id}/sections/{name}/")

        @task(2)
        def card_page(self) -> None:
            self.open_card(self.person(), "person")

        @task(1)
        def organisation_page(self) -> None:
            self.open_card(self.rng.choice(self.profile["organizations"]), "organisation")

        @task(2)
        def activity(self) -> None:
            self.log_activity()

        @task(1)
        def fact(self) -> None:
            item = self.rng.choice(FIXTURE["facts"])
            body = {"item": item["item"], "value": self.rng.choice(item["values"]), "source": FIXTURE["source"]}
            self.client.post(f"/api/v1/people/{self.person()}/facts", json=body, headers=self.api,
                             name="POST /api/v1/people/{id}/facts")

        @task(2)
        def list_page(self) -> None:
            tier = self.rng.choice("ABC")
            self.client.get(f"/api/v1/people?tier={tier}&limit=50", headers=self.api, name="GET /api/v1/people?tier (list)")

        @task(1)
        def timeline(self) -> None:
            self.client.get(f"/api/v1/people/{self.person()}/timeline", headers=self.api, name="GET /api/v1/people/{id}/timeline")

elif SCENARIO == "writers":

    class Writer(Bench):
        @task
        def write(self) -> None:
            self.log_activity()


@events.quitting.add_listener
def _report(environment: Any, **kwargs: Any) -> None:
    out = os.environ.get("LOAD_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump({"acknowledged": acknowledged, "locked_answers": locked_answers, "server_errors": server_errors}, handle)
