from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from rapport.catalog import selectors, services
from rapport.catalog.models import InformationItem, InformationSource
from rapport.core.errors import ValidationError


class InformationItemForm(forms.ModelForm):
    """Refuses a sensitivity change the use-case would refuse (special stays special), with its reason."""

    class Meta:
        model = InformationItem
        fields = "__all__"

    def clean_sensitivity(self) -> str:
        wanted: str = self.cleaned_data["sensitivity"]
        if self.instance.pk:
            try:
                services.check_sensitivity_change(InformationItem.objects.get(pk=self.instance.pk), wanted)
            except ValidationError as exc:
                raise forms.ValidationError(exc.errors["sensitivity"]) from None
        return wanted


@admin.register(InformationItem)
class InformationItemAdmin(admin.ModelAdmin):
    form = InformationItemForm
    list_display = ("key", "block", "type", "sensitivity", "cost", "active")
    list_filter = ("block", "type", "sensitivity", "active")
    search_fields = ("key",)

    def save_model(self, request: HttpRequest, obj: InformationItem, form: Any, change: bool) -> None:
        """A changed sensitivity goes through ``change_sensitivity``: marking an item special seals
        its stored values in the same transaction as this save (the admin wraps it in one)."""
        if change and "sensitivity" in form.changed_data:
            wanted = obj.sensitivity
            obj.sensitivity = form.initial["sensitivity"]
            super().save_model(request, obj, form, change)
            services.change_sensitivity(user=request.user, item=obj, sensitivity=wanted)
            obj.sensitivity = wanted
        else:
            super().save_model(request, obj, form, change)
        selectors.clear_cache()


@admin.register(InformationSource)
class InformationSourceAdmin(admin.ModelAdmin):
    list_display = ("key", "group", "default_confidence", "active")
    list_filter = ("group",)
