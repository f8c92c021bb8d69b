"""The composer in a real browser: writing with the live preview, uploading an image with its
description, saving and submitting; and the same with the keyboard alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services as account_services
from tests.browser.conftest import PHONE
from tests.browser.helpers import (
    accessibility_problems,
    focused,
    horizontal_overflow,
    sign_in,
    write_png,
)
from tests.conftest import Cast

# One xdist worker runs every browser test, so that one Chromium serves them all.
pytestmark = pytest.mark.browser


def composer_url(base_url: str, institution) -> str:
    return base_url + reverse("feeds:compose", args=[institution.slug])


@pytest.mark.parametrize(
    ("review_required", "message", "state"),
    [
        (True, "Submitted for review. You will see the decision here.", "In review"),
        (False, "Published.", "Published"),
    ],
    ids=["review-on", "review-off"],
)
def test_author_writes_previews_attaches_an_image_saves_and_submits(
    server, page, tmp_path, screenshots_dir, review_required, message, state
):
    cast = Cast.create()
    side = cast.a
    if not review_required:
        account_services.update_institution(side.institution, review_required=False)
    colleague = side.author2.handle
    sign_in(page, server.url, side.author)
    page.goto(composer_url(server.url, side.institution))
    assert accessibility_problems(page) == []

    preview = page.locator("#composer-preview")
    expect(preview).to_contain_text("The preview appears here as you write.")
    page.locator("#composer-body").fill(
        f"Sports day is on Friday! Ask @{colleague} for the timetable: "
        "https://northside.example/sports-day"
    )
    expect(preview.locator(f'a[href$="/@{colleague}/"]')).to_have_text(f"@{colleague}")
    expect(preview.locator('a[href="https://northside.example/sports-day"]')).to_be_visible()
    expect(page.locator("#composer-body-count")).to_contain_text("of 5000 characters")
    # The preview follows further changes.
    page.locator("#composer-body").press_sequentially(" Bring water.")
    expect(preview).to_contain_text("Bring water.")

    page.locator("#composer-new_image").set_input_files(write_png(tmp_path))
    alt = page.locator("#composer-attachment-0-alt")
    expect(alt).to_be_focused()
    expect(page.locator("#composer-upload-status")).to_contain_text("Image added")
    thumbnail = page.locator("#composer-attachment-0 img")
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0
    alt.fill("The school field with the running track marked out")
    if review_required:
        page.screenshot(path=screenshots_dir / "composer-en-desktop.png", full_page=True)

    with page.expect_navigation():
        page.locator("#composer-save").click()
    expect(page.locator(".message--success")).to_have_text("Draft saved.")
    expect(page.locator("#composer-post-state .badge")).to_have_text("Draft")
    expect(page.locator("#composer-body")).to_have_value(
        f"Sports day is on Friday! Ask @{colleague} for the timetable: "
        "https://northside.example/sports-day Bring water."
    )
    expect(page.locator("#composer-attachment-0-alt")).to_have_value(
        "The school field with the running track marked out"
    )

    with page.expect_navigation():
        page.locator("#composer-submit").click()
    expect(page.locator(".message--success")).to_have_text(message)
    expect(page.locator("#history-state")).to_have_text(state)
    assert accessibility_problems(page) == []

    if review_required:
        page.goto(server.url + reverse("feeds:my-posts", args=[side.institution.slug]))
        row = page.locator("#my-posts tbody tr").filter(has_text="Sports day is on Friday!")
        expect(row.locator(".badge")).to_have_text("In review")
        expect(row.get_by_role("link", name="Public page")).to_have_count(0)
        assert accessibility_problems(page) == []
        page.set_viewport_size(PHONE)
        page.screenshot(path=screenshots_dir / "my-posts-en-phone.png", full_page=True)
        assert horizontal_overflow(page)["scrollWidth"] <= PHONE["width"]
        return

    with page.expect_navigation():
        page.locator("#history-public-link").click()
    entry = page.locator("article.h-entry")
    expect(entry.locator(".e-content")).to_contain_text("Sports day is on Friday!")
    expect(entry.locator(f'.e-content a[href$="/@{colleague}/"]')).to_be_visible()
    expect(
        entry.locator('.e-content a[href="https://northside.example/sports-day"]')
    ).to_be_visible()
    image = entry.get_by_role("img", name="The school field with the running track marked out")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0


def _tab_to(page, element_id: str, seen: list[dict], limit: int = 60) -> None:
    """Press Tab until the element has focus, noting every stop and its focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is not None and (not seen or seen[-1]["id"] != now["id"]):
            seen.append(now)
        if now is not None and now["id"] == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}; stops: {[s['id'] for s in seen]}")


