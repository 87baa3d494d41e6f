"""``rapport deals list`` and ``rapport deals show``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.cli import main
from rapport.deals import services

pytestmark = pytest.mark.django_db


def test_the_list_shows_the_deals_a_user_may_see(users: Any, make_deal: Any, capsys: Any) -> None:
    make_deal()
    assert main(["deals", "list", "--user", "rep_ana"]) == 0
    printed = capsys.readouterr().out
    # The table wraps long cells at the terminal's width (narrower as ids grow, and PostgreSQL's
    # ids keep growing across tests): look for the start of single words.
    assert "Forklift" in printed and "Distribu" in printed and "€120,000.00" in printed and "2027-03-31" in printed
    assert "analyse" in printed and "1 deal(s)." in printed
    assert main(["deals", "list", "--user", "rep_bo_other_team"]) == 0
    assert "0 deal(s)." in capsys.readouterr().out


def test_the_list_filters_and_prints_json(users: Any, make_deal: Any, capsys: Any) -> None:
    first = make_deal()
    second = make_deal(user="rep_ben", name="Spare parts")
    services.close_deal(user=users["rep_ben"], deal=second, outcome="lost", reason="price")
    assert main(["deals", "list", "--owner", "rep_ana", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in body["items"]] == [first.pk] and body["count"] == 1
    assert body["items"][0]["amount"] == "120000.00" and body["items"][0]["customer"]["kind"] == "organization"
    assert main(["deals", "list", "--status", "lost", "--step", "analyse", "--json"]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)["items"]] == [second.pk]


def test_bad_options_exit_with_a_usage_error(users: Any, capsys: Any) -> None:
    assert main(["deals", "list", "--step", "celebrate"]) == 2
    assert "--step takes one of" in capsys.readouterr().err
    assert main(["deals", "list", "--owner", "nobody"]) == 2
    assert main(["deals", "list", "--user", "nobody"]) == 2
    with pytest.raises(SystemExit):
        main(["deals", "list", "--status", "maybe"])


def test_show_prints_the_customer_step_checklist_questions_people_and_history(
    users: Any, org: Any, make_deal: Any, make_person: Any, capsys: Any,
) -> None:
    from rapport.relationships.services import add_member

    ana = users["rep_ana"]
    deal = make_deal(buying_stage="evaluation")
    services.answer_question(user=ana, deal=deal, key="win", answer="yes", justification="Only bidder with service")
    member = add_member(user=ana, organization_id=org.pk, data={"person": make_person(given_name="Wei", family_name="Zhang").pk})
    services.add_contact(user=ana, deal=deal, data={"member": member.pk, "roles": ["decision_maker"]})
    services.move_step(user=ana, deal=deal, to="build_trust", override_reason="Repeat buyer")
    assert main(["deals", "show", str(deal.pk), "--user", "rep_ana"]) == 0
    printed = capsys.readouterr().out
    assert "Customer: Distribuidora Norte S.A." in printed and "€120,000.00" in printed
    assert "Step: Build trust (build_trust)" in printed and "[ ]" in printed
    assert "Can we win? yes — Only bidder with service" in printed and "Is it worth winning? not answered" in printed
    assert "Wei Zhang: Decision maker (key)" in printed
    assert "analyse -> build_trust (override: Repeat buyer; missing four_questions)" in printed and "opened at analyse" in printed
    assert "Warnings:" in printed


def test_show_prints_json_and_hides_deals_out_of_reach(users: Any, make_deal: Any, capsys: Any) -> None:
    deal = make_deal()
    assert main(["deals", "show", str(deal.pk), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["id"] == deal.pk and body["checklist"]["items"][0]["key"] == "four_questions"
    assert [q["key"] for q in body["questions"]] == ["opportunity", "solution", "win", "worth"]
    assert body["history"][0]["to"] == "analyse"
    assert main(["deals", "show", str(deal.pk), "--user", "rep_bo_other_team"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["deals", "show", "abc"]) == 2
