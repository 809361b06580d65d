"""The Celery application shared by the worker, beat and the web processes."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("evetrade")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _profit_schedule(sender: Celery, **kwargs: object) -> None:
    # Boards follow each publish (market/tasks.py); this cheap check catches a lost one.
    sender.add_periodic_task(
        60.0, sender.signature("profit.tasks.recompute_boards"), name="profit-boards-check"
    )
