"""Regenerate the factory invoice template ``invoice_template.xlsx`` next to this script.

Finance may restyle the saved workbook in Excel without code (see its ``Notes`` sheet); running this
script again overwrites those changes with the factory look from ``billing_lib.io.default_template``.

    .venv/bin/python data/templates/make_template.py [OUTPUT.xlsx]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from billing_lib.io.default_template import build_default_template


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().with_name("invoice_template.xlsx")
    build_default_template().save(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
