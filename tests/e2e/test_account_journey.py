import re

from allauth.account.models import EmailAddress
from django.core import mail
from PIL import Image

from accounts.models import User

PASSWORD = "a-long-and-unusual-passphrase"


def test_sign_up_confirm_log_in_edit_profile_log_out(page, screenshot, tmp_path):
    # Sign up with the fields the policy names.
    page.goto("/accounts/signup/")
    page.get_by_label("Full name").fill("Ciara Walsh")
    page.get_by_label("Email").fill("ciara@example.com")
    page.get_by_label("Phone number").fill("+353 1 555 0142")
    page.get_by_label("Company name").fill("Walsh Analytics")
    page.get_by_label("Country").select_option("IE")
    page.get_by_label("Date of birth").fill("1988-03-09")
    page.get_by_label("Username").fill("ciara")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    screenshot("signup-filled")
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    screenshot("verify-your-email")
    assert User.objects.filter(username="ciara").exists()

    # Confirm the email from the link in the mail.
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    screenshot("email-confirmed")
    assert EmailAddress.objects.get(email="ciara@example.com").verified

    # Log out, then log in as a returning user would.
    page.get_by_role("button", name="Log out").first.click()
    if page.get_by_role("button", name="Sign Out").count():
        page.get_by_role("button", name="Sign Out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("ciara")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot("login")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/profile/")
    screenshot("profile")

    # Edit the profile: a photo, a time zone and a language.
    photo = tmp_path / "me.png"
    Image.new("RGB", (200, 200), "teal").save(photo)
    page.get_by_label("Photo").set_input_files(str(photo))
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Language").first.select_option("de")
    page.get_by_role("button", name="Save my profile").click()
    page.wait_for_url("**/accounts/profile/")
    screenshot("profile-saved-in-german")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("img").first.is_visible()
    user = User.objects.get(username="ciara")
    assert user.time_zone == "Europe/Berlin" and user.language == "de" and user.photo

    # Log out (the interface is German now).
    page.locator("nav form[action='/accounts/logout/'] button").click()
    if page.locator("main form[action='/accounts/logout/'] button").count():
        page.locator("main form[action='/accounts/logout/'] button").click()
    page.wait_for_url(re.compile(r".*/$"))
    screenshot("logged-out")
    assert page.locator("nav").get_by_role("link", name=re.compile("Anmelden|Log in")).count()
