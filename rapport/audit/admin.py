"""The audit log in Django's admin: read-only, no add, change or delete."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rapport.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "record_type", "record_id", "field", "request_id")
    list_filter = ("action", "record_type")
    search_fields = ("actor", "record_id", "request_id")
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
