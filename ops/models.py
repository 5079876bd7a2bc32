from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last time each worker executed the heartbeat task that beat sends.

    A recent row proves the whole chain works: beat schedules, the broker carries, a worker runs.
    """

    hostname = models.CharField(max_length=255, unique=True)
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")

    def __str__(self) -> str:
        return self.hostname
