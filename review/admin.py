"""The reviewers' queue in the staff admin (behind two-factor authentication).

The lists show no content: kind, workspace, age, assignee and state. An item's page shows its
content only to the reviewer it is assigned to, through `services.review_item_open`; anyone
else gets 403 and the attempt is audited. Taking items (with the purpose) and giving them back
are list actions; decisions are posted from the item's page. Nothing is edited through the
admin's forms: every change goes through a service.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dsar.registry import Subject
from dsar.textinput import id_from_text

from . import services
from .forms import AssignForm, ScanDecisionForm
from .models import ReviewState, ScanReview, SpamReview


class ReviewItemAdmin(admin.ModelAdmin):
    list_display = ("kind", "workspace", "age", "assignee", "state")
    list_filter = ("state", ("assignee", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("workspace", "assignee")
    list_display_links = None
    ordering = ("created_at", "id")
    actions = ["take_items", "release_items"]
    # No search: a search over the content would tell a reviewer what an item holds.
    search_fields = ()

    def has_add_permission(self, request):
        return False  # people send items from their workspace

    def has_change_permission(self, request, obj=None):
        return False  # nothing is edited in a form; services change the rows

    def has_delete_permission(self, request, obj=None):
        return False  # the retention sweep and erasure delete them

    # The item's page is audited by services.review_item_open, which also enforces the rule.
    audit_action = None

    def has_review_permission(self, request):
        return request.user.has_perm(services.review_permission(self.model))

    def need_to_know_standing(self, request) -> str:
        """Reviewers' need is the queue itself: the lists show no content, and an item's content
        opens only to the reviewer it is assigned to (services.review_item_open)."""
        if self.has_review_permission(request):
            return "Reviewer: the review queue (content only while assigned)"
        return ""

    def audit_subject(self, obj):
        return Subject(user_id=obj.workspace.owner_id)

    def has_manage_permission(self, request):
        return request.user.has_perm(
            f"{self.opts.app_label}.change_{self.opts.model_name}"
        ) or self.has_review_permission(request)

    @admin.display(description=gettext_lazy("kind"))
    def kind(self, obj):
        return obj.kind_label

    @admin.display(description=gettext_lazy("waiting since"), ordering="created_at")
    def age(self, obj):
        if obj.state == ReviewState.DECIDED:
            return "—"
        return timesince(obj.created_at, timezone.now())

    def get_list_display(self, request):
        def open_link(obj):
            if obj.state == ReviewState.ASSIGNED and obj.assignee_id == request.user.pk:
                url = reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
                )
                return format_html('<a href="{}">{}</a>', url, _("Open"))
            return ""

        open_link.short_description = _("yours")
        return (*self.list_display, open_link)

    # --- Actions on the list ---------------------------------------------------------------

    @admin.action(
        description=gettext_lazy("Take the selected items (say why)"), permissions=["review"]
    )
    def take_items(self, request, queryset):
        posted = request.POST if "purpose" in request.POST else None
        form = AssignForm(posted, initial={"purpose": services.DEFAULT_PURPOSES[self.model]})
        if form.is_valid():
            taken = 0
            for item in queryset:
                try:
                    services.review_item_assign(
                        item=item, reviewer=request.user, purpose=form.cleaned_data["purpose"]
                    )
                except ValidationError as error:
                    self.message_user(
                        request, f"{item}: {' '.join(error.messages)}", messages.ERROR
                    )
                else:
                    taken += 1
            if taken:
                self.message_user(request, _("Assigned to you: %(n)d.") % {"n": taken})
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "queryset": queryset,
            "action": "take_items",
            "title": _("Take items for review"),
            "explanation": _(
                "You will see these items, and only you, until you decide or give them back. "
                "The purpose is kept with the assignment and shown to the owner with every look."
            ),
        }
        return TemplateResponse(request, "admin/reason_action.html", context)

    @admin.action(description=gettext_lazy("Give the selected items back"), permissions=["manage"])
    def release_items(self, request, queryset):
        released = 0
        for item in queryset:
            try:
                services.review_item_release(item=item, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{item}: {' '.join(error.messages)}", messages.ERROR)
            else:
                released += 1
        if released:
            self.message_user(request, _("Given back: %(n)d.") % {"n": released})

    # --- The item's page, the image and the decision --------------------------------------------

    def _item(self, object_id):
        # Django's change URL passes the id as text; anything but a number is simply not found.
        pk = id_from_text(object_id)
        if pk is None:
            raise Http404
        return get_object_or_404(self.model.objects.select_related("workspace"), pk=pk)

    def _refused(self, request, item):
        # A response, not an exception: the audit row of the refusal must be committed.
        return TemplateResponse(
            request,
            "admin/review/refused.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Not assigned to you"),
                "opts": self.opts,
            },
            status=403,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self._item(object_id)
        if not services.review_item_open(item=item, staff=request.user, what="content"):
            return self._refused(request, item)
        context = {
            **self.admin_site.each_context(request),
            "title": str(item),
            "opts": self.opts,
            "item": item,
            "decide_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_decide", args=[item.pk]
            ),
            "release_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_release", args=[item.pk]
            ),
            **self.decision_context(item),
        }
        response = TemplateResponse(request, self.item_template, context)
        response["Cache-Control"] = "private, no-store"
        return response

    def decision_context(self, item) -> dict:
        return {}

    def decide(self, request, item):
        raise NotImplementedError

    def decide_view(self, request, object_id):
        item = self._item(object_id)
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[item.pk]
        )
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        try:
            self.decide(request, item)
        except services.ReviewAccessRefused:
            return self._refused(request, item)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(change_url)
        messages.success(request, _("Recorded. The content has been deleted."))
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        )

    def release_view(self, request, object_id):
        item = self._item(object_id)
        list_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(list_url)
        try:
            services.review_item_release(item=item, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Given back: %(n)d.") % {"n": 1})
        return HttpResponseRedirect(list_url)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<int:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name=f"{prefix}_decide",
            ),
            path(
                "<int:object_id>/release/",
                self.admin_site.admin_view(self.release_view),
                name=f"{prefix}_release",
            ),
            *self.extra_urls(prefix),
            *super().get_urls(),
        ]

    def extra_urls(self, prefix: str) -> list:
        return []


@admin.register(SpamReview)
class SpamReviewAdmin(ReviewItemAdmin):
    item_template = "admin/review/spamreview.html"

    def decision_context(self, item):
        return {"decisions": SpamReview.Decision.choices}

    def decide(self, request, item):
        services.spam_review_decide(
            item=item, reviewer=request.user, decision=request.POST.get("decision", "")
        )


@admin.register(ScanReview)
class ScanReviewAdmin(ReviewItemAdmin):
    item_template = "admin/review/scanreview.html"

    def decision_context(self, item):
        return {
            "form": ScanDecisionForm(initial={"checked_text": item.recognised_text}),
            "image_url": reverse("admin:review_scanreview_image", args=[item.pk]),
        }

    def decide(self, request, item):
        services.scan_review_decide(
            item=item, reviewer=request.user, checked_text=request.POST.get("checked_text", "")
        )

    def image_view(self, request, object_id):
        """The scanned image, only to its reviewer: a JPEG we re-encoded, never HTML."""
        item = self._item(object_id)
        if not services.review_item_open(item=item, staff=request.user, what="scanned image"):
            return self._refused(request, item)
        if not item.image:
            raise Http404
        try:
            handle = item.image.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        response["Content-Disposition"] = "inline"
        return response

    def extra_urls(self, prefix):
        return [
            path(
                "<int:object_id>/image/",
                self.admin_site.admin_view(self.image_view),
                name=f"{prefix}_image",
            )
        ]
