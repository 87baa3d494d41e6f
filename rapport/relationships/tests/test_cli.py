"""``rapport dmu show``: prints the unit and its warnings; user errors exit 2."""

from __future__ import annotations

from typing import Any

from rapport.cli import main
from rapport.relationships import services
from rapport.relationships.tests.factories import org_with_people


def test_dmu_show_prints_members_relationships_and_warnings(users: dict[str, Any], capsys: Any) -> None:
    org, (ana, luis, _m) = org_with_people(users)
    services.add_member(user=users["admin"], organization_id=org.pk, data={"person": ana.pk, "influence": 70, "attitude": "opponent", "roles": ["decision_maker"], "level": "decision"})
    services.add_relationship(user=users["admin"], data={"from_person": luis.pk, "to_person": ana.pk, "kind": "influences"})
    assert main(["dmu", "show", "Hospital Central"]) == 0
    out = capsys.readouterr().out
    assert "Ana Ruiz" in out and "70%" in out and "Opponent" in out
    assert "Luis Ruiz → Ana Ruiz: Influences" in out
    assert "[decision_maker_not_supporter]" in out and "[no_coach]" in out


def test_dmu_show_respects_the_viewer_and_fails_cleanly_on_unknown_organizations(users: dict[str, Any], capsys: Any) -> None:
    org, _people = org_with_people(users)
    assert main(["dmu", "show", str(org.pk), "--user", "rep_bo_other_team"]) == 2
    assert main(["dmu", "show", "No Such Company"]) == 2
    assert "No organisation named" in capsys.readouterr().err


def test_dmu_show_json_prints_the_api_graph(users: dict[str, Any], capsys: Any) -> None:
    import json

    org, (ana, *_rest) = org_with_people(users)
    services.add_member(user=users["admin"], organization_id=org.pk, data={"person": ana.pk, "influence": 100})
    assert main(["dmu", "show", str(org.pk), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["nodes"][0]["person"] == ana.pk and {w["code"] for w in body["warnings"]} == {"no_decision_level", "no_coach"}
