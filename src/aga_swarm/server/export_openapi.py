"""Write the OpenAPI document (sorted keys, stable) for the web app's type generation.

    python -m aga_swarm.server.export_openapi web/src/api/openapi.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .app import build_api
from .settings import Settings


def openapi_document() -> dict[str, Any]:
    return build_api(Settings()).openapi()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m aga_swarm.server.export_openapi PATH  (PATH '-' writes to stdout)", file=sys.stderr)
        return 2
    text = render()
    if args[0] == "-":
        sys.stdout.write(text)
    else:
        path = Path(args[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
