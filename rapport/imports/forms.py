"""Forms of the import wizard: the upload, then one target per column of the file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.imports import extensions
from rapport.imports.mapping import column_label
from rapport.imports.models import OnDuplicate

KIND_CHOICES = [("", _("Guess from the columns")), ("organizations", _("Organisations")), ("people", _("People"))]


def kind_choices() -> list[tuple[str, Any]]:
    """The card kinds, then the kinds other apps registered (products, orders…)."""
    return KIND_CHOICES + [(kind.key, kind.label) for kind in extensions.import_kinds()]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV, XLSX or vCard)"))
    kind = forms.ChoiceField(label=_("The rows are"), choices=KIND_CHOICES, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()  # type: ignore[attr-defined]


class MappingForm(forms.Form):
    """One choice per column (``col_<n>``), preset to the suggestion, plus the job settings."""

    kind = forms.ChoiceField(label=_("The rows are"), choices=KIND_CHOICES[1:])
    on_duplicate = forms.ChoiceField(
        label=_("When a row has the phone or e-mail of a card you can see"), choices=OnDuplicate.choices
    )
    region = forms.CharField(label=_("Country of phone numbers without +code"), max_length=2, required=False)
    keep_going = forms.BooleanField(
        label=_("Keep going past unreadable lines"), required=False,
        help_text=_("A line that breaks the file's layout (often a quote that is never closed) normally stops the "
                    "import there. Ticked, that line is listed as not imported and the lines after it are read."),
    )

    def __init__(self, *args: Any, headers: list[str], targets: list[tuple[str, str]], samples: dict[str, str],
                 cards: bool = True, csv: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.fields["kind"].choices = kind_choices()[1:]  # type: ignore[attr-defined]
        if not cards:
            # Duplicates of cards and phone regions mean nothing to orders or invoices.
            del self.fields["on_duplicate"], self.fields["region"]
        if not csv:
            del self.fields["keep_going"]  # only a CSV line can break the file's layout
        for index, header in enumerate(headers):
            field = forms.ChoiceField(label=column_label(header), choices=targets, required=False)
            field.widget.attrs["aria-describedby"] = f"sample_{index}"
            setattr(field, "sample", samples.get(header, ""))  # shown beside the column in the template
            self.fields[f"col_{index}"] = field

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"col_{i}") or "" for i, header in enumerate(self.headers)}
