"""The after-sales page gives the number to call each customer with an open case or a
satisfaction check due, as a tel: link in E.164, only for customers the user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from rapport.aftersales import services
from rapport.aftersales.tests.factories import check_for


def test_open_cases_and_due_checks_link_the_customers_number(ana: Client, users: Any, make_org: Any) -> None:
    complaining = make_org(name="Quejas S.A.", phones=["+34 915 555 000"])
    services.open_case(user=users["rep_ana"], card=complaining, data={"subject": "Broken pallet", "due_on": "2026-04-01"})
    delivered = make_org(name="Entregado S.L.", phones=["+40 721 234 567"])
    check = check_for(delivered, delivered_on=dt.date.today() - dt.timedelta(days=30))
    assert check.due_on <= dt.date.today()
    html = ana.get("/aftersales/").content.decode()
    assert 'href="tel:+34915555000"' in html and 'href="tel:+40721234567"' in html and "+40 721 234 567" in html


def test_another_teams_customer_shows_no_number(users: Any, make_org: Any) -> None:
    theirs = make_org(owner="rep_bo_other_team", name="Ajeno S.A.", phones=["+34 915 777 888"])
    services.open_case(user=users["rep_bo_other_team"], card=theirs, data={"subject": "Late delivery"})
    ana = Client()
    ana.force_login(users["rep_ana"])
    html = ana.get("/aftersales/").content.decode()
    assert "tel:+34915777888" not in html and "Ajeno" not in html
