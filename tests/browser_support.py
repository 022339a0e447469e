"""Opening an HTML report in the system Chromium, watching everything it tries to do.

Playwright drives Debian's `chromium` (never a downloaded browser). Every request is routed:
only the report file itself may load, anything else is aborted and recorded, so a report that
reaches for the network fails its test instead of quietly fetching. Console errors, page
errors and dialogs are recorded too.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """$AKSAUDIT_CHROMIUM (set by .ci/run), else the Debian package's binary, if present."""
    for candidate in (os.environ.get("AKSAUDIT_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def chromium_for_script() -> str | None:
    """For the scripts: the browser, or None after telling the user how to get one."""
    found = chromium_path()
    if found is None:
        print("no Chromium found: install the 'chromium' package or set AKSAUDIT_CHROMIUM", file=sys.stderr)
    return found


def launch(playwright, executable: str):
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@dataclass
class Watched:
    """A page plus what it did: requests (URLs), console errors, page errors and dialogs."""

    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_report(browser, path: Path, *, width: int = 1400, height: int = 1000) -> Watched:
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="light",
                                  service_workers="block")
    page = context.new_page()
    url = path.resolve().as_uri()
    watched = Watched(page, url)

    def route(route_) -> None:
        if route_.request.url == url:
            route_.continue_()
        else:
            watched.blocked.append(route_.request.url)
            route_.abort()

    def dialog(dialog_) -> None:
        watched.dialogs.append(f"{dialog_.type}: {dialog_.message}")
        dialog_.dismiss()

    context.route("**/*", route)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("console", lambda message: watched.console_errors.append(message.text)
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: watched.console_errors.append(f"page error: {error}"))
    page.on("dialog", dialog)
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]")
    return watched


def open_detail(page, selector: str) -> None:
    """Click what opens a finding's detail view and wait until the view shows that finding: the
    page inflates the finding's packed evidence and fix first (`aria-busy` true until then)."""
    page.click(selector)
    page.wait_for_selector("#detail[aria-busy=false]:not([hidden])")
