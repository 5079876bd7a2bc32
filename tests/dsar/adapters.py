"""Recipient adapters for tests: one that records what it was told, one that always fails."""

from dsar.recipients import RecipientAdapter

TOLD: list[dict] = []


class RecordingAdapter(RecipientAdapter):
    def notify(self, *, kind, subject_email, reference):
        TOLD.append({"recipient": self.recipient.key, "email": subject_email, "ref": reference})


class FailingAdapter(RecipientAdapter):
    def notify(self, *, kind, subject_email, reference):
        raise ConnectionError("partner API is down")
