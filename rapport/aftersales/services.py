"""Write use-cases of after-sales: scheduling and recording satisfaction checks, the start of
use of a delivery, complaints and service cases, and referral requests.

Every function takes keyword arguments, checks what the user may do, runs in one transaction
and writes its own audit entry; a refused call leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.aftersales.models import (
    SATISFIED,
    CaseKind,
    ReferralOutcome,
    ReferralRequest,
    SatisfactionCheck,
    ServiceCase,
)
from rapport.audit.services import record, record_changes, record_many
from rapport.cards.models import Card
from rapport.cards.values import clean_text, parse_date
from rapport.commerce.models import Order, OrderStatus
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for, visible_to

MAX_REFERRED = 50  # cards named in one answer: far above what one customer refers at once
REFERRAL_METHOD = "referral_chain"  # the catalogue's prospecting method for referred customers


def satisfaction_after_days() -> int:
    """Days between a delivery and its satisfaction check (``RAPPORT_SATISFACTION_AFTER_DAYS``)."""
    return int(settings.RAPPORT_SATISFACTION_AFTER_DAYS)


# --- who may do what ---------------------------------------------------------------------------------


def may_write(user: User, card: Card) -> bool:
    """Everyone who sees the card may follow it up, except analysts, who only read."""
    return scope_for(user).may_write_card(card)


def _require_write(user: User, card: Card) -> None:
    if not may_write(user, card):
        raise PermissionDenied(_("Your role may read after-sales records but not change them."))


def _check_version(obj: ServiceCase, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise Conflict(_("This case changed since you loaded it; reload and try again."))


def _refuse_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({k: [_("Unknown field.")] for k in sorted(unknown)})


def parse_id(field: str, value: Any) -> int:
    """A record id from a form, a JSON body or the command line."""
    if isinstance(value, bool) or not str(value).strip().isdigit() or int(str(value).strip()) > 2**62:
        raise ValidationError.single(field, _("Expected a number."))
    return int(str(value).strip())


class _Checked:
    """Parses the fields of one input, collecting every problem, so one answer names them all."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, parse: Callable[[], Any]) -> None:
        try:
            self.values[name] = parse()
        except ValidationError as exc:
            self.errors.update(exc.errors)

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _past_date(field: str, raw: Any, today: dt.date) -> dt.date:
    day = parse_date(field, raw)
    if day > today:
        raise ValidationError.single(field, _("This date is in the future."))
    return day


# --- satisfaction checks -----------------------------------------------------------------------------


def schedule_satisfaction_checks(*, today: dt.date, chunk: int = 1000) -> int:
    """Creates the missing satisfaction check of every delivered order; returns how many.

    Idempotent: an order has at most one check (a database constraint), so a second run, or
    one overlapping another, creates nothing twice. Runs nightly from
    ``rapport aftersales schedule``.
    """
    after = dt.timedelta(days=satisfaction_after_days())
    missing = list(
        Order.objects.filter(
            status=OrderStatus.DELIVERED, delivered_on__isnull=False, delivered_on__lte=today,
            card__archived_at__isnull=True, satisfaction_checks__isnull=True,
        ).order_by("pk").values_list("pk", "card_id", "delivered_on")
    )
    created = 0
    for start in range(0, len(missing), chunk):
        batch = missing[start : start + chunk]
        with transaction.atomic():
            before = set(SatisfactionCheck.objects.filter(order_id__in=[o for o, _c, _d in batch]).values_list("order_id", flat=True))
            SatisfactionCheck.objects.bulk_create(
                [SatisfactionCheck(order_id=o, card_id=c, due_on=d + after) for o, c, d in batch if o not in before and d is not None],
                ignore_conflicts=True,
            )
            # ignore_conflicts leaves primary keys unset: read back what this run added, for the log.
            rows = list(
                SatisfactionCheck.objects.filter(order_id__in=[o for o, _c, _d in batch if o not in before])
                .values_list("pk", "order_id", "card_id", "due_on")
            )
            record_many(
                {"action": "create", "record_type": "aftersales.satisfactioncheck", "record_id": pk,
                 "detail": {"order": order_id, "card": card_id, "due_on": due_on}}
                for pk, order_id, card_id, due_on in rows
            )
            created += len(rows)
    return created


def schedule_on_delivery(order: Order) -> None:
    """The satisfaction check of an order, scheduled the moment it is delivered (a delivery
    follower of commerce); the nightly run catches deliveries that came in by import."""
    if order.delivered_on is None:
        return
    check, created = SatisfactionCheck.objects.get_or_create(
        order=order, defaults={"card_id": order.card_id, "due_on": order.delivered_on + dt.timedelta(days=satisfaction_after_days())}
    )
    if created:
        record(action="create", record=check, detail={"order": order.pk, "card": order.card_id, "due_on": check.due_on})


