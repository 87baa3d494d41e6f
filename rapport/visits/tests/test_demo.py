"""The demo gives every rep a day of visits to route, a history to report on and audits to compare."""

from typing import Any


def test_the_demo_plans_todays_visits_and_reports_ten_weeks_of_history(db: Any) -> None:
    from django.test import Client
    from django.utils import timezone

    from rapport.accounts.models import User
    from rapport.cards.demo import generate
    from rapport.visits.models import PriceObservation, Promise, Site, StartPoint, Visit

    generate(organizations=25, people=60, seed=7)
    today = timezone.localdate()
    assert Visit.objects.filter(planned_on=today, status="planned").exists()
    assert Visit.objects.filter(status="done").count() >= 20
    assert PriceObservation.objects.exists() and Promise.objects.filter(kept_on__isnull=False).exists()
    assert Site.objects.filter(latitude__isnull=False).exists() and StartPoint.objects.exists()
    rep = User.objects.filter(visits__planned_on=today).distinct().first()
    assert rep is not None
    client = Client()
    client.force_login(rep)
    page = client.get("/visits/")
    assert page.status_code == 200 and page.content.decode().count('class="visit-item') >= 1
    visit = Visit.objects.filter(owner=rep, planned_on=today).first()
    assert visit is not None and client.get(f"/visits/{visit.pk}/reflection/").status_code == 200
