from django.apps import AppConfig


class ScreenPopConfig(AppConfig):
    name = "rapport.screenpop"
    label = "screenpop"