def parse_score(raw: Any) -> int:
    """A satisfaction score: a whole number from 1 (very unhappy) to 5 (delighted)."""
    if isinstance(raw, bool) or raw in (None, ""):
        raise ValidationError.single("score", _("Give a score from 1 to 5."))
    text = str(raw).strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise ValidationError.single("score", _("The score is a whole number from 1 to 5."))
    return int(text)


@transaction.atomic
def record_check_result(*, user: User, check: SatisfactionCheck, data: dict[str, Any]) -> SatisfactionCheck:
    """Records what the customer said: a score from 1 to 5 and a comment, once per check."""
    _require_write(user, check.card)
    _refuse_unknown(data, {"score", "comment", "in_use_on"})
    checked = _Checked()
    checked.add("score", lambda: parse_score(data.get("score")))
    checked.add("comment", lambda: clean_text("comment", data.get("comment"), max_length=1000))
    # Row lock: two people recording the same check at once must not both succeed.
    locked = SatisfactionCheck.objects.select_for_update().select_related("order").get(pk=check.pk)
    if data.get("in_use_on") not in (None, ""):
        checked.add("in_use_on", lambda: _start_of_use(locked, data["in_use_on"]))
    checked.raise_errors()
    if locked.done_at is not None:
        raise ValidationError.single(
            "score", _("This check was recorded already on %(date)s.") % {"date": timezone.localdate(locked.done_at).isoformat()}
        )
    score, comment, in_use_on = checked.values["score"], checked.values["comment"], checked.values.get("in_use_on")
    locked.score, locked.comment = score, comment
    locked.done_at, locked.done_by = timezone.now(), user
    changes: dict[str, tuple[Any, Any]] = {"score": (None, score), "comment": ("", locked.comment)}
    if in_use_on is not None and in_use_on != locked.in_use_on:
        changes["in_use_on"] = (locked.in_use_on, in_use_on)
        locked.in_use_on = in_use_on
    locked.save()
    record_changes(record=locked, changes=changes, actor=user, detail={"card": locked.card_id, "order": locked.order_id})
    return locked


def _start_of_use(check: SatisfactionCheck, raw: Any) -> dt.date:
    day = _past_date("in_use_on", raw, timezone.localdate())
    delivered = check.order.delivered_on
    if delivered is not None and day < delivered:
        raise ValidationError.single("in_use_on", _("In use before it was delivered (%(date)s).") % {"date": delivered.isoformat()})
    return day


@transaction.atomic
def set_start_of_use(*, user: User, check: SatisfactionCheck, in_use_on: Any) -> SatisfactionCheck:
    """The day the customer started using what was delivered (empty clears it)."""
    _require_write(user, check.card)
    locked = SatisfactionCheck.objects.select_for_update().select_related("order").get(pk=check.pk)
    day = None if in_use_on in (None, "") else _start_of_use(locked, in_use_on)
    if day == locked.in_use_on:
        return locked
    old, locked.in_use_on = locked.in_use_on, day
    locked.save(update_fields=["in_use_on"])
    record(action="update", record=locked, actor=user, field="in_use_on", old=old, new=day, detail={"card": locked.card_id})
    return locked


# --- complaints and service cases --------------------------------------------------------------------

CASE_FIELDS = {"kind", "subject", "details", "order", "assigned_to", "due_on"}


def _assignee(card: Card, raw: Any) -> User:
    """Someone who may work on the case: an active user who sees the customer and may write."""
    user_id = parse_id("assigned_to", raw)
    assignee = User.objects.filter(pk=user_id, is_active=True).first()
    if assignee is None or not visible_to(assignee).filter(pk=card.pk).exists() or not scope_for(assignee).may_write_card(card):
        raise ValidationError.single("assigned_to", _("Unknown user, or one who cannot work on this customer."))
    return assignee


def _order_of(user: User, card: Card, raw: Any) -> Order:
    from rapport.commerce import selectors as commerce

    try:
        order = commerce.get_order(user, parse_id("order", raw))
    except NotFound:
        raise ValidationError.single("order", _("Unknown order.")) from None
    if order.card_id != card.pk:
        raise ValidationError.single("order", _("This order belongs to another customer."))
    return order


