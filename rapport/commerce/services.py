"""Write use-cases of the commercial record: products and prices, orders, invoices, payments,
allocations, credit control and the causes of non-payment.

Every function takes keyword arguments, checks what the user may do, runs in one
transaction and writes its own audit entry; a refused call leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.cards.models import Card
from rapport.cards.values import clean_text, parse_date
from rapport.commerce import money
from rapport.commerce.models import (
    COUNTED_ORDER,
    ZERO,
    Allocation,
    Approval,
    CollectionPolicy,
    CreditProfile,
    CreditStatus,
    Invoice,
    InvoiceKind,
    NonPayment,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    Price,
    PriceList,
    Product,
)
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for

MAX_LINES = 500  # lines per order: far above a real order, below what one request should carry
LANGUAGE_KEYS = ("es", "zh-hans", "ro")


# --- who may do what --------------------------------------------------------------------------------


def _role(user: User) -> str:
    return scope_for(user).role


def may_manage_catalog(user: User) -> bool:
    """Products, price lists and collection thresholds: managers and admins."""
    return _role(user) in ("admin", "manager")


def may_write(user: User, card: Card) -> bool:
    """Orders, invoices and payments of a visible card: everyone but analysts, who only read."""
    return scope_for(user).may_write_card(card)


def may_approve(user: User, card: Card) -> bool:
    """Credit decisions: the admins, and the managers of the card's team or owner."""
    scope = scope_for(user)
    if scope.role == "admin":
        return True
    if scope.role != "manager":
        return False
    return (card.team_id is not None and card.team_id in scope.managed_team_ids) or card.owner_id in scope.managed_user_ids


def require_write(user: User, card: Card) -> None:
    """Refuses (PermissionDenied) a user who may read the commercial record but not change it."""
    if not may_write(user, card):
        raise PermissionDenied(_("Your role may read the commercial record but not change it."))


def _require_catalog(user: User) -> None:
    if not may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))


def _check_version(obj: Any, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise Conflict(_("This record changed since you loaded it; reload and try again."))


def _text(data: dict[str, Any], key: str, max_length: int, *, required: bool = False) -> str:
    return clean_text(key, data.get(key), required=required, max_length=max_length)


def _optional_date(data: dict[str, Any], key: str) -> dt.date | None:
    raw = data.get(key)
    return None if raw in (None, "") else parse_date(key, raw)


def _bool(data: dict[str, Any], key: str, default: bool) -> bool:
    raw = data.get(key, default)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "y", "si", "sí", "是", "da"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "n", "否", "nu", ""):
        return False if raw.strip() else default
    raise ValidationError.single(key, _("Expected true or false."))


# --- products and prices -----------------------------------------------------------------------------


def _product_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "sku" in data:
        fields["sku"] = _text(data, "sku", 64, required=True)
    if not partial or "name" in data:
        fields["name"] = _text(data, "name", 200, required=True)
    for key, limit in (("category", 120), ("brand", 120)):
        if not partial or key in data:
            fields[key] = _text(data, key, limit)
    if not partial or "unit" in data:
        fields["unit"] = _text(data, "unit", 20) or "unit"
    if "names" in data or not partial:
        names = data.get("names") or {}
        if not isinstance(names, dict):
            raise ValidationError.single("names", _("Expected an object of language code to name."))
        unknown = sorted(set(names) - set(LANGUAGE_KEYS))
        if unknown:
            raise ValidationError.single("names", _("Unknown language: %(codes)s.") % {"codes": ", ".join(unknown)[:100]})
        fields["names"] = {k: clean_text(f"names.{k}", v, max_length=200) for k, v in names.items() if v}
    if not partial or "unit_cost" in data:
        cost = data.get("unit_cost")
        fields["unit_cost"] = None if cost in (None, "") else money.parse_decimal(cost, "unit_cost", allow_zero=True)
    if not partial or "is_ours" in data:
        fields["is_ours"] = _bool(data, "is_ours", True)
    if not partial or "active" in data:
        fields["active"] = _bool(data, "active", True)
    return fields


