from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from rapport.audit.models import Action
from rapport.audit.services import record as audit
from rapport.audit.services import record_changes

from rapport.accounts.models import ApiToken, Team, User
from rapport.accounts.services import forget_tokens


# Changes to these are permission changes: the audit log records each one.
_PERMISSION_FIELDS = ("role", "can_see_special", "is_active", "is_staff", "is_superuser")


@admin.register(User)
class RapportUserAdmin(UserAdmin):
    list_display = ("username", "role", "can_see_special", "is_active")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        before = User.objects.filter(pk=obj.pk).values(*_PERMISSION_FIELDS).first() if change else None
        super().save_model(request, obj, form, change)
        if before is None:
            audit(action=Action.CREATE, record=obj, actor=request.user, detail={"role": obj.role})
        else:
            record_changes(record=obj, actor=request.user, action=Action.PERMISSION,
                           changes={f: (before[f], getattr(obj, f)) for f in _PERMISSION_FIELDS})

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        obj = form.instance
        before = {
            "teams": sorted(obj.teams.values_list("name", flat=True)), "managed_teams": sorted(obj.managed_teams.values_list("name", flat=True)),
        } if change else {"teams": [], "managed_teams": []}
        super().save_related(request, form, formsets, change)
        after = {"teams": sorted(obj.teams.values_list("name", flat=True)), "managed_teams": sorted(obj.managed_teams.values_list("name", flat=True))}
        record_changes(record=obj, actor=request.user, action=Action.PERMISSION, changes={k: (before[k], after[k]) for k in before})
    list_filter = ("role", "can_see_special", "is_active", "teams")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Rapport", {"fields": ("role", "teams", "managed_teams", "can_see_special", "language")}),)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "scope", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A revocation or a shorter expiry applies at once in this process (others: within
        # RAPPORT_TOKEN_CACHE_SECONDS).
        forget_tokens(key_hashes=[obj.key_hash])

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        super().delete_model(request, obj)
        forget_tokens(key_hashes=[obj.key_hash])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        hashes = list(queryset.values_list("key_hash", flat=True))
        super().delete_queryset(request, queryset)
        forget_tokens(key_hashes=hashes)
