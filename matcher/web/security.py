"""The guards in front of every request of ``matcher ui``: size, host, origin, password.

:class:`Guard` is an ASGI middleware:

* **size**: a request body over ``max_body`` bytes is refused (413) before it is read further,
  whether it says its length or not;
* **host**: the ``Host`` header must name the server (DNS rebinding: a web site whose name
  points at 127.0.0.1 cannot reach the page);
* **origin**: a request that changes something (POST, PUT, PATCH, DELETE) coming from another
  web site (its ``Origin``, or ``Sec-Fetch-Site: cross-site``) is refused (403): a page
  elsewhere cannot start, cancel or delete runs through the clerk's browser;
* **password**: when the server has one (``--password``, or the environment variable
  ``MATCHER_UI_PASSWORD``), every request needs it, as HTTP Basic authentication (any user
  name; the browser asks) or ``Authorization: Bearer <password>`` (tools).

It also sets headers that keep the pages from being framed by other sites or sniffed.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ..messages import Lang, label, lang_from_accept_language

__all__ = ["PASSWORD_ENV", "Guard"]

PASSWORD_ENV = "MATCHER_UI_PASSWORD"
"""The environment variable that may hold the server's password instead of ``--password``."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),
]


class TooLarge(Exception):
    """The request body passed the limit."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _host_only(host: str) -> str:
    """``host[:port]`` without the port (IPv6 in brackets kept)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """The middleware (see the module docstring).

    Parameters
    ----------
    app
        The application behind it.
    max_body
        Largest request body, in bytes.
    hosts
        Host names the ``Host`` header may give (without port); None accepts any (a server
        on another address, which a password protects).
    password
        Required on every request when given.
    """

    def __init__(self, app: ASGIApp, *, max_body: int, hosts: Iterable[str] | None,
                 password: str | None):
        self.app = app
        self.max_body = max_body
        self.hosts = None if hosts is None else {h.lower() for h in hosts}
        self.password = password or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = lang_from_accept_language(_header(scope, b"accept-language"))
        host = _header(scope, b"host") or ""
        if self.hosts is not None and _host_only(host) not in self.hosts:
            await _refuse(send, 421, "web.refused_host", lang)
            return
        if self.password is not None and not self._authorised(scope):
            await _refuse(send, 401, "web.refused_password", lang,
                          extra=[(b"www-authenticate", b'Basic realm="matcher", charset="UTF-8"')])
            return
        if scope["method"] in _UNSAFE and not _same_origin(scope, host):
            await _refuse(send, 403, "web.refused_origin", lang)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(send, 413, "web.refused_size", lang, limit=self.max_body >> 20)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in names]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except TooLarge:
            if not started:
                await _refuse(send, 413, "web.refused_size", lang, limit=self.max_body >> 20)

    def _authorised(self, scope: Scope) -> bool:
        given = _header(scope, b"authorization") or ""
        kind, _, value = given.partition(" ")
        secret = b""
        if kind.lower() == "bearer":
            secret = value.strip().encode("latin-1")  # the header's own bytes (UTF-8 or not)
        elif kind.lower() == "basic":
            try:
                secret = base64.b64decode(value.strip(), validate=True).partition(b":")[2]
            except ValueError:
                return False
        assert self.password is not None
        return hmac.compare_digest(secret, self.password.encode("utf-8"))


def _same_origin(scope: Scope, host: str) -> bool:
    """False for a request another web site's page made (browsers say so; tools do not
    send these headers)."""
    if (_header(scope, b"sec-fetch-site") or "").lower() == "cross-site":
        return False
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    if origin == "null":  # a sandboxed or opaque page
        return False
    return origin.split("://", 1)[-1].rstrip("/").lower() == host.lower()


async def _refuse(send: Send, status: int, code: str, lang: Lang, limit: int | None = None,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer with one message (the API's error form, readable in a browser too)."""
    text = label(code, lang) if limit is None else label(code, lang, limit=limit)
    body = json.dumps({"messages": [{"code": code, "severity": "error", "location": None,
                                     "where": None, "text": text}]},
                      ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            *_HEADERS, *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
