"""``--help`` in the command's language: click's help texts looked up in the message catalogue.

The commands keep their English help in their decorators (readable in the code, and the
English catalogue must say the same: ``tests/cli/test_help.py``); when help is shown, each text
is looked up in the catalogue (``help.po``) in the language of the command (``--lang`` given
before ``--help``, else the locale, see :func:`matcher.cli.common.cli_lang`):

* ``help.<command>``: the command's own text (``help.matcher`` for the group);
* ``help.<command>.<option>``: an option's text, else ``help.option.<option>`` (options many
  commands share: ``--lang``, ``--help``, ``--version``);
* ``help.section.*``: the headings click writes (``Usage:``, ``Options``, ``Commands``), each
  written as ``help.section.heading`` (``Options:``, ``选项：``);
* ``help.extra.*``: what click adds after an option's help (``[default: cpsat; required]``),
  worded here from click's own figures (:meth:`click.Option.get_help_extra`), so that no English
  word of click's is left inside Chinese help.

A text the catalogue does not have stays as the decorator wrote it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from ..messages import Lang, label, template
from .common import cli_lang

__all__ = ["HelpCommand", "HelpGroup", "help_code"]


def help_code(command: click.Command, param: str | None = None) -> str:
    """The catalogue code of a command's help text, or of one of its options'."""
    name = command.name if command.name and command.name != "cli" else "matcher"
    return f"help.{name}" if param is None else f"help.{name}.{param}"


def _text(code: str, lang: Lang) -> str | None:
    found = template(code, lang)
    return None if found is None else label(code, lang)


@contextlib.contextmanager
def _translated(command: click.Command) -> Iterator[Lang]:
    """The command's and its options' help texts in the command's language, for a while."""
    lang = cli_lang()
    saved: list[tuple[Any, str, Any]] = [(command, "help", command.help),
                                         (command, "short_help", command.short_help)]
    own = _text(help_code(command), lang)
    if own is not None:
        command.help, command.short_help = own, None
    for p in command.params:
        if isinstance(p, click.Option) and p.name:
            text = (_text(help_code(command, p.name), lang)
                    or _text(f"help.option.{p.name}", lang))
            if text is not None:
                saved.append((p, "help", p.help))
                p.help = text
    try:
        yield lang
    finally:
        for obj, attr, value in saved:
            setattr(obj, attr, value)


def _usage(command: click.Command, ctx: click.Context, formatter: click.HelpFormatter,
           lang: Lang) -> None:
    # click's placeholders ([OPTIONS], COMMAND [ARGS]...) in the language of the help
    words = {command.options_metavar: label("help.usage.options", lang)}
    if isinstance(command, click.Group):
        words[command.subcommand_metavar or ""] = label("help.usage.command", lang)
    pieces = [words.get(piece, piece) for piece in command.collect_usage_pieces(ctx)]
    formatter.write_usage(ctx.command_path, " ".join(pieces),
                          prefix=label("help.section.usage", lang))


def _options(command: click.Command, ctx: click.Context, formatter: click.HelpFormatter,
             lang: Lang) -> None:
    rows = []
    for p in command.get_params(ctx):
        if isinstance(p, click.Argument):
            continue
        help_option = p is command.get_help_option(ctx)
        shared = _text("help.option.help", lang) if help_option else None
        if isinstance(p, click.Option):
            record = _record(p, ctx, lang, shared)
        else:
            record = p.get_help_record(ctx)
        if record is not None:
            rows.append(record)
    if rows:
        with _section(formatter, label("help.section.options", lang), lang):
            formatter.write_dl(rows)


def _record(option: click.Option, ctx: click.Context, lang: Lang, text: str | None = None
            ) -> tuple[str, str] | None:
    """An option's row of --help as click writes it (``--out PATH``, its help, then what
    click adds in brackets), with click's added words taken from the catalogue."""
    if option.hidden:
        return None
    extra = option.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(label("help.extra.envvar", lang, var=", ".join(extra["envvars"])))
    if "default" in extra:
        items.append(label("help.extra.default", lang, default=extra["default"]))
    if "range" in extra:
        items.append(label("help.extra.range", lang, range=extra["range"]))
    if "required" in extra:
        items.append(label("help.extra.required", lang))
    help_text = text if text is not None else option.help or ""
    if items:
        added = label("help.extra.brackets", lang,
                      items=label("help.extra.separator", lang).join(items))
        help_text = f"{help_text}  {added}" if help_text else added
    return option.get_help_spec(ctx), help_text


@contextlib.contextmanager
def _section(formatter: click.HelpFormatter, name: str, lang: Lang) -> Iterator[None]:
    """A section of --help as :meth:`click.HelpFormatter.section` writes it, with the
    heading's colon of the language (``Options:``, ``选项：``)."""
    formatter.write_paragraph()
    formatter.write(f"{'':>{formatter.current_indent}}"
                    f"{label('help.section.heading', lang, name=name)}\n")
    formatter.indent()
    try:
        yield
    finally:
        formatter.dedent()


class HelpCommand(click.Command):
    """A command whose ``--help`` speaks the command's language (see the module)."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self) as lang:
            _usage(self, ctx, formatter, lang)
            self.format_help_text(ctx, formatter)
            _options(self, ctx, formatter, lang)
            self.format_epilog(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _translated(self):
            return super().get_short_help_str(limit)


class HelpGroup(click.Group):
    """The ``matcher`` group: its help and its list of commands in the command's language;
    its commands are :class:`HelpCommand` unless they say otherwise."""

    command_class = HelpCommand

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self) as lang:
            _usage(self, ctx, formatter, lang)
            self.format_help_text(ctx, formatter)
            _options(self, ctx, formatter, lang)
            rows = []
            for name in self.list_commands(ctx):
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=formatter.width - 6
                                                              - max(map(len, self.commands)))))
            if rows:
                with _section(formatter, label("help.section.commands", lang), lang):
                    formatter.write_dl(rows)
            self.format_epilog(ctx, formatter)
