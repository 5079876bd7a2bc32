from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from dsar.activities import activity_notices
from dsar.ratelimits import limit_consume, too_many_response
from dsar.registry import Subject
from dsar.selectors import processing_allowed, processing_blocks_shown
from dsar.textinput import id_from_text, json_object_parse

from . import selectors, services, tasks, tokens
from .app_settings import app_settings
from .cookies import cookie_choices, cookie_choices_set
from .forms import (
    MATERIALS,
    CookieChoicesForm,
    PolicyDiffForm,
    PreferencesForm,
    PreferencesLinkForm,
    SubmissionForm,
)
from .models import Channel, FormSubmission, Partner, PolicyVersion, Purpose
from .policy_text import policy_diff, policy_markdown_render
from .receipt_signing import receipt_jwks, receipt_sign

SESSION_EMAIL = "consent_email_subject"
SESSION_MATERIAL = "consent_last_material"


def _subject(request) -> Subject | None:
    """Who the preference centre is for: the signed-in account holder, or the person without an
    account who opened the link we mailed them."""
    if request.user.is_authenticated:
        return Subject(user_id=request.user.pk)
    email = request.session.get(SESSION_EMAIL)
    return Subject(email=email) if email else None


def _link_problem(request, *, expired: bool = False, status: int = 400):
    return render(request, "consent/link_problem.html", {"expired": expired}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request):
    subject = _subject(request)
    if subject is None:
        return render(request, "consent/preferences_link.html", {"form": PreferencesLinkForm()})
    purposes = list(selectors.purposes_for_preferences())
    partners = Partner.objects.filter(is_active=True)
    state = selectors.consent_state(subject=subject)
    resolved = selectors.subject_resolve(subject=subject)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        purposes=purposes,
        partners=partners,
        state=state,
        gpc=request.gpc,
        paused=selectors.purposes_paused(subject=resolved),
    )
    if request.method == "POST" and form.is_valid():
        changes = services.consent_preferences_save(
            subject=subject,
            purposes=form.purpose_choices(),
            channels=form.channel_choices(),
            partners=form.partner_choices(),
            ip_hash=services.request_ip_hash(request),
        )
        if changes:
            messages.success(request, _("Your preferences are saved."))
        else:
            messages.info(request, _("Nothing changed: your preferences were already like this."))
        return redirect("consent:preferences")
    return render(
        request,
        "consent/preferences.html",
        {
            "form": form,
            "essential": [p for p in purposes if p.is_essential and p.channel == Channel.EMAIL],
            "cookie_purposes": [p for p in purposes if p.channel == Channel.COOKIE],
            "email_subject": None if request.user.is_authenticated else subject.email,
            "blocks": processing_blocks_shown(subject=resolved),
        },
    )


