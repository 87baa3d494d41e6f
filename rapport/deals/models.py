"""Deals and the six-step sales process (seed 001): the step with its entry and exit signals,
the four opportunity questions, the customer's buying stage and the deal's own decision unit,
needs and procurement criteria, competitors, proposals, the negotiation log and the outcome.

A deal belongs to a customer card (an organisation, or a person buying for themselves) and is
visible exactly as that card is: ``card_owner_id`` and ``card_team_id`` copy the card's owner
and team (kept in step by a copy sync) so that boards and reports filter by index alone.
The deal's own ``owner`` and ``team`` say who works it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.commerce.models import MONEY, QUANTITY


class Step(models.TextChoices):
    ANALYSE = "analyse", _("Analyse the customer")
    BUILD_TRUST = "build_trust", _("Build trust")
    DISCOVER_NEEDS = "discover_needs", _("Dig out needs")
    PRESENT_VALUE = "present_value", _("Present value")
    WIN_COMMITMENT = "win_commitment", _("Win the commitment")
    FOLLOW_UP = "follow_up", _("Follow-up service")


STEP_ORDER: list[str] = [s.value for s in Step]

# The probability of a deal at each step when the deal does not set its own (percent).
DEFAULT_PROBABILITY: dict[str, int] = {
    Step.ANALYSE: 10,
    Step.BUILD_TRUST: 20,
    Step.DISCOVER_NEEDS: 40,
    Step.PRESENT_VALUE: 60,
    Step.WIN_COMMITMENT: 80,
    Step.FOLLOW_UP: 100,
}


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class BuyingStage(models.TextChoices):
    """Where the customer is in its own purchase, tracked beside our step."""

    NEED_DISCOVERED = "need_discovered", _("Need discovered")
    INTERNAL_DECISION = "internal_decision", _("Internal decision")
    PROCUREMENT_DESIGN = "procurement_design", _("Procurement design")
    EVALUATION = "evaluation", _("Evaluation")
    COMMITMENT = "commitment", _("Commitment")
    INSTALLATION = "installation", _("Installation")


# Who matters at each buying stage (seed 001): a relationships.BuyingRole value.
STAGE_ROLE: dict[str, str] = {
    BuyingStage.NEED_DISCOVERED: "initiator",
    BuyingStage.INTERNAL_DECISION: "decision_maker",
    BuyingStage.PROCUREMENT_DESIGN: "specifier",
    BuyingStage.EVALUATION: "evaluator",
    BuyingStage.COMMITMENT: "decision_maker",
    BuyingStage.INSTALLATION: "user",
}


# The card's visibility columns, carried at the end of the report indexes: a manager's or a rep's
# report checks which deals they may see from the index alone, without reading each deal.
VISIBILITY = ["card_owner_id", "card_team_id", "card"]


class Deal(models.Model):
    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="deals")
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(_("amount"), default=Decimal("0"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    # None: the step's default (DEFAULT_PROBABILITY); ``weighted`` is kept for fast forecasts.
    probability = models.PositiveSmallIntegerField(_("probability %"), null=True, blank=True)
    weighted = models.DecimalField(default=Decimal("0"), **MONEY)
    step = models.CharField(_("step"), max_length=16, choices=Step.choices, default=Step.ANALYSE)
    step_entered_at = models.DateTimeField(default=timezone.now)
    # The steps the deal has ever entered, one bit per step (bit 0: analyse): the pipeline's
    # conversion between steps is a count of deals by this mask, not a walk over every move.
    steps_reached = models.PositiveSmallIntegerField(default=1)
    buying_stage = models.CharField(_("customer's buying stage"), max_length=20, choices=BuyingStage.choices, blank=True)
    status = models.CharField(_("status"), max_length=6, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(_("reason"), max_length=40, blank=True)  # a key of data/reasons.yaml
    close_note = models.CharField(_("note"), max_length=1000, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A won deal stays in follow-up service until everything is paid; then it is finished.
    followed_up_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey("commerce.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="deals")
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals")
    team = models.ForeignKey("accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="deals")
    card_owner_id = models.IntegerField(default=0)  # the card's owner: visibility
    card_team_id = models.IntegerField(null=True, blank=True)  # the card's team: visibility
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # A rep's board and a manager's team board: open deals by step, the card's
            # visibility columns carried so the filter needs no table read.
            models.Index(fields=["owner", "status", "step", "expected_close", "card_owner_id", "card_team_id", "card",
                                 "currency", "amount", "followed_up_at"], name="deal_owner_board"),
            models.Index(fields=["team", "status", "step", "expected_close", "card_owner_id", "card_team_id", "card",
                                 "currency", "amount", "followed_up_at"], name="deal_team_board"),
            # The forecast: open deals by close month.
            models.Index(fields=["status", "expected_close", "currency", "weighted", "amount", "step", *VISIBILITY], name="deal_forecast"),
            # The pipeline report: open deals per step; conversion by the steps reached; the
            # deals closed in a period with their reasons (also the forecast's won amounts).
            models.Index(fields=["status", "step", "currency", "amount", *VISIBILITY], name="deal_pipeline"),
            models.Index(fields=["steps_reached", "status"], name="deal_reached"),
            models.Index(fields=["status", "closed_at", "close_reason", "currency", "amount", *VISIBILITY], name="deal_closed"),
            models.Index(fields=["card", "status"], name="deal_card"),
            models.Index(fields=["card_team_id", "status"], name="deal_card_team"),
            models.Index(fields=["card_owner_id", "status"], name="deal_card_owner"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__isnull=True) | Q(probability__lte=100), name="deal_probability_percent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_probability(self) -> int:
        if self.status == Status.WON:
            return 100
        if self.status == Status.LOST:
            return 0
        return self.probability if self.probability is not None else DEFAULT_PROBABILITY.get(self.step, 0)

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN


class DealProduct(models.Model):
    """A product the deal is about; optional, a deal can be about a solution named in words only."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey("commerce.Product", on_delete=models.PROTECT, related_name="deal_lines")
    quantity = models.DecimalField(_("quantity"), default=Decimal("1"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), null=True, blank=True, **MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "product"], name="deal_product_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_product_quantity_positive"),
        ]


