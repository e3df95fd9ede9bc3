"""Closing a crisis withdraws its public alert: CAP Cancel published, page and banner cleared."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from channels.base import ChannelName
from channels.cap import validate_cap
from crisis.bootstrap import build
from tests.integration.helpers import DIRCAB, activate, advance


@pytest.fixture
def site_app(settings, clock, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    channels = dict(settings.channels)
    channels[ChannelName.WEBSITE] = channels[ChannelName.WEBSITE].model_copy(
        update={"provider": "website"}
    )
    custom = settings.model_copy(
        update={
            "channels": channels,
            "sections": {
                "website": {
                    "output_dir": str(site),
                    "public_url": "https://www.loire.gouv.fr/alerte",
                    "cap_sender": "pref-loire@interieur.gouv.fr",
                },
            },
        }
    )
    application = build(custom, clock=clock, env={})
    yield application, site
    application.close()


async def test_close_publishes_the_cap_cancel_and_clears_the_page(site_app, clock):
    app, site = site_app
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 16)
    app.orchestrator.approve(crisis.id, "premier_message", DIRCAB)
    await advance(app, clock, 2)
    assert "Saint-Étienne" in (site / "alerte.html").read_text(encoding="utf-8")
    alerts = sorted((site / "cap").glob("*.xml"))
    assert len(alerts) == 1 and b"<msgType>Alert</msgType>" in alerts[0].read_bytes()

    app.orchestrator.close(crisis.id, DIRCAB, "décrue")
    await advance(app, clock, 1)
    cancels = [
        a for a in (site / "cap").glob("*.xml") if b"<msgType>Cancel</msgType>" in a.read_bytes()
    ]
    assert len(cancels) == 1 and validate_cap(cancels[0].read_bytes()) == []
    assert b"<references>" in cancels[0].read_bytes()
    page = html.unescape((site / "alerte.html").read_text(encoding="utf-8"))
    assert "Aucune alerte en cours" in page and "Fin d'alerte" in page
    assert "Fin d'alerte" in html.unescape((site / "bandeau.html").read_text(encoding="utf-8"))
