"""A whole privacy request filed with the keyboard alone: no click, no mouse.

Only Tab, Shift+Tab, Enter, Space, the arrow keys and typing move the person through the pages
(the first address is typed, as into the address bar; the confirmation link comes from the mail).
At every stop the focused element must show a focus ring (an outline of 2px or more), be on
screen (at least partly: browsers scroll a tall field only partly in) and not hidden under
anything (such as the sticky cookie banner), and the stops inside a form must come in the order
of its fields.
"""

import re

from playwright.sync_api import expect

from dsar.models import DataSubjectRequest, RequestKind, RequestState
from tests.accounts.factories import PASSWORD, UserFactory

FOCUSED = """async () => {
  // Bootstrap scrolls smoothly: measure once the page has stopped moving.
  let last = null;
  for (let i = 0; i < 90; i++) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
    if (i > 2 && scrollY === last) break;
    last = scrollY;
  }
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const rect = el.getBoundingClientRect();
  // The middle of the part on screen (the browser may scroll a tall field only partly in).
  const shownTop = Math.max(rect.top, 0), shownBottom = Math.min(rect.bottom, innerHeight);
  const top = document.elementFromPoint(rect.left + rect.width / 2, (shownTop + shownBottom) / 2);
  const labels = el.labels ? [...el.labels] : [];
  const name = (labels.length ? labels[0].innerText : (el.getAttribute('aria-label')
                || el.innerText || el.value || '')).trim().split('\\n')[0];
  return {
    tag: el.tagName.toLowerCase(), field: el.getAttribute('name') || '', value: el.value || '',
    checked: !!el.checked, name: name,
    ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    onScreen: rect.width > 0 && shownBottom - shownTop >= Math.min(rect.height, 16),
    box: [Math.round(rect.top), Math.round(rect.bottom), innerHeight, scrollY],
    unobscured: !!top && (top === el || el.contains(top) || labels.some((l) => l.contains(top))),
  };
}"""


class Keyboard:
    """Presses keys and checks every focus stop; `stops` is the way the focus went."""

    def __init__(self, page):
        self.page = page
        self.stops: list[dict] = []

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED)

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        now = self.focused()
        if key in ("Tab", "Shift+Tab") and now is not None:
            where = f"{self.page.url} {now['tag']} {now['name']!r} {now['box']}"
            assert now["ring"], f"no visible focus ring on {where}"
            assert now["onScreen"], f"the focused element is off screen: {where}"
            assert now["unobscured"], f"the focused element is hidden under something: {where}"
            self.stops.append(now)
        return now

    def follow(self, key: str = "Enter") -> None:
        """Press a key that opens a link or sends a form, and wait for the next page."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.page.wait_for_load_state("load")

    def tab_to(self, wanted, *, limit: int = 40) -> dict:
        """Tab until wanted(focused) holds; the stops on the way are checked as well."""
        for _ in range(limit):
            now = self.press("Tab")
            if now is not None and wanted(now):
                return now
        raise AssertionError(f"{limit} Tab presses never reached the element on {self.page.url}")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def skip_to_main(self) -> None:
        """The first Tab stop of a page is the skip link, and it works."""
        self.page.keyboard.press("Tab")
        first = self.focused()
        assert first["name"] == "Skip to main content", first
        assert first["ring"] and first["onScreen"], "the skip link is not visible when focused"
        self.page.keyboard.press("Enter")
        # expect() polls from Playwright's side: wait_for_function's in-page polling evaluates a
        # string, which the page's CSP (no unsafe-eval) refuses when the first check is false.
        expect(self.page.locator("#main")).to_be_focused()

    def form_stops_from(self, field: str) -> list[str]:
        """The fields the focus went through, in order, from the last time it reached `field`."""
        names = [stop["field"] or stop["name"] for stop in self.stops]
        start = len(names) - 1 - names[::-1].index(field)
        return names[start:]


def named(name: str):
    return lambda stop: stop["name"] == name


def field(name: str):
    return lambda stop: stop["field"] == name


def choose_radio(keys: Keyboard, value: str) -> None:
    """Arrow keys move the choice inside a radio group (Space picks the first one)."""
    now = keys.focused()
    if not now["checked"]:
        now = keys.press("Space")
    for _ in range(12):
        if now["value"] == value and now["checked"]:
            return
        now = keys.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {value}")


def request_form_order() -> list[str]:
    """The form's tab stops: one per checkbox of the uses of data a restriction may name."""
    from dsar.purposes import processing_use_choices

    return [
        "kind",
        "details",
        *["purposes"] * len(processing_use_choices()),
        "rectification_target",
        "rectification_value",
        "country",
        "region",
        "recipient_email",
        "Send my request",
    ]


