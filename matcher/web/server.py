"""Starting ``matcher ui``: the data folder, the safety checks, uvicorn and the browser.

:func:`serve` refuses to listen on anything but the loopback address without a password,
opens (and, when asked, rebuilds) the run history, starts uvicorn and opens the user's browser
on the new-run page once the server answers. Ctrl-C stops the server; runs still going are
stopped with it and shown as ``interrupted`` next time.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..messages import Lang, Location, MessageError, msg

__all__ = ["ServerConfig", "default_data_dir", "is_loopback", "serve"]

log = logging.getLogger("matcher.web")


def default_data_dir() -> Path:
    """The user's own data folder for matcher (e.g. ``%LOCALAPPDATA%\\matcher`` on Windows,
    ``~/.local/share/matcher`` on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("matcher", appauthor=False))


def is_loopback(host: str) -> bool:
    """True for an address only this computer can reach (127.x, ::1, ``localhost``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerConfig:
    """What ``matcher ui`` was asked for."""

    host: str = "127.0.0.1"
    port: int = 8765
    data: Path | None = None
    open_browser: bool = True
    password: str | None = None
    reindex: bool = False
    workers: int = 1


def check_config(config: ServerConfig) -> None:
    """MessageError for a server that would be reachable from other computers without a
    password, or a port that is taken."""
    if not is_loopback(config.host) and not config.password:
        raise MessageError([msg("web.needs_password", at=Location(file="--host"),
                                host=config.host)])
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name == "posix":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((config.host.strip("[]"), config.port))
        except OSError as e:
            raise MessageError([msg("web.port_taken", at=Location(file="--port"),
                                    host=config.host, port=str(config.port),
                                    error=e.strerror or str(e))]) from None


def _open_when_ready(url: str, host: str, port: int) -> None:
    """Open the browser once the server accepts connections (at most 60 s)."""
    deadline = time.monotonic() + 60
    target = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host.strip("[]")
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    webbrowser.open(url)


def serve(config: ServerConfig, say: Callable[[str], None] = print, lang: Lang = "en") -> None:
    """Run the server until Ctrl-C.

    Raises
    ------
    MessageError
        See :func:`check_config`; a data folder that cannot be created.
    """
    import uvicorn

    from .app import LOCAL_HOSTS, create_app
    from .service import Service

    check_config(config)
    data = config.data or default_data_dir()
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MessageError([msg("web.data_unwritable", at=Location(file=str(data)),
                                error=e.strerror or str(e))]) from None
    service = Service(data, max_workers=config.workers, reindex=config.reindex)
    if config.reindex and service.reindexed is not None:
        say(msg("web.cli_reindexed", count=service.reindexed).text(lang))
    hosts = LOCAL_HOSTS if is_loopback(config.host) else None
    app = create_app(service, password=config.password, hosts=hosts)
    shown = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    url = f"http://{shown}:{config.port}/"
    say(msg("web.cli_serving", url=url, data=str(data)).text(lang))
    if config.open_browser:
        threading.Thread(target=_open_when_ready, args=(url, config.host, config.port),
                         daemon=True).start()
    uvicorn.run(app, host=config.host.strip("[]"), port=config.port, log_level="warning",
                access_log=False)
