"""Field visits to distributors (seed 000, DESIGN.md C6): the plan with its objectives and the
sales tools to bring, the manager's instructions and the week plan, the day's route, the
check-in and check-out, results per objective, promises made by us and by them, price and
inventory audits, the retail and promotion checklist, market intelligence and the review.

A visit belongs to a customer card and is visible exactly as that card is: ``card_owner_id``
and ``card_team_id`` copy the card's owner and team (kept in step by a copy sync), as on
promises and audit observations, so that agendas and audit comparisons filter by index alone.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.commerce.models import MONEY, QUANTITY, Digits

COORDINATE: Digits = {"max_digits": 9, "decimal_places": 6}
VISIBILITY = ["card_owner_id", "card_team_id", "card"]


class Status(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Result(models.TextChoices):
    MET = "met", _("Met")
    PARTLY = "partly", _("Partly met")
    NOT_MET = "not_met", _("Not met")


class Visit(models.Model):
    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="visits")
    planned_on = models.DateField(_("date"))
    window_start = models.TimeField(_("from"), null=True, blank=True)
    window_end = models.TimeField(_("until"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("expected duration (minutes)"), default=45)
    # The order the rep typed the day's visits in; the planned route is compared against it.
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    companions = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="visits")
    people = models.ManyToManyField("cards.Card", related_name="+", blank=True)  # whom we expect to meet
    # The sales tools to bring: {tool key (data/visits.yaml): packed?}
    tools = models.JSONField(_("sales tools"), default=dict, blank=True)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    # The manager's instructions, and afterwards whether they were carried out.
    instructions = models.TextField(_("manager's instructions"), blank=True)
    instructions_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    instructions_at = models.DateTimeField(null=True, blank=True)
    instructions_result = models.CharField(_("instructions carried out"), max_length=8, choices=Result.choices, blank=True)
    instructions_note = models.CharField(max_length=500, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_in_latitude = models.DecimalField(null=True, blank=True, **COORDINATE)
    check_in_longitude = models.DecimalField(null=True, blank=True, **COORDINATE)
    # The review: was the visit's purpose reached, why, what went well and what to improve.
    outcome = models.CharField(_("outcome"), max_length=8, choices=Result.choices, blank=True)
    outcome_note = models.CharField(_("why"), max_length=1000, blank=True)
    strengths = models.TextField(_("what went well"), blank=True)
    improve = models.TextField(_("what to improve"), blank=True)
    summary = models.TextField(_("report"), blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # Sent with the report by the browser; a report sent again with it (a phone retrying) is one report.
    report_token = models.CharField(max_length=64, blank=True)
    activity = models.ForeignKey("activities.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The draft order the inventory audit suggested; asked for again, the same order answers.
    suggested_order = models.ForeignKey("commerce.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    card_owner_id = models.IntegerField(default=0)  # the card's owner: visibility
    card_team_id = models.IntegerField(null=True, blank=True)  # the card's team: visibility
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["planned_on", "position", "window_start", "id"]
        indexes = [
            models.Index(fields=["owner", "planned_on", "position"], name="visit_owner_day"),
            models.Index(fields=["team", "planned_on"], name="visit_team_day"),
            models.Index(fields=["card", "planned_on"], name="visit_card_day"),
            models.Index(fields=["planned_on", "status", "owner", *VISIBILITY], name="visit_report"),
            models.Index(fields=["card_owner_id", "planned_on"], name="visit_card_owner"),
            models.Index(fields=["card_team_id", "planned_on"], name="visit_card_team"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=720), name="visit_duration_sane"),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True) | Q(window_end__isnull=True) | Q(window_end__gt=models.F("window_start")),
                name="visit_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} {self.planned_on}"

    @property
    def is_open(self) -> bool:
        return self.status in (Status.PLANNED, Status.IN_PROGRESS)


class Objective(models.Model):
    """What the visit is for, from the translated catalog (data/visits.yaml), with a target."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="objectives")
    kind = models.CharField(_("objective"), max_length=32)  # a key of data/visits.yaml objectives
    note = models.CharField(_("detail"), max_length=500, blank=True)
    target_amount = models.DecimalField(_("target"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    result_note = models.CharField(_("why"), max_length=500, blank=True)
    achieved_amount = models.DecimalField(_("achieved"), null=True, blank=True, **MONEY)
    order = models.ForeignKey("commerce.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["kind", "result"], name="visit_objective_kind")]
        constraints = [
            models.CheckConstraint(condition=Q(target_amount__isnull=True) | Q(target_amount__gte=0), name="visit_objective_target_positive"),
            models.CheckConstraint(condition=Q(achieved_amount__isnull=True) | Q(achieved_amount__gte=0), name="visit_objective_achieved_positive"),
        ]


class PromiseBy(models.TextChoices):
    US = "us", _("By us")
    THEM = "them", _("By them")


class Promise(models.Model):
    """A promise made by us or by the customer, kept as a record until it is marked kept."""

    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="visit_promises")
    visit = models.ForeignKey(Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises")
    by = models.CharField(_("made"), max_length=4, choices=PromiseBy.choices)
    text = models.CharField(_("promise"), max_length=500)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    kept_on = models.DateField(_("kept on"), null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visit_promises")
    card_owner_id = models.IntegerField(default=0)
    card_team_id = models.IntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["kept_on", "due_on", "id"]
        indexes = [
            models.Index(fields=["card", "kept_on", "due_on"], name="visit_promise_card"),
            models.Index(fields=["owner", "kept_on", "due_on"], name="visit_promise_owner"),
        ]

    @property
    def kept_on_time(self) -> bool | None:
        if self.kept_on is None:
            return None
        return self.due_on is None or self.kept_on <= self.due_on


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for changes")


class WeekPlan(models.Model):
    """A rep's visits of one week (Monday to Sunday) sent to the manager for approval."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="week_plans")
    week = models.DateField(_("week of"))  # the Monday
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-week"]
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="visit_week_plan_once")]


class Site(models.Model):
    """Where a customer is and when it can be visited: coordinates and opening hours."""

    card = models.OneToOneField("cards.Card", on_delete=models.CASCADE, related_name="site", primary_key=True)
    latitude = models.DecimalField(_("latitude"), null=True, blank=True, **COORDINATE)
    longitude = models.DecimalField(_("longitude"), null=True, blank=True, **COORDINATE)
    located_by = models.CharField(max_length=10, blank=True)  # "entered" or "check_in"
    located_at = models.DateTimeField(null=True, blank=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    closed_weekdays = models.JSONField(_("closed on"), default=list, blank=True)  # 0 = Monday … 6 = Sunday

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(latitude__isnull=True) | (Q(latitude__gte=-90) & Q(latitude__lte=90)), name="visit_site_latitude"),
            models.CheckConstraint(condition=Q(longitude__isnull=True) | (Q(longitude__gte=-180) & Q(longitude__lte=180)), name="visit_site_longitude"),
        ]


class StartPoint(models.Model):
    """Where a rep's day starts (home or office) and when they leave."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="visit_start", primary_key=True)
    label = models.CharField(_("name"), max_length=120, blank=True)
    latitude = models.DecimalField(_("latitude"), **COORDINATE)
    longitude = models.DecimalField(_("longitude"), **COORDINATE)
    leaves_at = models.TimeField(_("leaves at"), default="08:30")


class PriceObservation(models.Model):
    """A price seen at a customer during a visit: what they pay (purchase) and sell at (retail)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="prices")
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("commerce.Product", on_delete=models.PROTECT, related_name="+")
    observed_on = models.DateField()
    currency = models.CharField(_("currency"), max_length=3)
    purchase_price = models.DecimalField(_("purchase price"), null=True, blank=True, **MONEY)
    retail_price = models.DecimalField(_("retail price"), null=True, blank=True, **MONEY)
    on_promotion = models.BooleanField(_("on promotion"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    card_owner_id = models.IntegerField(default=0)
    card_team_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["observed_on", "id"]
        indexes = [
            # The same product across customers in a period, visibility from the index alone.
            models.Index(fields=["product", "currency", "observed_on", "retail_price", "purchase_price", *VISIBILITY], name="visit_price_product"),
            models.Index(fields=["card", "product", "observed_on"], name="visit_price_card"),
            # The customer's latest price audit (the reflection before a visit) without a sort.
            models.Index(fields=["card", "observed_on", "visit", "card_owner_id", "card_team_id"], name="visit_price_card_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["visit", "product"], name="visit_price_once"),
            models.CheckConstraint(condition=Q(purchase_price__isnull=True) | Q(purchase_price__gte=0), name="visit_price_purchase_positive"),
            models.CheckConstraint(condition=Q(retail_price__isnull=True) | Q(retail_price__gte=0), name="visit_price_retail_positive"),
        ]


class StockObservation(models.Model):
    """The stock of one product counted at a customer during a visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="stock")
    card = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("commerce.Product", on_delete=models.PROTECT, related_name="+")
    observed_on = models.DateField()
    quantity = models.DecimalField(_("stock"), **QUANTITY)
    card_owner_id = models.IntegerField(default=0)
    card_team_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["observed_on", "id"]
        indexes = [models.Index(fields=["card", "observed_on", "product"], name="visit_stock_card")]
        constraints = [
            models.UniqueConstraint(fields=["visit", "product"], name="visit_stock_once"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="visit_stock_not_negative"),
        ]


class CheckState(models.TextChoices):
    OK = "ok", _("In order")
    NOT_OK = "not_ok", _("Not in order")
    NOT_APPLICABLE = "na", _("Does not apply")


class RetailCheck(models.Model):
    """One item of the retail and promotion checklist (data/visits.yaml) as found on the visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="retail_checks")
    item = models.CharField(max_length=40)
    state = models.CharField(max_length=6, choices=CheckState.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="visit_retail_check_once")]


class IntelligenceKind(models.TextChoices):
    COMPETITOR_CHANNEL = "competitor_channel", _("A competitor's channel")
    COMPETITOR_PRICE = "competitor_price", _("A competitor's price")
    COMPETITOR_PROMOTION = "competitor_promotion", _("A competitor's promotion")
    MARKET_SHARE = "market_share", _("Market share")
    CREDIT_CHANGE = "credit_change", _("A change in the customer's credit")
    NEW_PROSPECT = "new_prospect", _("A new prospect")


class Intelligence(models.Model):
    """Market intelligence gathered on a visit; each is also a fact on the card (source "visit")."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="intelligence")
    kind = models.CharField(_("kind"), max_length=24, choices=IntelligenceKind.choices)
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    text = models.CharField(_("what was learnt"), max_length=1000)
    fact = models.ForeignKey("cards.Fact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    prospect = models.ForeignKey("cards.Card", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


ZERO = Decimal("0")
