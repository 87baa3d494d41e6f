"""The flat orders file: one row per line, grouped into orders by their number and written in bulk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, NamedTuple

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.audit.services import record
from rapport.cards.models import Card
from rapport.commerce import money, services
from rapport.commerce.importing.columns import CACHE_LIMIT, CUSTOMER_TARGETS, _Customers, _RECORD_COLUMNS, _Reader, _Row, _customer_key, _first_error, _insert, _iso_date, _listed, _reserve_ids
from rapport.commerce.models import ImportedRecord, Order, OrderLine, OrderStatus, Product
from rapport.core.errors import ValidationError
from rapport.core.text import fold
from rapport.imports.extensions import Outcome
from rapport.imports.models import ImportJob
from rapport.imports.readers import SourceRow


_STATUS_WORDS = {
    **{fold(w): OrderStatus.DRAFT for w in ("draft", "borrador", "草稿", "ciorna", "ciornă")},
    **{fold(w): OrderStatus.CONFIRMED for w in ("confirmed", "confirmado", "confirmada", "已确认", "confirmat", "confirmată")},
    **{fold(w): OrderStatus.DELIVERED for w in ("delivered", "entregado", "entregada", "已交付", "已发货", "livrat", "livrată")},
    **{fold(w): OrderStatus.CANCELLED for w in ("cancelled", "canceled", "cancelado", "anulado", "已取消", "anulat", "anulată")},
}


# A checked line, as it crosses from the worker process: a plain tuple with its numbers as text
# (what the insert takes), since pickling a dataclass of Decimals costs twenty times as much.
# (row, SKU, description, quantity, unit price, discount, amount, priced); priced is False when
# the file gives no price and the product's list price is looked up when written.
Line = tuple[int, str, str, str, str, str, str, bool]
ROW: Final = 0
SKU: Final = 1
DESCRIPTION: Final = 2
QUANTITY: Final = 3
UNIT_PRICE: Final = 4
DISCOUNT: Final = 5
AMOUNT: Final = 6
PRICED: Final = 7


class _OrderIn(NamedTuple):
    """One order of the file, checked: its rows, its customer's key, its lines and their total."""

    number: str
    rows: list[int]
    customer: tuple[str, str] | None
    currency: str
    ordered_on: dt.date
    status: str
    delivered_on: dt.date | None
    note: str
    total: str
    lines: list[Line]


@dataclass
class _Group:
    number: str
    rows: list[_Row] = field(default_factory=list)


@dataclass
class _Staged:
    orders: list[_OrderIn]
    errors: list[tuple[int, str, str, str]]  # (row, column, reason, value): the rows that cannot be imported


FUNNEL_NOW = 5000


