"""The audit page names records and values in words, and a refused visit is not a server error."""

from __future__ import annotations

import logging
from typing import Any

from django.test import Client

from rapport.accounts.services import create_user
from rapport.audit.models import Action
from rapport.audit.services import record


def _admin(users: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(users["admin"])
    return client


def test_the_audit_page_names_a_card_by_its_name_not_its_table_and_id(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(name="Ferretería López")
    page = _admin(users).get("/audit/?action=create").content.decode()
    assert f"cards.card:{org.id}" not in page and "cards.card" not in page
    assert f'<a href="/cards/{org.id}/">' in page and "Ferretería López" in page


def test_the_audit_page_shows_details_as_words_not_dictionaries(users: dict[str, Any]) -> None:
    create_user(username="rep_nuevo", role="rep", teams=["Norte"])
    record(action=Action.UPDATE, record_type="cards.card", record_id="999999", field="lifecycle_stage",
           old={"stage": "prospect"}, new=["target", 3], detail={"rule": "lose", "by_import": True})
    page = _admin(users).get("/audit/").content.decode()
    for python in ("{'", "'}", "['", "': "):
        assert python not in page
    assert "Role: rep" in page and "Teams: Norte" in page
    assert "Lifecycle stage" in page and "Stage: prospect" in page and "target, 3" in page
    assert "By import: yes" in page


def test_an_unknown_or_erased_record_keeps_its_kind_without_a_table_name(users: dict[str, Any]) -> None:
    record(action=Action.DELETE, record_type="nowhere.thing", record_id="7")
    page = _admin(users).get("/audit/?action=delete").content.decode()
    assert "nowhere.thing" not in page and "Thing 7" in page


def test_a_rep_opening_the_audit_page_is_refused_without_a_traceback_in_the_log(
    users: dict[str, Any], caplog: Any
) -> None:
    rep = Client()
    rep.force_login(users["rep_ana"])
    with caplog.at_level(logging.WARNING):
        response = rep.get("/audit/")
    assert response.status_code == 403
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    from rapport.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action=Action.DENIED, actor="rep_ana").exists()
