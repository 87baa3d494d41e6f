"""What the search box sends: the text travels in the request body, never in the URL."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import Kind

MAX_QUERY_LENGTH = 200


class SearchForm(forms.Form):
    """The search page, the header's live search and the organisation pickers.

    ``q`` is a name, a phone number or an e-mail address: personal data. It is only ever read
    from a POST body, so it reaches neither the address bar, the browser history, a proxy's or
    the server's access log, nor the ``Referer`` of the next page.
    """

    q = forms.CharField(
        required=False, strip=False, max_length=MAX_QUERY_LENGTH,
        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")},
    )
    kind = forms.ChoiceField(required=False, choices=[("", "")] + list(Kind.choices))
    # The header's search box asks for a short dropdown; the search page for a full list.
    live = forms.BooleanField(required=False)
    # "organization": radio buttons to choose an organisation inside another form.
    pick = forms.ChoiceField(required=False, choices=[("", ""), (Kind.ORGANIZATION, Kind.ORGANIZATION)])
