"""dsar.wake: services wake jobs by the task's registered name, never by importing tasks."""

import os
import subprocess
import sys

import pytest

from dsar.tasks import export_build_task
from dsar.wake import job_wake


def test_an_unknown_task_name_fails_at_once():
    with pytest.raises(KeyError):
        job_wake(task="dsar.tasks.no_such_task", args=[1])


@pytest.mark.django_db
def test_the_message_waits_for_the_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(export_build_task, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        job_wake(task="dsar.tasks.export_build_task", args=[7])
        assert sent == []
    assert sent == [(7,)]
    job_wake(task="dsar.tasks.export_build_task", args=[8], after_commit=False)
    assert sent == [(7,), (8,)]


def test_a_task_module_not_imported_yet_is_found_by_its_name():
    """A web process has not run Celery's autodiscovery: the name alone finds the task. In a
    fresh process, with the message itself stubbed (no broker needed)."""
    code = (
        "import sys, django; django.setup()\n"
        "from celery import Task\n"
        "Task.delay = lambda self, *args: print(self.name, args)\n"
        "from dsar.wake import job_wake\n"
        "assert 'ops.tasks' not in sys.modules\n"
        "job_wake(task='ops.tasks.worker_heartbeat_task', after_commit=False)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workpex_portal.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ops.tasks.worker_heartbeat_task ()"
