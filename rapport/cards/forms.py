"""HTML forms of the card pages.

These forms only collect what the user typed and hand it to the card services, which do all
validation; service errors come back onto the fields with ``add_service_errors``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import AddressKind, Card, Function, Kind, Level, PhoneKind, SizeBand, Stage, Tier
from rapport.cards.selectors import CardFilter
from rapport.catalog.models import Block, InformationItem, InformationSource, SourceGroup

PAGE_SIZE = 50
MAX_PHONE_ROWS = 20  # a card with more numbers than this is a data problem, not a form to render


def add_service_errors(form: forms.Form, errors: dict[str, list[str]], aliases: dict[str, str] | None = None) -> None:
    """Puts a service's ``{field: [messages]}`` onto a form; ``phones[2]`` lands on ``phones``."""
    aliases = aliases or {}
    for key, messages in errors.items():
        name = aliases.get(key) or re.split(r"[\[.]", key, maxsplit=1)[0]
        name = aliases.get(name, name)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


def _choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """``form.fields[name]`` as the choice field it is, to set its choices for this request."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _digits(text: str) -> str:
    return re.sub(r"[^\d]", "", text)


def _network_of(url: str) -> str:
    """"https://www.linkedin.com/company/x" → "linkedin": a label good enough for a social page."""
    host = urlsplit(url if "://" in url else "https://" + url).hostname or ""
    host = host.removeprefix("www.").removeprefix("m.")
    return host.split(".")[0][:40]


def grouped_items(items: Iterable[InformationItem]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Catalog items as <optgroup>s, one per block, in catalog order."""
    labels = dict(Block.choices)
    groups: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        groups.setdefault(item.block, []).append((item.key, item.label))
    return [(str(labels.get(block, block)), options) for block, options in groups.items()]


def grouped_sources(sources: Iterable[InformationSource]) -> list[tuple[str, list[tuple[str, str]]]]:
    labels = dict(SourceGroup.choices)
    groups: dict[str, list[tuple[str, str]]] = {}
    for source in sources:
        groups.setdefault(source.group, []).append((source.key, source.label))
    return [(str(labels.get(group, group)), options) for group, options in groups.items()]


def _value_widget_attrs(mode: str, target: str) -> dict[str, str]:
    """htmx on an item select: fetch the value widget that fits the chosen item."""
    return {
        "hx-get": reverse("item-value-input"),
        "hx-vals": json.dumps({"mode": mode}),
        "hx-target": target,
        "hx-trigger": "change",
        "hx-push-url": "false",
        "hx-swap": "innerHTML",
        "data-clears-value": "",
    }


# --- list filters ----------------------------------------------------------------------------


# Filters that can hold personal data (a name, a phone number, an e-mail address): pages send
# them in POST bodies only, never in URLs, where browser histories, proxies and logs keep them.
PRIVATE_FILTERS = ("q", "value")


class CardFilterForm(forms.Form):
    """The filters of the organisation and person lists; builds the shared ``CardFilter``."""

    q = forms.CharField(
        label=_("Name starts with"), required=False, max_length=300,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "placeholder": _("Name starts with…")}),
    )
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("Any tier")), *Tier.choices])
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=[("", _("Any stage")), *Stage.choices])
    industry = forms.CharField(label=_("Industry"), required=False, max_length=120)
    item = forms.ChoiceField(label=_("Information item"), required=False)
    value = forms.CharField(label=_("Value"), required=False, max_length=500)
    archived = forms.BooleanField(label=_("Archived cards"), required=False)
    segment = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        owners: Iterable[Any],
        teams: Iterable[Any],
        items: Iterable[InformationItem],
        industries: Iterable[str] = (),
        segments: Iterable[tuple[int, str]] = (),
    ) -> None:
        super().__init__(data)
        _choice_field(self, "segment").choices = [("", "—"), *segments]
        _choice_field(self, "owner").choices = [("", _("Any owner")), *((u.id, u.get_username()) for u in owners)]
        _choice_field(self, "team").choices = [("", _("Any team")), *((t.id, t.name) for t in teams)]
        _choice_field(self, "item").choices = [("", _("Any information")), *grouped_items(items)]
        self.fields["item"].widget.attrs.update(_value_widget_attrs("filter", "#filter-value-widget"))
        self.industries = list(industries)

    def card_filter(self, kind: str) -> CardFilter:
        """The filter from the fields that are valid; an invalid field is ignored (and shown)."""
        data = self.cleaned_data if self.is_bound else {}
        return CardFilter(
            kind=kind,
            q=data.get("q") or "",
            owner=data.get("owner"),
            team=data.get("team"),
            tier=data.get("tier") or "",
            stage=data.get("stage") or "",
            industry=(data.get("industry") or "").strip(),
            item=data.get("item") or "",
            value=(data.get("value") or "").strip() if data.get("item") else None,
            archived=bool(data.get("archived")),
            segment=data.get("segment"),
        )

    @property
    def page_number(self) -> int:
        return (self.cleaned_data.get("page") if self.is_bound else None) or 1

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_bound else {}
        return any(data.get(k) for k in ("q", "owner", "team", "tier", "stage", "industry", "item", "archived", "segment"))