@require_POST
def preferences_link_request(request):
    form = PreferencesLinkForm(request.POST)
    if not form.is_valid():
        return render(request, "consent/preferences_link.html", {"form": form}, status=400)
    email = form.cleaned_data["email"].lower()
    # The same work for every address: a worker decides whether we know it and mails the link,
    # so neither the answer nor its timing tells who is on our lists. Over the limit, nothing.
    if limit_consume(request, action="preferences_link", key=email):
        transaction.on_commit(lambda: tasks.preferences_link_task.delay(email))
    # The same answer whether or not we know the address: nobody learns who is on our lists.
    messages.info(
        request,
        _(
            "If we hold that address, we have emailed it a link to your preferences. "
            "It works for %(hours)d hours."
        )
        % {"hours": int(services.app_settings.PREFERENCES_LINK_MAX_AGE.total_seconds() // 3600)},
    )
    return redirect("consent:preferences")


@never_cache
@require_GET
def preferences_link_open(request, token):
    try:
        subject = tokens.preferences_token_read(token)
    except tokens.TokenExpired:
        return _link_problem(request, expired=True)
    except tokens.TokenInvalid:
        return _link_problem(request)
    request.session[SESSION_EMAIL] = subject.email
    request.session.set_expiry(3600)  # an hour to make changes, then ask for a new link
    return redirect("consent:preferences")


@require_POST
def preferences_leave(request):
    request.session.pop(SESSION_EMAIL, None)
    messages.info(request, _("You have left your preferences."))
    return redirect("home")


@require_POST
def preferences_partners_opt_out(request):
    subject = _subject(request)
    if subject is None:
        return redirect("consent:preferences")
    services.consent_partners_opt_out(subject=subject, ip_hash=services.request_ip_hash(request))
    messages.success(request, _("You have opted out of every reselling partner."))
    return redirect("consent:preferences")


@never_cache
@require_GET
def preferences_receipt(request):
    subject = _subject(request)
    if subject is None:
        return redirect("consent:preferences")
    receipt = selectors.consent_receipt(subject=subject, language=request.LANGUAGE_CODE)
    # The file is the readable receipt plus "jws": the same receipt signed (its payload), which
    # anyone verifies offline with the keys at /.well-known/jwks.json.
    signed = {**receipt, "jws": receipt_sign(receipt)}
    response = JsonResponse(signed, json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="workpex-consent-receipt-{stamp}.json"'
    return response


@csrf_exempt  # the signed token is the credential; RFC 8058 clients post without a CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
# Only reads before the service, whose own transaction is then the request's: no savepoints
# around it (a mailing's unsubscribes arrive in bursts; bench/NOTES.md).
@transaction.non_atomic_requests
def unsubscribe(request, token):
    try:
        claim = tokens.unsubscribe_token_read(token)
    except tokens.TokenExpired:
        return _link_problem(request, expired=True)
    except tokens.TokenInvalid:
        return _link_problem(request)
    purpose = selectors.purpose_cached(claim.purpose)
    partner = Partner.objects.filter(pk=claim.partner_id).first() if claim.partner_id else None
    if purpose is None or purpose.is_essential or (claim.partner_id and partner is None):
        return _link_problem(request, status=404)
    context = {"purpose": purpose, "partner": partner, "token": token}
    if request.method == "GET":
        if not selectors.subject_exists(subject=claim.subject):
            return _link_problem(request, status=404)
        return render(request, "consent/unsubscribe.html", context)
    # Per link, not per IP: RFC 8058 posts come from mailbox providers' servers, a few addresses
    # for millions of people. The link is signed, so only its own repeats are worth limiting.
    if not limit_consume(request, action="unsubscribe", key=claim.limit_key):
        return _too_many(request)
    everything = request.POST.get("scope") == "all"
    try:
        services.consent_unsubscribe(
            subject=claim.subject,
            purpose=purpose,
            partner=partner,
            everything=everything,
            ip_hash=services.request_ip_hash(request),
            campaign=claim.campaign,
        )
    except selectors.SubjectGone:
        return _link_problem(request, status=404)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        # RFC 8058: a mail client posts in the background and shows nothing of the answer.
        return HttpResponse(_("You are unsubscribed."), content_type="text/plain; charset=utf-8")
    return render(request, "consent/unsubscribe_done.html", {**context, "everything": everything})


def _safe_next(request, url: str, default: str = "/") -> str:
    """A page of ours to go back to. Only a path: redirect() would take a bare word for a URL
    name and fail on it, and anything else could lead off the site."""
    if (
        url
        and url.startswith("/")
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return default


@never_cache
@require_http_methods(["GET", "POST"])
def cookie_settings(request):
    current = cookie_choices(request)
    if request.method == "POST":
        form = CookieChoicesForm(request.POST)
        if form.is_valid():
            choices = form.choices()
            response = HttpResponseRedirect(
                _safe_next(request, form.cleaned_data.get("next") or "")
            )
            cookie_choices_set(response, choices=choices, secure=request.is_secure())
            if request.user.is_authenticated:
                services.cookie_choices_record(
                    user=request.user,
                    choices={
                        "analytics_cookies": choices["analytics"] and not request.gpc,
                        "social_widgets": choices["social"] and not request.gpc,
                    },
                    ip_hash=services.request_ip_hash(request),
                )
            messages.success(request, _("Your cookie choices are saved."))
            return response
        return render(request, "consent/cookies.html", {"form": form}, status=400)
    form = CookieChoicesForm(
        initial={
            "analytics": current.analytics,
            "social": current.social,
            "next": request.GET.get("next", ""),
        }
    )
    return render(
        request,
        "consent/cookies.html",
        {"form": form, "purposes": Purpose.objects.filter(channel=Channel.COOKIE, is_active=True)},
    )


@require_safe
def gpc_json(request):
    """https://privacycg.github.io/gpc-spec/#gpc-support-resource"""
    return JsonResponse({"gpc": True, "lastUpdate": "2026-11-24"})


@csrf_exempt  # counts only; refused unless this browser accepted analytics
@require_POST
def analytics_page_view(request):
    if not cookie_choices(request).analytics:
        return HttpResponse(status=204)  # no consent (or GPC): nothing is counted
    if request.user.is_authenticated and not processing_allowed(
        subject=Subject(user_id=request.user.pk, email=request.user.email),
        use=selectors.BEHAVIOUR_ANALYTICS,
    ):
        return HttpResponse(status=204)  # a restriction or objection of behaviour analytics
    try:
        data = json_object_parse(request.body)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    path = str(data.get("path", ""))[:500]
    first_visit = bool(data.get("first"))
    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return JsonResponse({"error": _("That page does not exist.")}, status=400)
    # The route pattern, never the path itself: paths can carry tokens.
    route = "/" + (match.route or "").lstrip("/")
    services.page_view_count(route=route, first_visit=first_visit)
    return HttpResponse(status=204)


@require_http_methods(["GET", "POST"])
def form_submit(request, kind):
    if kind not in FormSubmission.Kind.values:
        raise Http404(_("There is no such form."))
    form = SubmissionForm(
        request.POST if request.method == "POST" else None, kind=kind, user=request.user
    )
    # Where the form was linked from: a label for the officers, so anything unstorable goes.
    source = (request.POST.get("source") or request.GET.get("source") or "").replace("\x00", "")
    source = source[:200]
    if request.method == "POST" and not limit_consume(request, action="consent_form"):
        return _too_many(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        submission = services.form_submission_create(
            kind=kind,
            email=data["email"],
            name=data["name"],
            company_name=data.get("company_name", ""),
            message=data.get("message", ""),
            details=form.details(),
            source=source,
            marketing=bool(data.get("marketing")),
            user=request.user,
            ip_hash=services.request_ip_hash(request),
        )
        if kind == "material_download":
            request.session[SESSION_MATERIAL] = data["material"]
        return redirect("consent:form_thanks", kind=kind, pending=int(_pending(submission)))
    return render(
        request,
        "consent/form.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": FormSubmission.Kind(kind).label,
            "source": source,
            "retention_days": services.app_settings.FORM_RETENTION_DAYS[kind],
            "purpose_text": _(services.FORM_KINDS[kind].purpose),
        },
        status=400 if request.method == "POST" else 200,
    )


def _pending(submission: FormSubmission) -> bool:
    return submission.marketing_purpose_id is not None and submission.confirmed_at is None


@require_GET
def form_thanks(request, kind, pending):
    if kind not in FormSubmission.Kind.values:
        raise Http404(_("There is no such form."))
    material = None
    if kind == "material_download":
        slug = request.session.get(SESSION_MATERIAL)
        if slug in MATERIALS:
            title, path = MATERIALS[slug]
            material = {"title": title, "url": static(path)}
    return render(
        request,
        "consent/form_thanks.html",
        {"kind": kind, "pending": bool(pending), "material": material},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def form_confirm(request, token):
    """Double opt-in. GET only shows a button, so mail scanners confirm nothing."""
    try:
        submission_id = tokens.confirmation_token_read(token)
    except tokens.TokenExpired:
        return _link_problem(request, expired=True)
    except tokens.TokenInvalid:
        return _link_problem(request)
    submission = FormSubmission.objects.select_related("marketing_purpose").filter(pk=submission_id)
    submission = submission.first()
    if submission is None or submission.marketing_purpose is None:
        return _link_problem(request, status=404)
    if request.method == "POST":
        submission = services.form_submission_confirm(
            submission_id=submission.pk, ip_hash=services.request_ip_hash(request)
        )
        return render(request, "consent/confirm_done.html", {"submission": submission})
    return render(request, "consent/confirm.html", {"submission": submission, "token": token})


# --- The privacy policy: in force, upcoming, history, and what changed ---------------------------


@require_GET
def processing_activities(request):
    """What we do with your data (GDPR Art. 13/14), generated from the processing activities in
    the reader's language, so it always says what the portal really does."""
    return render(
        request,
        "consent/processing.html",
        {
            "activities": activity_notices(),
            "processor_activities": activity_notices(as_processor=True),
            "controller": app_settings.CONTROLLER,
        },
    )


@require_GET
def policy(request):
    """The version in force, any upcoming version with its date, the history, and a diff
    between any two published versions (by default: what the next change changes)."""
    history = list(selectors.policy_versions_published())
    in_force = selectors.policy_version_in_force()
    upcoming = selectors.policy_versions_upcoming()
    default_from, default_to = _default_diff(history, in_force, upcoming)
    data = request.GET if {"from", "to"} & set(request.GET) else None
    form = PolicyDiffForm(data, versions=history, initial={"from": default_from, "to": default_to})
    diff = None
    status = 200
    if data is None and default_from and default_to:
        diff = _diff(history, default_from, default_to)
    elif data is not None:
        if form.is_valid():
            diff = _diff(history, form.cleaned_data["from"], form.cleaned_data["to"])
        else:
            status = 400
    return render(
        request,
        "consent/policy.html",
        {
            "in_force": in_force,
            "in_force_html": policy_markdown_render(in_force.text) if in_force else "",
            "upcoming": upcoming,
            "history": history,
            "form": form,
            "diff": diff,
        },
        status=status,
    )


def _default_diff(history, in_force, upcoming) -> tuple[str, str]:
    if in_force and upcoming:
        return in_force.version, upcoming[0].version
    if len(history) >= 2:
        return history[1].version, history[0].version
    return "", ""


def _diff(history, old: str, new: str) -> dict:
    by_version = {p.version: p for p in history}
    old_policy, new_policy = by_version[old], by_version[new]
    return {
        "old": old_policy,
        "new": new_policy,
        "lines": policy_diff(old_policy.text, new_policy.text),
    }


@require_GET
def policy_version(request, version):
    policy = selectors.policy_version_get(version=version)
    if policy is None:
        raise Http404("No published version with that number.")
    in_force = selectors.policy_version_in_force()
    return render(
        request,
        "consent/policy_version.html",
        {
            "policy": policy,
            "html": policy_markdown_render(policy.text),
            "is_in_force": in_force is not None and in_force.pk == policy.pk,
            "is_upcoming": policy.effective_at > timezone.now(),
        },
    )


@login_required
@require_POST
def policy_acknowledge(request):
    """The banner's "I have read it": recorded once per person and version."""
    version = id_from_text(request.POST.get("version"))
    policy = None if version is None else PolicyVersion.objects.filter(pk=version).first()
    if policy is None:
        messages.error(request, _("That policy version does not exist."))
    else:
        try:
            services.policy_acknowledge(user=request.user, policy=policy)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Thank you: we have noted that you read version %(v)s.") % {"v": policy.version},
            )
    return HttpResponseRedirect(
        _safe_next(request, request.POST.get("next", ""), default=reverse("consent:policy"))
    )


def _too_many(request):
    return too_many_response(request)


@require_GET
def jwks_json(request):
    """The public keys that verify consent receipts (RFC 7517 JWK Set)."""
    response = JsonResponse(receipt_jwks())
    response["Content-Type"] = "application/jwk-set+json"
    response["Access-Control-Allow-Origin"] = "*"
    patch_cache_control(response, public=True, max_age=3600)
    return response
