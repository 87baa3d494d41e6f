"""Write use-cases of deals: creating and editing a deal, moving it through the six steps
against their exit signals, the four opportunity questions, the deal's decision unit, needs
and criteria, competitors, proposals, the negotiation log, closing and the order a won deal
becomes.

Every function takes keyword arguments, checks what the user may do, runs in one transaction
and writes its own audit entry; a refused call leaves nothing behind. Input comes as plain
data (a form, a JSON body, the command line) and is checked here, so every door refuses the
same things with the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.audit.services import record, record_changes
from rapport.cards.models import Card
from rapport.cards.checks import Checked as _Checked
from rapport.cards.checks import choice as _choice
from rapport.cards.checks import customer_from as find_customer
from rapport.cards.checks import default_team as _default_team
from rapport.cards.checks import owner_for as _owner
from rapport.cards.checks import parse_bool as _bool
from rapport.cards.checks import parse_id, refuse_unknown as _refuse_unknown
from rapport.cards.checks import team_by_id as _team
from rapport.cards.values import clean_text, parse_date
from rapport.commerce import money
from rapport.commerce.models import ZERO, Invoice, InvoiceKind, Product
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for
from rapport.deals import content
from rapport.deals.models import (
    DEFAULT_PROBABILITY,
    STEP_ORDER,
    Answer,
    BuyingStage,
    Competitor,
    CompetitivePoint,
    Criterion,
    Deal,
    DealContact,
    DealProduct,
    EntryKind,
    Interest,
    NegotiationEntry,
    NegotiationPlan,
    Need,
    NeedKind,
    OpportunityQuestion,
    PointKind,
    Proposal,
    QuestionKey,
    QuoteLine,
    SignalCheck,
    SignalKind,
    Side,
    Status,
    Step,
    StepMove,
    StepSignal,
)

MAX_PRODUCTS = 200  # products named on one deal
MAX_QUOTE_LINES = 500
MAX_ROWS = 100  # needs, criteria, competitors or points of one deal: far above any real one
TRUSTED_STAGES = ("trusted", "ally")  # relationship stages that count as "good relationships"


# --- who may do what ---------------------------------------------------------------------------------


def may_write(user: User, deal: Deal) -> bool:
    """Everyone who sees the deal's customer may work the deal, except analysts, who only read."""
    return scope_for(user).may_write_card(deal.card)


def require_write(user: User, deal: Deal) -> None:
    if not may_write(user, deal):
        raise PermissionDenied(_("Your role may read deals but not change them."))


def _check_version(deal: Deal, expected_version: int | None) -> None:
    if expected_version is not None and deal.version != expected_version:
        raise Conflict(_("This deal changed since you loaded it; reload and try again."))


