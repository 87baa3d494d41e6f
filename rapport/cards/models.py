"""Customer cards: organisations and people, their contact points, employments, shares and facts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ORGANIZATION = "organization", _("Organisation")
    PERSON = "person", _("Person")


class Tier(models.TextChoices):
    A = "A", _("Tier A")  # the few customers that bring most of the value
    B = "B", _("Tier B")
    C = "C", _("Tier C")


class Stage(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")  # in the target market, no contact yet
    PROSPECT = "prospect", _("Prospect")  # has shown interest
    TARGET = "target", _("Target")  # clear intent, can buy, near term
    CUSTOMER = "customer", _("Customer")  # has bought
    REGULAR = "regular", _("Regular customer")  # buys repeatedly
    DORMANT = "dormant", _("Dormant")  # stopped buying for longer than usual
    LOST = "lost", _("Lost")  # gone, with a reason


class SizeBand(models.TextChoices):
    MICRO = "micro", _("1–9 employees")
    SMALL = "small", _("10–49 employees")
    MEDIUM = "medium", _("50–249 employees")
    LARGE = "large", _("250–999 employees")
    ENTERPRISE = "enterprise", _("1,000+ employees")


class CardQuerySet(models.QuerySet["Card"]):
    def organizations(self) -> "CardQuerySet":
        return self.filter(kind=Kind.ORGANIZATION)

    def people(self) -> "CardQuerySet":
        return self.filter(kind=Kind.PERSON)

    def active(self) -> "CardQuerySet":
        return self.filter(archived_at__isnull=True)


class Card(models.Model):
    """A customer card: an organisation (group customer) or a person (individual or contact).

    Core columns hold what every card has; everything else is a fact from the information
    catalog. ``profile`` is the current value of each item, derived from the facts and kept
    here so that reading a card needs no aggregation.
    """

    kind = models.CharField(max_length=16, choices=Kind.choices)
    display_name = models.CharField(_("name"), max_length=300)
    # Lower-cased, accent-free display name: the list order and prefix filter.
    sort_name = models.CharField(max_length=300, editable=False)
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    local_name = models.CharField(_("name in local script"), max_length=150, blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    social = models.JSONField(_("social pages"), default=list, blank=True)  # [{"network", "url"}]
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    size_band = models.CharField(_("size"), max_length=16, choices=SizeBand.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cards", verbose_name=_("owner"),
        db_index=False,  # card_owner_sort leads with the owner
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="cards", verbose_name=_("team"),
        db_index=False,  # card_team_sort leads with the team
    )
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, blank=True)
    lifecycle_stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.SUSPECT)
    external_id = models.CharField(max_length=200, blank=True)
    # How the card was found: a prospecting method of the sources catalogue (group "method").
    found_by = models.ForeignKey(
        "catalog.InformationSource", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("found by"),
    )
    # Who brought this card to us (a customer, a centre of influence, an agent, an acquaintance).
    referred_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals", verbose_name=_("referred by"),
        db_index=False,  # card_referred_by holds only the cards that have a referrer
    )
    profile = models.JSONField(default=dict, blank=True)
    completeness = models.PositiveSmallIntegerField(default=0)  # percent of the tier's required items
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # bumped on every change, for optimistic locking
    # The segmentation dimensions of the last ``rapport segments refresh`` as bits, two per
    # dimension (known true, known false; neither before the first refresh), copied from
    # segments.Dimensions so that a segment's dimension condition is checked in the list
    # indexes instead of by a look-up per card. Written only by the refresh.
    dimension_flags = models.PositiveIntegerField(default=0)

    objects = CardQuerySet.as_manager()

    class Meta:
        # Every list is "live cards of one kind, in name order", optionally narrowed by one
        # column: each index leads with the equality columns and goes on with sort_name and id
        # (the list order), so a page is an index range scan that stops after its rows, on
        # SQLite and PostgreSQL alike. The visibility columns (team, owner) and the other
        # common filters follow, so that rows a user may not see are skipped — and a count
        # is made — from the index alone, without reading the cards.
        indexes = [
            # The kind, owner and team list indexes also carry every column a saved segment
            # filters on, so a segment's page is read in name order and its members are counted
            # from the index alone, for each branch of a user's visibility in turn (see
            # rapport.segments.selectors).
            models.Index(
                fields=["kind", "archived_at", "sort_name", "id", "team", "owner", "lifecycle_stage", "tier", "found_by",
                        "created_at", "referred_by", "dimension_flags"],
                name="card_kind_sort",
            ),
            models.Index(
                fields=["owner", "kind", "archived_at", "sort_name", "id", "team", "lifecycle_stage", "tier", "found_by",
                        "created_at", "referred_by", "dimension_flags"],
                name="card_owner_sort",
            ),
            models.Index(
                fields=["team", "kind", "archived_at", "sort_name", "id", "lifecycle_stage", "tier", "owner", "found_by",
                        "created_at", "referred_by", "dimension_flags"],
                name="card_team_sort",
            ),
            models.Index(fields=["kind", "tier", "archived_at", "sort_name", "id", "team", "owner"], name="card_tier_sort"),
            models.Index(fields=["kind", "lifecycle_stage", "archived_at", "sort_name", "id", "team", "owner"], name="card_stage_sort"),
            models.Index(fields=["kind", "industry", "archived_at", "sort_name", "id", "team", "owner"], name="card_industry_sort"),
            models.Index(fields=["external_id"], name="card_external_id"),
            models.Index(fields=["kind", "found_by", "archived_at", "sort_name"], name="card_method_sort"),
            # Partial: one card in many has a referrer, and an index holding the others would
            # tempt SQLite to read "without a referrer" (IS NULL) from it, nearly every card.
            models.Index(fields=["referred_by"], name="card_referred_by", condition=Q(referred_by__isnull=False)),
            # Saved segments filter on these columns in any combination: equality and IN on the
            # leading low-cardinality columns (stage, tier, method), then a date range, seek
            # straight to the members when counting them; the rest are checked in the index,
            # not the table.
            models.Index(
                fields=["kind", "archived_at", "lifecycle_stage", "tier", "found_by", "created_at", "team", "owner",
                        "referred_by", "sort_name", "dimension_flags"],
                name="card_segment",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(display_name=""), name="card_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_person(self) -> bool:
        return self.kind == Kind.PERSON

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    FAX = "fax", _("Fax")
    OTHER = "other", _("Other")


class Phone(models.Model):
    """A phone number in E.164, with the region it was typed in and how it was typed."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="phones")
    e164 = models.CharField(max_length=20)
    raw = models.CharField(max_length=60)
    region = models.CharField(max_length=2)
    kind = models.CharField(max_length=10, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["e164"], name="phone_e164")]


