"""Template helpers of the agenda pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def task_url(pattern: str, task_id: int) -> str:
    """A task's action address from the page's pattern ("/today/tasks/{}/done/")."""
    return pattern.format(int(task_id))
