"""No cookie sessions: every caller authenticates on each request (bearer tokens, signed
callbacks, signed media URLs), so Flask's signed session cookie is never used.

Flask's default still builds a signing serializer and looks for the cookie on every request,
which the mini program's pages pay for on each call. Should a page ever need a session,
restore flask.sessions.SecureCookieSessionInterface.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import NullSession, SessionInterface, SessionMixin


class NoSessions(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None
