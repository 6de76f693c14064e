"""``matcher ui``: start the local web page for the graduate office (:mod:`matcher.web`).

Only parses the options and hands them to :func:`matcher.web.server.serve`; the web framework
is imported when the command runs, never by the other commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..messages import MessageError, choose_lang, render
from .common import WholeNumber
from .helptext import HelpCommand

__all__ = ["ui"]


@click.command(cls=HelpCommand)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than this computer's needs --password.")
@click.option("--port", type=WholeNumber(1, 65535), default=8765, show_default=True)
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="Folder for uploads, results and the run history "
                   "(default: your user data folder).")
@click.option("--no-browser", is_flag=True, help="Do not open the web browser.")
@click.option("--password", default=None,
              help="Required on every request (or set MATCHER_UI_PASSWORD).")
@click.option("--reindex", is_flag=True,
              help="Rebuild the run history from the result folders first.")
@click.option("--workers", type=WholeNumber(1, 2), default=1, show_default=True,
              help="Runs solved at the same time.")
def ui(host: str, port: int, data: str | None, no_browser: bool, password: str | None,
       reindex: bool, workers: int) -> None:
    """Start the web page: upload a workbook, follow the run, download the results."""
    from ..web.security import PASSWORD_ENV
    from ..web.server import ServerConfig, serve

    lang = choose_lang(None, None, os.environ)
    config = ServerConfig(host=host, port=port, data=Path(data) if data else None,
                          open_browser=not no_browser,
                          password=password or os.environ.get(PASSWORD_ENV) or None,
                          reindex=reindex, workers=workers)
    try:
        serve(config, say=lambda line: click.echo(line), lang=lang)
    except MessageError as e:
        for m in e.messages:
            click.echo(render(m, lang, severity=True), err=True)
        sys.exit(2)