def _probability(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not str(raw).strip().isdigit() or not 0 <= int(str(raw).strip()) <= 100:
        raise ValidationError.single("probability", _("The probability is a whole percentage from 0 to 100."))
    return int(str(raw).strip())


def _amount(raw: Any, currency: str, field: str = "amount", *, required: bool = False) -> Decimal:
    if raw is None or raw == "":
        if required:
            raise ValidationError.single(field, _("An amount is required."))
        return ZERO
    return money.parse_amount(raw, currency, field, allow_zero=True)


def weighted_of(deal: Deal) -> Decimal:
    """The deal's amount times its probability, as kept for the forecast."""
    if deal.status != Status.OPEN:
        return ZERO
    return money.round_money(deal.amount * deal.effective_probability / 100, deal.currency)


# --- the card's owner and team on its deals --------------------------------------------------------


def sync_deal_copies(card: Card) -> None:
    """Keeps the visibility copies of a card's deals in step with the card (a copy sync)."""
    Deal.objects.filter(card_id=card.pk).exclude(card_owner_id=card.owner_id or 0, card_team_id=card.team_id).update(
        card_owner_id=card.owner_id or 0, card_team_id=card.team_id
    )


# --- creating and editing ----------------------------------------------------------------------------


DEAL_FIELDS = {"name", "amount", "currency", "expected_close", "probability", "buying_stage", "description", "owner", "team", "products"}


@dataclass
class ProductIn:
    product: Product
    quantity: Decimal
    unit_price: Decimal | None


def _products(raw: Any, currency: str) -> list[ProductIn]:
    from rapport.commerce.services import find_product

    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise ValidationError.single("products", _("Expected a list of products."))
    if len(raw) > MAX_PRODUCTS:
        raise ValidationError.single("products", _("At most %(n)s products per deal.") % {"n": MAX_PRODUCTS})
    result: list[ProductIn] = []
    seen: set[int] = set()
    for i, item in enumerate(raw):
        where = f"products[{i}]"
        if not isinstance(item, dict):
            item = {"product": item}
        product = find_product(item.get("product"), f"{where}.product")
        if product.pk in seen:
            raise ValidationError.single(f"{where}.product", _("This product is on the deal already."))
        seen.add(product.pk)
        quantity = money.parse_decimal(item.get("quantity", 1), f"{where}.quantity", maximum=Decimal("1e9"))
        if quantity != quantity.quantize(Decimal("0.001")):
            raise ValidationError.single(f"{where}.quantity", _("At most three decimals."))
        unit_price = None
        if item.get("unit_price") not in (None, ""):
            unit_price = money.parse_decimal(item["unit_price"], f"{where}.unit_price", allow_zero=True)
        result.append(ProductIn(product, quantity, unit_price))
    return result


def _set_products(deal: Deal, products: list[ProductIn]) -> None:
    DealProduct.objects.filter(deal=deal).delete()
    DealProduct.objects.bulk_create(
        [DealProduct(deal=deal, product=p.product, quantity=p.quantity, unit_price=p.unit_price) for p in products]
    )


@transaction.atomic
def create_deal(*, user: User, data: dict[str, Any]) -> Deal:
    """Opens a deal at step 1 (analyse the customer) for a customer the user may see."""
    _refuse_unknown(data, DEAL_FIELDS | {"organization", "person"})
    card = find_customer(user, data)
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied(_("Your role may read deals but not change them."))
    if card.archived_at is not None:
        raise ValidationError.single("organization" if card.kind == "organization" else "person", _("This customer is archived."))
    checked = _Checked()
    checked.take("name", lambda: clean_text("name", data.get("name"), required=True, max_length=200))
    checked.take("currency", lambda: money.parse_currency(data.get("currency")))
    checked.raise_if_any()
    currency = checked.values["currency"]
    checked.take("amount", lambda: _amount(data.get("amount"), currency))
    checked.take("expected_close", lambda: None if data.get("expected_close") in (None, "") else parse_date("expected_close", data["expected_close"]))
    checked.take("probability", lambda: _probability(data.get("probability")))
    checked.take("buying_stage", lambda: _choice("buying_stage", data.get("buying_stage"), BuyingStage, blank=True))
    checked.take("description", lambda: clean_text("description", data.get("description"), max_length=5000))
    checked.take("owner", lambda: user if data.get("owner") in (None, "") else _owner(data["owner"], card, user))
    checked.take("team", lambda: _team(data.get("team")))
    checked.take("products", lambda: _products(data.get("products"), currency))
    checked.raise_if_any()
    v = checked.values
    owner: User = v["owner"]
    team = v["team"] if v["team"] is not None else _default_team(owner, card)
    now = timezone.now()
    deal = Deal(
        card=card, name=v["name"], amount=v["amount"], currency=currency, expected_close=v["expected_close"],
        probability=v["probability"], buying_stage=v["buying_stage"], description=v["description"],
        owner=owner, team=team, card_owner_id=card.owner_id or 0, card_team_id=card.team_id,
        step=Step.ANALYSE, step_entered_at=now, created_by=user, created_at=now, updated_at=now,
    )
    deal.weighted = weighted_of(deal)
    deal.save()
    _set_products(deal, v["products"])
    StepMove.objects.create(deal=deal, from_step="", to_step=Step.ANALYSE, moved_by=user, moved_at=now)
    record(action="create", record=deal, actor=user,
           detail={"card": card.pk, "name": deal.name, "amount": str(deal.amount), "currency": currency})
    return deal


@transaction.atomic
def update_deal(*, user: User, deal: Deal, data: dict[str, Any], expected_version: int | None = None) -> Deal:
    """Changes the deal's own fields; products, when given, replace the deal's list."""
    require_write(user, deal)
    _refuse_unknown(data, DEAL_FIELDS)
    locked = Deal.objects.select_for_update().select_related("card").get(pk=deal.pk)
    _check_version(locked, expected_version)
    checked = _Checked()
    if "name" in data:
        checked.take("name", lambda: clean_text("name", data["name"], required=True, max_length=200))
    if "currency" in data:
        checked.take("currency", lambda: money.parse_currency(data["currency"]))
    checked.raise_if_any()
    currency = checked.values.get("currency", locked.currency)
    if "amount" in data:
        checked.take("amount", lambda: _amount(data["amount"], currency))
    elif currency != locked.currency:
        checked.take("amount", lambda: money.round_money(locked.amount, currency))
    if "expected_close" in data:
        checked.take("expected_close", lambda: None if data["expected_close"] in (None, "") else parse_date("expected_close", data["expected_close"]))
    if "probability" in data:
        checked.take("probability", lambda: _probability(data["probability"]))
    if "buying_stage" in data:
        checked.take("buying_stage", lambda: _choice("buying_stage", data["buying_stage"], BuyingStage, blank=True))
    if "description" in data:
        checked.take("description", lambda: clean_text("description", data["description"], max_length=5000))
    if "owner" in data:
        checked.take("owner", lambda: _owner(data["owner"], locked.card, user))
    if "team" in data:
        checked.take("team", lambda: _team(data["team"]))
    if "products" in data:
        checked.take("products", lambda: _products(data["products"], currency))
    checked.raise_if_any()
    values = dict(checked.values)
    products = values.pop("products", None)
    changes: dict[str, tuple[Any, Any]] = {}
    for name, new in values.items():
        attr = "owner_id" if name == "owner" else "team_id" if name == "team" else name
        old = getattr(locked, attr)
        new_value = new.pk if name in ("owner", "team") and new is not None else new
        if old != new_value:
            changes[name] = (str(old) if isinstance(old, Decimal) else old, str(new_value) if isinstance(new_value, Decimal) else new_value)
            setattr(locked, attr, new_value)
    if products is not None:
        before = sorted(DealProduct.objects.filter(deal=locked).values_list("product_id", flat=True))
        after = sorted(p.product.pk for p in products)
        _set_products(locked, products)
        if before != after:
            changes["products"] = (before, after)
    if changes:
        locked.weighted = weighted_of(locked)
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        record_changes(record=locked, changes=changes, actor=user, detail={"card": locked.card_id})
    return locked


def _touch(deal: Deal) -> None:
    Deal.objects.filter(pk=deal.pk).update(updated_at=timezone.now(), version=F("version") + 1)
    deal.version += 1


def _save_changes(user: User, row: Any, values: dict[str, Any]) -> None:
    """Writes the checked values that differ onto a row of a deal, audits them and touches the deal."""
    changes = {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}
    if not changes:
        return
    for k, v in values.items():
        setattr(row, k, v)
    row.save()
    record_changes(record=row, changes=changes, actor=user, detail={"deal": row.deal_id})
    _touch(row.deal)


def _remove(user: User, row: Any, deal: Deal, **detail: Any) -> None:
    """Deletes a row of a deal, with an audit entry naming what it was, and touches the deal."""
    record(action="delete", record=row, actor=user, detail={"deal": deal.pk, **detail})
    row.delete()
    _touch(deal)


# --- exit signals and step moves ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExitItem:
    """One item of a step's exit checklist and whether it holds on this deal."""

    signal: StepSignal
    met: bool
    automatic: bool  # read from the deal itself, not ticked

    @property
    def key(self) -> str:
        return self.signal.key

    @property
    def label(self) -> str:
        return str(self.signal)


def _questions_all_yes(deal: Deal) -> bool:
    yes = OpportunityQuestion.objects.filter(deal=deal, answer=Answer.YES).values_list("key", flat=True)
    return set(yes) >= {q.value for q in QuestionKey}


def _key_people_trust_us(deal: Deal) -> bool:
    from rapport.relationships.models import ContactProfile

    people = list(DealContact.objects.filter(deal=deal, is_key=True).values_list("member__person_id", flat=True))
    if not people:
        return False
    trusted = ContactProfile.objects.filter(person_id__in=people, stage__in=TRUSTED_STAGES).count()
    return trusted == len(set(people))


def _negotiation_started(deal: Deal) -> bool:
    return NegotiationPlan.objects.filter(deal=deal).exists() or NegotiationEntry.objects.filter(deal=deal).exists()


def _all_paid(deal: Deal) -> bool:
    if deal.order_id is None:
        return False
    invoices = Invoice.objects.filter(order_id=deal.order_id, kind=InvoiceKind.INVOICE, cancelled=False)
    return invoices.exists() and not invoices.filter(is_open=True).exists()


AUTOMATIC: dict[str, Callable[[Deal], bool]] = {
    SignalKind.QUESTIONS: _questions_all_yes,
    SignalKind.KEY_RELATIONSHIPS: _key_people_trust_us,
    SignalKind.NEGOTIATION: _negotiation_started,
    SignalKind.PAID: _all_paid,
}


def exit_checklist(deal: Deal, step: str | None = None) -> list[ExitItem]:
    """The exit checklist of ``step`` (the deal's own by default), each item met or not."""
    return _checklists(deal, [step or deal.step])[0]


def _checklists(deal: Deal, steps: list[str]) -> list[list[ExitItem]]:
    """The exit checklists of several steps, in order, read in two queries whatever their number;
    each automatic signal is read from the deal once."""
    ticked = set(SignalCheck.objects.filter(deal=deal, signal__step__in=steps).values_list("signal_id", flat=True))
    by_step: dict[str, list[ExitItem]] = {step: [] for step in steps}
    automatic: dict[str, bool] = {}
    for signal in StepSignal.objects.filter(step__in=steps, active=True).order_by("position", "id"):
        check = AUTOMATIC.get(signal.kind)
        if check is not None:
            if signal.kind not in automatic:
                automatic[signal.kind] = check(deal)
            by_step[signal.step].append(ExitItem(signal, automatic[signal.kind], True))
        else:
            by_step[signal.step].append(ExitItem(signal, signal.pk in ticked, False))
    return [by_step[step] for step in steps]


class ExitSignalsMissing(ValidationError):
    """A forward move without the exit signals of the steps it leaves, and no override reason."""

    def __init__(self, missing: list[ExitItem]) -> None:
        self.missing = missing
        names = "; ".join(f"{content.step(i.signal.step).label}: {i.label}" for i in missing)
        super().__init__({"to": [_("Missing exit signal — %(names)s. Give an override reason to move anyway.") % {"names": names}]})


def missing_to_reach(deal: Deal, to: str) -> list[ExitItem]:
    """The exit signals not met on the way from the deal's step forward to ``to``."""
    start, end = STEP_ORDER.index(deal.step), STEP_ORDER.index(to)
    return [item for items in _checklists(deal, STEP_ORDER[start:end]) for item in items if not item.met]


def reached_bit(step: str) -> int:
    """The bit of ``step`` in ``Deal.steps_reached``."""
    return 1 << STEP_ORDER.index(step)


def _move(deal: Deal, to: str, *, user: User, reason: str, override_reason: str, missing: list[ExitItem]) -> StepMove:
    now = timezone.now()
    move = StepMove.objects.create(
        deal=deal, from_step=deal.step, to_step=to, reason=reason, override_reason=override_reason,
        missing=[i.key for i in missing], seconds_in_previous=max(0, int((now - deal.step_entered_at).total_seconds())),
        moved_by=user, moved_at=now,
    )
    deal.step, deal.step_entered_at = to, now
    deal.steps_reached |= reached_bit(to)
    return move


def _reason(field: str, raw: Any) -> str:
    return clean_text(field, raw, max_length=1000)


@transaction.atomic
def move_step(*, user: User, deal: Deal, to: Any, reason: Any = "", override_reason: Any = "",
              expected_version: int | None = None) -> StepMove:
    """Moves an open deal to another step. Forward, every exit signal of the steps it leaves
    must hold, or an override reason is recorded with what was missing; back is always
    allowed. Entering follow-up service means the contract is signed: the deal is won."""
    require_write(user, deal)
    locked = Deal.objects.select_for_update().select_related("card").get(pk=deal.pk)
    _check_version(locked, expected_version)
    target = _choice("to", to, Step)
    why = _reason("reason", reason)
    override = _reason("override_reason", override_reason)
    if locked.status != Status.OPEN:
        raise ValidationError.single("to", _("This deal is closed; its step no longer changes."))
    if target == locked.step:
        raise ValidationError.single("to", _("The deal is at this step already."))
    missing: list[ExitItem] = []
    if STEP_ORDER.index(target) > STEP_ORDER.index(locked.step):
        missing = missing_to_reach(locked, target)
        if missing and not override:
            raise ExitSignalsMissing(missing)
    previous = locked.step
    move = _move(locked, target, user=user, reason=why, override_reason=override if missing else "", missing=missing)
    if target == Step.FOLLOW_UP:
        locked.status, locked.closed_at, locked.closed_by = Status.WON, move.moved_at, user
    locked.weighted = weighted_of(locked)
    locked.updated_at = move.moved_at
    locked.version += 1
    locked.save()
    record(action="update", record=locked, actor=user, field="step", old=previous, new=target,
           detail={"card": locked.card_id, "reason": why, "override_reason": move.override_reason, "missing": move.missing})
    deal.__dict__.update({k: getattr(locked, k) for k in ("step", "step_entered_at", "steps_reached", "status", "weighted", "version", "updated_at", "closed_at")})
    return move


@transaction.atomic
def set_signal(*, user: User, deal: Deal, signal_key: Any, checked: Any, note: Any = "") -> ExitItem:
    """Ticks (or unticks) a manual exit signal of the deal's current step."""
    require_write(user, deal)
    key = str(signal_key or "").strip()
    signal = StepSignal.objects.filter(step=deal.step, key=key, active=True).first()
    if signal is None:
        raise ValidationError.single("signal", _("The current step has no exit signal %(key)s.") % {"key": repr(key[:40])})
    if signal.kind != SignalKind.MANUAL:
        raise ValidationError.single("signal", _("This signal is read from the deal itself and cannot be ticked."))
    on = _bool("checked", checked)
    text = clean_text("note", note, max_length=500)
    if on:
        _row, created = SignalCheck.objects.update_or_create(deal=deal, signal=signal, defaults={"note": text, "checked_by": user, "checked_at": timezone.now()})
    else:
        created = SignalCheck.objects.filter(deal=deal, signal=signal).delete()[0] > 0
    if created:
        record(action="update", record=deal, actor=user, field=f"signal:{signal.key}", old=not on, new=on, detail={"card": deal.card_id})
        _touch(deal)
    return ExitItem(signal, on, False)


# --- the four opportunity questions --------------------------------------------------------------------


@transaction.atomic
def answer_question(*, user: User, deal: Deal, key: Any, answer: Any, justification: Any = "") -> OpportunityQuestion:
    """Answers one of the four questions (yes, no, or not yet) with a short justification."""
    require_write(user, deal)
    checked = _Checked()
    checked.take("key", lambda: _choice("key", key, QuestionKey))
    checked.take("answer", lambda: _choice("answer", answer, Answer, blank=True))
    checked.take("justification", lambda: clean_text("justification", justification, max_length=1000))
    checked.raise_if_any()
    v = checked.values
    if v["answer"] and not v["justification"]:
        raise ValidationError.single("justification", _("Say in a sentence why."))
    question, _created = OpportunityQuestion.objects.get_or_create(deal=deal, key=v["key"], defaults={"answered_by": user})
    old = question.answer
    question.answer, question.justification = v["answer"], v["justification"]
    question.answered_by, question.answered_at = user, timezone.now()
    question.save()
    record(action="update", record=deal, actor=user, field=f"question:{v['key']}", old=old, new=v["answer"],
           detail={"card": deal.card_id, "justification": v["justification"]})
    _touch(deal)
    return question


# --- the deal's decision unit ----------------------------------------------------------------------------


def _roles(raw: Any) -> list[str]:
    from rapport.relationships.models import BuyingRole

    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [r for r in raw.replace(";", ",").split(",") if r.strip()]
    if not isinstance(raw, list):
        raise ValidationError.single("roles", _("Expected a list of roles."))
    allowed = {r.value for r in BuyingRole}
    roles = []
    for role in raw:
        value = str(role).strip()
        if value not in allowed:
            raise ValidationError.single("roles", _("Unknown role %(role)s.") % {"role": repr(value[:40])})
        if value not in roles:
            roles.append(value)
    return roles


def _member_of_deal(deal: Deal, data: dict[str, Any]) -> Any:
    from rapport.relationships.models import Member

    if deal.card.kind != "organization":
        raise ValidationError.single("member", _("Only deals with organisations have a decision unit."))
    if data.get("member") not in (None, ""):
        member = Member.objects.filter(pk=parse_id("member", data["member"])).select_related("unit", "person").first()
        field = "member"
    else:
        person_id = parse_id("person", data.get("person"))
        member = Member.objects.filter(person_id=person_id, unit__organization_id=deal.card_id).select_related("unit", "person").first()
        field = "person"
    if member is None or member.unit.organization_id != deal.card_id:
        raise ValidationError.single(field, _("This person is not in the decision unit of %(org)s; add them there first.") % {"org": deal.card.display_name})
    return member


@transaction.atomic
def add_contact(*, user: User, deal: Deal, data: dict[str, Any]) -> DealContact:
    """Brings a member of the organisation's decision unit into the deal, with roles in this purchase."""
    require_write(user, deal)
    _refuse_unknown(data, {"member", "person", "roles", "is_key", "note"})
    member = _member_of_deal(deal, data)
    if DealContact.objects.filter(deal=deal, member=member).exists():
        raise ValidationError.single("member", _("This person takes part in the deal already."))
    checked = _Checked()
    checked.take("roles", lambda: _roles(data.get("roles")))
    checked.take("is_key", lambda: _bool("is_key", data.get("is_key", True)))
    checked.take("note", lambda: clean_text("note", data.get("note"), max_length=500))
    checked.raise_if_any()
    if DealContact.objects.filter(deal=deal).count() >= MAX_ROWS:
        raise ValidationError.single("member", _("A deal has at most %(n)s people.") % {"n": MAX_ROWS})
    contact = DealContact.objects.create(deal=deal, member=member, **checked.values)
    record(action="create", record=contact, actor=user, detail={"deal": deal.pk, "card": deal.card_id, "person": member.person_id, "roles": contact.roles})
    _touch(deal)
    return contact


@transaction.atomic
def update_contact(*, user: User, contact: DealContact, data: dict[str, Any]) -> DealContact:
    require_write(user, contact.deal)
    _refuse_unknown(data, {"roles", "is_key", "note"})
    checked = _Checked()
    if "roles" in data:
        checked.take("roles", lambda: _roles(data["roles"]))
    if "is_key" in data:
        checked.take("is_key", lambda: _bool("is_key", data["is_key"]))
    if "note" in data:
        checked.take("note", lambda: clean_text("note", data["note"], max_length=500))
    checked.raise_if_any()
    _save_changes(user, contact, checked.values)
    return contact


@transaction.atomic
def remove_contact(*, user: User, contact: DealContact) -> None:
    require_write(user, contact.deal)
    _remove(user, contact, contact.deal, person=contact.member.person_id)


# --- needs and procurement criteria ------------------------------------------------------------------


def _limit(model: Any, field: str, **filters: Any) -> None:
    if model.objects.filter(**filters).count() >= MAX_ROWS:
        raise ValidationError.single(field, _("At most %(n)s per deal.") % {"n": MAX_ROWS})


@transaction.atomic
def add_need(*, user: User, deal: Deal, data: dict[str, Any]) -> Need:
    require_write(user, deal)
    _refuse_unknown(data, {"kind", "text"})
    checked = _Checked()
    checked.take("kind", lambda: _choice("kind", data.get("kind"), NeedKind))
    checked.take("text", lambda: clean_text("text", data.get("text"), required=True, max_length=1000))
    checked.raise_if_any()
    _limit(Need, "text", deal=deal)
    position = Need.objects.filter(deal=deal, kind=checked.values["kind"]).count()
    need = Need.objects.create(deal=deal, position=position, **checked.values)
    record(action="create", record=need, actor=user, detail={"deal": deal.pk, "kind": need.kind, "text": need.text})
    _touch(deal)
    return need


@transaction.atomic
def update_need(*, user: User, need: Need, data: dict[str, Any]) -> Need:
    require_write(user, need.deal)
    _refuse_unknown(data, {"kind", "text"})
    checked = _Checked()
    if "kind" in data:
        checked.take("kind", lambda: _choice("kind", data["kind"], NeedKind))
    if "text" in data:
        checked.take("text", lambda: clean_text("text", data["text"], required=True, max_length=1000))
    checked.raise_if_any()
    _save_changes(user, need, checked.values)
    return need


@transaction.atomic
def remove_need(*, user: User, need: Need) -> None:
    require_write(user, need.deal)
    _remove(user, need, need.deal, text=need.text)


def _weight(raw: Any) -> int:
    if isinstance(raw, bool) or raw in (None, "") or not str(raw).strip().isdigit() or int(str(raw).strip()) > 100:
        raise ValidationError.single("weight", _("The weight is a whole percentage from 0 to 100."))
    return int(str(raw).strip())


def _check_weights(deal: Deal, weight: int, exclude: int | None = None) -> None:
    others = Criterion.objects.filter(deal=deal).exclude(pk=exclude or 0).values_list("weight", flat=True)
    total = sum(others) + weight
    if total > 100:
        raise ValidationError.single("weight", _("The weights would add up to %(total)s%%; they must not pass 100%%.") % {"total": total})


@transaction.atomic
def add_criterion(*, user: User, deal: Deal, data: dict[str, Any]) -> Criterion:
    require_write(user, deal)
    _refuse_unknown(data, {"name", "target", "weight"})
    checked = _Checked()
    checked.take("name", lambda: clean_text("name", data.get("name"), required=True, max_length=200))
    checked.take("target", lambda: clean_text("target", data.get("target"), max_length=200))
    checked.take("weight", lambda: _weight(data.get("weight", 0)))
    checked.raise_if_any()
    _limit(Criterion, "name", deal=deal)
    _check_weights(deal, checked.values["weight"])
    criterion = Criterion.objects.create(deal=deal, position=Criterion.objects.filter(deal=deal).count(), **checked.values)
    record(action="create", record=criterion, actor=user, detail={"deal": deal.pk, "name": criterion.name, "weight": criterion.weight})
    _touch(deal)
    return criterion


@transaction.atomic
def update_criterion(*, user: User, criterion: Criterion, data: dict[str, Any]) -> Criterion:
    require_write(user, criterion.deal)
    _refuse_unknown(data, {"name", "target", "weight"})
    checked = _Checked()
    if "name" in data:
        checked.take("name", lambda: clean_text("name", data["name"], required=True, max_length=200))
    if "target" in data:
        checked.take("target", lambda: clean_text("target", data["target"], max_length=200))
    if "weight" in data:
        checked.take("weight", lambda: _weight(data["weight"]))
    checked.raise_if_any()
    if "weight" in checked.values:
        _check_weights(criterion.deal, checked.values["weight"], exclude=criterion.pk)
    _save_changes(user, criterion, checked.values)
    return criterion


@transaction.atomic
def remove_criterion(*, user: User, criterion: Criterion) -> None:
    require_write(user, criterion.deal)
    _remove(user, criterion, criterion.deal, name=criterion.name)


# --- competitors -------------------------------------------------------------------------------------


@transaction.atomic
def add_competitor(*, user: User, deal: Deal, data: dict[str, Any]) -> Competitor:
    require_write(user, deal)
    _refuse_unknown(data, {"name", "note"})
    checked = _Checked()
    checked.take("name", lambda: clean_text("name", data.get("name"), required=True, max_length=200))
    checked.take("note", lambda: clean_text("note", data.get("note"), max_length=1000))
    checked.raise_if_any()
    if Competitor.objects.filter(deal=deal, name__iexact=checked.values["name"]).exists():
        raise ValidationError.single("name", _("This competitor is on the deal already."))
    _limit(Competitor, "name", deal=deal)
    competitor = Competitor.objects.create(deal=deal, **checked.values)
    record(action="create", record=competitor, actor=user, detail={"deal": deal.pk, "name": competitor.name})
    _touch(deal)
    return competitor


@transaction.atomic
def update_competitor(*, user: User, competitor: Competitor, data: dict[str, Any]) -> Competitor:
    require_write(user, competitor.deal)
    _refuse_unknown(data, {"name", "note"})
    checked = _Checked()
    if "name" in data:
        checked.take("name", lambda: clean_text("name", data["name"], required=True, max_length=200))
    if "note" in data:
        checked.take("note", lambda: clean_text("note", data["note"], max_length=1000))
    checked.raise_if_any()
    name = checked.values.get("name")
    if name and Competitor.objects.filter(deal=competitor.deal, name__iexact=name).exclude(pk=competitor.pk).exists():
        raise ValidationError.single("name", _("This competitor is on the deal already."))
    _save_changes(user, competitor, checked.values)
    return competitor


@transaction.atomic
def remove_competitor(*, user: User, competitor: Competitor) -> None:
    require_write(user, competitor.deal)
    _remove(user, competitor, competitor.deal, name=competitor.name)


@transaction.atomic
def add_point(*, user: User, competitor: Competitor, data: dict[str, Any]) -> CompetitivePoint:
    """One of our strengths or weaknesses against a competitor, with the need it serves, the
    person it affects (both of this deal) and our action with that person."""
    deal = competitor.deal
    require_write(user, deal)
    _refuse_unknown(data, {"kind", "text", "need", "contact", "action"})
    checked = _Checked()
    checked.take("kind", lambda: _choice("kind", data.get("kind"), PointKind))
    checked.take("text", lambda: clean_text("text", data.get("text"), required=True, max_length=500))
    checked.take("action", lambda: clean_text("action", data.get("action"), max_length=500))
    checked.take("need", lambda: _own(Need, "need", data.get("need"), deal))
    checked.take("contact", lambda: _own(DealContact, "contact", data.get("contact"), deal))
    checked.raise_if_any()
    _limit(CompetitivePoint, "text", competitor=competitor)
    point = CompetitivePoint.objects.create(competitor=competitor, **checked.values)
    record(action="create", record=point, actor=user, detail={"deal": deal.pk, "competitor": competitor.name, "kind": point.kind, "text": point.text})
    _touch(deal)
    return point


def _own(model: Any, field: str, raw: Any, deal: Deal) -> Any:
    """A need or contact of this deal by id; one of another deal is refused like a missing one."""
    if raw in (None, ""):
        return None
    row = model.objects.filter(pk=parse_id(field, raw), deal=deal).first()
    if row is None:
        raise ValidationError.single(field, _("Not part of this deal."))
    return row


@transaction.atomic
def remove_point(*, user: User, point: CompetitivePoint) -> None:
    deal = point.competitor.deal
    require_write(user, deal)
    _remove(user, point, deal, text=point.text)


# --- proposals -----------------------------------------------------------------------------------------


PROPOSAL_TEXTS = ("title", "background", "problems", "solution_overview", "solution_products", "implementation_plan", "service", "credentials")


@dataclass
class QuoteLineIn:
    group: str
    product: Product | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal


def _quote_line(raw: Any, index: int, currency: str) -> QuoteLineIn:
    from rapport.commerce.services import find_product

    where = f"lines[{index}]"
    if not isinstance(raw, dict):
        raise ValidationError.single(where, _("Expected an object."))
    product = find_product(raw["product"], f"{where}.product") if raw.get("product") not in (None, "") else None
    description = clean_text(f"{where}.description", raw.get("description") or (product.name if product else ""), required=True, max_length=300)
    quantity = money.parse_decimal(raw.get("quantity", 1), f"{where}.quantity", maximum=Decimal("1e9"))
    if quantity != quantity.quantize(Decimal("0.001")):
        raise ValidationError.single(f"{where}.quantity", _("At most three decimals."))
    unit_price = money.parse_decimal(raw.get("unit_price"), f"{where}.unit_price", allow_zero=True)
    discount = money.parse_decimal(raw.get("discount") or 0, f"{where}.discount", allow_zero=True, maximum=Decimal(100))
    amount = money.round_money(quantity * unit_price * (1 - discount / 100), currency)
    if amount > money.MAX_AMOUNT:
        raise ValidationError.single(f"{where}.unit_price", _("The line comes to more than %(max)s.") % {"max": money.MAX_AMOUNT})
    group = clean_text(f"{where}.group", raw.get("group"), max_length=120)
    return QuoteLineIn(group, product, description, quantity, unit_price, discount, amount)


def _language(raw: Any, deal: Deal) -> str:
    from rapport.core.i18n import SUPPORTED, normalise_language

    if raw in (None, ""):
        from rapport.commerce.collection import customer_language

        return customer_language(deal.card)
    text = str(raw).strip().lower()
    code = normalise_language(text)
    if code not in SUPPORTED or (code == "en" and not text.startswith("en")):
        raise ValidationError.single("language", _("Expected one of: %(values)s.") % {"values": ", ".join(SUPPORTED)})
    return code


@transaction.atomic
def create_proposal(*, user: User, deal: Deal, data: dict[str, Any]) -> Proposal:
    """Saves a new version of the deal's proposal. What is not given is carried over from the
    latest version; the first version's quotation starts from the deal's products."""
    require_write(user, deal)
    _refuse_unknown(data, set(PROPOSAL_TEXTS) | {"language", "lines"})
    Deal.objects.select_for_update().filter(pk=deal.pk).first()  # one new version at a time
    latest = Proposal.objects.filter(deal=deal).order_by("-version").first()
    checked = _Checked()
    for name in PROPOSAL_TEXTS:
        limit = 200 if name == "title" else 20000
        if name in data:
            checked.take(name, lambda name=name, limit=limit: clean_text(name, data[name], max_length=limit))  # type: ignore[misc]
        else:
            checked.values[name] = getattr(latest, name) if latest else (deal.name if name == "title" else "")
    checked.take("language", lambda: _language(data.get("language", latest.language if latest else None), deal))
    raw_lines = data.get("lines")
    lines: list[QuoteLineIn] = []
    if raw_lines is not None:
        if not isinstance(raw_lines, list):
            checked.errors["lines"] = [_("Expected a list of lines.")]
        elif len(raw_lines) > MAX_QUOTE_LINES:
            checked.errors["lines"] = [_("At most %(n)s lines.") % {"n": MAX_QUOTE_LINES}]
        else:
            for i, raw in enumerate(raw_lines):
                try:
                    lines.append(_quote_line(raw, i, deal.currency))
                except ValidationError as exc:
                    checked.errors.update(exc.errors)
    checked.raise_if_any()
    if raw_lines is None:
        if latest is not None:
            lines = [QuoteLineIn(ln.group, ln.product, ln.description, ln.quantity, ln.unit_price, ln.discount, ln.amount) for ln in latest.lines.all()]
        else:
            for dp in DealProduct.objects.filter(deal=deal).select_related("product"):
                price = dp.unit_price if dp.unit_price is not None else ZERO
                lines.append(QuoteLineIn("", dp.product, dp.product.name, dp.quantity, price, ZERO, money.round_money(dp.quantity * price, deal.currency)))
    if sum((ln.amount for ln in lines), ZERO) > money.MAX_AMOUNT:
        raise ValidationError.single("lines", _("The quotation comes to more than %(max)s.") % {"max": money.MAX_AMOUNT})
    proposal = Proposal.objects.create(
        deal=deal, version=(latest.version + 1) if latest else 1, currency=deal.currency, created_by=user,
        total=sum((ln.amount for ln in lines), ZERO), **checked.values,
    )
    QuoteLine.objects.bulk_create([
        QuoteLine(proposal=proposal, position=i, group=ln.group, product=ln.product, description=ln.description,
                  quantity=ln.quantity, unit_price=ln.unit_price, discount=ln.discount, amount=ln.amount)
        for i, ln in enumerate(lines)
    ])
    record(action="create", record=proposal, actor=user,
           detail={"deal": deal.pk, "card": deal.card_id, "version": proposal.version, "total": str(proposal.total)})
    _touch(deal)
    return proposal


# --- negotiation -----------------------------------------------------------------------------------------


def _interests(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [r for r in raw.replace(";", ",").split(",") if r.strip()]
    if not isinstance(raw, list):
        raise ValidationError.single("interests", _("Expected a list of interests, most important first."))
    allowed = {i.value for i in Interest}
    result: list[str] = []
    for item in raw:
        value = str(item).strip()
        if value not in allowed:
            raise ValidationError.single("interests", _("Unknown interest %(value)s.") % {"value": repr(value[:40])})
        if value in result:
            raise ValidationError.single("interests", _("%(value)s is ranked twice.") % {"value": value})
        result.append(value)
    return result


@transaction.atomic
def set_negotiation_plan(*, user: User, deal: Deal, data: dict[str, Any]) -> NegotiationPlan:
    """Our roles, bottom line and target, and the customer's interests ranked."""
    require_write(user, deal)
    _refuse_unknown(data, {"roles", "bottom_line", "target", "interests"})
    plan = NegotiationPlan.objects.filter(deal=deal).first() or NegotiationPlan(deal=deal)
    checked = _Checked()
    if "roles" in data:
        checked.take("roles", lambda: clean_text("roles", data["roles"], max_length=5000))
    for name in ("bottom_line", "target"):
        if name in data:
            checked.take(name, lambda name=name: None if data[name] in (None, "") else money.parse_amount(data[name], deal.currency, name, allow_zero=True))  # type: ignore[misc]
    if "interests" in data:
        checked.take("interests", lambda: _interests(data["interests"]))
    checked.raise_if_any()
    for k, v in checked.values.items():
        setattr(plan, k, v)
    if plan.bottom_line is not None and plan.target is not None and plan.target < plan.bottom_line:
        raise ValidationError.single("target", _("The target is below the bottom line."))
    created = plan.pk is None
    plan.updated_by, plan.updated_at = user, timezone.now()
    plan.save()
    record(action="create" if created else "update", record=plan, actor=user,
           detail={"deal": deal.pk, **{k: str(v) if isinstance(v, Decimal) else v for k, v in checked.values.items()}})
    _touch(deal)
    return plan


def concession_warnings(deal: Deal, side: str, value: Decimal | None, *, exclude: int | None = None) -> list[str]:
    """The seed's rule: each concession smaller than the one before; and none past the bottom line."""
    warnings: list[str] = []
    if value is None:
        return warnings
    previous = (
        NegotiationEntry.objects.filter(deal=deal, kind=EntryKind.CONCESSION, side=side, value__isnull=False)
        .exclude(pk=exclude or 0).order_by("-created_at", "-id").first()
    )
    if previous is not None and previous.value is not None and value >= previous.value:
        warnings.append(_("This concession (%(value)s) is not smaller than the previous one (%(previous)s): concessions should shrink.")
                        % {"value": money.format_money(value, deal.currency), "previous": money.format_money(previous.value, deal.currency)})
    if side == Side.OURS:
        plan = NegotiationPlan.objects.filter(deal=deal).first()
        if plan is not None and plan.bottom_line is not None:
            earlier = (NegotiationEntry.objects.filter(deal=deal, kind=EntryKind.CONCESSION, side=Side.OURS, value__isnull=False)
                       .exclude(pk=exclude or 0).values_list("value", flat=True))
            given = sum((v for v in earlier if v is not None), ZERO) + value
            if deal.amount - given < plan.bottom_line:
                warnings.append(_("Together the concessions take the deal below our bottom line (%(line)s).")
                                % {"line": money.format_money(plan.bottom_line, deal.currency)})
    return warnings


@transaction.atomic
def add_negotiation_entry(*, user: User, deal: Deal, data: dict[str, Any]) -> tuple[NegotiationEntry, list[str]]:
    """A position, trade, concession (with its value) or agreed term; returns the entry and warnings."""
    require_write(user, deal)
    _refuse_unknown(data, {"kind", "side", "interest", "text", "value"})
    checked = _Checked()
    checked.take("kind", lambda: _choice("kind", data.get("kind"), EntryKind))
    checked.take("side", lambda: _choice("side", data.get("side") or Side.OURS, Side))
    checked.take("interest", lambda: _choice("interest", data.get("interest"), Interest, blank=True))
    checked.take("text", lambda: clean_text("text", data.get("text"), required=True, max_length=1000))
    checked.take("value", lambda: None if data.get("value") in (None, "") else money.parse_amount(data["value"], deal.currency, "value", allow_zero=True))
    checked.raise_if_any()
    v = checked.values
    if v["kind"] == EntryKind.CONCESSION and v["value"] is None:
        raise ValidationError.single("value", _("Give the concession's value."))
    if NegotiationEntry.objects.filter(deal=deal).count() >= 1000:
        raise ValidationError.single("text", _("This negotiation log is full."))
    warnings = concession_warnings(deal, v["side"], v["value"]) if v["kind"] == EntryKind.CONCESSION else []
    entry = NegotiationEntry.objects.create(deal=deal, created_by=user, **v)
    record(action="create", record=entry, actor=user,
           detail={"deal": deal.pk, "kind": entry.kind, "side": entry.side, "value": str(entry.value) if entry.value is not None else None})
    _touch(deal)
    return entry, warnings


@transaction.atomic
def confirm_entry(*, user: User, entry: NegotiationEntry) -> NegotiationEntry:
    """Confirms an agreed term with the customer (the seed: one by one, in writing)."""
    require_write(user, entry.deal)
    if entry.kind != EntryKind.AGREED:
        raise ValidationError.single("kind", _("Only agreed terms are confirmed."))
    if entry.confirmed_at is None:
        entry.confirmed_at, entry.confirmed_by = timezone.now(), user
        entry.save(update_fields=["confirmed_at", "confirmed_by"])
        record(action="update", record=entry, actor=user, field="confirmed", old=False, new=True, detail={"deal": entry.deal_id})
        _touch(entry.deal)
    return entry


# --- closing -----------------------------------------------------------------------------------------------


@transaction.atomic
def close_deal(*, user: User, deal: Deal, outcome: Any, reason: Any, note: Any = "", override_reason: Any = "",
               expected_version: int | None = None) -> Deal:
    """Closes an open deal as won (the contract is signed: it enters follow-up service) or lost,
    with a reason from the translated list and free text."""
    require_write(user, deal)
    locked = Deal.objects.select_for_update().select_related("card").get(pk=deal.pk)
    _check_version(locked, expected_version)
    checked = _Checked()
    checked.take("outcome", lambda: _choice("outcome", outcome, [Status.WON, Status.LOST]))
    checked.take("note", lambda: clean_text("note", note, max_length=1000))
    checked.take("override_reason", lambda: _reason("override_reason", override_reason))
    checked.raise_if_any()
    result = checked.values["outcome"]
    key = str(reason or "").strip()
    if key not in {k for k, _label in content.reasons(result)}:
        raise ValidationError.single("reason", _("Choose a reason from the list: %(keys)s.") % {"keys": ", ".join(k for k, _l in content.reasons(result))})
    if locked.status != Status.OPEN:
        raise ValidationError.single("outcome", _("This deal is closed already."))
    now = timezone.now()
    previous_step = locked.step
    if result == Status.WON:
        missing = missing_to_reach(locked, Step.FOLLOW_UP)
        override = checked.values["override_reason"]
        if missing and not override:
            raise ExitSignalsMissing(missing)
        move = _move(locked, Step.FOLLOW_UP, user=user, reason=checked.values["note"], override_reason=override if missing else "", missing=missing)
        now = move.moved_at
    locked.status, locked.closed_at, locked.closed_by = result, now, user
    locked.close_reason, locked.close_note = key, checked.values["note"]
    locked.weighted = weighted_of(locked)
    locked.updated_at, locked.version = now, locked.version + 1
    locked.save()
    record(action="update", record=locked, actor=user, field="status", old=Status.OPEN, new=result,
           detail={"card": locked.card_id, "reason": key, "note": locked.close_note, "step": previous_step})
    return locked


@transaction.atomic
def finish_follow_up(*, user: User, deal: Deal, override_reason: Any = "") -> Deal:
    """Ends the follow-up of a won deal once everything is paid (or with an override reason)."""
    require_write(user, deal)
    locked = Deal.objects.select_for_update().select_related("card").get(pk=deal.pk)
    if locked.status != Status.WON or locked.step != Step.FOLLOW_UP:
        raise ValidationError.single("status", _("Only won deals in follow-up service are finished."))
    if locked.followed_up_at is not None:
        raise ValidationError.single("status", _("The follow-up of this deal is finished already."))
    override = _reason("override_reason", override_reason)
    missing = [i for i in exit_checklist(locked, Step.FOLLOW_UP) if not i.met]
    if missing and not override:
        raise ExitSignalsMissing(missing)
    locked.followed_up_at, locked.updated_at, locked.version = timezone.now(), timezone.now(), locked.version + 1
    locked.save()
    record(action="update", record=locked, actor=user, field="followed_up", old=False, new=True,
           detail={"card": locked.card_id, "override_reason": override if missing else "", "missing": [i.key for i in missing]})
    return locked


@transaction.atomic
def create_order_from_deal(*, user: User, deal: Deal) -> Any:
    """A won deal becomes a draft order with the deal's products (priced from the deal, else
    from the price list), linked to the deal for its follow-up."""
    from rapport.commerce.services import create_order

    require_write(user, deal)
    locked = Deal.objects.select_for_update().select_related("card").get(pk=deal.pk)
    if locked.status != Status.WON:
        raise ValidationError.single("order", _("Only a won deal becomes an order."))
    if locked.order_id is not None:
        raise ValidationError.single("order", _("This deal has its order already."))
    products = list(DealProduct.objects.filter(deal=locked).select_related("product"))
    if not products:
        raise ValidationError.single("order", _("Name the deal's products first: an order needs lines."))
    lines = [
        {"product": p.product.pk, "quantity": str(p.quantity), **({"unit_price": str(p.unit_price)} if p.unit_price is not None else {})}
        for p in products
    ]
    order = create_order(user=user, card=locked.card, data={"currency": locked.currency, "status": "draft", "lines": lines,
                                                             "note": locked.name[:500]})
    locked.order = order
    locked.updated_at, locked.version = timezone.now(), locked.version + 1
    locked.save(update_fields=["order", "updated_at", "version"])
    record(action="update", record=locked, actor=user, field="order", old=None, new=order.pk, detail={"card": locked.card_id})
    return order


def default_probability(step: str) -> int:
    return DEFAULT_PROBABILITY.get(step, 0)


def erase_deals_of(card: Card, model: type[Any], fk: Any) -> int:
    """Data-subject erasure of a person who was a deal's customer: the numbers stay true for
    the reports (amount, steps, dates, outcome), every text written about the deal goes."""
    deals = Deal.objects.filter(**{fk.attname: card.pk})
    ids = list(deals.values_list("pk", flat=True))
    if not ids:
        return 0
    for related in (Need, Criterion, Competitor, Proposal, NegotiationEntry):
        related.objects.filter(deal_id__in=ids).delete()
    NegotiationPlan.objects.filter(deal_id__in=ids).update(roles="")
    OpportunityQuestion.objects.filter(deal_id__in=ids).update(justification="")
    SignalCheck.objects.filter(deal_id__in=ids).update(note="")
    StepMove.objects.filter(deal_id__in=ids).update(reason="", override_reason="")
    return deals.update(name="—", description="", close_note="")
