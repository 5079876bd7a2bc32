"""Connected systems, their datasets, and each system's part of a request."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import tempfile
from datetime import timedelta

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.claims import claim_one
from dsar.models import WebhookEventType
from dsar.registry import Subject
from dsar.request_parts import ExportSection
from dsar.services import (
    audit_record,
    erasure_complete_if_possible,
    exports_resume,
    webhook_emit,
)
from dsar.services.webhooks import request_webhook_data
from dsar.textinput import text_refuse_unstorable
from dsar.wake import job_wake

from . import app_settings
from .crypto import secret_decrypt, secret_encrypt
from .engine import (
    access_rows,
    anchors_capture,
    engine_open,
    erase_order,
    erasure_step,
    error_text,
    plan_build,
    plan_counts,
    schema_problems,
    touches,
    url_masked,
)
from .fides import DatasetError, Graph, dataset_parse
from .models import ConnectedSystem, DatasetVersion, SystemPart

logger = logging.getLogger(__name__)

PART_TASK = "datastores.tasks.system_part_run_task"


# --- Systems and datasets ----------------------------------------------------------------------


def system_url_set(*, system: ConnectedSystem, url: str) -> None:
    """Keep the connection URL encrypted, and a masked copy to show (not saved here)."""
    url = url.strip()
    system.url_encrypted = secret_encrypt(url)
    system.url_masked = url_masked(url)


def system_url(system: ConnectedSystem) -> str:
    return secret_decrypt(system.url_encrypted)


def system_connection_test(*, system: ConnectedSystem, actor=None) -> tuple[bool, str]:
    """Connect and run `SELECT 1`; the outcome is kept on the system and returned."""
    import sqlalchemy as sa

    try:
        engine = engine_open(system_url(system))
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        ok, message = True, _("Connected.")
    except Exception as error:  # any driver's error, told in its own words, without the URL
        ok, message = (
            False,
            _("Could not connect: %(error)s") % {"error": error_text(error)},
        )
    system.last_checked_at = timezone.now()
    system.last_check = message
    ConnectedSystem.objects.filter(pk=system.pk).update(
        last_checked_at=system.last_checked_at, last_check=message
    )
    audit_record(action="datastore_connection_tested", actor=actor, obj=system, detail={"ok": ok})
    return ok, message


def dataset_check(*, system: ConnectedSystem, text: str) -> Graph:
    """The dataset's graph, if it is valid and matches the system's database; else DatasetError
    naming every problem."""
    graph = dataset_parse(text)
    if system.kind == ConnectedSystem.Kind.SQL:
        try:
            engine = engine_open(system_url(system))
            problems = schema_problems(engine, graph)
        except DatasetError:
            raise
        except Exception as error:
            raise DatasetError(
                _("Could not read the database to check the dataset: %(error)s")
                % {"error": error_text(error)}
            ) from None
        if problems:
            raise DatasetError(" ".join(problems))
        plan_order_check(graph=graph)
    return graph


def plan_order_check(*, graph: Graph) -> None:
    """Refuse erase orders that cannot be kept, for a plan that reaches every collection."""
    identities = {kind: ["-"] for c in graph.collections.values() for kind in c.identities}
    erase_order(plan_build(graph=graph, identities=identities))


@transaction.atomic
def dataset_upload(*, system: ConnectedSystem, text: str, actor) -> DatasetVersion:
    """A new version of the system's dataset, after the check; nothing changes if it fails."""
    graph = dataset_check(system=system, text=text)
    current = system.dataset
    if current is not None and current.text == text:
        return current
    version = DatasetVersion.objects.create(
        system=system,
        version=(current.version + 1) if current else 1,
        fides_key=graph.key,
        text=text,
        created_by=actor,
    )
    audit_record(
        action="datastore_dataset_uploaded",
        actor=actor,
        obj=version,
        detail={"system": system.pk, "version": version.version},
    )
    return version


def _graph_of(version: DatasetVersion) -> Graph:
    return dataset_parse(version.text)


def dataset_touches(*, version: DatasetVersion) -> list[dict]:
    """What the dataset in force reads and changes, per collection (engine.touches)."""
    return touches(_graph_of(version))


# --- Whom a request is about -------------------------------------------------------------------


def request_phones(request) -> list[str]:
    """The phone number of the request's account, in E.164 (as Fides' `phone_number`)."""
    phone = getattr(request.user, "phone", None) if request.user_id else None
    return [phone.as_e164] if phone else []


