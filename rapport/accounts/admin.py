from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from rapport.accounts.models import ApiToken, Team, User


@admin.register(User)
class RapportUserAdmin(UserAdmin):
    list_display = ("username", "role", "can_see_special", "is_active")
    list_filter = ("role", "can_see_special", "is_active", "teams")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Rapport", {"fields": ("role", "teams", "managed_teams", "can_see_special", "language")}),)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
