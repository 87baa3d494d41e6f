"""Decision-making units, relationships between people, relationship stages, styles and gifts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import Function, Level


class Attitude(models.TextChoices):
    SUPPORTER = "supporter", _("Supporter")  # wants us to win
    NEUTRAL = "neutral", _("Neutral")  # no preference known yet
    OPPONENT = "opponent", _("Opponent")  # prefers a competitor or no purchase


class BuyingRole(models.TextChoices):
    INITIATOR = "initiator", _("Initiator")  # saw the problem and proposed buying
    DECISION_MAKER = "decision_maker", _("Decision maker")  # decides budget, timing and supplier
    USER = "user", _("User")  # will use the product every day
    SPECIFIER = "specifier", _("Designer / specifier")  # turns the need into purchase criteria
    EVALUATOR = "evaluator", _("Evaluator")  # compares the suppliers' offers


class DecisionUnit(models.Model):
    """The people who take part in one organisation's buying decisions.

    Members hang off the unit rather than the organisation so that a deal can later own its
    own unit (a nullable ``deal`` key next to ``organization``); today each organisation
    has exactly one unit, created on first use.
    """

    organization = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="decision_units")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="dmu_one_per_organization")]


class Member(models.Model):
    """One person in a decision unit: where they sit, what they do in the purchase, how they see us."""

    unit = models.ForeignKey(DecisionUnit, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="dmu_memberships")
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, blank=True)
    function = models.CharField(_("function"), max_length=24, choices=Function.choices, blank=True)
    roles = models.JSONField(_("roles"), default=list, blank=True)  # BuyingRole values, several allowed
    influence = models.PositiveSmallIntegerField(_("influence"), default=0)  # percent of the decision
    attitude = models.CharField(_("attitude"), max_length=12, choices=Attitude.choices, default=Attitude.NEUTRAL)
    is_coach = models.BooleanField(_("coach"), default=False)  # inside guide: sees our value, gives us information
    cares_about = models.TextField(_("cares about"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # bumped on every change, for optimistic locking

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "person"], name="dmu_member_once"),
            models.CheckConstraint(condition=Q(influence__lte=100), name="dmu_member_influence_range"),
        ]


class RelationshipKind(models.TextChoices):
    REPORTS_TO = "reports_to", _("Reports to")
    INFLUENCES = "influences", _("Influences")
    FRIEND = "friend", _("Friend")
    RIVAL = "rival", _("Rival")
    FAMILY = "family", _("Family")


# Kinds that read from one person to the other; the rest are mutual unless the rep says otherwise.
DIRECTED_KINDS = {RelationshipKind.REPORTS_TO.value, RelationshipKind.INFLUENCES.value}


class Strength(models.IntegerChoices):
    WEAK = 1, _("Weak")
    MEDIUM = 2, _("Medium")
    STRONG = 3, _("Strong")


class Relationship(models.Model):
    """A tie between two people, inside one organisation or across organisations."""

    from_person = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="relationships_out")
    to_person = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="relationships_in")
    kind = models.CharField(_("kind"), max_length=16, choices=RelationshipKind.choices)
    directed = models.BooleanField(_("directed"), default=True)  # false: the tie holds both ways
    strength = models.PositiveSmallIntegerField(_("strength"), choices=Strength.choices, default=Strength.MEDIUM)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["to_person"], name="relationship_to")]
        constraints = [
            models.UniqueConstraint(fields=["from_person", "to_person", "kind"], name="relationship_once"),
            models.CheckConstraint(condition=~Q(from_person=models.F("to_person")), name="relationship_not_self"),
            models.CheckConstraint(condition=Q(strength__gte=1) & Q(strength__lte=3), name="relationship_strength_range"),
        ]


class RelationshipStage(models.TextChoices):
    ACQUAINTED = "acquainted", _("Acquainted")  # knows the rep by name
    ENGAGED = "engaged", _("Engaged")  # meets us outside the office
    TRUSTED = "trusted", _("Trusted")  # joins private activities
    ALLY = "ally", _("Ally")  # actively helps us sell


STAGE_ORDER = [s.value for s in RelationshipStage]


class Style(models.TextChoices):
    ANALYTICAL = "analytical", _("Analytical")
    AMIABLE = "amiable", _("Amiable")
    EXPRESSIVE = "expressive", _("Expressive")
    DRIVER = "driver", _("Driver")


class ContactProfile(models.Model):
    """Our relationship with one contact: the stage it has reached and how they like to communicate."""

    person = models.OneToOneField("cards.Card", on_delete=models.CASCADE, related_name="relationship_profile")
    stage = models.CharField(_("relationship stage"), max_length=12, choices=RelationshipStage.choices, blank=True)
    style = models.CharField(_("communication style"), max_length=12, choices=Style.choices, blank=True)
    style_answers = models.JSONField(default=dict, blank=True)  # the questionnaire answers behind a suggestion
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")


class StageMove(models.Model):
    """A change of relationship stage, with the logged activities that justified it. Append-only."""

    person = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="relationship_stage_moves")
    from_stage = models.CharField(max_length=12, choices=RelationshipStage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=RelationshipStage.choices)
    evidence = models.JSONField(default=list, blank=True)  # [{"activity": id, "kind", "typical", "at"}]
    note = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]


class ActivityTag(models.Model):
    """Marks a logged activity as one of the typical relationship activities (a meal, a seminar…)."""

    activity = models.ForeignKey("activities.Activity", on_delete=models.CASCADE, related_name="relationship_tags")
    typical = models.CharField(max_length=40)  # key of a typical activity in data/stages.yaml

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "typical"], name="activity_tag_once")]


class GiftKind(models.TextChoices):
    GIFT = "gift", _("Gift")
    HOSPITALITY = "hospitality", _("Hospitality")  # meals, events, travel paid by us


class GiftPolicy(models.Model):
    """The admin-set limits on gifts and hospitality (law and company policy). One row."""

    currency = models.CharField(max_length=3, default="EUR")
    per_gift_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    per_contact_year_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")


class Gift(models.Model):
    """A gift or hospitality given to a contact, with its value."""

    person = models.ForeignKey("cards.Card", on_delete=models.CASCADE, related_name="gifts_received")
    activity = models.ForeignKey("activities.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=GiftKind.choices)
    description = models.CharField(_("description"), max_length=300)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    given_on = models.DateField(_("given on"))
    over_limit = models.BooleanField(default=False)  # above the policy when recorded; see AuditEntry
    justification = models.CharField(_("justification"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-given_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(value__gte=0), name="gift_value_not_negative")]


class AuditEntry(models.Model):
    """An append-only record of a policy-relevant action (this branch has no project-wide audit log yet)."""

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=40)  # gift_over_limit, gift_policy_changed
    person = models.ForeignKey("cards.Card", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    gift = models.ForeignKey(Gift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"


class StyleCoaching(models.Model):
    """How to talk to a contact of one communication style, in one language. Loaded from
    data/styles.yaml when missing; admins edit the rows afterwards."""

    style = models.CharField(max_length=12, choices=Style.choices)
    language = models.CharField(max_length=8)  # en, es, zh-hans, ro
    how_to_open = models.TextField()
    emphasise = models.TextField()
    avoid = models.TextField()
    evidence = models.TextField()
    question_words = models.CharField(max_length=200)

    class Meta:
        ordering = ["style", "language"]
        constraints = [models.UniqueConstraint(fields=["style", "language"], name="style_coaching_once")]
