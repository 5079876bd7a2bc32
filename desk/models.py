from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CcpaDisclosurePublication(models.Model):
    """A calendar year's CCPA metrics (11 CCR § 7102), published by a privacy officer at
    /ccpa-metrics/<year>/. The figures are kept as they stood when published, so the public page
    shows what the officer checked; publishing again replaces them. Who published is in the audit
    log."""

    year = models.PositiveSmallIntegerField(_("calendar year"), unique=True)
    rows = models.JSONField(_("figures"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        verbose_name = _("published CCPA disclosure")
        verbose_name_plural = _("published CCPA disclosures")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)
