"""What a page does that no working UI does: console errors, uncaught script errors, JS dialogs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Dialog, WebError

# Chromium logs every failed fetch as a console error; API answers in 4xx are the app's normal
# conversation (401 before sign-in, 400 for a bad query), not script errors.
API_CLIENT_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d\b")


@dataclass
class PageProblems:
    """Collects a browser context's problems; the `page` fixture fails the test on any."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if API_CLIENT_ERROR.match(message.text) and "/api/" in url:
            return
        self.errors.append(f"console error at {url}: {message.text}")

    def page_error(self, error: WebError) -> None:
        self.errors.append(f"uncaught error: {error.error}")

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()
