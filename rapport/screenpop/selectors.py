"""The 360° screen pop: who is calling, and the whole customer on one screen before answering.

A call comes with a number typed in any way ("+34 612 34 56 78", "0034612345678",
"612 345 678", "tel:+34-612-345-678"). It is read in the user's country (their time zone,
else ``RAPPORT_DEFAULT_REGION``) and looked up first as the exact E.164 number, then, when
nothing matches, by its national significant number alone — a caller ID without a country
code, or read in the wrong country, still finds the card.

Every look-up goes through the visibility policy: a number on a card the user may not see
runs the same queries and gets the same answer as a number nobody has.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.cards.models import Card, Kind, Phone
from rapport.core.errors import ValidationError
from rapport.core.visibility import scope_for, visible_to

MAX_MATCHES = 10  # a number or a name shared by more cards than this is narrowed by typing more
LAST_CONTACTS = 5
LAST_ORDERS = 5
PRODUCTS = 8
LIST_LIMIT = 10  # deals, promises, complaints, receivables, people shown per section
MIN_DIGITS = 5  # shorter is an extension or a typo, never a customer's number
_PHONE_LIKE = re.compile(r"^(?:tel:)?[\d\s()+.\-/]+$", re.IGNORECASE)


# --- reading the number ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """An incoming number: its E.164 form and its national significant number (digits)."""

    e164: str
    national: str
    region: str  # the country it was read in


def caller_region(user: Any, region: Any = None) -> str:
    """The country a number without a country code belongs to: the one asked, else the user's
    (from their time zone), else the server's default."""
    if isinstance(region, str) and re.fullmatch(r"[A-Za-z]{2}", region.strip()):
        return region.strip().upper()
    from rapport.agenda.selectors import home_region

    return home_region(user) or str(settings.RAPPORT_DEFAULT_REGION).upper()


def looks_like_phone(text: str) -> bool:
    return bool(_PHONE_LIKE.match(text.strip())) and sum(ch.isdigit() for ch in text) >= MIN_DIGITS


