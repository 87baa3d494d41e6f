"""The reflection page before a visit (``/visits/<pk>/reflection/``) for a customer with five
years of visit history: as its selector answers it, as Django's test client renders it, and as
a browser gets it from a real server.

    python -m bench.visits_reflection [--organizations 3000] [--years 5] [--samples 50]
                                      [--db sqlite|postgres] [--reuse]

Creates the world of ``bench.cards`` (teams, managers, reps; ``--organizations`` organisation
cards bulk loaded without facts), 40 products (half ours, priced on an EUR list with a retail
policy band, half competitors'), then, for one rep's customer (the bench customer) and
``--others`` more of the same rep's customers, ``--years`` years of visits, ``--per-week``
a week, each reported (status done, checked in and out, ``reported_at`` set, owner and team
copies of the card as the services write them): two objectives with results, two promises (one
by us, one by them: nearly all old ones kept, on time or late, some recent ones open), the shop
checklist, now and then the manager's instructions with whether they were carried out, and on
most visits a price audit (about ten products, ours and competitors') and a stock audit (about
ten products). ``--background-customers`` further customers of every team get a visit a month
with the same kinds of rows, so the tables are not the bench customer's alone. Each customer
has weekly (bench customer) or monthly orders with their lines, delivered a few days later,
and an invoice per order: paid, except the last month's (not yet due) and a few overdue ones.
The bench customer has a decision unit of eight people, each with a relationship stage and a
communication style. Rows are inserted in bulk (``bulk_create``), not through the services;
the visits' timeline activities are not written (the reflection does not read them). Last, a
visit today to the bench customer is planned through ``services.create_visit``, with the
manager's instructions.

Measured for the bench customer's rep, ``--samples`` times each after a warm-up:
``selectors.reflection`` (the visit fetched once through ``get_visit``), the whole page through
Django's test client, and the whole page through a real server (``waitress`` in a subprocess
on the same database, a real session cookie, sequential GETs over one kept-open HTTP
connection, the body read to the end). Also: the page's SQL queries, the slowest of them with
their time and (SQLite) their query plans.
Target: the page p95 ≤ 100 ms. Results: bench/results/visits_reflection.json (PostgreSQL:
visits_reflection-postgres.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import http.client
import os
import random
import socket
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from bench import common

TARGETS = {"reflection_page_p95_ms": 100}
PURPOSE = "Season review before the spring campaign"
CATEGORIES = ("Paint", "Primers", "Varnish", "Brushes", "Rollers", "Tape", "Solvents", "Fillers")
BRANDS_OURS = ("Rapport", "Rapport Pro")
BRANDS_RIVAL = ("Colorex", "Valvo", "Pintura Sur", "Generic")
OBJECTIVES = ("bigger_quantity", "new_products", "collect_payment", "communicate_policy", "more_varieties")
WITH_AMOUNT = {"bigger_quantity", "new_products", "collect_payment", "more_varieties"}
RESULTS = (("met", 6), ("partly", 3), ("not_met", 2))
OURS_TEXT = ("Send the new catalogue", "Bring samples of the new primer", "Confirm the delivery date",
             "Check the credit note", "Send the price list for spring")
THEIRS_TEXT = ("Pay the overdue invoice", "Send the season's order", "Make room for the new display",
               "Call back about the promotion", "Send their stock figures")
INSTRUCTIONS = ("Ask for the overdue payment before taking a new order.",
                "Present the new varnish line to the purchasing lead.",
                "Check that the display is still in the window.")
TITLES = ("Owner", "Purchasing lead", "Shop manager", "Accountant", "Warehouse lead", "Sales assistant",
          "Painter (key customer)", "Deputy manager")


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


# --- data ------------------------------------------------------------------------------------------


def create_catalog(rng: random.Random, start: dt.date) -> list[Any]:
    from rapport.commerce.models import Price, PriceList, Product

    products = []
    for i in range(40):
        ours = i < 20
        products.append(Product(sku=f"RF-{'O' if ours else 'C'}-{i:03d}", name=f"{'Our' if ours else 'Rival'} product {i}",
                                category=rng.choice(CATEGORIES), brand=rng.choice(BRANDS_OURS if ours else BRANDS_RIVAL),
                                is_ours=ours))
    Product.objects.bulk_create(products)
    products = list(Product.objects.filter(sku__startswith="RF-").order_by("id"))
    price_list = PriceList.objects.create(name="EUR", currency="EUR", valid_from=start - dt.timedelta(days=30))
    prices = []
    for p in products:
        if p.is_ours:
            list_price = Decimal(rng.randint(400, 9000)) / 100
            prices.append(Price(price_list=price_list, product=p, list_price=list_price,
                                purchase_price=(list_price * Decimal("0.9")).quantize(Decimal("0.01")),
                                min_retail=(list_price * Decimal("1.1")).quantize(Decimal("0.01")),
                                max_retail=(list_price * Decimal("1.45")).quantize(Decimal("0.01")),
                                recommended_retail=(list_price * Decimal("1.25")).quantize(Decimal("0.01"))))
    Price.objects.bulk_create(prices)
    return products


class History:
    """Reported visits with their objectives, promises, checklist and audits, and orders and
    invoices, for one customer at a time; written in bulk."""

    def __init__(self, rng: random.Random, products: list[Any], manager: Any, start: dt.date, today: dt.date) -> None:
        from rapport.visits import content

        self.rng = rng
        self.products = products
        self.base = {p.pk: Decimal(rng.randint(400, 9000)) / 100 for p in products}
        self.manager = manager
        self.start, self.today = start, today
        self.checks = list(content.retail_checks())
        self.counts: dict[str, int] = {}

    def _add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def visits(self, card: Any, rep: Any, team: Any, days: list[dt.date], audit_share: float) -> None:
        from django.db import transaction
        from django.utils import timezone

        from rapport.visits.models import Objective, PriceObservation, Promise, RetailCheck, StockObservation, Visit

        rng = self.rng
        tz = timezone.get_current_timezone()
        owner_copy, team_copy = card.owner_id or 0, card.team_id
        # A customer's assortment: the products counted at this shop (ours and competitors').
        ours = [p for p in self.products if p.is_ours]
        rivals = [p for p in self.products if not p.is_ours]
        assortment = rng.sample(ours, 10) + rng.sample(rivals, 6)
        rows = []
        for n, day in enumerate(days):
            check_in = dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))), tz)
            check_out = check_in + dt.timedelta(minutes=rng.choice((30, 45, 60, 75)))
            outcome = _weighted(rng, (("met", 6), ("partly", 3), ("not_met", 1)))
            instructed = n % 4 == 3
            rows.append(Visit(
                card=card, planned_on=day, window_start=dt.time(9, 0), window_end=dt.time(18, 0), duration_minutes=45, position=1,
                status="done", owner=rep, team=team, tools={"price_lists": True, "samples": rng.random() < 0.8},
                purpose="Regular visit", instructions=rng.choice(INSTRUCTIONS) if instructed else "",
                instructions_by=self.manager if instructed else None,
                instructions_at=check_in - dt.timedelta(days=2) if instructed else None,
                instructions_result=_weighted(rng, RESULTS) if instructed else "",
                instructions_note="The buyer asked for a week" if instructed and rng.random() < 0.3 else "",
                checked_in_at=check_in, checked_out_at=check_out, outcome=outcome,
                outcome_note="" if outcome == "met" else "The buyer was away",
                strengths="Brought the safety stock worked out", improve="Prepare the answer on price better",
                summary="Went through the season's order with the purchasing lead. " * rng.randint(1, 4),
                reported_at=check_out + dt.timedelta(minutes=rng.randint(5, 240)),
                card_owner_id=owner_copy, card_team_id=team_copy, created_by=rep,
                created_at=check_in - dt.timedelta(days=rng.randint(1, 7)), updated_at=check_out,
            ))
        with transaction.atomic():
            visits = Visit.objects.bulk_create(rows, batch_size=1000)
            objectives, promises, checks, prices, stock = [], [], [], [], []
            for visit in visits:
                day = visit.planned_on
                for position, kind in enumerate(rng.sample(OBJECTIVES, 2)):
                    result = _weighted(rng, RESULTS)
                    target = Decimal(rng.choice((500, 800, 1200, 2500))) if kind in WITH_AMOUNT else None
                    share = {"met": Decimal(1), "partly": Decimal("0.5"), "not_met": Decimal(0)}[result]
                    objectives.append(Objective(
                        visit=visit, kind=kind, target_amount=target, currency="EUR" if target is not None else "",
                        result=result, result_note="" if result == "met" else "The buyer was away",
                        achieved_amount=(target * share).quantize(Decimal("0.01")) if target is not None else None, position=position))
                for by, texts in (("us", OURS_TEXT), ("them", THEIRS_TEXT)):
                    due = day + dt.timedelta(days=rng.randint(3, 14))
                    age = (self.today - due).days
                    # Nearly every old promise was kept (on time or late); a few recent ones are open.
                    kept_share = 0.0 if age < 0 else 0.6 if age < 30 else 0.985
                    kept = None
                    if rng.random() < kept_share:
                        kept = min(due + dt.timedelta(days=rng.choice((-3, -1, 0, 0, 0, 1, 2, 7))), self.today)
                    promises.append(Promise(card=card, visit=visit, by=by, text=rng.choice(texts), due_on=due, kept_on=kept,
                                            owner=rep, card_owner_id=owner_copy, card_team_id=team_copy, created_by=rep,
                                            created_at=visit.reported_at or visit.created_at))
                for item in self.checks:
                    checks.append(RetailCheck(visit=visit, item=item, state=rng.choices(["ok", "not_ok", "na"], weights=(6, 2, 1))[0]))
                if rng.random() < audit_share:
                    counted = rng.sample(assortment, min(len(assortment), rng.randint(9, 11)))
                    for p in counted:
                        retail = (self.base[p.pk] * Decimal(rng.uniform(1.0, 1.6))).quantize(Decimal("0.01"))
                        purchase = (self.base[p.pk] * Decimal(rng.uniform(0.85, 0.98))).quantize(Decimal("0.01"))
                        prices.append(PriceObservation(
                            visit=visit, card=card, product=p, observed_on=day, currency="EUR",
                            purchase_price=purchase if rng.random() < 0.8 else None, retail_price=retail,
                            on_promotion=rng.random() < 0.08, card_owner_id=owner_copy, card_team_id=team_copy))
                    for p in rng.sample(assortment, min(len(assortment), rng.randint(9, 11))):
                        stock.append(StockObservation(visit=visit, card=card, product=p, observed_on=day,
                                                      quantity=Decimal(rng.choice((0, 2, 4, 6, 12, 18, 30, 60))),
                                                      card_owner_id=owner_copy, card_team_id=team_copy))
            Objective.objects.bulk_create(objectives, batch_size=2000)
            Promise.objects.bulk_create(promises, batch_size=2000)
            RetailCheck.objects.bulk_create(checks, batch_size=2000)
            PriceObservation.objects.bulk_create(prices, batch_size=2000)
            StockObservation.objects.bulk_create(stock, batch_size=2000)
        self._add("visits", len(visits))
        self._add("objectives", len(objectives))
        self._add("promises", len(promises))
        self._add("retail_checks", len(checks))
        self._add("price_observations", len(prices))
        self._add("stock_observations", len(stock))

    def orders(self, card: Any, rep: Any, every_days: int, *, overdue: int) -> None:
        """Orders every ``every_days`` days over the period, delivered a few days later, an
        invoice for each: paid, except the last month's and ``overdue`` older ones."""
        from django.db import transaction

        from rapport.commerce.models import Invoice, Order, OrderLine

        rng = self.rng
        ours = [p for p in self.products if p.is_ours]
        days = []
        day = self.start + dt.timedelta(days=rng.randint(0, every_days - 1))
        while day < self.today - dt.timedelta(days=1):
            days.append(day)
            day += dt.timedelta(days=every_days + rng.randint(-2, 2))
        with transaction.atomic():
            orders, line_sets = [], []
            for day in days:
                arrives = day + dt.timedelta(days=rng.randint(2, 5))
                delivered: dt.date | None = arrives if arrives <= self.today else None
                lines = []
                for position, p in enumerate(rng.sample(ours, rng.randint(3, 8))):
                    qty = Decimal(rng.choice((6, 12, 24, 48)))
                    unit = self.base[p.pk]
                    lines.append(OrderLine(position=position, product=p, quantity=qty, unit_price=unit,
                                           amount=(qty * unit).quantize(Decimal("0.01"))))
                total = sum((ln.amount for ln in lines), Decimal(0))
                orders.append(Order(card=card, status="delivered" if delivered else "confirmed", currency="EUR", ordered_on=day,
                                    delivered_on=delivered, total=total, created_by=rep))
                line_sets.append(lines)
            orders = Order.objects.bulk_create(orders, batch_size=1000)
            all_lines = []
            for order, lines in zip(orders, line_sets):
                for ln in lines:
                    ln.order = order
                    all_lines.append(ln)
            OrderLine.objects.bulk_create(all_lines, batch_size=2000)
            billed = [o for o in orders if o.delivered_on]
            late = set(rng.sample(range(max(0, len(billed) - 12)), min(overdue, max(0, len(billed) - 12))))
            invoices = []
            for n, order in enumerate(billed):
                issued: dt.date = order.delivered_on  # type: ignore[assignment]  # billed orders are delivered
                due = issued + dt.timedelta(days=30)
                amount = order.total
                if due >= self.today:  # not yet due
                    open_amount = amount
                elif n in late:  # overdue: unpaid or paid in part
                    open_amount = amount if rng.random() < 0.6 else (amount * Decimal("0.4")).quantize(Decimal("0.01"))
                else:
                    open_amount = Decimal(0)
                invoices.append(Invoice(card=card, order=order, kind="invoice", external_id=f"F{card.pk}-{n:05d}", currency="EUR",
                                        issued_on=issued, due_on=due, amount=amount, open_amount=open_amount,
                                        is_open=open_amount > 0, owner_id=card.owner_id or 0, team_id=card.team_id, created_by=rep))
            Invoice.objects.bulk_create(invoices, batch_size=1000)
        self._add("orders", len(orders))
        self._add("order_lines", len(all_lines))
        self._add("invoices", len(invoices))
        self._add("open_invoices", sum(1 for i in invoices if i.is_open))


