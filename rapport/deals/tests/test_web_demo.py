"""The demo fills the board and a deal page with deals that look real."""

from typing import Any


def test_the_demo_opens_a_dozen_deals_over_every_step_with_one_won_and_one_lost(db: Any) -> None:
    from django.test import Client

    from rapport.accounts.models import User
    from rapport.cards.demo import generate
    from rapport.deals.models import Deal

    generate(organizations=25, people=120, seed=7)
    deals = Deal.objects.all()
    assert deals.count() == 12
    assert set(deals.values_list("step", flat=True)) == {"analyse", "build_trust", "discover_needs", "present_value", "win_commitment", "follow_up"}
    assert deals.filter(status="won").count() == 1 and deals.filter(status="lost").count() == 1
    assert deals.filter(competitors__isnull=False).exists() and deals.filter(negotiation__isnull=False).exists()
    assert deals.filter(contacts__isnull=False).exists()
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    assert client.get("/deals/?owner=all").content.decode().count('id="deal-card-') == 11  # the lost one is off the board
    rich = deals.filter(step="win_commitment").first()
    assert rich is not None and client.get(f"/deals/{rich.pk}/").status_code == 200