@transaction.atomic
def create_product(*, user: User, data: dict[str, Any]) -> Product:
    _require_catalog(user)
    fields = _product_fields(data, partial=False)
    if Product.objects.filter(sku=fields["sku"]).exists():
        raise ValidationError.single("sku", _("A product with this SKU exists already."))
    product = Product.objects.create(**fields)
    record(action="create", record=product, actor=user, detail={"sku": product.sku})
    return product


@transaction.atomic
def update_product(*, user: User, product: Product, data: dict[str, Any], expected_version: int | None = None) -> Product:
    _require_catalog(user)
    locked = Product.objects.select_for_update().get(pk=product.pk)
    _check_version(locked, expected_version)
    fields = _product_fields(data, partial=True)
    if "sku" in fields and fields["sku"] != locked.sku and Product.objects.filter(sku=fields["sku"]).exists():
        raise ValidationError.single("sku", _("A product with this SKU exists already."))
    changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
    for key, value in changed.items():
        setattr(locked, key, value)
    if changed:
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        record(action="update", record=locked, actor=user, detail={"fields": sorted(changed)})
    return locked


@transaction.atomic
def create_price_list(*, user: User, data: dict[str, Any]) -> PriceList:
    _require_catalog(user)
    valid_from = parse_date("valid_from", data.get("valid_from"))
    valid_until = _optional_date(data, "valid_until")
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError.single("valid_until", _("The end of validity comes before its start."))
    price_list = PriceList.objects.create(
        name=_text(data, "name", 120, required=True), currency=money.parse_currency(data.get("currency")),
        valid_from=valid_from, valid_until=valid_until,
    )
    record(action="create", record=price_list, actor=user, detail={"currency": price_list.currency})
    return price_list


@transaction.atomic
def set_price(*, user: User, price_list: PriceList, product: Product, data: dict[str, Any]) -> Price:
    """Adds or replaces one product's prices on a list; retail policy figures are optional but consistent."""
    _require_catalog(user)
    cur = price_list.currency
    values: dict[str, Decimal | None] = {"list_price": money.parse_amount(data.get("list_price"), cur, "list_price", allow_zero=True)}
    for key in ("purchase_price", "min_retail", "max_retail", "recommended_retail"):
        raw = data.get(key)
        values[key] = None if raw in (None, "") else money.parse_amount(raw, cur, key, allow_zero=True)
    low, high, rec = values["min_retail"], values["max_retail"], values["recommended_retail"]
    if low is not None and high is not None and low > high:
        raise ValidationError.single("max_retail", _("The maximum retail price is below the minimum."))
    if rec is not None and ((low is not None and rec < low) or (high is not None and rec > high)):
        raise ValidationError.single("recommended_retail", _("The recommended retail price lies outside the minimum and maximum."))
    price, created = Price.objects.update_or_create(price_list=price_list, product=product, defaults=values)
    record(action="create" if created else "update", record=price, actor=user,
           detail={"sku": product.sku, "list": price_list.pk, "list_price": str(values["list_price"])})
    return price


def price_for(product: Product, currency: str, on: dt.date) -> Price | None:
    """The product's price in ``currency`` on a date: from the valid list that started last."""
    return (
        Price.objects.filter(product=product, price_list__currency=currency, price_list__valid_from__lte=on)
        .exclude(price_list__valid_until__lt=on)
        .select_related("price_list")
        .order_by("-price_list__valid_from", "-price_list_id")
        .first()
    )


def find_product(value: Any, field: str = "product") -> Product:
    """A product by id (a number) or SKU (text)."""
    if isinstance(value, bool) or value in (None, ""):
        raise ValidationError.single(field, _("A product is required."))
    if isinstance(value, int):
        product = Product.objects.filter(pk=value).first() if 0 < value <= 2**62 else None
    else:
        text = str(value).strip()[:64]
        product = Product.objects.filter(sku=text).first()
        if product is None and text.isdigit() and len(text) < 18:
            product = Product.objects.filter(pk=int(text)).first()
    if product is None:
        raise ValidationError.single(field, _("No product with the SKU or id %(value)s.") % {"value": repr(str(value)[:64])})
    return product


# --- orders ------------------------------------------------------------------------------------------


DeliveryFollower = Callable[[Order], None]
_delivery_followers: list[DeliveryFollower] = []