def _visit_days(rng: random.Random, start: dt.date, today: dt.date, per_week: float) -> list[dt.date]:
    """Weekdays from ``start`` to yesterday, ``per_week`` a week on average (a few weeks missed)."""
    days = []
    monday = start - dt.timedelta(days=start.weekday())
    while monday < today:
        n = int(per_week) + (1 if rng.random() < per_week - int(per_week) else 0)
        if rng.random() < 0.04:  # holidays
            n = 0
        for weekday in sorted(rng.sample(range(5), min(n, 5))):
            day = monday + dt.timedelta(days=weekday)
            if start <= day < today:
                days.append(day)
        monday += dt.timedelta(days=7)
    return days


def create_decision_unit(rng: random.Random, customer: Any, rep: Any, admin: Any) -> int:
    from rapport.cards.bulk import bulk_create_cards
    from rapport.cards.models import Employment
    from rapport.relationships.models import BuyingRole, ContactProfile, DecisionUnit, Member, RelationshipStage, Style

    given = ("Lucía", "Javier", "Marta", "Andrés", "Elena", "Pablo", "Carmen", "Diego")
    family = ("García", "Martín", "López", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz")
    rows = [{"kind": "person", "given_name": g, "family_name": f, "owner": rep.id, "team": customer.team_id,
             "organization": customer.pk, "title": t} for g, f, t in zip(given, family, TITLES)]
    bulk_create_cards(user=admin, rows=rows)
    people = list(Employment.objects.filter(organization=customer).order_by("id").values_list("person_id", flat=True))
    unit = DecisionUnit.objects.create(organization=customer)
    roles = [[BuyingRole.DECISION_MAKER], [BuyingRole.INITIATOR, BuyingRole.EVALUATOR], [BuyingRole.USER], [BuyingRole.EVALUATOR],
             [BuyingRole.SPECIFIER], [BuyingRole.USER], [BuyingRole.USER, BuyingRole.SPECIFIER], []]
    influence = (40, 20, 5, 10, 10, 5, 5, 5)
    Member.objects.bulk_create([Member(unit=unit, person_id=pid, roles=[str(r) for r in roles[i]], influence=influence[i],
                                       attitude=rng.choice(("supporter", "neutral", "neutral", "opponent")),
                                       is_coach=i == 1) for i, pid in enumerate(people)])
    stages, styles = list(RelationshipStage.values), list(Style.values)
    ContactProfile.objects.bulk_create([ContactProfile(person_id=pid, stage=rng.choice(stages), style=rng.choice(styles))
                                        for pid in people])
    return len(people)


def plan_today(customer: Any, rep: Any, manager: Any) -> Any:
    from django.utils import timezone

    from rapport.visits import services

    visit = services.create_visit(user=rep, data={
        "organization": customer.pk, "date": timezone.localdate().isoformat(), "purpose": PURPOSE, "duration_minutes": 60,
        "tools": ["brochures", "price_lists", "samples"],
        "objectives": [{"kind": "collect_payment", "target_amount": "2500", "currency": "EUR"},
                       {"kind": "new_products", "target_amount": "1200", "currency": "EUR"},
                       {"kind": "communicate_policy"}],
    })
    return services.set_instructions(user=manager, visit=visit, text="Collect the overdue invoices before any new order.")


def build(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from bench import cards as card_bench
    from rapport.cards.models import Card

    rng = random.Random(args.seed)
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    print(f"creating {args.organizations:,} organisations ...", flush=True)
    figures["create_organizations"] = card_bench.create(args, world)
    today = timezone.localdate()
    start = today - dt.timedelta(days=round(365.25 * args.years))
    products = create_catalog(rng, start)
    team, _market, reps, manager = world.teams[0]
    rep = reps[0]
    history = History(rng, products, manager, start, today)
    mine = list(Card.objects.filter(kind="organization", owner=rep, archived_at__isnull=True).order_by("id")[:1 + args.others])
    customer, others = mine[0], mine[1:]
    print(f"creating {args.years} years of visits for the bench customer (card {customer.pk}) and {len(others)} others ...", flush=True)
    for card in mine:
        history.visits(card, rep, team, _visit_days(rng, start, today, args.per_week), args.audit_share)
        history.orders(card, rep, 7 if card is customer else 30, overdue=6 if card is customer else 1)
    bench_counts = dict(history.counts)
    print(f"  {bench_counts}", flush=True)
    taken = {c.pk for c in mine}
    background = [c for c in Card.objects.filter(kind="organization").order_by("?").values_list("id", flat=True)[:args.background_customers + len(taken)]
                  if c not in taken][:args.background_customers]
    print(f"creating a visit a month for {len(background)} background customers ...", flush=True)
    users = {u.pk: u for _t, _m, team_reps, _mgr in world.teams for u in team_reps}
    teams = {t.pk: t for t, *_ in world.teams}
    for card in Card.objects.filter(pk__in=background).order_by("id"):
        owner = users.get(card.owner_id) or rep
        history.visits(card, owner, teams.get(card.team_id), _visit_days(rng, start, today, 0.25), args.audit_share)
        history.orders(card, owner, 30, overdue=1)
    figures["rows"] = {"all_customers": history.counts, "bench_and_others": bench_counts}
    figures["decision_unit_people"] = create_decision_unit(rng, customer, rep, world.admin)
    visit = plan_today(customer, rep, manager)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(f"built in {figures['seconds']} s; today's visit {visit.pk}", flush=True)
    return figures


def todays_visit(world: Any) -> Any:
    """The planned visit today to the bench customer (planned again when the data set is older)."""
    from django.utils import timezone

    from rapport.visits.models import Visit

    team, _market, reps, manager = world.teams[0]
    visit = Visit.objects.filter(purpose=PURPOSE, owner=reps[0]).order_by("-planned_on", "-id").first()
    if visit is None:
        raise SystemExit("no bench visit in this database: run without --reuse first")
    if visit.planned_on != timezone.localdate():
        visit = plan_today(visit.card, reps[0], manager)
    return visit


# --- measures --------------------------------------------------------------------------------------


def _series(fn: Any, n: int, warm: int = 3) -> dict[str, Any]:
    for _ in range(warm):
        fn()
    wall, cpu = [], []
    for _ in range(n):
        started_cpu = time.process_time()
        wall.append(common.timed(fn)[0])
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {**common.percentiles(wall), "cpu": common.percentiles(cpu)}


def _queries(fn: Any) -> dict[str, Any]:
    """The SQL queries of one call: how many (``CaptureQueriesContext``), and what each costs in
    the database: every SELECT run again alone five times with its parameters, execute and
    fetch of all rows, the best time kept (the context's own times are rounded to a whole
    millisecond). The slowest come with their plans (SQLite). ``orm_and_python_ms`` is the
    call's time less its queries' replayed time: building the queries, making the objects, the
    Python around them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    captured: list[tuple[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(wrapper):
        wall = common.timed(fn)[0]
    timed: list[tuple[float, str, Any]] = []
    with connection.cursor() as cursor:
        for sql, params in captured:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                best = min(best, (time.perf_counter() - started) * 1000)
            timed.append((best, sql, params))
    rows = []
    for ms, sql, params in sorted(timed, key=lambda q: -q[0])[:6]:
        row: dict[str, Any] = {"ms": round(ms, 3), "sql": sql[:1500], "params": [str(p) for p in (params or [])][:20]}
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                row["plan"] = [str(r[-1]) for r in cursor.fetchall()]
        rows.append(row)
    sql_ms = sum(q[0] for q in timed)
    return {"count": len(ctx.captured_queries), "selects": len(timed), "sql_ms": round(sql_ms, 2), "wall_ms": round(wall, 2),
            "orm_and_python_ms": round(wall - sql_ms, 2), "slowest": rows,
            "all": [f"{ms:.3f} ms  {sql[:140]}" for ms, sql, _p in timed]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _process_cpu_ms(pid: int) -> float:
    """User and system CPU time of a process so far (Linux ``/proc``), in ms."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _session_cookie(user: Any) -> tuple[str, str]:
    """A real session of ``user`` in the session store, as a login writes it: (cookie name, key)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0] if settings.AUTHENTICATION_BACKENDS else \
        "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return settings.SESSION_COOKIE_NAME, str(store.session_key)


def measure_server(user: Any, path: str, samples: int, threads: int) -> dict[str, Any]:
    """The page from ``waitress`` in another process on the same database, over one kept-open
    HTTP/1.1 connection, as a browser's tab reloading it gets it."""
    port = _free_port()
    code = ("import django; django.setup(); import waitress; from rapport.wsgi import application; "
            f"waitress.serve(application, host='127.0.0.1', port={port}, threads={threads}, _quiet=True)")
    server = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ), cwd=str(common.ROOT))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start (exit code {server.poll()})") from None
                time.sleep(0.1)
        name, key = _session_cookie(user)
        headers = {"Cookie": f"{name}={key}", "Accept": "text/html", "Accept-Language": "en", "Connection": "keep-alive"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sizes: list[int] = []

        def get() -> None:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
            sizes.append(len(body))

        first = common.timed(get)[0]  # the server process's first request: imports, templates, connection
        for _ in range(4):
            get()
        cpu_before = _process_cpu_ms(server.pid)
        figures = _series(get, samples, warm=0)
        figures["server_cpu_mean_ms"] = round((_process_cpu_ms(server.pid) - cpu_before) / samples, 2)
        figures["client_cpu"] = figures.pop("cpu")  # this process's: the page's CPU is the server's
        connections = "one kept-open connection" if conn.sock is not None else "connection closed by the server"
        conn.close()
        return {**figures, "first_request_ms": round(first, 2), "bytes": sizes[-1], "threads": threads, "connection": connections}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def measure(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    from django.test import Client

    from rapport.visits import selectors
    from rapport.visits.models import Promise, Visit

    rep = world.teams[0][2][0]
    visit = todays_visit(world)
    card = visit.card
    path = f"/visits/{visit.pk}/reflection/"
    r = selectors.reflection(rep, selectors.get_visit(rep, visit.pk))
    figures: dict[str, Any] = {
        "visit": visit.pk, "customer": card.pk, "path": path,
        "customer_history": {
            "reported_visits": Visit.objects.filter(card=card, status="done").count(),
            "first_visit": str(Visit.objects.filter(card=card).order_by("planned_on").values_list("planned_on", flat=True).first()),
            "promises": Promise.objects.filter(card=card).count(),
            "open_promises": Promise.objects.filter(card=card, kept_on__isnull=True).count(),
        },
        "page_shows": {
            "our_promises": len(r.our_promises), "their_promises": len(r.their_promises), "open_invoices": len(r.invoices),
            "overdue": [[c, str(a)] for c, a in r.overdue_total], "people": len(r.people),
            "price_rows": len(r.findings.prices) if r.findings else None,
            "stock_lines": len(r.findings.inventory.lines) if r.findings else None,
            "previous_visit": str(r.previous.planned_on) if r.previous else None,
        },
    }
    gc.collect()
    gc.freeze()
    fetched = selectors.get_visit(rep, visit.pk)
    print("measuring the selector ...", flush=True)
    figures["selector_ms"] = _series(lambda: selectors.reflection(rep, fetched), args.samples)
    figures["selector_queries"] = _queries(lambda: selectors.reflection(rep, selectors.get_visit(rep, visit.pk)))
    client = Client()
    client.force_login(rep)

    def page() -> None:
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    print("measuring the page through the test client ...", flush=True)
    figures["test_client_ms"] = _series(page, args.samples)
    figures["page_queries"] = _queries(page)
    figures["page_bytes"] = len(client.get(path).content)
    print("measuring the page through a real server ...", flush=True)
    figures["server_ms"] = measure_server(rep, path, args.samples, args.threads)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.visits_reflection", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organizations", type=int, default=3000)
    parser.add_argument("--years", type=float, default=5)
    parser.add_argument("--per-week", type=float, default=2, help="visits a week to the bench customer and the others")
    parser.add_argument("--others", type=int, default=5, help="more customers of the same rep with the same history")
    parser.add_argument("--background-customers", type=int, default=300, help="customers of every team visited monthly")
    parser.add_argument("--audit-share", type=float, default=0.7, help="share of visits with a price and a stock audit")
    parser.add_argument("--db", choices=["sqlite", "postgres", "postgresql"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database and skip creation")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--progress-every", type=int, default=100_000)
    parser.add_argument("--cache-mb", type=int, default=256)
    parser.add_argument("--seed", type=int, default=53)
    args = parser.parse_args()
    args.db = "postgres" if args.db == "postgresql" else args.db
    # What bench.cards' loader reads: organisations only, without facts.
    args.people, args.facts_per_card, args.profile = 0, 0, False
    name = "visits_reflection" if args.db == "sqlite" else f"visits_reflection-{args.db}"
    common.setup(name, db=args.db, reuse=args.reuse)
    from bench import cards as card_bench
    from rapport.visits.models import Visit

    world = card_bench.build_world()
    figures: dict[str, Any] = {}
    if not (args.reuse and Visit.objects.filter(purpose=PURPOSE).exists()):
        figures["build"] = build(args, world)
    card_bench.settle(args.db)
    print("measuring ...", flush=True)
    figures["measure"] = m = measure(args, world)
    figures["verdict"] = {
        "selector_p50_ms": m["selector_ms"]["p50_ms"], "selector_p95_ms": m["selector_ms"]["p95_ms"],
        "test_client_p50_ms": m["test_client_ms"]["p50_ms"], "test_client_p95_ms": m["test_client_ms"]["p95_ms"],
        "server_p50_ms": m["server_ms"]["p50_ms"], "server_p95_ms": m["server_ms"]["p95_ms"],
        "server_cpu_mean_ms": m["server_ms"]["server_cpu_mean_ms"],
        "page_queries": m["page_queries"]["count"], "page_sql_ms": m["page_queries"]["sql_ms"],
        "load_average": [round(x, 2) for x in os.getloadavg()], "targets": TARGETS,
        "met": max(m["test_client_ms"]["p95_ms"], m["server_ms"]["p95_ms"]) <= TARGETS["reflection_page_p95_ms"],
    }
    print(figures["verdict"], flush=True)
    for q in m["page_queries"]["slowest"][:4]:
        print(f"  {q['ms']} ms: {q['sql'][:200]}", flush=True)
        for line in q.get("plan", []):
            print(f"      {line}", flush=True)
    path = common.write_results(name, parameters=vars(args), figures=figures, targets=TARGETS)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
