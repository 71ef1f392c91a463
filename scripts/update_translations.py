"""Extract, merge and compile the service's message catalogs (app/translations).

    .venv/bin/python scripts/update_translations.py          # extract + update + compile
    .venv/bin/python scripts/update_translations.py --check  # fail if a zh message is untranslated or the .mo is stale

The compiled ``messages.mo`` files are committed, so installing needs no build step.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TR = ROOT / "app" / "translations"
PYBABEL = str(Path(sys.executable).with_name("pybabel"))


def run(*args: str) -> None:
    subprocess.run([PYBABEL, *args], cwd=ROOT, check=True)


def untranslated(locale: str) -> list[str]:
    from babel.messages.pofile import read_po

    with (TR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        cat = read_po(f, locale=locale)
    return [m.id for m in cat if m.id and (not m.string or m.fuzzy)]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        missing = untranslated("zh")
        for m in missing:
            print(f"untranslated (zh): {m!r}")
        return 1 if missing else 0
    run("extract", "-F", "app/translations/babel.cfg", "-k", "_l", "--no-location", "--sort-output",
        "-o", "app/translations/messages.pot", ".")
    run("update", "-i", "app/translations/messages.pot", "-d", "app/translations", "--no-fuzzy-matching")
    run("compile", "-d", "app/translations")
    missing = untranslated("zh")
    if missing:
        print(f"{len(missing)} message(s) need a zh translation in app/translations/zh/LC_MESSAGES/messages.po")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