def identities_of(subjects: list[Subject], phones=()) -> dict[str, list[str]]:
    """Identity type → values, for the datasets' `fides_meta.identity` fields: `email`,
    `user_id` (the portal's account id) and `phone_number` (E.164, from the account)."""
    identities: dict[str, list[str]] = {
        "email": [],
        "user_id": [],
        "phone_number": [p for p in dict.fromkeys(phones) if p],
    }
    for subject in subjects:
        if subject.email and subject.email not in identities["email"]:
            identities["email"].append(subject.email)
        if subject.user_id is not None and str(subject.user_id) not in identities["user_id"]:
            identities["user_id"].append(str(subject.user_id))
    return {k: v for k, v in identities.items() if v}


# --- Dry run -----------------------------------------------------------------------------------


def dry_run(*, subjects: list[Subject], phones=()) -> list[dict]:
    """Per active system: the collections the person's identities reach, how many rows of
    theirs each holds, and what an erasure would do there, in its order. Changes nothing."""
    identities = identities_of(subjects, phones)
    out = []
    for system in ConnectedSystem.objects.filter(active=True):
        entry = {"system": system.name, "kind": system.kind, "collections": [], "error": ""}
        version = system.dataset
        if system.kind == ConnectedSystem.Kind.MANUAL:
            entry["error"] = _("Done by hand: %(what)s") % {"what": system.instructions}
        elif system.kind == ConnectedSystem.Kind.WEBHOOK:
            entry["error"] = _("Told by a webhook; the system confirms its part through the API.")
        elif version is None:
            entry["error"] = _("No dataset yet: this system is left out.")
        else:
            try:
                graph = _graph_of(version)
                engine = engine_open(system_url(system))
                plan = plan_build(graph=graph, identities=identities)
                with engine.connect() as conn:
                    counts = plan_counts(conn, plan)
                described = {t["name"]: t for t in touches(graph)}
                entry["collections"] = [
                    {**described[name], "rows": counts[name]} for name in erase_order(plan)
                ]
            except Exception as error:
                entry["error"] = error_text(error)
        out.append(entry)
    return out


# --- Parts of a request ------------------------------------------------------------------------


# What a system's part waits for first: a worker (SQL), someone, or the system itself.
FIRST_STATE = {
    ConnectedSystem.Kind.MANUAL: SystemPart.State.MANUAL,
    ConnectedSystem.Kind.WEBHOOK: SystemPart.State.WAITING,
}


# The event that tells a system confirmed through the API what its part asks of it.
PART_DUE_EVENT = {
    SystemPart.Kind.ERASURE: WebhookEventType.ERASURE_PART_DUE,
    SystemPart.Kind.ACCESS: WebhookEventType.ACCESS_PART_DUE,
}


def parts_create(*, request, kind: str, subjects: list[Subject], phones=()) -> list[SystemPart]:
    """Each active system's part of a request, of `kind` (erasure or access), made once: a
    resumed erasure run or a rebuilt package finds them made. A SQL system's part is woken on a
    worker; one done by hand is a task due in its days; one confirmed through the API waits for
    its system, told by an `erasure.part_due` or `access.part_due` webhook written in this
    transaction (so the part exists when the system hears of it)."""
    identities = identities_of(subjects, phones)
    now = timezone.now()
    parts = []
    for system in ConnectedSystem.objects.filter(active=True):
        out_of_reach = system.kind in ConnectedSystem.OUT_OF_REACH
        version = system.dataset
        if not out_of_reach and version is None:
            continue  # nothing described yet: nothing the portal can do there
        state = FIRST_STATE.get(system.kind, SystemPart.State.PENDING)
        part, created = SystemPart.objects.get_or_create(
            request=request,
            system=system,
            kind=kind,
            defaults={
                "dataset": None if out_of_reach else version,
                "identities": {} if out_of_reach else identities,
                "state": state,
                "instructions": system.instructions,
                "team": system.team,
                "due_at": now + timedelta(days=system.due_days) if out_of_reach else None,
                "next_attempt_at": None if out_of_reach else now + _stuck_after(),
            },
        )
        if created and state == SystemPart.State.PENDING:
            job_wake(task=PART_TASK, args=[part.pk])
        if created and state == SystemPart.State.WAITING and subjects:
            _part_due_webhook(part, subjects[0])
        parts.append(part)
    return parts


