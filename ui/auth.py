"""Who is using the UI and what they may reach: the configured logins, a brake on password guessing, the user
behind a request, downloads served to their owner only, and how long a session is kept.

No Gradio import here: these are the pieces ui.app hands to Gradio's server (`launch_options`).
`LoginGuard.check` is what the login form calls; `ClientAddress` is the middleware that tells it which
address a login comes from.

    >>> hash_password("s3cret")       # a 'user:<hash>' line for AMPI_UI_USERS_FILE
    'pbkdf2_sha256$600000$…$…'
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import datetime
import gc
import hashlib
import hmac
import logging
import math
import re
import secrets
import stat
import time
from collections.abc import Callable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException

from ingest.errors import AmpiError
from ingest.settings import Settings
from ui import briefing as brief
from ui.feedback import ANONYMOUS, safe_name

if TYPE_CHECKING:  # annotation only: gradio is imported by ui.app, after the offline switch is set
    import gradio as gr

log = logging.getLogger(__name__)

HASH_SCHEME = "pbkdf2_sha256"  # the format Django uses: pbkdf2_sha256$<iterations>$<salt>$<base64 digest>
HASH_ITERATIONS = 600_000
FORGET_AFTER_S = 3600.0  # failures older than this no longer count
MAX_TRACKED = 10_000  # users and addresses with recent failures kept in memory (guessing names must not grow it forever)

# The client address of the request being handled; set by ClientAddress, read by LoginGuard.check.
_client_address: ContextVar[str] = ContextVar("ampi_client_address", default="unknown")


def load_users(settings: Settings) -> list[tuple[str, str]]:
    """(user, password or hash) pairs from AMPI_UI_USERS and the users file; empty means no login."""
    lines = (settings.ui_users or "").split(",")
    if settings.ui_password_file:
        lines += _read_users_file(Path(settings.ui_password_file))
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


def _read_users_file(path: Path) -> list[str]:
    """The file's lines; one that others can read is still used, with a warning (refusing would lock everyone out)."""
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:  # never fall back to an open app when a login was asked for
        raise AmpiError(f"cannot read the UI users file {path}: {exc.strerror or exc}") from exc
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the UI users file %s can be read by other accounts on this machine; run `chmod 600 %s`", path, path)
    return lines


def hash_password(password: str, iterations: int = HASH_ITERATIONS) -> str:
    """A salted PBKDF2 hash to put in the users file instead of the password."""
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), iterations)
    return f"{HASH_SCHEME}${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def is_hash(stored: str) -> bool:
    """True for a users-file entry written by `hash_password`."""
    parts = stored.split("$")
    return len(parts) == 4 and parts[0] == HASH_SCHEME and parts[1].isdigit()


def verify_password(password: str, stored: str) -> bool:
    """Compare a typed password with a stored password or hash, in constant time."""
    if not is_hash(stored):
        return hmac.compare_digest(password.encode("utf-8"), stored.encode("utf-8"))
    _, iterations, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), int(iterations))
    return hmac.compare_digest(base64.b64encode(digest).decode("ascii"), expected)


class TooManyAttempts(HTTPException):
    """A login refused unchecked because its user or address must wait after repeated failures (HTTP 429)."""

    def __init__(self, wait_s: float):
        super().__init__(429, f"Too many failed sign-ins: try again in {math.ceil(wait_s)} s.",
                         headers={"Retry-After": str(math.ceil(wait_s))})
        self.wait_s = wait_s


