from allauth.account.adapter import DefaultAccountAdapter

from dsar.mail import site_url_rebase

from . import services


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        """allauth's mails (password reset, email confirmation, "you already have an account")
        build their links from the request's Host header; every link the portal mails is on
        SITE_URL, like the portal's own mails."""
        context = {
            key: site_url_rebase(value)
            if isinstance(value, str) and value.startswith(("http://", "https://"))
            else value
            for key, value in context.items()
        }
        return super().send_mail(template_prefix, email, context)

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        services.user_apply_signup(user=user, data=form.cleaned_data)
        if commit:
            user.save()
            from consent.services import policy_acknowledge_upcoming_at_signup

            # The signup page showed any upcoming policy change (templates/account/signup.html).
            policy_acknowledge_upcoming_at_signup(user=user)
            if hasattr(form, "marketing_purposes"):
                from consent.services import consent_signup_record, request_ip_hash

                consent_signup_record(
                    user=user,
                    purposes=form.marketing_purposes(),
                    ip_hash=request_ip_hash(request),
                )
        return user