def _part_due_webhook(part: SystemPart, subject: Subject) -> None:
    """Tell the system whom its part is about (their account id and address, as `erasure.due`
    does), what to do and which part to confirm:
    `POST /api/v1/requests/{request.id}/systems/{system.id}/done`."""
    webhook_emit(
        type=PART_DUE_EVENT[part.kind],
        subject=subject,
        data={
            **request_webhook_data(part.request),
            "system": {"id": part.system_id, "name": part.system.name},
            "part_due_at": part.due_at.isoformat(),
        },
        request=part.request,
        endpoint_ids=[part.system.endpoint_id],
    )


def _stuck_after() -> timedelta:
    return timedelta(seconds=app_settings.STUCK_AFTER_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    seconds = app_settings.RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, app_settings.RETRY_MAX_SECONDS))


def _claim(part_id: int) -> SystemPart | None:
    """Claim a part that is due: waiting, failed and due again, or running with a dead worker."""
    now = timezone.now()
    due = Q(state=SystemPart.State.PENDING) | Q(
        state__in=(SystemPart.State.FAILED, SystemPart.State.RUNNING), next_attempt_at__lte=now
    )
    with transaction.atomic():
        part = claim_one(SystemPart.objects.filter(due, pk=part_id))
        if part is None:
            return None
        part.state = SystemPart.State.RUNNING
        part.attempts += 1
        part.started_at = now
        part.next_attempt_at = now + _stuck_after()  # the sweep resumes it if the worker dies
        part.save(update_fields=["state", "attempts", "started_at", "next_attempt_at"])
        return part


def system_part_run(*, part_id: int) -> bool:
    """Run one system's part (claimed first, so a repeated message does nothing): an erasure
    or the reading of the person's rows for their access report."""
    part = _claim(part_id)
    if part is None:
        return False
    try:
        graph = _graph_of(part.dataset)
        engine = engine_open(system_url(part.system))
        if part.kind == SystemPart.Kind.ACCESS:
            _access_read(part, graph, engine)
        else:
            _erasure_steps(part, graph, engine)
    except Exception as error:  # recorded; the sweep retries with backoff
        logger.exception("System part %s failed (attempt %s)", part.pk, part.attempts)
        _fail(part, error_text(error, limit=1000))
        return False
    _finish(part)
    return True


def _erasure_steps(part: SystemPart, graph: Graph, engine) -> None:
    """Plan from the identities, capture the anchors before any change, then erase collection
    by collection, recording each one done. A rerun skips what is done."""
    with engine.connect() as conn:
        if part.anchors is None:
            plan = plan_build(graph=graph, identities=part.identities)
            with conn.begin():
                part.anchors = anchors_capture(conn, plan)
            SystemPart.objects.filter(pk=part.pk).update(anchors=part.anchors)
        plan = plan_build(graph=graph, identities=part.identities, anchors=part.anchors)
        for name in erase_order(plan):
            if name in part.done_collections:
                continue
            with conn.begin():  # each collection's step commits on its own
                rows = erasure_step(conn, plan, name, hmac_key=app_settings.hmac_key())
            part.done_collections.append(name)
            part.counts[name] = rows
            SystemPart.objects.filter(pk=part.pk).update(
                done_collections=part.done_collections, counts=part.counts
            )
            _test_interruption(name)


def _access_read(part: SystemPart, graph: Graph, engine) -> None:
    """Read the person's rows of each collection with personal fields (one streamed statement
    per collection, only those fields and the key) into the part's data file. Reading changes
    nothing, so a rerun reads everything again."""
    plan = plan_build(graph=graph, identities=part.identities)
    collections = [
        {
            "name": name,
            "categories": {s.name: list(s.categories) for s in graph.collections[name].personal},
        }
        for name in plan.order
        if graph.collections[name].personal
    ]

    def rows():
        with engine.connect() as conn:
            for collection in collections:
                for row in access_rows(conn, plan, collection["name"]):
                    yield collection["name"], row
                _test_interruption(collection["name"])

    _data_save(part, collections, rows())


def _data_save(part: SystemPart, collections: list[dict], rows) -> None:
    """Write an access part's data file (streamed through a temporary file, so memory stays
    flat) and its row counts; a file an earlier attempt left is replaced."""
    counts = dict.fromkeys((c["name"] for c in collections), 0)
    with tempfile.TemporaryFile() as out:
        out.write(json.dumps({"collections": collections}).encode() + b"\n")
        for name, row in rows:  # plain values: the engine's and the API's
            out.write(_row_prefix(name) + json.dumps(row).encode() + b"}\n")
            counts[name] += 1
        out.seek(0)
        if part.data_file:
            part.data_file.delete(save=False)
        part.data_file.save("data.jsonl", File(out), save=False)
    part.counts = counts
    SystemPart.objects.filter(pk=part.pk).update(data_file=part.data_file.name, counts=counts)


