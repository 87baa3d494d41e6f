"""Revert of a commerce import: what it created goes, what it updated is restored, unless changed since."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.commerce.models import (
    Allocation,
    CollectionTask,
    ImportedRecord,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
)
from rapport.commerce.importing.records import _PRODUCT_FIELDS
from rapport.imports.extensions import KindRevert
from rapport.imports.models import ImportJob


def revert(job: ImportJob, user: User) -> KindRevert:
    """Undoes what the job's rows did: records it created are deleted, records it updated get
    their earlier fields (and an order its earlier lines) back. A record changed since (its
    version moved: an edit, an approval, a payment allocated to an invoice, a price set on a
    product) is left as it is, and so is one that other records now depend on (an order with
    invoices, an invoice with payments, a product on other orders)."""
    report = KindRevert()
    kept: dict[str, int] = {}
    for model in ("payment", "invoice", "order", "product"):
        entries = list(ImportedRecord.objects.filter(job=job, model=model).order_by("-id"))
        if not entries:
            continue
        undo = {"payment": _revert_payment, "invoice": _revert_invoice, "order": _revert_order, "product": _revert_product}[model]
        if model == "order":
            # Orders the import created: deleted in bulk, unless changed or invoiced since.
            deleted, kept_orders = _delete_created_orders([e.object_id for e in entries if e.created])
            report.deleted += deleted
            if kept_orders:
                kept[model] = kept.get(model, 0) + kept_orders
            entries = [e for e in entries if not e.created]
        for entry in entries:
            outcome = undo(entry)
            if outcome == "kept":
                kept[model] = kept.get(model, 0) + 1
            elif outcome == "deleted":
                report.deleted += 1
            elif outcome == "restored":
                report.restored += 1
    report.kept = sum(kept.values())
    if kept:
        what = ", ".join(f"{n} {model}{'s' if n > 1 else ''}" for model, n in kept.items())
        report.message = (f"Kept because they changed since the import or other records depend on them: {what}.")
    record(action="delete", record_type="imports.importjob", record_id=job.pk, actor=user,
           detail={"reverted": job.kind, "deleted": report.deleted, "restored": report.restored, "kept": report.kept})
    return report


def _after(entry: ImportedRecord) -> int:
    return 1 if entry.created else int((entry.before or {}).get("version_after", -1))


def _revert_payment(entry: ImportedRecord) -> str:
    payment = Payment.objects.select_for_update().filter(pk=entry.object_id).first()
    if payment is None:
        return "gone"
    if payment.version != _after(entry):
        return "kept"
    before = entry.before or {}
    keep = set(before.get("allocations", []))
    for allocation in payment.allocations.exclude(pk__in=keep).select_related("invoice"):
        invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
        invoice.open_amount += allocation.amount
        invoice.is_open = not invoice.cancelled and invoice.open_amount > 0
        invoice.version += 1
        invoice.save(update_fields=["open_amount", "is_open", "version"])
        allocation.delete()
    if entry.created:
        payment.delete()
        return "deleted"
    payment.kind, payment.method, payment.note = before["kind"], before["method"], before["note"]
    payment.received_on = dt.date.fromisoformat(before["received_on"])
    payment.amount, payment.unallocated = Decimal(before["amount"]), Decimal(before["unallocated"])
    payment.version += 1
    payment.save()
    return "restored"


def _revert_invoice(entry: ImportedRecord) -> str:
    invoice = Invoice.objects.select_for_update().filter(pk=entry.object_id).first()
    if invoice is None:
        return "gone"
    depends = (Allocation.objects.filter(Q(invoice=invoice) | Q(credit_note=invoice)).exists()
               or CollectionTask.objects.filter(invoice=invoice).exists() or invoice.payment_plans.exists())
    if invoice.version != _after(entry) or (entry.created and depends):
        return "kept"
    if entry.created:
        invoice.delete()
        return "deleted"
    before = entry.before or {}
    invoice.issued_on, invoice.due_on = dt.date.fromisoformat(before["issued_on"]), dt.date.fromisoformat(before["due_on"])
    invoice.amount, invoice.open_amount = Decimal(before["amount"]), Decimal(before["open_amount"])
    invoice.is_open, invoice.order_id, invoice.note = before["is_open"], before["order_id"], before["note"]
    invoice.version += 1
    invoice.save()
    return "restored"


REVERT_CHUNK = 2000


def _delete_created_orders(ids: list[int]) -> tuple[int, int]:
    """Deletes the orders of ``ids`` still as the import made them (version 1, no invoice), a
    chunk at a time; returns how many were deleted and how many kept (those already gone are neither)."""
    deleted = kept = 0
    for start in range(0, len(ids), REVERT_CHUNK):
        chunk = ids[start : start + REVERT_CHUNK]
        versions = dict(Order.objects.select_for_update().filter(pk__in=chunk).values_list("id", "version"))
        invoiced = set(Invoice.objects.filter(order_id__in=list(versions)).values_list("order_id", flat=True))
        doomed = [pk for pk, version in versions.items() if version == 1 and pk not in invoiced]
        kept += len(versions) - len(doomed)
        if doomed:
            OrderLine.objects.filter(order_id__in=doomed).delete()
            Order.objects.filter(pk__in=doomed).delete()
            deleted += len(doomed)
    return deleted, kept


def _revert_order(entry: ImportedRecord) -> str:
    order = Order.objects.select_for_update().filter(pk=entry.object_id).first()
    if order is None:
        return "gone"
    if order.version != _after(entry) or (entry.created and order.invoices.exists()):
        return "kept"
    if entry.created:
        order.delete()
        return "deleted"
    before = entry.before or {}
    order.lines.all().delete()
    OrderLine.objects.bulk_create([
        OrderLine(order=order, position=i, product_id=p, description=d, quantity=Decimal(q), unit_price=Decimal(u),
                  discount=Decimal(di), amount=Decimal(a))
        for i, (p, d, q, u, di, a) in enumerate(before["lines"])
    ])
    order.ordered_on, order.status, order.note = dt.date.fromisoformat(before["ordered_on"]), before["status"], before["note"]
    order.delivered_on = dt.date.fromisoformat(before["delivered_on"]) if before["delivered_on"] else None
    order.total = Decimal(before["total"])
    order.updated_at = timezone.now()
    order.version += 1
    order.save()
    return "restored"


def _revert_product(entry: ImportedRecord) -> str:
    product = Product.objects.select_for_update().filter(pk=entry.object_id).first()
    if product is None:
        return "gone"
    if product.version != _after(entry):
        return "kept"
    if entry.created:
        if product.order_lines.exists() or product.prices.exists():
            return "kept"
        product.delete()
        return "deleted"
    before = entry.before or {}
    for key in (*_PRODUCT_FIELDS, "names"):
        setattr(product, key, before[key])
    product.updated_at = timezone.now()
    product.version += 1
    product.save()
    return "restored"