# --- create and edit -------------------------------------------------------------------------


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AddressKind.choices, initial=AddressKind.OFFICE, required=False)
    street = forms.CharField(label=_("Street"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    region = forms.CharField(label=_("Region"), required=False)
    postal_code = forms.CharField(label=_("Postal code"), required=False)
    country = forms.CharField(
        label=_("Country"), required=False,
        widget=forms.TextInput(attrs={"placeholder": "ES", "maxlength": "2", "size": "3", "autocapitalize": "characters"}),
    )

    PARTS = ("street", "city", "region", "postal_code", "country")

    def as_entry(self) -> dict[str, str] | None:
        """The address for the service, or None when the row was left empty."""
        raw = {name: (self.data.get(self.add_prefix(name)) or "").strip() for name in (*self.PARTS, "kind")}
        if not any(raw[name] for name in self.PARTS):
            return None
        return raw


AddressFormSet = formset_factory(AddressForm, extra=1, max_num=20, validate_max=True)


class CardForm(forms.Form):
    """Core fields shared by organisations and people. Everything is optional here: the service decides."""

    phones = forms.CharField(
        label=_("Phones"), required=False, widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "tel"}),
        help_text=_("One number per line. National numbers are read in the phone region below."),
    )
    phone_region = forms.CharField(
        label=_("Phone region"), required=False, max_length=2,
        widget=forms.TextInput(attrs={"size": "3", "maxlength": "2", "autocapitalize": "characters"}),
        help_text=_("Two-letter country code, e.g. ES, MX, CN, RO."),
    )
    emails = forms.CharField(
        label=_("E-mails"), required=False, widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "email"}),
        help_text=_("One address per line."),
    )
    website = forms.CharField(label=_("Website"), required=False, widget=forms.TextInput(attrs={"inputmode": "url"}))
    social = forms.CharField(
        label=_("Social pages"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One web address per line."),
    )
    industry = forms.CharField(label=_("Industry"), required=False)
    size_band = forms.ChoiceField(label=_("Size"), required=False, choices=[("", "—"), *SizeBand.choices])
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", "—"), *Tier.choices])
    lifecycle_stage = forms.ChoiceField(label=_("Stage"), required=False, choices=Stage.choices, initial=Stage.SUSPECT)
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)

    name_fields: tuple[str, ...] = ()

    def __init__(
        self,
        *args: Any,
        owners: Iterable[Any] | None = None,
        teams: Iterable[Any] = (),
        card: Card | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.card = card
        if owners is None:
            del self.fields["owner"]  # reps own what they create; only managers and admins assign
        else:
            _choice_field(self, "owner").choices = [(u.id, u.get_username()) for u in owners]
        teams = list(teams)
        if card is not None and card.team_id and card.team_id not in {t.id for t in teams} and card.team is not None:
            teams.append(card.team)  # the current team stays selectable even if the editor is not in it
        # The card service gives a card without a team to the owner's (first) team.
        _choice_field(self, "team").choices = [("", _("The owner's team")), *((t.id, t.name) for t in teams)]
        if not self.is_bound and not self.initial.get("phone_region"):
            self.initial["phone_region"] = settings.RAPPORT_DEFAULT_REGION
        if card is not None:
            self.initial.update(self._initial_from(card))
        self._add_phone_rows()

    # One row per number (number and type), so each number's type can be chosen ---------------

    def _default_phone_kind(self) -> str:
        # A number typed on an organisation's card is mostly its switchboard; on a person's, a mobile.
        is_org = (self.card.kind if self.card is not None else self.card_kind) == Kind.ORGANIZATION
        return PhoneKind.WORK if is_org else PhoneKind.MOBILE

    card_kind: str = Kind.PERSON
    too_many_phones = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.too_many_phones:
            self.add_error(None, _("A card holds at most %(count)d phone numbers.") % {"count": MAX_PHONE_ROWS})
        return cleaned

    def _add_phone_rows(self) -> None:
        from rapport.core.templatetags.rapport_ui import phone_display

        existing = list(self.card.phones.all()) if self.card is not None else []
        if self.is_bound:
            posted = [int(m.group(1)) for key in self.data for m in [re.fullmatch(r"phone_number_(\d+)", key)] if m]
            count = min(max(posted) + 1, MAX_PHONE_ROWS) if posted else 0
            self.too_many_phones = bool(posted) and max(posted) >= MAX_PHONE_ROWS
        else:
            count = min(len(existing) + (1 if existing else 2), MAX_PHONE_ROWS)
        self.phone_row_count = count
        for i in range(count):
            number = forms.CharField(
                label=_("Phone"), required=False, max_length=60,
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
            )
            kind = forms.ChoiceField(label=_("Type"), required=False, choices=PhoneKind.choices)
            self.fields[f"phone_number_{i}"] = number
            self.fields[f"phone_kind_{i}"] = kind
            if not self.is_bound:
                known = existing[i] if i < len(existing) else None
                # A number handed over as initial data (a new card for an unknown caller) stays.
                self.initial.setdefault(f"phone_number_{i}", phone_display(known.e164) if known else "")
                self.initial.setdefault(f"phone_kind_{i}", known.kind if known else self._default_phone_kind())
        if count:
            del self.fields["phones"]  # the rows replace the one-number-per-line box

    @property
    def phone_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"phone_number_{i}"], self[f"phone_kind_{i}"]) for i in range(self.phone_row_count)]

    # Reading the card into the form ---------------------------------------------------------

    def _initial_from(self, card: Card) -> dict[str, Any]:
        from rapport.core.templatetags.rapport_ui import phone_display

        initial = {
            "website": card.website,
            "industry": card.industry,
            "size_band": card.size_band,
            "tier": card.tier,
            "lifecycle_stage": card.lifecycle_stage,
            "owner": card.owner_id,
            "team": card.team_id,
            "phones": "\n".join(phone_display(p.e164) for p in card.phones.all()),
            "emails": "\n".join(e.address for e in card.emails.all()),
            "social": "\n".join(str(s.get("url", "")) for s in card.social or [] if isinstance(s, dict)),
        }
        for name in self.name_fields:
            initial[name] = card.display_name if name == "name" else getattr(card, name)
        return initial

    # Turning input into service data -------------------------------------------------------

    def _region(self) -> str:
        return (self.data.get("phone_region") or "").strip().upper() or settings.RAPPORT_DEFAULT_REGION

    def _posted_phones(self) -> list[tuple[str, str | None]]:
        """(number, chosen type) from the rows; from a posted one-per-line box, the type is not chosen."""
        if not self.phone_row_count:
            return [(line, None) for line in _lines(self.data.get("phones"))]
        rows = []
        for i in range(self.phone_row_count):
            number = (self.data.get(f"phone_number_{i}") or "").strip()
            kind = (self.data.get(f"phone_kind_{i}") or "").strip()
            if number:
                rows.append((number, kind if kind in PhoneKind.values else None))
        return rows

    def phone_entries(self) -> list[dict[str, str]]:
        """Each number with its type; numbers already on the card keep their region (and kind if none chosen)."""
        existing = {}
        if self.card is not None:
            for p in self.card.phones.all():
                existing[_digits(p.e164)] = p
                existing.setdefault(_digits(p.raw), p)
        entries = []
        for number, kind in self._posted_phones():
            known = existing.get(_digits(number))
            if known is not None:
                entries.append({"number": known.e164, "region": known.region, "kind": kind or known.kind})
            else:
                entries.append({"number": number, "region": self._region(), "kind": kind or self._default_phone_kind()})
        return entries

    def _phones_changed(self) -> bool:
        assert self.card is not None
        before = [(_digits(p.e164), p.kind) for p in self.card.phones.all()]
        return [(_digits(e["number"]), e["kind"]) for e in self.phone_entries()] != before

    def email_entries(self) -> list[dict[str, str]]:
        kinds = {e.address.casefold(): e.kind for e in self.card.emails.all()} if self.card is not None else {}
        return [{"address": line, "kind": kinds.get(line.casefold(), "work")} for line in _lines(self.data.get("emails"))]

    def social_entries(self) -> list[dict[str, str]]:
        networks = {}
        if self.card is not None:
            networks = {str(s.get("url")): str(s.get("network", "")) for s in self.card.social or [] if isinstance(s, dict)}
        return [{"network": networks.get(url) or _network_of(url), "url": url} for url in _lines(self.data.get("social"))]

    def _text(self, name: str) -> str:
        return (self.data.get(name) or "").strip()

    def core_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: self._text(name) for name in self.name_fields}
        for name in ("website", "industry", "size_band", "tier", "lifecycle_stage"):
            data[name] = self._text(name)
        return data

    def create_data(self, addresses: list[dict[str, str]]) -> dict[str, Any]:
        data = self.core_data()
        data.update(
            phones=self.phone_entries(),
            emails=self.email_entries(),
            addresses=addresses,
            social=self.social_entries(),
            region=self._region(),
        )
        if "owner" in self.fields and self._text("owner"):
            data["owner"] = self._text("owner")
        if self._text("team"):
            data["team"] = self._text("team")
        return data

    def update_data(self, addresses: list[dict[str, str]], addresses_changed: bool) -> dict[str, Any]:
        """Only what changed: untouched contact points and assignments are not rewritten."""
        assert self.card is not None
        data = self.core_data()
        initial = self._initial_from(self.card)
        if addresses_changed or self._phones_changed() or _lines(self.data.get("emails")) != _lines(initial["emails"]):
            # The service replaces phones, e-mails and addresses together, so all three are sent,
            # each phone with its own region (update_card takes no top-level region).
            data.update(phones=self.phone_entries(), emails=self.email_entries(), addresses=addresses)
        if _lines(self.data.get("social")) != _lines(initial["social"]):
            data["social"] = self.social_entries()
        if "owner" in self.fields and self._text("owner") and self._text("owner") != str(self.card.owner_id):
            data["owner"] = self._text("owner")
        if self._text("team") != str(self.card.team_id or ""):
            data["team"] = self._text("team") or None
        return data