def _test_interruption(name: str) -> None:
    """The tests' interruption point (DATASTORES_TEST_KILL_AFTER, test settings only): a real
    SIGKILL once this collection's step committed, as a worker dying mid-part."""
    if name and name == app_settings.test_kill_after():
        os.kill(os.getpid(), signal.SIGKILL)


def _fail(part: SystemPart, error: str) -> None:
    retry_at = (
        timezone.now() + retry_delay(part.attempts)
        if part.attempts < app_settings.MAX_ATTEMPTS
        else None
    )
    SystemPart.objects.filter(pk=part.pk).update(
        state=SystemPart.State.FAILED, last_error=error, next_attempt_at=retry_at
    )


def _finish(part: SystemPart) -> None:
    with transaction.atomic():
        part = SystemPart.objects.select_for_update().get(pk=part.pk)
        if part.state != SystemPart.State.RUNNING:
            return
        part.state = SystemPart.State.DONE
        part.finished_at = timezone.now()
        part.identities = {}
        part.anchors = None  # the person's keys are not kept once erased
        part.next_attempt_at = None
        part.last_error = ""
        part.save()
        audit_record(
            action="datastore_part_done",
            obj=part,
            detail={"system": part.system_id, "rows": sum(part.counts.values())},
        )
    _request_continue(part)


def _request_continue(part: SystemPart) -> None:
    """A part is done: the request goes on if it waited for nothing else — an erasure
    completes, an access request's packages are built."""
    if part.kind == SystemPart.Kind.ACCESS:
        exports_resume(request=part.request)
    else:
        erasure_complete_if_possible(request=part.request)


def system_part_retry(*, part: SystemPart, actor) -> SystemPart:
    """An officer's Retry of a part that failed past its attempts (or before its next try)."""
    with transaction.atomic():
        part = SystemPart.objects.select_for_update().get(pk=part.pk)
        if part.state != SystemPart.State.FAILED:
            return part
        part.state = SystemPart.State.PENDING
        part.attempts = 0
        part.next_attempt_at = timezone.now() + _stuck_after()
        part.save(update_fields=["state", "attempts", "next_attempt_at"])
        audit_record(action="datastore_part_retried", actor=actor, obj=part)
        job_wake(task=PART_TASK, args=[part.pk])
    return part


class PartNotWaiting(DatasetError):
    """A confirmation of a part that is not waiting for one (a SQL system's part)."""


def system_part_confirm(
    *,
    part: SystemPart,
    confirmation: str,
    actor=None,
    via: str = "",
    counts: dict[str, int] | None = None,
    data: list[dict] | None = None,
) -> SystemPart:
    """A part done outside the portal is confirmed: by an officer (`actor`: a task done by hand,
    or a system's part its receiver cannot confirm), or by the system itself through the API
    (`via` names its API client; only a part waiting for the system). Who, what and, if given,
    how many rows per collection are recorded, and the request goes on if this was the last
    thing it waited for. For an access part the system may send the person's data (`data`:
    collections, each with its fields' categories and rows), which goes into their report; what
    was done, in words, is shown there too. A part already done is returned as it is: a repeat
    changes nothing."""
    text_refuse_unstorable(confirmation, via)
    confirmation = confirmation.strip()
    if not confirmation:
        raise DatasetError(_("Say what was done."))
    if data and part.kind != SystemPart.Kind.ACCESS:
        raise DatasetError(_("Only a part of an access request takes the person's data."))
    with transaction.atomic():
        part = SystemPart.objects.select_for_update().get(pk=part.pk)
        if part.state == SystemPart.State.DONE:
            return part
        waiting = (SystemPart.State.WAITING,) if via else SystemPart.CONFIRMABLE
        if part.state not in waiting:
            raise PartNotWaiting(_("This part is not waiting for a confirmation."))
        if data:
            _data_save(
                part,
                [{"name": c["collection"], "categories": _fields_of(c)} for c in data],
                ((c["collection"], row) for c in data for row in c["rows"]),
            )
        elif counts:
            part.counts = dict(counts)
        part.state = SystemPart.State.DONE
        part.finished_at = timezone.now()
        part.confirmed_by = actor
        part.confirmed_via = via
        part.confirmation = confirmation
        part.save(
            update_fields=[
                "state",
                "finished_at",
                "confirmed_by",
                "confirmed_via",
                "confirmation",
                "counts",
            ]
        )
        audit_record(
            action="datastore_part_confirmed",
            actor=actor,
            actor_kind="system" if via else None,
            obj=part,
            detail={"system": part.system_id, "via": via, "rows": sum(part.counts.values())},
        )
    _request_continue(part)
    return part