def register_delivery_follower(follower: DeliveryFollower) -> None:
    """Lets an app act when an order is delivered (after-sales schedules its satisfaction check);
    called inside the transaction that records the delivery."""
    if follower not in _delivery_followers:
        _delivery_followers.append(follower)


def _delivered(order: Order) -> None:
    for follower in _delivery_followers:
        follower(order)


def _funnel_follows(card: Card) -> None:
    """An order that starts or stops counting may move the card in the funnel (first order →
    customer, repeated orders → regular); the funnel's own rules decide and record why."""
    from rapport.funnel.services import apply_order_evidence

    apply_order_evidence(card_ids=[card.pk])


@dataclass(frozen=True)
class LineIn:
    product: Product | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal


def _line(raw: Any, index: int, currency: str, ordered_on: dt.date) -> LineIn:
    where = f"lines[{index}]"
    if not isinstance(raw, dict):
        raise ValidationError.single(where, _("Expected an object."))
    product = find_product(raw["product"], f"{where}.product") if raw.get("product") not in (None, "") else None
    quantity = money.parse_decimal(raw.get("quantity", 1), f"{where}.quantity", maximum=Decimal("1e9"))
    if quantity != quantity.quantize(Decimal("0.001")):
        raise ValidationError.single(f"{where}.quantity", _("At most three decimals."))
    discount = money.parse_decimal(raw.get("discount") or 0, f"{where}.discount", allow_zero=True, maximum=Decimal(100))
    if raw.get("unit_price") not in (None, ""):
        unit_price = money.parse_decimal(raw["unit_price"], f"{where}.unit_price", allow_zero=True)
    elif raw.get("amount") not in (None, ""):
        # ERP exports often carry only the line total: the unit price follows from it.
        total = money.parse_decimal(raw["amount"], f"{where}.amount", allow_zero=True)
        unit_price = (total / quantity / (1 - discount / 100)) if discount < 100 else ZERO
    elif product is not None:
        price = price_for(product, currency, ordered_on)
        if price is None:
            raise ValidationError.single(
                f"{where}.unit_price",
                _("%(sku)s has no price in %(currency)s valid on %(date)s; give the unit price.")
                % {"sku": product.sku, "currency": currency, "date": ordered_on.isoformat()},
            )
        unit_price = price.list_price
    else:
        raise ValidationError.single(f"{where}.unit_price", _("A line without a product needs a unit price or an amount."))
    unit_price = unit_price.quantize(Decimal("0.0001"))
    description = clean_text(f"{where}.description", raw.get("description"), max_length=300)
    if product is None and not description:
        description = ""
    amount = money.round_money(quantity * unit_price * (1 - discount / 100), currency)
    return LineIn(product, description, quantity, unit_price, discount, amount)


def _order_status(value: Any) -> str:
    status = str(value or OrderStatus.CONFIRMED)
    if status not in OrderStatus.values:
        raise ValidationError.single("status", _("Unknown status %(value)s; one of: %(choices)s.")
                                     % {"value": repr(status[:20]), "choices": ", ".join(OrderStatus.values)})
    return status


def exposure(card: Card, currency: str) -> Decimal:
    """What the customer owes or has committed to in ``currency``: open invoices, less open credit
    notes and unallocated payments, plus counted orders not yet invoiced."""
    invoices = Invoice.objects.filter(card=card, currency=currency, is_open=True)
    owed = invoices.filter(kind=InvoiceKind.INVOICE).aggregate(s=Sum("open_amount"))["s"] or ZERO
    credits = invoices.filter(kind=InvoiceKind.CREDIT_NOTE).aggregate(s=Sum("open_amount"))["s"] or ZERO
    unallocated = Payment.objects.filter(card=card, currency=currency).aggregate(s=Sum("unallocated"))["s"] or ZERO
    uninvoiced = (
        Order.objects.filter(card=card, currency=currency, status__in=COUNTED_ORDER, invoices__isnull=True)
        .exclude(approval__in=(Approval.PENDING, Approval.REFUSED))
        .aggregate(s=Sum("total"))["s"] or ZERO
    )
    return owed - credits - unallocated + uninvoiced


