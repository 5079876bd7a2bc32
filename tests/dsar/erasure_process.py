"""A plain OS process that runs one erasure exactly as the Celery task does, without booting a
worker: `python -m tests.dsar.erasure_process <schedule_id>`.

Django is set up once (DJANGO_SETTINGS_MODULE, DATABASE_URL etc. from the environment the test
gives it) and the task's own function (`dsar.tasks.erasure_run_task`, run in this process) is
called, so the erasure engine, its transactions and its kill hook
(DSAR_ERASURE_TEST_KILL_AFTER) are the real ones; only the broker round trip is left out.
"""

import os
import sys


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workpex_portal.settings.test")
    import django

    django.setup()
    from dsar.tasks import erasure_run_task

    erasure_run_task(int(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