def _fields_of(collection: dict) -> dict[str, list[str]]:
    """A collection a system sent: each field with the categories it named (none if it named
    none), in the order it named them, then the fields of its rows in the order they come."""
    fields = {name: list(c) for name, c in (collection.get("categories") or {}).items()}
    for row in collection["rows"]:
        for name in row:
            fields.setdefault(name, [])
    return fields


def system_parts_sweep(*, limit: int = 100) -> int:
    """Wake the parts a lost message or a dead worker left, and failed ones due again."""
    now = timezone.now()
    due = list(
        SystemPart.objects.filter(
            state__in=[SystemPart.State.PENDING, SystemPart.State.FAILED, SystemPart.State.RUNNING],
            next_attempt_at__lte=now,
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        job_wake(task=PART_TASK, args=[pk], after_commit=False)
    return len(due)


def parts_blockers(request) -> list[str]:
    """What of the connected systems' work the request waits for, in plain words."""
    waiting = set(
        request.system_parts.exclude(state=SystemPart.State.DONE).values_list("kind", "state")
    )
    states = {state for _kind, state in waiting}
    blockers = []
    if SystemPart.State.MANUAL in states:
        blockers.append(_("Connected systems done by hand still wait for someone to confirm them."))
    if SystemPart.State.WAITING in states:
        blockers.append(
            _("Connected systems told by a webhook have not yet confirmed through the API.")
        )
    running = {kind for kind, state in waiting if state not in SystemPart.CONFIRMABLE}
    if SystemPart.Kind.ERASURE in running:
        blockers.append(_("The erasure in the connected systems is not done yet."))
    if SystemPart.Kind.ACCESS in running:
        blockers.append(_("The person's data in the connected systems is still being read."))
    return blockers


def access_parts_waiting(request) -> list[str]:
    """What an access request's packages wait for before they can be built: each system's
    access part done (plain words, as on the request page); nothing if there is none."""
    parts = request.system_parts.filter(kind=SystemPart.Kind.ACCESS)
    if not parts.exclude(state=SystemPart.State.DONE).exists():
        return []
    return parts_blockers(request)


# --- Access ------------------------------------------------------------------------------------


def export_sections(*, request) -> list[ExportSection]:
    """What each system's access part found (or the system sent, or the team who did it by
    hand wrote), in the order of the systems' names: a section per collection, its rows read
    from the part's data file when the package is written, and a note where a person did it."""
    sections = []
    parts = request.system_parts.filter(kind=SystemPart.Kind.ACCESS, state=SystemPart.State.DONE)
    for part in parts.select_related("system").order_by("system__name"):
        note = part.confirmation if part.system.kind in ConnectedSystem.OUT_OF_REACH else ""
        collections = _data_collections(part) if part.data_file else []
        if note and not collections:
            sections.append(ExportSection(system=part.system.name, collection="", note=note))
        for number, collection in enumerate(collections):
            sections.append(
                ExportSection(
                    system=part.system.name,
                    collection=collection["name"],
                    categories=collection["categories"],
                    rows=_rows_reader(part.data_file, collection["name"]),
                    note=note if number == 0 else "",
                )
            )
    return sections


def _data_collections(part: SystemPart) -> list[dict]:
    with part.data_file.open("rb") as data:
        return json.loads(data.readline())["collections"]


def access_data_forget(*, request) -> int:
    """Delete the data files of a request's access parts (once its packages are gone)."""
    forgotten = 0
    for part in request.system_parts.exclude(data_file=""):
        part.data_file.delete(save=False)
        SystemPart.objects.filter(pk=part.pk).update(data_file="")
        forgotten += 1
    return forgotten


def _row_prefix(name: str) -> bytes:
    """How a data file's line of a row of collection `name` begins: {"c": name, "r": row}."""
    return b'{"c": ' + json.dumps(name).encode() + b', "r": '


def _rows_reader(data_file, name: str):
    """The rows of one collection, read line by line from the part's data file (lines of other
    collections are passed over by their start, without parsing them)."""
    prefix = _row_prefix(name)

    def rows():
        with data_file.open("rb") as data:
            for line in itertools.islice(data.file, 1, None):  # after the collections' line
                if line.startswith(prefix):
                    yield json.loads(line[len(prefix) : -2])

    return rows
