"""Template helpers of the agenda pages."""

from __future__ import annotations

from functools import lru_cache

from django import template

from rapport.core.templatetags.rapport_ui import phone_display

register = template.Library()


@register.filter
def task_url(pattern: str, task_id: int) -> str:
    """A task's action address from the page's pattern ("/today/tasks/{}/done/")."""
    return pattern.format(int(task_id))


@register.filter
@lru_cache(maxsize=8192)
def phone_shown(e164: str) -> str:
    """``phone_display``, remembered: Today shows the same customers' numbers at every visit,
    and parsing a number costs more than the rest of its line."""
    return phone_display(e164)