class EmailKind(models.TextChoices):
    WORK = "work", _("Work")
    PERSONAL = "personal", _("Personal")
    OTHER = "other", _("Other")


class Email(models.Model):
    """An e-mail address, normalised (domain lower-cased) by email-validator."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="emails")
    address = models.CharField(max_length=254)
    kind = models.CharField(max_length=10, choices=EmailKind.choices, default=EmailKind.WORK)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["address"], name="email_address")]


class AddressKind(models.TextChoices):
    OFFICE = "office", _("Office")
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    WAREHOUSE = "warehouse", _("Warehouse")
    SHOP = "shop", _("Shop")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class Address(models.Model):
    """A postal address of a given kind; a card may have several."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=AddressKind.choices, default=AddressKind.OFFICE)
    street = models.CharField(_("street"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)  # ISO 3166-1 alpha-2
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Level(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    MANAGEMENT = "management", _("Management")
    DECISION = "decision", _("Decision")


class Function(models.TextChoices):
    USER_DEPARTMENT = "user_department", _("User department")
    TECHNICAL = "technical", _("Technical")
    PROCUREMENT_FINANCE = "procurement_finance", _("Procurement and finance")
    OTHER = "other", _("Other")


class Employment(models.Model):
    """A person working at an organisation for a period, with title, level and function."""

    person = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="employments")
    # Indexed by employment_org_person, which starts with it.
    organization = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="staff", db_index=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, blank=True)
    function = models.CharField(_("function"), max_length=24, choices=Function.choices, blank=True)
    started_on = models.DateField(_("from"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "id"]
        indexes = [models.Index(fields=["organization", "person"], name="employment_org_person")]

    @property
    def is_current(self) -> bool:
        return self.ended_on is None or self.ended_on >= timezone.localdate()


class Share(models.Model):
    """A card shared with one user or one team beyond its owner and owning team."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["user", "card"], name="share_user_card"),
            models.Index(fields=["team", "card"], name="share_team_card"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True)) | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="share_one_target",
            )
        ]


class Fact(models.Model):
    """One value learned about a card, with its provenance. Append-only: a new fact supersedes, never overwrites."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="facts", db_index=False)  # fact_card_item
    item = models.ForeignKey("catalog.InformationItem", on_delete=models.PROTECT, related_name="facts")
    value = models.JSONField()
    value_text = models.CharField(max_length=500, blank=True)  # normalised text for filters and search
    source = models.ForeignKey("catalog.InformationSource", on_delete=models.PROTECT, related_name="facts")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    observed_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    confidence = models.PositiveSmallIntegerField(default=60)  # 0..100
    verified = models.BooleanField(default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["card", "item"], name="fact_card_item"),
            models.Index(fields=["card", "recorded_at"], name="fact_card_recorded"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(confidence__lte=100), name="fact_confidence_range"),
        ]


class CurrentValue(models.Model):
    """The current value of one item on one card, indexed so lists can filter on any catalog item."""

    # Both indexed by composites that start with them: current_value_card_item and current_value_list.
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="current_values", db_index=False)
    item = models.ForeignKey("catalog.InformationItem", on_delete=models.CASCADE, related_name="+", db_index=False)
    fact = models.ForeignKey(Fact, on_delete=models.CASCADE, related_name="+")
    value_text = models.CharField(max_length=500)
    # Copies of the card's columns that a filtered list needs, so that "people whose <item>
    # is <value>" is one ordered range of one covering index, visibility included; the card
    # services keep them in step (``sync_card_copies``).
    kind = models.CharField(max_length=12, default="")
    archived = models.BooleanField(default=False)
    sort_name = models.CharField(max_length=300, default="")
    owner_id = models.IntegerField(default=0)
    team_id = models.IntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["card", "item"], name="current_value_card_item")]
        indexes = [
            models.Index(
                fields=["item", "value_text", "kind", "archived", "sort_name", "team_id", "owner_id", "card"],
                name="current_value_list",
            )
        ]


class StageChange(models.Model):
    """A move of a card from one lifecycle stage to another: when, who and why."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="stage_changes", db_index=False)  # stage_change_card
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    # The funnel rule that allowed or made the move (e.g. "forward", "first_order"), and for an
    # automatic move the evidence behind it (e.g. the order dates counted).
    rule = models.CharField(max_length=40, blank=True)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["card", "changed_at"], name="stage_change_card")]
