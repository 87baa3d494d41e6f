from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "rapport.aftersales"
    label = "aftersales"
    verbose_name = "After-sales"
