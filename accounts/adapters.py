from allauth.account.adapter import DefaultAccountAdapter

from . import services


class AccountAdapter(DefaultAccountAdapter):
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
