from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "rapport.agenda"
    label = "agenda"

    def ready(self) -> None:
        from rapport.agenda import extensions

        extensions.register()
