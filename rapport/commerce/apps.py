from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "rapport.commerce"
    label = "commerce"
    verbose_name = "Commerce"

    def ready(self) -> None:
        from rapport.commerce import extensions

        extensions.register()
