"""Regenerate ``scenarios/heilongjiang-demo/`` (the committed demo scenario).

Run from anywhere: ``python scenarios/make_demo.py``. The output is byte-identical on every run;
``README.md`` in the demo folder is left as it is.
"""

from __future__ import annotations

from pathlib import Path

from matcher.planning.generate import generate_scenario


def main() -> Path:
    """Write the demo scenario next to this script and return its folder."""
    return generate_scenario(
        Path(__file__).resolve().parent / "heilongjiang-demo",
        students=2000,
        workstations=150,
        universities=12,
        seed=2026,
        name="heilongjiang-demo",
    )


if __name__ == "__main__":
    print(main())