def fill_request_form(keys: Keyboard, *, kind: str, details: str) -> None:
    keys.tab_to(field("kind"))
    choose_radio(keys, kind)
    keys.press("Tab")
    assert keys.focused()["field"] == "details"
    keys.type(details)
    keys.tab_to(named("Send my request"))
    assert keys.form_stops_from("kind") == request_form_order()
    keys.follow("Enter")


def refuse_cookies(keys: Keyboard, page) -> None:
    """The cookie banner comes first after the skip link; the choice is made from the keyboard."""
    keys.press("Tab")  # the skip link
    keys.tab_to(named("Refuse all"))
    keys.follow("Enter")
    assert page.locator("#cookie-banner").count() == 0


def test_a_signed_in_person_files_a_request_with_the_keyboard_alone(page, screenshot):
    person = UserFactory()
    page.set_viewport_size({"width": 1280, "height": 720})
    keys = Keyboard(page)

    page.goto("/accounts/login/?next=/privacy/")
    refuse_cookies(keys, page)
    keys.skip_to_main()
    keys.tab_to(field("login"))
    keys.type(person.username)
    keys.press("Tab")
    assert keys.focused()["field"] == "password"
    keys.type(PASSWORD)
    keys.follow("Enter")
    page.wait_for_url("**/privacy/")

    keys.skip_to_main()
    keys.tab_to(named("Make a privacy request"))
    keys.follow("Enter")
    page.wait_for_url("**/privacy/requests/new/")

    keys.skip_to_main()
    fill_request_form(keys, kind=RequestKind.PORTABILITY, details="All of it, as JSON please.")
    # (the browser keeps the skip link's #main through the redirect)
    page.wait_for_url(re.compile(r".*/privacy/requests/[0-9a-f-]{36}/(#main)?$"))
    screenshot("request-filed")
    assert "Your request is filed" in page.get_by_role("status").first.inner_text()

    filed = DataSubjectRequest.objects.get(user=person)
    assert filed.kind == RequestKind.PORTABILITY
    assert filed.details == "All of it, as JSON please."
    assert filed.state == RequestState.VERIFIED
    assert str(filed.public_id) in page.url


def test_a_person_without_an_account_files_and_confirms_with_the_keyboard_alone(
    page, screenshot, mailoutbox
):
    page.set_viewport_size({"width": 1280, "height": 720})
    keys = Keyboard(page)

    page.goto("/")
    refuse_cookies(keys, page)
    keys.press("Tab")  # the skip link: the menu comes next
    keys.tab_to(named("Privacy request"))
    keys.follow("Enter")
    page.wait_for_url("**/privacy/requests/new/")

    keys.skip_to_main()
    keys.tab_to(field("email"))
    keys.type("ada@example.com")
    # Shift+Tab goes back the same way: from the email field to the "Log in" link before it.
    assert keys.press("Shift+Tab")["name"] == "Log in"
    keys.press("Tab")
    fill_request_form(keys, kind=RequestKind.ERASURE, details="Please delete everything.")
    screenshot("check-your-email")
    filed = DataSubjectRequest.objects.get(email="ada@example.com")
    assert filed.kind == RequestKind.ERASURE
    assert filed.state == RequestState.AWAITING_CONFIRMATION

    # The link in the mail; its page is confirmed from the keyboard too.
    link = re.search(r"https?://\S+/privacy/requests/confirm/\S+/", mailoutbox[-1].body).group(0)
    page.goto("/privacy/" + link.split("/privacy/", 1)[1])
    keys.skip_to_main()
    keys.tab_to(named("Confirm my request"))
    keys.follow("Space")
    page.wait_for_url(re.compile(r".*/privacy/requests/[0-9a-f-]{36}/\?t=.+"))
    screenshot("request-confirmed")
    filed.refresh_from_db()
    assert filed.state == RequestState.VERIFIED  # confirming the address confirms the identity


def test_the_focus_check_sees_a_missing_ring_and_a_covered_element(page):
    page.set_content(
        '<button id="plain">Plain</button><button id="bare">Bare</button>'
        '<button id="under">Under</button>'
        "<style>button:focus-visible { outline: 3px solid #000 } #bare:focus-visible { outline: 0 }"
        " #cover { position: fixed; inset: 0; background: #fff; display: none }</style>"
        '<div id="cover"></div>'
    )
    keys = Keyboard(page)
    assert keys.press("Tab")["ring"]
    page.keyboard.press("Tab")
    assert keys.focused()["ring"] is False
    page.evaluate("document.getElementById('cover').style.display = 'block'")
    page.keyboard.press("Tab")
    assert keys.focused()["unobscured"] is False
