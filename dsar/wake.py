"""Waking a job from a service: a Celery message to a task named like beat's schedules name it.

Tasks are thin entry points that call services (design, "Inside an app"), so services never import
the tasks modules (an import-linter contract in pyproject.toml): a service that has written a row
for a worker wakes it here, by the task's registered name. The message is only a wake-up call; the
row is the job, and a sweep finds it if the message is lost.
"""

from collections.abc import Iterable
from importlib import import_module

from celery import current_app
from django.db import transaction


def job_wake(*, task: str, args: Iterable = (), after_commit: bool = True) -> None:
    """Send `task` (its registered name, e.g. "dsar.tasks.export_build_task") a message with
    `args`; after the current transaction commits unless `after_commit` is False (a sweep outside
    any transaction). An unknown name fails at once (KeyError), not in a worker."""
    # Celery's autodiscovery imports the tasks modules only in workers; importing the named
    # module (once: it is then in sys.modules) registers its tasks in any process.
    import_module(task.rpartition(".")[0])
    found = current_app.tasks[task]
    args = tuple(args)
    if after_commit:
        transaction.on_commit(lambda: found.delay(*args))
    else:
        found.delay(*args)
