"""The week's web pages as listeners meet them (issue 18): Debian's Chromium through Playwright, at
desktop and phone width, opened from a folder (file://, as from a USB stick). Accessibility is
checked in the page the way pa11y-style tools do: the page's language, one h1 and headings in
order, a label on every player and link, contrast of every text against its background (WCAG AA,
4.5:1), no sideways scrolling on a phone, a skip link first in keyboard order, and a player that
plays. Screenshots go to $BROADCAST_SCREENSHOTS (the README's come from here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[1]
WEEK = "2026-W49"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

AUDIT = """() => {
  const problems = [];
  const html = document.documentElement;
  if (html.lang !== "vi") problems.push("lang is " + html.lang);
  const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => +h.tagName[1]);
  if (headings.filter(h => h === 1).length !== 1) problems.push("h1 count " + headings.filter(h => h === 1).length);
  headings.forEach((h, i) => { if (i && h > headings[i - 1] + 1) problems.push("heading jumps to h" + h); });
  for (const el of document.querySelectorAll("audio, a, button, input, select, textarea")) {
    const name = (el.getAttribute("aria-label") || el.textContent || el.title || "").trim();
    if (!name) problems.push("no accessible name: " + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll("img")) if (!img.hasAttribute("alt")) problems.push("img without alt");
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3); } return [255, 255, 255]; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement, style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.getClientRects().length === 0) continue;
    const a = lum(rgb(style.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) problems.push("contrast " + ratio.toFixed(2) + ": " + node.textContent.trim().slice(0, 40));
    if (parseFloat(style.fontSize) < 14) problems.push("text under 14px: " + node.textContent.trim().slice(0, 40));
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push("scrolls sideways");
  return problems;
}"""


def test_the_pages_are_accessible_on_a_phone_and_a_desktop_and_play(example_week, tmp_path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    shots = Path(os.environ.get("BROADCAST_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    pages = [example_week / "index.html", *sorted(example_week.glob("*/index.html")),
             *sorted(example_week.glob("*/*/index.html"))]
    assert len(pages) == 1 + 3 + 12
    commune = example_week / "lang-son" / "xa-chi-lang" / "index.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--autoplay-policy=no-user-gesture-required"])
        for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 360, "height": 740})):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            requests: list[str] = []
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            for html in pages:
                page.goto(html.as_uri())
                assert page.evaluate(AUDIT) == [], f"{html} ({name})"
            assert all(url.startswith("file://") for url in requests), requests  # nothing from elsewhere
            page.goto(commune.as_uri())
            page.screenshot(path=str(shots / f"trang-xa-{name}.png"), full_page=False)
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip"
            player = page.locator("audio").first
            player.evaluate("a => a.play()")
            page.wait_for_function("document.querySelector('audio').currentTime > 0.3", timeout=10_000)
            assert errors == []
            context.close()
        browser.close()
