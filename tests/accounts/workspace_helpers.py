from accounts import workspaces


def workspace_join(workspace, owner, person):
    """`person` works in `workspace`: invited by its owner, and accepted."""
    workspaces.workspace_member_invite(workspace=workspace, actor=owner, username=person.username)
    invitation = workspaces.workspace_invitations_of(user=person).get(workspace=workspace)
    return workspaces.workspace_invitation_accept(user=person, member_id=invitation.pk)
