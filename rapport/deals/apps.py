from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "rapport.deals"
    label = "deals"
    verbose_name = "Deals"

    def ready(self) -> None:
        from rapport.deals import extensions
        from rapport.deals.services import erase_deals_of
        from rapport.privacy.services import register_erasure_handler

        extensions.register()
        register_erasure_handler("deals.deal", erase_deals_of)