def test_composer_works_with_the_keyboard_alone(server, page, tmp_path):
    cast = Cast.create()
    side = cast.a
    # Intercept file choosers from the start: switched on only when waiting for one, the
    # interception can come too late for the key press and no chooser event arrives.
    page.on("filechooser", lambda chooser: None)
    sign_in(page, server.url, side.author)
    page.goto(composer_url(server.url, side.institution))
    tomorrow = timezone.localtime(timezone.now(), side.institution.zone) + timedelta(days=1)

    # From the top of the page: the skip link first, then on through the form in reading order.
    stops: list[dict] = []
    page.keyboard.press("Tab")
    stops.append(focused(page))
    assert "skip-link" in stops[0]["cls"]
    assert page.locator(".skip-link").is_visible()

    _tab_to(page, "composer-body", stops)
    page.keyboard.type(f"Our choir sings on Saturday. Tickets from @{side.author2.handle}.")
    _tab_to(page, "composer-body_format_0", stops)
    _tab_to(page, "composer-language", stops)
    page.keyboard.press("Home")  # the first language of the list: Deutsch
    expect(page.locator("#composer-language")).to_have_value("de")
    _tab_to(page, "composer-preview-button", stops)
    _tab_to(page, "composer-new_image", stops)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(write_png(tmp_path, "choir.png"))
    # After the upload the description field of the new image has the focus; leave it empty.
    expect(page.locator("#composer-attachment-0-alt")).to_be_focused()
    stops.append(focused(page))
    _tab_to(page, "composer-publish_at", stops)
    # Chromium's datetime-local field in en-US: month, day, year (which takes up to six digits,
    # so an arrow key moves on), hour, minute, AM/PM.
    page.keyboard.type(tomorrow.strftime("%m%d%Y"))
    page.keyboard.press("ArrowRight")
    page.keyboard.type("0930A")
    expect(page.locator("#composer-publish_at")).to_have_value(tomorrow.strftime("%Y-%m-%dT09:30"))
    _tab_to(page, "composer-save", stops)
    _tab_to(page, "composer-submit", stops)

    order = [stop["id"] for stop in stops]
    expected = [
        "composer-body",
        "composer-body_format_0",
        "composer-language",
        "composer-preview-button",
        "composer-new_image",
        "composer-attachment-0-alt",
        "composer-attachment-0-remove",
        "composer-new_image",  # room for another image, below the first
        "composer-publish_at",
        "composer-save",
        "composer-submit",
    ]
    assert [stop for stop in order if stop in expected] == expected
    without_ring = [stop for stop in stops if not (stop["focusVisible"] and stop["ring"])]
    assert without_ring == []

    # Submitting without the image's description fails; the error summary takes the focus.
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#composer-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Image 1 needs a description (alt text)")
    expect(page.locator("#composer-body")).to_have_value(
        f"Our choir sings on Saturday. Tickets from @{side.author2.handle}."
    )
    expect(page.locator("#composer-language")).to_have_value("de")

    # The summary's link leads to the field; describe the image there.
    page.keyboard.press("Tab")
    assert focused(page)["tag"] == "a"
    page.keyboard.press("Enter")
    stops = []
    _tab_to(page, "composer-attachment-0-alt", stops)
    page.keyboard.type("The choir on the stage of the school hall")

    _tab_to(page, "composer-save", stops)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".message--success")).to_have_text("Draft saved.")
    expect(page.locator("#composer-publish_at")).to_have_value(tomorrow.strftime("%Y-%m-%dT09:30"))

    _tab_to(page, "composer-submit", stops)
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.locator(".message--success")).to_have_text(
        "Submitted for review. You will see the decision here."
    )
    expect(page.locator("#history-state")).to_have_text("In review")
