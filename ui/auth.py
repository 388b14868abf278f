"""Who is using the UI: the configured logins and the user behind a request (no Gradio import here)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import AmpiError
from ingest.settings import Settings
from ui.feedback import ANONYMOUS

if TYPE_CHECKING:  # annotation only: gradio is imported by ui.app, after the offline switch is set
    import gradio as gr

log = logging.getLogger(__name__)


def load_users(settings: Settings) -> list[tuple[str, str]]:
    """(user, password) pairs from AMPI_UI_USERS and AMPI_UI_PASSWORD_FILE; empty means no login."""
    lines = (settings.ui_users or "").split(",")
    if settings.ui_password_file:
        try:
            lines += Path(settings.ui_password_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:  # never fall back to an open app when a login was asked for
            raise AmpiError(f"cannot read the UI password file {settings.ui_password_file}: {exc.strerror or exc}") from exc
    users = []
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if sep and user.strip() and password:
            users.append((user.strip(), password))
        else:
            log.warning("ignored a UI user entry without 'user:password'")
    if (settings.ui_users or settings.ui_password_file) and not users:
        raise AmpiError("UI login is configured but no valid 'user:password' entry was found")
    return users


def user_of(request: gr.Request | None) -> str:
    """The logged-in user, or 'anonymous' when the app runs without login."""
    return (getattr(request, "username", None) or ANONYMOUS) if request else ANONYMOUS