class OrderRunner:
    """The flat orders file: one row per line, grouped into orders by their number."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.user = job.user
        self.reader = _Reader(job.mapping)
        self.customers = _Customers(self.user)
        # Read now, before a worker process forks with a copy: SKUs are looked up in memory.
        self.products: dict[str, int] = dict(Product.objects.values_list("sku", "id"))
        self.placeholder = Card()  # check_order keeps the card it is given; the stage has none yet
        self.carry: _Group | None = None
        # Orders this job wrote or found unchanged: number -> (order id, card id, currency, lines so
        # far, whether an ImportedRecord holds what to revert).
        self.written: dict[str, tuple[int, int, str, int, bool]] = {}
        self.customers_ordering: set[int] = set()  # for the funnel, once the file is in

    # --- stage: no database ------------------------------------------------------------------------

    def stage(self, rows: list[SourceRow]) -> _Staged:
        staged = _Staged([], [])
        groups: dict[str, _Group] = {}
        if self.carry is not None:
            groups[self.carry.number] = self.carry
            self.carry = None
        last = ""
        for source in rows:
            row = self.reader.read(source)
            if row.problems:
                staged.errors.extend((row.number, c, r, v) for c, r, v in row.problems)
                continue
            number = row.values.get("order_external_id", "")
            if not number:
                staged.errors.append((row.number, self.reader.column("order_external_id"),
                                      _("The order number is required: the rows of one order share it."), ""))
                continue
            groups.setdefault(number, _Group(number)).rows.append(row)
            last = number
        # The last order may go on in the next batch: it waits for it (or for the end).
        if last:
            self.carry = groups.pop(last)
        for group in groups.values():
            self._check(group, staged)
        return staged

    def end(self) -> _Staged:
        staged = _Staged([], [])
        if self.carry is not None:
            self._check(self.carry, staged)
            self.carry = None
        return staged

    def _check(self, group: _Group, staged: _Staged) -> None:
        first = group.rows[0].values
        rows = group.rows
        for row in rows[1:]:
            for target in ("currency", "ordered_on"):
                if row.values.get(target, "").upper() != first.get(target, "").upper():
                    what = _("currency") if target == "currency" else _("order date")
                    self._fail(staged, rows, row.number, target, row.values.get(target, ""),
                               _("The lines of order %(number)s differ in %(what)s (row %(row)s has %(value)s).")
                               % {"number": group.number, "what": what, "row": rows[0].number, "value": first.get(target, "")})
                    return
            if _customer_key(row.values) != _customer_key(first):
                self._fail(staged, rows, row.number, self._customer_target(), str((_customer_key(row.values) or ("", ""))[1]),
                           _("Order %(number)s is for another customer in row %(row)s.") % {"number": group.number, "row": rows[0].number})
                return
        customer = _customer_key(first)
        if customer is None:
            self._fail(staged, rows, rows[0].number, self._customer_target(), "", _("A customer is required."))
            return
        lines_in = []
        for row in rows:
            values = row.values
            line: dict[str, Any] = {"quantity": values.get("quantity", "1"), "description": values.get("description", ""),
                                    "discount": values.get("discount", "")}
            if values.get("unit_price"):
                line["unit_price"] = values["unit_price"]
            elif values.get("amount"):
                line["amount"] = values["amount"]
            elif values.get("product_sku"):
                line["unit_price"] = "0"  # the price list's price, looked up when written (``_price``)
            lines_in.append(line)
        status = first.get("status", "")
        data = {
            "currency": first.get("currency", ""), "ordered_on": _iso_date(first.get("ordered_on", "")),
            "external_id": group.number, "status": _STATUS_WORDS.get(fold(status), status) if status else "",
            "delivered_on": _iso_date(first.get("delivered_on", "")), "note": first.get("note", ""), "lines": lines_in,
        }
        if not data["ordered_on"]:
            self._fail(staged, rows, rows[0].number, "ordered_on", "", _("The order date is required."))
            return
        try:
            checked = services.check_order(user=self.user, card=self.placeholder, data=data)
        except ValidationError as exc:
            key, reason = _first_error(exc)
            index, target = _line_key(key)
            row = rows[index] if index is not None and index < len(rows) else rows[0]
            self._fail(staged, rows, row.number, target, row.values.get(target, ""), reason)
            return
        lines: list[Line] = []
        total = Decimal(0)
        for row, raw, checked_line in zip(rows, lines_in, checked.lines):
            amount = checked_line.amount
            if "amount" in raw:
                # The ERP's line total is kept as it is; the unit price derived from it has four
                # decimals and quantity × unit price may miss the total by a fraction of a cent.
                amount = money.round_money(Decimal(raw["amount"].strip()), checked.currency)
            priced = bool(row.values.get("unit_price") or row.values.get("amount")) or not row.values.get("product_sku")
            total += amount
            lines.append((row.number, row.values.get("product_sku", "")[:64], checked_line.description,
                          str(checked_line.quantity), str(checked_line.unit_price), str(checked_line.discount), str(amount),
                          priced))
        staged.orders.append(_OrderIn(
            number=group.number, rows=[r.number for r in rows], customer=customer, currency=checked.currency,
            ordered_on=checked.ordered_on, status=checked.status, delivered_on=checked.delivered_on, note=checked.note,
            total=str(total), lines=lines,
        ))

    def _customer_target(self) -> str:
        return next((t for t in CUSTOMER_TARGETS if t in self.reader.column_of), "customer")

    def _fail(self, staged: _Staged, rows: list[_Row], bad: int, target: str, value: str, reason: str) -> None:
        staged.errors.append((bad, self.reader.column(target) if target else "", reason, value[:200]))
        for row in rows:
            if row.number != bad:
                staged.errors.append((row.number, "", _("Not imported with its order: row %(row)s cannot be imported.")
                                      % {"row": bad}, ""))

    # --- write: the importing process, inside the batch's transaction --------------------------------

    def write(self, staged: _Staged, outcome: Outcome) -> None:
        for row, column, reason, value in staged.errors:
            outcome.error(row, column, reason, value)
        orders = staged.orders
        if not orders:
            return
        self.customers.resolve(o.customer for o in orders if o.customer is not None)
        self._products_for(orders)
        numbers = [o.number for o in orders if o.number not in self.written]
        # Orders imported before, locked, and their lines: two queries for the batch (a file
        # imported again compares every order with what it holds).
        existing = ({o.external_id: o for o in Order.objects.select_for_update().filter(external_id__in=_listed(numbers))}
                    if numbers else {})
        held: dict[int, list[tuple[Any, ...]]] = {o.pk: [] for o in existing.values()}
        if held:
            for line in (OrderLine.objects.filter(order_id__in=_listed(sorted(held), "bigint")).order_by("order_id", "position", "id")
                         .values_list("order_id", "product_id", "description", "quantity", "unit_price", "discount", "amount")):
                held[line[0]].append(line[1:])
        new: list[tuple[_OrderIn, int, list[int | None]]] = []
        for order in orders:
            card_id = self.customers.get(order.customer)
            if card_id is None:
                self._reject(outcome, order, order.rows[0], self._customer_target(), order.customer[1] if order.customer else "",
                             self.customers.missing(order.customer))
                continue
            resolved = self._line_products(order, outcome)
            if resolved is None:
                continue
            product_ids, order = resolved
            if order.number in self.written:
                self._append(order, card_id, product_ids, outcome)
            elif order.number in existing:
                found = existing[order.number]
                self._update(order, found, held[found.pk], card_id, product_ids, outcome)
            else:
                new.append((order, card_id, product_ids))
        if new:
            self._create(new, outcome)
        if len(self.written) > CACHE_LIMIT:
            self.written.clear()  # an order that comes back after this many is found as existing

    def finish(self) -> str:
        """The funnel follows the imported orders (first order → customer, and so on) right
        away for an import of up to FUNNEL_NOW customers; a larger one leaves the moves to the
        nightly ``rapport funnel auto``, which reads the same orders, so the import stays fast."""
        cards = sorted(self.customers_ordering)
        if not cards:
            return ""
        if len(cards) > FUNNEL_NOW:
            return str(_("The funnel stages of these %(n)s customers follow at the next nightly run.") % {"n": len(cards)})
        from rapport.funnel.services import apply_order_evidence

        apply_order_evidence(card_ids=cards)
        return ""

    def _products_for(self, orders: list[_OrderIn]) -> None:
        """SKUs not known when the run started (products created meanwhile): one query per batch."""
        unknown = {ln[SKU] for o in orders for ln in o.lines if ln[SKU] and ln[SKU] not in self.products}
        if unknown:
            self.products.update(Product.objects.filter(sku__in=_listed(sorted(unknown))).values_list("sku", "id"))

    def _line_products(self, order: _OrderIn, outcome: Outcome) -> tuple[list[int | None], _OrderIn] | None:
        """The product of each line (None without a SKU), and the order with the lines that had no
        price priced; None when a SKU is no product or a product has no price."""
        ids: list[int | None] = []
        lines: list[Line] = []
        for line in order.lines:
            sku = line[SKU]
            product_id = self.products.get(sku) if sku else None
            if sku and product_id is None:
                try:
                    product_id = services.find_product(sku, "product_sku").pk  # names the problem
                except ValidationError as exc:
                    self._reject(outcome, order, line[ROW], "product_sku", sku, _first_error(exc)[1])
                    return None
            if not line[PRICED]:
                priced = self._price(order, line, product_id, outcome)
                if priced is None:
                    return None
                line = priced
            ids.append(product_id)
            lines.append(line)
        if lines != order.lines:
            order = order._replace(lines=lines, total=str(sum((Decimal(ln[AMOUNT]) for ln in lines), Decimal(0))))
        return ids, order

    def _price(self, order: _OrderIn, line: Line, product_id: int | None, outcome: Outcome) -> Line | None:
        """A line with a product and no price or amount takes the product's price on the order date."""
        price = services.price_for(Product(pk=product_id), order.currency, order.ordered_on) if product_id else None
        if price is None:
            self._reject(outcome, order, line[ROW], "unit_price", "",
                         _("%(sku)s has no price in %(currency)s valid on %(date)s; give the unit price.")
                         % {"sku": line[SKU], "currency": order.currency, "date": order.ordered_on.isoformat()})
            return None
        quantity, discount = Decimal(line[QUANTITY]), Decimal(line[DISCOUNT])
        amount = money.round_money(quantity * price.list_price * (1 - discount / 100), order.currency)
        return (line[ROW], line[SKU], line[DESCRIPTION], line[QUANTITY], str(price.list_price), line[DISCOUNT], str(amount), True)

    def _reject(self, outcome: Outcome, order: _OrderIn, bad: int, target: str, value: str, reason: str) -> None:
        outcome.error(bad, self.reader.column(target), reason, value[:200])
        for number in order.rows:
            if number != bad:
                outcome.error(number, "", _("Not imported with its order: row %(row)s cannot be imported.") % {"row": bad})

    def _line_rows(self, order_id: int, lines: list[Line], product_ids: list[int | None], start: int) -> list[tuple[Any, ...]]:
        return [(order_id, start + i, product_id, line[DESCRIPTION], line[QUANTITY], line[UNIT_PRICE], line[DISCOUNT], line[AMOUNT])
                for i, (line, product_id) in enumerate(zip(lines, product_ids))]

    _LINE_COLUMNS = ["order_id", "position", "product_id", "description", "quantity", "unit_price", "discount", "amount"]
    _ORDER_COLUMNS = [
        "id", "card_id", "external_id", "status", "currency", "ordered_on", "delivered_on", "accepted_on", "total", "note",
        "approval", "approval_reason", "approved_by_id", "approved_at", "approval_note", "created_by_id", "created_at",
        "updated_at", "import_job_id", "version",
    ]

    def _create(self, new: list[tuple[_OrderIn, int, list[int | None]]], outcome: Outcome) -> None:
        """New orders: imported as the ERP holds them, so without a credit check (the order was
        taken already); one insert per table for the whole batch."""
        ids = _reserve_ids(Order, len(new))
        ops = connection.ops  # looked up once: each lookup goes through the connection handler's thread-local
        now, day = ops.adapt_datetimefield_value(timezone.now()), ops.adapt_datefield_value
        job_id, user_id = self.job.pk, self.user.pk
        orders, lines, records = [], [], []
        for order_id, (order, card_id, product_ids) in zip(ids, new):
            orders.append((order_id, card_id, order.number, order.status, order.currency, day(order.ordered_on),
                           day(order.delivered_on), None, order.total, order.note, "", "", None, None, "", user_id, now, now,
                           job_id, 1))
            lines.extend(self._line_rows(order_id, order.lines, product_ids, 0))
            records.append((job_id, order.rows[0], "order", order_id, True, None))
            self.customers_ordering.add(card_id)
            self.written[order.number] = (order_id, card_id, order.currency, len(order.lines), True)
            outcome.created(order.rows, order.number)
        _insert(Order, self._ORDER_COLUMNS, orders)
        _insert(OrderLine, self._LINE_COLUMNS, lines)
        _insert(ImportedRecord, _RECORD_COLUMNS, records)
        record(action="import", record_type="commerce.order", actor=self.user,
               detail={"job": job_id, "created": len(orders), "lines": len(lines)})

    def _append(self, order: _OrderIn, card_id: int, product_ids: list[int | None], outcome: Outcome) -> None:
        """Lines of an order this job wrote already, further down the file: added to it."""
        order_id, written_card, currency, count, recorded = self.written[order.number]
        if written_card != card_id:
            self._reject(outcome, order, order.rows[0], self._customer_target(), order.customer[1] if order.customer else "",
                         _("Order %(number)s is for another customer earlier in the file.") % {"number": order.number})
            return
        if currency != order.currency:
            self._reject(outcome, order, order.rows[0], "currency", order.currency,
                         _("The order is in %(c)s.") % {"c": currency})
            return
        if not recorded:
            # Found unchanged earlier in the file: what it was is kept now, for revert.
            locked = Order.objects.select_for_update().get(pk=order_id)
            ImportedRecord.objects.create(job=self.job, row=order.rows[0], model="order", object_id=order_id, created=False,
                                          before=_order_state(locked))
            Order.objects.filter(pk=order_id).update(version=F("version") + 1, updated_at=timezone.now())
        _insert(OrderLine, self._LINE_COLUMNS, self._line_rows(order_id, order.lines, product_ids, count))
        Order.objects.filter(pk=order_id).update(total=F("total") + Decimal(order.total))
        self.customers_ordering.add(card_id)
        self.written[order.number] = (order_id, card_id, currency, count + len(order.lines), True)
        outcome.updated(order.rows, order.number)

    def _update(self, order: _OrderIn, existing: Order, current: list[tuple[Any, ...]], card_id: int,
                product_ids: list[int | None], outcome: Outcome) -> None:
        """An order imported before (locked, with its lines ``current``): it gets the file's lines
        and dates, unless nothing differs."""
        if existing.card_id != card_id:
            self._reject(outcome, order, order.rows[0], "order_external_id", order.number,
                         _("An order with this number exists for another customer."))
            return
        if existing.currency != order.currency:
            self._reject(outcome, order, order.rows[0], "currency", order.currency,
                         _("Order %(number)s is in %(c)s; a currency cannot change when it is imported again.")
                         % {"number": order.number, "c": existing.currency})
            return
        locked = existing
        wanted = [(pid, ln[DESCRIPTION], Decimal(ln[QUANTITY]), Decimal(ln[UNIT_PRICE]), Decimal(ln[DISCOUNT]), Decimal(ln[AMOUNT]))
                  for ln, pid in zip(order.lines, product_ids)]
        fields = {"ordered_on": order.ordered_on, "status": order.status, "delivered_on": order.delivered_on, "note": order.note}
        if current == wanted and all(getattr(locked, k) == v for k, v in fields.items()):
            self.customers_ordering.add(card_id)
            self.written[order.number] = (locked.pk, card_id, order.currency, len(order.lines), False)
            outcome.unchanged(order.rows, order.number)
            return
        self.customers_ordering.add(card_id)
        self.written[order.number] = (locked.pk, card_id, order.currency, len(order.lines), True)
        before = _order_state(locked)
        locked.lines.all().delete()
        _insert(OrderLine, self._LINE_COLUMNS, self._line_rows(locked.pk, order.lines, product_ids, 0))
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.total = Decimal(order.total)
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        ImportedRecord.objects.create(job=self.job, row=order.rows[0], model="order", object_id=locked.pk, created=False,
                                      before=before)
        record(action="update", record=locked, actor=self.user, detail={"job": self.job.pk, "lines": len(order.lines)})
        outcome.updated(order.rows, order.number)


def _order_state(order: Order) -> dict[str, Any]:
    """An order's fields and lines before an import changes it, and the version it will have after."""
    return {
        "ordered_on": order.ordered_on.isoformat(), "status": order.status, "note": order.note,
        "delivered_on": order.delivered_on.isoformat() if order.delivered_on else None, "total": str(order.total),
        "lines": [[ln.product_id, ln.description, str(ln.quantity), str(ln.unit_price), str(ln.discount), str(ln.amount)]
                  for ln in order.lines.order_by("position", "id")],
        "version": order.version, "version_after": order.version + 1,
    }


def _line_key(key: str) -> tuple[int | None, str]:
    """The line and the target behind an error key of ``check_order`` (``lines[2].quantity``)."""
    targets = {"external_id": "order_external_id", "lines": "", "product": "product_sku"}
    if key.startswith("lines["):
        index, _sep, rest = key[6:].partition("]")
        name = rest.lstrip(".")
        return (int(index) if index.isdigit() else None), targets.get(name, name)
    return None, targets.get(key, key)
