"""Card page actions: verifying a fact, recording employments, sharing, and person references."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from rapport.cards import services
from rapport.cards.models import Employment, Fact, Share

HTMX = {"HX-Request": "true"}


def test_verifying_a_fact_makes_it_the_current_value_and_rerenders_the_profile(ana: Client, users: Any, make_org: Any) -> None:
    org = make_org(name="Verificación SA")
    first = services.add_fact(user=users["rep_ana"], card=org, item_key="employee_count", value=40, source_key="customer_stated", confidence=90)
    services.add_fact(user=users["rep_ana"], card=org, item_key="employee_count", value=55, source_key="customer_stated", confidence=95)
    response = ana.post(reverse("card-verify-fact", args=[org.id, first.id]), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="profile"' in html and 'hx-swap-oob="true"' in html
    org.refresh_from_db()
    assert org.profile["employee_count"]["v"] == "40" and org.profile["employee_count"]["ok"] is True


def test_a_fact_of_another_card_cannot_be_verified_through_this_card(ana: Client, users: Any, make_org: Any) -> None:
    mine, other = make_org(name="Mine SA"), make_org(name="Other SA")
    fact = services.add_fact(user=users["rep_ana"], card=other, item_key="employee_count", value=12, source_key="customer_stated")
    response = ana.post(reverse("card-verify-fact", args=[mine.id, fact.id]))
    assert response.status_code == 404
    assert Fact.objects.get(pk=fact.pk).verified is False


def test_a_fact_on_a_card_out_of_reach_answers_404(ana: Client, users: Any, make_org: Any) -> None:
    foreign = make_org(owner="rep_bo_other_team", name="South SA")
    fact = services.add_fact(user=users["rep_bo_other_team"], card=foreign, item_key="employee_count", value=3, source_key="customer_stated")
    assert ana.post(reverse("card-verify-fact", args=[foreign.id, fact.id])).status_code == 404
    assert Fact.objects.get(pk=fact.pk).verified is False


def test_an_employment_is_recorded_from_the_person_page(ana: Client, make_org: Any, make_person: Any) -> None:
    org = make_org(name="Aceros del Norte")
    person = make_person(given_name="Lucía", family_name="Ramos")
    choices = ana.post(reverse("organization-choices"), {"job-organization_q": "aceros"}, headers=HTMX).content.decode()
    assert f'value="{org.id}"' in choices
    response = ana.post(
        reverse("card-add-employment", args=[person.id]),
        {"job-organization_q": "aceros", "job-organization": org.id, "job-title": "Jefa de compras",
         "job-level": "decision", "job-function": "procurement_finance", "job-started_on": "2024-02-01"},
    )
    assert response.status_code == 302
    job = Employment.objects.get(person=person)
    assert (job.organization_id, job.title, job.level) == (org.id, "Jefa de compras", "decision")


def test_an_employment_at_an_organisation_out_of_reach_is_refused(ana: Client, make_org: Any, make_person: Any) -> None:
    foreign = make_org(owner="rep_bo_other_team", name="Aceros del Sur")
    person = make_person(given_name="Lucía", family_name="Ramos")
    assert f'value="{foreign.id}"' not in ana.post(reverse("organization-choices"), {"job-organization_q": "aceros"}).content.decode()
    response = ana.post(reverse("card-add-employment", args=[person.id]), {"job-organization": foreign.id})
    assert response.status_code == 422
    assert not Employment.objects.filter(person=person).exists()


def test_an_employment_ending_before_it_starts_is_refused_with_the_field_named(ana: Client, make_org: Any, make_person: Any) -> None:
    org = make_org(name="Aceros del Norte")
    person = make_person(given_name="Lucía", family_name="Ramos")
    response = ana.post(
        reverse("card-add-employment", args=[person.id]),
        {"job-organization": org.id, "job-organization_q": "aceros", "job-started_on": "2024-02-01", "job-ended_on": "2023-01-01"},
    )
    assert response.status_code == 422
    assert "The end date is before the start date." in response.content.decode()
    assert not Employment.objects.filter(person=person).exists()


def test_the_owner_shares_a_card_with_a_colleague_of_another_team_who_then_sees_it(
    ana: Client, users: Any, make_org: Any
) -> None:
    org = make_org(name="Compartida SA")
    bo = Client()
    bo.force_login(users["rep_bo_other_team"])
    assert bo.get(reverse("card-detail", args=[org.id])).status_code == 404
    response = ana.post(reverse("card-share", args=[org.id]), {"share-user": users["rep_bo_other_team"].id})
    assert response.status_code == 302
    assert bo.get(reverse("card-detail", args=[org.id])).status_code == 200
    share = Share.objects.get(card=org)
    ana.post(reverse("card-unshare", args=[org.id, share.id]))
    assert bo.get(reverse("card-detail", args=[org.id])).status_code == 404


def test_a_share_naming_both_a_colleague_and_a_team_is_refused(ana: Client, users: Any, make_org: Any) -> None:
    from rapport.accounts.models import Team

    org = make_org(name="Compartida SA")
    south = Team.objects.get(name="South")
    response = ana.post(reverse("card-share", args=[org.id]), {"share-user": users["rep_bo_other_team"].id, "share-team": south.id})
    assert response.status_code == 422
    assert not Share.objects.filter(card=org).exists()


def test_a_team_colleague_who_is_not_the_owner_sees_no_sharing_controls_and_cannot_share(
    users: Any, make_org: Any
) -> None:
    org = make_org(name="De Ana SA")
    ben = Client()
    ben.force_login(users["rep_ben"])
    assert 'id="sharing"' not in ben.get(reverse("card-detail", args=[org.id])).content.decode()
    response = ben.post(reverse("card-share", args=[org.id]), {"share-user": users["rep_bo_other_team"].id})
    assert response.status_code == 403
    assert not Share.objects.filter(card=org).exists()


def test_a_person_reference_shows_the_name_to_those_who_see_the_person_and_nothing_to_others(
    users: Any, make_org: Any, make_person: Any
) -> None:
    from rapport.cards.selectors import facts_of, profile_of
    from rapport.catalog import selectors as catalog

    ref = next(i for i in catalog.items().values() if i.type == "person" and i.applies_to in ("any", "organization") and i.sensitivity in ("public", "internal"))
    org = make_org(name="Referencias SA")
    boss = make_person(given_name="Elena", family_name="Secreta", owner="rep_bo_other_team")
    services.add_fact(user=users["admin"], card=org, item_key=ref.key, value=boss.id, source_key="customer_stated")
    admin_view = {v.item.key: v.display for v in profile_of(users["admin"], org)}
    ana_view = {v.item.key: v.display for v in profile_of(users["rep_ana"], org)}
    assert admin_view[ref.key] == "Elena Secreta"
    assert "Secreta" not in ana_view[ref.key] and str(boss.id) not in ana_view[ref.key]
    assert "Secreta" not in getattr(facts_of(users["rep_ana"], org)[0], "display")
