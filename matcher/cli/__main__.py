"""``python -m matcher.cli``: the ``matcher`` command."""

from .main import main

main()
