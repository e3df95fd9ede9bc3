"""The dependency rules of DESIGN.md hold in the tree."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[path] = names
    return found


def test_channels_contacts_playbooks_never_import_crisis():
    """The inner packages do not depend on the orchestrator."""
    for package in ("channels", "contacts", "playbooks"):
        for path, names in _imports(package).items():
            assert not any(n == "crisis" or n.startswith("crisis.") for n in names), path


# Pure helpers a layer other than bootstrap may use: they build no channel.
PURE_CHANNEL_HELPERS = {
    "channels.base",
    "channels.catalog",  # one row per channel: label, address, body, rate, means, providers
    "channels.twilio_callbacks",  # TwiML and callback parsing, for the provider webhooks (web/)
    "channels.sms_text",  # SMS segment advice, for check-config
    "channels.ack_link",  # the signed acknowledgement links, checked by their page (web/)
    "channels.twilio_hotline",  # the CIP line's TwiML and queue decision (web/)
    "channels.publication",  # the length of a post as X counts it (drafts, previews)
    "channels.twilio_twiml",  # the switchboard's and the CIP line's TwiML (web/)
}


def test_only_bootstrap_names_concrete_channels():
    """Concrete channel modules are built in crisis/bootstrap/ alone."""
    for path, names in _imports("crisis").items():
        concrete = {n for n in names if n.startswith("channels.")} - PURE_CHANNEL_HELPERS
        if "bootstrap" not in path.relative_to(ROOT).parts:
            assert not concrete, f"{path} imports {concrete}"


def test_sql_only_in_the_store():
    """sqlmodel and SQLAlchemy are imported only under crisis/store."""
    for path, names in _imports("crisis").items():
        if "store" in path.parts:
            continue
        assert not any(n.split(".")[0] in {"sqlmodel", "sqlalchemy", "alembic"} for n in names), (
            path
        )