def parse_number(raw: Any, region: str, *, field_name: str = "phone") -> Number:
    """Reads a caller's number, or refuses it by field name (empty, too long, not a number)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError.single(field_name, _("Expected a phone number."))
    text = raw.strip()
    if len(text) > 60:
        raise ValidationError.single(field_name, _("A phone number has at most 60 characters."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError.single(field_name, _("This is not a phone number.")) from None
    national = str(number.national_number)
    if len(national) < MIN_DIGITS or len(national) > 15 or not number.country_code:
        raise ValidationError.single(field_name, _("This is not a phone number."))
    return Number(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        national=national,
        region=phonenumbers.region_code_for_number(number) or region,
    )


def _national_of(e164: str) -> str:
    try:
        return str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        return ""


# --- finding the cards -------------------------------------------------------------------------------


def _is_signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def card_ids_by_phone(user: Any, number: Number) -> list[int]:
    """The live cards the user may see that have this number: the exact E.164 number first
    (``phone_e164``), else the same national number in any country.

    Both queries run whatever the first one finds among cards out of reach, so a number on
    a card the user may not see costs exactly what an unknown number costs.
    """
    phones = Phone.objects.filter(e164=number.e164, card__archived_at__isnull=True)
    # Checked on each phone row's card, not "card IN (the visible cards)": that subquery would
    # read every card the user may see before looking at the one or two with this number.
    visibility = scope_for(user).card_q(prefix="card__", id_field="id") if _is_signed_in(user) else None
    if visibility is None:
        return []
    if visibility:
        phones = phones.filter(visibility)
    exact = list(phones.order_by("card_id").values_list("card_id", flat=True).distinct()[:MAX_MATCHES])
    if exact:
        return exact
    return _card_ids_by_national(user, number)


def _card_ids_by_national(user: Any, number: Number) -> list[int]:
    """Cards with a number whose national part is the same, in whatever country.

    Read from the search index, which keeps the national digits of every phone number as a
    term (``search.services.phone_terms``) with the card's owner, team and archived flag:
    one range of ``search_term_covering``, visibility included, no card read. The matches
    are then checked against the cards' numbers (a digits-only name word is also a term).
    """
    from rapport.search.models import Term
    from rapport.search.services import CONTACT_WEIGHT

    if not _is_signed_in(user):
        return []
    rows = Term.objects.filter(term=number.national, weight=CONTACT_WEIGHT, archived=False)
    visibility = scope_for(user).card_q(id_field="card_id")
    if visibility:
        rows = rows.filter(visibility)
    candidates = list(rows.order_by("card_id").values_list("card_id", flat=True).distinct()[:MAX_MATCHES * 2])
    if not candidates:
        return []
    found = {
        card_id for card_id, e164 in Phone.objects.filter(card_id__in=candidates).values_list("card_id", "e164")
        if _national_of(e164) == number.national
    }
    return sorted(found)[:MAX_MATCHES]


def cards_by_ids(user: Any, ids: list[int]) -> list[Card]:
    """The cards in the order given, with what a match line shows (phones, owner, employer)."""
    if not ids:
        return []
    order = {card_id: i for i, card_id in enumerate(ids)}
    cards = list(
        visible_to(user).filter(pk__in=ids).select_related("owner", "team").prefetch_related("phones", "emails")
    )
    cards.sort(key=lambda c: order[c.pk])
    return cards


@dataclass(frozen=True)
class Lookup:
    """What a screen pop found: by phone (with the number as read) or by name."""

    by: str  # "phone" or "name"
    query: str  # the E.164 number, or the name as typed
    region: str
    cards: list[Card]
    companies: dict[int, list[Any]] = field(default_factory=dict)  # person id -> where they work now

    @property
    def candidates(self) -> list[tuple[Card, list[Any]]]:
        return [(card, self.companies.get(card.pk, [])) for card in self.cards]


def find(user: Any, *, phone: Any = None, name: Any = None, region: Any = None) -> Lookup:
    """The cards a caller may be: by phone number, or by name (the search of the search box)."""
    from rapport.cards.selectors import current_companies

    read_in = caller_region(user, region)
    if phone is not None:
        number = parse_number(phone, read_in)
        cards = cards_by_ids(user, card_ids_by_phone(user, number))
        lookup = Lookup("phone", number.e164, number.region, cards)
    else:
        if not isinstance(name, str) or not name.strip():
            raise ValidationError.single("name", _("Type a name or a phone number."))
        if len(name) > 200:
            raise ValidationError.single("name", _("At most %(limit)s characters (got %(got)s).") % {"limit": 200, "got": len(name)})
        from rapport.search.selectors import search_cards

        cards = search_cards(user, name.strip(), limit=MAX_MATCHES)
        lookup = Lookup("name", name.strip(), read_in, cards)
    if len(lookup.cards) > 1:
        lookup.companies.update(current_companies(user, lookup.cards))
    return lookup


def find_text(user: Any, text: Any, *, region: Any = None) -> Lookup:
    """The search box of the pop page: a number when it looks like one, else a name."""
    value = text.strip() if isinstance(text, str) else ""
    if value and looks_like_phone(value):
        return find(user, phone=value, region=region)
    return find(user, name=value, region=region)


# --- the whole customer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bought:
    """A product the customer has bought: how often, how much, and when last."""

    product_id: int
    name: str
    orders: int
    quantity: Decimal
    last_on: dt.date


@dataclass(frozen=True)
class Receivable:
    invoice: Any  # commerce.Invoice
    days_overdue: int
    cell: str  # the collection-matrix cell of an overdue invoice, "" when not due yet
    cell_label: str


@dataclass(frozen=True)
class Relationship:
    """Our relationship with a contact and how to talk to them."""

    stage: str
    stage_label: str
    style: str
    style_label: str
    how_to_open: str
    emphasise: str
    avoid: str
    next_step: str


@dataclass(frozen=True)
class UnitWarning:
    organization_id: int
    organization: str
    code: str
    message: str


@dataclass
class Customer360:
    """Everything the screen pop shows of one card. For a person, the commercial record
    (deals, orders, receivables, promises, complaints) and the decision-unit warnings are
    those of the person and of the organisations they work at now."""

    card: Card
    companies: list[Any]  # cards.selectors.Company: where a person works now
    people: list[Any]  # cards.Employment: who works at an organisation (current first)
    relationship: Relationship | None
    contacts: list[Any]  # activities.Activity, newest first
    deals: list[Any]  # deals.Deal, open
    orders: list[Any]  # commerce.Order, newest first
    products: list[Bought]
    receivables: list[Receivable]
    overdue: list[tuple[str, Decimal]]  # (currency, overdue amount)
    credit: Any  # commerce.CreditProfile or None
    promises: list[Any]  # visits.Promise, open
    complaints: list[Any]  # aftersales.ServiceCase, open
    warnings: list[UnitWarning]
    tasks: list[Any]  # agenda.Task, open follow-ups on this card
    best_time: str
    customer_ids: list[int]


def customer_360(user: Any, card: Card) -> Customer360:
    """The 360° of a card the caller has already checked the user may see."""
    from rapport.agenda.selectors import best_time_of, visible_tasks
    from rapport.cards.selectors import current_companies, employments_of

    companies: list[Any] = []
    people: list[Any] = []
    if card.kind == Kind.PERSON:
        companies = current_companies(user, [card]).get(card.pk, [])[:3]
    else:
        today = timezone.localdate()
        jobs = employments_of(user, card)
        people = [j for j in jobs if j.ended_on is None or j.ended_on >= today][:LIST_LIMIT]
    # The employer the person buys for: its credit and decision unit (first of their jobs).
    # current_companies returned only organisations the user may see: no need to read the card
    # again to ask for its credit and decision unit by id.
    employer = Card(pk=companies[0].id, kind=Kind.ORGANIZATION, display_name=companies[0].name) if companies else None
    customer_ids = [card.pk, *(c.id for c in companies)]
    receivables, overdue = _receivables(user, customer_ids)
    return Customer360(
        card=card,
        companies=companies,
        people=people,
        relationship=_relationship(user, card) if card.kind == Kind.PERSON else None,
        contacts=_contacts(user, card),
        deals=_open_deals(user, customer_ids),
        orders=_orders(user, customer_ids),
        products=products_bought(user, customer_ids),
        receivables=receivables,
        overdue=overdue,
        credit=_credit(card, employer),
        promises=_promises(user, customer_ids),
        complaints=_complaints(user, customer_ids),
        warnings=_unit_warnings(user, card if card.kind == Kind.ORGANIZATION else employer),
        tasks=list(visible_tasks(user).filter(card=card, done_at__isnull=True).order_by("due_on", "id")[:LIST_LIMIT]),
        best_time=best_time_of(user, card),
        customer_ids=customer_ids,
    )


def _relationship(user: Any, person: Card) -> Relationship | None:
    """The contact's relationship stage and style, the coaching for the style and the stage's
    next step. Not ``relationships.selectors.contact_state``: that one also reads the
    evidence of every stage (up to 500 activities with their tags) for the preparation page,
    six queries more than a call needs. The person is one the caller checked the user may see."""
    from rapport.relationships import content
    from rapport.relationships.models import ContactProfile, RelationshipStage, Style
    from rapport.relationships.selectors import coaching_for

    profile = ContactProfile.objects.filter(person_id=person.pk).values_list("stage", "style").first()
    stage, style = profile if profile else ("", "")
    coaching = coaching_for(style)
    stage_content = content.stage(stage) if stage else None
    return Relationship(
        stage=stage,
        stage_label=str(dict(RelationshipStage.choices).get(stage, "")) if stage else "",
        style=style,
        style_label=str(dict(Style.choices).get(style, "")) if style else "",
        how_to_open=coaching.how_to_open if coaching else "",
        emphasise=coaching.emphasise if coaching else "",
        avoid=coaching.avoid if coaching else "",
        next_step=stage_content.next_step_text if stage_content else "",
    )


def _contacts(user: Any, card: Card) -> list[Any]:
    """The last activities with this card. Not ``activities.selectors.activities_for``: the
    card is one the user may see, so every activity it took part in is visible by that
    selector's own rule, and its visible-participants filter would read every card the user
    may see to show five lines (120 ms at 1M people)."""
    from rapport.activities.models import Activity

    return list(
        Activity.objects.filter(participants__card_id=card.pk).select_related("recorded_by")
        .order_by("-occurred_at", "-id")[:LAST_CONTACTS]
    )


def _open_deals(user: Any, customer_ids: list[int]) -> list[Any]:
    from rapport.deals.models import Status
    from rapport.deals.selectors import visible_deals

    return list(
        visible_deals(user).filter(card_id__in=customer_ids, status=Status.OPEN).select_related("owner", "card")
        .order_by("expected_close", "-updated_at", "id")[:LIST_LIMIT]
    )


def _orders(user: Any, customer_ids: list[int]) -> list[Any]:
    from rapport.commerce.selectors import visible_orders

    return list(visible_orders(user).filter(card_id__in=customer_ids).select_related("card").order_by("-ordered_on", "-id")[:LAST_ORDERS])


def products_bought(user: Any, customer_ids: list[int]) -> list[Bought]:
    """What these customers have bought, the most recently bought first (drafts and cancelled
    orders left out)."""
    from rapport.commerce.models import OrderLine, OrderStatus
    from rapport.commerce.selectors import visible_orders

    orders = visible_orders(user).filter(card_id__in=customer_ids).filter(status__in=[OrderStatus.CONFIRMED, OrderStatus.DELIVERED])
    rows = (
        OrderLine.objects.filter(order__in=orders.values("id"), product__isnull=False)
        .values("product_id", "product__name")
        .annotate(orders=Count("order_id", distinct=True), quantity=Sum("quantity"), last_on=Max("order__ordered_on"))
        .order_by("-last_on", "product__name")[:PRODUCTS]
    )
    return [Bought(r["product_id"], r["product__name"], r["orders"], r["quantity"] or Decimal("0"), r["last_on"]) for r in rows]


def _receivables(user: Any, customer_ids: list[int]) -> tuple[list[Receivable], list[tuple[str, Decimal]]]:
    """Open invoices, oldest due first, each overdue one with its collection-matrix cell."""
    from rapport.commerce.models import Cell
    from rapport.commerce.selectors import cell_of, open_invoices, policy_table, thresholds

    invoices = list(open_invoices(user).filter(card_id__in=customer_ids).order_by("due_on", "id")[:LIST_LIMIT])
    policies = policy_table() if invoices else {}
    labels = dict(Cell.choices)
    today = timezone.localdate()
    rows: list[Receivable] = []
    overdue: dict[str, Decimal] = {}
    for inv in invoices[:LIST_LIMIT]:
        days = (today - inv.due_on).days
        cell = ""
        if days > 0:
            cell = str(cell_of(days, inv.open_amount, thresholds(inv.team_id, inv.currency, policies)))
            overdue[inv.currency] = overdue.get(inv.currency, Decimal("0")) + inv.open_amount
        rows.append(Receivable(inv, max(days, 0), cell, str(labels.get(cell, "")) if cell else ""))
    return rows, sorted(overdue.items())


def _credit(card: Card, employer: Card | None) -> Any:
    """The credit profile of the customer who buys: the card itself, else the employer."""
    from rapport.commerce.selectors import credit_of

    found = credit_of(card)
    if found is None and employer is not None:
        found = credit_of(employer)
    return found


def _promises(user: Any, customer_ids: list[int]) -> list[Any]:
    from rapport.visits.selectors import visible_promises

    return list(
        visible_promises(user).filter(card_id__in=customer_ids, kept_on__isnull=True).select_related("owner")
        .order_by("due_on", "id")[:LIST_LIMIT]
    )


def _complaints(user: Any, customer_ids: list[int]) -> list[Any]:
    from rapport.aftersales.selectors import visible_cases

    return list(visible_cases(user).open().filter(card_id__in=customer_ids).order_by("due_on", "opened_at", "id")[:LIST_LIMIT])


def _unit_warnings(user: Any, organization: Card | None) -> list[UnitWarning]:
    """The decision-unit warnings of the organisation (a person's: their employer's), when a
    decision unit has been mapped there."""
    from rapport.relationships.selectors import decision_unit, unit_of

    if organization is None or unit_of(organization) is None:
        return []
    graph = decision_unit(user, organization.pk)
    return [UnitWarning(organization.pk, organization.display_name, w.code, w.message) for w in graph.warnings]


def by_card(user: Any, card_id: Any) -> Lookup:
    """One card chosen among the candidates (NotFound when out of reach, like a missing one)."""
    from rapport.cards.selectors import get_card

    card = get_card(user, card_id)
    return Lookup("card", str(card.pk), caller_region(user), cards_by_ids(user, [card.pk]))


def screen_pop(user: Any, *, phone: Any = None, name: Any = None, card: Any = None,
               region: Any = None) -> tuple[Lookup, Customer360 | None]:
    """The screen pop of one request (API, page, command line): the matches, and the whole
    customer when there is exactly one."""
    asked = [value for value in (phone, name, card) if value not in (None, "")]
    if len(asked) != 1:
        raise ValidationError.single("phone", _("Send exactly one of phone, name or card."))
    lookup = by_card(user, card) if card not in (None, "") else find(user, phone=phone, name=name, region=region)
    return lookup, customer_360(user, lookup.cards[0]) if len(lookup.cards) == 1 else None
