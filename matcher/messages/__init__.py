"""The zh/en message catalogue: structured messages and their rendering (a leaf package).

Every text a user reads goes through here (issue 25): code builds a :class:`Message` with
:func:`msg` (a stable code such as ``load.unknown_id``, a severity, a :class:`Location` as the
user sees it, and values), and the catalogue, one gettext ``.po`` file per language under
``locale/``, words it in Chinese or English. :func:`choose_lang` picks the language (``--lang``,
then the scenario, then the locale); :func:`lang_from_accept_language` does so for the web page.
See ``docs/messages.md`` for how to add a message.

This package imports nothing else of matcher.
"""

from .catalogue import LIST_SEPARATOR, catalogue, fill, placeholders, po_path, po_paths, template
from .lang import (
    DEFAULT_LANG,
    LANGS,
    Lang,
    choose_lang,
    lang_from_accept_language,
    looks_chinese,
    normalize_lang,
)
from .location import Location
from .message import (
    SEVERITIES,
    Message,
    MessageError,
    Severity,
    Value,
    ValueIn,
    Values,
    label,
    msg,
    render,
)

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LIST_SEPARATOR",
    "SEVERITIES",
    "Lang",
    "Location",
    "Message",
    "MessageError",
    "Severity",
    "Value",
    "ValueIn",
    "Values",
    "catalogue",
    "choose_lang",
    "fill",
    "label",
    "lang_from_accept_language",
    "looks_chinese",
    "msg",
    "normalize_lang",
    "placeholders",
    "po_path",
    "po_paths",
    "render",
    "template",
]
