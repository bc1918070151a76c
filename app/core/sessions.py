"""Cookie sessions for the staff console only; every other caller brings a token.

The APIs, the callbacks and the media URLs authenticate on each request (bearer tokens,
signed callbacks, signed URLs). Flask's signed session cookie costs a serializer and a cookie
lookup on every request, which the mini program's pages and the callbacks should not pay:
outside `CONSOLE_PREFIX` no session is opened at all. Under it, Flask's own signed cookie
(itsdangerous, SECRET_KEY) with the console's settings: HttpOnly, SameSite=Lax, Secure in
production, path /console (so no other path is ever sent it), expiring after
CONSOLE_SESSION_HOURS.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import (
    NullSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
)

CONSOLE_PREFIX = "/console"


class NoSessions(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


class ConsoleSessions(SessionInterface):
    """A signed cookie session under /console; none anywhere else."""

    def __init__(self) -> None:
        self.cookie = SecureCookieSessionInterface()
        self.none = NoSessions()

    def _for(self, request_path: str) -> SessionInterface:
        inside = request_path == CONSOLE_PREFIX or request_path.startswith(CONSOLE_PREFIX + "/")
        return self.cookie if inside else self.none

    def open_session(self, app: Flask, request: Request):
        return self._for(request.path).open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, NullSession):
            return None
        return self.cookie.save_session(app, session, response)
