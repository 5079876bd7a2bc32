from accounts.models import PaymentMethod
from tests.accounts.factories import PASSWORD, UserFactory

CARD = "4242 4242 4242 4242"


def test_add_a_card_with_the_test_mode_processor_and_see_only_the_last_four(page, screenshot):
    user = UserFactory(username="cardholder")
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/profile/")

    page.get_by_role("link", name="Payment methods and invoices").click()
    page.wait_for_url("**/accounts/payments/")
    page.get_by_label("Name on the card").fill("Pat Murphy")
    page.get_by_label("Card number").fill(CARD)
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2099")
    page.get_by_label("Security code (CVC)").fill("123")
    page.locator("#id_billing_line1").fill("1 Main Street")
    page.get_by_label("City").fill("Dublin")
    page.get_by_label("Country").select_option("IE")
    page.get_by_label("Store this card for future payments").check()
    screenshot("card-filled")
    page.get_by_role("button", name="Add the card").click()
    page.wait_for_url("**/accounts/payments/")
    screenshot("card-added")

    content = page.content()
    assert "•••• 4242" in page.locator("#cards").inner_text()
    assert "4242424242424242" not in content and CARD not in content
    assert page.get_by_label("Card number").input_value() == ""
    method = PaymentMethod.objects.get(user=user)
    assert method.last4 == "4242" and method.has_stored_token
