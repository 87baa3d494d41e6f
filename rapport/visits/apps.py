from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "rapport.visits"
    label = "visits"
    verbose_name = "Visits"

    def ready(self) -> None:
        from rapport.privacy.services import register_erasure_handler
        from rapport.visits import extensions
        from rapport.visits.services import erase_visits_of

        extensions.register()
        register_erasure_handler("visits.visit", erase_visits_of)