class OrganizationForm(CardForm):
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"autocomplete": "organization"}))

    name_fields = ("name",)
    field_order = ["name"]
    card_kind = Kind.ORGANIZATION


class PersonForm(CardForm):
    given_name = forms.CharField(label=_("Given name"), required=False, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    family_name = forms.CharField(label=_("Family name"), required=False, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    local_name = forms.CharField(
        label=_("Name in local script"), required=False, help_text=_("For example 王小明 or Ștefan Ionescu.")
    )
    organization = forms.CharField(label=_("Works at"), required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Job title"), required=False)

    name_fields = ("given_name", "family_name", "local_name")
    field_order = ["given_name", "family_name", "local_name", "organization", "title"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["size_band"]  # a head-count band describes organisations
        if self.card is not None:
            # Employments are recorded separately once the person exists.
            del self.fields["organization"]
            del self.fields["title"]

    def create_data(self, addresses: list[dict[str, str]]) -> dict[str, Any]:
        data = super().create_data(addresses)
        if self._text("organization"):
            data["organization"] = self._text("organization")
            data["title"] = self._text("title")
        return data

    def core_data(self) -> dict[str, Any]:
        data = super().core_data()
        if "size_band" not in self.fields or not data.get("size_band"):
            data.pop("size_band", None)
        return data


def address_formset(data: Any = None, card: Card | None = None) -> Any:
    initial = []
    if card is not None:
        initial = list(card.addresses.values("kind", "street", "city", "region", "postal_code", "country"))
    return AddressFormSet(data, prefix="addr", initial=initial)


def formset_entries(formset: Any) -> tuple[list[dict[str, str]], list[int]]:
    """Non-empty address rows for the service, and the form index of each (to place errors)."""
    entries, index = [], []
    for i, form in enumerate(formset.forms):
        entry = form.as_entry()
        if entry is not None:
            entries.append(entry)
            index.append(i)
    return entries, index


# --- facts -----------------------------------------------------------------------------------


def _html_attrs(attrs: dict[str, Any]) -> str:
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items() if value is not False and value is not None
    )


class QuickSelect(forms.Select):
    """A select written out in Python, with the same markup as Django's template. The template
    renders every option through two included templates: on the card page, whose forms hold
    the whole catalog and every colleague, that cost more than all of the page's queries."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], mark_safe(_html_attrs(widget["attrs"])))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(format_html('\n  <option value="{}"{}>{}</option>', str(option["value"]),
                                         mark_safe(_html_attrs(option["attrs"])), option["label"]))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


class FactForm(forms.Form):
    """Recording one fact with its provenance. The value widget depends on the item's type."""

    item = forms.ChoiceField(label=_("Information"), widget=QuickSelect)
    value = forms.CharField(label=_("Value"), required=False)
    source = forms.ChoiceField(label=_("Source"), widget=QuickSelect)
    observed_at = forms.CharField(label=_("Observed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    confidence = forms.CharField(
        label=_("Confidence (%)"), required=False,
        widget=forms.NumberInput(attrs={"min": "0", "max": "100", "step": "5", "inputmode": "numeric"}),
        help_text=_("Empty: the source's usual confidence."),
    )
    verified = forms.BooleanField(label=_("I have verified this"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    # Bound: the request's QueryDict; unbound: the empty MultiValueDict Django puts there.
    data: MultiValueDict[str, Any]

    def __init__(
        self,
        data: MultiValueDict[str, Any] | None = None,
        *,
        items: dict[str, InformationItem],
        sources: Iterable[InformationSource],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.items = items
        from rapport.catalog.selectors import MACHINE_SOURCES

        # A person recording a fact is never "a file import" or "the API": those are for programs.
        manual = [source for source in sources if source.key not in MACHINE_SOURCES]
        _choice_field(self, "item").choices = [("", _("Choose…")), *grouped_items(items.values())]
        self.fields["item"].widget.attrs.update(_value_widget_attrs("fact", "#fact-value-widget"))
        _choice_field(self, "source").choices = grouped_sources(manual)
        if not self.is_bound and "source" not in self.initial:
            keys = [s.key for s in manual]
            self.initial["source"] = "rep_observation" if "rep_observation" in keys else (keys[0] if keys else "")
        # Users who may record special-category items also give the legal basis for them.
        self.takes_legal_basis = any(i.sensitivity == "special" for i in items.values())
        if self.takes_legal_basis:
            from rapport.privacy.forms import add_legal_basis_fields

            add_legal_basis_fields(self)

    @property
    def selected_item(self) -> InformationItem | None:
        key = self.data.get("item") if self.is_bound else self.initial.get("item")
        return self.items.get(key) if isinstance(key, str) else None

    @property
    def value_list(self) -> list[str]:
        """What is in the value widget, to re-render it with the user's input."""
        if not self.is_bound:
            return []
        return [v for v in self.data.getlist("value") if v]

    def raw_value(self) -> Any:
        """A list for multiple-choice items, else the typed text."""
        item = self.selected_item
        if item is not None and item.type == "multi_choice":
            return [v for v in self.data.getlist("value") if v]
        return self.data.get("value", "")

    def confidence_value(self) -> Any:
        raw = (self.data.get("confidence") or "").strip()
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            return raw  # the service answers with its own message for non-numbers


class EmploymentForm(forms.Form):
    """Where a person works: the organisation is picked from a live search of visible cards."""

    organization_q = forms.CharField(label=_("Organisation"), required=False, max_length=200)
    organization = forms.TypedChoiceField(label=_("Organisation"), required=False, coerce=int, empty_value=None)
    title = forms.CharField(label=_("Job title"), required=False, max_length=200)
    level = forms.ChoiceField(label=_("Level"), required=False, choices=[("", "—"), *Level.choices])
    function = forms.ChoiceField(label=_("Function"), required=False, choices=[("", "—"), *Function.choices])
    started_on = forms.DateField(label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, organizations: Iterable[Card] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_organizations(organizations)

    def set_organizations(self, organizations: Iterable[Card]) -> None:
        _choice_field(self, "organization").choices = [("", "—"), *((c.id, c.display_name) for c in organizations)]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "organization": data.get("organization"),
            "title": data.get("title", ""),
            "level": data.get("level", ""),
            "function": data.get("function", ""),
            "started_on": data["started_on"].isoformat() if data.get("started_on") else None,
            "ended_on": data["ended_on"].isoformat() if data.get("ended_on") else None,
        }


class ShareForm(forms.Form):
    """Share a card with one more colleague or team."""

    user = forms.TypedChoiceField(label=_("Colleague"), required=False, coerce=int, empty_value=None, widget=QuickSelect)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None, widget=QuickSelect)

    def __init__(self, *args: Any, users: Iterable[Any] = (), teams: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "user").choices = [("", "—"), *((u.id, u.get_full_name() or u.get_username()) for u in users)]
        _choice_field(self, "team").choices = [("", "—"), *((t.id, t.name) for t in teams)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("user") is None) == (data.get("team") is None):
            raise forms.ValidationError(_("Choose one colleague or one team."))
        return data
