"""The dashboard's pure view models (crisis/web/views/): the reach filter, the durations and
the channel previews the board shows, computed without FastAPI nor a database."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

from channels.base import ChannelName
from crisis.rendering import RenderedMessage
from crisis.web.views.board import minutes
from crisis.web.views.compliance import filter_reach
from crisis.web.views.drafting import draft_texts, preview

ROOT = Path(__file__).parents[2]
ROWS = [{"status": s} for s in ("joint", "en_cours", "non_joint", "injoignable")]
TEXT = RenderedMessage(
    subject="Crue", short="Évacuez", voice="Évacuez, je répète", long="Long", html="", sections=()
)


def test_unjoined_filter_also_shows_the_unreachable_communes() -> None:
    """« non jointes » lists the communes not reached yet and those no one can reach."""
    applied, shown = filter_reach(ROWS, "non_joint")
    assert applied == "non_joint"
    assert [r["status"] for r in shown] == ["non_joint", "injoignable"]


def test_unknown_reach_filter_shows_every_commune() -> None:
    """A filter the page does not offer is dropped, every commune shown."""
    assert filter_reach(ROWS, "autre") == ("", ROWS)
    assert filter_reach(ROWS, "joint") == ("joint", [ROWS[0]])


def test_durations_read_in_minutes_and_seconds_with_their_sign() -> None:
    """The board's countdown: « 12 min 05 s », negative past the hour."""
    assert minutes(timedelta(minutes=12, seconds=5)) == "12 min 05 s"
    assert minutes(timedelta(seconds=-65)) == "-1 min 05 s"


def test_each_channel_previews_the_text_it_carries() -> None:
    """SMS and X show the short text measured, voice the spoken one, e-mail its subject."""
    assert preview(ChannelName.SMS, TEXT)["text"] == "Évacuez"
    assert "segment" in preview(ChannelName.SMS, TEXT)["measure"]
    assert preview(ChannelName.X, TEXT)["measure"] == "7 caractères"
    assert preview(ChannelName.VOICE, TEXT) == {"text": TEXT.voice, "measure": "message vocal"}
    assert preview(ChannelName.EMAIL, TEXT) == {"text": "Long", "measure": "objet : Crue"}


def test_drafted_texts_keep_what_was_typed_with_unix_line_ends() -> None:
    """The browser's CRLF become LF; empty sections are left out."""
    texts = draft_texts({"subject": "Crue", "short": "a\r\nb", "voice": ""})
    assert texts.short == "a\nb" and texts.sections == {}


def test_views_know_nothing_of_fastapi_and_pages_open_no_transaction() -> None:
    """The views are pure; the pages, access and live read and write through queries and
    operations."""
    for path in (ROOT / "crisis/web/views").glob("*.py"):
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module or ""
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {m for m in imported if m.split(".")[0] in {"fastapi", "starlette"}}, path
    web = [*(ROOT / "crisis/web/pages").glob("*.py"), ROOT / "crisis/web/access.py"]
    for path in [*web, ROOT / "crisis/web/live.py"]:
        assert ".transaction(" not in path.read_text(encoding="utf-8"), path
