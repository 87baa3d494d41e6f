"""Demo decision units: the demo data calls ``add_decision_units`` once the people exist."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone, translation

from rapport.cards.demo import working_time
from rapport.cards.models import Card, Employment

CARES_ABOUT = {
    "es": ("Plazos de entrega", "Precio por volumen", "Fiabilidad del servicio técnico", "Formación del personal", "Condiciones de pago"),
    "zh-hans": ("交货期", "批量价格", "技术服务的可靠性", "员工培训", "付款条件"),
    "ro": ("Termene de livrare", "Prețul pe volum", "Fiabilitatea service-ului", "Instruirea personalului", "Condiții de plată"),
    "en": ("Delivery times", "Volume pricing", "Reliable technical service", "Staff training", "Payment terms"),
}
GIFTS = {
    "es": ("Calendario y bolígrafo", "Comida de negocios", "Juego de té"),
    "zh-hans": ("台历和钢笔", "商务午餐", "茶具"),
    "ro": ("Calendar și pix", "Prânz de afaceri", "Set de ceai"),
    "en": ("Calendar and pen", "Business lunch", "Tea set"),
}
ROLE_OF_FUNCTION = {"technical": "specifier", "procurement_finance": "evaluator", "user_department": "user"}
LEVEL_WEIGHT = {"decision": 5, "management": 3, "operational": 1, "": 1}


def add_decision_units(*, organizations: list[tuple[Card, Any, Any]], seed: int = 42, limit: int = 8) -> int:
    """Decision units for the organisations with most staff (up to ``limit``), with roles,
    influence, attitudes, a coach in most, relationships, stages and styles. Returns how many."""
    from rapport.relationships import services

    rng = random.Random(seed)
    today = timezone.localdate()
    staffed = []
    for org, market, owner in organizations:
        jobs = list(Employment.objects.filter(organization=org, ended_on__isnull=True).select_related("person").order_by("id"))
        if len(jobs) >= 3:
            staffed.append((len(jobs), org, market, owner, jobs))
    staffed.sort(key=lambda t: (-t[0], t[1].pk))
    made = 0
    for index, (_n, org, market, owner, jobs) in enumerate(staffed[:limit]):
        jobs = jobs[:9]
        weights = [LEVEL_WEIGHT.get(j.level, 1) * rng.uniform(0.7, 1.3) for j in jobs]
        shares = [int(w / sum(weights) * 100) for w in weights]
        shares[0] += 100 - sum(shares)  # whole percents that add up to exactly 100
        decision_makers = [j for j in jobs if j.level == "decision"][:1] or [jobs[0]]
        coach_pool = [j for j in jobs if j.level != "decision"]
        coach = rng.choice(coach_pool) if coach_pool and rng.random() < 0.75 else None
        cares = CARES_ABOUT.get(getattr(market, "language", "en"), CARES_ABOUT["en"])
        for job, share in zip(jobs, shares):
            roles = []
            if job in decision_makers:
                roles.append("decision_maker")
            if job.function in ROLE_OF_FUNCTION:
                roles.append(ROLE_OF_FUNCTION[job.function])
            if job is jobs[-1]:
                roles.append("initiator")
            attitude = "supporter" if job is coach else rng.choice(["supporter", "supporter", "neutral", "neutral", "opponent"])
            if job in decision_makers and index < 2:
                # The largest unit shows a decision maker on our side, the next one a decision maker to win over.
                attitude = "supporter" if index == 0 else "neutral"
            services.add_member(user=owner, organization_id=org.pk, data={
                "person": job.person_id, "roles": roles, "influence": share, "attitude": attitude,
                "coach": job is coach, "cares_about": rng.choice(cares),
            })
            with translation.override(getattr(market, "language", "en")):  # activity texts in the market's language
                _relationship_state(services, rng, owner, job.person, today)
        top = decision_makers[0]
        for job in jobs:
            if job is not top and job.level in ("management", "operational") and rng.random() < 0.8:
                services.add_relationship(user=owner, data={"from_person": job.person_id, "to_person": top.person_id, "kind": "reports_to", "strength": 3})
        pairs = [(a, b) for i, a in enumerate(jobs) for b in jobs[i + 1:]]
        for kind in ("friend", "rival", "influences"):
            if pairs and rng.random() < 0.8:
                a, b = pairs.pop(rng.randrange(len(pairs)))
                try:
                    services.add_relationship(user=owner, data={"from_person": a.person_id, "to_person": b.person_id, "kind": kind, "strength": rng.randint(1, 3)})
                except Exception:  # the pair already has this tie: skip it
                    continue
        made += 1
    if made:
        _gifts_and_departures(services, rng, [t for t in staffed[:limit]])
    return made


def _gifts_and_departures(services: Any, rng: random.Random, units: list[Any]) -> None:
    """A gift policy, a few gifts within it, and in one unit a coach who has since left."""
    from rapport.accounts.models import User
    from rapport.relationships.models import GiftPolicy, Member

    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    if admin is not None and not GiftPolicy.objects.exists():
        services.set_gift_policy(user=admin, data={"currency": "EUR", "per_gift_limit": "60", "per_contact_year_limit": "150"})
    for _n, _org, market, owner, jobs in units[:4]:
        person = rng.choice(jobs).person
        given = timezone.localtime(working_time(rng, days_ago=rng.randint(10, 200), now=timezone.now())).date()
        services.record_gift(user=owner, person_id=person.pk, data={
            "kind": rng.choice(["gift", "hospitality"]),
            "description": rng.choice(GIFTS.get(getattr(market, "language", "en"), GIFTS["en"])),
            "value": rng.choice([15, 25, 40]), "given_on": given.isoformat(),
        })
    # The first unit after the largest that has a coach: a coach who left is the warning to show.
    for _n, org, _market, _owner, _jobs in units[1:]:
        coach = Member.objects.filter(unit__organization=org, is_coach=True).first()
        if coach is not None:
            Employment.objects.filter(organization=org, person_id=coach.person_id).update(
                ended_on=timezone.localdate() - dt.timedelta(days=rng.randint(5, 60))
            )
            break


def _relationship_state(services: Any, rng: random.Random, owner: Any, person: Card, today: dt.date) -> None:
    order = ["acquainted", "engaged", "trusted", "ally"]
    target = rng.choice(["acquainted", "acquainted", "engaged", "engaged", "trusted", "ally"])
    typical = {"acquainted": "office_visit", "engaged": "meal", "trusted": "social_event", "ally": "information"}
    for stage in order[: order.index(target) + 1]:
        when = working_time(rng, days_ago=rng.randint(5, 300), now=timezone.now())
        services.log_relationship_activity(user=owner, person_id=person.pk, data={"typical": typical[stage], "occurred_at": when.isoformat()})
    services.set_stage(user=owner, person_id=person.pk, stage=target)
    services.set_style(user=owner, person_id=person.pk, style=rng.choice(["analytical", "amiable", "expressive", "driver"]))


def large_unit(*, owner: Any, people: int = 300, edges: int = 1000, seed: int = 7) -> Card:
    """One organisation whose unit holds ``people`` people (30 of them employed at three
    partner organisations and linked from outside) and ``edges`` relationships, written in
    bulk: the size the relationship map must stay usable at. Returns the organisation."""
    from rapport.cards.models import Kind
    from rapport.cards.services import create_organization
    from rapport.relationships.models import DecisionUnit, Member, Relationship

    rng = random.Random(seed)
    org = create_organization(user=owner, data={"name": "Grupo Grande S.A."})
    partners = [create_organization(user=owner, data={"name": f"Partner {i}"}) for i in range(3)]
    cards = Card.objects.bulk_create(
        Card(kind=Kind.PERSON, display_name=f"Person {i:04d}", sort_name=f"person {i:04d}", owner=owner) for i in range(people)
    )
    outside = min(30, people // 10)
    levels = ["decision"] * 10 + ["management"] * 60 + ["operational"] * max(0, people - 70)
    Employment.objects.bulk_create(
        Employment(person=c, organization=org if i < people - outside else partners[i % 3], level=levels[i % len(levels)])
        for i, c in enumerate(cards)
    )
    unit = DecisionUnit.objects.create(organization=org)
    members = cards[: people - outside]
    Member.objects.bulk_create(
        Member(unit=unit, person=c, level=levels[i % len(levels)], influence=rng.randint(0, 3),
               attitude=rng.choice(["supporter", "neutral", "opponent"]), is_coach=i == 5)
        for i, c in enumerate(members)
    )
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        a, b = rng.choice(members), rng.choice(cards)
        if a.pk != b.pk:
            pairs.add((a.pk, b.pk))
    kinds = ["reports_to", "influences", "friend", "rival", "family"]
    Relationship.objects.bulk_create(
        Relationship(from_person_id=a, to_person_id=b, kind=rng.choice(kinds), strength=rng.randint(1, 3)) for a, b in sorted(pairs)
    )
    return org
