"""Scanning fills the review queue; decisions stick; the importer's look-up finds existing cards."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards.services import add_fact
from rapport.core.errors import Conflict, ValidationError
from rapport.dedup import selectors, services
from rapport.dedup.models import Candidate, CandidateStatus


def test_a_scan_queues_likely_pairs_and_a_rescan_keeps_decisions(users: dict[str, Any], make_person: Any) -> None:
    a = make_person(given_name="Roberto", family_name="Sánchez", phones=["+34612000111"])
    b = make_person(given_name="Robert", family_name="Sanchez", phones=["612 000 111"])
    make_person(given_name="Lucía", family_name="Ortega")
    result = services.scan(user=users["rep_ana"], kind="person")
    assert [(p.left, p.right) for p in result.pairs] == [(a.pk, b.pk)]
    candidate = Candidate.objects.get()
    assert candidate.status == CandidateStatus.PENDING and "same_phone" in candidate.reasons
    services.mark_not_duplicate(user=users["rep_ana"], candidate=candidate)
    again = services.scan(user=users["rep_ana"], kind="person")
    assert again.created == 0 and Candidate.objects.get().status == CandidateStatus.NOT_DUPLICATE
    with pytest.raises(Conflict):
        services.mark_not_duplicate(user=users["rep_ana"], candidate=candidate)


def test_a_rep_never_sees_pairs_involving_another_teams_card(users: dict[str, Any], make_person: Any) -> None:
    make_person(given_name="Ana", family_name="Ruiz", emails=["ana@ruiz.es"])
    make_person(owner="rep_bo_other_team", given_name="Ana", family_name="Ruiz", emails=["ana@ruiz.es"])
    assert services.scan(user=users["rep_ana"], kind="person").pairs == []
    assert len(services.scan(user=users["admin"], kind="person").pairs) == 1
    assert list(selectors.candidates(users["rep_ana"])) == []
    assert len(list(selectors.candidates(users["manager_mei"]))) == 0
    assert len(list(selectors.candidates(users["admin"]))) == 1


def test_the_importer_look_up_finds_an_existing_card_from_row_data(users: dict[str, Any], make_person: Any, make_org: Any) -> None:
    person = make_person(given_name="José", family_name="Martínez", emails=["jose.martinez@gmail.com"])
    add_fact(user=users["rep_ana"], card=person, item_key="birth_date", value="1975-02-03", source_key="customer_roster")
    found = services.find_duplicates(
        user=users["rep_ana"], kind="person",
        data={"given_name": "Pepe", "family_name": "Martinez", "emails": ["JoseMartinez@gmail.com"], "birth_date": "1975-02-03"},
    )
    assert [m.card_id for m in found] == [person.pk] and found[0].score > 0.9
    org = make_org(name="Transportes Ibéricos S.L.")
    add_fact(user=users["rep_ana"], card=org, item_key="tax_id", value="B11223344", source_key="customer_roster")
    found = services.find_duplicates(user=users["rep_ana"], kind="organization", data={"name": "TRANSPORTES IBERICOS SA", "tax_id": "B-11223344"})
    assert [m.card_id for m in found] == [org.pk]
    assert services.find_duplicates(user=users["rep_bo_other_team"], kind="organization", data={"name": "Transportes Ibéricos"}) == []


def test_the_look_up_rejects_bad_input_naming_the_field(users: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        services.find_duplicates(user=users["rep_ana"], kind="robot", data={})
    assert "kind" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        services.find_duplicates(user=users["rep_ana"], kind="person", data={}, threshold=7)
    assert "threshold" in exc.value.errors


def test_auto_merge_follows_chains_into_the_oldest_card(users: dict[str, Any], make_person: Any) -> None:
    a = make_person(given_name="Laura", family_name="Vidal", emails=["laura@vidal.es"])
    b = make_person(given_name="Laura", family_name="Vidal", emails=["laura@vidal.es"], phones=["+34611222333"])
    c = make_person(given_name="Laura", family_name="Vidal", phones=["+34611222333"])
    result = services.scan(user=users["admin"], kind="person")
    merged = services.auto_merge(user=users["admin"], pairs=result.pairs, above=0.95)
    assert merged.merged == 2
    a.refresh_from_db()
    assert a.archived_at is None and a.phones.count() == 1 and a.emails.count() == 1


def test_the_command_line_queues_pairs_writes_the_report_and_merges_the_surest(
    users: dict[str, Any], make_person: Any, tmp_path: Any, capsys: Any
) -> None:
    import csv

    from rapport.cards.models import Card
    from rapport.cli import main

    a = make_person(given_name="Carmen", family_name="Díaz", emails=["carmen@diaz.es"], external_id="=HYPERLINK(1)")
    b = make_person(given_name="Carmen", family_name="Diaz", emails=["Carmen@diaz.es"], external_id="crm-2")
    report = tmp_path / "pairs.csv"
    code = main(["dedup", "--kind", "people", "--report", str(report), "--auto-merge-above", "0.99"])
    assert code == 0
    rows = list(csv.reader(report.open(encoding="utf-8")))
    assert rows[0] == ["left_id", "right_id", "left_external_id", "right_external_id", "score", "reasons"]
    assert rows[1][:4] == [str(a.pk), str(b.pk), "'=HYPERLINK(1)", "crm-2"] and "same_email" in rows[1][5]
    assert Card.objects.get(pk=b.pk).archived_at is not None
    assert "1 pairs merged" in capsys.readouterr().out


def test_the_command_line_refuses_bad_arguments(users: dict[str, Any], capsys: Any) -> None:
    from rapport.cli import main

    with pytest.raises(SystemExit):
        main(["dedup", "--kind", "robots"])
    with pytest.raises(SystemExit):
        main(["dedup", "--kind", "people", "--threshold", "2"])
    assert main(["dedup", "--kind", "people", "--user", "nobody"]) == 2
    assert main(["dedup", "--kind", "people", "--threshold", "0.9", "--auto-merge-above", "0.5"]) == 2


def test_the_import_finder_matches_rows_in_memory_and_catches_repeats_within_a_file(
    users: dict[str, Any], make_person: Any, django_assert_num_queries: Any
) -> None:
    existing = make_person(given_name="Ioana", family_name="Popa", phones=["+40721555666"])
    make_person(owner="rep_bo_other_team", given_name="Ioana", family_name="Popa", phones=["+40721555777"])
    finder = services.DuplicateFinder(user=users["rep_ana"], kind="person")
    with django_assert_num_queries(0):
        found = finder.find({"given_name": "Oana", "family_name": "Popa", "phones": ["0721 555 666"], "region": "RO"})
        assert [m.card_id for m in found] == [existing.pk] and "same_phone" in found[0].reasons
        assert finder.find({"given_name": "Ioana", "family_name": "Popa", "phones": ["0721 555 777"], "region": "RO"}) == []
        row = {"given_name": "Radu", "family_name": "Matei", "emails": ["radu@matei.ro"]}
        assert finder.find(row) == []
        finder.add(999_999, row)
        assert [m.card_id for m in finder.find({"given_name": "Radu", "family_name": "Matei", "emails": ["RADU@matei.ro"]})] == [999_999]


def test_pairs_of_a_merged_card_leave_the_queue_until_the_merge_is_undone(users: dict[str, Any], make_person: Any) -> None:
    a = make_person(given_name="Sara", family_name="Gil", emails=["sara@gil.es"])
    b = make_person(given_name="Sara", family_name="Gil", emails=["sara@gil.es"], phones=["+34622333444"])
    c = make_person(given_name="Sara", family_name="Gil", phones=["+34622333444"])
    services.scan(user=users["rep_ana"], kind="person")
    pairs = lambda: {(x.left_id, x.right_id) for x in selectors.candidates(users["rep_ana"])}  # noqa: E731
    assert pairs() == {(a.pk, b.pk), (b.pk, c.pk)}
    merge = services.merge_cards(user=users["rep_ana"], survivor=a, loser=b)
    assert pairs() == set()
    services.scan(user=users["rep_ana"], kind="person")
    assert pairs() == {(a.pk, c.pk)}  # a now has b's phone
    services.undo_merge(user=users["rep_ana"], merge=merge)
    assert (b.pk, c.pk) in pairs() and (a.pk, b.pk) in pairs()


def test_storing_pairs_again_refreshes_pending_scores_and_leaves_decided_pairs_alone(
    users: dict[str, Any], make_person: Any
) -> None:
    from rapport.dedup.matching import PairScore

    a, b, c = (make_person(given_name="Irene", family_name=f"Soler{i}") for i in range(3))
    assert services.store_candidates("person", [PairScore(a.pk, b.pk, 0.91, ("same_phone",)), PairScore(a.pk, c.pk, 0.85, ())]) == (2, 0)
    decided = Candidate.objects.get(left=a, right=c)
    services.mark_not_duplicate(user=users["admin"], candidate=decided)
    again = [PairScore(a.pk, b.pk, 0.97, ("same_phone", "same_email")), PairScore(a.pk, c.pk, 0.99, ("same_email",))]
    assert services.store_candidates("person", again) == (0, 1)
    pending = Candidate.objects.get(left=a, right=b)
    assert (pending.score, pending.reasons, pending.status, pending.kind) == (0.97, ["same_phone", "same_email"], CandidateStatus.PENDING, "person")
    assert pending.found_at is not None and pending.decided_by is None
    decided.refresh_from_db()
    assert (decided.score, decided.status) == (0.85, CandidateStatus.NOT_DUPLICATE)
    assert services.store_candidates("person", again) == (0, 0)


def test_a_scan_refuses_a_number_of_workers_that_is_not_a_positive_whole_number(users: dict[str, Any], capsys: Any) -> None:
    from rapport.cli import main

    for workers in (0, -1, 1.5, True):
        with pytest.raises(ValidationError) as exc:
            services.scan(user=users["admin"], kind="person", workers=workers)  # type: ignore[arg-type]
        assert "workers" in exc.value.errors
    for text in ("0", "two", "65"):
        with pytest.raises(SystemExit):
            main(["dedup", "--kind", "people", "--workers", text])
    assert main(["dedup", "--kind", "people", "--workers", "2", "--no-queue"]) == 0
    assert Candidate.objects.count() == 0


def test_a_scan_reports_how_long_reading_comparing_and_storing_took(users: dict[str, Any], make_person: Any) -> None:
    make_person(given_name="Tomás", family_name="Rey", emails=["tomas@rey.es"])
    make_person(given_name="Tomas", family_name="Rey", emails=["TOMAS@rey.es"])
    result = services.scan(user=users["admin"], kind="person")
    assert set(result.seconds) == {"read", "compare", "store"} and all(s >= 0 for s in result.seconds.values())
    assert result.created == 1 and Candidate.objects.get().reasons[:2] == ["same_name", "same_email"]


def test_reading_related_tables_whole_gives_the_same_records_and_only_for_visible_cards(
    users: dict[str, Any], make_person: Any, make_org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = make_person(given_name="Ana", family_name="Gil", phones=["+34611000001", "+34611000002"], emails=["ana@gil.es"],
                       addresses=[{"street": "Calle Mayor 3", "city": "Madrid", "postal_code": "28013"}])
    add_fact(user=users["rep_ana"], card=mine, item_key="birth_date", value="1980-04-05", source_key="customer_roster")
    make_person(given_name="Luis", family_name="Gil")
    make_person(owner="rep_bo_other_team", given_name="Ana", family_name="Gil", phones=["+34611000001"])
    make_org(name="Gil y Asociados SL", phones=["+34911000000"])
    by_id = services.records_for(users["rep_ana"], "person")
    monkeypatch.setattr(services, "WHOLE_TABLES_FROM", 0)
    whole = services.records_for(users["rep_ana"], "person")
    assert sorted(whole, key=lambda r: r.id) == sorted(by_id, key=lambda r: r.id) and len(whole) == 2
    record = next(r for r in whole if r.id == mine.pk)
    assert record.phones == {"+34611000001", "+34611000002"} and record.emails == {"ana@gil.es"}
    assert (record.birth_date, record.street, record.city, record.postal_code) == ("1980-04-05", "calle mayor 3", "madrid", "28013")


def test_the_creation_check_costs_at_most_four_queries_whatever_it_finds(
    users: dict[str, Any], make_person: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        card = make_person(given_name="Lucía", family_name=f"Ortega{i % 3}", phones=[f"+3461200{i:04d}"], emails=[f"l{i}@ortega.es"])
        add_fact(user=users["rep_ana"], card=card, item_key="birth_date", value="1980-04-05", source_key="customer_roster")
    data = {"given_name": "Lucia", "family_name": "Ortega1", "phones": ["+34612000001"], "emails": ["l1@ortega.es"], "birth_date": "1980-04-05"}
    services.find_duplicates(user=users["rep_ana"], kind="person", data=data)  # the user's teams, looked up once per user
    # The model in use, the candidates (phone, e-mail, birth date and names in one statement), the
    # visible cards among them, and their phones, e-mails, addresses and values.
    with django_assert_max_num_queries(4):
        found = services.find_duplicates(user=users["rep_ana"], kind="person", data=data)
    assert found and found[0].score >= 0.9 and found[0].display_name.startswith("Luc")
