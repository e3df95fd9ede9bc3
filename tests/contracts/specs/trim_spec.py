"""Trim Twilio's official OpenAPI spec to the operations this project uses, with every $ref.

Usage: python tests/contracts/specs/trim_spec.py SOURCE.json [DEST.json]
SOURCE is twilio/twilio-oai `spec/json/twilio_api_v2010.json` (MIT, see the .LICENSE beside).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"
KEEP: dict[str, tuple[str, ...]] = {
    f"{ACCOUNT}/Messages.json": ("post", "get"),
    f"{ACCOUNT}/Calls.json": ("post", "get"),
    f"{ACCOUNT}/IncomingPhoneNumbers.json": ("get",),
    f"{ACCOUNT}/IncomingPhoneNumbers/{{Sid}}.json": ("get", "post"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _refs(node: Any) -> set[str]:
    """Every local $ref under `node`."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec restricted to KEEP, with the components those operations reference."""
    paths: dict[str, Any] = {}
    for path, methods in KEEP.items():
        item = spec["paths"][path]
        paths[path] = {k: v for k, v in item.items() if k not in HTTP_METHODS or k in methods}
    out: dict[str, Any] = {
        key: spec[key] for key in ("openapi", "info", "servers", "security") if key in spec
    }
    out["paths"] = paths
    components: dict[str, Any] = {"securitySchemes": spec["components"]["securitySchemes"]}
    pending, seen = _refs(paths), set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, section, name = ref[2:].split("/", 2)
        target = _resolve(spec, ref)
        components.setdefault(section, {})[name] = target
        pending |= _refs(target) - seen
    # sorted, so that the committed file does not change from one run to the next
    out["components"] = {
        section: dict(sorted(entries.items())) for section, entries in components.items()
    }
    used_tags = {
        t
        for item in paths.values()
        for op in item.values()
        if isinstance(op, dict)
        for t in op.get("tags", [])
    }
    out["tags"] = [t for t in spec.get("tags", []) if t.get("name") in used_tags]
    return out


def main(argv: list[str]) -> None:
    source = Path(argv[1])
    dest = Path(argv[2]) if len(argv) > 2 else Path(__file__).with_name(source.name)
    trimmed = trim(json.loads(source.read_text(encoding="utf-8")))
    dest.write_text(json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv)
