"""Shared pieces of the browser tests: data made through the services, signing in, images,
translations, and small checks run inside the page (accessibility smoke, focus ring, width)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageDraw

from accounts import services as account_services
from accounts.models import Membership
from feeds import services
from feeds.models import Post
from feeds.services import AttachmentInput, PostContent
from tests.conftest import Cast
from tests.factories import PASSWORD
from tests.images import png_bytes

# Data ------------------------------------------------------------------------------------------


def write_png(directory: Path, name: str = "sports-day.png", size=(640, 360)) -> Path:
    """A picture (sky, lawn, a sun) written to a file for the browser's file chooser."""
    image = Image.new("RGB", size, (120, 170, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill=(60, 140, 60))
    draw.ellipse((size[0] - 140, 30, size[0] - 60, 110), fill=(250, 210, 60))
    path = directory / name
    image.save(path, "PNG")
    return path


def publish(author: Membership, reviewer: Membership, body: str, **content) -> Post:
    """A post written by ``author`` and approved by ``reviewer``: published at once."""
    content.setdefault("language", "en")
    post = services.create_post(author, PostContent(body=body, **content))
    post = services.submit_post(post, author)
    return services.approve_post(post, by=reviewer)


@dataclass
class PublicWorld:
    """Northside School with a filled-in page, a profile and a post with an image."""

    cast: Cast
    post: Post

    @property
    def institution(self):
        return self.cast.a.institution

    @property
    def author(self) -> Membership:
        return self.cast.a.author

    def paths(self) -> dict[str, str]:
        slug = self.institution.slug
        return {
            "institution": reverse("feeds:institution", args=[slug]),
            "staff": reverse("feeds:staff", args=[slug]),
            "profile": reverse("feeds:profile", args=[slug, self.author.handle]),
            "permalink": reverse("feeds:post", args=[slug, self.post.id]),
        }


def public_world() -> PublicWorld:
    """Everything the public pages show, made through the services."""
    cast = Cast.create()
    a = cast.a
    account_services.update_institution(
        a.institution,
        description="A primary school in the north of the city, with 420 pupils.",
        contact_email="office@northside.example",
        contact_phone="+49 30 1234 567",
        website="https://northside.example",
        address="Schulstraße 1\n10115 Berlin",
    )
    account_services.update_profile(
        a.author,
        display_name="Maria Meier-Lindqvist",
        job_title="Head of Physics and Astronomy",
        bio="I teach physics and run the school observatory on Thursday evenings.",
        links=[{"label": "Mastodon", "url": "https://social.example/@meier"}],
        avatar=SimpleUploadedFile("avatar.png", png_bytes((240, 240), "purple"), "image/png"),
    )
    account_services.update_profile(a.author2, display_name="Jonas Okafor", job_title="Librarian")
    publish(a.author2, a.reviewer, "The library opens at eight from Monday. #library")
    media = services.upload_media(a.author, png_bytes((800, 450), "teal"))
    post = publish(
        a.author,
        a.reviewer,
        f"Sports day is on Friday: bring water and a hat! Ask @{a.author2.handle} for the "
        "timetable, or read https://northside.example/sports-day #sports",
        attachments=(AttachmentInput(media.id, "The school field marked out for the races"),),
    )
    return PublicWorld(cast, post)


# Signing in ------------------------------------------------------------------------------------


def sign_in(page, base_url: str, member: Membership) -> None:
    """Sign in through the form, as a person would."""
    page.goto(base_url + reverse("accounts:login"))
    page.get_by_label("E-mail address").fill(member.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")


# Translations ----------------------------------------------------------------------------------


def translated(text: str, language: str) -> str:
    """A message of the catalogue in a language (the text itself where it is missing)."""
    with translation.override(language):
        return translation.gettext(text)


def german(text: str) -> str:
    """The German of a message; fails when the German catalogue does not translate it."""
    result = translated(text, "de")
    assert result != text, f"the German catalogue has no translation of {text!r}"
    return result


# Checks inside the page ------------------------------------------------------------------------

# A smoke test, not an audit: what a page must never get wrong. Returns a list of problems.
ACCESSIBILITY_SMOKE = r"""
() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const describe = (el) => {
    const classes = typeof el.className === "string" && el.className ? el.className : "";
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (classes ? "." + classes.split(" ").join(".") : "");
  };
  const html = document.documentElement;
  if (!html.getAttribute("lang")) problems.push("html has no lang");
  if (!document.title.trim()) problems.push("the page has no title");
  if (!document.querySelector("main")) problems.push("no main landmark");
  document.querySelectorAll("img").forEach((img) => {
    if (!img.hasAttribute("alt")) problems.push("img without alt: " + img.src);
    if (img.complete && img.naturalWidth === 0 && visible(img)) {
      problems.push("broken img: " + img.src);
    }
  });
  document.querySelectorAll("input, select, textarea").forEach((el) => {
    if (["hidden", "submit", "button", "reset"].includes(el.type)) return;
    if (el.closest("template")) return;
    const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label")
        || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    if (!labelled) problems.push("form control without label: " + describe(el));
  });
  document.querySelectorAll("a[href], button").forEach((el) => {
    if (!visible(el)) return;
    const name = (el.innerText || "").trim() || el.getAttribute("aria-label")
        || Array.from(el.querySelectorAll("img[alt]")).map((i) => i.alt).join("").trim();
    if (!name) problems.push("link or button without a name: " + describe(el));
  });
  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) problems.push("expected one h1, found " + h1s.length);
  let previous = 0;
  document.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach((h) => {
    const level = Number(h.tagName[1]);
    if (previous && level > previous + 1) problems.push("heading level skipped: " + describe(h));
    previous = level;
  });
  // Contrast of text against the first opaque background behind it (WCAG AA: 4.5:1, or 3:1
  // for large text). Text over images or gradients is left out.
  const rgba = (value) => (value.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const backgroundOf = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none") return null;
      const colour = rgba(style.backgroundColor);
      if (colour.length === 3 || (colour.length === 4 && colour[3] === 1)) return colour;
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || checked.has(el) || !visible(el)) continue;
    checked.add(el);
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    const background = backgroundOf(el);
    if (!background) continue;
    const [l1, l2] = [luminance(rgba(style.color)), luminance(background)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push("low contrast " + ratio.toFixed(2) + ":1 of " + describe(el) + ": "
        + el.textContent.trim().slice(0, 40));
    }
  }
  const ids = {};
  document.querySelectorAll("[id]").forEach((el) => {
    if (el.closest("template")) return;
    ids[el.id] = (ids[el.id] || 0) + 1;
  });
  Object.entries(ids).forEach(([id, n]) => { if (n > 1) problems.push("duplicate id: " + id); });
  return problems;
}
"""

# The focus ring of the focused element: something visible must mark it.
FOCUS_STYLE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== "none";
  return {
    id: el.id || el.getAttribute("name") || el.tagName.toLowerCase(),
    tag: el.tagName.toLowerCase(),
    cls: typeof el.className === "string" ? el.className : "",
    focusVisible: el.matches(":focus-visible"),
    ring: outline || shadow,
    outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor,
  };
}
"""

# Wider than the viewport: the page scrolls sideways (never acceptable on a phone).
HORIZONTAL_OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > width) {
    document.querySelectorAll("body *").forEach((el) => {
      const box = el.getBoundingClientRect();
      if (box.right > width + 1 && box.width > 0) {
        const classes = String(el.className || "").split(" ").join(".");
        wide.push(el.tagName.toLowerCase() + (classes ? "." + classes : "")
          + " right=" + Math.round(box.right));
      }
    });
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 10)};
}
"""


def accessibility_problems(page) -> list[str]:
    return page.evaluate(ACCESSIBILITY_SMOKE)


def focused(page) -> dict | None:
    return page.evaluate(FOCUS_STYLE)


def horizontal_overflow(page) -> dict:
    return page.evaluate(HORIZONTAL_OVERFLOW)