def credit_reason(card: Card, currency: str, amount: Decimal, *, exclude_order: Order | None = None) -> str:
    """Why an order of ``amount`` needs a manager's approval, or "" when it does not."""
    profile = CreditProfile.objects.filter(card=card).first()
    if profile is None:
        return ""
    if profile.status == CreditStatus.HOLD:
        return _("The customer's credit is on hold.")
    if profile.limit is not None and profile.currency == currency:
        current = exposure(card, currency)
        if exclude_order is not None and exclude_order.status in COUNTED_ORDER and exclude_order.approval not in (Approval.PENDING, Approval.REFUSED):
            current -= exclude_order.total
        if current + amount > profile.limit:
            return _("This order brings the customer to %(total)s, over the credit limit of %(limit)s.") % {
                "total": money.format_money(current + amount, currency), "limit": money.format_money(profile.limit, currency),
            }
    return ""


@dataclass(frozen=True)
class OrderFields:
    card: Card
    currency: str
    ordered_on: dt.date
    status: str
    external_id: str
    delivered_on: dt.date | None
    accepted_on: dt.date | None
    note: str
    lines: list[LineIn]


def check_order(*, user: User, card: Card, data: dict[str, Any]) -> OrderFields:
    """Everything an order needs, checked without writing (the import's dry run uses it too)."""
    currency = money.parse_currency(data.get("currency"))
    ordered_on = parse_date("ordered_on", data.get("ordered_on") or timezone.localdate())
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list):
        raise ValidationError.single("lines", _("Expected a list of lines."))
    if not raw_lines:
        raise ValidationError.single("lines", _("An order needs at least one line."))
    if len(raw_lines) > MAX_LINES:
        raise ValidationError.single("lines", _("At most %(n)s lines per order.") % {"n": MAX_LINES})
    lines = [_line(raw, i, currency, ordered_on) for i, raw in enumerate(raw_lines)]
    delivered_on = _optional_date(data, "delivered_on")
    accepted_on = _optional_date(data, "accepted_on")
    if delivered_on and delivered_on < ordered_on:
        raise ValidationError.single("delivered_on", _("Delivered before it was ordered."))
    if accepted_on and (delivered_on is None or accepted_on < delivered_on):
        raise ValidationError.single("accepted_on", _("Acceptance comes after delivery."))
    status = _order_status(data.get("status"))
    if status == OrderStatus.DELIVERED and delivered_on is None:
        delivered_on = ordered_on
    return OrderFields(
        card=card, currency=currency, ordered_on=ordered_on, status=status,
        external_id=_text(data, "external_id", 100), delivered_on=delivered_on, accepted_on=accepted_on,
        note=_text(data, "note", 500), lines=lines,
    )


@transaction.atomic
def create_order(*, user: User, card: Card, data: dict[str, Any]) -> Order:
    """Records an order with its lines. Over the credit limit, or for a customer on hold, the
    order is kept but waits for a manager's approval before it counts."""
    require_write(user, card)
    fields = check_order(user=user, card=card, data=data)
    if fields.external_id and Order.objects.filter(external_id=fields.external_id).exists():
        raise ValidationError.single("external_id", _("An order with this ERP number exists already."))
    total = sum((line.amount for line in fields.lines), ZERO)
    reason = credit_reason(card, fields.currency, total) if fields.status in COUNTED_ORDER else ""
    order = Order.objects.create(
        card=card, external_id=fields.external_id, status=fields.status, currency=fields.currency,
        ordered_on=fields.ordered_on, delivered_on=fields.delivered_on, accepted_on=fields.accepted_on,
        total=total, note=fields.note, created_by=user,
        approval=Approval.PENDING if reason else Approval.NOT_NEEDED, approval_reason=reason[:300],
    )
    OrderLine.objects.bulk_create([
        OrderLine(order=order, position=i, product=ln.product, description=ln.description, quantity=ln.quantity,
                  unit_price=ln.unit_price, discount=ln.discount, amount=ln.amount)
        for i, ln in enumerate(fields.lines)
    ])
    record(action="create", record=order, actor=user,
           detail={"card": card.pk, "total": str(total), "currency": order.currency, "approval": order.approval})
    _funnel_follows(card)
    if order.status == OrderStatus.DELIVERED:
        _delivered(order)
    return order


