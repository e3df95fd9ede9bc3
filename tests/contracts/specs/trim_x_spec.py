"""Trim the official X API v2 OpenAPI spec to the operations the X channel uses.

Usage: python tests/contracts/specs/trim_x_spec.py FULL_SPEC.json [OUT.json]

FULL_SPEC.json is `specs/openapi.json` of github.com/xdevplatform/xdk (MIT). The output keeps
POST /2/tweets, GET /2/users/me and GET /2/users/{id}/tweets with every component they reach
through `$ref`, and applies the two changes Prism 5 needs (see README.md beside this script):
the OAuth 1.0a `UserToken` scheme becomes an apiKey scheme on the Authorization header, and
POST /2/tweets gets a 201 example.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

KEEP = {
    "/2/tweets": ["post"],
    "/2/users/me": ["get"],
    "/2/users/{id}/tweets": ["get"],
}
CREATED_EXAMPLE = {
    "data": {
        "id": "1445880548472328192",
        "text": "Exemple de publication",
        "edit_history_post_ids": ["1445880548472328192"],
    }
}
ME_EXAMPLE = {"data": {"id": "2244994945", "name": "Préfecture", "username": "prefecture"}}


def _refs(node: Any) -> set[str]:
    """Every local `$ref` target in a JSON node."""
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
    # discriminator mappings name schemas too
    if isinstance(node, dict) and isinstance(node.get("mapping"), dict):
        found |= {v for v in node["mapping"].values() if isinstance(v, str)}
    return found


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    """The trimmed spec, with the Prism fixes applied."""
    paths = {path: {m: spec["paths"][path][m] for m in methods} for path, methods in KEEP.items()}
    out: dict[str, Any] = {
        "openapi": spec["openapi"],
        "info": {
            **spec["info"],
            "description": spec["info"].get("description", "")
            + " (trimmed by tests/contracts/specs/trim_x_spec.py)",
        },
        "servers": spec["servers"],
        "paths": paths,
        "components": {},
    }
    pending = _refs(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, section, name = ref[2:].split("/", 2)
        node = _resolve(spec, ref)
        out["components"].setdefault(section, {})[name] = node
        pending |= _refs(node) - seen
    out["components"] = {  # sorted, so the output does not depend on set order
        section: dict(sorted(nodes.items())) for section, nodes in sorted(out["components"].items())
    }
    schemes = dict(spec["components"]["securitySchemes"])
    schemes["UserToken"] = {"type": "apiKey", "in": "header", "name": "Authorization"}
    used = {name for op in _operations(paths) for req in op.get("security", []) for name in req}
    out["components"]["securitySchemes"] = {k: v for k, v in schemes.items() if k in used}
    created = paths["/2/tweets"]["post"]["responses"]["201"]["content"]["application/json"]
    created["example"] = CREATED_EXAMPLE
    me = paths["/2/users/me"]["get"]["responses"]["200"]["content"]["application/json"]
    me["example"] = ME_EXAMPLE
    return out


def _operations(paths: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for methods in paths.values() for op in methods.values()]


def main(argv: list[str]) -> None:
    source = Path(argv[1])
    target = Path(argv[2]) if len(argv) > 2 else Path(__file__).with_name("x_api_v2_openapi.json")
    trimmed = trim(json.loads(source.read_text(encoding="utf-8")))
    target.write_text(json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{target}: {len(trimmed['components'].get('schemas', {}))} schemas")


if __name__ == "__main__":
    main(sys.argv)
