"""Workspaces and their records (Part II's service data): every write and the membership rule.

The workspace owner owns its service data: only the owner invites or removes collaborators, and a
service-data export or deletion request (dsar) covers the workspaces the person owns. Members
see each other's name and photo only (`workspace_collaborators`), and only once they accepted:
an invitation shows nobody the invitee's name or photo, and the owner is told the same whether
the username exists or not. Every step is in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.mail import absolute_url
from dsar.registry import Subject, values_in
from dsar.services import audit_record

from .models import User, Workspace, WorkspaceMember, WorkspaceRecord


def _members() -> QuerySet:
    """Collaborators who accepted (the owner always has)."""
    return WorkspaceMember.objects.filter(accepted_at__isnull=False)


def workspaces_of(*, user: User) -> QuerySet:
    return (
        Workspace.objects.filter(members__user=user, members__accepted_at__isnull=False)
        .select_related("owner")
        .distinct()
    )


def workspace_invitations_of(*, user: User) -> QuerySet:
    """The invitations waiting for the user's answer."""
    return WorkspaceMember.objects.filter(user=user, accepted_at__isnull=True).select_related(
        "workspace__owner"
    )


def workspace_for_member(*, user: User, workspace_id: int) -> Workspace:
    """The workspace if the user works in it; PermissionDenied otherwise (same answer whether
    it exists or not)."""
    workspace = workspaces_of(user=user).filter(pk=workspace_id).first()
    if workspace is None:
        raise PermissionDenied(_("You do not work in this workspace."))
    return workspace


def workspace_collaborators(*, workspace: Workspace) -> QuerySet:
    """What collaborators see of each other: name and photo, nothing else."""
    return User.objects.filter(
        workspace_memberships__workspace=workspace,
        workspace_memberships__accepted_at__isnull=False,
    ).only("id", "full_name", "username", "photo")


def workspace_is_member(*, workspace: Workspace, user: User) -> bool:
    """Works in the workspace (an invitation not yet accepted does not count)."""
    return _members().filter(workspace=workspace, user=user).exists()


def users_share_a_workspace(*, user: User, other_id: int) -> bool:
    shared = _members().filter(user=user).values("workspace_id")
    return _members().filter(user_id=other_id, workspace_id__in=shared).exists()


@transaction.atomic
def workspace_create(*, owner: User, name: str) -> Workspace:
    workspace = Workspace(owner=owner, name=name.strip())
    workspace.full_clean()
    workspace.save()
    WorkspaceMember.objects.create(workspace=workspace, user=owner, accepted_at=timezone.now())
    return workspace


def _audit(action: str, *, actor: User, member: WorkspaceMember) -> None:
    audit_record(
        action=action,
        actor=actor,
        actor_kind="subject",
        subject=Subject(user_id=member.user_id),
        obj=member,
        detail={"workspace": member.workspace_id},
    )


@transaction.atomic
def workspace_member_invite(*, workspace: Workspace, actor: User, username: str) -> None:
    """Invite a collaborator by username. Returns nothing and answers the same whether the
    username exists, is already invited or already works here: the owner learns nothing about
    other people's accounts. The invitee gets a mail and sees the invitation in the portal."""
    if workspace.owner_id != actor.pk:
        raise PermissionDenied(_("Only the workspace owner invites collaborators."))
    other = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if other is None or other.pk == actor.pk:
        return
    member, created = WorkspaceMember.objects.get_or_create(workspace=workspace, user=other)
    if not created:
        return
    _audit("workspace_invited", actor=actor, member=member)
    transaction.on_commit(lambda: _invitation_mail(member_id=member.pk))


def _invitation_mail(*, member_id: int) -> None:
    from consent.mail import mail_send

    member = WorkspaceMember.objects.select_related("workspace__owner").filter(pk=member_id).first()
    if member is None or member.accepted_at is not None:
        return
    mail_send(
        subject=Subject(user_id=member.user_id),
        purpose="account_security",
        template="accounts/mail/workspace_invitation",
        context={
            "workspace": member.workspace,
            "owner": member.workspace.owner,
            "workspaces_url": absolute_url(reverse("accounts:workspace_list")),
        },
    )


def _invitation(*, user: User, member_id: int) -> WorkspaceMember:
    member = workspace_invitations_of(user=user).select_for_update().filter(pk=member_id).first()
    if member is None:
        raise ValidationError(_("This invitation does not exist or was already answered."))
    return member


@transaction.atomic
def workspace_invitation_accept(*, user: User, member_id: int) -> WorkspaceMember:
    member = _invitation(user=user, member_id=member_id)
    member.accepted_at = timezone.now()
    member.save(update_fields=["accepted_at"])
    _audit("workspace_invitation_accepted", actor=user, member=member)
    return member


@transaction.atomic
def workspace_invitation_decline(*, user: User, member_id: int) -> None:
    member = _invitation(user=user, member_id=member_id)
    _audit("workspace_invitation_declined", actor=user, member=member)
    member.delete()


@transaction.atomic
def workspace_member_remove(*, workspace: Workspace, actor: User, user_id: int) -> None:
    """The owner removes a collaborator (or withdraws an invitation); a collaborator leaves."""
    if workspace.owner_id != actor.pk and actor.pk != user_id:
        raise PermissionDenied(_("Only the workspace owner removes collaborators."))
    if user_id == workspace.owner_id:
        raise ValidationError(_("The owner cannot leave their own workspace."))
    member = WorkspaceMember.objects.filter(workspace=workspace, user_id=user_id).first()
    if member is None:
        return
    action = "workspace_left" if actor.pk == user_id else "workspace_member_removed"
    _audit(action, actor=actor, member=member)
    member.delete()


@transaction.atomic
def workspace_record_create(*, workspace: Workspace, actor: User, data: dict) -> WorkspaceRecord:
    if not workspace_is_member(workspace=workspace, user=actor):
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
    if not workspace_is_member(workspace=workspace, user=actor):
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