class StepMove(models.Model):
    """A change of step (or the deal's creation, ``from_step`` empty), with who, when and why. Append-only."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="step_moves")
    from_step = models.CharField(max_length=16, choices=Step.choices, blank=True)
    to_step = models.CharField(max_length=16, choices=Step.choices)
    reason = models.CharField(max_length=1000, blank=True)
    override_reason = models.CharField(max_length=1000, blank=True)  # given to pass a missing exit signal
    missing = models.JSONField(default=list, blank=True)  # the exit signals that were missing (keys)
    seconds_in_previous = models.BigIntegerField(null=True, blank=True)  # time spent in from_step
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    moved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["moved_at", "id"]
        indexes = [
            models.Index(fields=["deal", "moved_at"], name="deal_step_move_deal"),
            # Time in step: the moves out of each step in a period, read from the index alone.
            models.Index(fields=["from_step", "moved_at", "seconds_in_previous", "deal"], name="deal_step_move_time"),
        ]


class SignalKind(models.TextChoices):
    MANUAL = "manual", _("Ticked by the rep")
    QUESTIONS = "questions", _("The four questions answered yes")
    KEY_RELATIONSHIPS = "key_relationships", _("Key people trust us")
    NEGOTIATION = "negotiation", _("Negotiation started")
    PAID = "paid", _("Everything is paid")


class StepSignal(models.Model):
    """One item of a step's exit checklist: translated data, shipped in data/steps.yaml and
    editable by admins. A ``manual`` item is ticked on each deal; the others are read from
    the deal itself (the questions, the decision unit, the negotiation log, the receivables)."""

    step = models.CharField(max_length=16, choices=Step.choices)
    key = models.SlugField(max_length=40)
    kind = models.CharField(max_length=20, choices=SignalKind.choices, default=SignalKind.MANUAL)
    labels = models.JSONField(default=dict)  # {"en": …, "es": …, "zh-hans": …, "ro": …}
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["step", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["step", "key"], name="deal_signal_once")]

    def __str__(self) -> str:
        from rapport.core.i18n import pick_label

        return pick_label(self.labels) or self.key


class SignalCheck(models.Model):
    """A manual exit signal ticked on one deal."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="signal_checks")
    signal = models.ForeignKey(StepSignal, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "signal"], name="deal_signal_checked_once")]


class QuestionKey(models.TextChoices):
    OPPORTUNITY = "opportunity", _("Is there an opportunity?")
    SOLUTION = "solution", _("Do we have a solution?")
    WIN = "win", _("Can we win?")
    WORTH = "worth", _("Is it worth winning?")


class Answer(models.TextChoices):
    UNKNOWN = "", _("Not answered")
    YES = "yes", _("Yes")
    NO = "no", _("No")


class OpportunityQuestion(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=12, choices=QuestionKey.choices)
    answer = models.CharField(max_length=3, choices=Answer.choices, blank=True)
    justification = models.CharField(_("justification"), max_length=1000, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["deal", "key"], name="deal_question_once")]


