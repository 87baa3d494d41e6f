from django.contrib import admin

from rapport.catalog.models import InformationItem, InformationSource


@admin.register(InformationItem)
class InformationItemAdmin(admin.ModelAdmin):
    list_display = ("key", "block", "type", "sensitivity", "cost", "active")
    list_filter = ("block", "type", "sensitivity", "active")
    search_fields = ("key",)


@admin.register(InformationSource)
class InformationSourceAdmin(admin.ModelAdmin):
    list_display = ("key", "group", "default_confidence", "active")
    list_filter = ("group",)
