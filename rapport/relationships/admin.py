from typing import Any

from django.contrib import admin

from rapport.relationships.models import AuditEntry, GiftPolicy, StyleCoaching


@admin.register(StyleCoaching)
class StyleCoachingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Admins edit the coaching texts shown for each communication style and language."""

    list_display = ("style", "language", "question_words")
    list_filter = ("style", "language")


@admin.register(GiftPolicy)
class GiftPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Changes go through the service, so each one is validated and audited."""

    list_display = ("currency", "per_gift_limit", "per_contact_year_limit", "updated_at")
    fields = ("currency", "per_gift_limit", "per_contact_year_limit")

    def save_model(self, request: Any, obj: GiftPolicy, form: Any, change: bool) -> None:
        from rapport.relationships.services import set_gift_policy

        set_gift_policy(
            user=request.user,
            data={"currency": obj.currency, "per_gift_limit": obj.per_gift_limit, "per_contact_year_limit": obj.per_contact_year_limit},
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the audit trail is append-only."""

    list_display = ("at", "user", "action", "person")
    list_filter = ("action",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