ALLOWED_STATUS = {
    OrderStatus.DRAFT: {OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.DELIVERED: set(),
    OrderStatus.CANCELLED: set(),
}


@transaction.atomic
def change_order(*, user: User, order: Order, data: dict[str, Any], expected_version: int | None = None) -> Order:
    """Status, delivery and acceptance dates and the note. A draft becoming confirmed passes the credit check."""
    require_write(user, order.card)
    locked = Order.objects.select_for_update().get(pk=order.pk)
    _check_version(locked, expected_version)
    changed: dict[str, Any] = {}
    if "status" in data and data["status"] != locked.status:
        status = _order_status(data["status"])
        if status not in ALLOWED_STATUS[OrderStatus(locked.status)]:
            raise ValidationError.single("status", _("An order that is %(old)s cannot become %(new)s.")
                                         % {"old": locked.get_status_display(), "new": OrderStatus(status).label})
        if status == OrderStatus.CONFIRMED:
            reason = credit_reason(locked.card, locked.currency, locked.total)
            if reason:
                changed["approval"], changed["approval_reason"] = Approval.PENDING, reason[:300]
        if status == OrderStatus.DELIVERED and not data.get("delivered_on") and not locked.delivered_on:
            changed["delivered_on"] = timezone.localdate()
        changed["status"] = status
    for key in ("delivered_on", "accepted_on"):
        if key in data:
            changed[key] = _optional_date(data, key)
    if "note" in data:
        changed["note"] = _text(data, "note", 500)
    delivered = changed.get("delivered_on", locked.delivered_on)
    accepted = changed.get("accepted_on", locked.accepted_on)
    if delivered and delivered < locked.ordered_on:
        raise ValidationError.single("delivered_on", _("Delivered before it was ordered."))
    if accepted and (delivered is None or accepted < delivered):
        raise ValidationError.single("accepted_on", _("Acceptance comes after delivery."))
    changed = {k: v for k, v in changed.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    old = {k: str(getattr(locked, k)) for k in changed}
    for key, value in changed.items():
        setattr(locked, key, value)
    locked.updated_at = timezone.now()
    locked.version += 1
    locked.save()
    record(action="update", record=locked, actor=user, old=old, new={k: str(v) for k, v in changed.items()})
    if "status" in changed or "approval" in changed:
        _funnel_follows(locked.card)
    if changed.get("status") == OrderStatus.DELIVERED:
        _delivered(locked)
    return locked


@transaction.atomic
def decide_order(*, user: User, order: Order, approve: bool, note: Any = "") -> Order:
    """A manager approves or refuses an order that went over the credit limit or was placed on hold."""
    if not may_approve(user, order.card):
        raise PermissionDenied(_("Only a manager of this customer's team or an administrator decides on credit."))
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.approval != Approval.PENDING:
        raise ValidationError.single("approval", _("This order is not waiting for approval."))
    text = clean_text("note", note, max_length=500)
    if not approve and not text:
        raise ValidationError.single("note", _("Say why the order is refused."))
    locked.approval = Approval.APPROVED if approve else Approval.REFUSED
    locked.approved_by, locked.approved_at, locked.approval_note = user, timezone.now(), text
    locked.version += 1
    locked.save()
    record(action="permission", record=locked, actor=user, field="approval", new=locked.approval, detail={"note": text})
    _funnel_follows(locked.card)
    return locked


# --- invoices, payments and allocations --------------------------------------------------------------


def invoice_kind(value: Any) -> str:
    kind = str(value or InvoiceKind.INVOICE)
    if kind not in InvoiceKind.values:
        raise ValidationError.single("kind", _("Unknown kind; one of: %(choices)s.") % {"choices": ", ".join(InvoiceKind.values)})
    return kind


@transaction.atomic
def create_invoice(*, user: User, card: Card, data: dict[str, Any], order: Order | None = None) -> Invoice:
    """An invoice or a credit note; its open amount starts at its full amount."""
    require_write(user, card)
    kind = invoice_kind(data.get("kind"))
    currency = money.parse_currency(data.get("currency") or (order.currency if order else None))
    if order is not None:
        if order.card_id != card.pk:
            raise ValidationError.single("order", _("The order belongs to another customer."))
        if order.currency != currency:
            raise ValidationError.single("currency", _("The invoice's currency differs from its order's (%(c)s).") % {"c": order.currency})
        if order.status == OrderStatus.CANCELLED:
            raise ValidationError.single("order", _("The order was cancelled."))
    amount = money.parse_amount(data.get("amount") if data.get("amount") not in (None, "") else (order.total if order else None),
                                currency)
    issued_on = parse_date("issued_on", data.get("issued_on") or timezone.localdate())
    due_on = parse_date("due_on", data.get("due_on") or issued_on)
    if due_on < issued_on:
        raise ValidationError.single("due_on", _("Due before it was issued."))
    external_id = _text(data, "external_id", 100)
    if external_id and Invoice.objects.filter(kind=kind, external_id=external_id).exists():
        raise ValidationError.single("external_id", _("A document with this number exists already."))
    invoice = Invoice.objects.create(
        card=card, order=order, kind=kind, external_id=external_id, currency=currency, issued_on=issued_on,
        due_on=due_on, amount=amount, open_amount=amount, is_open=True, note=_text(data, "note", 500), created_by=user,
        owner_id=card.owner_id, team_id=card.team_id,
    )
    record(action="create", record=invoice, actor=user, detail={"card": card.pk, "amount": str(amount), "currency": currency, "kind": kind})
    return invoice


def payment_kind(value: Any) -> str:
    kind = str(value or PaymentKind.PAYMENT)
    if kind not in PaymentKind.values:
        raise ValidationError.single("kind", _("Unknown kind; one of: %(choices)s.") % {"choices": ", ".join(PaymentKind.values)})
    return kind


def _visible_invoice(user: User, card: Card, value: Any, field: str) -> Invoice:
    from rapport.commerce.selectors import visible_invoices

    if isinstance(value, bool) or not str(value).isdigit() or int(str(value)) > 2**62:
        raise ValidationError.single(field, _("Expected an invoice id."))
    invoice = visible_invoices(user).filter(pk=int(str(value))).first()
    if invoice is None:
        raise ValidationError.single(field, _("No such invoice."))
    if invoice.card_id != card.pk:
        raise ValidationError.single(field, _("The invoice belongs to another customer."))
    return invoice


def _allocate(*, user: User, invoice: Invoice, amount: Decimal, currency: str, field: str,
              payment: Payment | None = None, credit_note: Invoice | None = None) -> Allocation:
    """Sets ``amount`` against an invoice, whose row is locked so concurrent payments cannot over-pay it."""
    target = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if target.kind != InvoiceKind.INVOICE:
        raise ValidationError.single(field, _("Payments and credit notes are set against invoices, not credit notes."))
    if target.cancelled:
        raise ValidationError.single(field, _("The invoice was cancelled."))
    if target.currency != currency:
        raise ValidationError.single(field, _("The invoice is in %(c)s.") % {"c": target.currency})
    if amount > target.open_amount:
        raise ValidationError.single(field, _("%(amount)s is more than the %(open)s still open on invoice %(number)s.") % {
            "amount": money.format_money(amount, currency), "open": money.format_money(target.open_amount, currency),
            "number": str(target),
        })
    target.open_amount -= amount
    target.is_open = target.open_amount > 0
    target.version += 1
    target.save(update_fields=["open_amount", "is_open", "version"])
    return Allocation.objects.create(invoice=target, payment=payment, credit_note=credit_note, amount=amount, created_by=user)


def _allocation_pairs(user: User, card: Card, raw: Any, currency: str) -> list[tuple[Invoice, Decimal]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationError.single("allocations", _("Expected a list of {invoice, amount}."))
    if len(raw) > MAX_LINES:
        raise ValidationError.single("allocations", _("Too many allocations at once."))
    pairs = []
    for i, item in enumerate(raw):
        field = f"allocations[{i}]"
        if not isinstance(item, dict):
            raise ValidationError.single(field, _("Expected an object."))
        invoice = _visible_invoice(user, card, item.get("invoice"), f"{field}.invoice")
        pairs.append((invoice, money.parse_amount(item.get("amount"), currency, f"{field}.amount")))
    return pairs


@transaction.atomic
def record_payment(*, user: User, card: Card, data: dict[str, Any]) -> Payment:
    """Money received; ``allocations`` set parts of it against open invoices of the same customer."""
    require_write(user, card)
    kind = payment_kind(data.get("kind"))
    currency = money.parse_currency(data.get("currency"))
    amount = money.parse_amount(data.get("amount"), currency)
    external_id = _text(data, "external_id", 100)
    if external_id and Payment.objects.filter(external_id=external_id).exists():
        raise ValidationError.single("external_id", _("A payment with this reference exists already."))
    pairs = _allocation_pairs(user, card, data.get("allocations"), currency)
    allocated = sum((a for _i, a in pairs), ZERO)
    if allocated > amount:
        raise ValidationError.single("allocations", _("The allocations add up to more than the payment."))
    payment = Payment.objects.create(
        card=card, kind=kind, external_id=external_id, currency=currency,
        received_on=parse_date("received_on", data.get("received_on") or timezone.localdate()),
        amount=amount, unallocated=amount - allocated, method=_text(data, "method", 40), note=_text(data, "note", 500),
        created_by=user,
    )
    for i, (invoice, part) in enumerate(pairs):
        _allocate(user=user, invoice=invoice, amount=part, currency=currency, field=f"allocations[{i}].amount", payment=payment)
    record(action="create", record=payment, actor=user,
           detail={"card": card.pk, "amount": str(amount), "currency": currency, "allocated": str(allocated)})
    return payment


@transaction.atomic
def allocate_payment(*, user: User, payment: Payment, invoice: Invoice, amount: Any) -> Allocation:
    """Sets part of an earlier payment, advance or deposit against an invoice."""
    require_write(user, payment.card)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    part = money.parse_amount(amount, locked.currency)
    if invoice.card_id != locked.card_id:
        raise ValidationError.single("invoice", _("The invoice belongs to another customer."))
    if part > locked.unallocated:
        raise ValidationError.single("amount", _("Only %(left)s of this payment is not yet allocated.")
                                     % {"left": money.format_money(locked.unallocated, locked.currency)})
    allocation = _allocate(user=user, invoice=invoice, amount=part, currency=locked.currency, field="amount", payment=locked)
    Payment.objects.filter(pk=locked.pk).update(unallocated=F("unallocated") - part, version=F("version") + 1)
    record(action="update", record=locked, actor=user, field="allocation", new={"invoice": invoice.pk, "amount": str(part)})
    return allocation


@transaction.atomic
def apply_credit_note(*, user: User, credit_note: Invoice, invoice: Invoice, amount: Any) -> Allocation:
    """Uses part of a credit note to reduce what is open on an invoice of the same customer."""
    require_write(user, credit_note.card)
    note = Invoice.objects.select_for_update().get(pk=credit_note.pk)
    if note.kind != InvoiceKind.CREDIT_NOTE:
        raise ValidationError.single("credit_note", _("This document is not a credit note."))
    part = money.parse_amount(amount, note.currency)
    if invoice.card_id != note.card_id:
        raise ValidationError.single("invoice", _("The invoice belongs to another customer."))
    if part > note.open_amount:
        raise ValidationError.single("amount", _("Only %(left)s of this credit note is left.")
                                     % {"left": money.format_money(note.open_amount, note.currency)})
    allocation = _allocate(user=user, invoice=invoice, amount=part, currency=note.currency, field="amount", credit_note=note)
    note.open_amount -= part
    note.is_open = note.open_amount > 0
    note.version += 1
    note.save(update_fields=["open_amount", "is_open", "version"])
    record(action="update", record=note, actor=user, field="allocation", new={"invoice": invoice.pk, "amount": str(part)})
    return allocation


@transaction.atomic
def set_non_payment(*, user: User, invoice: Invoice, cause: Any, note: Any = "") -> Invoice:
    """Records why an overdue invoice is not paid: fraud, our fault, or unwilling to pay."""
    require_write(user, invoice.card)
    value = str(cause or "")
    if value not in NonPayment.values:
        raise ValidationError.single("cause", _("Unknown cause; one of: %(choices)s.") % {"choices": ", ".join(v for v in NonPayment.values if v)})
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    old = locked.non_payment
    locked.non_payment, locked.non_payment_note = value, clean_text("note", note, max_length=500)
    locked.version += 1
    locked.save(update_fields=["non_payment", "non_payment_note", "version"])
    record(action="update", record=locked, actor=user, field="non_payment", old=old, new=value)
    return locked


# --- credit control ----------------------------------------------------------------------------------


@transaction.atomic
def set_credit(*, user: User, card: Card, data: dict[str, Any], expected_version: int | None = None) -> CreditProfile:
    """Sets a customer's credit limit and status; a reason is required for anything but OK."""
    if not may_approve(user, card):
        raise PermissionDenied(_("Only a manager of this customer's team or an administrator sets credit."))
    profile, _created = CreditProfile.objects.select_for_update().get_or_create(card=card)
    _check_version(profile, expected_version)
    status = str(data.get("status") or profile.status)
    if status not in CreditStatus.values:
        raise ValidationError.single("status", _("Unknown credit status; one of: %(choices)s.") % {"choices": ", ".join(CreditStatus.values)})
    reason = _text(data, "reason", 500)
    if status != CreditStatus.OK and not reason:
        raise ValidationError.single("reason", _("Say why the customer's credit is watched or on hold."))
    limit = profile.limit
    currency = profile.currency
    if "limit" in data:
        if data["limit"] in (None, ""):
            limit, currency = None, ""
        else:
            currency = money.parse_currency(data.get("currency") or profile.currency or money.reporting_currency())
            limit = money.parse_amount(data["limit"], currency, "limit", allow_zero=True)
    old = {"status": profile.status, "limit": str(profile.limit) if profile.limit is not None else None, "currency": profile.currency}
    profile.status, profile.limit, profile.currency, profile.reason = status, limit, currency, reason
    profile.set_by, profile.set_at = user, timezone.now()
    profile.version += 1
    profile.save()
    record(action="update", record_type="commerce.creditprofile", record_id=card.pk, actor=user, field="credit",
           old=old, new={"status": status, "limit": str(limit) if limit is not None else None, "currency": currency, "reason": reason})
    return profile


@transaction.atomic
def set_collection_policy(*, user: User, team: Any, currency: Any, long_after_days: Any, large_from: Any) -> CollectionPolicy:
    """Where the matrix splits short from long overdue and small from large, for one team (or all) and currency."""
    _require_catalog(user)
    code = money.parse_currency(currency)
    if isinstance(long_after_days, bool) or not str(long_after_days).isdigit() or not 1 <= int(str(long_after_days)) <= 3650:
        raise ValidationError.single("long_after_days", _("A whole number of days between 1 and 3650."))
    policy, _created = CollectionPolicy.objects.update_or_create(
        team=team, currency=code,
        defaults={"long_after_days": int(str(long_after_days)), "large_from": money.parse_amount(large_from, code, "large_from"),
                  "updated_by": user, "updated_at": timezone.now()},
    )
    record(action="update", record=policy, actor=user, detail={"team": getattr(team, "pk", None), "currency": code})
    return policy


def sync_invoice_copies(card: Card) -> None:
    """Keeps the owner and team copied onto a card's invoices in step with the card."""
    Invoice.objects.filter(card_id=card.pk).exclude(owner_id=card.owner_id, team_id=card.team_id).update(
        owner_id=card.owner_id, team_id=card.team_id
    )


def erase_commercial_text(card: Any, model: type[Any], fk: Any) -> int:
    """Erasure of a person who bought: the accounting record stays true (numbers, dates, amounts,
    document numbers and links are kept, as the law requires), while every free text about
    them goes, including the reminder letters that named them."""
    from rapport.commerce.models import CollectionTask

    rows = model._default_manager.filter(**{fk.attname: card.pk})
    blank = {f: "" for f in ("note", "non_payment_note", "approval_note", "approval_reason") if _has_field(model, f)}
    if model is Invoice:
        CollectionTask.objects.filter(invoice__card_id=card.pk).update(letter="", outcome="")
    return rows.update(**blank) if blank else rows.count()


def _has_field(model: type[Any], name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)
