"""Form fields are drawn through Jinja2 with the markup Django's template language gave them."""

from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test.html import parse_html

from rapport.core.forms import FormRenderer


class _EveryWidget(forms.Form):
    name = forms.CharField(label="Name", max_length=20, initial='Ana "la" <Ruiz>', help_text="As written")
    email = forms.EmailField(required=False)
    count = forms.IntegerField(min_value=0, initial=3)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), initial="línea 1\nlínea 2 & más")
    agreed = forms.BooleanField(required=False, initial=True)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    kind = forms.ChoiceField(choices=[("", "—"), ("a", "Alpha"), ("b", "Beta & co")], initial="b")
    grouped = forms.ChoiceField(choices=[("Group 1", [("x", "Ex"), ("y", "Why")]), ("z", "Zed")], initial="y")
    many = forms.MultipleChoiceField(choices=[("1", "一"), ("2", "二")], initial=["2"], required=False)
    radio = forms.ChoiceField(choices=[("p", "Phone"), ("m", "Mail")], widget=forms.RadioSelect, initial="m")
    boxes = forms.MultipleChoiceField(choices=[("r", "Red"), ("g", "Green")], widget=forms.CheckboxSelectMultiple, initial=["g"])
    secret = forms.CharField(widget=forms.PasswordInput, required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, initial="h1")
    upload = forms.FileField(required=False)


def _same_html(fast: object, slow: object) -> bool:
    """Equal as HTML, as Django's own tests compare its two sets of widget templates
    (``assertHTMLEqual``): the same elements, attributes and text, whatever the whitespace
    between tags or the way a quote is escaped."""
    return bool(parse_html(str(fast)) == parse_html(str(slow)))


def test_the_app_draws_its_forms_with_the_renderer_that_uses_jinja2() -> None:
    assert isinstance(get_default_renderer(), FormRenderer)


def test_every_kind_of_field_reads_as_the_template_language_drew_it() -> None:
    bound = _EveryWidget(data={"name": "", "count": "-1", "kind": "nope", "many": ["9"]})
    for form in (_EveryWidget(), bound):
        fast = type(form)(form.data or None, renderer=FormRenderer()) if form.is_bound else type(form)(renderer=FormRenderer())
        slow = type(form)(form.data or None, renderer=DjangoTemplates()) if form.is_bound else type(form)(renderer=DjangoTemplates())
        for name in form.fields:
            assert _same_html(fast[name], slow[name]), name
            assert str(fast[name].errors) == str(slow[name].errors), name
        assert _same_html(fast.as_div(), slow.as_div())
    assert bound.errors  # the bound form did draw its errors


def test_a_widget_only_the_template_language_has_is_drawn_by_it() -> None:
    renderer = FormRenderer()
    for _ in range(2):  # the second time from what the first one learnt
        html = renderer.render("auth/widgets/read_only_password_hash.html", {"summary": [{"label": "algorithm", "value": "pbkdf2"}]})
        assert "algorithm" in html
    assert renderer._in_jinja2 == {"auth/widgets/read_only_password_hash.html": False}
    assert "<select" in renderer.render("django/forms/widgets/select.html", {"widget": {"name": "x", "attrs": {}, "optgroups": []}})
