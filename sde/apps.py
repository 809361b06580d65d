from django.apps import AppConfig


class SdeConfig(AppConfig):
    name = "sde"
    verbose_name = "Static Data Export (read-only)"
