"""Demo devices for `manage.py seed_demo`: the demo account holder's phone and tablet, with
made-up tokens the test-mode provider accepts. Safe to run again (registering is idempotent)."""

from django.contrib.auth import get_user_model

from .services import device_register

DEMO_DEVICES = [
    ("apple", "d3e0" * 16, "Dana's iPhone"),
    ("google", "demoTablet:APA91b" + "x7" * 40, "Dana's Android tablet"),
]


def demo_devices_seed(*, username: str = "demo") -> int:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return 0
    added = 0
    for platform, token, name in DEMO_DEVICES:
        added += device_register(user=user, platform=platform, token=token, name=name)[1]
    return added
