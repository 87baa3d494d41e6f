"""Invoices, payments and products: one row, one record, through the commerce services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from rapport.audit.services import record
from rapport.cards.models import Card
from rapport.cards.values import clean_text, parse_date
from rapport.commerce import money, services
from rapport.commerce.importing.columns import CUSTOMER_TARGETS, _Customers, _Reader, _Row, _customer_key, _first_error, _iso_date, _listed
from rapport.commerce.models import ImportedRecord, Invoice, InvoiceKind, Order, Payment, PaymentKind, Product
from rapport.core.errors import ValidationError
from rapport.core.text import fold
from rapport.imports.extensions import Outcome
from rapport.imports.models import ImportJob
from rapport.imports.readers import SourceRow


_INVOICE_KINDS = {
    **{fold(w): InvoiceKind.INVOICE for w in ("invoice", "factura", "factură", "发票", "增值税发票", "fra")},
    **{fold(w): InvoiceKind.CREDIT_NOTE for w in ("credit note", "credit_note", "creditnote", "nota de credito", "nota de crédito",
                                                  "abono", "factura rectificativa", "红字发票", "贷项通知单", "nota de credit",
                                                  "notă de credit", "factura storno", "storno")},
}
_PAYMENT_KINDS = {
    **{fold(w): PaymentKind.PAYMENT for w in ("payment", "pago", "cobro", "付款", "收款", "plata", "plată", "incasare", "încasare")},
    **{fold(w): PaymentKind.ADVANCE for w in ("advance", "anticipo", "预付款", "预收款", "avans")},
    **{fold(w): PaymentKind.DEPOSIT for w in ("deposit", "deposito", "depósito", "fianza", "押金", "保证金", "garantie",
                                              "garanție", "depozit")},
}


def _word(words: Mapping[str, str], value: str) -> str:
    return words.get(fold(value), value) if value else ""


@dataclass
class _RecordIn:
    """One row checked without the database: its key, its customer and the values for the service."""

    row: int
    key: str
    customer: tuple[str, str] | None
    data: dict[str, Any]
    link: str = ""  # invoices: the order number; payments: the invoice to allocate to


@dataclass
class _Rows:
    records: list[_RecordIn]
    errors: list[tuple[int, str, str, str]]


class _RowRunner:
    """What the invoice, payment and product runners share: rows checked in ``stage``, each row
    written in ``write`` in a savepoint of its own, so a refused row leaves nothing behind."""

    kind = ""
    key_target = ""
    # Service error keys -> the target whose column the error file names.
    error_targets: dict[str, str] = {}
    fallbacks: dict[str, str] = {}

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.user = job.user
        self.reader = _Reader(job.mapping)
        self.customers = _Customers(self.user)
        self.seen: dict[str, int] = {}  # key -> the row that had it first

    def stage(self, rows: list[SourceRow]) -> _Rows:
        staged = _Rows([], [])
        for source in rows:
            row = self.reader.read(source)
            if row.problems:
                staged.errors.extend((row.number, c, r, v) for c, r, v in row.problems)
                continue
            try:
                checked = self.check(row)
            except ValidationError as exc:
                key, reason = _first_error(exc)
                target = self.target_of(key)
                staged.errors.append((row.number, self.reader.column(target), reason, row.values.get(target, "")[:200]))
                continue
            first = self.seen.setdefault(checked.key, row.number)
            if first != row.number:
                staged.errors.append((row.number, self.reader.column(self.key_target),
                                      _("%(key)s appears twice in the file (row %(row)s first).") % {"key": checked.key, "row": first},
                                      checked.key[:200]))
                continue
            staged.records.append(checked)
        return staged

    def end(self) -> _Rows:
        return _Rows([], [])

    def target_of(self, key: str) -> str:
        """The target whose column an error of the services names; a target the file does not
        have falls back to the one the kind names instead (``fallbacks``)."""
        target = self.error_targets.get(key, key)
        if target not in self.reader.column_of:
            target = self.fallbacks.get(target, target)
        return target

    def check(self, row: _Row) -> _RecordIn:
        raise NotImplementedError

    def prepare(self, records: list[_RecordIn]) -> None:
        """Batch look-ups before the rows are written."""

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        raise NotImplementedError

    def write(self, staged: _Rows, outcome: Outcome) -> None:
        for row, column, reason, value in staged.errors:
            outcome.error(row, column, reason, value)
        if not staged.records:
            return
        self.customers.resolve(r.customer for r in staged.records if r.customer is not None)
        self.prepare(staged.records)
        for item in staged.records:
            try:
                with transaction.atomic():
                    self.write_one(item, outcome)
            except ValidationError as exc:
                key, reason = _first_error(exc)
                target = self.target_of(key)
                value = item.data.get(key, item.key if target == self.key_target else "")
                outcome.error(item.row, self.reader.column(target), reason, str(value if value is not None else "")[:200])

    def customer_target(self) -> str:
        return next((t for t in CUSTOMER_TARGETS if t in self.reader.column_of), "customer")

    def card(self, item: _RecordIn) -> Card:
        card_id = self.customers.get(item.customer)
        if card_id is None:
            raise ValidationError.single(self.customer_target(), self.customers.missing(item.customer))
        return Card.objects.get(pk=card_id)

    def created(self, item: _RecordIn, model: str, obj: Any, outcome: Outcome) -> None:
        ImportedRecord.objects.create(job=self.job, row=item.row, model=model, object_id=obj.pk, created=True)
        outcome.created([item.row], item.key)

    def updated(self, item: _RecordIn, model: str, obj: Any, before: dict[str, Any], outcome: Outcome) -> None:
        obj.refresh_from_db(fields=["version"])
        before["version_after"] = obj.version
        ImportedRecord.objects.create(job=self.job, row=item.row, model=model, object_id=obj.pk, created=False, before=before)
        record(action="update", record=obj, actor=self.user, detail={"job": self.job.pk, "row": item.row})
        outcome.updated([item.row], item.key)


def _required(values: dict[str, str], target: str, message: str) -> str:
    if not values.get(target):
        raise ValidationError.single(target, message)
    return values[target]


def _dated(values: dict[str, str], target: str) -> dt.date:
    return parse_date(target, _iso_date(values.get(target, "")))


class InvoiceRunner(_RowRunner):
    kind = "invoices"
    key_target = "invoice_number"
    error_targets = {"external_id": "invoice_number", "order": "order_number"}

    def check(self, row: _Row) -> _RecordIn:
        values = row.values
        required = _required(values, "invoice_number", _("The invoice number is required."))
        number = clean_text("invoice_number", required, max_length=100)
        kind = services.invoice_kind(_word(_INVOICE_KINDS, values.get("kind", "")))
        currency = money.parse_currency(values.get("currency"))
        amount = money.parse_amount(values.get("amount"), currency)
        _required(values, "issued_on", _("The issue date is required."))
        issued_on = _dated(values, "issued_on")
        due_on = _dated(values, "due_on") if values.get("due_on") else issued_on
        if due_on < issued_on:
            raise ValidationError.single("due_on", _("Due before it was issued."))
        data = {"kind": kind, "external_id": number, "currency": currency, "amount": amount, "issued_on": issued_on,
                "due_on": due_on, "note": clean_text("note", values.get("note", ""), max_length=500)}
        # Credit notes and invoices are numbered apart: the key holds both.
        key = number if kind == InvoiceKind.INVOICE else f"{number} ({InvoiceKind(kind).label})"
        return _RecordIn(row.number, key, _customer_key(values), data, values.get("order_number", "")[:100])

    def prepare(self, records: list[_RecordIn]) -> None:
        numbers = sorted({r.data["external_id"] for r in records})
        self.existing = {(i.kind, i.external_id): i for i in Invoice.objects.filter(external_id__in=_listed(numbers))}
        links = sorted({r.link for r in records if r.link})
        self.orders = {o.external_id: o for o in Order.objects.filter(external_id__in=_listed(links))} if links else {}

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        card = self.card(item)
        data = item.data
        order = None
        if item.link:
            order = self.orders.get(item.link)
            if order is None or order.card_id != card.pk:
                raise ValidationError.single("order", _("No order %(number)s for this customer.") % {"number": item.link})
        existing = self.existing.get((data["kind"], data["external_id"]))
        if existing is None:
            invoice = services.create_invoice(user=self.user, card=card, data=data, order=order)
            Invoice.objects.filter(pk=invoice.pk).update(import_job=self.job)
            self.created(item, "invoice", invoice, outcome)
            return
        if existing.card_id != card.pk:
            raise ValidationError.single("external_id", _("An invoice with this number exists for another customer."))
        locked = Invoice.objects.select_for_update().get(pk=existing.pk)
        if locked.currency != data["currency"]:
            raise ValidationError.single("currency", _("Invoice %(number)s is in %(c)s; a currency cannot change when it is imported again.")
                                         % {"number": item.key, "c": locked.currency})
        fields = {"issued_on": data["issued_on"], "due_on": data["due_on"], "amount": data["amount"]}
        if order is not None:
            fields["order_id"] = order.pk
            if order.currency != locked.currency:
                raise ValidationError.single("currency", _("The invoice's currency differs from its order's (%(c)s).") % {"c": order.currency})
        if data["note"]:
            fields["note"] = data["note"]
        changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
        if not changed:
            outcome.unchanged([item.row], item.key)
            return
        if locked.cancelled:
            raise ValidationError.single("external_id", _("The invoice was cancelled."))
        settled = locked.amount - locked.open_amount
        if data["amount"] < settled:
            raise ValidationError.single("amount", _("%(settled)s of %(number)s is paid or credited already; its amount cannot go below that.")
                                         % {"settled": money.format_money(settled, locked.currency), "number": item.key})
        before = _invoice_state(locked)
        for key, value in changed.items():
            setattr(locked, key, value)
        locked.open_amount = locked.amount - settled
        locked.is_open = locked.open_amount > 0
        locked.version += 1
        locked.save()
        self.updated(item, "invoice", locked, before, outcome)


def _invoice_state(invoice: Invoice) -> dict[str, Any]:
    return {"issued_on": invoice.issued_on.isoformat(), "due_on": invoice.due_on.isoformat(), "amount": str(invoice.amount),
            "open_amount": str(invoice.open_amount), "is_open": invoice.is_open, "order_id": invoice.order_id,
            "note": invoice.note, "version": invoice.version}


class PaymentRunner(_RowRunner):
    kind = "payments"
    key_target = "reference"
    error_targets = {"external_id": "reference", "allocations": "allocated_amount", "allocations[0].amount": "allocated_amount",
                     "allocations[0].invoice": "invoice_number", "invoice": "invoice_number"}
    fallbacks = {"allocated_amount": "invoice_number"}  # an allocation refused for the invoice's open amount

    def check(self, row: _Row) -> _RecordIn:
        values = row.values
        required = _required(values, "reference", _("The payment reference is required."))
        reference = clean_text("reference", required, max_length=100)
        kind = services.payment_kind(_word(_PAYMENT_KINDS, values.get("kind", "")))
        currency = money.parse_currency(values.get("currency"))
        amount = money.parse_amount(values.get("amount"), currency)
        _required(values, "received_on", _("The date received is required."))
        data: dict[str, Any] = {
            "kind": kind, "external_id": reference, "currency": currency, "amount": amount,
            "received_on": _dated(values, "received_on"),
            "method": clean_text("method", values.get("method", ""), max_length=40),
            "note": clean_text("note", values.get("note", ""), max_length=500),
        }
        invoice = values.get("invoice_number", "")[:100]
        if values.get("allocated_amount"):
            if not invoice:
                raise ValidationError.single("allocated_amount", _("An allocated amount needs the invoice it goes to."))
            data["allocated"] = money.parse_amount(values["allocated_amount"], currency, "allocated_amount")
        elif invoice:
            data["allocated"] = amount
        if data.get("allocated", Decimal(0)) > amount:
            raise ValidationError.single("allocations", _("The allocations add up to more than the payment."))
        return _RecordIn(row.number, reference, _customer_key(values), data, invoice)

    def prepare(self, records: list[_RecordIn]) -> None:
        references = sorted({r.key for r in records})
        self.existing = {p.external_id: p for p in Payment.objects.filter(external_id__in=_listed(references))}
        links = sorted({r.link for r in records if r.link})
        self.invoices = ({i.external_id: i for i in Invoice.objects.filter(kind=InvoiceKind.INVOICE, external_id__in=_listed(links))}
                         if links else {})

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        card = self.card(item)
        data = item.data
        invoice = None
        if item.link:
            invoice = self.invoices.get(item.link)
            if invoice is None or invoice.card_id != card.pk:
                raise ValidationError.single("invoice", _("No invoice %(number)s for this customer.") % {"number": item.link})
        existing = self.existing.get(item.key)
        if existing is None:
            payment_data = {k: v for k, v in data.items() if k != "allocated"}
            if invoice is not None:
                payment_data["allocations"] = [{"invoice": invoice.pk, "amount": data["allocated"]}]
            payment = services.record_payment(user=self.user, card=card, data=payment_data)
            Payment.objects.filter(pk=payment.pk).update(import_job=self.job)
            if invoice is not None:
                invoice.refresh_from_db()  # its open amount, for a later row of the batch
            self.created(item, "payment", payment, outcome)
            return
        if existing.card_id != card.pk:
            raise ValidationError.single("external_id", _("A payment with this reference exists for another customer."))
        locked = Payment.objects.select_for_update().get(pk=existing.pk)
        if locked.currency != data["currency"]:
            raise ValidationError.single("currency", _("Payment %(ref)s is in %(c)s; a currency cannot change when it is imported again.")
                                         % {"ref": item.key, "c": locked.currency})
        fields = {k: data[k] for k in ("kind", "received_on", "amount", "method", "note") if data[k] not in ("", None)}
        changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
        allocate = invoice is not None and not locked.allocations.filter(invoice=invoice).exists()
        if not changed and not allocate:
            outcome.unchanged([item.row], item.key)
            return
        before = {"kind": locked.kind, "received_on": locked.received_on.isoformat(), "amount": str(locked.amount),
                  "unallocated": str(locked.unallocated), "method": locked.method, "note": locked.note,
                  "version": locked.version, "allocations": list(locked.allocations.values_list("id", flat=True))}
        if changed:
            allocated = locked.amount - locked.unallocated
            if data["amount"] < allocated:
                raise ValidationError.single("amount", _("%(allocated)s of payment %(ref)s is allocated already; its amount cannot go below that.")
                                             % {"allocated": money.format_money(allocated, locked.currency), "ref": item.key})
            for key, value in changed.items():
                setattr(locked, key, value)
            locked.unallocated = locked.amount - allocated
            locked.version += 1
            locked.save()
        if allocate:
            assert invoice is not None
            services.allocate_payment(user=self.user, payment=locked, invoice=invoice, amount=data["allocated"])
        self.updated(item, "payment", locked, before, outcome)


_PRODUCT_FIELDS = ("sku", "name", "category", "brand", "unit", "is_ours", "active")


class ProductRunner(_RowRunner):
    kind = "products"
    key_target = "sku"

    def check(self, row: _Row) -> _RecordIn:
        values = row.values
        sku = clean_text("sku", _required(values, "sku", _("The SKU is required.")), max_length=64)
        data: dict[str, Any] = {k: values[k] for k in _PRODUCT_FIELDS if k in values}
        data["sku"] = sku
        names = {k[6:]: values[k] for k in values if k.startswith("names.")}
        if names:
            data["names"] = names
        return _RecordIn(row.number, sku, None, data)

    def prepare(self, records: list[_RecordIn]) -> None:
        self.existing = {p.sku: p for p in Product.objects.filter(sku__in=_listed(sorted(r.key for r in records)))}

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        existing = self.existing.get(item.key)
        if existing is None:
            product = services.create_product(user=self.user, data=item.data)
            self.existing[item.key] = product
            self.created(item, "product", product, outcome)
            return
        data = dict(item.data)
        if "names" in data:
            data["names"] = {**existing.names, **data["names"]}
        before = {**{k: getattr(existing, k) for k in _PRODUCT_FIELDS}, "names": existing.names, "version": existing.version}
        product = services.update_product(user=self.user, product=existing, data=data)
        self.existing[item.key] = product
        if product.version == before["version"]:
            outcome.unchanged([item.row], item.key)
            return
        self.updated(item, "product", product, before, outcome)
