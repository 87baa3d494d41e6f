"""The commercial record: products and price policy, orders, invoices, payments, credit control.

Money is a ``Decimal`` with an ISO 4217 currency on the same row; amounts are rounded to
the currency's minor units when they are written (``rapport.commerce.money``). Orders,
invoices and payments belong to a customer card and are visible exactly as that card is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

class Digits(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: Digits = {"max_digits": 18, "decimal_places": 4}  # four decimals: unit prices below a cent
QUANTITY: Digits = {"max_digits": 14, "decimal_places": 3}
ZERO = Decimal("0")


class Product(models.Model):
    """Something sold: ours, or a competitor's (needed for the price and inventory audits)."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    names = models.JSONField(_("names in other languages"), default=dict, blank=True)  # {"es": …, "zh-hans": …, "ro": …}
    category = models.CharField(_("category"), max_length=120, blank=True)
    brand = models.CharField(_("brand"), max_length=120, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="unit")  # unit, box, kg, litre…
    # What one unit costs us, in the reporting currency: the cost of goods of the profitability report.
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **MONEY)
    is_ours = models.BooleanField(_("our product"), default=True)  # False: a competitor's
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["sku"]
        indexes = [models.Index(fields=["is_ours", "active", "category", "sku"], name="product_list")]
        constraints = [models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_empty")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class PriceList(models.Model):
    """Prices in one currency, valid between two dates (``valid_until`` empty: open-ended)."""

    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["currency", "-valid_from", "id"]
        indexes = [models.Index(fields=["currency", "valid_from"], name="price_list_currency")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                                   name="price_list_dates_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class Price(models.Model):
    """One product on one price list, with the resale price policy for distributors.

    ``list_price`` is what we charge; ``purchase_price`` what the distributor pays us; the
    retail figures are the policy for what the distributor charges its own customers.
    """

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    list_price = models.DecimalField(_("list price"), **MONEY)
    purchase_price = models.DecimalField(_("distributor's purchase price"), null=True, blank=True, **MONEY)
    min_retail = models.DecimalField(_("minimum retail price"), null=True, blank=True, **MONEY)
    max_retail = models.DecimalField(_("maximum retail price"), null=True, blank=True, **MONEY)
    recommended_retail = models.DecimalField(_("recommended retail price"), null=True, blank=True, **MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["price_list", "product"], name="price_once_per_list")]


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being written; no evidence for the funnel yet
    CONFIRMED = "confirmed", _("Confirmed")  # the customer committed
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")  # kept for the record, counts nowhere


COUNTED_ORDER = (OrderStatus.CONFIRMED, OrderStatus.DELIVERED)  # orders that are evidence of buying


class Approval(models.TextChoices):
    NOT_NEEDED = "", _("Not needed")
    PENDING = "pending", _("Waiting for a manager")  # over the credit limit, or the customer is on hold
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class Order(models.Model):
    """A customer's order; ``total`` is the sum of its lines, kept for fast reads."""

    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(_("ERP number"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED)
    currency = models.CharField(_("currency"), max_length=3)
    ordered_on = models.DateField(_("ordered on"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    total = models.DecimalField(_("total"), default=ZERO, **MONEY)
    note = models.CharField(_("note"), max_length=500, blank=True)
    approval = models.CharField(_("credit approval"), max_length=10, choices=Approval.choices, blank=True)
    approval_reason = models.CharField(max_length=300, blank=True)  # why it needed approval
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    import_job = models.ForeignKey("imports.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-ordered_on", "-id"]
        indexes = [
            models.Index(fields=["card", "ordered_on", "status", "currency", "total"], name="order_card_date"),
            models.Index(fields=["external_id"], name="order_external_id", condition=~Q(external_id="")),
            models.Index(fields=["approval"], name="order_pending", condition=Q(approval="pending")),
            # The analytics snapshot's freshness check reads max(updated_at) from this index.
            models.Index(fields=["updated_at"], name="order_updated"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""), name="order_external_id_unique"),
        ]

    def __str__(self) -> str:
        return self.external_id or f"#{self.pk}"


class OrderLine(models.Model):
    """One line: a product (optional, as ERP exports often carry only an amount) or a description."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=ZERO)
    amount = models.DecimalField(_("amount"), **MONEY)  # quantity × unit price less the discount

    class Meta:
        ordering = ["order", "position", "id"]
        indexes = [models.Index(fields=["product", "order"], name="order_line_product")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(discount__gte=0) & Q(discount__lte=100), name="order_line_discount_percent"),
        ]


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")  # reduces what the customer owes


# Invoices that are still owed, the rows of aging and the collection matrix. The receivables
# indexes are partial on exactly this condition: a query must say it the same way to use them.
OPEN_INVOICE = Q(is_open=True, kind="invoice")


class NonPayment(models.TextChoices):
    """Why an overdue invoice is not paid (the seeds' three causes), each with its own treatment."""

    UNKNOWN = "", _("Not known")
    FRAUD = "fraud", _("Fraud")  # prevent with a credit check before selling
    OUR_FAULT = "our_fault", _("Our fault")  # late delivery, failed acceptance: fix first, then collect
    UNWILLING = "unwilling", _("Unwilling to pay")  # follow the collection matrix


class Invoice(models.Model):
    """An invoice or a credit note. ``open_amount`` is what is still to be paid (or, for a credit
    note, still to be used); it is kept by the allocation services, never edited by hand."""

    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices")
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    external_id = models.CharField(_("number"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    open_amount = models.DecimalField(_("open amount"), **MONEY)
    is_open = models.BooleanField(default=True)  # open_amount > 0 and not cancelled
    cancelled = models.BooleanField(default=False)
    # Copies of the card's owner and team (kept in step by ``sync_card_copies``), so that the
    # receivables of a team or a rep are an index range of their own, not a join per invoice.
    owner_id = models.IntegerField(db_default=0, default=0)
    team_id = models.IntegerField(null=True, blank=True)
    non_payment = models.CharField(_("cause of non-payment"), max_length=10, choices=NonPayment.choices, blank=True)
    non_payment_note = models.CharField(max_length=500, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    import_job = models.ForeignKey("imports.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [
            # The account statement: one customer's documents in date order.
            models.Index(fields=["card", "issued_on", "id"], name="invoice_card_date"),
            # Open invoices (OPEN_INVOICE), the receivables matrix's rows: each index carries every
            # column the matrix and the aging read, in the order they are grouped by (currency,
            # due date), so a count and a sum stream out of the index alone: all open invoices
            # for an admin, one range per team, per owner or per card for the others. Within a
            # currency and due date the amounts are in order, so those at or above a "large"
            # threshold are a range of their own. (The partial condition's columns are carried
            # too: SQLite reads them otherwise.)
            models.Index(fields=["currency", "due_on", "open_amount", "team_id", "issued_on", "owner_id", "is_open", "kind"],
                         name="invoice_open_amount", condition=Q(is_open=True, kind="invoice")),
            models.Index(fields=["team_id", "currency", "due_on", "open_amount", "issued_on", "owner_id", "card", "is_open", "kind"],
                         name="invoice_open_team", condition=Q(is_open=True, kind="invoice")),
            models.Index(fields=["owner_id", "currency", "due_on", "team_id", "open_amount", "issued_on", "card", "is_open", "kind"],
                         name="invoice_open_owner", condition=Q(is_open=True, kind="invoice")),
            models.Index(fields=["card", "currency", "due_on", "team_id", "open_amount", "issued_on", "owner_id", "is_open", "kind"],
                         name="invoice_open_card", condition=Q(is_open=True, kind="invoice")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id"], condition=~Q(external_id=""), name="invoice_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(open_amount__gte=0) & Q(open_amount__lte=models.F("amount")),
                                   name="invoice_open_within_amount"),
        ]

    def __str__(self) -> str:
        return self.external_id or f"#{self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")  # pays invoices
    ADVANCE = "advance", _("Advance")  # paid before the invoice exists; allocated later
    DEPOSIT = "deposit", _("Deposit")  # held as security, returned or allocated at the end


class Payment(models.Model):
    """Money received from a customer; ``unallocated`` is the part not yet set against invoices."""

    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=8, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    external_id = models.CharField(_("reference"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    unallocated = models.DecimalField(_("not allocated"), **MONEY)
    method = models.CharField(_("method"), max_length=40, blank=True)  # bank transfer, cash, cheque…
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    import_job = models.ForeignKey("imports.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["card", "received_on", "id"], name="payment_card_date")]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""), name="payment_reference_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(unallocated__gte=0) & Q(unallocated__lte=models.F("amount")),
                                   name="payment_unallocated_within_amount"),
        ]

    def __str__(self) -> str:
        return self.external_id or f"#{self.pk}"


class Allocation(models.Model):
    """Part of a payment, or of a credit note, set against one invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allocations")
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations")
    credit_note = models.ForeignKey(Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="credit_allocations")
    amount = models.DecimalField(_("amount"), **MONEY)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["invoice"], name="allocation_invoice")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True)) | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="allocation_from_one_source",
            ),
        ]


class CreditStatus(models.TextChoices):
    OK = "ok", _("OK")
    WATCH = "watch", _("Watch")  # orders go on, the rep keeps an eye on payments
    HOLD = "hold", _("On hold")  # every new order needs a manager's approval


class CreditProfile(models.Model):
    """A customer's credit limit and status, with who set them and why."""

    card = models.OneToOneField("cards.Card", on_delete=models.CASCADE, related_name="credit", primary_key=True)
    limit = models.DecimalField(_("credit limit"), null=True, blank=True, **MONEY)  # empty: no limit set
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    status = models.CharField(_("credit status"), max_length=6, choices=CreditStatus.choices, default=CreditStatus.OK)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)


class CollectionPolicy(models.Model):
    """Where the collection matrix splits short from long overdue, and small from large amounts.

    One row per team and currency; a row without a team is the default for that currency.
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    long_after_days = models.PositiveSmallIntegerField(_("long overdue after (days)"), default=30)
    large_from = models.DecimalField(_("large amount from"), **MONEY)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "currency"], name="collection_policy_once", nulls_distinct=False),
        ]


class ExchangeRate(models.Model):
    """Value of one unit of ``currency`` in the reporting currency from ``valid_from`` on, for
    revenue across currencies (ABC tiers, reports). Without a rate, other currencies count 0."""

    currency = models.CharField(max_length=3)
    valid_from = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_once")]


class ImportedRecord(models.Model):
    """What one import row did to one commercial record; revert undoes exactly these."""

    job = models.ForeignKey("imports.ImportJob", on_delete=models.CASCADE, related_name="commerce_rows")
    row = models.PositiveIntegerField()
    model = models.CharField(max_length=20)  # product | order | invoice | payment
    object_id = models.BigIntegerField()
    created = models.BooleanField(default=True)  # False: an upsert that changed an existing record
    before = models.JSONField(null=True, blank=True)  # the record's fields before an update

    class Meta:
        indexes = [models.Index(fields=["job", "model"], name="commerce_imported_job")]


# --- collection work -------------------------------------------------------------------------------


class Cell(models.TextChoices):
    """The four cells of the collection matrix (days overdue × amount) and who acts in each."""

    SHORT_SMALL = "short_small", _("Routine reminder")  # finance sends the reminder letter
    SHORT_LARGE = "short_large", _("Rep visits to collect")  # a "collect payment" objective for the rep
    LONG_SMALL = "long_small", _("Escalated")  # the manager takes over collection
    LONG_LARGE = "long_large", _("Special arrangement")  # rep and management negotiate a payment plan


class CollectionTask(models.Model):
    """The work an overdue invoice's cell asks for, given to the right person; done once handled."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="collection_tasks")
    cell = models.CharField(_("action"), max_length=12, choices=Cell.choices)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    letter = models.TextField(_("reminder letter"), blank=True)  # for routine reminders, in the customer's language
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["assigned_to", "done_at"], name="collection_task_todo"),
            models.Index(fields=["invoice", "cell"], name="collection_task_invoice"),
        ]


class PaymentPlan(models.Model):
    """A special arrangement negotiated for large, long-overdue debt: instalments instead of one payment."""

    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="payment_plans")
    invoices = models.ManyToManyField(Invoice, related_name="payment_plans", blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), **MONEY)
    agreed_on = models.DateField(_("agreed on"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class Instalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "due_on", "id"]


class AccountCheck(models.Model):
    """The seeds' reconciliation: outstanding amounts, advances and deposits confirmed with the
    customer in writing, old claims cleared, and when the account was last reconciled."""

    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="account_checks")
    as_of = models.DateField(_("as of"))
    currency = models.CharField(_("currency"), max_length=3)
    outstanding = models.DecimalField(_("outstanding"), **MONEY)  # what our books say, at as_of
    advances = models.DecimalField(_("advances"), default=ZERO, **MONEY)
    deposits = models.DecimalField(_("deposits"), default=ZERO, **MONEY)
    confirmed = models.BooleanField(_("confirmed by the customer"), default=False)
    confirmed_by = models.CharField(_("confirmed by"), max_length=200, blank=True)  # the customer's signatory
    difference = models.DecimalField(_("difference"), default=ZERO, **MONEY)  # customer's figure minus ours
    note = models.CharField(_("note"), max_length=1000, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-as_of", "-id"]
