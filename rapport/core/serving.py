"""``rapport serve``'s process manager: gunicorn, given the WSGI application and its settings.

Imported only where gunicorn can run (it needs ``fork``); ``rapport serve`` falls back to
waitress when this import fails.
"""

from __future__ import annotations

from typing import Any, Callable

from gunicorn.app.base import BaseApplication


class RapportServer(BaseApplication):
    """Runs an already built WSGI application with settings from a dict, not a config file."""

    def __init__(self, app: Callable[..., Any], options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:
        return self.application
