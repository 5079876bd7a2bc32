"""Workspaces and their records (Part II's service data): every write and the membership rule.

The workspace owner owns its service data: only the owner adds or removes collaborators, and a
service-data export or deletion request (dsar) covers the workspaces the person owns. Members
see each other's name and photo only (`workspace_collaborators`).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dsar.registry import Subject, values_in

from .models import User, Workspace, WorkspaceMember, WorkspaceRecord


def workspaces_of(*, user: User) -> QuerySet:
    return Workspace.objects.filter(members__user=user).select_related("owner").distinct()


def workspace_for_member(*, user: User, workspace_id: int) -> Workspace:
    """The workspace if the user works in it; PermissionDenied otherwise (same answer whether
    it exists or not)."""
    workspace = workspaces_of(user=user).filter(pk=workspace_id).first()
    if workspace is None:
        raise PermissionDenied(_("You do not work in this workspace."))
    return workspace


def workspace_collaborators(*, workspace: Workspace) -> QuerySet:
    """What collaborators see of each other: name and photo, nothing else."""
    return User.objects.filter(workspace_memberships__workspace=workspace).only(
        "id", "full_name", "username", "photo"
    )


def users_share_a_workspace(*, user: User, other_id: int) -> bool:
    return WorkspaceMember.objects.filter(user_id=other_id, workspace__members__user=user).exists()


@transaction.atomic
def workspace_create(*, owner: User, name: str) -> Workspace:
    workspace = Workspace(owner=owner, name=name.strip())
    workspace.full_clean()
    workspace.save()
    WorkspaceMember.objects.create(workspace=workspace, user=owner)
    return workspace


@transaction.atomic
def workspace_member_add(*, workspace: Workspace, actor: User, username: str) -> WorkspaceMember:
    if workspace.owner_id != actor.pk:
        raise PermissionDenied(_("Only the workspace owner adds collaborators."))
    other = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if other is None:
        raise ValidationError(_("There is no account with this username."))
    member, _created = WorkspaceMember.objects.get_or_create(workspace=workspace, user=other)
    return member


@transaction.atomic
def workspace_member_remove(*, workspace: Workspace, actor: User, user_id: int) -> None:
    if workspace.owner_id != actor.pk and actor.pk != user_id:
        raise PermissionDenied(_("Only the workspace owner removes collaborators."))
    if user_id == workspace.owner_id:
        raise ValidationError(_("The owner cannot leave their own workspace."))
    WorkspaceMember.objects.filter(workspace=workspace, user_id=user_id).delete()


@transaction.atomic
def workspace_record_create(*, workspace: Workspace, actor: User, data: dict) -> WorkspaceRecord:
    if not WorkspaceMember.objects.filter(workspace=workspace, user=actor).exists():
        raise PermissionDenied(_("You do not work in this workspace."))
    record = WorkspaceRecord(
        workspace=workspace,
        created_by=actor,
        **{name: data.get(name) or "" for name in ("kind", "name", "email", "phone", "notes")},
    )
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def workspace_record_delete(*, workspace: Workspace, actor: User, record_id: int) -> None:
    if not WorkspaceMember.objects.filter(workspace=workspace, user=actor).exists():
        raise PermissionDenied(_("You do not work in this workspace."))
    deleted, _rows = WorkspaceRecord.objects.filter(workspace=workspace, pk=record_id).delete()
    if not deleted:
        raise ValidationError(_("This record does not exist or was already deleted."))


def workspace_records_for_owner(subject: Subject) -> QuerySet:
    """The registry's rows for service data: records of the workspaces the subject owns."""
    if subject.user_id is None:
        return WorkspaceRecord.objects.none()
    return WorkspaceRecord.objects.filter(workspace__owner_id=subject.user_id)


def workspace_records_for_owners(subjects: Sequence[Subject]) -> QuerySet:
    """`workspace_records_for_owner` for many subjects in one condition (bulk erasure)."""
    owners = sorted({s.user_id for s in subjects if s.user_id is not None})
    if not owners:
        return WorkspaceRecord.objects.none()
    return WorkspaceRecord.objects.filter(values_in("workspace__owner_id", owners))
