"""Finding a font with Chinese glyphs for matplotlib's plots (the sweep's PNGs).

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: Chinese labels would come out
as boxes, with one warning per missing glyph. :func:`cjk_font` finds an installed CJK family
(``fonts-wqy-zenhei``, Noto CJK, Source Han, or the Windows and macOS system fonts) through
``matplotlib.font_manager``, registering the system's CJK font files itself when matplotlib's
font cache predates them (a cache built before the font was installed never lists it).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
                "PingFang SC", "Heiti SC", "Hiragino Sans GB", "AR PL UMing CN",
                "Noto Sans CJK JP", "Droid Sans Fallback")
"""Families with simplified Chinese glyphs, best first."""

CJK_FILES = re.compile(r"wqy|notosanscjk|notoserifcjk|notosanssc|sourcehan|simhei|msyh|"
                       r"pingfang|hiragino|droidsansfallback|uming|ukai", re.IGNORECASE)
"""File names of CJK fonts, to register when matplotlib's cache does not list them."""


def _first_known() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in names), None)


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font family with Chinese glyphs, or None when there is none.

    Looked up once per process: first among the fonts matplotlib knows, then among the
    system's font files whose names say CJK (registered with ``fontManager.addfont``).

    Returns
    -------
    str or None
        E.g. ``"WenQuanYi Zen Hei"``; None: plot in English (no boxes, no warnings).
    """
    from matplotlib import font_manager

    found = _first_known()
    if found is not None:
        return found
    for path in font_manager.findSystemFonts():
        if CJK_FILES.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable file: try the next
                continue
    return _first_known()