class LoginGuard:
    """Checks logins and slows down guessing: after `free_attempts` failures of one user name or one client
    address, each further attempt must wait 1 s, then 2, 4, … up to `max_wait_s` after the last failure."""

    def __init__(self, users: list[tuple[str, str]], free_attempts: int = 5, max_wait_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.users = dict(users)
        self.free_attempts, self.max_wait_s, self.clock = free_attempts, max_wait_s, clock
        self.failures: dict[tuple[str, str], tuple[int, float]] = {}  # (kind, name) -> (count, time of the last)
        # Unknown names are checked against a decoy of the same kind, so the time taken does not tell who exists.
        hashed = next((stored for stored in self.users.values() if is_hash(stored)), None)
        self.decoy = hash_password(secrets.token_hex(8), int(hashed.split("$")[1])) if hashed else secrets.token_hex(8)

    def wait(self, key: tuple[str, str]) -> float:
        """Seconds before `key` may try again (0 when it may try now)."""
        count, last = self.failures.get(key, (0, 0.0))
        if count < self.free_attempts:
            return 0.0
        doubled = 2.0 ** min(count - self.free_attempts, 30)  # capped: a long siege must not overflow the float
        return max(0.0, min(doubled, self.max_wait_s) - (self.clock() - last))

    def _count(self, key: tuple[str, str]) -> int:
        """Add one failure to `key` (an old run of failures is forgotten first); returns the new count."""
        now = self.clock()
        count, last = self.failures.get(key, (0, now))
        count = (0 if now - last > FORGET_AFTER_S else count) + 1
        self.failures[key] = (count, now)
        if len(self.failures) > MAX_TRACKED:
            self._prune(now)
        return count

    def _prune(self, now: float) -> None:
        for key, (_, last) in list(self.failures.items()):
            if now - last > FORGET_AFTER_S:
                del self.failures[key]
        while len(self.failures) > MAX_TRACKED:  # still full of fresh entries: the oldest failures go first
            del self.failures[next(iter(self.failures))]

    async def check(self, username: str, password: str) -> bool:
        """Gradio's `auth` callable: True for a right password; raises TooManyAttempts while a wait runs."""
        import anyio

        user, address = ("user", username), ("address", _client_address.get())
        wait = max(self.wait(user), self.wait(address))
        if wait > 0:
            log.info("login refused for %r from %s: %.0f s to wait after repeated failures", username[:64], address[1], wait)
            raise TooManyAttempts(wait)
        # Counted as failures before the (possibly slow) check, so guesses sent in parallel meet the wait too.
        before = self.failures.get(address)
        counts = self._count(user), self._count(address)
        stored = self.users.get(username)
        if is_hash(stored or self.decoy):  # PBKDF2 takes a while: off the event loop
            ok = await anyio.to_thread.run_sync(verify_password, password, stored or self.decoy)
        else:
            ok = verify_password(password, stored or self.decoy)
        if ok and stored is not None:
            # The user starts afresh; the address keeps its earlier failures (one good login must not wipe
            # out guesses at other names from the same place), but this attempt is no longer one of them.
            self.failures.pop(user, None)
            count, last = self.failures.get(address, (1, 0.0))
            if count > 1:
                self.failures[address] = (count - 1, before[1] if before else last)
            else:
                self.failures.pop(address, None)
            return True
        if max(counts) >= self.free_attempts:
            log.warning("failed login %d for %r, %d from %s: the next attempt must wait %.0f s", counts[0],
                        username[:64], counts[1], address[1], max(self.wait(user), self.wait(address)))
        return False


class ClientAddress:
    """ASGI middleware that makes the client's address known to LoginGuard.check for the request it handles."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            _client_address.set((scope.get("client") or ("unknown",))[0])
        await self.app(scope, receive, send)


def user_of(request: gr.Request | None) -> str:
    """The logged-in user, or 'anonymous' when the app runs without login."""
    return (getattr(request, "username", None) or ANONYMOUS) if request else ANONYMOUS


# -- browsers without login --------------------------------------------------------------------
# Without login every browser is 'anonymous'; a briefing kept under that name was everyone's at once. Each
# browser gets a random visitor cookie instead, kept for the browser session (no expiry date), and its
# briefing is kept under a name derived from it (the cookie itself never appears in a file name or address).
VISITOR_COOKIE = "ampi_visitor"
_VISITOR_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _cookie(scope, name: str) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                found, _, content = part.strip().partition("=")
                if found == name:
                    return content
    return None


class VisitorCookie:
    """ASGI middleware giving each browser a visitor cookie on its first request (that request sees it too)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = _cookie(scope, VISITOR_COOKIE) if scope["type"] == "http" else None
        if scope["type"] != "http" or (token and _VISITOR_TOKEN.match(token)):
            await self.app(scope, receive, send)
            return
        token = secrets.token_hex(16)
        headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"cookie"]
        cookies = "; ".join(part for k, v in scope.get("headers") or [] if k == b"cookie"
                            for part in [v.decode("latin-1")] if part)
        headers.append((b"cookie", f"{cookies + '; ' if cookies else ''}{VISITOR_COOKIE}={token}".encode("latin-1")))
        cookie = f"{VISITOR_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax".encode("latin-1")

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app({**scope, "headers": headers}, receive, send_with_cookie)


def visitor_key(token: str) -> str:
    """The briefing owner of a browser without login, from its visitor cookie (see briefing.VISITOR)."""
    return f"{ANONYMOUS}-{hashlib.sha256(f'ampi-visitor:{token}'.encode()).hexdigest()[:32]}"


def briefing_owner(request: gr.Request | None) -> str:
    """Whose briefing a request works on: the logged-in user's, else this browser's own (its visitor cookie;
    a client without cookies keeps one for its Gradio session)."""
    name = getattr(request, "username", None) if request else None
    if name:
        return name
    try:
        token = dict(getattr(request, "cookies", None) or {}).get(VISITOR_COOKIE)
    except (AttributeError, TypeError):
        token = None
    if token and _VISITOR_TOKEN.match(token):
        return visitor_key(token)
    session = getattr(request, "session_hash", None) if request else None
    return visitor_key(f"session:{session}") if session else ANONYMOUS


