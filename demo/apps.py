from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed only with DEBUG on (see ``amparo/settings.py``) and in the tests; it has no models."""

    name = "demo"
