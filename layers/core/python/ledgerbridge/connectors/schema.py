"""Write (or check) `layout.schema.json`, the JSON Schema of a layout, generated from the pydantic model.

python -m ledgerbridge.connectors.schema          # rewrite the file
python -m ledgerbridge.connectors.schema --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledgerbridge.connectors.layout import json_schema_text

SCHEMA_FILE = Path(__file__).with_name("layout.schema.json")


def main(argv: list[str]) -> int:
    text = json_schema_text()
    if "--check" in argv:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is out of date: run python -m ledgerbridge.connectors.schema", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
