"""Recipient adapters for tests: one that records what it was told or given, one that always
fails."""

from dsar.recipients import RecipientAdapter

TOLD: list[dict] = []
PACKAGES: list[dict] = []


class RecordingAdapter(RecipientAdapter):
    def notify(self, *, kind, subject_email, reference, correction=None):
        told = {"recipient": self.recipient.key, "email": subject_email, "ref": reference}
        if correction is not None:
            told["correction"] = correction
        TOLD.append(told)

    def deliver_package(self, *, subject, reference, filename, content):
        PACKAGES.append(
            {"recipient": self.recipient.key, "subject": subject, "content": content.read()}
        )
        return f"recorded-{len(PACKAGES)}"


class FailingAdapter(RecipientAdapter):
    def notify(self, *, kind, subject_email, reference, correction=None):
        raise ConnectionError("partner API is down")

    def deliver_package(self, *, subject, reference, filename, content):
        raise ConnectionError("partner API is down")
