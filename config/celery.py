"""The Celery application shared by the worker, beat and the web processes."""

import os

from celery import Celery, signals

from config import metrics, requestid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("evetrade")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _profit_schedule(sender: Celery, **kwargs: object) -> None:
    # Boards follow each publish (market.signals.snapshot_published, received in
    # profit/tasks.py); this cheap check catches a lost one.
    sender.add_periodic_task(
        60.0, sender.signature("profit.tasks.recompute_boards"), name="profit-boards-check"
    )


def _connect_observability() -> None:
    """Request ids into and out of tasks, and task durations and outcomes as metrics."""
    signals.before_task_publish.connect(requestid.attach_to_task, weak=False)
    signals.task_prerun.connect(requestid.enter_task, weak=False)
    signals.task_postrun.connect(requestid.leave_task, weak=False)

    def started(task_id: str, task: object, **_: object) -> None:
        metrics.task_started(task_id)

    def finished(task_id: str, task: object, state: str | None = None, **_: object) -> None:
        outcome = {"SUCCESS": "success", "RETRY": "retry"}.get(state or "", "failure")
        metrics.task_finished(task_id, getattr(task, "name", "unknown"), outcome)

    signals.task_prerun.connect(started, weak=False)
    signals.task_postrun.connect(finished, weak=False)


_connect_observability()
