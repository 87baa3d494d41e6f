"""In a browser that runs scripts the card page answers with its first screen, and each other
section comes from one URL as it scrolls into view: checked like the page, showing what the
whole page shows, at a pinned number of queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.cards.tests.factories import busy_organization
from rapport.cards.tests.test_card_page_queries import more_cards
from rapport.cards.views import SCRIPTS_COOKIE

pytestmark = pytest.mark.django_db

SLOT = re.compile(r'hx-get="(/cards/\d+/sections/([\w-]+)/)"')
# The first screen: the card's header with its contact details, people and the two forms.
# The user comes with their teams (rapport.accounts.backends): a rep's page costs an admin's.
FIRST_RESPONSE_QUERIES = {"admin": 4, "rep_ana": 4}  # the contacts come with the card (5 and 6 before)
# Each section's request: the session, the user with their teams, the card (by primary key, its
# owner's and team's names with it), then the section's own queries. A section that changes
# these numbers changes them on purpose. Where most cards have none of a panel's rows, the
# panel first asks which rows the card has (one query) and reads only those: on this busy
# organisation, which has them all, that question is one query more (deals, timeline).
_SECTIONS = {
    "profile": 4, "facts": 4, "account": 9, "quality": 4, "deals": 5, "visits": 5, "funnel": 5, "aftersales": 7,
    "decision_unit": 6, "timeline": 15, "sharing": 6, "agenda": 5, "duplicates": 4, "segmentation": 4, "cross_sell": 4,
}
SECTION_QUERIES = {"admin": _SECTIONS, "rep_ana": _SECTIONS}  # a rep's teams read apart cost one more, before


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[SCRIPTS_COOKIE] = "1"
    return client


def htmx(user: Any) -> Client:
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    return client


def counted(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def slots(user: Any, card_id: int) -> dict[str, str]:
    html = browser(user).get(f"/cards/{card_id}/").content.decode()
    return {name: url for url, name in SLOT.findall(html)}


def without_tokens(html: str) -> str:
    """The markup without what differs from one response to the next (CSRF tokens)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


@pytest.fixture
def busy(users: dict[str, Any]) -> Any:
    return busy_organization(users["rep_ana"], people=6, activities=60)


def test_a_browser_that_runs_scripts_gets_the_first_screen_and_a_slot_for_every_other_section(
    users: dict[str, Any], busy: Any
) -> None:
    html = browser(users["rep_ana"]).get(f"/cards/{busy.organization.pk}/").content.decode()
    assert 'href="tel:+34912345678"' in html and "Persona00 Ruiz" in html and 'id="log-activity"' in html
    assert [name for _, name in SLOT.findall(html)] == list(SECTION_QUERIES["rep_ana"])
    assert 'hx-trigger="intersect once"' in html and 'class="panel panel-slot order-timeline"' in html
    assert "Account statement" not in html  # the account panel is not read for the first response


def test_without_scripts_the_page_holds_every_section_at_once(users: dict[str, Any], busy: Any) -> None:
    client = Client()
    client.force_login(users["rep_ana"])
    for url in (f"/cards/{busy.organization.pk}/", f"/cards/{busy.organization.pk}/?panels=all"):
        html = client.get(url).content.decode()
        assert "panel-slot" not in html and 'id="timeline"' in html and "Account statement" in html
    scripted = browser(users["rep_ana"]).get(f"/cards/{busy.organization.pk}/?panels=all").content.decode()
    assert "panel-slot" not in scripted and "Account statement" in scripted


def test_every_section_shows_what_the_whole_page_shows(users: dict[str, Any], busy: Any) -> None:
    for who in ("admin", "rep_ana"):
        whole = Client()
        whole.force_login(users[who])
        page = without_tokens(whole.get(f"/cards/{busy.organization.pk}/").content.decode())
        client = htmx(users[who])
        empty = set()
        for name, url in slots(users[who], busy.organization.pk).items():
            section = without_tokens(client.get(url).content.decode()).strip()
            assert section in page, (who, name)
            if not section:
                empty.add(name)
        # Nothing to suggest, no duplicate pairs, no segment flags: the slot goes away, as the panel does.
        assert empty <= {"cross_sell", "duplicates", "segmentation"}, who


