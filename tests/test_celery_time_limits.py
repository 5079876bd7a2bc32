"""Every Celery task of the project has a soft and a hard time limit, chosen per job (the table in
docs/jobs-and-operations.md), and a job that a sweep resumes is stopped before the sweep would
hand its row to a second worker."""

import importlib
import importlib.util
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from accounts.app_settings import app_settings as accounts_settings
from datastores import app_settings as datastores_settings
from dsar.app_settings import app_settings as dsar_settings
from dsar.services import exports, webhooks
from workpex_portal.celery import app as celery_app


def project_tasks() -> dict:
    """The registered tasks whose module belongs to one of the project's apps."""
    root = Path(settings.BASE_DIR).resolve()
    ours = set()
    for config in apps.get_app_configs():
        if Path(config.path).resolve().parent == root:  # not the libraries in .venv
            ours.add(config.name)
            if importlib.util.find_spec(f"{config.name}.tasks"):
                importlib.import_module(f"{config.name}.tasks")
    return {
        name: task
        for name, task in celery_app.tasks.items()
        if task.__module__.split(".")[0] in ours
    }


def test_every_project_task_has_a_soft_and_a_hard_time_limit():
    tasks = project_tasks()
    assert len(tasks) >= 20  # every app's tasks were found, not just a few
    missing = [
        name
        for name, task in tasks.items()
        if not task.soft_time_limit
        or not task.time_limit
        or not task.soft_time_limit < task.time_limit
    ]
    assert not missing, f"tasks without soft_time_limit < time_limit: {missing}"


@pytest.mark.parametrize(
    ("task_name", "window"),
    [
        ("dsar.tasks.erasure_run_task", lambda: dsar_settings.ERASURE_RESUME_AFTER_SECONDS),
        (
            "accounts.tasks.child_removal_task",
            lambda: accounts_settings.CHILD_REMOVAL_STUCK_AFTER.total_seconds(),
        ),
        (
            "accounts.tasks.child_removals_batch_task",
            lambda: accounts_settings.CHILD_REMOVAL_STUCK_AFTER.total_seconds(),
        ),
        ("dsar.tasks.export_build_task", lambda: exports.STUCK_AFTER.total_seconds()),
        ("dsar.tasks.webhook_deliver_task", lambda: webhooks.STUCK_AFTER.total_seconds()),
        (
            "datastores.tasks.system_part_run_task",
            lambda: datastores_settings.STUCK_AFTER_SECONDS,
        ),
    ],
)
def test_a_resumable_job_stops_before_its_row_counts_as_stuck(task_name, window):
    task = project_tasks()[task_name]
    assert task.time_limit < window()