def login_of(request) -> str | None:
    """The user behind a plain HTTP request to the Gradio app (its login cookie), 'anonymous' without login, else None.

    Gradio's own routes find the user this way (routes.App.get_current_user); our download route must agree with them.
    """
    app = request.app
    if getattr(app, "auth", None) is None:
        return ANONYMOUS
    cookie = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cookie}") or request.cookies.get(f"access-token-unsecure-{cookie}")
    return app.tokens.get(token) if token else None


# -- sessions ----------------------------------------------------------------------------------
# Gradio keeps a session per session hash (a copy of the page's configuration and the State values, about
# 0.1-0.2 MB) until 10,000 exist, and a queued API call gets one of its own. Those of the /ask API are dropped
# when the call is done, and browser sessions once unused for ui_session_ttl_s. gr.State(time_to_live=…) would
# only clear State values, and counts from their last change: a tab open on the outline would lose it while in use.
# These reach into Gradio 6's StateHolder and queue (there is no public call for it); run on its event loop.
def forget_session(holder, session_hash: str) -> None:
    """Drop one Gradio session from the app's StateHolder."""
    holder.session_data.pop(session_hash, None)
    holder.time_last_used.pop(session_hash, None)


def forget_api_session(holder, session_hash: str | None) -> None:
    """Drop the session of a finished API call; one that holds State values belongs to a browser and stays."""
    session = holder.session_data.get(session_hash) if holder is not None and session_hash else None
    if session is not None and not session.state_data:
        forget_session(holder, session_hash)


def forget_idle_sessions(holder, ttl_s: float) -> int:
    """Drop the sessions no event has used for ttl_s seconds; returns how many went."""
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=ttl_s)  # Gradio stamps them with naive now()
    idle = [key for key, used in list(holder.time_last_used.items()) if used < cutoff]
    for key in idle:
        forget_session(holder, key)
    if idle:
        log.info("forgot %d session(s) idle for over %.0f s", len(idle), ttl_s)
    return len(idle)


def forget_finished_calls(queue, holder) -> None:
    """Drop the empty event lists the queue keeps for every session it has seen (one per API call), sessionless ones."""
    for key, pending in list(queue.pending_event_ids_session.items()):
        if not pending and key not in holder.session_data:
            queue.pending_event_ids_session.pop(key, None)


def release_freed_memory() -> None:
    """Collect garbage cycles and hand freed memory back to the system (glibc keeps it, so RSS never came down)."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def session_expiry(ttl_s: float):
    """A FastAPI lifespan that, while the server is up, forgets idle sessions and finished calls every few
    seconds and, once the queue is quiet after some work, returns freed memory to the system."""

    async def tidy(server) -> None:
        every, seen = max(0.5, min(5.0, ttl_s / 4)), 0
        while True:
            await asyncio.sleep(every)
            try:
                queue, holder = server.get_blocks()._queue, server.state_holder
                forget_idle_sessions(holder, ttl_s)
                forget_finished_calls(queue, holder)
                if queue.events_recorded != seen and not queue.event_ids_to_events:
                    seen = queue.events_recorded
                    await asyncio.to_thread(release_freed_memory)  # 0.1-0.5 s, only once the queue is quiet
            except AttributeError:  # a Gradio that keeps sessions differently: say so once, leave it alone
                log.warning("cannot expire idle sessions with this Gradio version")
                return

    @asynccontextmanager
    async def lifespan(server):
        task = asyncio.create_task(tidy(server))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    return lifespan


# -- briefing downloads ------------------------------------------------------------------------
EXPORT_NAME = re.compile(r"ampi-briefing-[\w.-]+\.(md|docx)")
EXPORT_TYPES = {"md": "text/markdown; charset=utf-8",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def export_url(path: Path) -> str:
    """The (relative) address of a saved export: ampi/briefing/<owner>/<file>."""
    return f"ampi/briefing/{path.parent.name}/{path.name}"


def export_route(settings: Settings):
    """GET ampi/briefing/<owner>/<file>: an exported briefing, served to the user who exported it and no one else.

    Gradio's file route would serve it to anyone logged in who has its address, and keeps it after a restart.
    Without login there are no users: a browser's export is served to whoever has its address, whose owner
    part is derived from that browser's random visitor cookie (see VisitorCookie) and cannot be guessed.
    """
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def download(request):
        user = login_of(request)
        if user is None:
            return PlainTextResponse("Sign in first.", status_code=401)
        owner, name = request.path_params["owner"], request.path_params["name"]
        anonymous = getattr(request.app, "auth", None) is None
        mine = owner == safe_name(user) or (anonymous and bool(brief.VISITOR.match(owner)))
        path = brief.export_folder(settings, owner if mine else user) / name
        kind = EXPORT_NAME.fullmatch(name)
        # Someone else's export and a missing one get the same answer: neither says whether it exists.
        if not mine or not kind or not path.is_file():
            return PlainTextResponse("No such briefing.", status_code=404)
        return Response(path.read_bytes(), media_type=EXPORT_TYPES[kind.group(1)],
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

    return Route("/ampi/briefing/{owner}/{name}", download, methods=["GET"])
