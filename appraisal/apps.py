from django.apps import AppConfig


class AppraisalConfig(AppConfig):
    """Appraisals: a pasted list valued at a market, and what it nets there (issue 17)."""

    name = "appraisal"
    default_auto_field = "django.db.models.BigAutoField"
