"""Django admin for what administrators maintain here: coaching texts, the gift policy, the audit trail.

Rapport's admin role is not a Django superuser, so these pages grant access by role.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rapport.relationships.models import AuditEntry, GiftPolicy, StyleCoaching


def _is_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and getattr(user, "is_admin_role", False))


class AdminRoleMixin:
    """Rapport administrators view and change these rows."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)


@admin.register(StyleCoaching)
class StyleCoachingAdmin(AdminRoleMixin, admin.ModelAdmin):
    """Admins edit the coaching shown for each communication style and language."""

    list_display = ("style", "language", "question_words")
    list_filter = ("style", "language")
    readonly_fields = ("style", "language")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per style and language, shipped

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GiftPolicy)
class GiftPolicyAdmin(AdminRoleMixin, admin.ModelAdmin):
    """Changes go through the service, so each one is validated and audited."""

    list_display = ("currency", "per_gift_limit", "per_contact_year_limit", "updated_at")
    fields = ("currency", "per_gift_limit", "per_contact_year_limit")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request) and not GiftPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: GiftPolicy, form: Any, change: bool) -> None:
        from rapport.relationships.services import set_gift_policy

        saved = set_gift_policy(
            user=request.user,
            data={"currency": obj.currency, "per_gift_limit": obj.per_gift_limit, "per_contact_year_limit": obj.per_contact_year_limit},
        )
        obj.pk = saved.pk


@admin.register(AuditEntry)
class AuditEntryAdmin(AdminRoleMixin, admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ("at", "user", "action", "person")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
