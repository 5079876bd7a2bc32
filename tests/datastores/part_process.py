"""A plain OS process that runs one system part exactly as the Celery task does:
`python -m tests.datastores.part_process <part_id>` (Django set up from the environment the
test gives it; DATASTORES_TEST_KILL_AFTER makes it SIGKILL itself after that collection)."""

import os
import sys


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workpex_portal.settings.test")
    import django

    django.setup()
    from datastores.tasks import system_part_run_task

    system_part_run_task(int(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
