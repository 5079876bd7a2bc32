"""Need to know in the admin: the one gate between staff and people's data (see the class)."""

from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from . import registry, services
from .registry import Subject
from .staff import STANDING_OWN, StaffScope, staff_scope

REFUSED_REASON = "No valid access window."
LISTED, SEARCHED = "staff_listed", "staff_searched"
VIEWED_HISTORY, VIEWED_RECORD = "staff_viewed_history", "staff_viewed_record"


class NeedToKnowAdminMixin:
    """The one gate for people's data in the admin. The portal's admin site mixes it into every
    ModelAdmin it registers; it acts on the models of the personal-data registry only, so a new
    model with personal data is covered as soon as it is registered there.

    Staff with a standing need (dsar.staff.staff_scope: superusers, privacy officers) see every
    row; everyone else lists, searches and opens only the rows of the people open to them (an
    access window). Opening anyone else's row is refused with 403 and audited. Every list,
    search, change and history view is audited: the actor, each person shown, and the reason.
    The 403 is returned, not raised, so the audit row commits under ATOMIC_REQUESTS."""

    def _need_entry(self):
        return registry.entry_for(self.model)

    def _need_scope(self, request) -> StaffScope:
        scope = getattr(request, "need_to_know_scope", None)
        if scope is None:  # once per request: the windows are read once
            scope = request.need_to_know_scope = staff_scope(request.user)
        # An admin with a need-to-know rule of its own names the need (and enforces the rule):
        # need_to_know_standing(request) -> the reason, or "" where its rule does not apply.
        # A hook the admin defines, never this class: it comes first in the admin's bases.
        own_rule = getattr(self, "need_to_know_standing", None)
        standing = scope.limited and own_rule is not None and own_rule(request)
        return StaffScope(standing=STANDING_OWN, own_reason=standing) if standing else scope

    def _need_limited(self, request) -> bool:
        return self._need_entry() is not None and self._need_scope(request).limited

    def _need_open_rows(self, request, entry):
        ids = sorted(self._need_scope(request).reasons)
        people = get_user_model().objects.filter(pk__in=ids).values_list("pk", "email")
        subjects = [Subject(user_id=pk, email=email or "") for pk, email in people]
        return entry.rows_for_many(subjects)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self._need_limited(request):
            return queryset
        entry = self._need_entry()
        if not self._need_scope(request).reasons:
            return queryset.none()
        return queryset.filter(pk__in=self._need_open_rows(request, entry).values("pk"))

    def _need_subjects_of(self, rows) -> dict:
        """Each row's person (pk -> Subject or None): the admin's own `audit_subject`, or the
        registry's field paths in one query."""
        own = getattr(self, "audit_subject", None)
        if own is not None:
            return {row.pk: own(row) for row in rows}
        entry = self._need_entry()
        paths = [p for p in (entry.user_field, entry.email_field) if p]
        found = dict.fromkeys(row.pk for row in rows)
        if not paths or entry.subject_rows is not None:
            return found
        values = entry.model._default_manager.filter(pk__in=list(found)).values_list("pk", *paths)
        for pk, *person in values:
            user_id = person[0] if entry.user_field else None
            email = (person[-1] or "") if entry.email_field else ""
            if user_id is not None or email:
                found[pk] = Subject(user_id=user_id, email="" if user_id is not None else email)
        return found

    def _need_audit_shown(self, request, rows, *, action, obj=None, detail=None):
        scope = self._need_scope(request)
        subjects = self._need_subjects_of(rows)
        reasons = {}
        for subject in subjects.values():
            user_id = subject.user_id if subject else None
            reasons[subject] = scope.reason_for(user_id) or scope.any_reason()
        if obj is not None:
            own = self.audit_reason(request, obj) if hasattr(self, "audit_reason") else ""
            reasons = {s: own or r for s, r in reasons.items()}
        if not reasons:
            reasons = {None: scope.any_reason()}
        services.audit_record_views(
            action=action,
            actor=request.user,
            subjects=reasons,
            object_type=self.model._meta.label,
            object_id=str(obj.pk) if obj is not None else "",
            detail={**(detail or {}), "rows": len(rows)},
        )

    def _need_refused(self, request, object_id, what: str):
        """403 (audited) for a row that exists but is not open to this staff member."""
        if not self._need_limited(request):
            return None
        field = self.model._meta.pk
        try:
            pk = field.to_python(unquote(object_id))
            unscoped = super().get_queryset(request)
            row = unscoped.filter(pk=pk).first()
            if row is None or self.get_queryset(request).filter(pk=pk).exists():
                return None
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None
        subject = self._need_subjects_of([row])[row.pk]
        services.audit_record(
            action="staff_access_refused",
            actor=request.user,
            subject=subject,
            reason=REFUSED_REASON,
            obj=row,
            detail={"what": what},
        )
        return TemplateResponse(
            request,
            "admin/staff_access_refused.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Access window needed"),
                "subject_id": subject.user_id if subject else None,
            },
            status=403,
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if self._need_entry() is not None and changelist is not None and request.method == "GET":
            action = SEARCHED if changelist.query else LISTED
            # The search words are not kept: they may be the very name or address looked for.
            self._need_audit_shown(request, list(changelist.result_list), action=action)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refused = self._need_refused(request, object_id, "record")
        if refused is not None:
            return refused
        response = super().change_view(request, object_id, form_url, extra_context)
        if self._need_entry() is not None and request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and response.status_code == 200:
                action = getattr(self, "audit_action", VIEWED_RECORD)
                if action:  # None: the admin's own service audits the page
                    self._need_audit_shown(request, [obj], action=action, obj=obj)
        return response

    def history_view(self, request, object_id, extra_context=None):
        refused = self._need_refused(request, object_id, "history")
        if refused is not None:
            return refused
        response = super().history_view(request, object_id, extra_context)
        if self._need_entry() is not None and response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                self._need_audit_shown(request, [obj], action=VIEWED_HISTORY, obj=obj)
        return response

    def delete_view(self, request, object_id, extra_context=None):
        refused = self._need_refused(request, object_id, "delete")
        if refused is not None:
            return refused
        return super().delete_view(request, object_id, extra_context)
