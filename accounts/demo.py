"""Realistic synthetic account holders and the demo staff, for demos and benchmarks.

Deterministic: user number i always gets the same details, so seeding again adds nothing new.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from faker import Faker

from .models import TIME_ZONE_CHOICES, User
from .totp import totp_authenticator_add

DEMO_PASSWORD = "workpex-demo-2026"
DEMO_USER = "demo"
DEMO_OFFICER = "officer"
DEMO_SUPPORT = "support"
DEMO_REVIEWER = "reviewer"
# A fixed TOTP secret for the demo officer only, so the demo can be followed from the README.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
LOCALES = ["en_GB", "en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "sv_SE", "en_IE"]
ZONES = [tz for tz, _ in TIME_ZONE_CHOICES if tz.startswith(("Europe/", "America/"))]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    full_name: str
    group: str | None
    totp: bool


DEMO_STAFF = [
    DemoStaff(DEMO_OFFICER, "Olivia Officer", "Privacy officer", totp=True),
    DemoStaff(DEMO_SUPPORT, "Sam Support", "Support", totp=True),
    DemoStaff(DEMO_REVIEWER, "Rita Reviewer", "Reviewer", totp=True),
]


def _synthetic_user(index: int, password_hash: str) -> User:
    locale = LOCALES[index % len(LOCALES)]
    fake = Faker(locale)
    fake.seed_instance(index)
    name = fake.name()
    born = fake.date_of_birth(minimum_age=17, maximum_age=80)
    return User(
        username=f"user{index:07d}",
        full_name=name,
        email=f"user{index:07d}@example.com",
        company_name=fake.company()[:200],
        country=locale.split("_")[1],
        date_of_birth=born,
        time_zone=ZONES[index % len(ZONES)] if index % 3 else "",
        language="de" if locale == "de_DE" else ("en" if index % 2 else ""),
        password=password_hash,
    )


def _batches(count: int, size: int) -> Iterator[range]:
    for start in range(1, count + 1, size):
        yield range(start, min(start + size, count + 1))


def demo_users_seed(
    *, count: int, batch_size: int = 2000, progress: Callable[[int], None] = lambda n: None
) -> int:
    """Create synthetic users 1..count that do not exist yet; returns how many were added."""
    password_hash = make_password(DEMO_PASSWORD)
    added = 0
    for batch in _batches(count, batch_size):
        usernames = [f"user{i:07d}" for i in batch]
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        users = [_synthetic_user(i, password_hash) for i in batch if f"user{i:07d}" not in existing]
        with transaction.atomic():
            created = User.objects.bulk_create(users, batch_size=batch_size)
            created_ids = dict(
                User.objects.filter(username__in=[u.username for u in created]).values_list(
                    "username", "id"
                )
            )
            EmailAddress.objects.bulk_create(
                [
                    EmailAddress(
                        user_id=created_ids[u.username], email=u.email, verified=True, primary=True
                    )
                    for u in created
                ],
                ignore_conflicts=True,
            )
        added += len(created)
        progress(len(batch))
    return added


def _demo_account(username: str, full_name: str, *, is_staff: bool) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "full_name": full_name,
            "email": f"{username}@workpex.example",
            "company_name": "Workpex" if is_staff else "Acme Analytics Ltd",
            "country": "IE",
            "date_of_birth": date(1990, 5, 17),
            "is_staff": is_staff,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def demo_accounts_seed() -> list[User]:
    """The demo logins: one account holder and one member of each staff role, with TOTP set up."""
    accounts = [_demo_account(DEMO_USER, "Dana Demo", is_staff=False)]
    for staff in DEMO_STAFF:
        user = _demo_account(staff.username, staff.full_name, is_staff=True)
        if staff.group:
            user.groups.add(Group.objects.get(name=staff.group))
        if (
            staff.totp
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            # Recovery codes: the staff member makes them on the two-factor page when wanted.
            totp_authenticator_add(user, DEMO_TOTP_SECRET)
        accounts.append(user)
    return accounts