def test_a_section_answers_404_for_a_card_the_user_may_not_see(users: dict[str, Any], busy: Any) -> None:
    urls = slots(users["rep_ana"], busy.organization.pk)
    other = htmx(users["rep_bo_other_team"])
    for url in urls.values():
        assert other.get(url).status_code == 404, url
    assert browser(users["rep_bo_other_team"]).get(urls["account"]).status_code == 404


def test_an_unknown_section_answers_404(users: dict[str, Any], busy: Any) -> None:
    client = htmx(users["admin"])
    card = busy.organization.pk
    assert client.get(f"/cards/{card}/sections/no_such_panel/").status_code == 404
    # The person's relationship panel does not belong on an organisation's page.
    assert client.get(f"/cards/{card}/sections/relationship/").status_code == 404
    assert client.get(f"/cards/{card}/sections/profile/").status_code == 200


def test_a_section_opened_as_a_link_stands_on_a_page_of_its_own(users: dict[str, Any], busy: Any) -> None:
    client = Client()
    client.force_login(users["rep_ana"])
    card = busy.organization.pk
    response = client.get(f"/cards/{card}/sections/account/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and "Account statement" in html
    assert f'href="/cards/{card}/"' in html
    # A section with nothing to show for this card sends the reader back to the page.
    assert client.get(f"/cards/{card}/sections/cross_sell/").headers["Location"] == f"/cards/{card}/"


def test_a_panel_loaded_as_a_section_sends_its_forms_back_to_the_card_page(users: dict[str, Any], busy: Any) -> None:
    card = busy.organization.pk
    html = htmx(users["rep_ana"]).get(f"/cards/{card}/sections/agenda/").content.decode()
    assert f"next=/cards/{card}/" in html and "sections" not in html


def test_the_first_response_runs_a_pinned_number_of_queries(users: dict[str, Any], busy: Any) -> None:
    for who, pinned in FIRST_RESPONSE_QUERIES.items():
        assert counted(browser(users[who]), f"/cards/{busy.organization.pk}/") == pinned, who


def test_each_section_runs_a_pinned_number_of_queries(users: dict[str, Any], busy: Any) -> None:
    for who, pinned in SECTION_QUERIES.items():
        urls = slots(users[who], busy.organization.pk)
        client = htmx(users[who])
        assert {name: counted(client, url) for name, url in urls.items()} == pinned, who


def test_more_cards_in_the_database_add_no_query_to_the_first_response_or_any_section(
    users: dict[str, Any], busy: Any
) -> None:
    def all_counts() -> dict[str, dict[str, int]]:
        counts = {}
        for who in ("admin", "rep_ana", "manager_mei"):
            client = htmx(users[who])
            counts[who] = {name: counted(client, url) for name, url in slots(users[who], busy.organization.pk).items()}
            counts[who]["first"] = counted(browser(users[who]), f"/cards/{busy.organization.pk}/")
        return counts

    before = all_counts()
    more_cards(users, 30)
    assert all_counts() == before


def test_more_people_and_activities_add_no_query_to_the_first_response_or_any_section(users: dict[str, Any]) -> None:
    small = busy_organization(users["rep_ana"], people=2, activities=4, name="Small S.L.").organization
    large = busy_organization(users["rep_ana"], people=12, activities=80, name="Large S.A.").organization

    def counts(who: str, card_id: int) -> dict[str, int]:
        client = htmx(users[who])
        found = {name: counted(client, url) for name, url in slots(users[who], card_id).items()}
        return {**found, "first": counted(browser(users[who]), f"/cards/{card_id}/")}

    for who in ("admin", "rep_ana"):
        assert counts(who, small.pk) == counts(who, large.pk), who


def test_a_persons_page_leaves_a_slot_for_the_person_panels_and_each_loads(users: dict[str, Any], busy: Any) -> None:
    person = busy.people[0]
    urls = slots(users["rep_ana"], person.pk)
    assert {"relationship", "privacy", "profile", "timeline"} <= set(urls) and "decision_unit" not in urls
    client = htmx(users["rep_ana"])
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name
    assert 'id="relationship"' in client.get(urls["relationship"]).content.decode()