class DealContact(models.Model):
    """A member of the organisation's decision unit taking part in this deal, with the roles
    they play in this purchase (relationships.BuyingRole values)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="contacts")
    member = models.ForeignKey("relationships.Member", on_delete=models.CASCADE, related_name="deal_roles")
    roles = models.JSONField(_("roles in this deal"), default=list, blank=True)
    is_key = models.BooleanField(_("key person"), default=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["deal", "member"], name="deal_contact_once")]


class NeedKind(models.TextChoices):
    GOAL = "goal", _("Goal")
    PROBLEM = "problem", _("Problem")
    SOLUTION = "solution", _("Solution the customer imagines")
    PRODUCT = "product", _("Products and services")


class Need(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="needs")
    kind = models.CharField(_("kind"), max_length=10, choices=NeedKind.choices)
    text = models.CharField(_("text"), max_length=1000)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "position", "id"]


class Criterion(models.Model):
    """A quantified procurement criterion and its weight in the customer's decision (percent)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(_("criterion"), max_length=200)
    target = models.CharField(_("target"), max_length=200, blank=True)  # "≤ 48 h response", "≥ 5 years"
    weight = models.PositiveSmallIntegerField(_("weight %"), default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(condition=Q(weight__lte=100), name="deal_criterion_weight_percent")]


class Competitor(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(_("competitor"), max_length=200)
    note = models.CharField(_("note"), max_length=1000, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["deal", "name"], name="deal_competitor_once")]


class PointKind(models.TextChoices):
    STRENGTH = "strength", _("Our strength")
    WEAKNESS = "weakness", _("Our weakness")


class CompetitivePoint(models.Model):
    """One of our strengths or weaknesses against a competitor: the need it serves, the member
    of the decision unit it affects and what we do about it with that person."""

    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="points")
    kind = models.CharField(_("kind"), max_length=10, choices=PointKind.choices)
    text = models.CharField(_("point"), max_length=500)
    need = models.ForeignKey(Need, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    contact = models.ForeignKey(DealContact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(_("action"), max_length=500, blank=True)

    class Meta:
        ordering = ["kind", "id"]


class Proposal(models.Model):
    """One version of the proposal: each save is a new version, the old ones stay as sent."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="proposals")
    version = models.PositiveIntegerField()
    language = models.CharField(_("language"), max_length=10, default="en")
    title = models.CharField(_("title"), max_length=200, blank=True)
    background = models.TextField(_("background"), blank=True)  # one paragraph
    problems = models.TextField(_("problems and challenges"), blank=True)
    solution_overview = models.TextField(_("solution overview"), blank=True)
    solution_products = models.TextField(_("products"), blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    service = models.TextField(_("service"), blank=True)
    credentials = models.TextField(_("credentials"), blank=True)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(default=Decimal("0"), **MONEY)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["deal", "version"], name="deal_proposal_version_once")]


class QuoteLine(models.Model):
    """A line of a proposal's quotation, in a group (hardware, installation, service…)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    group = models.CharField(_("group"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey("commerce.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=Decimal("0"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_quote_quantity_positive"),
            models.CheckConstraint(condition=Q(discount__gte=0) & Q(discount__lte=100), name="deal_quote_discount_percent"),
        ]


class Interest(models.TextChoices):
    PRICE = "price", _("Price and related fees")
    CONFIGURATION = "configuration", _("Product configuration")
    PAYMENT = "payment", _("Payment terms")
    SERVICE_PERIOD = "service_period", _("Service period")
    DELIVERY = "delivery", _("Delivery and installation")
    SUPPORT = "support", _("Technical support")
    COMPENSATION = "compensation", _("Compensation for breach")


class NegotiationPlan(models.Model):
    """How we go into the negotiation: who does what, our bottom line and target, and the
    customer's interests in their order of importance."""

    deal = models.OneToOneField(Deal, on_delete=models.CASCADE, related_name="negotiation")
    roles = models.TextField(_("our roles"), blank=True)
    bottom_line = models.DecimalField(_("bottom line"), null=True, blank=True, **MONEY)
    target = models.DecimalField(_("target"), null=True, blank=True, **MONEY)
    interests = models.JSONField(_("customer's interests, most important first"), default=list, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)


class EntryKind(models.TextChoices):
    POSITION = "position", _("Position")  # what a side asks for
    TRADE = "trade", _("Trade of terms")  # a term we give for one they give
    CONCESSION = "concession", _("Concession")  # what we give up, with its value
    AGREED = "agreed", _("Agreed term")  # confirmed one by one at the end


class Side(models.TextChoices):
    OURS = "ours", _("Us")
    THEIRS = "theirs", _("The customer")


class NegotiationEntry(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="negotiation_entries")
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    side = models.CharField(_("side"), max_length=6, choices=Side.choices, default=Side.OURS)
    interest = models.CharField(_("term"), max_length=16, choices=Interest.choices, blank=True)
    text = models.CharField(_("what"), max_length=1000)
    value = models.DecimalField(_("value"), null=True, blank=True, **MONEY)  # a concession's worth
    confirmed_at = models.DateTimeField(null=True, blank=True)  # an agreed term confirmed with the customer
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(value__isnull=True) | Q(value__gte=0), name="deal_entry_value_not_negative")]