def _case_fields(user: User, card: Card, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The case fields the input sets, checked; every bad field is named at once."""
    _refuse_unknown(data, CASE_FIELDS)
    checked = _Checked()

    def check(name: str, parse: Callable[[Any], Any]) -> None:
        if not partial or name in data:
            checked.add(name, lambda: parse(data.get(name)))

    def kind(raw: Any) -> str:
        if raw in (None, "") and not partial:
            return CaseKind.COMPLAINT.value
        if not isinstance(raw, str) or raw not in CaseKind.values:
            raise ValidationError.single("kind", _("Choose complaint or service request."))
        return raw

    check("kind", kind)
    check("subject", lambda raw: clean_text("subject", raw, required=True, max_length=300))
    check("details", lambda raw: clean_text("details", raw, max_length=5000))
    check("order", lambda raw: None if raw in (None, "") else _order_of(user, card, raw))
    check("assigned_to", lambda raw: None if raw in (None, "") else _assignee(card, raw))
    check("due_on", lambda raw: None if raw in (None, "") else parse_date("due_on", raw))
    checked.raise_errors()
    return checked.values


@transaction.atomic
def open_case(*, user: User, card: Card, data: dict[str, Any]) -> ServiceCase:
    """Opens a complaint or service case. Without an assignee it goes to the customer's owner
    (when they may work on it), else to whoever opened it."""
    _require_write(user, card)
    fields = _case_fields(user, card, data, partial=False)
    if fields.get("assigned_to") is None:
        owner = card.owner if card.owner_id else None
        fields["assigned_to"] = owner if owner is not None and owner.is_active and scope_for(owner).may_write_card(card) else user
    case = ServiceCase.objects.create(card=card, opened_by=user, **fields)
    record(action="create", record=case, actor=user,
           detail={"card": card.pk, "kind": case.kind, "assigned_to": case.assigned_to_id, "due_on": case.due_on})
    return case


def _locked_open_case(user: User, case: ServiceCase, expected_version: int | None) -> ServiceCase:
    _require_write(user, case.card)
    # Row lock: the version check and the write must see the same row.
    locked = ServiceCase.objects.select_for_update().get(pk=case.pk)
    _check_version(locked, expected_version)
    if locked.resolved_at is not None:
        raise ValidationError.single(
            "resolution", _("This case was resolved already on %(date)s.") % {"date": timezone.localdate(locked.resolved_at).isoformat()}
        )
    return locked


@transaction.atomic
def update_case(*, user: User, case: ServiceCase, data: dict[str, Any], expected_version: int | None = None) -> ServiceCase:
    """Changes an open case: kind, subject, details, order, who works on it and by when."""
    locked = _locked_open_case(user, case, expected_version)
    fields = _case_fields(user, locked.card, data, partial=True)
    changes = {name: (getattr(locked, name), value) for name, value in fields.items() if getattr(locked, name) != value}
    if not changes:
        return locked
    for name, (_old, value) in changes.items():
        setattr(locked, name, value)
    locked.version += 1
    locked.save()
    record_changes(record=locked, changes=changes, actor=user, detail={"card": locked.card_id})
    return locked


@transaction.atomic
def resolve_case(*, user: User, case: ServiceCase, resolution: Any, expected_version: int | None = None) -> ServiceCase:
    """Closes a case, saying how it was resolved. A case is resolved once."""
    text = clean_text("resolution", resolution, required=True, max_length=1000)
    locked = _locked_open_case(user, case, expected_version)
    locked.resolution, locked.resolved_at, locked.resolved_by = text, timezone.now(), user
    locked.version += 1
    locked.save()
    record(action="update", record=locked, actor=user, field="resolution", new=text, detail={"card": locked.card_id})
    return locked


# --- referral requests -------------------------------------------------------------------------------


def _satisfied_check(card: Card, raw: Any) -> SatisfactionCheck:
    """The check showing the customer is satisfied: the one named, else the latest recorded."""
    if raw not in (None, ""):
        check = SatisfactionCheck.objects.filter(pk=parse_id("satisfaction_check", raw), card=card).first()
        if check is None:
            raise ValidationError.single("satisfaction_check", _("Unknown satisfaction check of this customer."))
    else:
        check = SatisfactionCheck.objects.done().filter(card=card).order_by("-done_at", "-id").first()
        if check is None:
            raise ValidationError.single(
                "satisfaction_check", _("Record a satisfaction check first: referrals are asked of satisfied customers.")
            )
    if check.score is None:
        raise ValidationError.single("satisfaction_check", _("This satisfaction check has no result yet."))
    if check.score < SATISFIED:
        raise ValidationError.single(
            "satisfaction_check",
            _("The customer scored %(score)s of 5; referrals are asked of satisfied customers (4 or 5).") % {"score": check.score},
        )
    return check


@transaction.atomic
def ask_for_referrals(*, user: User, card: Card, data: dict[str, Any]) -> ReferralRequest:
    """Records that a satisfied customer was asked for referrals, and the benefit offered."""
    _require_write(user, card)
    _refuse_unknown(data, {"satisfaction_check", "asked_on", "benefit", "note"})
    today = timezone.localdate()
    checked = _Checked()
    checked.add("satisfaction_check", lambda: _satisfied_check(card, data.get("satisfaction_check")))
    checked.add("asked_on", lambda: today if data.get("asked_on") in (None, "") else _past_date("asked_on", data["asked_on"], today))
    checked.add("benefit", lambda: clean_text("benefit", data.get("benefit"), max_length=300))
    checked.add("note", lambda: clean_text("note", data.get("note"), max_length=500))
    checked.raise_errors()
    # Lock the customer: two requests waiting for the same customer's answer would be one too many.
    Card.objects.select_for_update().filter(pk=card.pk).first()
    if ReferralRequest.objects.filter(card=card, outcome=ReferralOutcome.ASKED).exists():
        raise ValidationError.single("outcome", _("This customer was asked already and has not answered yet."))
    request = ReferralRequest.objects.create(card=card, asked_by=user, **checked.values)
    record(action="create", record=request, actor=user,
           detail={"card": card.pk, "satisfaction_check": request.satisfaction_check_id, "benefit": request.benefit})
    return request


def _referred_cards(user: User, referrer: Card, raw: Any) -> list[Card]:
    if isinstance(raw, str):
        raw = [part for part in raw.replace(";", ",").replace(" ", ",").split(",") if part]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ValidationError.single("referred", _("Choose at least one referred customer."))
    if len(raw) > MAX_REFERRED:
        raise ValidationError.single("referred", _("At most %(n)s referred customers at once.") % {"n": MAX_REFERRED})
    ids = list(dict.fromkeys(parse_id("referred", value) for value in raw))
    found = {c.pk: c for c in visible_to(user).filter(pk__in=ids)}
    messages: list[str] = []
    for card_id in ids:
        card = found.get(card_id)
        if card is None:
            messages.append(_("Unknown card %(id)s.") % {"id": card_id})
        elif card.pk == referrer.pk:
            messages.append(_("A customer cannot refer themselves."))
        elif card.referred_by_id not in (None, referrer.pk):
            messages.append(_("%(name)s was referred by another customer already.") % {"name": card.display_name})
    if messages:
        raise ValidationError({"referred": messages})
    return [found[i] for i in ids]


@transaction.atomic
def record_referral_outcome(*, user: User, request: ReferralRequest, data: dict[str, Any]) -> ReferralRequest:
    """Records the customer's answer. Referred cards join the referral chain through the funnel
    (its rules refuse a chain that loops back), with this customer as their referrer."""
    from rapport.catalog import selectors as catalog
    from rapport.funnel.services import set_prospecting

    referrer = request.card
    _require_write(user, referrer)
    _refuse_unknown(data, {"outcome", "referred", "benefit", "note", "outcome_on"})
    locked = ReferralRequest.objects.select_for_update().get(pk=request.pk)
    if locked.outcome != ReferralOutcome.ASKED:
        raise ValidationError.single("outcome", _("The answer to this request was recorded already."))
    outcome = data.get("outcome")
    if outcome not in (ReferralOutcome.GIVEN, ReferralOutcome.DECLINED):
        raise ValidationError.single("outcome", _("Choose whether the customer gave referrals or declined."))
    today = timezone.localdate()
    checked = _Checked()
    checked.add("benefit", lambda: clean_text("benefit", data["benefit"], max_length=300) if "benefit" in data else locked.benefit)
    checked.add("note", lambda: clean_text("note", data["note"], max_length=500) if "note" in data else locked.note)
    checked.add("outcome_on", lambda: today if data.get("outcome_on") in (None, "")
                else _past_date("outcome_on", data["outcome_on"], today))
    if outcome == ReferralOutcome.GIVEN:
        checked.add("referred", lambda: _referred_cards(user, referrer, data.get("referred")))
    elif data.get("referred"):
        checked.errors["referred"] = [_("A customer who declined has no referred customers.")]
    checked.raise_errors()
    referred: list[Card] = checked.values.get("referred", [])
    method = catalog.sources().get(REFERRAL_METHOD)
    for card in referred:
        if card.referred_by_id == referrer.pk:
            continue
        change: dict[str, Any] = {"referred_by": referrer.pk}
        if card.found_by_id is None and method is not None:
            change["found_by"] = method.key
        try:
            set_prospecting(user=user, card=card, data=change)
        except ValidationError as exc:
            raise ValidationError({"referred": [f"{card.display_name}: {' '.join(m)}" for m in exc.errors.values()]}) from None
        record(action="update", record=card, actor=user, field="referred_by", old=None, new=referrer.pk,
               detail={"referral_request": locked.pk})
    old_outcome = locked.outcome
    locked.outcome = outcome
    locked.outcome_on, locked.benefit, locked.note = (checked.values[k] for k in ("outcome_on", "benefit", "note"))
    locked.save()
    locked.referred.set(referred)
    record(action="update", record=locked, actor=user, field="outcome", old=old_outcome, new=outcome,
           detail={"card": referrer.pk, "referred": [c.pk for c in referred], "benefit": locked.benefit})
    return locked
