"""Users, teams and API tokens: who may see which customers."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")  # sees own, shared and team cards
    MANAGER = "manager", _("Sales manager")  # sees everything owned in the teams they manage
    ADMIN = "admin", _("Administrator")  # sees everything
    ANALYST = "analyst", _("Analyst")  # sees every card but no confidential or special item


class Team(models.Model):
    """A sales team: members share their customers; managers oversee them."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in to Rapport, with one role and optional sensitive-data clearance."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    teams = models.ManyToManyField(Team, related_name="members", blank=True, verbose_name=_("teams"))
    managed_teams = models.ManyToManyField(Team, related_name="managers", blank=True, verbose_name=_("managed teams"))
    # Clearance for special-category items (GDPR art. 9), granted per user.
    can_see_special = models.BooleanField(_("sensitive-data clearance"), default=False)
    language = models.CharField(_("language"), max_length=10, blank=True)

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class TokenScope(models.TextChoices):
    READ = "read", _("Read")  # GET only
    WRITE = "write", _("Read and write")  # everything the user may do, except administration
    ADMIN = "admin", _("Administration")  # also the audit log and data-subject requests (admins only)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> "ApiTokenQuerySet":
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    @staticmethod
    def generate() -> str:
        return "rp_" + secrets.token_urlsafe(32)
