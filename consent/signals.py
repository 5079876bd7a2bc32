"""Signals for outside code (the consent app's own code calls services directly)."""

from django.dispatch import Signal

# Sent by consent_record when a withdrawal is recorded, inside its transaction, with
# subject (dsar.registry.Subject), purpose (the purpose code) and event (the ConsentEvent).
# Receivers stop what the consent allowed at once (accounts deletes stored payment tokens).
consent_withdrawn = Signal()
