"""Django admin for what administrators maintain here: the exit checklists of the six steps.

The shipped items come from data/steps.yaml; admins reword them in each language, switch
them off, or add manual items of their own.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rapport.deals.models import StepSignal


def _is_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and getattr(user, "is_admin_role", False))


@admin.register(StepSignal)
class StepSignalAdmin(admin.ModelAdmin):
    """Admins edit the exit checklist of each step and its labels in the four languages."""

    list_display = ("step", "position", "__str__", "kind", "active")
    list_filter = ("step", "active")
    ordering = ("step", "position")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Shipped items keep their key and kind: deals and the automatic checks refer to them.
        return ("step", "key", "kind") if obj is not None else ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch an item off instead: past moves name it
