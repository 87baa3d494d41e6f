from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "rapport.deals"
    label = "deals"
    verbose_name = "Deals"

    def ready(self) -> None:
        from rapport.deals import extensions

        extensions.register()
